"""A subscriber's line health as the diagnosis sees it (the API helper F's checks call).

``port_health`` combines the stored history (samples of the last 24 h) with, when
``live``, one SNMP round trip to the port now. A node that does not answer in time is
not an error: ``node_reachable`` is ``False`` and the stored history stays the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Max, Sum
from django.utils import timezone

from . import actions
from .models import Node, OperStatus, PortSample, PortState, SubscriberPort
from .polling import run_async, target_for
from .snmp.client import poll_one
from .snmp.oids import STATUS_NAMES

# A stored state older than this is stale (three missed 5-minute polls).
STALE_AFTER = timedelta(minutes=15)


@dataclass
class PortHealth:
    """The state of the port a subscriber hangs on, with the numbers behind it.

    ``oper_status``/``admin_status`` are IF-MIB names ("up", "down", …) or ``None`` if
    unknown; ``errors_last_hour`` is the growth of in+out errors over the last hour,
    ``flaps_24h`` the link changes seen in a day, utilisations are 0..1.
    ``stale`` says the numbers are older than a few polls; ``node_reachable`` is the
    live poll's outcome (``None`` when no live poll was made).
    """

    node_name: str
    node_kind: str
    port_name: str
    if_index: int
    oper_status: str | None
    admin_status: str | None
    last_change_at: datetime | None
    flaps_24h: int
    errors_last_hour: int | None
    errors_per_minute: float | None
    discards_last_hour: int | None
    utilisation_in: float | None
    utilisation_out: float | None
    uplink_utilisation: float | None
    sampled_at: datetime | None
    stale: bool
    node_reachable: bool | None
    evidence: dict[str, Any] = field(default_factory=dict)


def node_of_subscriber(subscriber_id: int) -> Node | None:
    """The node whose port the subscriber hangs on, or ``None``."""
    line = SubscriberPort.objects.select_related("port__node").filter(subscriber_id=subscriber_id).first()
    return None if line is None else line.port.node


def _status(value: int | None) -> str | None:
    if value is None:
        return None
    return STATUS_NAMES.get(value)


def _uplink_utilisation(node: Node) -> float | None:
    """The busiest direction of the node's uplink ports (of its parent when it has none marked)."""
    for candidate in (node, node.parent):
        if candidate is None:
            continue
        share = _busiest_uplink(candidate)
        if share is not None:
            return share
    return None


def _busiest_uplink(node: Node) -> float | None:
    value = PortState.objects.filter(port__node=node, port__is_uplink=True).aggregate(
        m=Max("util_in"), n=Max("util_out")
    )
    known = [v for v in (value["m"], value["n"]) if v is not None]
    return max(known) if known else None


def port_health(subscriber_id: int, *, live: bool = True, timeout: float = 2.0) -> PortHealth | None:
    """The health of the subscriber's port; ``None`` when they hang on no known port.

    With ``live`` the port is read now (at most ``timeout`` seconds, one SNMP exchange)
    and compared with its stored state; the history gives flaps and error growth.
    """
    line = SubscriberPort.objects.select_related("port__node__parent").filter(subscriber_id=subscriber_id).first()
    if line is None:
        return None
    port, node = line.port, line.port.node
    now = timezone.now()
    state = PortState.objects.filter(port=port).first()
    day = PortSample.objects.filter(port=port, at__gte=now - timedelta(hours=24))
    hour = day.filter(at__gte=now - timedelta(hours=1))
    day_totals = day.aggregate(flaps=Sum("flaps"))
    hour_totals = hour.aggregate(errors=Sum("errors_delta"), discards=Sum("discards_delta"))
    flaps = int(day_totals["flaps"] or 0)
    errors_hour: int | None = hour_totals["errors"]
    discards_hour: int | None = hour_totals["discards"]
    evidence: dict[str, Any] = {
        "node": node.name,
        "node_address": node.address,
        "port": port.name or str(port.if_index),
        "samples_24h": day.count(),
        "stored_at": state.at.isoformat() if state else None,
        "node_last_poll": node.poll_status,
    }
    recent = list(day.order_by("-at").values("at", "oper_status", "errors_delta", "flaps")[:12])
    evidence["recent_samples"] = [
        {
            "at": r["at"].isoformat(),
            "oper_status": _status(r["oper_status"]),
            "new_errors": r["errors_delta"],
            "flaps": r["flaps"],
        }
        for r in recent
    ]

    oper = _status(state.oper_status) if state else None
    admin = _status(state.admin_status) if state else None
    last_change_at = state.last_change_at if state else None
    util_in = state.util_in if state else None
    util_out = state.util_out if state else None
    sampled_at = state.at if state else None
    reachable: bool | None = None

    if live:
        target = target_for(node, timeout=max(0.2, timeout * 0.8), retries=0)
        if not connection.in_atomic_block:
            connection.close()  # back to the pool while the switch answers
        reading = run_async(poll_one(target, [port.if_index], deadline=timeout))
        reachable = reading.ok and port.if_index in reading.interfaces
        evidence["live_poll"] = {"status": reading.status, "error": reading.error, "ms": int(reading.seconds * 1000)}
        if reachable:
            live_reading = reading.interfaces[port.if_index]
            change = actions.compare(
                state, live_reading, reading.uptime_ticks, False, now, live_reading.speed_bps or port.speed_bps
            )
            oper, admin = _status(live_reading.oper_status), _status(live_reading.admin_status)
            last_change_at = change["last_change_at"] or last_change_at
            sampled_at = now
            if change["errors_delta"] is not None:
                errors_hour = (errors_hour or 0) + change["errors_delta"]
                evidence["errors_since_last_poll"] = change["errors_delta"]
            if change["discards_delta"] is not None:
                discards_hour = (discards_hour or 0) + change["discards_delta"]
            if change["flaps"]:
                flaps += change["flaps"]
                evidence["link_changed_since_last_poll"] = True
            rates = change["rates"]
            if rates is not None:
                util_in, util_out = rates.util_in, rates.util_out
            evidence["live"] = {
                "oper_status": oper,
                "admin_status": admin,
                "in_errors": live_reading.in_errors,
                "out_errors": live_reading.out_errors,
            }

    errors_per_minute = None if errors_hour is None else round(errors_hour / 60.0, 2)
    stale = sampled_at is None or now - sampled_at > STALE_AFTER
    return PortHealth(
        node_name=node.name,
        node_kind=node.kind,
        port_name=port.name or str(port.if_index),
        if_index=port.if_index,
        oper_status=oper,
        admin_status=admin,
        last_change_at=last_change_at,
        flaps_24h=flaps,
        errors_last_hour=errors_hour,
        errors_per_minute=errors_per_minute,
        discards_last_hour=discards_hour,
        utilisation_in=util_in,
        utilisation_out=util_out,
        uplink_utilisation=_uplink_utilisation(node),
        sampled_at=sampled_at,
        stale=stale,
        node_reachable=reachable,
        evidence=evidence,
    )


__all__ = ["OperStatus", "PortHealth", "node_of_subscriber", "port_health"]
