"""SLA policies and the clocks they start on cases."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from beskontakt.subscribers.models import Subscriber

from .case import Case, Priority


class SlaPolicy(models.Model):
    """Targets for a kind of case: first response, next response, resolution.

    A policy applies to cases matching its priority, category and subscriber
    segment (an empty condition matches anything); the most specific matching
    policy wins, then the lowest ``rank``. Targets are business minutes in the
    policy's calendar (or the queue's, if the policy has none).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    priority = models.SmallIntegerField(_("priority"), choices=Priority.choices, null=True, blank=True)
    category = models.ForeignKey(
        "cases.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        verbose_name=_("category"),
    )
    segment = models.CharField(_("segment"), max_length=10, choices=Subscriber.Segment.choices, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response, minutes"))
    next_response_minutes = models.PositiveIntegerField(_("next response, minutes"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution, minutes"), null=True, blank=True)
    calendar = models.ForeignKey(
        "cases.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="policies",
        verbose_name=_("calendar"),
    )
    warning_percent = models.PositiveSmallIntegerField(_("warn at, percent of target"), default=80)
    rank = models.PositiveIntegerField(_("rank"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["rank", "name"]

    def __str__(self) -> str:
        return self.name


class SlaClock(models.Model):
    """One SLA target running on one case.

    Business seconds are counted in the calendar; while the case waits for the
    subscriber the clock is paused and ``consumed_seconds`` keeps what was
    used. ``due_at`` and ``warn_at`` are wall-clock moments recomputed on every
    start and resume.
    """

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        NEXT_RESPONSE = "next_response", _("Next response")
        RESOLUTION = "resolution", _("Resolution")

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RUNNING)
    target_seconds = models.PositiveIntegerField(_("target, business seconds"))
    consumed_seconds = models.PositiveIntegerField(_("used before the last resume, business seconds"), default=0)
    started_at = models.DateTimeField(_("started"))
    resumed_at = models.DateTimeField(_("running since"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="sla_clock_one_per_kind")]
        indexes = [
            models.Index(fields=["state", "warn_at"], name="sla_clock_state_warn"),
            models.Index(fields=["state", "due_at"], name="sla_clock_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_state_display()}"
