"""Property-based tests of the business-time arithmetic behind SLA clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from beskontakt.cases.business_time import WorkingTime
from beskontakt.cases.calendars import russian_holidays

MOSCOW = WorkingTime(
    tz="Europe/Moscow",
    weekly={**{d: [(time(9), time(21))] for d in range(5)}, 5: [(time(10), time(18))]},
    days_off=russian_holidays(range(2024, 2029)),
    # 2025-11-01 was a working Saturday in Russia with Friday hours (for the test).
    working_days={date(2025, 11, 1): 4},
)
# A zone with daylight saving time and a split working day.
BERLIN_SPLIT = WorkingTime(
    tz="Europe/Berlin",
    weekly={d: [(time(8), time(12)), (time(13), time(17, 30))] for d in range(5)},
    days_off=frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
)
VLADIVOSTOK = WorkingTime(tz="Asia/Vladivostok", weekly={d: [(time(0), time(23, 59, 59))] for d in range(7)})
CALENDARS = st.sampled_from([MOSCOW, BERLIN_SPLIT, VLADIVOSTOK, WorkingTime(always_open=True, tz="UTC")])

moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 6, 1), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0)
)
durations = st.integers(min_value=0, max_value=60 * 24 * 3600)


@settings(max_examples=150, deadline=None)
@given(calendar=CALENDARS, start=moments, seconds=durations)
def test_add_then_measure_gives_back_the_duration(calendar: WorkingTime, start: datetime, seconds: int) -> None:
    end = calendar.add(start, seconds)
    assert end >= start
    assert calendar.between(start, end) == seconds


@settings(max_examples=150, deadline=None)
@given(calendar=CALENDARS, start=moments, a=durations, b=durations)
def test_adding_in_two_steps_equals_adding_once(calendar: WorkingTime, start: datetime, a: int, b: int) -> None:
    assert calendar.add(calendar.add(start, a), b) == calendar.add(start, a + b)


@settings(max_examples=150, deadline=None)
@given(calendar=CALENDARS, a=moments, b=moments, c=moments)
def test_between_is_additive_and_antisymmetric(calendar: WorkingTime, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted([a, b, c])
    assert calendar.between(a, c) == calendar.between(a, b) + calendar.between(b, c)
    assert calendar.between(c, a) == -calendar.between(a, c)
    assert 0 <= calendar.between(a, c) <= (c - a).total_seconds()


@settings(max_examples=100, deadline=None)
@given(
    start=moments,
    seconds=st.integers(min_value=1, max_value=30 * 24 * 3600),
    pauses=st.lists(
        st.tuples(st.integers(min_value=0, max_value=5 * 24 * 3600), st.integers(min_value=0, max_value=5 * 24 * 3600)),
        max_size=4,
    ),
)
def test_pausing_never_changes_the_business_time_consumed(
    start: datetime, seconds: int, pauses: list[tuple[int, int]]
) -> None:
    """Run, pause, resume any number of times: the target is reached after the
    same business time, and time spent paused never counts."""
    calendar = MOSCOW
    consumed = 0.0
    now = start
    for run_for, pause_for in pauses:
        if consumed + run_for >= seconds:
            break
        stop = calendar.add(now, run_for)
        consumed += calendar.between(now, stop)
        now = stop + timedelta(seconds=pause_for)  # paused: wall time passes, nothing counts
    due = calendar.add(now, seconds - consumed)
    assert calendar.between(now, due) + consumed == seconds


@settings(max_examples=100, deadline=None)
@given(start=moments, seconds=st.integers(min_value=1, max_value=10 * 24 * 3600))
def test_deadlines_never_land_on_a_holiday_or_outside_hours(start: datetime, seconds: int) -> None:
    due = MOSCOW.add(start, seconds)
    local = due.astimezone(MOSCOW.zone)
    # The exact end of an interval is allowed (the last working second was used).
    just_before = due - timedelta(seconds=1)
    assert MOSCOW.is_working(just_before)
    assert local.date() not in MOSCOW.days_off or local.date() in MOSCOW.working_days


def test_new_year_holidays_are_skipped() -> None:
    # 30 Dec 2026 is a Wednesday; the 1–8 January holidays follow the weekend.
    start = datetime(2026, 12, 30, 20, 0, tzinfo=MOSCOW.zone)
    due = MOSCOW.add(start, 2 * 3600)
    assert due.astimezone(MOSCOW.zone).date() > date(2027, 1, 8)
    assert MOSCOW.between(start, due) == 2 * 3600


def test_moved_working_saturday_uses_the_given_weekday_hours() -> None:
    start = datetime(2025, 11, 1, 9, 0, tzinfo=MOSCOW.zone)
    assert MOSCOW.add(start, 3600) == datetime(2025, 11, 1, 10, 0, tzinfo=MOSCOW.zone)


def test_daylight_saving_night_is_counted_exactly() -> None:
    always_berlin = WorkingTime(tz="Europe/Berlin", always_open=True)
    # The night of 29 March 2026 has 23 hours in Berlin.
    a = datetime(2026, 3, 29, 0, 0, tzinfo=always_berlin.zone)
    b = datetime(2026, 3, 30, 0, 0, tzinfo=always_berlin.zone)
    assert always_berlin.between(a, b) == 23 * 3600


def test_naive_datetimes_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="aware"):
        MOSCOW.add(datetime(2026, 1, 1), 10)
