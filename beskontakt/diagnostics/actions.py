"""Every write of the diagnostics app: diagnosis runs and remote fixes.

``run_diagnosis`` checks who asks and how often, runs all checks in parallel, stores the run with
each check's result and evidence, and puts a DIAGNOSIS event on the case's timeline. The remote
fixes (reboot, Wi-Fi channel or password, re-provision, speed test) go through the
``DeviceManagement`` adapter and are each recorded as a REMOTE_FIX case event with their outcome;
a Wi-Fi password is never written to an event or a log.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from beskontakt.accounts.roles import Role, user_can
from beskontakt.cases import actions as case_actions
from beskontakt.cases.models import Case, Event
from beskontakt.cases.models.case import ACTIVE_STATUSES
from beskontakt.cpe import profiles
from beskontakt.cpe.management import Outcome
from beskontakt.subscribers.models import Channel, Equipment, Subscriber

from . import verdicts
from .checks import CHECKS, Check
from .checks.base import Restriction, SubscriberFacts
from .checks.wifi import valid_channel
from .models import CheckResult, DiagnosisRun
from .runner import run_checks
from .sources import current_sources

log = logging.getLogger(__name__)
Origin = DiagnosisRun.Origin

# At most one run per subscriber this often (seconds): staff, and the subscriber's own self-check.
STAFF_INTERVAL = 10
SELF_INTERVAL = 30
# Bounds of the remote operations (seconds).
FIX_TIMEOUT = 10.0
SPEED_TEST_TIMEOUT = 30.0
PASSWORD_MIN, PASSWORD_MAX = 8, 63


# --- who may, how often -------------------------------------------------------------------


def _check_requester(subscriber: Subscriber, actor: Any, origin: str) -> None:
    """Staff need ``diagnosis.run``; a portal user only their own line; Telegram is vouched for by the linked chat."""
    if origin not in Origin.values:
        raise ValidationError({"origin": _("Unknown origin of a diagnosis.")})
    if origin == Origin.TELEGRAM:
        return
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Log in to run a diagnosis."))
    if getattr(actor, "role", None) == Role.SUBSCRIBER:
        if origin != Origin.PORTAL or subscriber.portal_user_id != actor.pk:
            raise PermissionDenied(_("You can only check your own connection."))
        return
    if not user_can(actor, "diagnosis.run"):
        raise PermissionDenied(_("Your role does not allow running a diagnosis."))


def _throttle(subscriber: Subscriber, origin: str) -> None:
    """Refuse a run that comes too soon after the last one for this subscriber."""
    interval = SELF_INTERVAL if origin in (Origin.PORTAL, Origin.TELEGRAM) else STAFF_INTERVAL
    scope = "self" if origin in (Origin.PORTAL, Origin.TELEGRAM) else "staff"
    key = f"beskontakt:diagnosis:{scope}:{subscriber.pk}"
    if not cache.add(key, time.time() + interval, timeout=interval):
        until = cache.get(key) or time.time() + interval
        wait = max(1, round(until - time.time()))
        raise ValidationError(
            _("A diagnosis of this line has just run. Try again in %(seconds)s s.") % {"seconds": wait},
            code="rate_limited",
            params={"wait": wait},
        )


def wait_seconds(error: ValidationError) -> int:
    """Seconds to wait from a rate-limit ``ValidationError`` (0 for any other error)."""
    if getattr(error, "code", None) != "rate_limited":
        return 0
    return int((getattr(error, "params", None) or {}).get("wait", 1))


# --- the facts and the run ----------------------------------------------------------------


def gather_facts(subscriber: Subscriber) -> SubscriberFacts:
    """What the checks need of the subscriber, read before the checks start."""
    now = timezone.now()
    restrictions = tuple(
        Restriction(r.kind, r.valid_until) for r in subscriber.restrictions.all() if r.is_active_at(now)
    )
    order = {Equipment.Kind.ROUTER: 0, Equipment.Kind.ONT: 1}
    equipment = sorted(subscriber.equipment.all(), key=lambda e: (order.get(e.kind, 2), e.pk))  # type: ignore[call-overload]
    fresh = Subscriber.objects.only("billing_status", "balance").get(pk=subscriber.pk)
    return SubscriberFacts(
        subscriber_id=subscriber.pk,
        contract_number=subscriber.contract_number,
        billing_status=fresh.billing_status,
        balance=fresh.balance,
        restrictions=restrictions,
        serial_numbers=tuple(e.serial_number for e in equipment),
    )


def run_diagnosis(
    subscriber: Subscriber,
    *,
    case: Case | None = None,
    actor: Any = None,
    origin: str = Origin.AGENT,
    checks: list[Check] | None = None,
) -> DiagnosisRun:
    """Diagnose ``subscriber``'s line and device now and store the run (with a DIAGNOSIS event on ``case``).

    Raises ``PermissionDenied`` for someone who may not, ``ValidationError`` (code ``rate_limited``)
    for a run too soon after the last. A check that fails or hangs is ``unknown``; a run that
    cannot be evaluated at all is stored as ``failed`` — never an exception to the caller.
    """
    _check_requester(subscriber, actor, origin)
    if case is not None and case.subscriber_id != subscriber.pk:
        raise ValidationError({"case": _("This case belongs to another subscriber.")})
    _throttle(subscriber, origin)
    requested_by = actor if getattr(actor, "is_authenticated", False) else None
    run = DiagnosisRun.objects.create(subscriber=subscriber, case=case, requested_by=requested_by, origin=origin)
    started = time.monotonic()
    try:
        facts = gather_facts(subscriber)
        timeout = float(settings.DIAGNOSIS_CHECK_TIMEOUT_SECONDS)
        records = run_checks(facts, checks or CHECKS, current_sources(), timeout)
        verdict = verdicts.decide({r.code: r for r in records})
    except Exception as exc:
        log.exception("diagnosis %s failed", run.pk)
        run.status = DiagnosisRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = timezone.now()
        run.duration_ms = round((time.monotonic() - started) * 1000)
        run.save(update_fields=["status", "error", "finished_at", "duration_ms"])
        return run
    positions = {check.code: index for index, check in enumerate(CHECKS)}
    with transaction.atomic():
        CheckResult.objects.bulk_create(
            [
                CheckResult(
                    run=run,
                    check_code=r.code,
                    status=r.status,
                    summary=r.summary,
                    evidence=r.evidence,
                    duration_ms=r.duration_ms,
                    error=r.error[:2000],
                    position=positions.get(r.code, 99),
                )
                for r in records
            ]
        )
        run.status = DiagnosisRun.Status.DONE
        run.verdict = verdict.code
        run.verdict_params = {**verdict.params, "evidence": list(verdict.evidence)}
        run.severity = verdict.severity
        run.next_step = verdict.next_step
        run.recommended_fix = verdict.fix
        run.finished_at = timezone.now()
        run.duration_ms = round((time.monotonic() - started) * 1000)
        run.save()
        if case is not None:
            case_actions.record(
                case,
                Event.Kind.DIAGNOSIS,
                by=requested_by,
                run=run.pk,
                verdict=verdict.code,
                severity=verdict.severity,
                next_step=verdict.next_step,
                fix=verdict.fix,
                params=verdict.params,
            )
    if origin in (Origin.PORTAL, Origin.TELEGRAM):
        if verdict.fix == verdicts.FIX_WIFI_CHANNEL:
            _self_fix_wifi(run, verdict.params.get("channel"))
        elif verdict.code in NEEDS_SPECIALIST and case is None:
            _hand_to_desk(run)
    return run


# Self-check verdicts a person at the desk must act on: the subscriber is told a specialist will contact them.
NEEDS_SPECIALIST = frozenset(
    {
        verdicts.NO_LINK,
        verdicts.CABLE_FAULT,
        verdicts.LOW_OPTICAL,
        verdicts.LOW_DSL_MARGIN,
        verdicts.PPP_AUTH_FAILURE,
        verdicts.ROUTER_NOT_ANSWERING,
        verdicts.WAN_DOWN,
        verdicts.DEGRADED,
    }
)


def _hand_to_desk(run: DiagnosisRun) -> None:
    """Put a self-check that found a problem on the subscriber's open case (or a new one) for an agent."""
    channel = Channel.TELEGRAM if run.origin == Origin.TELEGRAM else Channel.PORTAL
    with transaction.atomic():
        case = (
            Case.objects.filter(subscriber=run.subscriber, status__in=ACTIVE_STATUSES, merged_into__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if case is None:
            with translation.override(settings.LANGUAGE_CODE):
                subject = _("Connection check found a problem: %(verdict)s") % {
                    "verdict": verdicts.title(run.verdict, run.verdict_params)
                }
            case = case_actions.open_case(subject=subject[:200], channel=channel, subscriber=run.subscriber)
        run.case = case
        run.save(update_fields=["case"])
        case_actions.record(
            case,
            Event.Kind.DIAGNOSIS,
            run=run.pk,
            verdict=run.verdict,
            severity=run.severity,
            next_step=run.next_step,
            fix=run.recommended_fix,
            params={k: v for k, v in run.verdict_params.items() if k != "evidence"},
            origin=run.origin,
        )


def _self_fix_wifi(run: DiagnosisRun, channel: Any) -> None:
    """A subscriber's self-check found a congested channel: switch it at once (a safe fix) and note it on the run."""
    if not isinstance(channel, int) or not valid_channel(channel):
        return
    values = wifi_channel_values(channel)
    try:
        outcome = _operate(run.subscriber, lambda dm, device: dm.set_values(device, values, timeout=FIX_TIMEOUT))
    except NoDevice:
        return
    run.applied_fix = verdicts.FIX_WIFI_CHANNEL
    run.fix_outcome = _outcome_data(outcome) | {"channel": channel}
    run.save(update_fields=["applied_fix", "fix_outcome"])


# --- remote fixes -------------------------------------------------------------------------


class NoDevice(ValidationError):
    """The subscriber has no device the management system knows."""


def device_of(subscriber: Subscriber) -> tuple[Any, Any]:
    """(the DeviceManagement, the subscriber's managed device) — ``NoDevice`` when there is none."""
    factory = current_sources().device_management
    if factory is None:
        raise NoDevice(_("Device management is not configured."))
    management = factory()
    facts = gather_facts(subscriber)
    for serial in facts.serial_numbers:
        info = management.find_device(serial)
        if info is not None:
            return management, info
    raise NoDevice(_("The subscriber has no device managed remotely (no router or ONT known to the ACS)."))


def _operate(subscriber: Subscriber, call: Any) -> Outcome:
    management, info = device_of(subscriber)
    try:
        return call(management, info.device_id)
    except Exception as exc:
        log.warning("remote operation on %s failed: %s", info.device_id, type(exc).__name__)
        return Outcome(ok=False, detail=f"{type(exc).__name__}")


def _outcome_data(outcome: Outcome, *, keep_detail: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ok": bool(outcome.ok),
        "fault_code": outcome.fault_code,
        "timed_out": bool(outcome.timed_out),
    }
    if keep_detail and outcome.detail:
        data["detail"] = str(outcome.detail)[:300]
    return data


@dataclass(frozen=True)
class FixResult:
    """A remote fix's outcome as the case page shows it."""

    fix: str
    ok: bool
    fault_code: int | None
    timed_out: bool
    values: dict[str, Any]
    event: Event


def _require_fix(case: Case, by: Any) -> Subscriber:
    if not user_can(by, "device.operate"):
        raise PermissionDenied(_("Your role does not allow remote operations on devices."))
    if case.subscriber is None:
        raise ValidationError({"case": _("This case has no subscriber, so there is no device to operate.")})
    return case.subscriber


def _fix(
    case: Case, by: Any, fix: str, call: Any, params: dict[str, Any] | None = None, *, secret: bool = False
) -> FixResult:
    subscriber = _require_fix(case, by)
    outcome = _operate(subscriber, call)
    values = (
        {} if secret else {k: v for k, v in (outcome.values or {}).items() if isinstance(v, (int, float, str, bool))}
    )
    data = {"fix": fix, **_outcome_data(outcome, keep_detail=not secret), **(params or {})}
    if values:
        data["values"] = values
    event = case_actions.record(case, Event.Kind.REMOTE_FIX, by=by, **data)
    log.info("remote fix %s on case %s: ok=%s fault=%s", fix, case.pk, outcome.ok, outcome.fault_code)
    return FixResult(fix, bool(outcome.ok), outcome.fault_code, bool(outcome.timed_out), values, event)


def reboot_device(case: Case, *, by: Any) -> FixResult:
    """Reboot the subscriber's router now."""
    return _fix(case, by, verdicts.FIX_REBOOT, lambda dm, device: dm.reboot(device, timeout=FIX_TIMEOUT))


def change_wifi_channel(case: Case, *, by: Any, channel: int) -> FixResult:
    """Set the router's Wi-Fi channel (2.4 GHz 1–13 or a 5 GHz channel) and switch automatic choice off."""
    if not isinstance(channel, int) or not valid_channel(channel):
        raise ValidationError({"channel": _("Choose a Wi-Fi channel: 1–13 (2.4 GHz) or a 5 GHz channel such as 36.")})
    values = wifi_channel_values(channel)
    return _fix(
        case,
        by,
        verdicts.FIX_WIFI_CHANNEL,
        lambda dm, device: dm.set_values(device, values, timeout=FIX_TIMEOUT),
        {"channel": channel},
    )


def wifi_channel_values(channel: int) -> dict[str, Any]:
    """The logical values that put the router on ``channel`` (automatic choice off, or it would move back)."""
    return {profiles.WIFI_AUTO_CHANNEL: False, profiles.WIFI_CHANNEL: channel}


def validate_wifi_password(password: str) -> str:
    """A WPA2 passphrase: 8–63 printable ASCII characters, not blank."""
    value = password or ""
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise ValidationError(
            {
                "password": _("The Wi-Fi password must be %(min)d to %(max)d characters long.")
                % {"min": PASSWORD_MIN, "max": PASSWORD_MAX}
            }
        )
    if any(not (32 <= ord(ch) <= 126) for ch in value):
        raise ValidationError(
            {
                "password": _(
                    "Use Latin letters, digits and ordinary punctuation only (routers accept no other characters)."
                )
            }
        )
    if not value.strip():
        raise ValidationError({"password": _("The Wi-Fi password must not be only spaces.")})
    return value


def change_wifi_password(case: Case, *, by: Any, password: str) -> FixResult:
    """Set a new Wi-Fi password on the router (the password is not kept anywhere by Beskontakt)."""
    value = validate_wifi_password(password)
    return _fix(
        case,
        by,
        verdicts.FIX_WIFI_PASSWORD,
        lambda dm, device: dm.set_values(device, {profiles.WIFI_PASSWORD: value}, timeout=FIX_TIMEOUT),
        secret=True,
    )


def reprovision_device(case: Case, *, by: Any) -> FixResult:
    """Apply the presets again (PPP and management credentials, inform interval, Wi-Fi)."""
    return _fix(case, by, verdicts.FIX_REPROVISION, lambda dm, device: dm.reprovision(device, timeout=FIX_TIMEOUT))


def speed_test_url() -> str:
    """The file the router downloads for a speed test (``DIAGNOSIS_SPEED_TEST_URL``, else the ACS's own)."""
    default = settings.ACS_URL.rstrip("/") + "/files/speedtest"
    return str(settings.DIAGNOSIS_SPEED_TEST_URL or default)


def run_speed_test(case: Case, *, by: Any) -> FixResult:
    """Let the router download a test file (DownloadDiagnostics) and record the speed."""
    url = speed_test_url()
    return _fix(
        case,
        by,
        verdicts.FIX_SPEED_TEST,
        lambda dm, device: dm.speed_test(device, url, timeout=SPEED_TEST_TIMEOUT),
    )
