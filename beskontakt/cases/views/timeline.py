"""The case timeline: messages, notes and events in time order, events in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from beskontakt.accounts.models import User
from beskontakt.subscribers.models import Channel

from ..models import Case, CaseStatus, Category, Event, Message, Note, Priority, Queue, SlaClock

# Events that duplicate a message or note already on the timeline.
SHOWN_AS_ITEMS = frozenset({Event.Kind.MESSAGE_IN, Event.Kind.MESSAGE_OUT, Event.Kind.NOTE})


@dataclass
class Entry:
    """One line of the timeline."""

    at: datetime
    kind: str  # "in", "out", "note" or "event"
    obj: Any
    text: str = ""


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value) if value not in (None, "") else "—"


class _Names:
    """Names of the people, queues and categories events refer to, fetched in one query each."""

    def __init__(self, events: list[Event]) -> None:
        user_ids: set[int] = set()
        queue_ids: set[int] = set()
        category_ids: set[int] = set()
        for event in events:
            if event.kind == Event.Kind.ASSIGNED:
                user_ids.update(i for i in (event.data.get("old"), event.data.get("new")) if isinstance(i, int))
            elif event.kind == Event.Kind.QUEUE:
                queue_ids.update(i for i in (event.data.get("old"), event.data.get("new")) if isinstance(i, int))
            elif event.kind == Event.Kind.CATEGORY:
                category_ids.update(i for i in (event.data.get("old"), event.data.get("new")) if isinstance(i, int))
        self.users = {u.pk: u.display_name() for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
        self.queues = {q.pk: q.name for q in Queue.objects.filter(pk__in=queue_ids)} if queue_ids else {}
        self.categories = {c.pk: c.name for c in Category.objects.filter(pk__in=category_ids)} if category_ids else {}

    def of(self, table: dict[int, str], pk: Any) -> str:
        if pk is None:
            return "—"
        return table.get(pk, f"#{pk}")


def describe_event(event: Event, names: _Names) -> str:
    """An event as a sentence an agent reads on the timeline."""
    data = event.data or {}
    kind = event.kind
    if kind == Event.Kind.OPENED:
        return _("Case opened (%(channel)s)") % {"channel": _label(Channel, data.get("channel"))}
    if kind == Event.Kind.STATUS:
        text = _("Status: %(old)s → %(new)s") % {
            "old": _label(CaseStatus, data.get("old")),
            "new": _label(CaseStatus, data.get("new")),
        }
        if data.get("reason"):
            text += f" ({data['reason']})"
        return text
    if kind == Event.Kind.PRIORITY:
        return _("Priority: %(old)s → %(new)s") % {
            "old": _label(Priority, data.get("old")),
            "new": _label(Priority, data.get("new")),
        }
    if kind == Event.Kind.CATEGORY:
        return _("Category: %(old)s → %(new)s") % {
            "old": names.of(names.categories, data.get("old")),
            "new": names.of(names.categories, data.get("new")),
        }
    if kind == Event.Kind.QUEUE:
        return _("Queue: %(old)s → %(new)s") % {
            "old": names.of(names.queues, data.get("old")),
            "new": names.of(names.queues, data.get("new")),
        }
    if kind == Event.Kind.ASSIGNED:
        if data.get("new") is None:
            return _("Returned to the queue")
        who = names.of(names.users, data.get("new"))
        if data.get("automatic"):
            return _("Assigned automatically to %(who)s") % {"who": who}
        return _("Assigned to %(who)s") % {"who": who}
    if kind == Event.Kind.TAGS:
        return _("Tags: %(tags)s") % {"tags": ", ".join(data.get("new") or []) or "—"}
    if kind == Event.Kind.MERGED:
        return _("Case #%(source)s was merged into this one (%(messages)s messages, %(notes)s notes moved)") % {
            "source": data.get("source"),
            "messages": data.get("messages", 0),
            "notes": data.get("notes", 0),
        }
    if kind == Event.Kind.MERGED_INTO:
        return _("Merged into case #%(into)s") % {"into": data.get("into")}
    if kind == Event.Kind.LINKED:
        link_kind = {"related": _("related"), "parent": _("parent"), "child": _("child")}.get(
            data.get("kind", ""), data.get("kind", "")
        )
        return _("Linked to case #%(other)s (%(kind)s)") % {"other": data.get("other"), "kind": link_kind}
    if kind in (
        Event.Kind.SLA_STARTED,
        Event.Kind.SLA_PAUSED,
        Event.Kind.SLA_RESUMED,
        Event.Kind.SLA_MET,
        Event.Kind.SLA_WARNING,
        Event.Kind.SLA_BREACHED,
    ):
        return f"{_label(Event.Kind, kind)}: {_label(SlaClock.Kind, data.get('clock'))}"
    return _label(Event.Kind, kind)


def build_timeline(case: Case) -> list[Entry]:
    """Everything that happened on ``case``, oldest first."""
    entries: list[Entry] = []
    messages = Message.objects.filter(case=case).select_related("author").prefetch_related("attachments")
    for message in messages:
        kind = "in" if message.direction == Message.Direction.INBOUND else "out"
        entries.append(Entry(at=message.created_at, kind=kind, obj=message))
    for note in Note.objects.filter(case=case).select_related("author"):
        entries.append(Entry(at=note.created_at, kind="note", obj=note))
    events = [e for e in Event.objects.filter(case=case).select_related("actor") if e.kind not in SHOWN_AS_ITEMS]
    names = _Names(events)
    for event in events:
        entries.append(Entry(at=event.at, kind="event", obj=event, text=describe_event(event, names)))
    order = {"in": 0, "event": 1, "out": 2, "note": 3}
    entries.sort(key=lambda e: (e.at, order[e.kind], e.obj.pk))
    return entries
