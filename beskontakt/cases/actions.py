"""Every write to a case goes through here.

Each action validates its input (raising ``ValidationError`` that names the
field), checks the actor's capability, writes inside one transaction with the
case row locked, records an ``Event`` for every change and keeps the SLA
clocks in step. Views and the API parse input and call one action.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case as DbCase
from django.db.models import F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.accounts.models import Presence, User
from beskontakt.accounts.roles import Role, user_can
from beskontakt.inbox import outbox, realtime
from beskontakt.subscribers.models import Channel, Subscriber

from . import attachments as files_
from . import sla, workload
from .models import Case, CaseStatus, Category, Event, Macro, Message, Note, Priority, Queue, SlaClock, Tag
from .models.case import ACTIVE_STATUSES

SlaKind = sla.Kind

# Allowed status changes; reopening is resolved/closed -> open.
TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset(
        {
            CaseStatus.OPEN,
            CaseStatus.WAITING_SUBSCRIBER,
            CaseStatus.WAITING_FIELD,
            CaseStatus.RESOLVED,
            CaseStatus.CLOSED,
        }
    ),
    CaseStatus.OPEN: frozenset(
        {CaseStatus.WAITING_SUBSCRIBER, CaseStatus.WAITING_FIELD, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.WAITING_SUBSCRIBER: frozenset(
        {CaseStatus.OPEN, CaseStatus.WAITING_FIELD, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.WAITING_FIELD: frozenset(
        {CaseStatus.OPEN, CaseStatus.WAITING_SUBSCRIBER, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN}),
}
# While a case waits for the subscriber, its clocks do not run.
PAUSING_STATUSES = frozenset({CaseStatus.WAITING_SUBSCRIBER})
MAX_BODY = 20_000
# Case changes the subscriber's portal shows live.
SUBSCRIBER_VISIBLE = frozenset(
    {Event.Kind.OPENED, Event.Kind.MESSAGE_IN, Event.Kind.MESSAGE_OUT, Event.Kind.STATUS, Event.Kind.CALLBACK}
)


def _require(user: Any, capability: str) -> None:
    if user is not None and not user_can(user, capability):
        raise PermissionDenied(_("You are not allowed to do this."))


def _text(value: str | None, field: str, *, max_length: int = MAX_BODY) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: _("This field is required: send non-empty text.")})
    if len(text) > max_length:
        raise ValidationError(
            {field: _("Too long: at most %(max)d characters, got %(got)d.") % {"max": max_length, "got": len(text)}}
        )
    if "\x00" in text:
        raise ValidationError({field: _("Text must not contain NUL characters.")})
    return text


def record(case: Case, kind: str, by: Any = None, at: datetime | None = None, **data: Any) -> Event:
    """Write one event on a case's timeline (and tell live pages once it commits)."""
    actor = by if isinstance(by, User) else None
    event = Event.objects.create(case=case, kind=kind, actor=actor, at=at or timezone.now(), data=data)
    _announce(case, kind)
    return event


def _announce(case: Case, kind: str) -> None:
    """Publish a case change to the agents' pages and, for what they see, the subscriber's portal."""
    realtime.case_changed(case.pk, kind)
    if case.subscriber_id is not None and kind in SUBSCRIBER_VISIBLE:
        realtime.subscriber_changed(case.subscriber_id, kind, case=case.pk)


def _touch(case: Case, now: datetime, *fields: str) -> None:
    case.updated_at = now
    sla.refresh_case_sla(case)
    case.save(update_fields=sorted({"updated_at", "next_due_at", "sla_state", *fields}))


def _locked(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",)).select_related("sla_policy", "queue", "subscriber").get(pk=case.pk)
    )


# --- Opening and messages ---------------------------------------------------------


def _store_inbound(case: Case, channel: str, external_id: str | None, sender: str, body: str, now: datetime) -> Message:
    """Write one message from the subscriber (the unique (channel, external id) guards repeats)."""
    return Message.objects.create(
        case=case,
        direction=Message.Direction.INBOUND,
        channel=channel,
        external_id=external_id,
        sender=sender,
        body=body,
        created_at=now,
    )


