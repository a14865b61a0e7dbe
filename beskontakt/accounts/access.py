"""The gate in front of every staff page: a verified (password + TOTP) staff session, and a capability.

Use ``@staff_required("case.reply")`` on function views and ``StaffRequiredMixin``
(with ``capability = "case.reply"``) on class-based views:

* anonymous, or signed in without a verified second factor -> redirect to the
  login page (htmx requests get an ``HX-Redirect`` header so the whole page moves);
* a subscriber, or staff without the capability -> the 403 page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast, overload
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

from .roles import CAPABILITIES, user_can

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def is_verified_staff_session(request: HttpRequest) -> bool:
    """Whether the request comes from a signed-in user whose session passed the TOTP step."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def redirect_to_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the login page, coming back to this page afterwards."""
    url = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}"
    if getattr(request, "htmx", False):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def check_staff(request: HttpRequest, capability: str | None) -> HttpResponse | None:
    """``None`` when the request may go on; otherwise the redirect to log in.

    Raises ``PermissionDenied`` (rendered with ``403.html``) for subscribers and
    for staff lacking ``capability``.
    """
    if not is_verified_staff_session(request):
        return redirect_to_login(request)
    user = request.user
    if not getattr(user, "is_operator_staff", False):
        raise PermissionDenied(_("This page is for operator staff only."))
    if capability is not None and not user_can(user, capability):
        raise PermissionDenied(_("Your role does not allow this action."))
    return None


def _known(capability: str | None) -> str | None:
    if capability is not None and capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    return capability


@overload
def staff_required(capability: ViewFunc) -> ViewFunc: ...
@overload
def staff_required(capability: str | None = None) -> Callable[[ViewFunc], ViewFunc]: ...
def staff_required(capability: Any = None) -> Any:
    """Decorator: the view needs a verified staff session holding ``capability`` (if given).

    Works as ``@staff_required``, ``@staff_required()`` and ``@staff_required("case.reply")``.
    """
    if callable(capability):
        return staff_required(None)(capability)
    needed = _known(capability)

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refused = check_staff(request, needed)
            if refused is not None:
                return refused
            return view(request, *args, **kwargs)

        return cast(ViewFunc, wrapped)

    return decorator


class StaffRequiredMixin:
    """Class-based view mixin: a verified staff session, holding ``capability`` when it is set."""

    capability: str | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = check_staff(request, _known(self.capability))
        if refused is not None:
            return refused
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
