"""Outage notices: what is broken (or will be, for planned works), where, and since when."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beskontakt.subscribers.models import District


class Outage(models.Model):
    """A service interruption the operator tells subscribers about: a failure or planned works.

    It covers whole districts, single buildings (``OutageBuilding`` rows,
    matched against ``Address.street`` + ``Address.building``) and/or network
    nodes (every subscriber hanging on a port of the node, or of a node below it);
    with none of them it covers the whole network. ``ends_at`` empty means it is still going on.
    Subscribers whose address is covered see the notice in the portal.
    """

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("what subscribers are told"), blank=True)
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True, help_text=_("Empty: still going on."))
    districts = models.ManyToManyField(
        District, blank=True, related_name="outages", verbose_name=_("districts affected")
    )
    nodes = models.ManyToManyField(
        "network.Node", blank=True, related_name="outages", verbose_name=_("network nodes affected")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="outage_period")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="outage_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def is_ongoing_at(self, moment: datetime | None = None) -> bool:
        """Whether the outage is in force at ``moment`` (now by default)."""
        now = moment or timezone.now()
        return self.starts_at <= now and (self.ends_at is None or self.ends_at > now)


class OutageBuilding(models.Model):
    """One building an outage covers, named as addresses name it (street + building number)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="buildings", verbose_name=_("outage"))
    street = models.CharField(_("street"), max_length=150)
    building = models.CharField(_("building"), max_length=20)

    class Meta:
        verbose_name = _("building affected")
        verbose_name_plural = _("buildings affected")
        constraints = [models.UniqueConstraint(fields=["outage", "street", "building"], name="outage_building_unique")]
        indexes = [models.Index(fields=["street", "building"], name="outage_building_street")]

    def __str__(self) -> str:
        return f"{self.street}, {self.building}"
