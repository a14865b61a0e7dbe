"""A tiny scripted ACS for exercising the simulator without the real one (tests, smoke runs).

It speaks just enough CWMP: InformResponse, TransferCompleteResponse, then the RPCs queued
for the device (one per HTTP response, raw XML bodies) and 204. It records what the
devices sent, can demand Basic or Digest authentication (checked here with ``hashlib``,
independently of the simulator's own Digest code), answer 503 with Retry-After the first
``busy`` times, and serves files (``/files/<name>``) and speed-test bodies (``/bytes/<n>``).
The real ACS (``beskontakt.cpe.cwmp``) is tested against the simulator separately.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web
from lxml import etree

CWMP = "urn:dslforum-org:cwmp-1-0"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _find(node: etree._Element, *names: str) -> etree._Element | None:
    current: etree._Element | None = node
    for name in names:
        if current is None:
            return None
        current = next((c for c in current if _local(c.tag) == name), None)
    return current


def _children(node: etree._Element | None) -> list[etree._Element]:
    return [] if node is None else list(node)


@dataclass
class Inform:
    """One Inform as received."""

    serial: str
    events: list[tuple[str, str]]
    parameters: dict[str, str]
    retry_count: int


@dataclass
class Received:
    """A device's answer to one queued RPC (``method`` is the local name, e.g. GetParameterValuesResponse)."""

    serial: str
    method: str
    element: etree._Element

    def values(self) -> dict[str, str]:
        """Name → value of a ParameterList (GetParameterValuesResponse)."""
        found: dict[str, str] = {}
        for struct in _children(_find(self.element, "ParameterList")):
            name, value = _find(struct, "Name"), _find(struct, "Value")
            if name is not None:
                found[(name.text or "").strip()] = (value.text or "") if value is not None else ""
        return found

    def field(self, *names: str) -> str:
        """Text of a nested child (e.g. ``("FaultCode",)``)."""
        node = _find(self.element, *names)
        return "" if node is None or node.text is None else node.text.strip()


@dataclass
class ScriptedAcs:
    """Serve on 127.0.0.1 (port 0 by default); queue RPCs with ``queue(serial, xml)``."""

    auth: str = "none"  # "none", "basic" or "digest"
    password: str | None = None  # None: any password for a known pattern; else this one for everyone
    busy: int = 0  # answer the first N Informs with 503
    retry_after: int = 1
    realm: str = "Scripted ACS"
    informs: list[Inform] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    transfers: list[Received] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    refused: int = 0
    ended: int = 0  # sessions closed with 204

    def __post_init__(self) -> None:
        self._queues: dict[str, list[str]] = defaultdict(list)
        self._sessions: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._nonce = os.urandom(8).hex()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The ACS URL to give devices."""
        return f"http://127.0.0.1:{self.port}/acs"

    def queue(self, serial: str, body: str) -> None:
        """Queue one RPC body (``<cwmp:Reboot>…</cwmp:Reboot>``) for the device's next session."""
        self._queues[serial].append(body)

    def of(self, serial: str, method: str) -> list[Received]:
        """The device's answers of one kind."""
        return [r for r in self.received if r.serial == serial and r.method == method]

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.auth == "none":
            return True
        if self.auth == "basic":
            if not header.startswith("Basic "):
                return False
            _user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return self.password is None or password == self.password
        if not header.startswith("Digest "):
            return False
        params = {
            k.strip().lower(): v.strip().strip('"')
            for k, _, v in (item.partition("=") for item in header[7:].split(","))
        }
        if params.get("nonce") != self._nonce:
            return False
        if self.password is None:  # any device's own password
            return True
        ha1 = hashlib.md5(f"{params['username']}:{self.realm}:{self.password}".encode()).hexdigest()  # noqa: S324
        ha2 = hashlib.md5(f"POST:{params['uri']}".encode()).hexdigest()  # noqa: S324
        expected = hashlib.md5(  # noqa: S324
            f"{ha1}:{self._nonce}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}".encode()
        ).hexdigest()
        return expected == params.get("response")

    def _challenge(self) -> web.Response:
        self.refused += 1
        value = (
            f'Basic realm="{self.realm}"'
            if self.auth == "basic"
            else f'Digest realm="{self.realm}", qop="auth", nonce="{self._nonce}", algorithm=MD5'
        )
        return web.Response(status=401, headers={"WWW-Authenticate": value})

    def _envelope(self, body: str, cwmp_id: str) -> web.Response:
        text = (
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:cwmp="{CWMP}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">'
            f'<soapenv:Header><cwmp:ID soapenv:mustUnderstand="1">{cwmp_id}</cwmp:ID></soapenv:Header>'
            f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
        )
        return web.Response(body=text.encode(), content_type="text/xml", charset="utf-8")

    async def _post(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._challenge()
        content = await request.read()
        cookie = request.cookies.get("acs_session", "")
        if content.strip():
            root = etree.fromstring(content, _PARSER)
            body = _find(root, "Body")
            message = body[0] if body is not None and len(body) else None
            method = _local(message.tag) if message is not None else ""
            header_id = _find(root, "Header", "ID")
            cwmp_id = header_id.text if header_id is not None and header_id.text else "0"
            if method == "Inform" and message is not None:
                if self.busy > 0:
                    self.busy -= 1
                    return web.Response(status=503, headers={"Retry-After": str(self.retry_after)})
                serial = _find(message, "DeviceId", "SerialNumber")
                serial_text = serial.text if serial is not None and serial.text else ""
                events = [
                    (_find(s, "EventCode").text or "", _find(s, "CommandKey").text or "")  # type: ignore[union-attr]
                    for s in _children(_find(message, "Event"))
                ]
                parameters = {
                    (_find(s, "Name").text or ""): (_find(s, "Value").text or "")  # type: ignore[union-attr]
                    for s in _children(_find(message, "ParameterList"))
                }
                retry = _find(message, "RetryCount")
                self.informs.append(
                    Inform(serial_text, events, parameters, int(retry.text or 0) if retry is not None else 0)
                )
                token = os.urandom(8).hex()
                self._sessions[token] = serial_text
                response = self._envelope(
                    "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>", cwmp_id
                )
                response.set_cookie("acs_session", token)
                return response
            serial_text = self._sessions.get(cookie, "")
            if not serial_text:
                return web.Response(status=400, text="no session cookie")
            if method == "TransferComplete" and message is not None:
                self.transfers.append(Received(serial_text, method, message))
                return self._envelope("<cwmp:TransferCompleteResponse/>", cwmp_id)
            if message is not None:
                if method == "Fault":
                    detail = _find(message, "detail", "Fault")
                    message = detail if detail is not None else message
                self.received.append(Received(serial_text, method, message))
        else:
            serial_text = self._sessions.get(cookie, "")
            if not serial_text:
                return web.Response(status=400, text="no session cookie")
        queued = self._queues.get(serial_text)
        if queued:
            return self._envelope(queued.pop(0), f"acs-{next(self._ids)}")
        self._sessions.pop(cookie, None)
        self.ended += 1
        return web.Response(status=204)

    async def _file(self, request: web.Request) -> web.Response:
        content = self.files.get(request.match_info["name"])
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    async def _bytes(self, request: web.Request) -> web.Response:
        return web.Response(body=b"x" * min(int(request.match_info["n"]), 50_000_000))

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/acs", self._post)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/bytes/{n:\\d+}", self._bytes)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
