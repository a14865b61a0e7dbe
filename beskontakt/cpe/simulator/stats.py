"""Fleet counters for the benchmark: sessions that worked or failed, why, and how long they took."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Shared by every device of a fleet (single event loop: no locking needed)."""

    sessions_ok: int = 0
    sessions_failed: int = 0
    retries: int = 0
    rpcs: Counter[str] = field(default_factory=Counter)
    faults_sent: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds per successful session
    max_latencies: int = 1_000_000

    def ok(self, seconds: float) -> None:
        """One session finished with 204 (or an empty answer)."""
        self.sessions_ok += 1
        if len(self.latencies) < self.max_latencies:
            self.latencies.append(seconds)

    def failed(self, reason: str) -> None:
        """One session ended early (network, HTTP status, garbled answer, auth …)."""
        self.sessions_failed += 1
        self.failures[reason] += 1

    def percentile(self, fraction: float) -> float | None:
        """A latency percentile (0.5, 0.95 …) in seconds, None before any session."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> dict[str, object]:
        """Plain numbers for printing or JSON."""
        p50, p95, p99 = (self.percentile(f) for f in (0.5, 0.95, 0.99))
        return {
            "sessions_ok": self.sessions_ok,
            "sessions_failed": self.sessions_failed,
            "retries": self.retries,
            "p50_ms": None if p50 is None else round(p50 * 1000, 1),
            "p95_ms": None if p95 is None else round(p95 * 1000, 1),
            "p99_ms": None if p99 is None else round(p99 * 1000, 1),
            "failures": dict(self.failures),
            "rpcs": dict(self.rpcs),
            "events": dict(self.events),
        }
