"""The ACS's HTTP front: a plain ASGI application (``AcsApp``) around ``session.Session``.

* ``POST`` (any path but ``/files/…``) carries CWMP; other methods get 405. SOAPAction is
  ignored; answers are ``text/xml; charset="utf-8"``, or 204 when the session ends.
* A session is found by the cookie the ACS sets on the InformResponse, or — for CPEs that
  drop cookies — by the TCP connection it started on. An Inform always opens a new
  session (a CPE that lost the previous one starts over; the old one ends "vanished").
* The request that opens a session must authenticate (``auth``: ``"digest"``, ``"basic"``,
  ``"any"`` of the two, or ``"none"``); a 401 carries the challenge (``stale=true`` for an
  expired nonce). Later requests of the session ride on its cookie/connection.
* Limits: bodies over ``max_body_bytes`` get 413 with fault 8004; unreadable XML, XXE and
  entity tricks 400 with fault 8003; with ``max_sessions`` open sessions, or when the
  backend's ``overloaded()`` says so, new sessions get 503 with ``Retry-After`` and fault
  8005. A session idle longer than ``session_timeout`` is expired by a background sweep
  (``close("vanished")``); one older than ``max_session_seconds`` ends with "timeout".
* ``GET``/``HEAD /files/<name>`` serves what ``backend.file(name)`` gives (for Download).
* ASGI lifespan starts and stops the sweep; without lifespan it starts on the first request.

Nothing here imports Django: ``beskontakt acs`` wraps it with the Django backend, tests
and benchmarks with ``memory.MemoryBackend``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beskontakt.cpe.cwmp import faults
from beskontakt.cpe.cwmp.auth import Authenticator, Scheme
from beskontakt.cpe.cwmp.envelope import CwmpError, Envelope, fault_body, parse
from beskontakt.cpe.cwmp.messages import Inform
from beskontakt.cpe.cwmp.session import Reply, Session, SessionBackend

log = logging.getLogger("beskontakt.cpe.cwmp")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

XML_TYPE = b'text/xml; charset="utf-8"'
FILE_CHUNK = 256 * 1024


@dataclass(eq=False)
class _Slot:
    """An open session with its lock, cookie and connection."""

    key: str
    session: Session
    connection: tuple[str, int] | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class AcsApp:
    """The ACS as an ASGI application (see the module docstring)."""

    def __init__(
        self,
        backend: SessionBackend,
        *,
        auth: Scheme = "digest",
        realm: str = "beskontakt-acs",
        secret: bytes | str | None = None,
        max_body_bytes: int = 256_000,
        max_sessions: int = 20_000,
        session_timeout: float = 30.0,
        max_session_seconds: float = 600.0,
        retry_after: int = 30,
        nonce_ttl: float = 300.0,
        digest_algorithms: tuple[str, ...] = ("MD5", "SHA-256"),
        cookie_name: str = "bk_cwmp",
        track_connections: bool = True,
        sweep_interval: float | None = None,
    ) -> None:
        self.backend = backend
        self.authenticator = Authenticator(
            auth, realm, secret or secrets.token_bytes(32), nonce_ttl=nonce_ttl, algorithms=digest_algorithms
        )
        self.max_body_bytes = max_body_bytes
        self.max_sessions = max_sessions
        self.session_timeout = session_timeout
        self.max_session_seconds = max_session_seconds
        self.retry_after = retry_after
        self.cookie_name = cookie_name
        self._cookie_prefix = cookie_name.encode() + b"="
        self.track_connections = track_connections
        self.sweep_interval = sweep_interval or max(0.05, min(1.0, session_timeout / 4))
        self.sessions: dict[str, _Slot] = {}
        self.connections: dict[tuple[str, int], str] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self.stats: dict[str, int] = {
            "sessions": 0,
            "unauthorized": 0,
            "overloaded": 0,
            "bad_requests": 0,
            "vanished": 0,
            "timeouts": 0,
        }

    # --- ASGI entry -----------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point: lifespan and HTTP."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if self._sweeper is None:
            self.start()
        method = scope["method"]
        path: str = scope["path"]
        try:
            if path.startswith("/files/") and method in ("GET", "HEAD"):
                await self._serve_file(path[len("/files/") :], method == "HEAD", send)
            elif method == "POST":
                await self._cwmp(scope, receive, send)
            else:
                await _respond(send, 405, b"", [(b"allow", b"POST")])
        except Exception:
            log.exception("ACS request failed")
            with contextlib.suppress(Exception):
                await self._reply(send, Reply(503, fault_body(faults.INTERNAL_ERROR), True, self.retry_after))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> None:
        """Start the sweep of idle sessions (idempotent)."""
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        """Stop the sweep, end every open session ("timeout") and close the backend if it can be."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        for slot in list(self.sessions.values()):
            self._forget(slot)
            await slot.session.expire("timeout")
        close = getattr(self.backend, "close", None)  # optional: a backend with resources to release
        if close is not None:
            await close()

    # --- CWMP over POST ---------------------------------------------------------

    async def _cwmp(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        declared = _header(headers, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            body = None
        else:
            body = await _read_body(receive, self.max_body_bytes)
        client = scope.get("client")
        connection = (client[0], client[1]) if client and self.track_connections else None
        slot = self._find(headers, connection)
        if body is None:
            self.stats["bad_requests"] += 1
            too_big = CwmpError(faults.RESOURCES_EXCEEDED, f"envelope larger than {self.max_body_bytes} bytes")
            if slot is not None:
                await self._run(slot, send, None, too_big)
            else:
                await self._reply(send, Reply(413, fault_body(too_big.fault_code, too_big.message), True))
            return
        if slot is not None:
            error = None
            try:
                envelope: Envelope | None = parse(body, max_bytes=self.max_body_bytes)
            except CwmpError as exc:
                envelope, error = None, exc
            if envelope is not None and isinstance(envelope.message, Inform):
                if envelope.message.device.device_id == slot.session.device_id:
                    self._forget(slot)  # the CPE starts over: its old session is gone
                    await slot.session.expire("vanished")
                    self.stats["vanished"] += 1
                else:
                    # Another CPE on a pooled connection (a proxy, a NAT): the session that
                    # connection carried lives on under its cookie; this Inform opens its own.
                    self._unlink(slot)
            else:
                await self._run(slot, send, envelope, error)
                return
        await self._open(scope, send, body, connection)

    async def _open(self, scope: Scope, send: Send, body: bytes, connection: tuple[str, int] | None) -> None:
        if len(self.sessions) >= self.max_sessions or self.backend.overloaded():
            self.stats["overloaded"] += 1
            await self._reply(
                send, Reply(503, fault_body(faults.RETRY_REQUEST, "ACS overloaded"), True, self.retry_after)
            )
            return
        username = None
        if self.authenticator.required:
            authorization = _header(scope["headers"], b"authorization")
            result = await self.authenticator.verify(scope["method"], authorization, self.backend.credentials)
            if not result.ok:
                self.stats["unauthorized"] += 1
                if authorization:
                    log.info("CPE authentication failed from %s: %s", _addr(scope), result.reason)
                challenge = [
                    (b"www-authenticate", value.encode()) for value in self.authenticator.challenge(stale=result.stale)
                ]
                await _respond(send, 401, b"", challenge)
                return
            username = result.username
        try:
            envelope = parse(body, max_bytes=self.max_body_bytes)
        except CwmpError as exc:
            self.stats["bad_requests"] += 1
            status = 413 if exc.fault_code == faults.RESOURCES_EXCEEDED else 400
            await self._reply(send, Reply(status, fault_body(exc.fault_code, exc.message), True))
            return
        session = Session(self.backend, username=username, remote_addr=_addr(scope))
        reply = await session.receive(envelope)
        if reply.finished:
            await self._reply(send, reply)
            return
        key = secrets.token_urlsafe(18)
        slot = _Slot(key, session, connection)
        self.sessions[key] = slot
        if connection is not None:
            self.connections[connection] = key
        self.stats["sessions"] += 1
        cookie = f"{self.cookie_name}={key}; Path=/; HttpOnly".encode()
        await self._reply(send, reply, [(b"set-cookie", cookie)])

    async def _run(self, slot: _Slot, send: Send, envelope: Envelope | None, error: CwmpError | None) -> None:
        async with slot.lock:
            if slot.session.closed:
                reply = Reply(400, fault_body(faults.INVALID_ARGUMENTS, "session is over"), True)
            elif error is not None or envelope is None:
                assert error is not None
                self.stats["bad_requests"] += 1
                reply = await slot.session.receive_error(error)
            else:
                reply = await slot.session.receive(envelope)
            extra: list[tuple[bytes, bytes]] = []
            if reply.finished:
                self._forget(slot)
                extra.append((b"set-cookie", f"{self.cookie_name}=; Path=/; Max-Age=0".encode()))
            await self._reply(send, reply, extra)

    def _find(self, headers: list[tuple[bytes, bytes]], connection: tuple[str, int] | None) -> _Slot | None:
        cookies = _header_bytes(headers, b"cookie")
        if cookies is not None:
            for part in cookies.split(b";"):
                part = part.strip()
                if part.startswith(self._cookie_prefix):
                    slot = self.sessions.get(part[len(self._cookie_prefix) :].decode("latin-1"))
                    if slot is not None:
                        if connection is not None and slot.connection != connection:
                            self._move(slot, connection)
                        return slot
                    # A session this process does not hold (ended, expired, or another ACS
                    # process's): never guess it from the connection, which may carry another CPE.
                    return None
        if connection is not None:
            key = self.connections.get(connection)
            if key is not None:
                return self.sessions.get(key)
        return None

    def _move(self, slot: _Slot, connection: tuple[str, int]) -> None:
        if slot.connection is not None and self.connections.get(slot.connection) == slot.key:
            del self.connections[slot.connection]
        slot.connection = connection
        self.connections[connection] = slot.key

    def _unlink(self, slot: _Slot) -> None:
        if slot.connection is not None and self.connections.get(slot.connection) == slot.key:
            del self.connections[slot.connection]
        slot.connection = None

    def _forget(self, slot: _Slot) -> None:
        self.sessions.pop(slot.key, None)
        if slot.connection is not None and self.connections.get(slot.connection) == slot.key:
            del self.connections[slot.connection]

    async def _reply(self, send: Send, reply: Reply, extra: list[tuple[bytes, bytes]] | None = None) -> None:
        headers = list(extra or [])
        if reply.retry_after is not None:
            headers.append((b"retry-after", str(reply.retry_after).encode()))
        if reply.status == 204 or not reply.body:
            await _respond(send, reply.status, b"", headers)
            return
        headers.append((b"content-type", XML_TYPE))
        await _respond(send, reply.status, reply.body, headers)

    # --- sweeping ---------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("ACS session sweep failed")

    async def sweep(self) -> int:
        """Expire idle and overlong sessions now; returns how many ended."""
        now = time.monotonic()
        idle_limit = now - self.session_timeout
        age_limit = now - self.max_session_seconds
        ended = []
        for slot in list(self.sessions.values()):
            if slot.lock.locked():
                continue  # a request of this session is being answered
            if slot.session.last_seen < idle_limit:
                ended.append((slot, "vanished"))
            elif slot.session.started < age_limit:
                ended.append((slot, "timeout"))
        for slot, reason in ended:
            self._forget(slot)
            self.stats["vanished" if reason == "vanished" else "timeouts"] += 1
            log.info("CWMP session of %s ended: %s", slot.session.device_id or "?", reason)
            await slot.session.expire(reason)  # type: ignore[arg-type]
        return len(ended)

    # --- files --------------------------------------------------------------------

    async def _serve_file(self, name: str, head: bool, send: Send) -> None:
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
            await _respond(send, 404, b"")
            return
        found = await self.backend.file(name)
        if found is None:
            await _respond(send, 404, b"")
            return
        content, content_type = found
        type_header = (b"content-type", content_type.encode("latin-1"))
        if isinstance(content, bytes | bytearray):
            data = bytes(content)
            await _respond(send, 200, b"" if head else data, [type_header], length=len(data))
            return
        path = Path(content)
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except OSError:
            await _respond(send, 404, b"")
            return
        await send(
            {"type": "http.response.start", "status": 200,
             "headers": [type_header, (b"content-length", str(size).encode())]}
        )  # fmt: skip
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        handle = await asyncio.to_thread(path.open, "rb")
        try:
            while True:
                chunk = await asyncio.to_thread(handle.read, FILE_CHUNK)
                more = len(chunk) == FILE_CHUNK
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more:
                    break
        finally:
            handle.close()


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None as soon as it grows over ``limit``."""
    chunks = []
    size = 0
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            break
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not event.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None, *, length: int | None = None
) -> None:
    all_headers = list(headers or [])
    if status != 204:
        all_headers.append((b"content-length", str(len(body) if length is None else length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


def _header_bytes(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    value = _header_bytes(headers, name)
    return None if value is None else value.decode("latin-1")


def _addr(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""
