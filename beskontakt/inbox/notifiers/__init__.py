"""Notifiers: one adapter per outbound channel, behind one small contract.

``Notifier.send(item)`` delivers one :class:`~beskontakt.inbox.models.OutboundMessage`
and returns the provider's id for it. It raises :class:`TemporaryFailure` when a
retry may succeed (a timeout, a 5xx, a rate limit) and :class:`PermanentFailure`
when it cannot (an address the provider refuses). Adapters pass ``item.key`` to
the provider wherever the protocol has an idempotency key, so a delivery
repeated after a worker crash reaches the subscriber once.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from beskontakt.inbox.models import OutboundMessage


class DeliveryError(Exception):
    """A delivery did not happen; the message is the reason shown on the case."""


class TemporaryFailure(DeliveryError):
    """Worth retrying later (with back-off)."""


class PermanentFailure(DeliveryError):
    """Retrying will not help; the item is marked failed with the reason."""


class AddressRefused(PermanentFailure):
    """The recipient refuses messages at this address (the bot was blocked, the number
    unsubscribed): the outbox withdraws consent on that contact so nothing more is sent there."""


class Notifier(Protocol):
    """Delivers outbound items on one channel."""

    def send(self, item: OutboundMessage) -> str:
        """Deliver ``item``; return the provider's id for it."""
        ...


# channel -> "module:Class"; each module is imported only when first used.
REGISTRY: dict[str, str] = {
    "email": "beskontakt.inbox.notifiers.email:EmailNotifier",
    "telegram": "beskontakt.inbox.notifiers.telegram:TelegramNotifier",
    "sms": "beskontakt.inbox.notifiers.sms:SmsGatewayNotifier",
    "phone": "beskontakt.inbox.notifiers.sms:SmsGatewayNotifier",
    "portal": "beskontakt.inbox.notifiers.portal:PortalNotifier",
    "chat": "beskontakt.inbox.notifiers.portal:PortalNotifier",
}


# The setting that says a channel's real provider is configured.
CONFIGURED_BY = {
    "email": "EMAIL_HOST",
    "telegram": "TELEGRAM_BOT_TOKEN",
    "sms": "SMS_GATEWAY_URL",
    "phone": "SMS_GATEWAY_URL",
}


def notifier_for(channel: str) -> Notifier:
    """The notifier that delivers on ``channel``.

    In the demo (``OUTBOX_FILE_DIR`` set) a channel without a configured
    provider writes files instead, so codes and replies can be read there.
    """
    from django.conf import settings

    setting = CONFIGURED_BY.get(channel)
    if setting and not getattr(settings, setting, "") and getattr(settings, "OUTBOX_FILE_DIR", ""):
        from .file import FileNotifier

        return FileNotifier()
    try:
        path = REGISTRY[channel]
    except KeyError:
        raise PermanentFailure(f"no notifier for channel {channel!r}") from None
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)()
