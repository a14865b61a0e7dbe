"""Business-time arithmetic for SLA clocks, free of Django.

A ``WorkingTime`` knows, for any local date, the working intervals of that
day (weekly hours, days off, moved working days) in one time zone. Two
operations are all the SLA needs:

* ``add(start, seconds)`` — the wall-clock moment when ``seconds`` of
  business time have passed since ``start``;
* ``between(a, b)`` — how many business seconds lie between two moments.

Both work on aware datetimes in any zone and are exact to the second across
midnight, weekends, holidays and daylight-saving changes (intervals are built
in local time and converted to UTC per day).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[time, time]
# A search horizon: a calendar with no working time in ten years is broken.
_MAX_DAYS = 3660


class NoWorkingTime(ValueError):
    """The calendar has no working time at all within the search horizon."""


@dataclass(frozen=True)
class WorkingTime:
    """Working intervals per weekday plus exceptions, in one time zone.

    ``weekly[weekday]`` lists (start, end) local times (0 = Monday; ``end`` of
    ``time(0)`` is not allowed — use ``time(23, 59, 59, 999999)`` for "until
    midnight" or set ``always_open``). ``days_off`` are dates with no work;
    ``working_days`` maps a date that is worked despite the weekly pattern or
    a holiday to the weekday whose hours apply.
    """

    tz: str = "Europe/Moscow"
    weekly: Mapping[int, Sequence[Interval]] = field(default_factory=dict)
    days_off: frozenset[date] = frozenset()
    working_days: Mapping[date, int] = field(default_factory=dict)
    always_open: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """Working intervals of a local date, as aware UTC datetimes, sorted."""
        zone = self.zone
        if self.always_open:
            start = datetime.combine(day, time(0), zone)
            end = datetime.combine(day + timedelta(days=1), time(0), zone)
            return [(start.astimezone(UTC), end.astimezone(UTC))]
        if day in self.working_days:
            weekday = self.working_days[day]
        elif day in self.days_off:
            return []
        else:
            weekday = day.weekday()
        result = []
        for start_t, end_t in sorted(self.weekly.get(weekday, ())):
            start = datetime.combine(day, start_t, zone).astimezone(UTC)
            end = datetime.combine(day, end_t, zone).astimezone(UTC)
            if end > start:
                result.append((start, end))
        return result

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals that end after ``moment``, clipped to start at it."""
        local_day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(_MAX_DAYS):
            for start, end in self.intervals_on(local_day + timedelta(days=offset)):
                if end <= moment:
                    continue
                yield max(start, moment), end
        raise NoWorkingTime("no working time within ten years of the start")

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment when ``seconds`` business seconds have passed since ``start``."""
        _require_aware(start)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        moment = start.astimezone(UTC)
        remaining = timedelta(seconds=seconds)
        if remaining == timedelta(0):
            return moment
        for begin, end in self._intervals_from(moment):
            span = end - begin
            if remaining <= span:
                return begin + remaining
            remaining -= span
        raise NoWorkingTime("unreachable")  # pragma: no cover

    def between(self, a: datetime, b: datetime) -> float:
        """Business seconds from ``a`` to ``b`` (negative if ``b`` is before ``a``)."""
        _require_aware(a)
        _require_aware(b)
        if b < a:
            return -self.between(b, a)
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        total = timedelta(0)
        local_day = a.astimezone(self.zone).date() - timedelta(days=1)
        last_day = b.astimezone(self.zone).date() + timedelta(days=1)
        day = local_day
        while day <= last_day:
            for start, end in self.intervals_on(day):
                lo, hi = max(start, a), min(end, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds()

    def is_working(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in working time."""
        _require_aware(moment)
        day = moment.astimezone(self.zone).date()
        return any(start <= moment < end for d in (day - timedelta(days=1), day) for start, end in self.intervals_on(d))


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business time needs time-zone-aware datetimes")


ALWAYS = WorkingTime(always_open=True, tz="UTC")