def intake_queue() -> Queue | None:
    """The queue a case with neither queue nor category lands in (``INTAKE_QUEUE``, by code).

    Without it a chat or an e-mail from a new sender would sit outside every
    queue and never be assigned automatically.
    """
    code = settings.INTAKE_QUEUE
    return Queue.objects.filter(code=code).first() if code else None


def open_case(
    *,
    subject: str,
    channel: str = Channel.PHONE,
    subscriber: Subscriber | None = None,
    body: str | None = None,
    category: Category | None = None,
    priority: int | None = None,
    queue: Queue | None = None,
    by: Any = None,
    external_id: str | None = None,
    sender: str = "",
    at: datetime | None = None,
) -> Case:
    """Open a case for a subscriber, optionally with its first inbound message.

    The queue defaults to the category's; the SLA policy is chosen and its
    clocks start; the case is offered to the least-loaded available agent of
    the queue when the queue assigns automatically.
    """
    _require(by, "case.open")
    subject = _text(subject, "subject", max_length=200)
    if channel not in Channel.values:
        raise ValidationError(
            {"channel": _("Unknown channel: use one of %(values)s.") % {"values": ", ".join(Channel.values)}}
        )
    if priority is not None and priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority: use 1 (low) to 4 (urgent).")})
    if body is not None:
        body = _text(body, "body")
    now = at or timezone.now()
    with transaction.atomic():
        case = Case(
            subject=subject,
            subscriber=subscriber,
            channel=channel,
            category=category,
            priority=priority or (category.default_priority if category else Priority.NORMAL),
            queue=queue or (category.default_queue if category else None) or intake_queue(),
            created_at=now,
            updated_at=now,
            last_inbound_at=now if body is not None else None,
        )
        # Everything is decided before the row is written, so opening a case is a
        # handful of statements however busy the desk is (a mass outage opens thousands).
        clocks = sla.plan_case_clocks(case, now)
        agent = pick_agent(case.queue) if case.queue is not None and case.queue.auto_assign else None
        case.assignee = agent
        case.save()
        for clock in clocks:
            clock.case = case
        SlaClock.objects.bulk_create(clocks)
        actor = by if isinstance(by, User) else None
        events = [
            Event(case=case, kind=Event.Kind.OPENED, actor=actor, at=now, data={"channel": channel, "subject": subject})
        ]
        events += [
            Event(
                case=case,
                kind=Event.Kind.SLA_STARTED,
                at=now,
                data={"clock": c.kind, "due_at": c.due_at.isoformat() if c.due_at else None},
            )
            for c in clocks
        ]
        if body is not None:
            _store_inbound(case, channel, external_id, sender, body, now)
            events.append(Event(case=case, kind=Event.Kind.MESSAGE_IN, at=now, data={"channel": channel}))
        if agent is not None:
            events.append(
                Event(
                    case=case, kind=Event.Kind.ASSIGNED, at=now, data={"old": None, "new": agent.pk, "automatic": True}
                )
            )
            workload.adjust(agent.pk, +1)
        Event.objects.bulk_create(events)
        _announce(case, Event.Kind.OPENED)
    return case


