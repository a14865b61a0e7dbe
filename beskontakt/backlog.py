"""Draining a stored backlog in batches (queued inbound messages, Telegram updates)."""

from __future__ import annotations

from collections.abc import Callable


def drain(step: Callable[[], tuple[int, int]], rounds: int) -> dict[str, int]:
    """Call ``step`` (one batch: returns how many were done and failed) until a batch finds
    nothing or ``rounds`` batches have run; returns the totals."""
    done = failed = 0
    for _ in range(rounds):
        d, f = step()
        done, failed = done + d, failed + f
        if d + f == 0:
            break
    return {"done": done, "failed": failed}
