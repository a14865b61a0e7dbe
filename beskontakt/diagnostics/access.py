"""Who may see which diagnosis run."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from beskontakt.accounts.roles import user_can

from .models import DiagnosisRun


def access_run(user: Any, run_id: int | str) -> DiagnosisRun:
    """The run ``run_id`` for a staff member who may see subscribers (runs hold internal evidence,
    so subscribers see only their own summary, never this); unknown ids are a 404."""
    if not user_can(user, "subscriber.view"):
        raise PermissionDenied(_("Your role does not allow seeing diagnoses."))
    try:
        pk = int(run_id)
    except (TypeError, ValueError):
        raise Http404(_("No such diagnosis.")) from None
    run = DiagnosisRun.objects.select_related("subscriber", "case", "requested_by").filter(pk=pk).first()
    if run is None:
        raise Http404(_("No such diagnosis."))
    return run


def latest_run(*, subscriber_id: int, case_id: int | None = None) -> DiagnosisRun | None:
    """The newest run of a case (when given) or of a subscriber."""
    runs = DiagnosisRun.objects.filter(subscriber_id=subscriber_id)
    if case_id is not None:
        runs = runs.filter(case_id=case_id)
    return runs.order_by("-started_at", "-pk").first()
