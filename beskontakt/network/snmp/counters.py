"""Rates and utilisation from two counter readings, with wrap and reset handling.

SNMP counters only grow, until they wrap (a 32-bit ``ifInOctets`` at 4 GiB; 64-bit
``ifHCInOctets`` practically never) or the device restarts them (reboot, line card
swap: ``sysUpTime`` goes back, or ``ifCounterDiscontinuityTime`` changes). A reset must
give *no rate*, never a huge spike; a wrap of a 32-bit counter is undone when the rate it
implies is plausible for the interface.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX32 = 2**32
MAX64 = 2**64
# A computed rate above this share of the interface speed is taken for a reset, not traffic.
PLAUSIBLE_OVER_SPEED = 1.1


@dataclass(frozen=True)
class CounterSnapshot:
    """One interface's counters as read at one moment.

    ``uptime_ticks`` is the agent's sysUpTime (hundredths of a second) and
    ``discontinuity`` its ifCounterDiscontinuityTime (``None`` if not supported);
    ``at`` is the poller's clock in seconds (used when sysUpTime is unknown).
    """

    at: float
    uptime_ticks: int | None
    in_octets: int | None
    out_octets: int | None
    bits: int = 64
    discontinuity: int | None = None


@dataclass(frozen=True)
class Rates:
    """Traffic between two snapshots: bits per second and share of the speed (0..1, ``None`` if unknown)."""

    seconds: float
    in_bps: float | None
    out_bps: float | None
    util_in: float | None
    util_out: float | None


def is_reset(previous: CounterSnapshot, current: CounterSnapshot) -> bool:
    """Whether the device restarted its counters between the two snapshots."""
    uptime_back = (
        previous.uptime_ticks is not None
        and current.uptime_ticks is not None
        and current.uptime_ticks < previous.uptime_ticks
    )
    discontinuity_moved = (
        previous.discontinuity is not None
        and current.discontinuity is not None
        and current.discontinuity != previous.discontinuity
    )
    return uptime_back or discontinuity_moved or previous.bits != current.bits


def elapsed_seconds(previous: CounterSnapshot, current: CounterSnapshot) -> float:
    """Seconds between the snapshots: by the agent's clock when both have it, else the poller's."""
    if previous.uptime_ticks is not None and current.uptime_ticks is not None:
        ticks = current.uptime_ticks - previous.uptime_ticks
        if ticks > 0:
            return ticks / 100.0
    return current.at - previous.at


def counter_delta(previous: int | None, current: int | None, bits: int) -> int | None:
    """Growth of a counter of ``bits`` width, undoing one wrap; ``None`` when unknown.

    A 64-bit counter that went back is taken for a reset (``None``): at 100 Gbit/s it
    would take decades to wrap.
    """
    if previous is None or current is None or previous < 0 or current < 0:
        return None
    if current >= previous:
        return current - previous
    if bits == 64:
        return None
    modulus = 2**bits
    if previous >= modulus or current >= modulus:
        return None
    return modulus - previous + current


def rates(previous: CounterSnapshot, current: CounterSnapshot, speed_bps: int | None) -> Rates | None:
    """Octet rates between two snapshots, or ``None`` after a reset or without elapsed time."""
    if is_reset(previous, current):
        return None
    seconds = elapsed_seconds(previous, current)
    if seconds <= 0:
        return None
    in_bps = _bps(counter_delta(previous.in_octets, current.in_octets, current.bits), seconds, speed_bps)
    out_bps = _bps(counter_delta(previous.out_octets, current.out_octets, current.bits), seconds, speed_bps)
    return Rates(
        seconds=seconds,
        in_bps=in_bps,
        out_bps=out_bps,
        util_in=utilisation(in_bps, speed_bps),
        util_out=utilisation(out_bps, speed_bps),
    )


def _bps(delta: int | None, seconds: float, speed_bps: int | None) -> float | None:
    if delta is None:
        return None
    bps = delta * 8 / seconds
    if speed_bps and bps > speed_bps * PLAUSIBLE_OVER_SPEED:
        return None
    return bps


def utilisation(bps: float | None, speed_bps: int | None) -> float | None:
    """Share of the interface speed in use (0..1), ``None`` when either is unknown."""
    if bps is None or not speed_bps:
        return None
    return min(1.0, bps / speed_bps)


def growth(previous: int | None, current: int | None, *, reset: bool) -> int | None:
    """Growth of an error/discard counter (32-bit) between polls; ``None`` after a reset."""
    if reset:
        return None
    return counter_delta(previous, current, 32)
