"""The Telegram webhook: Telegram POSTs each update here (``setWebhook`` with a secret token).

The request is checked (``X-Telegram-Bot-Api-Secret-Token``), parsed and
validated, and the update stored (coalesced with concurrent requests, see
:mod:`.ingest`); then it is answered 200 — handling happens afterwards in a
Celery worker. Errors are JSON ``{"ok": false, "detail": …}``: 404 when
webhook mode is not configured, 405 for anything but POST, 403 for a wrong
secret, 400 for a body that is not an update, 503 when the update could not be
stored (Telegram retries it).

Two doors share :func:`check`: the Django view :func:`webhook` (routed in
``inbox/urls.py``) and the lean ASGI endpoint in :mod:`.asgi`, which answers
the same path before Django's middleware for throughput.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from . import ingest, updates

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class Refused(Exception):
    """A webhook request that is answered with an error (status and reason)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def check(method: str, secret: str, body: bytes) -> dict[str, Any]:
    """The update in a webhook request; raises :class:`Refused` saying what is wrong."""
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    if not expected or not settings.TELEGRAM_BOT_TOKEN:
        raise Refused(404, _("The Telegram webhook is not configured on this server."))
    if method != "POST":
        raise Refused(405, _("Send updates with POST."))
    if not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Refused(403, _("Wrong or missing secret token (%(header)s).") % {"header": SECRET_HEADER})
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refused(400, _("The body is not valid JSON: %(error)s") % {"error": exc}) from exc
    try:
        updates.validate(payload)
    except ValidationError as exc:
        raise Refused(400, " ".join(exc.messages)) from exc
    result: dict[str, Any] = payload
    return result


async def accept(method: str, secret: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """Check and store one webhook request; (HTTP status, JSON answer)."""
    try:
        payload = check(method, secret, body)
    except Refused as exc:
        return exc.status, {"ok": False, "detail": exc.detail}
    try:
        await ingest.submit(payload)
    except Exception:
        log.exception("telegram: update %s could not be stored", payload.get("update_id"))
        return 503, {"ok": False, "detail": _("The update could not be stored; send it again.")}
    return 200, {"ok": True}


@csrf_exempt
async def webhook(request: HttpRequest) -> HttpResponse:
    """Store one Bot API update sent by Telegram and answer at once."""
    status, answer = await accept(request.method or "", request.headers.get(SECRET_HEADER, ""), request.body)
    response = JsonResponse(answer, status=status)
    if status == 405:
        response["Allow"] = "POST"
    return response
