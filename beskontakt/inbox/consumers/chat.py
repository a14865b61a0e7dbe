"""``/ws/chat/``: the subscriber's live chat with the operator.

Only a subscriber's portal login may connect (``User.role == "subscriber"`` and
linked as ``Subscriber.portal_user``). Frames from the page::

    {"send": "<text>", "client_id": "<uuid>"}   a message (resending the same client id is safe)
    {"since": <last message id seen>}           everything after it (after a reconnect)
    {"typing": true}                            the subscriber is typing
    {"ping": 1}                                 keep-alive

Frames to the page::

    {"type": "hello", "subscriber": <id>}
    {"type": "message", "id": ..., "case": ..., "direction": "in"|"out", "mine": bool,
     "author": "<agent first name>", "body": ..., "at": "<ISO time>", "client_id": ...}
    {"type": "ack", "ack": "<client id>", "message": <id>, "duplicate": bool}
    {"type": "typing", "who": "agent", "name": "<agent first name>"}
    {"type": "history", "count": n}        after the history frames of a connect or "since"
    {"type": "error", "code": "flood"|"too_long"|"invalid"|..., "message": ..., "client_id": ...}

New messages (the subscriber's own from another tab, agents' replies) are
pushed when the channel layer says the subscriber's data changed; the event
carries only ids, so the consumer loads the chat messages it has not sent yet,
and only the subscriber's own.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.inbox import chat, realtime

from .base import CLOSE_FORBIDDEN, FrameError, JsonSocket, RateWindow, as_id, db, language_of

# Messages a connection may send per window (the flood limit the subscriber sees).
SEND_LIMIT = 20
SEND_WINDOW = 10.0
TYPING_EVERY = 1.5
# Messages committed slightly out of id order are still picked up within this look-back.
LOOK_BACK = timedelta(seconds=10)
REMEMBERED = 1000


def _portal_subscriber_id(user: Any) -> int | None:
    subscriber = chat.portal_subscriber(user)
    return subscriber.pk if subscriber is not None else None


def _new_frames(subscriber_id: int, after: int, since: Any, skip: set[int]) -> list[dict[str, Any]]:
    """Chat frames with id above ``after`` or created after ``since``, leaving out ids in ``skip``."""
    condition = Q(id__gt=after)
    if since is not None:
        condition |= Q(created_at__gte=since)
    messages = chat.chat_messages(subscriber_id).filter(condition)[: chat.CATCH_UP_LIMIT]
    return [chat.message_frame(m) for m in messages if m.pk not in skip]


def _store(subscriber_id: int, body: str, client_id: str) -> tuple[int, bool]:
    from beskontakt.subscribers.models import Subscriber

    subscriber = Subscriber.objects.get(pk=subscriber_id)
    message, created = chat.send(subscriber, body=body, client_id=client_id)
    return message.pk, created


class ChatConsumer(JsonSocket):
    """The subscriber side: joins ``subscriber.<id>``; stores, acknowledges and pushes chat messages."""

    async def connect(self) -> None:
        """Accept a subscriber's portal login; send the recent chat history."""
        self.user = self.scope.get("user")
        self.subscriber_id: int | None = None
        self.sent_ids: set[int] = set()
        self.sent_order: deque[int] = deque()
        self.last_id = 0
        self.last_at: Any = None
        self.sends = RateWindow(SEND_LIMIT, SEND_WINDOW)
        self.typing_at = 0.0
        self.push_lock = asyncio.Lock()
        self.subscriber_id = await db(_portal_subscriber_id)(self.user)
        if self.subscriber_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.language = language_of(self.scope)
        await self.channel_layer.group_add(realtime.subscriber_group(self.subscriber_id), self.channel_name)
        await self.accept()
        await self.send_frame({"type": "hello", "subscriber": self.subscriber_id})
        frames = await db(chat.history)(self.subscriber_id)
        await self._send_messages(frames, history=True)

    async def disconnect(self, code: int) -> None:
        """Leave the subscriber's group."""
        if self.subscriber_id is not None:
            await self.channel_layer.group_discard(realtime.subscriber_group(self.subscriber_id), self.channel_name)

    async def handle(self, frame: dict[str, Any]) -> None:
        """Dispatch one frame from the chat page."""
        if "send" in frame:
            await self._send(frame)
        elif "since" in frame:
            after = as_id(frame["since"]) if frame["since"] not in (0, "0", None) else 0
            if after is None:
                raise FrameError("invalid", _('Send the id of the last message you have, for example {"since": 42}.'))
            assert self.subscriber_id is not None
            frames = await db(chat.history)(self.subscriber_id, after=after)
            await self._send_messages(frames, history=True, again=True)
        elif "typing" in frame:
            await self._typing()
        elif "ping" in frame or "heartbeat" in frame:
            if await self.signed_in():
                await self.send_frame({"type": "pong"})
        else:
            raise FrameError("bad_frame", _("Unknown request: send a message, since, typing or ping."))

    async def _send(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        try:
            chat.check_client_id(client_id)
            chat.check_body(frame.get("send"))
        except ValidationError as exc:
            code = (
                "too_long"
                if isinstance(frame.get("send"), str) and len(frame["send"]) > chat.MAX_CHAT_CHARS
                else "invalid"
            )
            raise FrameError(code, " ".join(exc.messages), client_id=client_id) from None
        if not self.sends.allow():
            raise FrameError(
                "flood",
                _("Too many messages: at most %(n)d in %(s)d seconds. Wait %(wait)s s; the message was not sent.")
                % {"n": SEND_LIMIT, "s": int(SEND_WINDOW), "wait": self.sends.retry_after()},
                client_id=client_id,
                retry_after=self.sends.retry_after(),
            )
        assert self.subscriber_id is not None
        try:
            message_id, created = await db(_store)(self.subscriber_id, frame["send"], client_id)
        except ValidationError as exc:
            raise FrameError("invalid", " ".join(exc.messages), client_id=client_id) from None
        await self.push_new()
        await self.send_frame({"type": "ack", "ack": client_id, "message": message_id, "duplicate": not created})

    async def _typing(self) -> None:
        now = time.monotonic()
        if now - self.typing_at < TYPING_EVERY:
            return
        self.typing_at = now
        assert self.subscriber_id is not None
        case_id = await db(chat.active_chat_case)(self.subscriber_id)
        if case_id is not None:
            await self.channel_layer.group_send(
                realtime.case_group(case_id), {"type": "chat.typing", "who": "subscriber", "case": case_id}
            )

    async def _send_messages(self, frames: list[dict[str, Any]], *, history: bool = False, again: bool = False) -> None:
        """Send message frames (skipping ones already sent unless ``again``) and remember them."""
        for frame in frames:
            if frame["id"] in self.sent_ids and not again:
                continue
            await self.send_frame(frame)
            self._remember(frame)
        if history:
            await self.send_frame({"type": "history", "count": len(frames)})

    def _remember(self, frame: dict[str, Any]) -> None:
        message_id = frame["id"]
        if message_id not in self.sent_ids:
            self.sent_ids.add(message_id)
            self.sent_order.append(message_id)
            while len(self.sent_order) > REMEMBERED:
                self.sent_ids.discard(self.sent_order.popleft())
        if message_id > self.last_id:
            self.last_id = message_id
            self.last_at = timezone.now() - LOOK_BACK

    async def push_new(self) -> None:
        """Send the chat messages stored since the last one this page got."""
        if self.subscriber_id is None:
            return
        async with self.push_lock:
            frames = await db(_new_frames)(self.subscriber_id, self.last_id, self.last_at, set(self.sent_ids))
            await self._send_messages(frames)

    # --- events from the channel layer -------------------------------------------------

    async def subscriber_changed(self, event: dict[str, Any]) -> None:
        """Something of the subscriber's changed: push new chat messages; pass other changes on."""
        kind = event.get("kind")
        if kind in ("message_in", "message_out", "opened", "merged"):
            await self.push_new()
        if kind not in ("message_in", "message_out"):
            await self.send_frame({"type": "case.changed", "case": event.get("case"), "kind": kind})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        """An agent is typing an answer to this subscriber."""
        if event.get("who") == "agent":
            await self.send_frame({"type": "typing", "who": "agent", "name": event.get("name") or ""})

    async def case_changed(self, event: dict[str, Any]) -> None:
        """Not for the subscriber's chat (it hears ``subscriber.changed``)."""
