"""The physical line as the device measures it: optical RX level (ONT) or DSL noise margin."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beskontakt.cpe import profiles

from . import Check
from .base import CheckContext, Finding, Status
from .device import require_answer

# GPON receiver (class B+): sensitivity about -28 dBm, overload about -8 dBm.
OPTICAL_FAULT_BELOW = -27.0
OPTICAL_WARNING_BELOW = -25.0
OPTICAL_OVERLOAD_ABOVE = -8.0
# DSL downstream noise margin, dB.
DSL_FAULT_BELOW = 6.0
DSL_WARNING_BELOW = 9.0


def run(ctx: CheckContext) -> Finding:
    """Fault on a weak optical signal or a low DSL margin; skipped for devices without either line."""
    snapshot = ctx.device()
    require_answer(snapshot)
    rx = snapshot.value(profiles.OPTICAL_RX_POWER)
    tx = snapshot.value(profiles.OPTICAL_TX_POWER)
    margin = snapshot.value(profiles.DSL_SNR_MARGIN_DOWN)
    evidence = {
        "optical_rx_dbm": rx,
        "optical_tx_dbm": tx,
        "dsl_status": snapshot.value(profiles.DSL_STATUS),
        "dsl_margin_down_db": margin,
        "dsl_margin_up_db": snapshot.value(profiles.DSL_SNR_MARGIN_UP),
    }
    if isinstance(rx, (int, float)):
        summary: dict[str, Any] = {"kind": "optical", "rx_dbm": rx}
        if rx < OPTICAL_FAULT_BELOW:
            return Finding(Status.FAULT, {**summary, "low": True}, evidence)
        if rx < OPTICAL_WARNING_BELOW or rx > OPTICAL_OVERLOAD_ABOVE:
            return Finding(Status.WARNING, {**summary, "low": rx < OPTICAL_WARNING_BELOW}, evidence)
        return Finding(Status.OK, summary, evidence)
    if isinstance(margin, (int, float)):
        summary = {"kind": "dsl", "margin_db": margin}
        if margin < DSL_FAULT_BELOW:
            return Finding(Status.FAULT, {**summary, "low": True}, evidence)
        if margin < DSL_WARNING_BELOW:
            return Finding(Status.WARNING, {**summary, "low": True}, evidence)
        return Finding(Status.OK, summary, evidence)
    return Finding(Status.SKIPPED, {"kind": "ethernet"}, evidence)


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    kind = summary.get("kind")
    if kind == "optical":
        text = _("Optical signal %(rx)s dBm") % {"rx": summary.get("rx_dbm")}
        return f"{text} — {_('too weak')}" if summary.get("low") and status == Status.FAULT else text
    if kind == "dsl":
        return _("DSL noise margin %(db)s dB") % {"db": summary.get("margin_db")}
    return _("No optical or DSL line on this device")


CHECK = Check("line", gettext_lazy("Optical / DSL line level"), run, describe)
