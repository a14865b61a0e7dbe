"""What a client is told when the server cannot answer.

A request that fails because the database is unreachable (restarting, failing
over, pool exhausted) gets **503 Service Unavailable** with ``Retry-After``:
the message was not stored and the client should send it again; a channel
such as Telegram retries by itself. Any other unexpected error stays a 500.
API and intake paths answer JSON, pages answer plain text; no details leak.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
JSON_PREFIXES = ("/api/", "/inbox/")


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 saying nothing was stored and when to retry."""
    message = _("The service is briefly unavailable and nothing was stored. Send the request again in a few seconds.")
    if request.path.startswith(JSON_PREFIXES):
        response: HttpResponse = JsonResponse({"detail": message, "retry_after": RETRY_AFTER_SECONDS}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """The 500 handler: a database outage becomes a 503 the client can retry."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        log.warning("database unavailable while serving %s %s: %s", request.method, request.path, error)
        return database_unavailable(request)
    if request.path.startswith(JSON_PREFIXES):
        return JsonResponse({"detail": _("Internal error. It has been logged.")}, status=500)
    return defaults.server_error(request, template_name)
