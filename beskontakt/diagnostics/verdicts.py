"""From the checks' results to one verdict: what is wrong, how sure, and the next step.

The rules are tried in order; the first that matches gives the verdict (code, parameters,
severity, next step, the remote fix to offer and the checks that are its evidence). Outages and
billing come first — nothing at home needs fixing then — and "healthy" only when no check found
anything. ``title``/``advice`` word a verdict for the agent in the active language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import CheckStatus, DiagnosisRun

Status = CheckStatus
Severity = DiagnosisRun.Severity
NextStep = DiagnosisRun.NextStep

# Remote fixes a verdict may recommend (and the case page offers).
FIX_REBOOT = "reboot"
FIX_WIFI_CHANNEL = "wifi_channel"
FIX_WIFI_PASSWORD = "wifi_password"  # noqa: S105 - a fix's name
FIX_REPROVISION = "reprovision"
FIX_SPEED_TEST = "speed_test"
FIXES = (FIX_REBOOT, FIX_WIFI_CHANNEL, FIX_WIFI_PASSWORD, FIX_REPROVISION, FIX_SPEED_TEST)

# Verdict codes.
KNOWN_OUTAGE = "known_outage"
BILLING_BLOCKED = "billing_blocked"
NO_LINK = "no_link"
CABLE_FAULT = "cable_fault"
LOW_OPTICAL = "low_optical"
LOW_DSL_MARGIN = "low_dsl_margin"
PPP_AUTH_FAILURE = "ppp_auth_failure"
WIFI_CONGESTED = "wifi_congested"
ROUTER_NOT_ANSWERING = "router_not_answering"
WAN_DOWN = "wan_down"
WEAK_WIFI = "weak_wifi"
DEGRADED = "degraded"
HEALTHY = "healthy"
INCONCLUSIVE = "inconclusive"


class Result(Protocol):
    """What the rules read of a check's result (a ``CheckRecord`` or a stored ``CheckResult``)."""

    status: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    """The conclusion of a run."""

    code: str
    severity: str
    next_step: str
    params: dict[str, Any] = field(default_factory=dict)
    fix: str = ""
    evidence: tuple[str, ...] = ()


class Findings:
    """The results of one run by check code, with the questions the rules ask."""

    def __init__(self, results: Mapping[str, Result]) -> None:
        self.results = results

    def status(self, code: str) -> str:
        result = self.results.get(code)
        return result.status if result is not None else Status.UNKNOWN

    def summary(self, code: str) -> dict[str, Any]:
        result = self.results.get(code)
        return dict(result.summary or {}) if result is not None else {}

    def is_(self, code: str, *statuses: str) -> bool:
        return self.status(code) in statuses

    def no_visit(self) -> bool:
        """A restriction forbids entering the home: the contactless path."""
        return bool(self.summary("restrictions").get("no_visit"))

    def port_down(self) -> bool:
        summary = self.summary("port")
        return self.is_("port", Status.FAULT) and "down" in (summary.get("oper"), summary.get("admin"))

    def port_up(self) -> bool:
        return not self.port_down()


Rule = Callable[[Findings], Verdict | None]


def _outage(f: Findings) -> Verdict | None:
    if not f.is_("outage", Status.FAULT):
        return None
    s = f.summary("outage")
    params = {"title": s.get("title", ""), "ends_at": s.get("ends_at"), "scope": s.get("scope", "")}
    return Verdict(KNOWN_OUTAGE, Severity.FAULT, NextStep.NONE, params, evidence=("outage",))


def _billing(f: Findings) -> Verdict | None:
    if not f.is_("billing", Status.FAULT):
        return None
    s = f.summary("billing")
    params = {"billing_status": s.get("billing_status"), "balance": s.get("balance")}
    return Verdict(BILLING_BLOCKED, Severity.FAULT, NextStep.BILLING, params, evidence=("billing",))


def _visit_or_contactless(f: Findings) -> str:
    return NextStep.PLAYBOOK if f.no_visit() else NextStep.VISIT


def _no_link(f: Findings) -> Verdict | None:
    if not (f.port_down() and not f.is_("cpe", Status.OK)):
        return None
    params = {"contactless": f.no_visit(), "port_disabled": f.summary("port").get("admin") == "down"}
    return Verdict(NO_LINK, Severity.FAULT, _visit_or_contactless(f), params, evidence=("port", "cpe"))


def _cable(f: Findings) -> Verdict | None:
    port = f.summary("port")
    if not (f.is_("port", Status.FAULT) and port.get("line_errors") and f.port_up() and f.is_("cpe", Status.OK)):
        return None
    params = {
        "contactless": f.no_visit(),
        "errors_last_hour": port.get("errors_last_hour", 0),
        "flaps_24h": port.get("flaps_24h", 0),
    }
    # The article's case: a cable delivered to the door and connected with a specialist on the phone.
    step = NextStep.PLAYBOOK if f.no_visit() else NextStep.VISIT
    return Verdict(CABLE_FAULT, Severity.FAULT, step, params, evidence=("port", "cpe"))


