"""The diagnostics pages: run a diagnosis, look at a run, apply a remote fix. Thin: parse, call one action, render.

The panel on the case and subscriber pages posts with htmx and gets the panel back (errors
included, with status 200 so htmx shows them); a plain form post gets a redirect, or the panel
on its own page with the error status (400, 403 or 429).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from beskontakt.accounts.access import staff_required
from beskontakt.cases.access import access_case
from beskontakt.cases.models import Case
from beskontakt.subscribers.actions import access_subscriber

from . import actions, display, verdicts
from .access import access_run
from .forms import ConfirmForm, DiagnoseForm, WifiChannelForm, WifiPasswordForm
from .models import DiagnosisRun
from .panel import panel_context, run_context

PANEL = "diagnostics/_panel.html"


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _panel(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The panel as an htmx fragment (always 200, so htmx swaps it in) or on its own page."""
    if _htmx(request):
        return render(request, PANEL, context)
    return render(request, "diagnostics/panel_page.html", context, status=status)


@require_POST
@staff_required("diagnosis.run")
def diagnose(request: HttpRequest, subscriber_id: int) -> HttpResponse:
    """Run a diagnosis of the subscriber's line now (for the case given in the form, if any)."""
    subscriber = access_subscriber(request.user, subscriber_id)
    form = DiagnoseForm(request.POST)
    case: Case | None = None
    if form.is_valid() and form.cleaned_data.get("case"):
        case = access_case(request.user, form.cleaned_data["case"])
    if not form.is_valid():
        return _panel(
            request, panel_context(request.user, subscriber, error=_error_text(ValidationError(form.errors))), 400
        )
    try:
        run = actions.run_diagnosis(subscriber, case=case, actor=request.user, origin=DiagnosisRun.Origin.AGENT)
    except ValidationError as exc:
        status = 429 if actions.wait_seconds(exc) else 400
        response = _panel(request, panel_context(request.user, subscriber, case, error=_error_text(exc)), status)
        if status == 429:
            response["Retry-After"] = str(actions.wait_seconds(exc))
        return response
    if _htmx(request):
        return render(request, PANEL, panel_context(request.user, subscriber, case, run=run))
    return redirect("diagnostics:run", pk=run.pk)


@require_GET
@staff_required("subscriber.view")
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One run: verdict, next step, every check with its timing and raw evidence."""
    run = access_run(request.user, pk)
    context = {"subscriber": run.subscriber, "case": run.case, **run_context(run)}
    if _htmx(request):
        return render(request, "diagnostics/_result.html", context)
    return render(request, "diagnostics/run.html", context)


Perform = Callable[[Case, Any, dict[str, Any]], actions.FixResult]

FIXES: dict[str, tuple[type[forms.Form], Perform]] = {
    verdicts.FIX_REBOOT: (ConfirmForm, lambda case, by, data: actions.reboot_device(case, by=by)),
    verdicts.FIX_WIFI_CHANNEL: (
        WifiChannelForm,
        lambda case, by, data: actions.change_wifi_channel(case, by=by, channel=data["channel"]),
    ),
    verdicts.FIX_WIFI_PASSWORD: (
        WifiPasswordForm,
        lambda case, by, data: actions.change_wifi_password(case, by=by, password=data["password"]),
    ),
    verdicts.FIX_REPROVISION: (ConfirmForm, lambda case, by, data: actions.reprovision_device(case, by=by)),
    verdicts.FIX_SPEED_TEST: (ConfirmForm, lambda case, by, data: actions.run_speed_test(case, by=by)),
}


@require_POST
@staff_required("device.operate")
def remote_fix(request: HttpRequest, case_id: int, fix: str) -> HttpResponse:
    """Apply one remote fix to the device of the case's subscriber; the outcome goes on the timeline."""
    if fix not in FIXES:
        raise Http404("no such remote fix")
    case = access_case(request.user, case_id)
    if case.subscriber is None:
        raise Http404("this case has no subscriber")
    form_class, perform = FIXES[fix]
    form = form_class(request.POST)
    error = ""
    if form.is_valid():
        try:
            result = perform(case, request.user, form.cleaned_data)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            error = _error_text(exc)
        else:
            notice = display.event_text(result.event)
            if not _htmx(request):
                (messages.success if result.ok else messages.warning)(request, notice)
                return redirect("cases:detail", pk=case.pk)
            return _panel(request, panel_context(request.user, case.subscriber, case, notice=notice))
    else:
        error = _error_text(ValidationError(form.errors))
    if isinstance(form, WifiPasswordForm):
        form = WifiPasswordForm()  # never send a password back
        form.is_bound = False
    context = panel_context(request.user, case.subscriber, case, error=error, bound={fix: form})
    return _panel(request, context, 400)
