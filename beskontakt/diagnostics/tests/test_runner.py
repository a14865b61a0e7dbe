"""The parallel runner: checks run at the same time, a hanging or broken check becomes "unknown"."""

from __future__ import annotations

import threading
from decimal import Decimal

from django.utils.translation import gettext_lazy

from beskontakt.diagnostics.checks import Check
from beskontakt.diagnostics.checks.base import CheckContext, Finding, Status, SubscriberFacts, Unknown
from beskontakt.diagnostics.runner import run_checks
from beskontakt.diagnostics.sources import Sources

FACTS = SubscriberFacts(subscriber_id=1, contract_number="77001234", billing_status="active", balance=Decimal("1"))


def _check(code: str, fn: object) -> Check:
    return Check(code, gettext_lazy(code), fn, lambda status, summary: code)  # type: ignore[arg-type]


def test_checks_run_in_parallel() -> None:
    """Four checks that each wait for all four to have started can only finish if they run at once."""
    barrier = threading.Barrier(4, timeout=5)

    def meet(ctx: CheckContext) -> Finding:
        barrier.wait()
        return Finding(Status.OK, {"thread": threading.current_thread().name})

    records = run_checks(FACTS, [_check(f"c{i}", meet) for i in range(4)], Sources(), timeout=10)
    assert [r.status for r in records] == [Status.OK] * 4
    assert len({r.summary["thread"] for r in records}) == 4


def test_a_hanging_check_is_unknown_and_the_run_finishes() -> None:
    release = threading.Event()
    started = threading.Event()

    def hang(ctx: CheckContext) -> Finding:
        started.set()
        release.wait(30)
        return Finding(Status.OK)

    try:
        records = run_checks(
            FACTS,
            [_check("hangs", hang), _check("quick", lambda ctx: Finding(Status.OK, {"n": 1}))],
            Sources(),
            timeout=0.3,
        )
    finally:
        release.set()
    by_code = {r.code: r for r in records}
    assert started.is_set()
    assert by_code["quick"].status == Status.OK
    assert by_code["hangs"].status == Status.UNKNOWN
    assert by_code["hangs"].evidence["reason"] == "timeout"
    assert "no answer within" in by_code["hangs"].error


def test_an_exception_or_missing_data_is_unknown_with_the_reason() -> None:
    def broken(ctx: CheckContext) -> Finding:
        raise RuntimeError("SNMP agent sent garbage")

    def missing(ctx: CheckContext) -> Finding:
        raise Unknown("no port known", port=None)

    records = run_checks(FACTS, [_check("broken", broken), _check("missing", missing)], Sources(), timeout=2)
    broken_record, missing_record = records
    assert broken_record.status == Status.UNKNOWN
    assert "SNMP agent sent garbage" in broken_record.error
    assert missing_record.status == Status.UNKNOWN
    assert missing_record.evidence == {"reason": "no port known", "port": None}


def test_a_shared_value_is_computed_once() -> None:
    calls: list[int] = []
    lock = threading.Lock()

    def compute() -> int:
        with lock:
            calls.append(1)
        return 42

    def use(ctx: CheckContext) -> Finding:
        return Finding(Status.OK, {"value": ctx.shared.get("x", compute, ctx.remaining())})

    records = run_checks(FACTS, [_check(f"u{i}", use) for i in range(5)], Sources(), timeout=5)
    assert {r.summary["value"] for r in records} == {42}
    assert len(calls) == 1


def test_a_wrong_status_is_unknown() -> None:
    records = run_checks(FACTS, [_check("odd", lambda ctx: Finding("great"))], Sources(), timeout=2)
    assert records[0].status == Status.UNKNOWN
