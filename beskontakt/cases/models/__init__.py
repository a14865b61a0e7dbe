"""Cases and everything around them: queues, SLA, messages, notes, events, macros."""

from .calendar import BusinessCalendar, CalendarDay, WorkingHours
from .case import Case, CaseStatus, Category, Priority, Queue, Tag
from .content import Attachment, Event, Macro, Message, Note
from .intake import PendingInbound
from .sla import SlaClock, SlaPolicy

__all__ = [
    "Attachment",
    "BusinessCalendar",
    "CalendarDay",
    "Case",
    "CaseStatus",
    "Category",
    "Event",
    "Macro",
    "Message",
    "Note",
    "PendingInbound",
    "Priority",
    "Queue",
    "SlaClock",
    "SlaPolicy",
    "Tag",
    "WorkingHours",
]