def receive_message(
    *,
    channel: str,
    external_id: str,
    body: str,
    case: Case | None = None,
    subscriber: Subscriber | None = None,
    subject: str | None = None,
    sender: str = "",
    at: datetime | None = None,
    by: Any = None,
) -> tuple[Message, bool]:
    """Store an inbound message exactly once; returns (message, created).

    ``external_id`` is the channel's own id for the message: a repeat of a
    stored (channel, external id) changes nothing and returns the stored
    message. Without a case, the subscriber's newest active case on the same
    channel gets the message, or a new case is opened. A message to a
    resolved case reopens it; the next-response clock starts.
    """
    _require(by, "message.ingest")
    if channel not in Channel.values:
        raise ValidationError(
            {"channel": _("Unknown channel: use one of %(values)s.") % {"values": ", ".join(Channel.values)}}
        )
    external_id = _text(external_id, "external_id", max_length=255)
    body = _text(body, "body")
    existing = Message.objects.filter(channel=channel, external_id=external_id).first()
    if existing is not None:
        return existing, False
    now = at or timezone.now()
    try:
        with transaction.atomic():
            if case is None and subscriber is not None:
                case = (
                    Case.objects.filter(subscriber=subscriber, channel=channel, status__in=ACTIVE_STATUSES)
                    .order_by("-created_at")
                    .first()
                )
            if case is None:
                first_line = (subject or body.splitlines()[0])[:200]
                new_case = open_case(
                    subject=first_line,
                    channel=channel,
                    subscriber=subscriber,
                    body=body,
                    external_id=external_id,
                    sender=sender,
                    at=now,
                )
                return new_case.messages.get(), True
            locked = _locked(case)
            message = _store_inbound(locked, channel, external_id, sender, body, now)
            locked.last_inbound_at = now
            record(locked, Event.Kind.MESSAGE_IN, at=now, channel=channel, message=message.pk)
            fields = ["last_inbound_at"]
            if locked.status in (CaseStatus.WAITING_SUBSCRIBER, CaseStatus.RESOLVED, CaseStatus.CLOSED):
                _set_status(locked, CaseStatus.OPEN, None, now, reason="subscriber wrote")
                fields += ["status", "resolved_at", "closed_at"]
            if locked.first_response_at is not None and locked.sla_policy is not None:
                sla.start_clock(locked, SlaKind.NEXT_RESPONSE, locked.sla_policy.next_response_minutes, now)
            _touch(locked, now, *fields)
            return message, True
    except IntegrityError:
        # Another process stored the same message a moment ago.
        stored = Message.objects.filter(channel=channel, external_id=external_id).first()
        if stored is None:
            raise
        return stored, False


def reply(
    case: Case,
    *,
    by: Any,
    body: str,
    channel: str | None = None,
    then_status: str | None = None,
    attachments: Sequence[Any] | None = None,
) -> Message:
    """Send an answer to the subscriber (queued for delivery on the channel).

    The first reply stops the first-response clock; any reply stops the
    next-response clock. A new case becomes open (or ``then_status``).
    Concurrent replies by two agents are serialised on the case row and both kept.
    ``attachments`` are uploaded files, checked by :mod:`beskontakt.cases.attachments`
    (type from content, size, count) before anything is written.
    """
    _require(by, "case.reply")
    body = _text(body, "body")
    channel = channel or case.channel
    if channel not in Channel.values:
        raise ValidationError(
            {"channel": _("Unknown channel: use one of %(values)s.") % {"values": ", ".join(Channel.values)}}
        )
    checked = files_.check_files(attachments)
    now = timezone.now()
    stored: list[Any] = []
    try:
        message = _write_reply(case, by, body, channel, then_status, checked, stored, now)
    except BaseException:
        files_.discard(stored)
        raise
    case.refresh_from_db()
    return message


def _write_reply(
    case: Case,
    by: Any,
    body: str,
    channel: str,
    then_status: str | None,
    checked: list[files_.CheckedFile],
    stored: list[Any],
    now: datetime,
) -> Message:
    """The writing half of :func:`reply` (one transaction; stored files are added to ``stored``)."""
    with transaction.atomic():
        locked = _locked(case)
        if locked.merged_into_id is not None:
            raise ValidationError(
                {"case": _("This case was merged into %(ref)s; reply there.") % {"ref": f"#{locked.merged_into_id}"}}
            )
        message = Message.objects.create(
            case=locked,
            direction=Message.Direction.OUTBOUND,
            channel=channel,
            author=by,
            sender=by.display_name() if hasattr(by, "display_name") else "",
            body=body,
            delivery=Message.Delivery.QUEUED,
            created_at=now,
        )
        extra: dict[str, Any] = {}
        if checked:
            stored += files_.store(message, checked)
            extra["attachments"] = len(stored)
        record(locked, Event.Kind.MESSAGE_OUT, by, at=now, channel=channel, message=message.pk, **extra)
        outbox.enqueue_reply(message)
        fields = []
        if locked.first_response_at is None:
            locked.first_response_at = now
            fields.append("first_response_at")
            sla.stop_clock(locked, SlaKind.FIRST_RESPONSE, now)
        sla.stop_clock(locked, SlaKind.NEXT_RESPONSE, now)
        target = then_status or (CaseStatus.OPEN if locked.status == CaseStatus.NEW else None)
        if target and target != locked.status:
            _check_transition(locked, target)
            _set_status(locked, target, by, now)
            fields += ["status", "resolved_at", "closed_at"]
        _touch(locked, now, *fields)
    return message


