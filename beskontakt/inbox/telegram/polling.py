"""Long-polling mode: fetch updates with ``getUpdates``, store them, handle them.

For installations Telegram cannot reach (no public HTTPS address). Each round
asks for updates after the last stored one, stores every update through
:func:`.updates.store` before asking for the next batch (``offset`` confirms
them to Telegram only then), and handles what is pending. Network and server
errors back off (1 s doubling to a minute); a refused token stops.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import TelegramConflictError, TelegramUnauthorizedError
from aiogram.methods import DeleteWebhook, GetUpdates
from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from django.db.models import Max

from beskontakt.inbox.models import TelegramUpdate

from . import client, updates

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0


@dataclass
class Round:
    """What one polling round did."""

    received: int = 0
    stored: int = 0
    handled: int = 0
    failed: int = 0
    error: str = ""
    offsets: list[int] = field(default_factory=list)


def next_offset() -> int:
    """The ``offset`` to ask Telegram for: one past the newest stored update (0 when none)."""
    newest = TelegramUpdate.objects.aggregate(m=Max("update_id"))["m"]
    return int(newest) + 1 if newest is not None else 0


async def _fetch(offset: int, timeout: int, limit: int, drop_webhook: bool) -> list[dict[str, Any]]:
    bot = client.make_bot()
    try:
        if drop_webhook:
            await bot(DeleteWebhook(drop_pending_updates=False))
        request_timeout = client.REQUEST_TIMEOUT + timeout
        result = await bot(
            GetUpdates(offset=offset or None, limit=limit, timeout=timeout), request_timeout=request_timeout
        )
    finally:
        await bot.session.close()
    # The updates as Telegram sent them (fields aiogram did not receive are left out).
    return [u.model_dump(mode="json", exclude_unset=True, exclude_none=True, by_alias=True) for u in result]


def poll_once(timeout: int = 25, limit: int = 100, drop_webhook: bool = False) -> Round:
    """One round: fetch, store, handle. Raises on Telegram or network errors (the loop backs off)."""
    outcome = Round()
    payloads = async_to_sync(_fetch)(next_offset(), timeout, limit, drop_webhook)
    outcome.received = len(payloads)
    for payload in payloads:
        try:
            if updates.store(payload, schedule=False):
                outcome.stored += 1
        except ValidationError as exc:  # not an update: nothing to store, nothing to confirm later
            log.warning("telegram: getUpdates returned something that is not an update: %s", exc)
        outcome.offsets.append(int(payload.get("update_id", 0)))
    while True:
        handled, failed = updates.process_pending()
        outcome.handled += handled
        outcome.failed += failed
        if handled + failed == 0:
            break
    return outcome


def run(
    *,
    once: bool = False,
    timeout: int = 25,
    limit: int = 100,
    drop_webhook: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[Round], None] | None = None,
) -> None:
    """Poll until interrupted (or one round with ``once``); back off on errors, stop on a refused token."""
    backoff = 1.0
    first = True
    while True:
        try:
            outcome = poll_once(timeout=0 if once else timeout, limit=limit, drop_webhook=drop_webhook and first)
            backoff = 1.0
        except TelegramUnauthorizedError:
            raise
        except TelegramConflictError as exc:  # a webhook is set, or another poller runs
            outcome = Round(error=f"conflict: {exc.message}")
        except Exception as exc:
            log.warning("telegram: polling failed: %r", exc)
            outcome = Round(error=repr(exc))
        first = False
        if report is not None:
            report(outcome)
        if once:
            return
        if outcome.error:
            sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
