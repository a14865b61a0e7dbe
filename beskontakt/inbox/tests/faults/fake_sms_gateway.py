"""A fake HTTP SMS gateway speaking the JSON contract of ``notifiers/sms.py``.

``POST /`` with ``{"to": "+7…", "text": "…", "client_ref": key}`` and an
``Idempotency-Key`` header answers ``201 {"id": "…"}`` for a new key and
``200 {"id": <the first id>}`` for a key it has seen (that SMS is not sent
again). Every request is recorded, so a test can tell how many posts reached
it and which messages a subscriber actually received (``sent``).

``hold_request`` makes the N-th request wait (``held`` is set while it waits),
so a test can kill a worker while a delivery is in flight.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class GatewayRequest:
    """One POST the gateway received."""

    key: str
    to: str
    text: str
    repeated: bool
    at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed worker) is expected here; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeSmsGateway:
    """A threaded HTTP server on loopback that records SMS posts and honours ``Idempotency-Key``."""

    def __init__(self, *, delay: float = 0.03, token: str = "", port: int = 0) -> None:
        self.delay = delay
        self.token = token
        self.requests: list[GatewayRequest] = []
        self.sent: dict[str, str] = {}  # key -> gateway id: the SMS subscribers received
        self.refused = 0
        self.hold_request: int | None = None
        self.hold_seconds = 3.0
        self.held = threading.Event()
        self.held_key = ""
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-sms-gateway", daemon=True)

    @property
    def url(self) -> str:
        """The URL to configure as ``SMS_GATEWAY_URL``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/messages"

    @property
    def duplicates(self) -> int:
        """Posts that repeated a key already sent (suppressed: no second SMS)."""
        with self._lock:
            return sum(1 for r in self.requests if r.repeated)

    def start(self) -> FakeSmsGateway:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def receive(self, key: str, to: str, text: str) -> tuple[str, bool, float]:
        """Record one post; returns (gateway id, whether the key was seen before, seconds to wait)."""
        with self._lock:
            repeated = key in self.sent
            if not repeated:
                self.sent[key] = uuid.uuid4().hex
            self.requests.append(GatewayRequest(key=key, to=to, text=text, repeated=repeated))
            wait = self.delay
            if self.hold_request is not None and len(self.requests) == self.hold_request:
                self.held_key = key
                self.held.set()
                wait = self.hold_seconds
            return self.sent[key], repeated, wait

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read the recorded requests instead."""

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the worker died while waiting
                    pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if gateway.token and self.headers.get("Authorization") != f"Bearer {gateway.token}":
                    gateway.refused += 1
                    self._answer(401, {"error": "bad token"})
                    return
                key = self.headers.get("Idempotency-Key", "")
                try:
                    body = json.loads(raw)
                    to, text = str(body["to"]), str(body["text"])
                except (ValueError, KeyError, TypeError):
                    gateway.refused += 1
                    self._answer(400, {"error": "send JSON with to and text"})
                    return
                if not key or not to.startswith("+") or not text:
                    gateway.refused += 1
                    self._answer(400, {"error": "Idempotency-Key, to (+7…) and text are required"})
                    return
                message_id, repeated, wait = gateway.receive(key, to, text)
                time.sleep(wait)
                self._answer(200 if repeated else 201, {"id": message_id})

        return Handler
