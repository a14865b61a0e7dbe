"""What a case holds: messages, attachments, internal notes, events; and macros."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beskontakt.history import Happening
from beskontakt.subscribers.models import Channel

from .case import Case


class Message(models.Model):
    """A message to or from the subscriber on a channel.

    Inbound messages carry their channel's id (``external_id``); a message with
    a channel and external id already stored is a repeat and changes nothing.
    """

    class Direction(models.TextChoices):
        INBOUND = "in", _("From subscriber")
        OUTBOUND = "out", _("To subscriber")

    class Delivery(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages", verbose_name=_("case"))
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    external_id = models.CharField(_("channel message id"), max_length=255, null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    sender = models.CharField(_("sender"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    delivery = models.CharField(_("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.RECEIVED)
    delivery_error = models.TextField(_("delivery error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="message_case_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_channel_external_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.created_at:%d.%m %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.message.case_id}/{filename}"


class Attachment(models.Model):
    """A file that came with (or was sent in) a message."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size, bytes"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class Note(models.Model):
    """An internal note on a case, visible to staff only."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes", verbose_name=_("case"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        label = _("Note")
        return f"{label} {self.created_at:%d.%m %H:%M}"


class Event(Happening):
    """Something that happened to a case: who, when, what, before and after.

    The case timeline and its audit trail are both read from here.
    """

    class Kind(models.TextChoices):
        OPENED = "opened", _("Case opened")
        MESSAGE_IN = "message_in", _("Message from subscriber")
        MESSAGE_OUT = "message_out", _("Reply sent")
        NOTE = "note", _("Note added")
        STATUS = "status", _("Status changed")
        PRIORITY = "priority", _("Priority changed")
        CATEGORY = "category", _("Category changed")
        QUEUE = "queue", _("Queue changed")
        ASSIGNED = "assigned", _("Assigned")
        TAGS = "tags", _("Tags changed")
        MERGED = "merged", _("Merged")
        MERGED_INTO = "merged_into", _("Merged into another case")
        LINKED = "linked", _("Linked")
        SLA_STARTED = "sla_started", _("SLA clock started")
        SLA_PAUSED = "sla_paused", _("SLA clock paused")
        SLA_RESUMED = "sla_resumed", _("SLA clock resumed")
        SLA_MET = "sla_met", _("SLA target met")
        SLA_WARNING = "sla_warning", _("SLA warning (80%)")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
        CALLBACK = "callback", _("Callback")
        DIAGNOSIS = "diagnosis", _("Diagnosis")
        REMOTE_FIX = "remote_fix", _("Remote fix")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    class Meta(Happening.Meta):
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]


class Macro(models.Model):
    """A canned reply in Russian and English with placeholders.

    Placeholders: ``{name}``, ``{first_name}``, ``{contract}``, ``{tariff}``,
    ``{balance}``, ``{case}``, ``{agent}`` (see ``cases/macros.py``).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    category = models.ForeignKey(
        "cases.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="macros",
        verbose_name=_("category"),
    )
    body_ru = models.TextField(_("text (Russian)"))
    body_en = models.TextField(_("text (English)"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
