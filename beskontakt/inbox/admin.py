"""Django admin for the intake channels: the outbox, refused items, callbacks, Telegram chats, mailboxes.

Delivery state is written by the workers; the admin shows it (read-only where a
hand edit would break the bookkeeping) and lets a supervisor retry a failed item.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CallbackRequest, MailboxCursor, OutboundMessage, RejectedInbound, TelegramChat, TelegramUpdate


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "address", "kind", "status", "attempts", "last_error", "case")
    list_filter = ("status", "channel", "kind")
    search_fields = ("key", "address")
    raw_id_fields = ("subscriber", "case", "message")
    readonly_fields = ("key", "status", "attempts", "provider_id", "delivered_at", "last_error", "created_at")
    show_full_result_count = False
    actions = ["retry"]

    @admin.action(description=_("Retry delivery now"))
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        """Put failed items back in the queue with a fresh attempt count."""
        count = queryset.filter(status=OutboundMessage.Status.FAILED).update(
            status=OutboundMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(request, _("%(n)d item(s) queued again.") % {"n": count}, messages.SUCCESS)


@admin.register(RejectedInbound)
class RejectedInboundAdmin(admin.ModelAdmin):
    list_display = ("received_at", "channel", "reason", "sender", "detail", "case")
    list_filter = ("reason", "channel")
    search_fields = ("sender", "external_id", "detail")
    raw_id_fields = ("case",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    list_display = ("window_start", "window_end", "phone", "status", "attempts", "next_attempt_at", "case")
    list_filter = ("status",)
    search_fields = ("phone",)
    raw_id_fields = ("subscriber", "case")


@admin.register(TelegramChat)
class TelegramChatAdmin(admin.ModelAdmin):
    list_display = ("chat_id", "username", "first_name", "subscriber", "linked_at")
    search_fields = ("chat_id", "username")
    raw_id_fields = ("subscriber",)


@admin.register(TelegramUpdate)
class TelegramUpdateAdmin(admin.ModelAdmin):
    list_display = ("update_id", "received_at", "state", "attempts", "error")
    list_filter = ("state",)
    show_full_result_count = False


@admin.register(MailboxCursor)
class MailboxCursorAdmin(admin.ModelAdmin):
    list_display = ("name", "uidvalidity", "last_uid", "polled_at", "error")
