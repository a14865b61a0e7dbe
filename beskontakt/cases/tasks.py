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


@shared_task(name="beskontakt.cases.tasks.recount_workload", ignore_result=True)
def recount_workload() -> int:
    """Rebuild every person's active-case counter from the cases (hourly safety net)."""
    from . import workload

    return workload.recount()


@shared_task(name="beskontakt.cases.tasks.process_inbound", ignore_result=True)
def process_inbound(rounds: int = 50) -> dict[str, int]:
    """Turn queued inbound messages into case messages until the backlog is empty (or ``rounds`` batches)."""
    from beskontakt.backlog import drain

    from . import intake

    return drain(intake.process_pending, rounds)
