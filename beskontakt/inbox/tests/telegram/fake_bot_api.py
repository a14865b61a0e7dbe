"""A local Telegram Bot API server for tests and benchmarks: the only fake in the Telegram tests.

It speaks the Bot API's wire format (``POST /bot<token>/<method>`` with
form-encoded or multipart parameters, ``{"ok": true, "result": …}`` answers,
``{"ok": false, "error_code": …, "description": …}`` errors, file downloads
at ``/file/bot<token>/<path>``), so the unmodified aiogram client can be
pointed at it with ``TelegramAPIServer.from_base``. It records every call,
serves files registered with :meth:`FakeBotApi.add_file`, hands out queued
updates to ``getUpdates`` (honouring ``offset``) and can be told to fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Beskontakt", "username": "beskontakt_test_bot"}


@dataclass
class Call:
    """One Bot API request the server received."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    """An error to answer the next calls of a method with."""

    status: int
    description: str
    retry_after: int | None = None
    times: int = 1


class FakeBotApi:
    """The server; start it, point ``TELEGRAM_API_URL`` at :attr:`url`, read :attr:`calls`."""

    def __init__(self, token: str, port: int | None = None, delay: float = 0.0) -> None:
        self.token = token
        # 0: the system picks a free port when serving starts (parallel test workers never collide).
        self.port = port or 0
        self.delay = delay
        self.calls: list[Call] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self.updates: list[dict[str, Any]] = []
        self.blocked: set[int] = set()
        self.failures: dict[str, list[Failure]] = {}
        self.webhook_url = ""
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-bot-api", daemon=True)

    @property
    def url(self) -> str:
        """The base URL for ``TELEGRAM_API_URL``."""
        return f"http://127.0.0.1:{self.port}"

    # --- test controls -------------------------------------------------------------------

    def add_file(self, data: bytes, file_id: str | None = None, path: str | None = None) -> str:
        """Make ``data`` downloadable; returns its ``file_id``."""
        file_id = file_id or f"file-{next(self._ids)}"
        self.files[file_id] = (path or f"photos/{file_id}.jpg", data)
        return file_id

    def fail(self, method: str, status: int, description: str, retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        self.failures.setdefault(method, []).append(Failure(status, description, retry_after, times))

    def calls_of(self, method: str) -> list[Call]:
        """Recorded calls of one method."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int) -> list[str]:
        """Texts (and captions) the bot sent to a chat, in order."""
        out = []
        for call in self.calls_of("sendMessage") + self.calls_of("sendPhoto") + self.calls_of("sendDocument"):
            if str(call.params.get("chat_id")) == str(chat_id):
                out.append((call.at, str(call.params.get("text") or call.params.get("caption") or "")))
        return [text for _, text in sorted(out)]

    def clear(self) -> None:
        """Forget recorded calls."""
        with self._lock:
            self.calls.clear()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        """Serve in a background thread until :meth:`stop`."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake Bot API did not start")
        return self

    def stop(self) -> None:
        """Stop serving."""
        loop = self._loop
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        loop.run_until_complete(site.start())
        if not self.port:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- the Bot API ---------------------------------------------------------------------------

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params = dict(await request.json())
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                else:
                    params[key] = value
        params.update(request.query)
        # aiogram sends {"photo": "attach://<name>"} with the bytes under <name>.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                files[key] = files[value[9:]]
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params, files

    def _message(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": BOT_USER,
            **content,
        }

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._read(request)
        with self._lock:
            self.calls.append(Call(method, params, files))
            queued = self.failures.get(method) or []
            failure = queued[0] if queued else None
            if failure is not None:
                failure.times -= 1
                if failure.times <= 0:
                    queued.pop(0)
        if self.delay:
            await asyncio.sleep(self.delay)
        if failure is not None:
            return self._error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        result: web.Response = await handler(params, files)
        return result

    def _chat_error(self, chat_id: Any) -> web.Response | None:
        try:
            number = int(chat_id)
        except (TypeError, ValueError):
            return self._error(400, "Bad Request: chat not found")
        if number in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        return None

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        return self._ok(BOT_USER)

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        error = self._chat_error(params.get("chat_id"))
        if error is not None:
            return error
        if not str(params.get("text") or "").strip():
            return self._error(400, "Bad Request: message text is empty")
        return self._ok(self._message(params["chat_id"], text=params["text"]))

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        error = self._chat_error(params.get("chat_id"))
        if error is not None:
            return error
        data = files.get("photo", b"")
        file_id = self.add_file(data)
        photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 640, "height": 480, "file_size": len(data)}]
        extra = {"caption": params["caption"]} if params.get("caption") else {}
        return self._ok(self._message(params["chat_id"], photo=photo, **extra))

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        error = self._chat_error(params.get("chat_id"))
        if error is not None:
            return error
        data = files.get("document", b"")
        file_id = self.add_file(data)
        document = {"file_id": file_id, "file_unique_id": file_id, "file_size": len(data)}
        return self._ok(self._message(params["chat_id"], document=document))

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            return self._error(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        return self._ok({"file_id": file_id, "file_unique_id": file_id, "file_size": len(data), "file_path": path})

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        with self._lock:
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            result = self.updates[:limit]
        return self._ok(result)

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        self.webhook_url = ""
        return self._ok(True)

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        self.webhook_url = str(params.get("url", ""))
        return self._ok(True)

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored_path, data in self.files.values():
            if stored_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)


def message_update(
    update_id: int,
    chat_id: int,
    *,
    text: str | None = None,
    message_id: int | None = None,
    date: int | None = None,
    language_code: str = "ru",
    first_name: str = "Мария",
    photo_file_id: str | None = None,
    photo_size: int | None = None,
    document: dict[str, Any] | None = None,
    caption: str | None = None,
    sticker: bool = False,
) -> dict[str, Any]:
    """A Bot API update with a private-chat message, as Telegram sends it."""
    user = {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": language_code}
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else update_id,
        "date": date if date is not None else int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        "from": user,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if photo_file_id is not None:
        size = photo_size or 1000
        message["photo"] = [
            {"file_id": f"{photo_file_id}-small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 100},
            {"file_id": photo_file_id, "file_unique_id": "b", "width": 1280, "height": 960, "file_size": size},
        ]
    if document is not None:
        message["document"] = document
    if caption is not None:
        message["caption"] = caption
    if sticker:
        message["sticker"] = {
            "file_id": "sticker-1",
            "file_unique_id": "st",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    return {"update_id": update_id, "message": message}
