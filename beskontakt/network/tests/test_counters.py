"""Counter arithmetic: wraps are undone, resets give no rate (never a spike)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from beskontakt.network.snmp.counters import (
    MAX32,
    CounterSnapshot,
    counter_delta,
    growth,
    rates,
    utilisation,
)

SPEED = 1_000_000_000  # 1 Gbit/s


def snap(at: float, ticks: int | None, octets: int, bits: int = 64, disc: int | None = None) -> CounterSnapshot:
    return CounterSnapshot(
        at=at, uptime_ticks=ticks, in_octets=octets, out_octets=octets, bits=bits, discontinuity=disc
    )


@given(start=st.integers(0, MAX32 - 1), step=st.integers(0, MAX32 - 1))
def test_32_bit_wrap_is_undone(start: int, step: int) -> None:
    assert counter_delta(start, (start + step) % MAX32, 32) == step


@given(start=st.integers(0, 2**64 - 1), step=st.integers(0, 2**40))
def test_64_bit_growth_and_back_is_a_reset(start: int, step: int) -> None:
    end = start + step
    if end < 2**64:
        assert counter_delta(start, end, 64) == step
    else:
        assert counter_delta(start, end % 2**64, 64) is None


@given(
    start=st.integers(0, MAX32 - 1),
    bps=st.floats(0, SPEED, allow_nan=False),
    seconds=st.integers(1, 30),
)
def test_plausible_32_bit_rate_survives_a_wrap(start: int, bps: float, seconds: int) -> None:
    octets = int(bps * seconds / 8)
    result = rates(snap(0, 0, start, 32), snap(seconds, seconds * 100, (start + octets) % MAX32, 32), SPEED)
    assert result is not None and result.in_bps is not None
    assert abs(result.in_bps - octets * 8 / seconds) < 1e-6
    assert result.util_in is not None and 0 <= result.util_in <= 1


@given(
    before=st.integers(0, 2**63),
    after=st.integers(0, 2**63),
    up_before=st.integers(1000, 2**31),
    up_after=st.integers(0, 999),
)
def test_uptime_going_back_gives_no_rate(before: int, after: int, up_before: int, up_after: int) -> None:
    assert rates(snap(0, up_before, before), snap(300, up_after, after), SPEED) is None


@given(octets=st.integers(0, 2**40), disc_a=st.integers(0, 10**6), disc_b=st.integers(0, 10**6))
def test_discontinuity_change_gives_no_rate(octets: int, disc_a: int, disc_b: int) -> None:
    result = rates(snap(0, 100, 0, disc=disc_a), snap(300, 30_100, octets, disc=disc_b), SPEED)
    if disc_a != disc_b:
        assert result is None
    else:
        assert result is not None


def test_implausible_rate_is_dropped_not_a_spike() -> None:
    # A 32-bit counter that "wrapped" by almost 4 GiB in one second on a 100 Mbit/s port: a reset.
    result = rates(snap(0, 0, 1_000_000, 32), snap(1, 100, 10, 32), 100_000_000)
    assert result is not None and result.in_bps is None and result.util_in is None


def test_no_elapsed_time_gives_no_rate() -> None:
    assert rates(snap(10, None, 0), snap(10, None, 100), SPEED) is None
    result = rates(snap(0, None, 0), snap(8, None, 1000), SPEED)
    assert result is not None and result.in_bps == 1000.0


def test_error_growth_and_utilisation() -> None:
    assert growth(10, 25, reset=False) == 15
    assert growth(10, 25, reset=True) is None
    assert growth(None, 25, reset=False) is None
    assert utilisation(None, SPEED) is None
    assert utilisation(5e8, SPEED) == 0.5
    assert utilisation(5e8, None) is None
