"""The subscriber's portal pages. Thin: parse the form, call one action, render.

Every page but the two sign-in steps needs a subscriber's session
(:func:`beskontakt.portal.access.subscriber_required`); cases and files are
fetched through the cases app's access helpers, so another subscriber's id
is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from beskontakt.accounts.actions import client_ip, record_audit
from beskontakt.accounts.models import AuditEntry
from beskontakt.accounts.views import wait_text
from beskontakt.cases import attachments as case_files
from beskontakt.cases.access import access_case
from beskontakt.cases.models import Attachment, Case, Message
from beskontakt.cases.models.case import ACTIVE_STATUSES
from beskontakt.inbox import callbacks, codes
from beskontakt.subscribers.models import AccessRestriction, Channel, Subscriber

from . import actions, signin
from .access import portal_subscriber, subscriber_required
from .forms import CallbackForm, CaseForm, CodeForm, IdentifierForm, MessageForm, RestrictionForm, new_token

Purpose = codes.Purpose


def _home() -> str:
    return reverse("portal:home")


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    """``candidate`` if it is a portal page on this site, else the portal home."""
    if (
        candidate
        and candidate.startswith(_home())
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return _home()


def _locked(request: HttpRequest, template: str, context: dict[str, Any], seconds: int) -> HttpResponse:
    context["locked_message"] = wait_text(seconds)
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _field_errors(form: Any, exc: ValidationError, default_field: str | None = None) -> None:
    """Put an action's ``ValidationError`` on the form, by field where the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else default_field, errors)
    else:
        form.add_error(default_field, exc.messages)


# --- signing in ----------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Step one: the contract number or phone; a code is sent on one of the subscriber's channels."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if portal_subscriber(request.user) is not None:
        return HttpResponseRedirect(_safe_next(request, next_url))
    template = "portal/login.html"
    form = IdentifierForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "next": next_url}
    if request.method != "POST":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    given = form.cleaned_data["identifier"]
    ident = signin.normalized_identifier(given)
    address = client_ip(request) or "unknown"
    by_identifier, by_address = signin.identifier_limiter(), signin.address_limiter()
    wait = max(by_identifier.wait_seconds(ident), by_address.wait_seconds(address))
    if wait:
        record_audit(AuditEntry.Action.LOGIN_LOCKED, request=request, username=given, step="portal-identifier")
        return _locked(request, template, context, wait)
    by_identifier.fail(ident)  # every code request counts against the identifier
    subscriber = codes.find_subscriber(given)
    if subscriber is None:
        by_address.fail(address)
        record_audit(AuditEntry.Action.LOGIN_FAILED, request=request, username=given, step="portal", reason="unknown")
        form.add_error(
            "identifier",
            _(
                "We could not find this contract number or phone number. Check the number on your contract "
                "or your bill, or call us."
            ),
        )
        return render(request, template, context, status=400)
    try:
        code = codes.issue(subscriber, Purpose.LOGIN)
    except ValidationError as exc:
        form.add_error("identifier", exc.messages)
        return render(request, template, context, status=429 if exc.code == "rate_limited" else 400)
    signin.start_pending(request, subscriber, signin.destination_of(code), next_url)
    return redirect("portal:code")


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def code_view(request: HttpRequest) -> HttpResponse:
    """Step two: the code that was sent. Right -> signed in; wrong, expired or used -> says so."""
    subscriber, data = signin.pending(request)
    if subscriber is None:
        messages.error(request, _("Your sign-in took too long or was interrupted. Please start again."))
        return redirect("portal:login")
    template = "portal/code.html"
    destination = signin.Destination(channel=data.get("channel", ""), masked=data.get("masked", ""))
    form = CodeForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "destination": destination}
    if request.method != "POST":
        return render(request, template, context)
    address = client_ip(request) or "unknown"
    by_address = signin.address_limiter()
    wait = by_address.wait_seconds(address)
    if wait:
        record_audit(
            AuditEntry.Action.LOGIN_LOCKED, request=request, username=subscriber.contract_number, step="portal-code"
        )
        return _locked(request, template, context, wait)
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        codes.verify(subscriber, Purpose.LOGIN, form.cleaned_data["code"])
    except ValidationError as exc:
        if exc.code == "wrong":
            by_address.fail(address)
        record_audit(
            AuditEntry.Action.LOGIN_FAILED,
            request=request,
            username=subscriber.contract_number,
            step="portal-code",
            reason=exc.code or "",
        )
        form.add_error("code", exc.messages)
        context["can_resend"] = exc.code != "wrong"
        return render(request, template, context, status=400)
    try:
        actions.log_in(request, subscriber, channel=destination.channel)
    except PermissionDenied as exc:
        signin.clear_pending(request)
        return render(request, "portal/refused.html", {"reason": str(exc)}, status=403)
    signin.clear_pending(request)
    return HttpResponseRedirect(_safe_next(request, data.get("next")))


