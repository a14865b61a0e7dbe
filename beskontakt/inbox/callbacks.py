"""Callback requests: "call me back on this number between these times".

A request becomes a case in the callback queue (category "Обратный звонок"),
whose SLA policy gives it its own first-response target. The agent who calls
records the outcome: *reached* resolves the callback; *missed* plans a
follow-up attempt (the case comes back to the queue at that time, and the
subscriber is told we tried); after the last attempt the request is given up
and the subscriber is asked to write or call us.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.accounts.roles import user_can
from beskontakt.cases import actions as case_actions
from beskontakt.cases.models import Case, CaseStatus, Category, Event, Priority, Queue, SlaPolicy
from beskontakt.subscribers.models import Channel, Subscriber, normalize_phone

from . import outbox
from .models import CallbackRequest

Status = CallbackRequest.Status
QUEUE_CODE = "callbacks"
CATEGORY_CODE = "callback"
POLICY_NAME = "Обратный звонок: первый ответ 15 минут"
FIRST_RESPONSE_MINUTES = 15
MIN_WINDOW = timedelta(minutes=30)
MAX_AHEAD = timedelta(days=7)
MAX_ATTEMPTS = 3
FOLLOW_UP_AFTER = timedelta(minutes=30)


def callback_category() -> Category:
    """The callback category, its queue and SLA policy (created on first use)."""
    queue, _created = Queue.objects.get_or_create(code=QUEUE_CODE, defaults={"name": "Обратные звонки"})
    category, _created = Category.objects.get_or_create(
        code=CATEGORY_CODE,
        defaults={
            "name_ru": "Обратный звонок",
            "name_en": "Callback",
            "default_queue": queue,
            "default_priority": Priority.HIGH,
        },
    )
    SlaPolicy.objects.get_or_create(
        name=POLICY_NAME,
        defaults={"category": category, "first_response_minutes": FIRST_RESPONSE_MINUTES, "next_response_minutes": 60},
    )
    return category


def _check_window(window_start: datetime, window_end: datetime, now: datetime) -> None:
    if timezone.is_naive(window_start) or timezone.is_naive(window_end):
        raise ValidationError({"window_start": _("Give the time with its time zone.")})
    if window_end <= now:
        raise ValidationError({"window_end": _("The window is already over: choose a time in the future.")})
    if window_end - window_start < MIN_WINDOW:
        raise ValidationError({"window_end": _("Give us a window of at least 30 minutes.")})
    if window_start > now + MAX_AHEAD:
        raise ValidationError({"window_start": _("We take callback requests for the next 7 days only.")})


def request_callback(
    subscriber: Subscriber | None,
    *,
    phone: str,
    window_start: datetime,
    window_end: datetime,
    topic: str = "",
    by: Any = None,
) -> CallbackRequest:
    """Record a callback request and open its case in the callback queue.

    ``phone`` must be a Russian number (any common format). The window must
    end in the future, last at least 30 minutes and start within 7 days.
    """
    number = normalize_phone(phone or "")
    if len(number) != 11 or not number.startswith("7"):
        raise ValidationError({"phone": _("Enter a Russian phone number, for example +7 916 123-45-67.")})
    now = timezone.now()
    _check_window(window_start, window_end, now)
    topic = (topic or "").strip()[:300]
    local = timezone.localtime(window_start)
    text = _("Please call me back on +%(phone)s between %(start)s and %(end)s.") % {
        "phone": number,
        "start": local.strftime("%d.%m %H:%M"),
        "end": timezone.localtime(window_end).strftime("%H:%M"),
    }
    if topic:
        text += "\n" + topic
    with transaction.atomic():
        case = case_actions.open_case(
            subject=(_("Callback: %(topic)s") % {"topic": topic} if topic else _("Callback request"))[:200],
            channel=Channel.PHONE,
            subscriber=subscriber,
            category=callback_category(),
            body=text,
            sender=f"+{number}",
            at=now,
            by=by,
        )
        callback = CallbackRequest.objects.create(
            subscriber=subscriber,
            case=case,
            phone=f"+{number}",
            window_start=window_start,
            window_end=window_end,
            topic=topic,
            created_at=now,
        )
        case_actions.record(case, Event.Kind.CALLBACK, by, at=now, outcome="requested", callback=callback.pk)
    return callback


def record_outcome(callback: CallbackRequest, *, reached: bool, by: Any, note: str = "") -> CallbackRequest:
    """Record one call attempt: reached (the call is done) or missed (a follow-up is planned).

    A missed call tells the subscriber we tried and when we will call again;
    after ``MAX_ATTEMPTS`` misses the request is given up and the subscriber is
    asked to contact us.
    """
    if not user_can(by, "case.reply"):
        raise PermissionDenied(_("You may not work callbacks."))
    now = timezone.now()
    with transaction.atomic():
        locked = (
            CallbackRequest.objects.select_for_update(of=("self",))
            .select_related("case", "subscriber")
            .get(pk=callback.pk)
        )
        if locked.status not in (Status.WAITING, Status.MISSED):
            raise ValidationError({"callback": _("This callback is already closed.")})
        locked.attempts += 1
        case = locked.case
        if reached:
            locked.status, locked.next_attempt_at = Status.DONE, None
            outcome = "reached"
        elif locked.attempts >= MAX_ATTEMPTS:
            locked.status, locked.next_attempt_at = Status.GAVE_UP, None
            outcome = "gave_up"
        else:
            locked.status, locked.next_attempt_at = Status.MISSED, now + FOLLOW_UP_AFTER
            outcome = "missed"
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        case_actions.record(case, Event.Kind.CALLBACK, by, at=now, outcome=outcome, attempt=locked.attempts, note=note)
        if case.first_response_at is None:
            # Calling the subscriber is the first response, whether they picked up or not.
            text = note or _("Called the subscriber (%(outcome)s).") % {"outcome": outcome}
            case_actions.add_note(case, by=by, body=text)
            _first_response(case, now)
        if outcome != "reached" and locked.subscriber is not None:
            _tell_missed(locked, outcome)
        if outcome == "reached":
            case_actions.change_status(case, to=CaseStatus.RESOLVED, by=by, reason="callback reached")
        elif outcome == "missed":
            case_actions.change_status(case, to=CaseStatus.WAITING_SUBSCRIBER, by=by, reason="callback missed")
        else:
            case_actions.change_status(case, to=CaseStatus.CLOSED, by=by, reason="callback given up")
    return locked


def _first_response(case: Case, now: datetime) -> None:
    from beskontakt.cases import sla

    Case.objects.filter(pk=case.pk, first_response_at__isnull=True).update(first_response_at=now)
    sla.stop_clock(case, sla.Kind.FIRST_RESPONSE, now)


def _tell_missed(callback: CallbackRequest, outcome: str) -> None:
    assert callback.subscriber is not None
    if outcome == "missed" and callback.next_attempt_at is not None:
        body = _(
            "We called you on %(phone)s but could not reach you. We will try again at about %(time)s. "
            "You can also write to us in the portal or in Telegram."
        ) % {"phone": callback.phone, "time": timezone.localtime(callback.next_attempt_at).strftime("%H:%M")}
    else:
        body = _(
            "We could not reach you on %(phone)s after several attempts. Please write to us or request a callback "
            "at another time."
        ) % {"phone": callback.phone}
    outbox.notify(
        callback.subscriber,
        body=body,
        subject=_("We tried to call you"),
        key=outbox.make_key("callback", callback.pk, callback.attempts),
        case=callback.case,
        exclude=[Channel.PHONE],
    )


def follow_up_due(now: datetime | None = None) -> int:
    """Put missed callbacks whose follow-up time has come back in the queue (returns how many)."""
    now = now or timezone.now()
    done = 0
    for callback in CallbackRequest.objects.filter(status=Status.MISSED, next_attempt_at__lte=now).select_related(
        "case"
    )[:500]:
        with transaction.atomic():
            updated = CallbackRequest.objects.filter(pk=callback.pk, status=Status.MISSED).update(
                status=Status.WAITING, next_attempt_at=None
            )
            if not updated:
                continue
            case = callback.case
            if case.status != CaseStatus.OPEN:
                case_actions.change_status(case, to=CaseStatus.OPEN, by=None, reason="callback follow-up due")
            attempt = callback.attempts + 1
            case_actions.record(case, Event.Kind.CALLBACK, None, at=now, outcome="follow_up", attempt=attempt)
            done += 1
    return done