def receive_message_with_attachments(
    *, attachments: Sequence[Any] | None = None, **kwargs: Any
) -> tuple[Message, bool]:
    """:func:`receive_message` with uploaded files; returns (message, created).

    The files are checked first (nothing is stored if one is refused). They are
    attached only when the message is new: a repeat of a stored (channel,
    external id) changes nothing, its files included.
    """
    checked = files_.check_files(attachments)
    stored: list[Any] = []
    try:
        with transaction.atomic():
            message, created = receive_message(**kwargs)
            if created and checked:
                stored += files_.store(message, checked)
                event = (
                    Event.objects.filter(case_id=message.case_id, kind=Event.Kind.MESSAGE_IN, data__message=message.pk)
                    .order_by("-at", "-id")
                    .first()
                )
                if event is not None:
                    event.data = {**event.data, "attachments": len(stored)}
                    event.save(update_fields=["data"])
    except BaseException:
        files_.discard(stored)
        raise
    return message, created


def add_note(case: Case, *, by: Any, body: str) -> Note:
    """Add an internal note (never shown to the subscriber)."""
    _require(by, "case.note")
    body = _text(body, "body")
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(case)
        note = Note.objects.create(case=locked, author=by, body=body, created_at=now)
        record(locked, Event.Kind.NOTE, by, at=now, note=note.pk)
        _touch(locked, now)
    return note


# --- Status -------------------------------------------------------------------------


def _check_transition(case: Case, to: str) -> None:
    if to not in CaseStatus.values:
        raise ValidationError(
            {"status": _("Unknown status: use one of %(values)s.") % {"values": ", ".join(CaseStatus.values)}}
        )
    if to not in TRANSITIONS[case.status]:
        raise ValidationError(
            {
                "status": _("A case cannot go from “%(old)s” to “%(new)s”.")
                % {"old": CaseStatus(case.status).label, "new": CaseStatus(to).label}
            }
        )


def _set_status(case: Case, to: str, by: Any, now: datetime, reason: str = "") -> None:
    """Change status in memory with its clock effects and event (caller saves)."""
    old = case.status
    case.status = to
    record(case, Event.Kind.STATUS, by, at=now, old=old, new=to, reason=reason)
    workload.on_change(case.assignee_id, old in ACTIVE_STATUSES, case.assignee_id, to in ACTIVE_STATUSES)
    if to in PAUSING_STATUSES:
        sla.pause_clocks(case, now)
    elif old in PAUSING_STATUSES:
        sla.resume_clocks(case, now)
    if to == CaseStatus.RESOLVED:
        case.resolved_at = now
        for kind in (SlaKind.FIRST_RESPONSE, SlaKind.NEXT_RESPONSE, SlaKind.RESOLUTION):
            sla.stop_clock(case, kind, now)
    elif to == CaseStatus.CLOSED:
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
        sla.cancel_clocks(case, now)
    elif old in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        # Reopened: the resolution clock starts again from zero.
        case.resolved_at = None
        case.closed_at = None
        if case.sla_policy is not None:
            sla.start_clock(case, SlaKind.RESOLUTION, case.sla_policy.resolution_minutes, now)


def change_status(case: Case, *, to: str, by: Any, reason: str = "") -> Case:
    """Move a case through its life (see ``TRANSITIONS``); waiting for the subscriber pauses the clocks."""
    _require(by, "case.change_status")
    with transaction.atomic():
        locked = _locked(case)
        _check_transition(locked, to)
        now = timezone.now()
        _set_status(locked, to, by, now, reason=reason.strip()[:500])
        _touch(locked, now, "status", "resolved_at", "closed_at")
    return locked


def resolve(case: Case, *, by: Any, reason: str = "") -> Case:
    """Mark the problem solved (the subscriber may still reopen it by writing)."""
    return change_status(case, to=CaseStatus.RESOLVED, by=by, reason=reason)


def reopen(case: Case, *, by: Any, reason: str = "") -> Case:
    """Open a resolved or closed case again."""
    return change_status(case, to=CaseStatus.OPEN, by=by, reason=reason)


# --- Classification -------------------------------------------------------------


