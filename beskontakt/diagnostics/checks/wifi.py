"""Wi-Fi: is the router's channel crowded by the neighbours' networks, and do clients hear it badly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beskontakt.cpe import profiles

from . import Check
from .base import CheckContext, Finding, Status, Unknown
from .device import require_answer

# 2.4 GHz channels closer than this overlap; the non-overlapping ones a router should use.
OVERLAP = 5
CHANNELS_24 = (1, 6, 11)
CHANNELS_5 = (36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 149, 153, 157, 161)
ALLOWED_24 = tuple(range(1, 14))
# Neighbouring networks on (or overlapping) the router's channel that make it "congested".
CONGESTED_AT = 3
# A client hearing the router below this is too far away (dBm).
WEAK_SIGNAL_DBM = -75


def is_24(channel: int) -> bool:
    """Whether ``channel`` is a 2.4 GHz channel."""
    return 1 <= channel <= 14


def valid_channel(channel: int) -> bool:
    """Whether a router may be set to ``channel`` here (2.4 GHz 1–13, or a 5 GHz channel)."""
    return channel in ALLOWED_24 or channel in CHANNELS_5


def crowding(channel: int, in_use: Iterable[int]) -> int:
    """How many neighbouring networks share or overlap ``channel``."""
    if is_24(channel):
        return sum(1 for other in in_use if is_24(other) and abs(other - channel) < OVERLAP)
    return sum(1 for other in in_use if other == channel)


def least_used(channel: int, in_use: list[int]) -> int:
    """The non-overlapping channel of the same band with the fewest neighbours (ties: the lowest)."""
    candidates = CHANNELS_24 if is_24(channel) else CHANNELS_5
    return min(candidates, key=lambda c: (crowding(c, in_use), c))


def run(ctx: CheckContext) -> Finding:
    """Fault when the channel is congested and a clearly better one exists; warning for weak clients."""
    snapshot = ctx.device()
    require_answer(snapshot)
    channel = snapshot.value(profiles.WIFI_CHANNEL)
    in_use = [c for c in (snapshot.value(profiles.WIFI_CHANNELS_IN_USE) or []) if isinstance(c, int)]
    signals = [s for s in (snapshot.value(profiles.WIFI_CLIENT_SIGNALS) or []) if isinstance(s, int)]
    clients = snapshot.value(profiles.WIFI_CLIENTS)
    if isinstance(clients, int) and 0 <= clients < len(signals):
        # A parameter cache may still hold stations that have left (instances are numbered in order of
        # association): the device's own count says how many of the newest are there now.
        signals = signals[len(signals) - clients :]
    evidence = {
        "channel": channel,
        "auto_channel": snapshot.value(profiles.WIFI_AUTO_CHANNEL),
        "channels_in_use": in_use,
        "clients": clients,
        "client_signals_dbm": signals,
        "ssid": snapshot.value(profiles.WIFI_SSID),
    }
    if channel is None:
        if snapshot.value(profiles.WIFI_SSID) is None:
            return Finding(Status.SKIPPED, {"no_wifi": True}, evidence)
        raise Unknown("the router does not report its Wi-Fi channel", **evidence)
    # Routers list their own channel among those in use (TR-181 ChannelsInUse): count the neighbours only.
    if channel in in_use:
        in_use.remove(channel)
    neighbours = crowding(channel, in_use)
    best = least_used(channel, in_use)
    weak = sum(1 for s in signals if s < WEAK_SIGNAL_DBM)
    congested = neighbours >= CONGESTED_AT and crowding(best, in_use) < neighbours and best != channel
    summary = {
        "channel": channel,
        "neighbours": neighbours,
        "congested": congested,
        "suggested_channel": best if congested else None,
        "clients": clients if isinstance(clients, int) else len(signals),
        "weak_clients": weak,
    }
    evidence["crowding"] = {str(c): crowding(c, in_use) for c in (CHANNELS_24 if is_24(channel) else CHANNELS_5)}
    if congested:
        return Finding(Status.FAULT, summary, evidence)
    if weak:
        return Finding(Status.WARNING, summary, evidence)
    return Finding(Status.OK, summary, evidence)


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    if summary.get("no_wifi"):
        return _("The device has no Wi-Fi")
    text = _("Channel %(channel)s, %(n)s neighbouring networks on it") % {
        "channel": summary.get("channel"),
        "n": summary.get("neighbours", 0),
    }
    if summary.get("congested"):
        text += "; " + _("channel %(best)s is freer") % {"best": summary.get("suggested_channel")}
    if summary.get("weak_clients"):
        text += "; " + _("%(n)s of %(all)s clients with a weak signal") % {
            "n": summary.get("weak_clients"),
            "all": summary.get("clients"),
        }
    return text


CHECK = Check("wifi", gettext_lazy("Wi-Fi channel and clients"), run, describe)
