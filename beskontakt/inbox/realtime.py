"""Publishing changes to live pages (Django Channels groups).

Writers call these helpers inside their transaction; the message goes out
once the transaction commits, so a page never hears of a change it cannot read
yet. Group names:

- ``queue``: every connected staff page (queue tables refresh their rows);
- ``case.<id>``: the open case pages of one case;
- ``subscriber.<id>``: the subscriber's portal pages and chat.

Publishing never fails the write: without a reachable channel layer the change
is only logged (pages still refresh on their timer).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

QUEUE_GROUP = "queue"


def case_group(case_id: int) -> str:
    """The group of pages showing one case."""
    return f"case.{case_id}"


def subscriber_group(subscriber_id: int) -> str:
    """The group of one subscriber's portal pages."""
    return f"subscriber.{subscriber_id}"


def send_now(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` immediately (outside a transaction, or from a consumer's side)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        log.warning("realtime: could not publish to %s", group, exc_info=True)


def publish(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` once the current transaction commits."""
    transaction.on_commit(lambda: send_now(group, event))


def case_changed(case_id: int, kind: str, **data: Any) -> None:
    """Tell the case's pages and every queue page that a case changed (``kind`` says how)."""
    event = {"type": "case.changed", "case": case_id, "kind": kind, **data}
    publish(case_group(case_id), event)
    publish(QUEUE_GROUP, event)


def subscriber_changed(subscriber_id: int, kind: str, **data: Any) -> None:
    """Tell the subscriber's portal pages that something of theirs changed."""
    publish(subscriber_group(subscriber_id), {"type": "subscriber.changed", "kind": kind, **data})
