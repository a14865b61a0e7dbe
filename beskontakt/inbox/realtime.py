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
import threading
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
    send_many([(group, event)])


def send_many(items: list[tuple[str, dict[str, Any]]]) -> None:
    """Send several (group, event) pairs in order, in one trip into the event loop."""
    layer = get_channel_layer()
    if layer is None or not items:
        return

    async def send_all() -> None:
        for group, event in items:
            await layer.group_send(group, event)

    try:
        async_to_sync(send_all)()
    except Exception:
        log.warning("realtime: could not publish %d event(s)", len(items), exc_info=True)


# Events of the transaction in progress on this thread, sent together once it commits.
_pending = threading.local()


def _flush() -> None:
    items = getattr(_pending, "items", None) or []
    _pending.items = None
    unique = list({(group, repr(sorted(event.items()))): (group, event) for group, event in items}.values())
    send_many(unique)


def publish(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` once the current transaction commits.

    The events of one transaction are collected and sent together (repeats
    dropped): a message stored with its case change costs one trip to the
    channel layer, not one per event. Outside a transaction it is sent at once.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        send_now(group, event)
        return
    items = getattr(_pending, "items", None)
    # A rolled-back transaction drops its callbacks: start a fresh batch then.
    if items is None or not any(func is _flush for _sids, func, _robust in connection.run_on_commit):
        items = _pending.items = []
        transaction.on_commit(_flush)
    items.append((group, event))


def case_changed(case_id: int, kind: str, **data: Any) -> None:
    """Tell the case's pages and every queue page that a case changed (``kind`` says how)."""
    event = {"type": "case.changed", "case": case_id, "kind": kind, **data}
    publish(case_group(case_id), event)
    publish(QUEUE_GROUP, event)


def subscriber_changed(subscriber_id: int, kind: str, **data: Any) -> None:
    """Tell the subscriber's portal pages that something of theirs changed."""
    publish(subscriber_group(subscriber_id), {"type": "subscriber.changed", "kind": kind, **data})