@require_POST
def resend_view(request: HttpRequest) -> HttpResponse:
    """Send a new code to the subscriber waiting in this session (the old one stops working)."""
    subscriber, data = signin.pending(request)
    if subscriber is None:
        messages.error(request, _("Your sign-in took too long or was interrupted. Please start again."))
        return redirect("portal:login")
    try:
        code = codes.issue(subscriber, Purpose.LOGIN)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("portal:code")
    signin.start_pending(request, subscriber, signin.destination_of(code), data.get("next", ""))
    messages.success(request, _("We have sent you a new code."))
    return redirect("portal:code")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out of the portal."""
    actions.log_out(request)
    return redirect("portal:login")


# --- the subscriber's pages -------------------------------------------------------------


def _outages(subscriber: Subscriber) -> list[Any]:
    if not apps.is_installed("beskontakt.incidents"):
        return []
    from beskontakt.incidents.outages import outages_for

    return list(outages_for(subscriber))


def _restrictions(subscriber: Subscriber, user: Any) -> tuple[list[AccessRestriction], list[AccessRestriction]]:
    """(in force or coming, with a flag whether the subscriber may lift each; recent past ones)."""
    now = timezone.now()
    today = timezone.localdate()
    current, past = [], []
    for restriction in subscriber.restrictions.all().order_by("-recorded_at")[:50]:
        ended = restriction.lifted_at is not None or (
            restriction.valid_until is not None and restriction.valid_until < today
        )
        if ended:
            past.append(restriction)
            continue
        restriction.own = actions.is_own_declaration(restriction, user)  # type: ignore[attr-defined]
        restriction.in_force = restriction.is_active_at(now)  # type: ignore[attr-defined]
        current.append(restriction)
    return current, past[:5]


@never_cache
@subscriber_required
def home_view(request: HttpRequest, subscriber: Subscriber) -> HttpResponse:
    """The dashboard: services, balance, equipment, cases, outage notices, access restrictions."""
    return _render_home(request, subscriber)


def _render_home(request: HttpRequest, subscriber: Subscriber, status: int = 200) -> HttpResponse:
    subscriptions = subscriber.subscriptions.select_related("tariff").exclude(status="ended")
    cases = list(
        Case.objects.filter(subscriber=subscriber, merged_into__isnull=True)
        .select_related("category")
        .order_by("-created_at")[:50]
    )
    restrictions, past_restrictions = _restrictions(subscriber, request.user)
    context = {
        "subscriber": subscriber,
        "subscriptions": subscriptions,
        "monthly_total": sum((s.tariff.monthly_price for s in subscriptions if s.status == "active"), start=0),
        "equipment": subscriber.equipment.all(),
        "open_cases": [c for c in cases if c.status in ACTIVE_STATUSES],
        "past_cases": [c for c in cases if c.status not in ACTIVE_STATUSES][:20],
        "outages": _outages(subscriber),
        "restrictions": restrictions,
        "past_restrictions": past_restrictions,
        "now": timezone.now(),
    }
    return render(request, "portal/home.html", context, status=status)


@never_cache
@subscriber_required
@require_http_methods(["GET", "POST"])
def restriction_view(request: HttpRequest, subscriber: Subscriber) -> HttpResponse:
    """Declare a restriction: "I am in quarantine until …, contactless only"."""
    form = RestrictionForm(request.POST or None)
    context = {"subscriber": subscriber, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.declare_restriction(
                subscriber,
                by=request.user,  # type: ignore[arg-type]
                kind=data["kind"],
                valid_until=data["valid_until"],
                note=data["note"],
                contactless=data["contactless"],
            )
        except ValidationError as exc:
            _field_errors(form, exc)
        else:
            messages.success(request, _("Thank you. Our staff and technicians will see this and will not come in."))
            return redirect(f"{_home()}#restrictions")
    if request.method == "POST":
        return render(request, "portal/restriction.html", context, status=400)
    return render(request, "portal/restriction.html", context)


@subscriber_required
@require_POST
def restriction_lift_view(request: HttpRequest, subscriber: Subscriber, restriction_id: int) -> HttpResponse:
    """Lift a restriction the subscriber declared themselves."""
    try:
        actions.lift_declaration(subscriber, restriction_id, by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _render_home(request, subscriber, status=400)
    messages.success(request, _("The restriction is lifted."))
    return redirect(f"{_home()}#restrictions")


@never_cache
@subscriber_required
@require_http_methods(["GET", "POST"])
def case_new_view(request: HttpRequest, subscriber: Subscriber) -> HttpResponse:
    """Open a new request: topic, what happened, photos of the equipment."""
    form = CaseForm(request.POST or None, request.FILES or None, initial={"token": new_token()})
    context = {"subscriber": subscriber, "form": form}
    if request.method != "POST":
        return render(request, "portal/case_new.html", context)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = actions.open_portal_case(
                subscriber,
                category=data["category"],
                description=data["description"],
                photos=data["photos"],
                token=data["token"],
            )
        except ValidationError as exc:
            _field_errors(form, exc)
        else:
            messages.success(
                request, _("Your request %(ref)s is registered. We will answer here.") % {"ref": case.reference}
            )
            return redirect("portal:case", case_id=case.pk)
    return render(request, "portal/case_new.html", context, status=400)


def _case_context(
    request: HttpRequest, subscriber: Subscriber, case: Case, form: MessageForm | None = None
) -> dict[str, Any]:
    thread = (
        Message.objects.filter(case=case)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "id")
    )
    return {
        "subscriber": subscriber,
        "case": case,
        "thread": thread,
        "form": form or MessageForm(initial={"token": new_token()}),
    }


@never_cache
@subscriber_required
def case_view(request: HttpRequest, subscriber: Subscriber, case_id: int) -> HttpResponse:
    """One of the subscriber's cases: its messages both ways (never internal notes) and a reply form.

    An htmx request (the page refreshes itself) gets only the message list.
    """
    case = access_case(request.user, case_id)
    context = _case_context(request, subscriber, case)
    if getattr(request, "htmx", False):
        return render(request, "portal/_thread.html", context)
    return render(request, "portal/case.html", context)


@subscriber_required
@require_POST
def case_message_view(request: HttpRequest, subscriber: Subscriber, case_id: int) -> HttpResponse:
    """Write on one of the subscriber's cases (with photos)."""
    case = access_case(request.user, case_id)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.write_on_case(case, subscriber, body=data["body"], photos=data["photos"], token=data["token"])
        except ValidationError as exc:
            _field_errors(form, exc, "body")
        else:
            messages.success(request, _("Your message is sent."))
            return redirect("portal:case", case_id=case.pk)
    return render(request, "portal/case.html", _case_context(request, subscriber, case, form), status=400)


