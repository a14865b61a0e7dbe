"""Ping the router's WAN address from the operator's side (``network.ping``): loss and latency."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beskontakt.cpe import profiles

from . import Check
from .base import CheckContext, Finding, Status, Unknown, jsonable

COUNT = 3
INTERVAL = 0.2
LOSS_WARNING = 0.2  # a fifth of the packets lost
SLOW_MS = 100.0


def _field(result: Any, *names: str) -> Any:
    for name in names:
        if isinstance(result, dict) and name in result:
            return result[name]
        if hasattr(result, name):
            return getattr(result, name)
    return None


def run(ctx: CheckContext) -> Finding:
    """Fault when nothing comes back; warning on loss or slow answers."""
    ping = ctx.sources.ping
    if ping is None:
        raise Unknown("ping is not available")
    snapshot = ctx.device()
    host = snapshot.value(profiles.WAN_IP)
    if not host:
        raise Unknown("the router's WAN address is not known")
    # Per answer; the pings go out ``INTERVAL`` apart, so all of them fit in the check's time.
    timeout = max(0.2, min(1.0, ctx.remaining() - 0.3 - COUNT * INTERVAL))
    result = ping(str(host), count=COUNT, interval=INTERVAL, timeout=timeout)
    sent = int(_field(result, "sent", "packets_sent") or 0)
    received = int(_field(result, "received", "packets_received") or 0)
    loss = _field(result, "loss", "packet_loss")
    if loss is None:
        loss = 1 - received / sent if sent else 1.0
    avg = _field(result, "avg_ms", "avg_rtt", "avg")
    summary = {"sent": sent, "received": received, "loss": round(float(loss), 3), "avg_ms": avg}
    evidence = {"host_kind": "wan", "result": jsonable(result)}
    if sent == 0:
        raise Unknown(str(_field(result, "error") or "no ping was sent"), **evidence)
    if received == 0:
        return Finding(Status.FAULT, summary, evidence)
    if float(loss) >= LOSS_WARNING or (avg is not None and float(avg) >= SLOW_MS):
        return Finding(Status.WARNING, summary, evidence)
    return Finding(Status.OK, summary, evidence)


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    if summary.get("received") == 0:
        return _("No answer to %(n)s pings") % {"n": summary.get("sent")}
    avg = summary.get("avg_ms")
    return _("%(got)s of %(sent)s answered, average %(avg)s ms") % {
        "got": summary.get("received"),
        "sent": summary.get("sent"),
        "avg": round(float(avg), 1) if avg is not None else "—",
    }


CHECK = Check("ping", gettext_lazy("Ping of the router"), run, describe)
