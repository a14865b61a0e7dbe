"""SLA clocks on cases: choosing the policy, starting, pausing, stopping, alerting.

The arithmetic lives in ``business_time``; this module keeps ``SlaClock`` rows
and the case's ``next_due_at``/``sla_state`` mirror in step with the case's
life. Every change is recorded as a case event by the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from .calendars import working_time_for
from .models import Case, Event, SlaClock, SlaPolicy

Kind = SlaClock.Kind
State = SlaClock.State


def select_policy(case: Case) -> SlaPolicy | None:
    """The most specific active policy matching the case's priority, category and segment."""
    segment = case.subscriber.segment if case.subscriber_id and case.subscriber else ""
    candidates = SlaPolicy.objects.filter(active=True).filter(
        Q(priority__isnull=True) | Q(priority=case.priority),
        Q(category__isnull=True) | Q(category_id=case.category_id),
        Q(segment="") | Q(segment=segment),
    )

    def specificity(policy: SlaPolicy) -> tuple[int, int, str]:
        matched = sum((policy.priority is not None, policy.category_id is not None, policy.segment != ""))
        return (-matched, policy.rank, policy.name)

    ordered = sorted(candidates, key=specificity)
    return ordered[0] if ordered else None


def _calendar_id(case: Case, policy: SlaPolicy) -> int | None:
    if policy.calendar_id is not None:
        return policy.calendar_id
    if case.queue_id is not None and case.queue is not None:
        return case.queue.calendar_id
    return None


def _record(case: Case, kind: str, at: datetime, **data: object) -> Event:
    return Event.objects.create(case=case, kind=kind, at=at, data=data)


def _schedule(clock: SlaClock, case: Case, now: datetime) -> None:
    """Recompute ``due_at``/``warn_at`` of a running clock from what is left."""
    policy = case.sla_policy
    assert policy is not None
    wt = working_time_for(_calendar_id(case, policy))
    remaining = max(0, clock.target_seconds - clock.consumed_seconds)
    clock.resumed_at = now
    clock.due_at = wt.add(now, remaining)
    warn_point = clock.target_seconds * policy.warning_percent / 100
    clock.warn_at = wt.add(now, max(0.0, warn_point - clock.consumed_seconds)) if clock.warned_at is None else None


def _consume(clock: SlaClock, case: Case, now: datetime) -> None:
    """Add the business time used since the last resume to ``consumed_seconds``."""
    if clock.resumed_at is None or case.sla_policy is None:
        return
    wt = working_time_for(_calendar_id(case, case.sla_policy))
    clock.consumed_seconds += max(0, round(wt.between(clock.resumed_at, now)))
    clock.resumed_at = None


def start_clock(case: Case, kind: str, target_minutes: int | None, now: datetime) -> SlaClock | None:
    """Start (or restart from zero) the ``kind`` clock of a case with its target."""
    if target_minutes is None or case.sla_policy is None:
        return None
    clock, _ = SlaClock.objects.get_or_create(
        case=case,
        kind=kind,
        defaults={"target_seconds": target_minutes * 60, "started_at": now},
    )
    clock.state = State.RUNNING
    clock.target_seconds = target_minutes * 60
    clock.consumed_seconds = 0
    clock.started_at = now
    clock.warned_at = clock.breached_at = clock.stopped_at = None
    _schedule(clock, case, now)
    clock.save()
    _record(case, Event.Kind.SLA_STARTED, now, clock=kind, due_at=clock.due_at.isoformat() if clock.due_at else None)
    return clock


def plan_case_clocks(case: Case, now: datetime) -> list[SlaClock]:
    """Choose the policy of a case not yet saved and compute its first clocks in memory.

    Sets ``case.sla_policy``, ``case.next_due_at`` and ``case.sla_state``; the
    returned clocks still need ``case`` assigned and saving (``open_case``
    writes them in one statement).
    """
    case.sla_policy = select_policy(case)
    if case.sla_policy is None:
        case.sla_state = Case.SlaState.NONE
        case.next_due_at = None
        return []
    clocks = []
    for kind, minutes in (
        (Kind.FIRST_RESPONSE, case.sla_policy.first_response_minutes),
        (Kind.RESOLUTION, case.sla_policy.resolution_minutes),
    ):
        if minutes is None:
            continue
        clock = SlaClock(kind=kind, state=State.RUNNING, target_seconds=minutes * 60, started_at=now)
        _schedule(clock, case, now)
        clocks.append(clock)
    case.next_due_at = min((c.due_at for c in clocks if c.due_at), default=None)
    case.sla_state = Case.SlaState.OK if clocks else Case.SlaState.NONE
    return clocks


def start_case_clocks(case: Case, now: datetime) -> None:
    """Pick the policy of a new case and start its first-response and resolution clocks."""
    case.sla_policy = select_policy(case)
    if case.sla_policy is None:
        case.sla_state = Case.SlaState.NONE
        return
    start_clock(case, Kind.FIRST_RESPONSE, case.sla_policy.first_response_minutes, now)
    start_clock(case, Kind.RESOLUTION, case.sla_policy.resolution_minutes, now)