def set_priority(case: Case, *, priority: int, by: Any) -> Case:
    """Change priority; the SLA policy is chosen again for clocks started later."""
    _require(by, "case.change_status")
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority: use 1 (low) to 4 (urgent).")})
    with transaction.atomic():
        locked = _locked(case)
        if locked.priority != priority:
            now = timezone.now()
            record(locked, Event.Kind.PRIORITY, by, at=now, old=locked.priority, new=priority)
            locked.priority = priority
            locked.sla_policy = sla.select_policy(locked) or locked.sla_policy
            _touch(locked, now, "priority", "sla_policy")
    return locked


def _set_relation(case: Case, field: str, value: Category | Queue | None, kind: str, by: Any) -> Case:
    """Point ``case.<field>`` at ``value`` with an event holding both ids."""
    _require(by, "case.change_status")
    new_id = value.pk if value is not None else None
    with transaction.atomic():
        locked = _locked(case)
        old_id = getattr(locked, f"{field}_id")
        if old_id != new_id:
            now = timezone.now()
            record(locked, kind, by, at=now, old=old_id, new=new_id)
            setattr(locked, field, value)
            _touch(locked, now, field)
    return locked


def set_category(case: Case, *, category: Category | None, by: Any) -> Case:
    """Change what the case is about."""
    return _set_relation(case, "category", category, Event.Kind.CATEGORY, by)


def move_to_queue(case: Case, *, queue: Queue | None, by: Any) -> Case:
    """Put the case in another queue (its assignee stays until changed)."""
    return _set_relation(case, "queue", queue, Event.Kind.QUEUE, by)


def set_tags(case: Case, *, names: Iterable[str], by: Any) -> Case:
    """Replace the case's tags (creating unknown tags)."""
    _require(by, "case.change_status")
    clean = sorted({n.strip()[:50] for n in names if n and n.strip()})
    with transaction.atomic():
        locked = _locked(case)
        old = sorted(locked.tags.values_list("name", flat=True))
        if old != clean:
            tags = [Tag.objects.get_or_create(name=name)[0] for name in clean]
            locked.tags.set(tags)
            now = timezone.now()
            record(locked, Event.Kind.TAGS, by, at=now, old=old, new=clean)
            _touch(locked, now)
    return locked


# --- Assignment ---------------------------------------------------------------------


def assign(case: Case, *, to: User | None, by: Any) -> Case:
    """Give the case to an agent (or back to the queue with ``to=None``)."""
    _require(by, "case.assign")
    if to is not None and not (to.is_active and user_can(to, "case.be_assigned")):
        raise ValidationError({"assignee": _("This person cannot work cases: choose an active staff member.")})
    return _assign(case, to, by)


def take(case: Case, *, by: Any) -> Case:
    """The agent takes an unassigned case for themself."""
    _require(by, "case.take")
    with transaction.atomic():
        locked = _locked(case)
        if locked.assignee_id is not None and locked.assignee_id != by.pk:
            raise ValidationError({"assignee": _("Someone else already took this case.")})
        return _assign(locked, by, by)


def _assign(case: Case, to: User | None, by: Any, now: datetime | None = None) -> Case:
    with transaction.atomic():
        locked = _locked(case)
        if locked.assignee_id == (to.pk if to else None):
            return locked
        now = now or timezone.now()
        record(
            locked,
            Event.Kind.ASSIGNED,
            by,
            at=now,
            old=locked.assignee_id,
            new=to.pk if to else None,
            automatic=by is None,
        )
        active = locked.status in ACTIVE_STATUSES
        workload.on_change(locked.assignee_id, active, to.pk if to else None, active)
        locked.assignee = to
        _touch(locked, now, "assignee")
    return locked


def pick_agent(queue: Queue | None) -> User | None:
    """The least-loaded available agent with the queue's skill and room for one more case.

    Only people at the workspace are picked: online first, then away; an
    offline person (no live connection) gets nothing automatically.
    """
    agents = User.objects.filter(is_active=True, available=True, role__in=[Role.AGENT, Role.SUPERVISOR]).exclude(
        presence=Presence.OFFLINE
    )
    if queue is not None and queue.skill_id is not None:
        agents = agents.filter(skills=queue.skill_id)
    away_last = DbCase(When(presence=Presence.AWAY, then=Value(1)), default=Value(0))
    agents = agents.filter(open_cases__lt=F("max_open_cases")).order_by(away_last, "open_cases", "last_login", "pk")
    return agents.first()


