"""Inbound messages accepted for processing: stored first, turned into case messages after."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beskontakt.subscribers.models import Channel


class PendingInbound(models.Model):
    """A message a channel handed over, durably stored before any case work is done.

    The queued intake endpoint writes these rows in one statement per batch
    (a repeat of a stored channel id is ignored), and Celery workers turn them
    into case messages through ``actions.receive_message``. A row that cannot
    be processed keeps the reason; nothing accepted is ever dropped.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be processed")
        DONE = "done", _("Processed")
        FAILED = "failed", _("Could not be processed")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    external_id = models.CharField(_("channel message id"), max_length=255)
    payload = models.JSONField(_("message"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("submitted by")
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("message")
    )
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("pending inbound message")
        verbose_name_plural = _("pending inbound messages")
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="pending_inbound_unique")]
        indexes = [
            models.Index(fields=["received_at", "id"], condition=Q(state="pending"), name="pending_inbound_todo"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id} ({self.get_state_display()})"
