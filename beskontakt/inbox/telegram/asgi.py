"""A lean ASGI door for the Telegram webhook, in front of Django.

Telegram can push hundreds of updates a second during a mass outage. Django's
request path (the whole middleware stack, some of it synchronous) costs more
than storing an update, so :func:`with_webhook` wraps the project's ASGI
application and answers ``WEBHOOK_PATH`` itself with the same checks and the
same store as the Django view (:func:`.views.accept`); every other request
goes to Django unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .views import SECRET_HEADER, accept

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

WEBHOOK_PATH = "/inbox/telegram/webhook/"
_HEADER = SECRET_HEADER.lower().encode()


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if status == 405:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def webhook_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The webhook as a bare ASGI application (HTTP only)."""
    limit: int = settings.MAX_REQUEST_BYTES
    secret = ""
    for name, value in scope.get("headers", []):
        if name == _HEADER:
            secret = value.decode("latin-1")
        elif name == b"content-length" and value.isdigit() and int(value) > limit:
            detail = _("The request is too large: at most %(mb)d MB may be sent at once.") % {
                "mb": limit // (1024 * 1024)
            }
            await _answer(send, 413, {"ok": False, "detail": detail})
            return
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _answer(send, 413, {"ok": False, "detail": _("The request is too large.")})
            return
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    status, body = await accept(scope.get("method", ""), secret, b"".join(chunks))
    await _answer(send, status, body)


def with_webhook(application: Any, path: str = WEBHOOK_PATH) -> App:
    """``application`` with the webhook path answered by :func:`webhook_app`."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == path:
            await webhook_app(scope, receive, send)
        else:
            await application(scope, receive, send)

    return app
