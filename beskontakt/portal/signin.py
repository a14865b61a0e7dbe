"""The two sign-in steps' state: rate limits, the pending sign-in in the session, masked destinations.

Step one (contract number or phone) is limited per client address and per
identifier given; step two (the code) per client address, on top of the
per-code attempt limit of :mod:`beskontakt.inbox.codes`. Between the steps the
session holds only the subscriber's id, when step one happened and where the
code went (masked) — never the code.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from beskontakt.accounts.ratelimit import Limiter
from beskontakt.inbox import outbox
from beskontakt.inbox.models import OneTimeCode, OutboundMessage
from beskontakt.subscribers.models import Channel, Subscriber

PENDING_KEY = "portal:pending"
# How long step two may wait after step one (the code itself may live shorter).
PENDING_TTL_SECONDS = 30 * 60


def identifier_limiter() -> Limiter:
    """Code requests allowed per contract number / phone within the window (every request counts)."""
    return Limiter("portal-identifier", settings.LOGIN_RATE_LIMIT, settings.LOGIN_RATE_WINDOW_SECONDS)


def address_limiter() -> Limiter:
    """Failures (unknown numbers, wrong codes) allowed per client address within the window."""
    return Limiter("portal-address", settings.LOGIN_IP_RATE_LIMIT, settings.LOGIN_RATE_WINDOW_SECONDS)


def normalized_identifier(value: str) -> str:
    """The identifier as the limiter counts it: "+7 (916) 123-45-67" and "89161234567" are one."""
    value = (value or "").strip()
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits[0] in "78":
        return "7" + digits[1:]
    return value.lower()


def mask_address(channel: str, address: str) -> str:
    """Enough of an address for the subscriber to recognise it, not enough for anyone else to use it."""
    address = (address or "").strip()
    if channel == Channel.EMAIL and "@" in address:
        local, _at, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if channel in (Channel.SMS, Channel.PHONE):
        digits = re.sub(r"\D", "", address)
        return f"+7 *** ***-{digits[-4:-2]}-{digits[-2:]}" if len(digits) >= 4 else "***"
    if channel == Channel.TELEGRAM:
        return "Telegram"
    return "***"


@dataclass(frozen=True)
class Destination:
    """Where a code went, for the page that asks for it."""

    channel: str
    masked: str

    @property
    def text(self) -> str:
        """ "to the e-mail i***@mail.ru" in the current language."""
        if self.channel == Channel.EMAIL:
            return _("by e-mail to %(address)s") % {"address": self.masked}
        if self.channel == Channel.TELEGRAM:
            return _("to your Telegram chat with our bot")
        return _("by SMS to %(address)s") % {"address": self.masked}


def destination_of(code: OneTimeCode) -> Destination:
    """Where the outbox was told to send ``code``."""
    item = OutboundMessage.objects.filter(key=outbox.make_key("code", code.pk)).first()
    address = item.address if item is not None else ""
    return Destination(channel=code.channel, masked=mask_address(code.channel, address))


def start_pending(request: HttpRequest, subscriber: Subscriber, destination: Destination, next_url: str) -> None:
    """Remember in the session that step one passed for ``subscriber``."""
    request.session[PENDING_KEY] = {
        "subscriber": subscriber.pk,
        "at": time.time(),
        "channel": destination.channel,
        "masked": destination.masked,
        "next": next_url,
    }


def pending(request: HttpRequest) -> tuple[Subscriber | None, dict[str, Any]]:
    """The subscriber waiting for step two in this session (``None`` if none, or it took too long)."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None, {}
    if time.time() - float(data.get("at", 0)) > PENDING_TTL_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, {}
    pk = data.get("subscriber")
    if not isinstance(pk, int):
        return None, {}
    subscriber = Subscriber.objects.filter(pk=pk).first()
    return subscriber, data


def clear_pending(request: HttpRequest) -> None:
    """Forget the pending sign-in."""
    request.session.pop(PENDING_KEY, None)
