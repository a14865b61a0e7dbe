"""What the intake channels keep: the outbox, one-time codes, callbacks,
Telegram chats and updates, mailbox cursors and refused inbound items."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beskontakt.subscribers.models import Channel, Subscriber


class OutboundMessage(models.Model):
    """One message or notice to a subscriber, written in the same transaction as
    the change that caused it and delivered by Celery with retries.

    ``key`` is the idempotency key: the outbox holds one row per key, and the
    key travels to the provider (the e-mail Message-ID, the SMS gateway's
    ``Idempotency-Key``) so a delivery repeated after a worker crash reaches
    the subscriber once.
    """

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply on a case")
        NOTICE = "notice", _("Notice")
        CODE = "code", _("One-time code")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Not sent (opt-out or no address)")

    key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REPLY)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=200, blank=True)
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("subscriber")
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    message = models.OneToOneField(
        "cases.Message",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbound",
        verbose_name=_("case message"),
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    payload = models.JSONField(_("channel details"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    provider_id = models.CharField(_("provider's id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbox")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["case", "created_at"], name="outbox_case"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address or '—'} ({self.get_status_display()})"


class OneTimeCode(models.Model):
    """A short-lived code sent to a subscriber: to log in to the portal or to link
    a Telegram chat. Only a keyed hash is stored; attempts are counted."""

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Portal login")
        LINK_TELEGRAM = "link_tg", _("Link a Telegram chat")

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="one_time_codes", verbose_name=_("subscriber")
    )
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    channel = models.CharField(_("sent over"), max_length=10, choices=Channel.choices)
    digest = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["subscriber", "purpose", "created_at"], name="otc_subscriber")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.subscriber_id}"


class CallbackRequest(models.Model):
    """A subscriber's request to be called back on a number within a time window.

    It is worked as a case in the callback queue (which has its own
    first-response SLA); a missed call plans a follow-up attempt and tells the
    subscriber.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the call")
        MISSED = "missed", _("Missed, follow-up planned")
        DONE = "done", _("Called")
        CANCELLED = "cancelled", _("Cancelled")
        GAVE_UP = "gave_up", _("No answer after every attempt")

    subscriber = models.ForeignKey(
        Subscriber,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="callback_requests",
        verbose_name=_("subscriber"),
    )
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="callback", verbose_name=_("case"))
    phone = models.CharField(_("number to call"), max_length=32)
    window_start = models.DateTimeField(_("call from"))
    window_end = models.DateTimeField(_("call until"))
    topic = models.CharField(_("topic"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    attempts = models.PositiveSmallIntegerField(_("call attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)

    class Meta:
        verbose_name = _("callback request")
        verbose_name_plural = _("callback requests")
        ordering = ["window_start"]
        indexes = [
            models.Index(fields=["window_start"], name="callback_open", condition=Q(status__in=["waiting", "missed"]))
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.window_start:%d.%m %H:%M}–{self.window_end:%H:%M}"


class TelegramChat(models.Model):
    """A Telegram chat that wrote to the bot, and the subscriber it is linked to."""

    chat_id = models.BigIntegerField(_("chat id"), unique=True)
    subscriber = models.ForeignKey(
        Subscriber,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="telegram_chats",
        verbose_name=_("subscriber"),
    )
    username = models.CharField(_("username"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    state = models.JSONField(_("conversation state"), default=dict, blank=True)
    linked_at = models.DateTimeField(_("linked"), null=True, blank=True)
    created_at = models.DateTimeField(_("first seen"), default=timezone.now)

    class Meta:
        verbose_name = _("Telegram chat")
        verbose_name_plural = _("Telegram chats")

    def __str__(self) -> str:
        return f"{self.chat_id} @{self.username}" if self.username else str(self.chat_id)


class TelegramUpdate(models.Model):
    """A Bot API update as received (webhook or long polling), stored before it is
    handled: a repeated ``update_id`` is a no-op, a failed one keeps its error."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be handled")
        DONE = "done", _("Handled")
        FAILED = "failed", _("Could not be handled")

    update_id = models.BigIntegerField(_("update id"), unique=True)
    payload = models.JSONField(_("update"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("Telegram update")
        verbose_name_plural = _("Telegram updates")
        indexes = [models.Index(fields=["update_id"], name="tg_update_pending", condition=Q(state="pending"))]

    def __str__(self) -> str:
        return str(self.update_id)


class MailboxCursor(models.Model):
    """How far the IMAP poller has read a mailbox (per UIDVALIDITY)."""

    name = models.CharField(_("mailbox"), max_length=200, unique=True)
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    last_uid = models.BigIntegerField(_("last UID read"), default=0)
    polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox cursor")
        verbose_name_plural = _("mailbox cursors")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_uid}"


class RejectedInbound(models.Model):
    """Something a channel delivered that did not become a case message (a bounce,
    an auto-reply, a malformed e-mail, an unlinked Telegram chat's file ...):
    kept with the reason so nothing is dropped silently."""

    class Reason(models.TextChoices):
        BOUNCE = "bounce", _("Delivery failure report")
        AUTO_REPLY = "auto_reply", _("Automatic reply")
        MALFORMED = "malformed", _("Malformed")
        TOO_LARGE = "too_large", _("Too large")
        REFUSED_FILE = "file", _("Attachment refused")
        UNKNOWN_SENDER = "unknown", _("Unknown sender")
        FLOOD = "flood", _("Too many messages")
        OTHER = "other", _("Other")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    external_id = models.CharField(_("channel id"), max_length=255, blank=True)
    sender = models.CharField(_("sender"), max_length=255, blank=True)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    excerpt = models.TextField(_("excerpt"), blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("case")
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("refused inbound item")
        verbose_name_plural = _("refused inbound items")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_reason_display()}"
