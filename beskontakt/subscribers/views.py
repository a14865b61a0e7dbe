"""Subscriber pages of the agent workspace: search, the subscriber card, access restrictions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from beskontakt.accounts.access import staff_required

from .actions import access_subscriber, lift_restriction, record_restriction
from .models import AccessRestriction, Subscriber, Subscription
from .search import search_subscribers

SEARCH_LIMIT = 50
RECENT_CASES = 10


class SearchForm(forms.Form):
    """The subscriber search box."""

    q = forms.CharField(label=gettext_lazy("Contract, phone, name or address"), max_length=200, required=False)


class RestrictionForm(forms.Form):
    """Record an access restriction (quarantine, no entry...)."""

    kind = forms.ChoiceField(label=gettext_lazy("Restriction"), choices=AccessRestriction.Kind.choices)
    valid_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Until (empty: until lifted)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


def panel_context(subscriber: Subscriber, user: Any, exclude_case: int | None = None) -> dict[str, Any]:
    """What the subscriber side panel shows (used by the case page and the subscriber page)."""
    from beskontakt.cases.access import visible_cases

    subscriber = (
        Subscriber.objects.select_related("address__district")
        .prefetch_related(
            Prefetch("subscriptions", queryset=Subscription.objects.select_related("tariff")),
            "contacts",
            "equipment",
            Prefetch("restrictions", queryset=AccessRestriction.objects.select_related("recorded_by", "lifted_by")),
        )
        .get(pk=subscriber.pk)
    )
    now = timezone.now()
    restrictions = list(subscriber.restrictions.all())
    earlier = visible_cases(user).filter(subscriber=subscriber).select_related("assignee").order_by("-created_at")
    if exclude_case is not None:
        earlier = earlier.exclude(pk=exclude_case)
    return {
        "subscriber": subscriber,
        "active_restrictions": [r for r in restrictions if r.is_active_at(now)],
        "past_restrictions": [r for r in restrictions if not r.is_active_at(now)],
        "earlier_cases": list(earlier[:RECENT_CASES]),
    }


@require_GET
@staff_required("subscriber.view")
def search(request: HttpRequest) -> HttpResponse:
    """Find a subscriber by contract number, phone, name or address."""
    form = SearchForm(request.GET)
    results: list[Subscriber] = []
    status = 200
    if form.is_valid():
        results = search_subscribers(form.cleaned_data["q"], limit=SEARCH_LIMIT)
    else:
        status = 400
    return render(
        request,
        "subscribers/search.html",
        {"form": form, "results": results, "query": form.cleaned_data.get("q", "") if form.is_valid() else ""},
        status=status,
    )


def _render_detail(
    request: HttpRequest, subscriber: Subscriber, form: RestrictionForm | None = None, status: int = 200
) -> HttpResponse:
    from beskontakt.cases.access import visible_cases

    context = panel_context(subscriber, request.user)
    context["cases"] = list(
        visible_cases(request.user)
        .filter(subscriber=subscriber)
        .select_related("assignee", "queue")
        .order_by("-created_at")[:50]
    )
    context["restriction_form"] = form or RestrictionForm()
    return render(request, "subscribers/detail.html", context, status=status)


@require_GET
@staff_required("subscriber.view")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The subscriber card: contract, services, equipment, restrictions and cases."""
    return _render_detail(request, access_subscriber(request.user, pk))


@require_POST
@staff_required("restriction.record")
def restrict(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an access restriction on the subscriber."""
    subscriber = access_subscriber(request.user, pk)
    form = RestrictionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            record_restriction(
                subscriber,
                data["kind"],
                data["reason"],
                valid_until=data.get("valid_until"),
                valid_from=data.get("valid_from"),
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Access restriction recorded."))
            return redirect("subscribers:detail", pk=subscriber.pk)
    return _render_detail(request, subscriber, form, status=400)


@require_POST
@staff_required("restriction.record")
def lift(request: HttpRequest, pk: int, restriction_id: int) -> HttpResponse:
    """Lift an access restriction now (it stays in the history)."""
    subscriber = access_subscriber(request.user, pk)
    restriction = AccessRestriction.objects.filter(pk=restriction_id, subscriber=subscriber).first()
    if restriction is None:
        raise Http404("no such restriction")
    try:
        lift_restriction(restriction, by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Access restriction lifted."))
    return redirect("subscribers:detail", pk=subscriber.pk)
