"""Is the subscriber's router (or ONT) on line: does it answer, and when did it last inform the ACS."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import Check
from .base import CheckContext, Finding, Status, Unknown, jsonable


def run(ctx: CheckContext) -> Finding:
    """OK when the device answered just now or informed in time; fault when it is silent."""
    snapshot = ctx.device()
    info = snapshot.info
    online = True if snapshot.answered else info.online(timezone.now())
    summary = {
        "online": online,
        "answered": snapshot.answered,
        "last_inform_at": info.last_inform_at.isoformat() if info.last_inform_at else None,
        "model": " ".join(p for p in (info.manufacturer, info.product_class) if p),
        "software": info.software_version,
        "uptime": snapshot.value("uptime") if snapshot.answered else None,
    }
    evidence = {
        "device": jsonable(info),
        "connection_request": {
            "answered": snapshot.answered,
            "timed_out": snapshot.timed_out,
            "fault_code": snapshot.fault_code,
            "detail": snapshot.detail,
            "read_ms": snapshot.read_ms,
        },
    }
    if online is None:
        raise Unknown("the device's inform interval is not known and it did not answer", **evidence)
    return Finding(Status.OK if online else Status.FAULT, summary, evidence)


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    last = parse_datetime(summary["last_inform_at"]) if summary.get("last_inform_at") else None
    when = date_format(timezone.localtime(last), "d.m.Y H:i") if last else _("never")
    if summary.get("answered"):
        return _("Router answers (%(model)s, last inform %(when)s)") % {
            "model": summary.get("model") or "—",
            "when": when,
        }
    if summary.get("online"):
        return _("Router informs on schedule but did not answer now (last inform %(when)s)") % {"when": when}
    return _("Router not answering (last inform %(when)s)") % {"when": when}


CHECK = Check("cpe", gettext_lazy("Router on line"), run, describe)
