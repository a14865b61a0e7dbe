"""What both live sockets share: JSON frames, error frames, size and flood limits, who is connecting.

Every frame is one JSON object. A frame the server cannot use gets an error
frame back, never silence::

    {"type": "error", "code": "<code>", "message": "<what was wrong and what to send>", ...}

Codes: ``bad_frame`` (not a JSON object / unknown request), ``frame_too_large``,
``flood`` (with ``retry_after`` seconds), ``too_long``, ``invalid``, ``not_found``.
A connection that keeps flooding far past the limit is closed with code 4008.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from beskontakt.accounts.roles import user_can

log = logging.getLogger(__name__)

# Close codes (4000–4999 are the application's): refused login, signed out meanwhile, a flood past all patience.
CLOSE_FORBIDDEN = 4403
CLOSE_SIGNED_OUT = 4401
CLOSE_FLOOD = 4008
# How often a heartbeat re-checks that the socket's session still exists (seconds).
SESSION_CHECK_SECONDS = 60.0
# The largest frame read at all (bytes); the message text limit is lower (see ``inbox.chat``).
MAX_FRAME_BYTES = 32 * 1024
# Any frames (typing, heartbeats, requests) per window; past HARD_LIMIT the socket is closed.
FRAME_LIMIT = 100
HARD_FRAME_LIMIT = 300
WINDOW_SECONDS = 10.0
# The sockets' database work runs on its own threads: Django's sync views all share one
# thread per process, and a chat message must not wait behind a queue of page requests.
DB_THREADS = 4
_executor = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="live-db")

R = TypeVar("R")


def db(func: Callable[..., R]) -> Callable[..., Any]:
    """``func`` as a coroutine function running on the sockets' own database threads.

    Each call closes stale connections before and after (as Channels does), so
    connections go back to the pool.
    """
    return database_sync_to_async(func, thread_sensitive=False, executor=_executor)


class RateWindow:
    """Counts events in a sliding window of ``seconds`` (one per connection and kind)."""

    def __init__(self, limit: int, seconds: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()

    def allow(self) -> bool:
        """Count one event now; ``False`` when the window is already full (the event is not counted)."""
        now = time.monotonic()
        self._trim(now)
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True

    def count(self) -> int:
        """Events in the window now."""
        self._trim(time.monotonic())
        return len(self.times)

    def retry_after(self) -> float:
        """Seconds until the window has room again."""
        if len(self.times) < self.limit:
            return 0.0
        return max(0.0, round(self.times[0] + self.seconds - time.monotonic(), 1))


def verified_staff(scope: dict[str, Any]) -> bool:
    """Whether the socket's session is operator staff who passed the TOTP step (as ``OTPMiddleware`` decides).

    The OTP middleware does not run for WebSockets, so the session's verified
    device is looked up here: it must exist, be confirmed and belong to the user.
    """
    user = scope.get("user")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not getattr(user, "is_operator_staff", False) or not user_can(user, "case.view"):
        return False
    session = scope.get("session")
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(str(persistent_id))
    return device is not None and device.user_id == user.pk and bool(device.confirmed)


def session_alive(scope: dict[str, Any]) -> bool:
    """Whether the session the socket was opened with still exists (it is gone after logging out)."""
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    return bool(key) and bool(session.exists(key))  # type: ignore[union-attr]


def language_of(scope: dict[str, Any]) -> str:
    """The interface language for the socket's texts: the language cookie, the user's, or the default."""
    codes = {code for code, _name in settings.LANGUAGES}
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in codes:
        return str(cookie)
    user_language = getattr(scope.get("user"), "language", None)
    if user_language in codes:
        return str(user_language)
    return str(settings.LANGUAGE_CODE)


class JsonSocket(AsyncWebsocketConsumer):
    """A WebSocket speaking JSON objects, with size and flood limits and error frames.

    Subclasses implement ``handle(frame)`` and may raise :class:`FrameError`.
    """

    language = "ru"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames = RateWindow(FRAME_LIMIT)
        # Frames refused for flooding; when these run past the hard limit too, the socket is closed.
        self.refused = RateWindow(HARD_FRAME_LIMIT - FRAME_LIMIT)
        self.language = language_of({})
        # The session was checked when the socket opened.
        self.session_checked = time.monotonic()

    async def signed_in(self) -> bool:
        """Re-check (at most once a minute) that the session still exists; close the socket when it does not."""
        now = time.monotonic()
        if now - self.session_checked < SESSION_CHECK_SECONDS:
            return True
        self.session_checked = now
        if await db(session_alive)(self.scope):
            return True
        await self.close(code=CLOSE_SIGNED_OUT)
        return False

    async def send_frame(self, frame: dict[str, Any]) -> None:
        """Send one JSON frame."""
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(self, code: str, message: str, **extra: Any) -> None:
        """Send an error frame saying what was wrong and what to send."""
        await self.send_frame({"type": "error", "code": code, "message": message, **extra})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Parse, limit and dispatch one frame from the browser."""
        with translation.override(self.language):
            if not self.frames.allow():
                if not self.refused.allow():
                    await self.close(code=CLOSE_FLOOD)
                    return
                await self.send_error(
                    "flood",
                    _("Too many frames: at most %(n)d in %(s)d seconds. Wait and try again.")
                    % {"n": FRAME_LIMIT, "s": int(WINDOW_SECONDS)},
                    retry_after=self.frames.retry_after(),
                )
                return
            raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
            if len(raw.encode("utf-8")) > MAX_FRAME_BYTES:
                await self.send_error(
                    "frame_too_large",
                    _("The frame is too large: at most %(n)d bytes.") % {"n": MAX_FRAME_BYTES},
                )
                return
            try:
                frame = json.loads(raw)
            except ValueError:
                frame = None
            if not isinstance(frame, dict):
                await self.send_error("bad_frame", _("Send one JSON object per frame."))
                return
            try:
                await self.handle(frame)
            except FrameError as exc:
                await self.send_error(exc.code, exc.message, **exc.extra)

    async def handle(self, frame: dict[str, Any]) -> None:  # pragma: no cover - subclasses implement
        """Act on one parsed frame."""
        raise NotImplementedError


class FrameError(Exception):
    """A frame the server refuses; becomes an error frame with ``code`` and ``message``."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def as_id(value: Any) -> int | None:
    """``value`` as a positive integer id, or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number > 0 else None
    return None
