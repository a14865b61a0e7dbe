"""The CWMP session state machine, independent of HTTP, and the interface the ACS plugs into.

One ``Session`` lives from a CPE's Inform to the ACS's empty (204) answer. The HTTP front
(``server.py``) parses each POST into an ``envelope.Envelope`` and hands it to
``Session.receive()``, which returns a ``Reply`` (status, body, whether the session ended).

The flow (TR-069 Amendment 6, 3.7):

1. The CPE's first message must be ``Inform`` — anything else gets fault 8003 with HTTP 400.
   ``SessionBackend.open()`` decides whether the device may talk (the bootstrap policy for
   unknown devices) and returns a ``SessionHandler`` or a ``Refusal`` (fault 8001, HTTP 403).
   The ACS answers ``InformResponse`` with MaxEnvelopes=1, echoing the CPE's ``cwmp:ID``.
2. The CPE may then send its own requests (TransferComplete, AutonomousTransferComplete,
   GetRPCMethods); each is answered by ``handler.cpe_request()``. Kicked, RequestDownload
   and unknown methods are answered with fault 8000 unless the handler answers them.
3. An empty POST says the CPE has nothing more to ask. From then on the ACS sends its
   requests one per HTTP response (``handler.next_request()``), each with a fresh
   ``cwmp:ID``; the CPE's next POST must carry the matching response (same ID when it
   sends one, and the response type of the request) or a Fault. Matches go to
   ``handler.response()`` / ``handler.fault()``.
4. When ``next_request()`` returns None the ACS answers 204 and the session ends with
   ``handler.close("done")``.

Bad turns end the session with ``close("protocol_error")``: a response that does not
match the request outstanding (recorded in ``Session.mismatches`` and reported to the
handler as fault 8007 on that request), an empty POST while a request is outstanding, a
malformed envelope mid-session. The server expires sessions whose CPE went silent
(``close("vanished")``) or that ran longer than allowed (``close("timeout")``).

HoldRequests: by the standard only the ACS sends it; some CPEs send it too. When a CPE
message carries ``HoldRequests=1`` the session honours it: no ACS request is sent until a
message says ``HoldRequests=0`` (an empty POST while held ends the session).

A handler that raises is a backend problem, not the CPE's: the CPE gets HTTP 503 with
fault 8005 (retry) and the session ends with ``close("protocol_error")``.

Interface for the Django side (and ``memory.MemoryBackend``)::

    class SessionBackend(Protocol):
        async def credentials(self, username: str) -> str | None      # plaintext, for Basic/Digest
        async def open(self, inform, *, username, remote_addr) -> SessionHandler | Refusal
        async def file(self, name: str) -> tuple[bytes | Path, str] | None   # GET /files/<name>
        def overloaded(self) -> bool                                     # True: answer 503

    class SessionHandler(Protocol):
        async def cpe_request(self, message) -> Message   # the response, or a Fault
        async def next_request(self) -> Message | None    # the next ACS request, None: done
        async def response(self, request, message) -> None
        async def fault(self, request, fault) -> None
        async def close(self, reason) -> None             # "done" | "timeout" | "vanished" | "protocol_error"

The ``request`` objects given back to ``response()``/``fault()`` are the very objects
``next_request()`` returned, so a handler can map them to its tasks by identity.
``BaseSessionHandler`` gives sensible defaults for every method.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from beskontakt.cpe.cwmp import faults
from beskontakt.cpe.cwmp import messages as m
from beskontakt.cpe.cwmp.envelope import CwmpError, Envelope, fault_body, render, render_version

log = logging.getLogger("beskontakt.cpe.cwmp")

CloseReason = Literal["done", "timeout", "vanished", "protocol_error"]
FileAnswer = tuple[bytes | Path, str]  # the content (or a file to stream) and its content type


@dataclass(frozen=True, slots=True)
class Refusal:
    """The backend's "no" to an Inform: the fault to send and the HTTP status it goes with."""

    reason: str
    fault_code: int = faults.REQUEST_DENIED
    status: int = 403