def stop_clock(case: Case, kind: str, now: datetime) -> SlaClock | None:
    """Stop a running or paused clock: met if in time, breached otherwise."""
    clock = SlaClock.objects.filter(case=case, kind=kind, state__in=(State.RUNNING, State.PAUSED)).first()
    if clock is None:
        return None
    if clock.state == State.RUNNING:
        _consume(clock, case, now)
    clock.stopped_at = now
    if clock.consumed_seconds > clock.target_seconds or clock.breached_at is not None:
        clock.state = State.BREACHED
        clock.breached_at = clock.breached_at or now
    else:
        clock.state = State.MET
        _record(case, Event.Kind.SLA_MET, now, clock=kind)
    clock.save()
    return clock


def pause_clocks(case: Case, now: datetime) -> None:
    """Pause running clocks while the case waits for the subscriber."""
    for clock in SlaClock.objects.filter(case=case, state=State.RUNNING):
        _consume(clock, case, now)
        clock.state = State.PAUSED
        clock.due_at = clock.warn_at = None
        clock.save()
        _record(case, Event.Kind.SLA_PAUSED, now, clock=clock.kind)


def resume_clocks(case: Case, now: datetime) -> None:
    """Resume paused clocks with the business time they had left."""
    for clock in SlaClock.objects.filter(case=case, state=State.PAUSED):
        clock.state = State.RUNNING
        _schedule(clock, case, now)
        clock.save()
        _record(case, Event.Kind.SLA_RESUMED, now, clock=clock.kind)


def cancel_clocks(case: Case, now: datetime) -> None:
    """Stop every clock without a verdict (a merged case)."""
    SlaClock.objects.filter(case=case, state__in=(State.RUNNING, State.PAUSED)).update(
        state=State.CANCELLED, stopped_at=now, due_at=None, warn_at=None
    )


def refresh_case_sla(case: Case) -> None:
    """Mirror the clocks onto ``case.next_due_at`` and ``case.sla_state`` (caller saves)."""
    clocks = list(SlaClock.objects.filter(case=case))
    running = [c for c in clocks if c.state == State.RUNNING and c.due_at is not None]
    case.next_due_at = min((c.due_at for c in running if c.due_at), default=None)
    if not clocks:
        case.sla_state = Case.SlaState.NONE
    elif any(c.state == State.BREACHED or (c.state == State.RUNNING and c.breached_at) for c in clocks):
        case.sla_state = Case.SlaState.BREACHED
    elif any(c.state == State.RUNNING and c.warned_at for c in clocks):
        case.sla_state = Case.SlaState.WARNING
    elif running:
        case.sla_state = Case.SlaState.OK
    elif any(c.state == State.PAUSED for c in clocks):
        case.sla_state = Case.SlaState.PAUSED
    else:
        case.sla_state = Case.SlaState.MET


def remaining_seconds(clock: SlaClock, now: datetime) -> float | None:
    """Business seconds left on a clock at ``now`` (negative once overdue)."""
    case = clock.case
    if case.sla_policy is None:
        return None
    left = float(clock.target_seconds - clock.consumed_seconds)
    if clock.state == State.RUNNING and clock.resumed_at is not None:
        wt = working_time_for(_calendar_id(case, case.sla_policy))
        left -= wt.between(clock.resumed_at, now)
    return left


def check_due_clocks(now: datetime, batch: int = 1000) -> tuple[int, int]:
    """Record 80 % warnings and breaches that have come due; returns (warned, breached).

    Run every half minute by Celery beat. Each case is locked while its
    clocks are updated so an agent's concurrent reply cannot be overwritten.
    """
    from django.db import transaction

    warned = breached = 0
    due_ids = list(
        SlaClock.objects.filter(state=State.RUNNING)
        .filter(Q(warn_at__lte=now, warned_at__isnull=True) | Q(due_at__lte=now, breached_at__isnull=True))
        .values_list("case_id", flat=True)
        .distinct()[:batch]
    )
    for case_id in due_ids:
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).select_related("sla_policy").get(pk=case_id)
            for clock in SlaClock.objects.filter(case=case, state=State.RUNNING):
                if clock.warn_at and clock.warn_at <= now and clock.warned_at is None:
                    clock.warned_at = now
                    clock.warn_at = None
                    _record(case, Event.Kind.SLA_WARNING, now, clock=clock.kind)
                    warned += 1
                if clock.due_at and clock.due_at <= now and clock.breached_at is None:
                    clock.breached_at = now
                    clock.warned_at = clock.warned_at or now
                    _record(case, Event.Kind.SLA_BREACHED, now, clock=clock.kind)
                    breached += 1
                clock.save()
            refresh_case_sla(case)
            case.save(update_fields=["next_due_at", "sla_state"])
    return warned, breached