def auto_assign(case: Case, at: datetime | None = None) -> User | None:
    """Assign an unassigned case automatically (returns the agent or None)."""
    if case.assignee_id is not None:
        return case.assignee
    agent = pick_agent(case.queue)
    if agent is not None:
        _assign(case, agent, None, now=at)
        case.assignee = agent
    return agent


# --- Merging and linking ---------------------------------------------------------


def merge(source: Case, *, into: Case, by: Any) -> Case:
    """Fold ``source`` into ``into``: messages and notes move, ``source`` closes.

    Both timelines record the merge; the source keeps a pointer so links to
    it lead to the surviving case.
    """
    _require(by, "case.merge")
    if source.pk == into.pk:
        raise ValidationError({"into": _("A case cannot be merged into itself.")})
    with transaction.atomic():
        first, second = sorted([source.pk, into.pk])
        locked = {
            c.pk: c for c in Case.objects.select_for_update(of=("self",)).filter(pk__in=[first, second]).order_by("pk")
        }
        src, dst = locked[source.pk], locked[into.pk]
        if src.merged_into_id is not None:
            raise ValidationError({"case": _("This case was already merged.")})
        if dst.merged_into_id is not None:
            raise ValidationError({"into": _("The target case was itself merged; choose the surviving case.")})
        if src.subscriber_id and dst.subscriber_id and src.subscriber_id != dst.subscriber_id:
            raise ValidationError({"into": _("Only cases of the same subscriber can be merged.")})
        now = timezone.now()
        moved_messages = Message.objects.filter(case=src).update(case=dst)
        moved_notes = Note.objects.filter(case=src).update(case=dst)
        src.merged_into = dst
        workload.on_change(src.assignee_id, src.status in ACTIVE_STATUSES, src.assignee_id, False)
        src.status = CaseStatus.CLOSED
        src.closed_at = now
        sla.cancel_clocks(src, now)
        record(src, Event.Kind.MERGED_INTO, by, at=now, into=dst.pk)
        record(dst, Event.Kind.MERGED, by, at=now, source=src.pk, messages=moved_messages, notes=moved_notes)
        _touch(src, now, "merged_into", "status", "closed_at")
        if dst.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and src.last_inbound_at:
            _set_status(dst, CaseStatus.OPEN, by, now, reason="merged")
        if src.last_inbound_at and (dst.last_inbound_at is None or src.last_inbound_at > dst.last_inbound_at):
            dst.last_inbound_at = src.last_inbound_at
        _touch(dst, now, "status", "resolved_at", "closed_at", "last_inbound_at")
    return dst


LINK_KINDS = ("related", "parent", "child")


def link(case: Case, *, other: Case, kind: str, by: Any) -> Case:
    """Link two cases: ``related`` both ways, or ``parent``/``child`` (mass incidents)."""
    _require(by, "case.link")
    if kind not in LINK_KINDS:
        raise ValidationError({"kind": _("Unknown link kind: use related, parent or child.")})
    if case.pk == other.pk:
        raise ValidationError({"other": _("A case cannot be linked to itself.")})
    with transaction.atomic():
        locked = _locked(case)
        now = timezone.now()
        if kind == "related":
            locked.related.add(other)
        else:
            parent, child = (other, locked) if kind == "parent" else (locked, other)
            ancestor: Case | None = parent
            while ancestor is not None:
                if ancestor.pk == child.pk:
                    raise ValidationError({"other": _("This link would make a case its own ancestor.")})
                ancestor = ancestor.parent
            Case.objects.filter(pk=child.pk).update(parent=parent)
        record(locked, Event.Kind.LINKED, by, at=now, other=other.pk, link=kind)
        record(
            other,
            Event.Kind.LINKED,
            by,
            at=now,
            other=locked.pk,
            link={"parent": "child", "child": "parent"}.get(kind, kind),
        )
        _touch(locked, now)
    return locked


def apply_macro(case: Case, *, macro: Macro, by: Any) -> str:
    """The text of a macro for this case (the agent may edit it before sending)."""
    from .macros import render_macro

    _require(by, "case.reply")
    if not macro.active:
        raise ValidationError({"macro": _("This macro is switched off.")})
    return render_macro(macro, case, by)