def _line(f: Findings) -> Verdict | None:
    if not f.is_("line", Status.FAULT):
        return None
    s = f.summary("line")
    if s.get("kind") == "optical":
        params = {"rx_dbm": s.get("rx_dbm"), "contactless": f.no_visit()}
        return Verdict(LOW_OPTICAL, Severity.FAULT, NextStep.PLAYBOOK, params, evidence=("line",))
    params = {"margin_db": s.get("margin_db"), "contactless": f.no_visit()}
    return Verdict(LOW_DSL_MARGIN, Severity.FAULT, _visit_or_contactless(f), params, evidence=("line",))


def _ppp(f: Findings) -> Verdict | None:
    s = f.summary("wan")
    if not (f.is_("wan", Status.FAULT) and s.get("auth_failure")):
        return None
    params = {"last_error": s.get("last_error", "")}
    return Verdict(PPP_AUTH_FAILURE, Severity.FAULT, NextStep.REMOTE_FIX, params, FIX_REPROVISION, ("wan",))


def _wifi(f: Findings) -> Verdict | None:
    s = f.summary("wifi")
    if not (f.is_("wifi", Status.FAULT) and s.get("congested") and s.get("suggested_channel")):
        return None
    params = {"channel": s.get("suggested_channel"), "current": s.get("channel"), "neighbours": s.get("neighbours")}
    return Verdict(WIFI_CONGESTED, Severity.WARNING, NextStep.REMOTE_FIX, params, FIX_WIFI_CHANNEL, ("wifi",))


def _router(f: Findings) -> Verdict | None:
    if not (f.is_("cpe", Status.FAULT) and f.port_up()):
        return None
    params = {"last_inform_at": f.summary("cpe").get("last_inform_at")}
    evidence = ("cpe", "port") if f.is_("port", Status.OK, Status.WARNING) else ("cpe",)
    return Verdict(ROUTER_NOT_ANSWERING, Severity.FAULT, NextStep.REMOTE_FIX, params, FIX_REBOOT, evidence)


def _wan(f: Findings) -> Verdict | None:
    if not f.is_("wan", Status.FAULT):
        return None
    s = f.summary("wan")
    params = {"state": s.get("state"), "last_error": s.get("last_error", "")}
    return Verdict(WAN_DOWN, Severity.FAULT, NextStep.REMOTE_FIX, params, FIX_REBOOT, ("wan",))


def _weak_wifi(f: Findings) -> Verdict | None:
    s = f.summary("wifi")
    if not (f.is_("wifi", Status.WARNING) and s.get("weak_clients")):
        return None
    params = {"weak": s.get("weak_clients"), "clients": s.get("clients")}
    return Verdict(WEAK_WIFI, Severity.WARNING, NextStep.PLAYBOOK, params, evidence=("wifi",))


# Checks whose warnings and faults mean a problem with the service (restrictions only shape the next step).
_SERVICE_CHECKS = ("billing", "outage", "port", "line", "cpe", "wan", "wifi", "ping")


def _degraded(f: Findings) -> Verdict | None:
    found = [c for c in _SERVICE_CHECKS if f.is_(c, Status.WARNING, Status.FAULT)]
    if not found:
        return None
    # Only warnings of little weight (a negative balance not yet blocked) still count as healthy.
    if found == ["billing"]:
        return None
    return Verdict(DEGRADED, Severity.WARNING, _visit_or_contactless(f), {"checks": found}, evidence=tuple(found))


def _healthy(f: Findings) -> Verdict | None:
    if not (f.is_("cpe", Status.OK) or f.is_("port", Status.OK)):
        return None
    unknown = [c for c in _SERVICE_CHECKS if f.is_(c, Status.UNKNOWN)]
    params = {"unknown": unknown, "balance_negative": f.is_("billing", Status.WARNING)}
    evidence = tuple(c for c in _SERVICE_CHECKS if f.is_(c, Status.OK))
    return Verdict(HEALTHY, Severity.OK, NextStep.NONE, params, evidence=evidence)


RULES: list[Rule] = [
    _outage,
    _billing,
    _no_link,
    _cable,
    _line,
    _ppp,
    _wifi,
    _router,
    _wan,
    _weak_wifi,
    _degraded,
    _healthy,
]


