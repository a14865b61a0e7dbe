"""The portal's live chat: what a subscriber sends, what they see, and where agents may answer.

A chat message is an ordinary inbound case message on channel ``chat``; its
external id is ``chat:<subscriber id>:<client id>``, where the client id is a
UUID the browser picks before sending. A resend after a reconnect therefore
finds the stored message and makes no duplicate. The chat shows every message
on channel ``chat`` of the subscriber's cases (theirs and the agents' replies),
ordered by id, so a reconnecting page asks for "everything after id N" and
loses nothing.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from beskontakt.accounts.roles import Role
from beskontakt.cases import actions
from beskontakt.cases.models import Case, Message
from beskontakt.cases.models.case import ACTIVE_STATUSES
from beskontakt.subscribers.models import Channel, Subscriber

# The longest chat message a subscriber may send (characters).
MAX_CHAT_CHARS = 4000
# How many messages a newly opened chat shows; a reconnect asks for everything after its last id.
HISTORY_LIMIT = 50
# The most messages one "since" answer carries (a page asking for more asks again).
CATCH_UP_LIMIT = 500
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def portal_subscriber(user: Any) -> Subscriber | None:
    """The subscriber whose portal login ``user`` is (``None`` for anyone else)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    if getattr(user, "role", None) != Role.SUBSCRIBER:
        return None
    return Subscriber.objects.filter(portal_user=user).first()


def external_id(subscriber_id: int, client_id: str) -> str:
    """The channel id of a chat message: unique per subscriber and browser-chosen client id."""
    return f"chat:{subscriber_id}:{client_id}"


def client_id_of(message: Message) -> str | None:
    """The client id a chat message was sent with (``None`` for agents' replies)."""
    ext = message.external_id or ""
    if not ext.startswith("chat:"):
        return None
    parts = ext.split(":", 2)
    return parts[2] if len(parts) == 3 else None


def check_client_id(value: Any) -> str:
    """``value`` if it is a usable client id (1–64 letters, digits, ``-`` or ``_``); ``ValidationError`` otherwise."""
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise ValidationError(
            {"client_id": _("Send a client_id of 1 to 64 letters, digits, '-' or '_' (a UUID) with every message.")}
        )
    return value


def check_body(value: Any) -> str:
    """The message text if it is non-empty and at most :data:`MAX_CHAT_CHARS` long."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"send": _("The message is empty: send some text.")})
    if len(value) > MAX_CHAT_CHARS:
        raise ValidationError(
            {
                "send": _("The message is too long: at most %(max)d characters, got %(got)d.")
                % {"max": MAX_CHAT_CHARS, "got": len(value)}
            }
        )
    return value


def send(subscriber: Subscriber, *, body: Any, client_id: Any) -> tuple[Message, bool]:
    """Store a chat message from ``subscriber``; returns (message, created).

    Idempotent on ``client_id``: sending the same id again returns the stored
    message. The message joins the subscriber's open chat case, or opens one.
    """
    cid = check_client_id(client_id)
    text = check_body(body)
    return actions.receive_message(
        channel=Channel.CHAT,
        external_id=external_id(subscriber.pk, cid),
        subscriber=subscriber,
        body=text,
        sender=subscriber.display_name,
    )


def chat_messages(subscriber_id: int) -> Any:
    """Every chat message of the subscriber's cases (a queryset, oldest first)."""
    return (
        Message.objects.filter(case__subscriber_id=subscriber_id, channel=Channel.CHAT)
        .select_related("author")
        .order_by("id")
    )


def message_frame(message: Message) -> dict[str, Any]:
    """How the chat page receives one message (JSON-ready)."""
    inbound = message.direction == Message.Direction.INBOUND
    author = message.author
    return {
        "type": "message",
        "id": message.pk,
        "case": message.case_id,
        "direction": message.direction,
        "mine": inbound,
        "author": "" if inbound else (author.first_name if author is not None and author.first_name else ""),
        "body": message.body,
        "at": message.created_at.isoformat(),
        "client_id": client_id_of(message),
    }


def history(subscriber_id: int, *, after: int | None = None) -> list[dict[str, Any]]:
    """Chat messages as frames: the last :data:`HISTORY_LIMIT` ones, or those with an id above ``after``."""
    messages = chat_messages(subscriber_id)
    if after is None:
        newest = list(messages.order_by("-id")[:HISTORY_LIMIT])
        return [message_frame(m) for m in reversed(newest)]
    return [message_frame(m) for m in messages.filter(id__gt=after)[:CATCH_UP_LIMIT]]


def active_chat_case(subscriber_id: int) -> int | None:
    """The id of the subscriber's newest active chat case (the one a new chat message joins)."""
    return (
        Case.objects.filter(subscriber_id=subscriber_id, channel=Channel.CHAT, status__in=ACTIVE_STATUSES)
        .order_by("-created_at")
        .values_list("pk", flat=True)
        .first()
    )
