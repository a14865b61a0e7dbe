"""Template tags of the access network: ``{% subscriber_line subscriber %}``, the compact port state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.db.models import Sum
from django.utils import timezone

from beskontakt.accounts.roles import user_can
from beskontakt.network.models import PortSample, PortState, SubscriberPort

register = template.Library()


@register.inclusion_tag("network/_subscriber_line.html", takes_context=True)
def subscriber_line(context: template.Context, subscriber: Any) -> dict[str, Any]:
    """The subscriber's port (node, port, link state, errors and flaps of the last day), from stored data.

    Shown only to staff who may view the network; nothing is polled while rendering.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if subscriber is None or not user_can(user, "network.view"):
        return {"visible": False}
    line = SubscriberPort.objects.select_related("port__node").filter(subscriber_id=subscriber.pk).first()
    if line is None:
        return {"visible": True, "line": None}
    state = PortState.objects.filter(port_id=line.port_id).first()
    now = timezone.now()
    totals = PortSample.objects.filter(port_id=line.port_id, at__gte=now - timedelta(hours=24)).aggregate(
        flaps=Sum("flaps"), errors=Sum("errors_delta")
    )
    return {
        "visible": True,
        "line": line,
        "port": line.port,
        "node": line.port.node,
        "state": state,
        "flaps": totals["flaps"] or 0,
        "errors": totals["errors"] or 0,
        "stale": state is None or now - state.at > timedelta(minutes=15),
    }


@register.filter
def percent(value: float | None) -> str:
    """A 0..1 share as a whole percentage ("37 %"), a dash when unknown."""
    if value is None:
        return "—"
    return f"{value * 100:.0f} %"
