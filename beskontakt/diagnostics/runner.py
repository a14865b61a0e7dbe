"""Running the checks in parallel, each bounded in time, none able to fail the run.

Every check runs on its own thread (``concurrent.futures``) and closes the thread's database
connections when it is done. The runner waits for each at most until the run's deadline
(``DIAGNOSIS_CHECK_TIMEOUT_SECONDS`` after the start); a check still running then, one that
raised, or one that said it cannot tell becomes ``unknown`` with the reason as evidence. A check
left hanging keeps its thread until it returns, but the run does not wait for it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections, connections

from .checks import Check
from .checks.base import CheckContext, Finding, Shared, Status, SubscriberFacts, Unknown, jsonable

log = logging.getLogger(__name__)


@dataclass
class CheckRecord:
    """One check's outcome in a run, ready to be stored."""

    code: str
    status: str
    summary: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    duration_ms: int = 0
    error: str = ""


def _closing(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` that closes its thread's database connections afterwards."""

    def call() -> Any:
        try:
            return fn()
        finally:
            close_old_connections()
            connections.close_all()

    return call


def _timed(check: Check, ctx: CheckContext) -> tuple[Finding, float]:
    started = time.monotonic()
    finding = check.run(ctx)
    return finding, time.monotonic() - started


def _record(check: Check, future: Future[Any], started: float, wait: float) -> CheckRecord:
    try:
        finding, seconds = future.result(timeout=wait)
    except FutureTimeout:
        elapsed = round((time.monotonic() - started) * 1000)
        return CheckRecord(
            check.code,
            Status.UNKNOWN,
            evidence={"reason": "timeout", "limit_ms": elapsed},
            duration_ms=elapsed,
            error=f"no answer within {elapsed} ms",
        )
    except Unknown as exc:
        elapsed = round((time.monotonic() - started) * 1000)
        evidence = jsonable({"reason": exc.reason, **exc.evidence})
        return CheckRecord(check.code, Status.UNKNOWN, evidence=evidence, duration_ms=elapsed, error=exc.reason)
    except Exception as exc:
        elapsed = round((time.monotonic() - started) * 1000)
        log.warning("diagnosis check %s failed: %r", check.code, exc)
        reason = f"{type(exc).__name__}: {exc}"[:500]
        return CheckRecord(check.code, Status.UNKNOWN, evidence={"reason": reason}, duration_ms=elapsed, error=reason)
    if finding.status not in Status.values:
        return CheckRecord(check.code, Status.UNKNOWN, error=f"check answered an unknown status {finding.status!r}")
    return CheckRecord(
        check.code,
        finding.status,
        summary=jsonable(finding.summary),
        evidence=jsonable(finding.evidence),
        duration_ms=round(seconds * 1000),
    )


def run_checks(facts: SubscriberFacts, checks: Sequence[Check], sources: Any, timeout: float) -> list[CheckRecord]:
    """Run ``checks`` on ``facts`` in parallel; every record is back within about ``timeout`` seconds."""
    # Room for every check plus the shared reads (device, port) they start.
    pool = ThreadPoolExecutor(max_workers=len(checks) + 2, thread_name_prefix="diagnosis")
    try:
        shared = Shared(lambda fn: pool.submit(_closing(fn)))
        ctx = CheckContext(facts=facts, sources=sources, timeout=timeout, shared=shared)
        started = time.monotonic()
        futures = [(check, pool.submit(_closing(functools.partial(_timed, check, ctx)))) for check in checks]
        records = []
        for check, future in futures:
            wait = max(0.0, timeout - (time.monotonic() - started))
            records.append(_record(check, future, started, wait))
        return records
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
