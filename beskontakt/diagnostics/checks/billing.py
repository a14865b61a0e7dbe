"""Billing status and balance: a line blocked for debt explains "no internet" at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beskontakt.subscribers.models import Subscriber

from . import Check
from .base import CheckContext, Finding, Status

BLOCKING = {
    Subscriber.BillingStatus.BLOCKED_DEBT,
    Subscriber.BillingStatus.SUSPENDED,
    Subscriber.BillingStatus.TERMINATED,
}


def run(ctx: CheckContext) -> Finding:
    """Fault when the service is blocked, suspended or ended; warning on a negative balance."""
    facts = ctx.facts
    summary = {"billing_status": facts.billing_status, "balance": str(facts.balance)}
    if facts.billing_status in BLOCKING:
        status = Status.FAULT
    elif facts.balance < Decimal("0"):
        status = Status.WARNING
    else:
        status = Status.OK
    return Finding(status, summary, dict(summary))


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    label = _label(summary.get("billing_status", ""))
    return _("%(status)s, balance %(balance)s ₽") % {"status": label, "balance": summary.get("balance", "—")}


def _label(value: str) -> str:
    try:
        return str(Subscriber.BillingStatus(value).label)
    except ValueError:
        return value or "—"


CHECK = Check("billing", gettext_lazy("Billing and balance"), run, describe)
