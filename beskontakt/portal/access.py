"""The gate in front of every portal page: a signed-in subscriber, and nobody else.

``@subscriber_required`` on a view:

* anonymous -> redirect to the portal login (htmx requests get ``HX-Redirect``);
* signed in but not a subscriber's portal login (operator staff, or a portal
  user whose subscriber record is gone) -> the 403 page, saying where to go;
* otherwise the view is called with the subscriber as its second argument.

Staff sessions never reach the portal, and portal sessions never reach the
staff workspace (``accounts.access.check_staff`` refuses role ``subscriber``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from beskontakt.accounts.roles import Role
from beskontakt.subscribers.models import Subscriber

P = ParamSpec("P")


def portal_subscriber(user: Any) -> Subscriber | None:
    """The subscriber whose portal login ``user`` is (``None`` for staff, anonymous or an orphan login)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if getattr(user, "role", None) != Role.SUBSCRIBER:
        return None
    return Subscriber.objects.select_related("address__district").filter(portal_user=user).first()


def login_redirect(request: HttpRequest) -> HttpResponse:
    """Send the browser to the portal login, coming back to this page afterwards."""
    url = f"{reverse('portal:login')}?{urlencode({'next': request.get_full_path()})}"
    if getattr(request, "htmx", False):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def refuse(request: HttpRequest) -> HttpResponse:
    """The 403 page for a signed-in person who is not a subscriber (operator staff)."""
    return render(request, "portal/refused.html", status=403)


def subscriber_required(
    view: Callable[Concatenate[HttpRequest, Subscriber, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Decorator: the view needs a subscriber's portal session; it gets the subscriber as an argument."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return login_redirect(request)
        subscriber = portal_subscriber(user)
        if subscriber is None:
            return refuse(request)
        return view(request, subscriber, *args, **kwargs)

    return wrapped
