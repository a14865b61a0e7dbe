"""SLA clocks on real cases: warnings at 80 %, breaches, pauses, calendars, policy choice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from beskontakt.cases import actions, sla, tasks
from beskontakt.cases.models import Case, CaseStatus, Event, SlaClock, SlaPolicy
from beskontakt.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def test_warning_at_80_percent_then_breach(case: Case) -> None:
    clock = case.clocks.get(kind="first_response")
    assert clock.warn_at == clock.started_at + timedelta(minutes=24)
    assert clock.due_at == clock.started_at + timedelta(minutes=30)
    assert sla.check_due_clocks(clock.started_at + timedelta(minutes=23)) == (0, 0)
    assert sla.check_due_clocks(clock.started_at + timedelta(minutes=25)) == (1, 0)
    case.refresh_from_db()
    assert case.sla_state == Case.SlaState.WARNING
    _, breached = sla.check_due_clocks(clock.started_at + timedelta(minutes=31))
    assert breached == 1
    case.refresh_from_db()
    assert case.sla_state == Case.SlaState.BREACHED
    assert case.events.filter(kind=Event.Kind.SLA_BREACHED).count() == 1
    # Running the check again records nothing twice.
    assert sla.check_due_clocks(clock.started_at + timedelta(minutes=40)) == (0, 0)


def test_reply_after_breach_keeps_the_breach(case: Case, agent) -> None:
    clock = case.clocks.get(kind="first_response")
    sla.check_due_clocks(clock.started_at + timedelta(minutes=31))
    actions.reply(case, by=agent, body="Извините за ожидание!")
    assert case.clocks.get(kind="first_response").state == SlaClock.State.BREACHED


def test_celery_task_runs_the_check(case: Case) -> None:
    result = tasks.check_sla_clocks.apply().get()
    assert result == {"warned": 0, "breached": 0}


def test_business_calendar_moves_deadline_to_working_hours(calendar, subscriber: Subscriber, queue) -> None:
    SlaPolicy.objects.create(name="Рабочие часы", first_response_minutes=60, calendar=calendar)
    friday_evening = timezone.make_aware(datetime(2026, 11, 27, 20, 30))  # Fri 20:30 MSK
    case = actions.open_case(subject="Вечером", subscriber=subscriber, at=friday_evening)
    clock = case.clocks.get(kind="first_response")
    # 30 min on Friday, the remaining 30 min on Saturday from 10:00.
    assert timezone.localtime(clock.due_at) == timezone.make_aware(datetime(2026, 11, 28, 10, 30))


def test_paused_time_does_not_count(case: Case, agent) -> None:
    actions.reply(case, by=agent, body="Ждём вас", then_status=CaseStatus.WAITING_SUBSCRIBER)
    clock = case.clocks.get(kind="resolution")
    consumed = clock.consumed_seconds
    SlaClock.objects.filter(pk=clock.pk).update(consumed_seconds=consumed)
    actions.change_status(case, to=CaseStatus.OPEN, by=agent)
    clock.refresh_from_db()
    assert clock.state == SlaClock.State.RUNNING
    assert clock.consumed_seconds == consumed
    left = sla.remaining_seconds(clock, timezone.now())
    assert left is not None and left <= clock.target_seconds - consumed


def test_most_specific_policy_wins(subscriber: Subscriber, category, policy) -> None:
    vip = SlaPolicy.objects.create(
        name="VIP срочно", priority=4, segment=Subscriber.Segment.VIP, first_response_minutes=5
    )
    subscriber.segment = Subscriber.Segment.VIP
    subscriber.save()
    urgent = actions.open_case(subject="Срочно", subscriber=subscriber, priority=4)
    assert urgent.sla_policy == vip
    normal = actions.open_case(subject="Обычно", subscriber=subscriber, priority=2)
    assert normal.sla_policy == policy


def test_no_policy_means_no_clocks(subscriber: Subscriber) -> None:
    case = actions.open_case(subject="Без SLA", subscriber=subscriber)
    assert case.sla_policy is None
    assert case.sla_state == Case.SlaState.NONE
    assert not case.clocks.exists()
