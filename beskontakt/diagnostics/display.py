"""How a run is shown to staff: the verdict and each check in words, fault codes in words, evidence as text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import verdicts
from .checks import get_check
from .models import CheckResult, CheckStatus, DiagnosisRun

FIX_NAMES = {
    verdicts.FIX_REBOOT: gettext_lazy("Reboot the router"),
    verdicts.FIX_WIFI_CHANNEL: gettext_lazy("Change the Wi-Fi channel"),
    verdicts.FIX_WIFI_PASSWORD: gettext_lazy("Change the Wi-Fi password"),
    verdicts.FIX_REPROVISION: gettext_lazy("Re-provision the router"),
    verdicts.FIX_SPEED_TEST: gettext_lazy("Speed test"),
}

# CWMP faults (TR-069 A.5.1) a remote fix may come back with, in words.
FAULT_WORDS = {
    9000: gettext_lazy("the router does not support this operation"),
    9001: gettext_lazy("the router refused the request"),
    9002: gettext_lazy("internal error in the router"),
    9003: gettext_lazy("the router rejected the arguments"),
    9004: gettext_lazy("the router is out of resources"),
    9005: gettext_lazy("the router has no such parameter"),
    9006: gettext_lazy("the router expected another type of value"),
    9007: gettext_lazy("the router does not accept this value"),
    9008: gettext_lazy("the router does not allow changing this parameter"),
    9010: gettext_lazy("the router could not download the file"),
    9015: gettext_lazy("the router could not reach the file server"),
}


def fault_words(code: int | None) -> str:
    """A CWMP fault code in words (any code, known or not)."""
    if code is None:
        return ""
    words = FAULT_WORDS.get(code)
    return f"{words} ({code})" if words else _("the router answered with fault %(code)s") % {"code": code}


def fix_name(code: str) -> str:
    """A remote fix's name for people."""
    return str(FIX_NAMES.get(code, code))


def outcome_words(data: dict[str, Any]) -> str:
    """A remote fix's outcome in words: done, the fault, or no answer in time."""
    if data.get("ok"):
        return _("done")
    if data.get("timed_out"):
        return _("the router did not answer in time (it will be done at its next contact)")
    if data.get("fault_code") is not None:
        return _("failed: %(reason)s") % {"reason": fault_words(data.get("fault_code"))}
    return _("failed")


@dataclass
class CheckRow:
    """One check of a run as the result panel shows it."""

    code: str
    title: str
    status: str
    status_label: str
    text: str
    duration_ms: int
    evidence: str
    error: str
    is_evidence: bool


STATUS_LABELS = dict(CheckStatus.choices)


def check_rows(run: DiagnosisRun) -> list[CheckRow]:
    """The run's checks in display order, each worded, with its evidence as indented JSON."""
    evidence_of_verdict = set((run.verdict_params or {}).get("evidence") or [])
    rows = []
    results: list[CheckResult] = list(run.checks.all())
    for result in sorted(results, key=lambda r: (r.position, r.pk)):
        check = get_check(result.check_code)
        title = str(check.title) if check else result.check_code
        if result.status == CheckStatus.UNKNOWN:
            text = _("Could not tell: %(reason)s") % {"reason": result.error or _("no data")}
        elif check is not None:
            try:
                text = check.describe(result.status, result.summary or {})
            except Exception:
                text = str(STATUS_LABELS.get(result.status, result.status))
        else:
            text = ""
        rows.append(
            CheckRow(
                code=result.check_code,
                title=title,
                status=result.status,
                status_label=str(STATUS_LABELS.get(result.status, result.status)),
                text=text,
                duration_ms=result.duration_ms,
                evidence=json.dumps(result.evidence, ensure_ascii=False, indent=2, sort_keys=True),
                error=result.error,
                is_evidence=result.check_code in evidence_of_verdict,
            )
        )
    return rows


def verdict_title(run: DiagnosisRun) -> str:
    """The run's verdict in one line."""
    if run.status == DiagnosisRun.Status.FAILED:
        return _("The diagnosis could not be completed")
    if run.status == DiagnosisRun.Status.RUNNING:
        return _("Diagnosis running…")
    return verdicts.title(run.verdict, run.verdict_params or {})


def verdict_advice(run: DiagnosisRun) -> str:
    """What to do next."""
    if run.status != DiagnosisRun.Status.DONE:
        return _("Try again in a few seconds.")
    return verdicts.advice(run.verdict, run.verdict_params or {})


def event_text(event: Any) -> str:
    """A DIAGNOSIS or REMOTE_FIX case event as a timeline line."""
    data = event.data or {}
    if event.kind == "diagnosis":
        return _("Diagnosis: %(verdict)s") % {
            "verdict": verdicts.title(data.get("verdict", ""), data.get("params") or {})
        }
    if event.kind == "remote_fix":
        name = fix_name(data.get("fix", ""))
        if data.get("fix") == verdicts.FIX_WIFI_CHANNEL and data.get("channel"):
            name = _("Wi-Fi channel → %(channel)s") % {"channel": data.get("channel")}
        text = _("Remote fix: %(fix)s — %(outcome)s") % {"fix": name, "outcome": outcome_words(data)}
        values = data.get("values") or {}
        if data.get("fix") == verdicts.FIX_SPEED_TEST and values.get("mbps") is not None:
            text += " · " + _("%(mbps)s Mbit/s") % {"mbps": values.get("mbps")}
        return text
    return str(event)
