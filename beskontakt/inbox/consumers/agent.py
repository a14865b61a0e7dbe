"""``/ws/agent/``: the agent workspace's live connection (queue and case updates, presence, typing).

Only operator staff whose session passed the TOTP step may connect. Frames
from the page::

    {"watch": <case id>}        follow one case (its page is open); access is checked
    {"unwatch": <case id>}
    {"presence": "online"|"away"}   the page became visible/used, or hidden/idle
    {"heartbeat": 1}            every ~25 s; keeps the person online
    {"typing": <case id>}       the agent is typing a reply (relayed to the subscriber's chat)

Frames to the page::

    {"type": "hello", "user": <id>, "presence": "online"}
    {"type": "case.changed", "case": <id>, "kind": "<event kind>"}   a watched case changed (at once)
    {"type": "queue.changed", "cases": [<id>, ...], "count": n}      other cases changed (one frame per 0.2 s)
    {"type": "watching", "case": <id>}
    {"type": "typing", "case": <id>, "who": "subscriber"}
    {"type": "presence", "state": "online"|"away"|"offline"}
    {"type": "error", "code": ..., "message": ...}
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from beskontakt.accounts.models import Presence
from beskontakt.cases.access import access_case
from beskontakt.inbox import presence, realtime

from .base import CLOSE_FORBIDDEN, FrameError, JsonSocket, as_id, db, language_of, verified_staff

# At most this many cases followed by one connection (one per open case page, normally one).
MAX_WATCHED = 20
# A typing notice per case is relayed at most this often (seconds).
TYPING_EVERY = 1.5
# A watched case's change arrives twice (its ``case.<id>`` group and ``queue``): the copy within this is dropped.
REPEAT_WINDOW = 0.5
# Changes of cases the page does not watch are sent as one "queue.changed" frame per this many seconds
# (a mass outage opens thousands of cases a minute; a queue page needs one refresh, not thousands).
BATCH_SECONDS = 0.2
BATCH_IDS = 100


def _case_subscriber(user: Any, case_id: int) -> int | None:
    """The subscriber id of a case the user may see (``Http404`` otherwise)."""
    return access_case(user, case_id).subscriber_id


class AgentConsumer(JsonSocket):
    """The staff side: joins ``queue``, follows watched cases, keeps presence."""

    async def connect(self) -> None:
        """Accept verified staff only; join the queue group and go online."""
        self.user = self.scope.get("user")
        self.watching: dict[int, int | None] = {}
        self.state = Presence.ONLINE
        self.typing_sent: dict[int, float] = {}
        self.recent: dict[tuple[Any, Any], float] = {}
        self.batch: set[int] = set()
        self.flush_task: asyncio.Task[None] | None = None
        self.joined = False
        if not await db(verified_staff)(self.scope):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.language = language_of(self.scope)
        await self.channel_layer.group_add(realtime.QUEUE_GROUP, self.channel_name)
        self.joined = True
        await self.accept()
        state = await db(presence.touch)(self.user.pk, self.channel_name, Presence.ONLINE)
        await self.send_frame({"type": "hello", "user": self.user.pk, "presence": state})

    async def disconnect(self, code: int) -> None:
        """Leave every group; the person goes offline unless another tab is still connected."""
        if not self.joined:
            return
        if self.flush_task is not None:
            self.flush_task.cancel()
        await self.channel_layer.group_discard(realtime.QUEUE_GROUP, self.channel_name)
        for case_id in list(self.watching):
            await self.channel_layer.group_discard(realtime.case_group(case_id), self.channel_name)
        await db(presence.leave)(self.user.pk, self.channel_name)

    async def handle(self, frame: dict[str, Any]) -> None:
        """Dispatch one frame from the workspace page."""
        if "watch" in frame:
            await self._watch(frame["watch"])
        elif "unwatch" in frame:
            await self._unwatch(frame["unwatch"])
        elif "presence" in frame:
            await self._presence(frame["presence"])
        elif "heartbeat" in frame or "ping" in frame:
            if not await self.signed_in():
                return
            state = await db(presence.touch)(self.user.pk, self.channel_name, self.state)
            await self.send_frame({"type": "heartbeat", "presence": state})
        elif "typing" in frame:
            await self._typing(frame["typing"])
        else:
            raise FrameError("bad_frame", _("Unknown request: send watch, unwatch, presence, heartbeat or typing."))

    async def _watch(self, value: Any) -> None:
        case_id = as_id(value)
        if case_id is None:
            raise FrameError("invalid", _('Send the case number to watch, for example {"watch": 123}.'))
        if case_id in self.watching:
            await self.send_frame({"type": "watching", "case": case_id})
            return
        if len(self.watching) >= MAX_WATCHED:
            raise FrameError(
                "invalid", _("You follow too many cases on this page: at most %(n)d.") % {"n": MAX_WATCHED}
            )
        try:
            subscriber_id = await db(_case_subscriber)(self.user, case_id)
        except Http404:
            raise FrameError(
                "not_found", _("There is no case #%(n)s you can see.") % {"n": case_id}, case=case_id
            ) from None
        self.watching[case_id] = subscriber_id
        await self.channel_layer.group_add(realtime.case_group(case_id), self.channel_name)
        await self.send_frame({"type": "watching", "case": case_id})

    async def _unwatch(self, value: Any) -> None:
        case_id = as_id(value)
        if case_id is not None and case_id in self.watching:
            del self.watching[case_id]
            await self.channel_layer.group_discard(realtime.case_group(case_id), self.channel_name)
        await self.send_frame({"type": "unwatched", "case": case_id})

    async def _presence(self, value: Any) -> None:
        if value not in (Presence.ONLINE, Presence.AWAY):
            raise FrameError("invalid", _('Presence must be "online" or "away".'))
        self.state = Presence(value)
        state = await db(presence.touch)(self.user.pk, self.channel_name, self.state)
        await self.send_frame({"type": "presence", "state": state})

    async def _typing(self, value: Any) -> None:
        case_id = as_id(value)
        if case_id is None:
            raise FrameError("invalid", _('Send the case number you are typing on, for example {"typing": 123}.'))
        if case_id not in self.watching:
            try:
                self.watching[case_id] = await db(_case_subscriber)(self.user, case_id)
            except Http404:
                raise FrameError(
                    "not_found", _("There is no case #%(n)s you can see.") % {"n": case_id}, case=case_id
                ) from None
            await self.channel_layer.group_add(realtime.case_group(case_id), self.channel_name)
        subscriber_id = self.watching[case_id]
        now = time.monotonic()
        if subscriber_id is None or now - self.typing_sent.get(case_id, 0.0) < TYPING_EVERY:
            return
        self.typing_sent[case_id] = now
        await self.channel_layer.group_send(
            realtime.subscriber_group(subscriber_id),
            {"type": "chat.typing", "who": "agent", "case": case_id, "name": self.user.first_name or ""},
        )

    # --- events from the channel layer -------------------------------------------------

    async def case_changed(self, event: dict[str, Any]) -> None:
        """A case changed: tell the page (queue tables refresh, an open case page reloads its parts)."""
        case_id = event.get("case")
        key = (case_id, event.get("kind"))
        now = time.monotonic()
        if case_id not in self.watching:
            if isinstance(case_id, int):
                self.batch.add(case_id)
            if self.flush_task is None:
                self.flush_task = asyncio.get_running_loop().create_task(self._flush())
            return
        if now - self.recent.get(key, -REPEAT_WINDOW) < REPEAT_WINDOW:
            self.recent.pop(key, None)
            return
        self.recent[key] = now
        if len(self.recent) > 200:
            self.recent = {k: t for k, t in self.recent.items() if now - t < REPEAT_WINDOW}
        await self.send_frame({"type": "case.changed", "case": case_id, "kind": event.get("kind")})

    async def _flush(self) -> None:
        """Send the changes of unwatched cases collected over the last moment as one frame."""
        await asyncio.sleep(BATCH_SECONDS)
        cases, self.batch = sorted(self.batch), set()
        self.flush_task = None
        await self.send_frame({"type": "queue.changed", "cases": cases[:BATCH_IDS], "count": len(cases)})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        """The subscriber is typing in the chat of a watched case."""
        if event.get("who") == "subscriber":
            await self.send_frame({"type": "typing", "case": event.get("case"), "who": "subscriber"})

    async def subscriber_changed(self, event: dict[str, Any]) -> None:
        """Not for staff pages (they hear of the same change as ``case.changed``)."""
