"""What the diagnosis panel on the case and subscriber pages shows (shared by the views and the template tag)."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms

from beskontakt.accounts.roles import user_can
from beskontakt.cases.models import Case
from beskontakt.subscribers.models import Subscriber

from . import display, verdicts
from .access import latest_run
from .forms import ConfirmForm, DiagnoseForm, WifiChannelForm, WifiPasswordForm
from .models import DiagnosisRun


def run_context(run: DiagnosisRun | None) -> dict[str, Any]:
    """The result part: verdict, advice and the checks of ``run``."""
    if run is None:
        return {"run": None}
    return {
        "run": run,
        "verdict_title": display.verdict_title(run),
        "verdict_advice": display.verdict_advice(run),
        "rows": display.check_rows(run),
        "recommended_fix_name": display.fix_name(run.recommended_fix) if run.recommended_fix else "",
        "applied_fix_name": display.fix_name(run.applied_fix) if run.applied_fix else "",
    }


def fix_forms(run: DiagnosisRun | None, bound: dict[str, django_forms.Form] | None = None) -> dict[str, Any]:
    """The remote-fix forms, the Wi-Fi channel prefilled with the verdict's suggestion."""
    suggested = None
    if run is not None and run.verdict == verdicts.WIFI_CONGESTED:
        suggested = (run.verdict_params or {}).get("channel")
    made: dict[str, Any] = {
        "reboot": ConfirmForm(),
        "wifi_channel": WifiChannelForm(initial={"channel": suggested} if suggested else None),
        "wifi_password": WifiPasswordForm(),
        "reprovision": ConfirmForm(),
        "speed_test": ConfirmForm(),
    }
    made.update(bound or {})
    return made


def panel_context(
    user: Any,
    subscriber: Subscriber,
    case: Case | None = None,
    *,
    run: DiagnosisRun | None = None,
    error: str = "",
    notice: str = "",
    bound: dict[str, django_forms.Form] | None = None,
) -> dict[str, Any]:
    """Everything ``diagnostics/_panel.html`` needs."""
    if run is None:
        run = latest_run(subscriber_id=subscriber.pk, case_id=case.pk if case is not None else None)
    context = {
        "subscriber": subscriber,
        "case": case,
        "can_run": user_can(user, "diagnosis.run"),
        "can_fix": case is not None and user_can(user, "device.operate"),
        "diagnose_form": DiagnoseForm(initial={"case": case.pk if case is not None else None}),
        "fix_forms": fix_forms(run, bound),
        "error": error,
        "notice": notice,
    }
    context.update(run_context(run))
    return context
