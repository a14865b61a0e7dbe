"""The agent workspace: queue, case page, case actions, opening a case."""

from .case import (
    assign,
    attachment,
    callback,
    change_status,
    detail,
    link,
    macro_text,
    merge,
    move_to_queue,
    note,
    reply,
    set_category,
    set_priority,
    set_tags,
    sla_panel,
    take,
)
from .new import new_case
from .queue import queue

__all__ = [
    "assign",
    "attachment",
    "callback",
    "change_status",
    "detail",
    "link",
    "macro_text",
    "merge",
    "move_to_queue",
    "new_case",
    "note",
    "queue",
    "reply",
    "set_category",
    "set_priority",
    "set_tags",
    "sla_panel",
    "take",
]
