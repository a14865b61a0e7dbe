"""Background work of the cases app."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import sla


@shared_task(name="beskontakt.cases.tasks.check_sla_clocks", ignore_result=True)
def check_sla_clocks() -> dict[str, int]:
    """Record SLA warnings (80 %) and breaches that have come due since the last run."""
    warned, breached = sla.check_due_clocks(timezone.now())
    return {"warned": warned, "breached": breached}