def decide(results: Mapping[str, Result]) -> Verdict:
    """The verdict of the first rule that matches ``results`` (check code -> result)."""
    findings = Findings(results)
    for rule in RULES:
        verdict = rule(findings)
        if verdict is not None:
            return verdict
    unknown = [c for c in _SERVICE_CHECKS if findings.is_(c, Status.UNKNOWN)]
    return Verdict(INCONCLUSIVE, Severity.UNKNOWN, NextStep.NONE, {"unknown": unknown})


# --- words ---------------------------------------------------------------------------------


def _when(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    return date_format(timezone.localtime(moment), "d.m.Y H:i") if moment else ""


def title(code: str, params: Mapping[str, Any]) -> str:
    """The verdict in one line, for the agent."""
    texts: dict[str, Callable[[], str]] = {
        KNOWN_OUTAGE: lambda: _("Known outage: %(title)s") % {"title": params.get("title", "")},
        BILLING_BLOCKED: lambda: _("Service blocked by billing: the balance needs a top-up"),
        NO_LINK: lambda: _("No link to the home: power or cable at the subscriber, or the switch"),
        CABLE_FAULT: lambda: _("Cable fault: replace the patch cord"),
        LOW_OPTICAL: lambda: _("Weak optical signal: clean or reconnect the fibre connector of the ONT"),
        LOW_DSL_MARGIN: lambda: _("Noisy DSL line: the line needs checking"),
        PPP_AUTH_FAILURE: lambda: _("Wrong PPP credentials on the router: re-provision it"),
        WIFI_CONGESTED: lambda: (
            _("Wi-Fi channel congested: change the channel to %(channel)s") % {"channel": params.get("channel")}
        ),
        ROUTER_NOT_ANSWERING: lambda: _("Router not answering: reboot it"),
        WAN_DOWN: lambda: _("The router has no internet connection: reboot it"),
        WEAK_WIFI: lambda: _("Devices too far from the router: weak Wi-Fi signal"),
        DEGRADED: lambda: _("Something is not right: see the checks marked"),
        HEALTHY: lambda: _("Line and router healthy"),
        INCONCLUSIVE: lambda: _("Not enough data for a verdict"),
    }
    text = texts.get(code)
    return text() if text else code


def advice(code: str, params: Mapping[str, Any]) -> str:
    """What to do next, for the agent."""
    contactless = bool(params.get("contactless"))
    if code == KNOWN_OUTAGE:
        ends = _when(params.get("ends_at"))
        if ends:
            return _("No visit needed. Tell the subscriber about the outage; service is expected back by %(when)s.") % {
                "when": ends
            }
        return _("No visit needed. Tell the subscriber about the outage; we are working on it.")
    if code == BILLING_BLOCKED:
        return _("Explain that the service is blocked (balance %(balance)s ₽) and how to top up.") % {
            "balance": params.get("balance", "—")
        }
    if code == NO_LINK:
        if contactless:
            return _(
                "The home is under a no-entry restriction: ask the subscriber to check the router's power and the "
                "cable plug with a specialist on the phone; if that does not help, send the NOC to the switch."
            )
        return _(
            "Ask the subscriber to check the router's power and the cable plug; if the link stays down, "
            "send a technician (switch or cable)."
        )
    if code == CABLE_FAULT:
        if contactless:
            return _(
                "Contactless path: deliver a new patch cord to the door and guide the subscriber through "
                "connecting it on the phone."
            )
        return _("Deliver a new patch cord to the door for the subscriber to connect, or book a technician's visit.")
    if code == LOW_OPTICAL:
        return _(
            "Guide the subscriber to reconnect (and clean) the fibre connector of the ONT; if the level stays "
            "low, a technician must check the fibre."
        )
    if code == LOW_DSL_MARGIN:
        if contactless:
            return _("Contactless path: check the phone line filters with the subscriber on the phone.")
        return _("Check the filters with the subscriber; if the margin stays low, book a line check.")
    if code == PPP_AUTH_FAILURE:
        return _("Re-provision the router remotely; it gets the right PPP credentials from the ACS.")
    if code == WIFI_CONGESTED:
        return _("Change the Wi-Fi channel remotely to %(channel)s (the least used one).") % {
            "channel": params.get("channel")
        }
    if code in (ROUTER_NOT_ANSWERING, WAN_DOWN):
        return _("Reboot the router remotely; if it does not come back, ask the subscriber to power-cycle it.")
    if code == WEAK_WIFI:
        return _("Suggest moving the router to a central place or using a Wi-Fi repeater (setup guide).")
    if code == DEGRADED:
        return _("Look at the checks marked and repeat the diagnosis in a few minutes.")
    if code == HEALTHY:
        return _("Nothing to fix on the line or the router; ask about the devices and the services used.")
    return _("Repeat the diagnosis; if it stays inconclusive, escalate to the NOC.")
