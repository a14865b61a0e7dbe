"""Delivery inside the product: the subscriber's portal and its live chat.

The case message is already stored (the portal shows it); delivery means
telling the subscriber's open pages, which update at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beskontakt.inbox import realtime

from . import PermanentFailure

if TYPE_CHECKING:
    from beskontakt.inbox.models import OutboundMessage


class PortalNotifier:
    """Pushes the message to the subscriber's live portal pages."""

    def send(self, item: OutboundMessage) -> str:
        """Publish ``item`` to the subscriber's pages; returns a portal reference."""
        if item.subscriber_id is None:
            raise PermanentFailure("the portal needs a subscriber")
        realtime.send_now(
            realtime.subscriber_group(item.subscriber_id),
            {
                "type": "subscriber.changed",
                "kind": "notice" if item.message_id is None else "message_out",
                "case": item.case_id,
                "message": item.message_id,
            },
        )
        return f"portal:{item.pk}"
