"""Turning a ``BusinessCalendar`` row into a ``WorkingTime`` the clock arithmetic uses."""

from __future__ import annotations

import time as _time
from datetime import date

import holidays

from .business_time import ALWAYS, WorkingTime
from .models import BusinessCalendar

# Calendars change rarely; each process keeps a built WorkingTime for a minute.
_CACHE_SECONDS = 60.0
_cache: dict[int, tuple[float, WorkingTime]] = {}


def russian_holidays(years: range) -> frozenset[date]:
    """Non-working public holidays of the Russian Federation for ``years``."""
    return frozenset(holidays.country_holidays("RU", years=list(years)).keys())


def build_working_time(calendar: BusinessCalendar) -> WorkingTime:
    """Read a calendar's hours and days from the database into a ``WorkingTime``."""
    if calendar.always_open:
        return WorkingTime(tz=calendar.timezone, always_open=True)
    weekly: dict[int, list[tuple]] = {}
    for hours in calendar.hours.all():
        weekly.setdefault(hours.weekday, []).append((hours.start, hours.end))
    this_year = date.today().year
    days_off: set[date] = set()
    if calendar.use_russian_holidays:
        days_off |= russian_holidays(range(this_year - 2, this_year + 3))
    working_days: dict[date, int] = {}
    for day in calendar.days.all():
        if day.working:
            working_days[day.date] = day.hours_like if day.hours_like is not None else day.date.weekday()
        else:
            days_off.add(day.date)
    return WorkingTime(tz=calendar.timezone, weekly=weekly, days_off=frozenset(days_off), working_days=working_days)


def working_time_for(calendar_id: int | None) -> WorkingTime:
    """The cached ``WorkingTime`` of a calendar (24/7 when there is none)."""
    if calendar_id is None:
        return ALWAYS
    now = _time.monotonic()
    cached = _cache.get(calendar_id)
    if cached is not None and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    calendar = BusinessCalendar.objects.prefetch_related("hours", "days").get(pk=calendar_id)
    built = build_working_time(calendar)
    _cache[calendar_id] = (now, built)
    return built


def forget_calendars() -> None:
    """Drop cached calendars (after an admin edit, and between tests)."""
    _cache.clear()