@runtime_checkable
class SessionHandler(Protocol):
    """What the ACS does within one session of one device (see the module docstring)."""

    async def cpe_request(self, message: m.Message) -> m.Message:
        """Answer a CPE request (TransferComplete, GetRPCMethods …): its response or a Fault."""
        ...

    async def next_request(self) -> m.Message | None:
        """The next request for the CPE, or None when the ACS has nothing more."""
        ...

    async def response(self, request: m.Message, message: m.Message) -> None:
        """The CPE answered ``request`` with ``message`` (its RESPONSE type)."""
        ...

    async def fault(self, request: m.Message, fault: m.Fault) -> None:
        """``request`` failed: the CPE's fault, or the ACS's own (8007 mismatch, 8003 unwritable)."""
        ...

    async def close(self, reason: CloseReason) -> None:
        """The session is over: "done", "timeout", "vanished" or "protocol_error"."""
        ...


@runtime_checkable
class SessionBackend(Protocol):
    """How the ACS reaches its device registry: credentials, sessions, files, load."""

    async def credentials(self, username: str) -> str | None:
        """The plaintext password of a CPE's ACS account (None: unknown user)."""
        ...

    async def open(self, inform: m.Inform, *, username: str | None, remote_addr: str) -> SessionHandler | Refusal:
        """Start a session for the device in ``inform`` (authenticated as ``username``), or refuse it."""
        ...

    async def file(self, name: str) -> FileAnswer | None:
        """A file the ACS serves for Download (GET /files/<name>), or None."""
        ...

    def overloaded(self) -> bool:
        """True when new sessions should be turned away with 503 (cheap, called per session)."""
        ...


class BaseSessionHandler:
    """Defaults for a ``SessionHandler``: standard CPE requests answered, nothing to send."""

    async def cpe_request(self, message: m.Message) -> m.Message:
        """TransferComplete/AutonomousTransferComplete acknowledged, GetRPCMethods listed, else 8000."""
        if isinstance(message, m.TransferComplete):
            return m.TransferCompleteResponse()
        if isinstance(message, m.AutonomousTransferComplete):
            return m.AutonomousTransferCompleteResponse()
        if isinstance(message, m.GetRPCMethods):
            return m.GetRPCMethodsResponse(methods=list(m.ACS_METHODS))
        return m.Fault(code=faults.METHOD_NOT_SUPPORTED, string=f"{message.method} is not supported")

    async def next_request(self) -> m.Message | None:
        """Nothing to ask."""
        return None

    async def response(self, request: m.Message, message: m.Message) -> None:
        """Ignore the answer."""

    async def fault(self, request: m.Message, fault: m.Fault) -> None:
        """Ignore the fault."""

    async def close(self, reason: CloseReason) -> None:
        """Nothing to clean up."""


@dataclass(slots=True)
class Reply:
    """What to answer one POST with; ``finished``: the session is over after it."""

    status: int
    body: bytes = b""
    finished: bool = False
    retry_after: int | None = None


@dataclass(slots=True)
class Mismatch:
    """A CPE message that did not answer the request outstanding (kept for the record)."""

    expected: str  # method and cwmp:ID expected
    received: str  # method and cwmp:ID received


