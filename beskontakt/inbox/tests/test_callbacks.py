"""Callback requests: a case in the callback queue with its own SLA; missed calls get a follow-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from beskontakt.cases.models import CaseStatus, Event, SlaClock
from beskontakt.inbox import callbacks
from beskontakt.inbox.models import CallbackRequest, OutboundMessage
from beskontakt.subscribers.models import Subscriber

Status = CallbackRequest.Status


def window(start_in: int = 10, minutes: int = 60) -> tuple[Any, Any]:
    start = timezone.now() + timedelta(minutes=start_in)
    return start, start + timedelta(minutes=minutes)


def test_request_opens_a_case_in_the_callback_queue_with_its_own_sla(subscriber: Subscriber) -> None:
    start, end = window()
    callback = callbacks.request_callback(
        subscriber, phone="8 (916) 555-11-22", window_start=start, window_end=end, topic="Не работает ТВ"
    )
    case = callback.case
    assert callback.phone == "+79165551122"
    assert case.queue is not None and case.queue.code == callbacks.QUEUE_CODE
    assert case.category is not None and case.category.code == callbacks.CATEGORY_CODE
    assert case.sla_policy is not None and case.sla_policy.first_response_minutes == callbacks.FIRST_RESPONSE_MINUTES
    assert SlaClock.objects.filter(case=case, kind="first_response").exists()
    assert "Не работает ТВ" in case.messages.get().body
    assert Event.objects.filter(case=case, kind=Event.Kind.CALLBACK, data__outcome="requested").exists()


@pytest.mark.parametrize(
    ("phone", "start_in", "minutes", "field"),
    [
        ("12345", 10, 60, "phone"),
        ("+79165551122", -120, 60, "window_end"),
        ("+79165551122", 10, 15, "window_end"),
        ("+79165551122", 60 * 24 * 8, 60, "window_start"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    subscriber: Subscriber, phone: str, start_in: int, minutes: int, field: str
) -> None:
    start, end = window(start_in, minutes)
    with pytest.raises(ValidationError) as error:
        callbacks.request_callback(subscriber, phone=phone, window_start=start, window_end=end)
    assert field in error.value.message_dict
    assert not CallbackRequest.objects.exists()


def test_missed_call_plans_a_follow_up_and_tells_the_subscriber(subscriber: Subscriber, agent: Any) -> None:
    start, end = window()
    callback = callbacks.request_callback(subscriber, phone="+79165551122", window_start=start, window_end=end)
    callback = callbacks.record_outcome(callback, reached=False, by=agent)
    assert callback.status == Status.MISSED and callback.attempts == 1
    assert callback.next_attempt_at is not None
    case = callback.case
    case.refresh_from_db()
    assert case.first_response_at is not None
    assert case.status == CaseStatus.WAITING_SUBSCRIBER
    notice = OutboundMessage.objects.get(key=f"callback:{callback.pk}:1")
    assert notice.channel != "phone"
    # Nothing is due yet; once the time comes the case returns to the queue.
    assert callbacks.follow_up_due() == 0
    assert callbacks.follow_up_due(timezone.now() + callbacks.FOLLOW_UP_AFTER + timedelta(seconds=1)) == 1
    callback.refresh_from_db()
    case.refresh_from_db()
    assert callback.status == Status.WAITING
    assert case.status == CaseStatus.OPEN


def test_reached_resolves_and_last_miss_gives_up(subscriber: Subscriber, agent: Any) -> None:
    start, end = window()
    reached = callbacks.request_callback(subscriber, phone="+79165551122", window_start=start, window_end=end)
    reached = callbacks.record_outcome(reached, reached=True, by=agent, note="Перезвонили, настроили роутер")
    reached.case.refresh_from_db()
    assert reached.status == Status.DONE and reached.case.status == CaseStatus.RESOLVED
    with pytest.raises(ValidationError):
        callbacks.record_outcome(reached, reached=True, by=agent)

    lost = callbacks.request_callback(subscriber, phone="+79165551122", window_start=start, window_end=end)
    for _ in range(callbacks.MAX_ATTEMPTS - 1):
        lost = callbacks.record_outcome(lost, reached=False, by=agent)
        callbacks.follow_up_due(timezone.now() + timedelta(hours=2))
    lost = callbacks.record_outcome(lost, reached=False, by=agent)
    lost.case.refresh_from_db()
    assert lost.status == Status.GAVE_UP and lost.case.status == CaseStatus.CLOSED


def test_only_staff_who_reply_record_outcomes(subscriber: Subscriber, users: dict[str, Any]) -> None:
    start, end = window()
    callback = callbacks.request_callback(subscriber, phone="+79165551122", window_start=start, window_end=end)
    with pytest.raises(PermissionDenied):
        callbacks.record_outcome(callback, reached=True, by=users["subscriber"])


def test_agent_records_the_call_from_the_case_page(subscriber: Subscriber, agent: Any, client: Any) -> None:
    from beskontakt.accounts.testing import login_verified

    start, end = window()
    callback = callbacks.request_callback(subscriber, phone="+79165551122", window_start=start, window_end=end)
    login_verified(client, agent)
    page = client.get(f"/cases/{callback.case_id}/").content.decode()
    assert 'id="callback-form"' in page and "+79165551122" in page
    response = client.post(f"/cases/{callback.case_id}/callback/", {"reached": "0", "note": "Не берут трубку"})
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.status == Status.MISSED
    page = client.get(f"/cases/{callback.case_id}/").content.decode()
    assert 'id="callback-form"' in page  # still open: a follow-up is planned
    bad = client.post(f"/cases/{callback.case_id}/callback/", {"reached": "maybe"})
    assert bad.status_code == 400
