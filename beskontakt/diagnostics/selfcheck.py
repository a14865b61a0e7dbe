"""The subscriber's own "check my connection" (portal and Telegram): the same diagnosis, told safely.

The summary says what the subscriber can act on in plain words and nothing internal: no
switch names, no addresses, no readings, no other subscriber's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from beskontakt.subscribers.models import Subscriber

from . import verdicts
from .actions import run_diagnosis, wait_seconds
from .models import DiagnosisRun

Origin = DiagnosisRun.Origin


@dataclass(frozen=True)
class Summary:
    """What the subscriber is told: a headline, what it means, and how it looks (ok / warning / problem)."""

    headline: str
    body: str
    tone: str  # "ok", "warning" or "problem"


def _when(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    return date_format(timezone.localtime(moment), "d.m.Y H:i") if moment else ""


def summary_for(run: DiagnosisRun) -> Summary:
    """The subscriber-safe summary of ``run``."""
    code, params = run.verdict, run.verdict_params or {}
    if run.status != DiagnosisRun.Status.DONE:
        return Summary(_("We could not finish the check"), _("Please try again in a minute."), "warning")
    if code == verdicts.KNOWN_OUTAGE:
        ends = _when(params.get("ends_at"))
        body = (
            _("We are already fixing it; the service should be back by %(when)s. There is nothing you need to do.")
            % {"when": ends}
            if ends
            else _("We are already fixing it. There is nothing you need to do; we will tell you when it is over.")
        )
        return Summary(_("There is an outage in your area"), body, "problem")
    if code == verdicts.BILLING_BLOCKED:
        return Summary(
            _("Your internet is paused because of the balance"),
            _("Your balance is %(balance)s ₽. Top up your account and the service comes back within minutes.")
            % {"balance": params.get("balance", "—")},
            "problem",
        )
    if code == verdicts.WIFI_CONGESTED:
        outcome = run.fix_outcome or {}
        if run.applied_fix == verdicts.FIX_WIFI_CHANNEL and outcome.get("ok"):
            body = _(
                "Your router is online, but its Wi-Fi channel was crowded by the neighbours' networks — we have "
                "switched it to channel %(channel)s. Devices reconnect by themselves within a minute."
            ) % {"channel": outcome.get("channel")}
            return Summary(_("We have improved your Wi-Fi"), body, "ok")
        return Summary(
            _("Your Wi-Fi channel is crowded"),
            _(
                "Your router is online, but the neighbours' networks crowd its Wi-Fi channel. "
                "A specialist will contact you to change it."
            ),
            "warning",
        )
    if code == verdicts.WEAK_WIFI:
        return Summary(
            _("The line is fine, but some devices are far from the router"),
            _("Move the router to a more central place, or closer to the devices, for a stronger Wi-Fi signal."),
            "warning",
        )
    if code == verdicts.HEALTHY:
        return Summary(
            _("Your line and router are working"),
            _(
                "We found no problem on our side. If something still does not work, write to us "
                "and tell us what exactly."
            ),
            "ok",
        )
    if code == verdicts.INCONCLUSIVE:
        return Summary(
            _("We could not check everything"),
            _("Please try again in a few minutes, or write to us."),
            "warning",
        )
    if code in (verdicts.ROUTER_NOT_ANSWERING, verdicts.WAN_DOWN, verdicts.PPP_AUTH_FAILURE):
        return Summary(
            _("Your router needs attention"),
            _("We have passed the check to a specialist who will fix it remotely or contact you shortly."),
            "problem",
        )
    return Summary(
        _("We found a problem on the line to your home"),
        _("A specialist has the results and will contact you. You do not need to call us."),
        "problem",
    )


def check_for_subscriber(subscriber: Subscriber, *, actor: Any, origin: str) -> tuple[DiagnosisRun | None, Summary]:
    """Run the subscriber's self-check; (None, a "wait" summary) when asked again too soon."""
    try:
        run = run_diagnosis(subscriber, actor=actor, origin=origin)
    except ValidationError as exc:
        wait = wait_seconds(exc)
        if not wait:
            raise
        return None, Summary(
            _("You have just checked your connection"),
            _("Please try again in %(seconds)s seconds.") % {"seconds": wait},
            "warning",
        )
    return run, summary_for(run)


def telegram_check(entry: Any, info: Any) -> list[str]:
    """/check in Telegram: the linked subscriber's self-check, answered in the chat's language."""
    from django.utils import translation

    from beskontakt.inbox.telegram import texts

    with translation.override(entry.language):
        subscriber = entry.subscriber
        if subscriber is None:
            return [texts.link_first()]
        try:
            _run, summary = check_for_subscriber(subscriber, actor=None, origin=Origin.TELEGRAM)
        except (ValidationError, PermissionDenied):
            return [texts.check_failed()]
        return [texts.check_result(summary.headline, summary.body)]