@dataclass(eq=False)
class Session:
    """One CWMP session: feed it envelopes with ``receive()``, end it with ``expire()``."""

    backend: SessionBackend
    username: str | None = None
    remote_addr: str = ""
    state: Literal["new", "cpe", "acs", "closed"] = "new"
    version: str = "1-0"
    inform: m.Inform | None = None
    handler: SessionHandler | None = None
    outstanding: tuple[str, m.Message] | None = None
    hold: bool = False
    close_reason: CloseReason | None = None
    mismatches: list[Mismatch] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    requests_sent: int = 0
    _id_prefix: str = field(default_factory=lambda: secrets.token_hex(3) + "-")

    @property
    def device_id(self) -> str:
        """``OUI-ProductClass-SerialNumber`` once the Inform arrived (for logs)."""
        return self.inform.device.device_id if self.inform else ""

    @property
    def closed(self) -> bool:
        """Whether the session is over."""
        return self.state == "closed"

    async def receive(self, envelope: Envelope) -> Reply:
        """Handle one POST's envelope (``envelope.message`` None: the empty POST)."""
        self.last_seen = time.monotonic()
        if self.state == "closed":
            return Reply(400, fault_body(faults.INVALID_ARGUMENTS, "session is over", version=self.version), True)
        try:
            if self.state == "new":
                return await self._open(envelope)
            if envelope.hold_requests is not None:
                self.hold = envelope.hold_requests
            message = envelope.message
            if message is None:
                return await self._empty_post()
            if isinstance(message, m.Fault) or (not message.is_request and not _unknown_request(message)):
                return await self._cpe_response(envelope, message)
            return await self._cpe_request(envelope, message)
        except Exception:
            log.exception("CWMP session of %s: the backend failed", self.device_id or "?")
            await self._close("protocol_error")
            return Reply(503, fault_body(faults.RETRY_REQUEST, version=self.version), True, retry_after=30)

    async def receive_error(self, error: CwmpError) -> Reply:
        """A POST of this session that could not be parsed: fault it and end the session."""
        self.last_seen = time.monotonic()
        await self._fail_outstanding(error.fault_code, f"CPE sent an unreadable message: {error.message}")
        await self._close("protocol_error")
        status = 413 if error.fault_code == faults.RESOURCES_EXCEEDED else 400
        return Reply(status, fault_body(error.fault_code, error.message, version=self.version), True)

    async def expire(self, reason: CloseReason) -> None:
        """End the session from outside (the CPE vanished, the session ran too long, shutdown)."""
        await self._fail_outstanding(faults.RETRY_REQUEST, f"session ended ({reason}) before the CPE answered")
        await self._close(reason)

    # --- the steps ---------------------------------------------------------------

    async def _open(self, envelope: Envelope) -> Reply:
        message = envelope.message
        self.version = render_version(envelope.version)
        if not isinstance(message, m.Inform):
            self.state = "closed"
            got = message.method if message is not None else "an empty POST"
            return Reply(
                400,
                fault_body(faults.INVALID_ARGUMENTS, f"a session must start with Inform, not {got}",
                           cwmp_id=envelope.cwmp_id, version=self.version),
                True,
            )  # fmt: skip
        self.inform = message
        if envelope.hold_requests is not None:
            self.hold = envelope.hold_requests
        result = await self.backend.open(message, username=self.username, remote_addr=self.remote_addr)
        if isinstance(result, Refusal):
            self.state = "closed"
            self.close_reason = "done"
            body = fault_body(result.fault_code, result.reason, cwmp_id=envelope.cwmp_id, version=self.version)
            return Reply(result.status, body, True)
        self.handler = result
        self.state = "cpe"
        return Reply(200, render(m.InformResponse(max_envelopes=1), cwmp_id=envelope.cwmp_id, version=self.version))

    async def _cpe_request(self, envelope: Envelope, message: m.Message) -> Reply:
        assert self.handler is not None
        if isinstance(message, m.Inform):
            body = fault_body(faults.INVALID_ARGUMENTS, "Inform was already received in this session",
                              cwmp_id=envelope.cwmp_id, version=self.version)  # fmt: skip
            return Reply(400, body)
        if not message.FROM_CPE:
            fault = m.Fault(code=faults.METHOD_NOT_SUPPORTED, string=f"the ACS does not accept {message.method}")
            return Reply(200, render(fault, cwmp_id=envelope.cwmp_id, version=self.version))
        answer = await self.handler.cpe_request(message)
        if not isinstance(answer, m.Fault) and type(answer) is not message.RESPONSE:
            log.error("handler answered %s with %s", message.method, answer.method)
            answer = m.Fault(code=faults.INTERNAL_ERROR, string="internal error")
        return Reply(200, render(answer, cwmp_id=envelope.cwmp_id, version=self.version))

    async def _empty_post(self) -> Reply:
        if self.outstanding is not None:
            await self._mismatch("an empty POST", None)
            return await self._finish("protocol_error")
        self.state = "acs"
        return await self._send_next()

    async def _cpe_response(self, envelope: Envelope, message: m.Message) -> Reply:
        assert self.handler is not None
        if self.outstanding is None:
            self.mismatches.append(Mismatch("no response (nothing was asked)", _describe(message, envelope.cwmp_id)))
            log.warning("CWMP session of %s: unexpected %s", self.device_id, message.method)
            await self._close("protocol_error")
            body = fault_body(faults.RESPONSE_MISMATCH, f"no request is waiting for {message.method}",
                              cwmp_id=envelope.cwmp_id, version=self.version)  # fmt: skip
            return Reply(400, body, True)
        request_id, request = self.outstanding
        same_id = envelope.cwmp_id is None or envelope.cwmp_id.strip() == request_id
        same_type = isinstance(message, m.Fault) or type(message) is request.RESPONSE
        if not (same_id and same_type):
            await self._mismatch(message.method, envelope.cwmp_id)
            await self._close("protocol_error")
            body = fault_body(faults.RESPONSE_MISMATCH,
                              f"{message.method} does not answer {request.method} (cwmp:ID {request_id})",
                              cwmp_id=envelope.cwmp_id, version=self.version)  # fmt: skip
            return Reply(400, body, True)
        self.outstanding = None
        if isinstance(message, m.Fault):
            await self.handler.fault(request, message)
        else:
            await self.handler.response(request, message)
        return await self._send_next()

    async def _send_next(self) -> Reply:
        assert self.handler is not None
        while not self.hold:
            request = await self.handler.next_request()
            if request is None:
                break
            if not request.is_request or (request.FROM_CPE and not isinstance(request, m.GetRPCMethods)):
                await self.handler.fault(
                    request, m.Fault(faults.INTERNAL_ERROR, f"{request.method} is not an ACS request")
                )
                continue
            self.requests_sent += 1
            request_id = f"{self._id_prefix}{self.requests_sent}"
            try:
                body = render(request, cwmp_id=request_id, version=self.version)
            except CwmpError as exc:
                await self.handler.fault(request, exc.to_fault())
                continue
            self.outstanding = (request_id, request)
            return Reply(200, body)
        return await self._finish("done")

    async def _finish(self, reason: CloseReason) -> Reply:
        await self._close(reason)
        return Reply(204, b"", True)

    async def _mismatch(self, received: str, cwmp_id: str | None) -> None:
        assert self.outstanding is not None
        request_id, request = self.outstanding
        expected = f"{request.RESPONSE.METHOD if request.RESPONSE else '?'} (cwmp:ID {request_id})"
        got = received if cwmp_id is None else f"{received} (cwmp:ID {cwmp_id})"
        self.mismatches.append(Mismatch(expected, got))
        log.warning("CWMP session of %s: expected %s, got %s", self.device_id, expected, got)
        await self._fail_outstanding(faults.RESPONSE_MISMATCH, f"expected {expected}, got {got}")

    async def _fail_outstanding(self, code: int, text: str) -> None:
        if self.outstanding is None or self.handler is None:
            return
        _, request = self.outstanding
        self.outstanding = None
        try:
            await self.handler.fault(request, m.Fault(code=code, string=text))
        except Exception:
            log.exception("CWMP session of %s: handler.fault failed", self.device_id or "?")

    async def _close(self, reason: CloseReason) -> None:
        if self.state == "closed":
            return
        self.state = "closed"
        self.close_reason = reason
        if self.handler is None:
            return
        try:
            await self.handler.close(reason)
        except Exception:
            log.exception("CWMP session of %s: handler.close failed", self.device_id or "?")


def _describe(message: m.Message, cwmp_id: str | None) -> str:
    return message.method if cwmp_id is None else f"{message.method} (cwmp:ID {cwmp_id})"


def _unknown_request(message: m.Message) -> bool:
    return isinstance(message, m.UnknownMessage) and not message.name.endswith("Response")
