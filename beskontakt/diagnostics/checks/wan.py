"""The router's internet connection (WAN/PPP): connected or not, and the last PPP error."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beskontakt.cpe import profiles

from . import Check
from .base import CheckContext, Finding, Status, Unknown
from .device import require_answer

AUTH_ERRORS = {"ERROR_AUTHENTICATION_FAILURE", "ERROR_AUTHENTICATION_FAILED", "ERROR_AUTH_FAILURE"}


def run(ctx: CheckContext) -> Finding:
    """OK when the WAN is up; fault otherwise, flagging a PPP authentication failure."""
    snapshot = ctx.device()
    require_answer(snapshot)
    state = snapshot.value(profiles.WAN_STATUS)
    last_error = snapshot.value(profiles.WAN_PPP_LAST_ERROR) or ""
    evidence = {"status": state, "ppp_last_error": last_error, "ip": snapshot.value(profiles.WAN_IP)}
    if state is None:
        raise Unknown("the device does not report its WAN state", **evidence)
    auth = str(last_error).strip().upper() in AUTH_ERRORS
    summary = {"state": state, "last_error": last_error, "auth_failure": auth}
    if state == "up":
        return Finding(Status.OK, {**summary, "auth_failure": False}, evidence)
    return Finding(Status.FAULT, summary, evidence)


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    if summary.get("state") == "up":
        return _("Internet connection up")
    if summary.get("auth_failure"):
        return _("PPP login refused: wrong user name or password on the router")
    error = summary.get("last_error") or "—"
    return _("Internet connection down (%(state)s, last error %(error)s)") % {
        "state": summary.get("state"),
        "error": error,
    }


CHECK = Check("wan", gettext_lazy("Internet connection (WAN)"), run, describe)
