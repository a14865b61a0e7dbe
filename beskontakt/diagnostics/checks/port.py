"""The subscriber's switch port: link state, error growth, flaps and uplink load (from ``network.health``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import Check
from .base import CheckContext, Finding, Status, Unknown, jsonable

# Input errors (CRC, alignment) in the last hour, and link flaps in 24 hours.
ERRORS_WARNING = 10
ERRORS_FAULT = 100
FLAPS_WARNING = 1
FLAPS_FAULT = 3
UPLINK_BUSY = 0.9


def _up(value: Any) -> bool | None:
    if value is None:
        return None
    text = str(getattr(value, "value", value)).strip().lower()
    if text in {"up", "1", "true"}:
        return True
    if text in {"down", "2", "false", "lowerlayerdown", "7", "notpresent", "6"}:
        return False
    return None


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def run(ctx: CheckContext) -> Finding:
    """Fault when the port is down or errors/flaps are high; warning on some errors, flaps or a full uplink."""
    health = ctx.port_health()
    evidence = jsonable(health)
    if getattr(health, "node_reachable", True) is False and getattr(health, "stale", False):
        raise Unknown("the switch does not answer and the last sample is too old", **evidence)
    oper, admin = _up(getattr(health, "oper_status", None)), _up(getattr(health, "admin_status", None))
    errors = int(_number(getattr(health, "errors_last_hour", 0)))
    per_minute = _number(getattr(health, "errors_per_minute", 0))
    flaps = int(_number(getattr(health, "flaps_24h", 0)))
    uplink = getattr(health, "uplink_utilisation", None)
    summary = {
        "oper": {True: "up", False: "down", None: "unknown"}[oper],
        "admin": {True: "up", False: "down", None: "unknown"}[admin],
        "errors_last_hour": errors,
        "errors_rising": per_minute > 0,
        "flaps_24h": flaps,
        "uplink_busy": uplink is not None and _number(uplink) >= UPLINK_BUSY,
        "stale": bool(getattr(health, "stale", False)),
    }
    line_errors = errors >= ERRORS_FAULT or flaps >= FLAPS_FAULT or (errors >= ERRORS_WARNING and per_minute > 0)
    summary["line_errors"] = line_errors
    if admin is False or oper is False or line_errors:
        status = Status.FAULT
    elif errors >= ERRORS_WARNING or flaps >= FLAPS_WARNING or summary["uplink_busy"]:
        status = Status.WARNING
    elif oper is None:
        raise Unknown("the port's link state is not known", **evidence)
    else:
        status = Status.OK
    return Finding(status, summary, evidence)


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    if summary.get("admin") == "down":
        return _("Port disabled on the switch")
    if summary.get("oper") == "down":
        return _("No link on the switch port")
    parts = [
        _("link up"),
        _("%(n)s input errors in the last hour") % {"n": summary.get("errors_last_hour", 0)},
        _("%(n)s link flaps in 24 h") % {"n": summary.get("flaps_24h", 0)},
    ]
    if summary.get("errors_rising"):
        parts.append(_("errors still growing"))
    if summary.get("uplink_busy"):
        parts.append(_("the switch uplink is overloaded"))
    if summary.get("stale"):
        parts.append(_("last sample is old"))
    return ", ".join(str(p) for p in parts)


CHECK = Check("port", gettext_lazy("Switch port"), run, describe)
