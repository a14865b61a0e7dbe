"""The shape every history row shares: who did what, when, with which details."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Happening(models.Model):
    """Abstract: something that happened to an object, by whom, when, with before/after details.

    Concrete histories (``cases.Event``, ``subscribers.SubscriberEvent``) add the
    object they belong to and a ``kind`` with their own choices.
    """

    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        display = getattr(self, "get_kind_display", lambda: "")
        return f"{display()} {self.at:%d.%m %H:%M}"
