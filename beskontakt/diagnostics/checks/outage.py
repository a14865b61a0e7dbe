"""An open outage on the subscriber's building, district, switch or the whole network: nothing to fix at home."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beskontakt.subscribers.models import Subscriber

from . import Check
from .base import CheckContext, Finding, Status, Unknown


def _scope(outage: Any, subscriber: Subscriber) -> str:
    address = subscriber.address
    if address is not None:
        if any(b.street == address.street and b.building == address.building for b in outage.buildings.all()):
            return "building"
        if any(d.pk == address.district_id for d in outage.districts.all()):
            return "district"
    if hasattr(outage, "nodes") and outage.nodes.exists():
        return "node"
    return "network"


def run(ctx: CheckContext) -> Finding:
    """Fault when an outage covering the subscriber (address, switch or the whole network) is going on now;
    planned ones are evidence only."""
    if not apps.is_installed("beskontakt.incidents"):
        raise Unknown("the incidents app is not installed")
    from beskontakt.incidents.outages import outages_for

    subscriber = Subscriber.objects.select_related("address").get(pk=ctx.facts.subscriber_id)
    now = timezone.now()
    found = list(outages_for(subscriber, now).prefetch_related("buildings"))
    ongoing = [o for o in found if o.is_ongoing_at(now)]
    evidence = {
        "ongoing": [_row(o, subscriber) for o in ongoing],
        "planned": [_row(o, subscriber) for o in found if not o.is_ongoing_at(now)],
    }
    if not ongoing:
        return Finding(Status.OK, {"planned": len(found)}, evidence)
    summary = _row(ongoing[0], subscriber)
    summary["count"] = len(ongoing)
    return Finding(Status.FAULT, summary, evidence)


def _row(outage: Any, subscriber: Subscriber) -> dict[str, Any]:
    return {
        "outage": outage.pk,
        "title": outage.title,
        "starts_at": outage.starts_at.isoformat(),
        "ends_at": outage.ends_at.isoformat() if outage.ends_at else None,
        "scope": _scope(outage, subscriber),
    }


SCOPES = {
    "building": gettext_lazy("the building"),
    "district": gettext_lazy("the district"),
    "node": gettext_lazy("the subscriber's switch"),
    "network": gettext_lazy("the whole network"),
}


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    if status != Status.FAULT:
        if summary.get("planned"):
            return _("No outage now; planned works are announced")
        return _("No open outage")
    return _("Outage on %(scope)s: %(title)s") % {
        "scope": SCOPES.get(summary.get("scope", ""), summary.get("scope", "")),
        "title": summary.get("title", ""),
    }


CHECK = Check("outage", gettext_lazy("Outages and incidents"), run, describe)