@subscriber_required
def attachment_view(request: HttpRequest, subscriber: Subscriber, attachment_id: int) -> HttpResponseBase:
    """A file on one of the subscriber's cases, as a download (404 for anyone else's)."""
    attachment = (
        Attachment.objects.select_related("message__case")
        .filter(pk=attachment_id, message__case__subscriber=subscriber)
        .first()
    )
    if attachment is None:
        raise Http404(_("No such file."))
    return case_files.download_response(attachment)


def _callback_initial(subscriber: Subscriber) -> dict[str, Any]:
    phone = (
        subscriber.contacts.filter(channel__in=[Channel.PHONE, Channel.SMS], consent=True)
        .order_by("-preferred", "pk")
        .values_list("value", flat=True)
        .first()
    )
    now = timezone.localtime()
    start = (now + dt.timedelta(minutes=30 - now.minute % 30 + 30)).replace(second=0, microsecond=0)
    end = start + dt.timedelta(hours=1)
    if end.date() != start.date():
        start = start.replace(hour=9, minute=0) + dt.timedelta(days=1)
        end = start + dt.timedelta(hours=1)
    return {"phone": phone or "", "day": start.date(), "start": start.time(), "end": end.time()}


@never_cache
@subscriber_required
@require_http_methods(["GET", "POST"])
def callback_view(request: HttpRequest, subscriber: Subscriber) -> HttpResponse:
    """Ask for a callback: number and a time window (in the future, at least 30 minutes, within 7 days)."""
    form = CallbackForm(request.POST or None, initial=_callback_initial(subscriber))
    context = {"subscriber": subscriber, "form": form}
    if request.method != "POST":
        return render(request, "portal/callback.html", context)
    if form.is_valid():
        data = form.cleaned_data
        try:
            callback = callbacks.request_callback(
                subscriber,
                phone=data["phone"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                topic=data["topic"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                name = {"window_start": "start", "window_end": "end"}.get(field, field)
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("We will call you on %(phone)s on %(day)s between %(start)s and %(end)s.")
                % {
                    "phone": callback.phone,
                    "day": timezone.localtime(callback.window_start).strftime("%d.%m"),
                    "start": timezone.localtime(callback.window_start).strftime("%H:%M"),
                    "end": timezone.localtime(callback.window_end).strftime("%H:%M"),
                },
            )
            return redirect("portal:case", case_id=callback.case_id)
    return render(request, "portal/callback.html", context, status=400)


@never_cache
@subscriber_required
@require_http_methods(["GET", "POST"])
def check_view(request: HttpRequest, subscriber: Subscriber) -> HttpResponse:
    """ "Check my connection": the same diagnosis the desk runs, told in subscriber-safe words."""
    from beskontakt.diagnostics.selfcheck import check_for_subscriber

    context: dict[str, Any] = {"subscriber": subscriber, "summary": None}
    if request.method != "POST":
        return render(request, "portal/check.html", context)
    run, summary = check_for_subscriber(subscriber, actor=request.user, origin="portal")
    context["summary"] = summary
    if run is None:
        # htmx swaps only 2xx answers: the "wait" notice goes to htmx as 200, to a plain form post as 429.
        return render(request, "portal/check.html", context, status=200 if getattr(request, "htmx", False) else 429)
    return render(request, "portal/check.html", context)
