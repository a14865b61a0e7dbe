"""Business calendars: when the SLA clock runs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessCalendar(models.Model):
    """Working hours in a time zone, with public holidays and moved working days.

    Russian public holidays come from the ``holidays`` package
    (``country="RU"``); ``CalendarDay`` rows add or override days (a Saturday
    that is a working day by government decree, a company day off). A
    calendar marked ``always_open`` is a 24/7 calendar.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    always_open = models.BooleanField(_("open 24/7"), default=False)
    use_russian_holidays = models.BooleanField(_("Russian public holidays are days off"), default=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """One working interval of a weekday (0 is Monday)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="hours", verbose_name=_("calendar")
    )
    weekday = models.SmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="hours_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class CalendarDay(models.Model):
    """A date that differs from the weekly pattern: a day off, or a working day
    (with the hours of a given weekday, or the usual hours of that date's weekday)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    working = models.BooleanField(_("working day"), default=False)
    hours_like = models.SmallIntegerField(
        _("hours as on"),
        choices=WorkingHours.Weekday.choices,
        null=True,
        blank=True,
        help_text=_("For a moved working day: whose weekday's hours apply."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique")]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {'+' if self.working else '-'} {self.note}"
