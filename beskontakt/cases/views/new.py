"""Opening a case by hand (a phone call, a visit to the office)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from beskontakt.accounts.access import staff_required
from beskontakt.subscribers.actions import access_subscriber
from beskontakt.subscribers.models import Subscriber

from .. import actions
from ..forms import OpenCaseForm, apply_errors


def _subscriber(request: HttpRequest, value: Any) -> Subscriber | None:
    if value in (None, ""):
        return None
    try:
        return access_subscriber(request.user, value)
    except (Http404, PermissionDenied):
        raise ValidationError({"subscriber": _("No such subscriber: pick one from the search.")}) from None


@staff_required("case.open")
def new_case(request: HttpRequest) -> HttpResponse:
    """GET: the form (``?subscriber=<id>`` fills the subscriber); POST: open the case."""
    subscriber: Subscriber | None = None
    status = 200
    if request.method == "POST":
        form = OpenCaseForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                subscriber = _subscriber(request, data.get("subscriber"))
                case = actions.open_case(
                    subject=data["subject"],
                    body=data.get("body") or None,
                    channel=data["channel"],
                    subscriber=subscriber,
                    category=data.get("category"),
                    priority=data.get("priority"),
                    queue=data.get("queue"),
                    by=request.user,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
                return redirect("cases:detail", pk=case.pk)
        status = 400
        try:
            subscriber = _subscriber(request, form.data.get("subscriber"))
        except ValidationError:
            subscriber = None
    else:
        try:
            subscriber = _subscriber(request, request.GET.get("subscriber"))
        except ValidationError:
            subscriber = None
        form = OpenCaseForm(initial={"subscriber": subscriber.pk if subscriber else None})
    return render(request, "cases/new.html", {"form": form, "subscriber": subscriber}, status=status)
