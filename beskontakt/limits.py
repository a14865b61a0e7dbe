"""Refusing oversized requests before Django reads them.

Django reads a whole upload before a form can check it; a request whose
declared length is already over the limit is answered 413 at once, with a
message saying what the limit is.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

Handler = Callable[[HttpRequest], HttpResponse]


class RequestSizeLimitMiddleware:
    """Answer 413 to requests declaring more than ``MAX_REQUEST_BYTES``."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit: int = settings.MAX_REQUEST_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            message = _("The request is too large: at most %(mb)d MB may be sent at once.") % {
                "mb": limit // (1024 * 1024)
            }
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
