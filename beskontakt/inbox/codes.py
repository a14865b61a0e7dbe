"""One-time codes: how a subscriber proves who they are without a password.

A code is six digits, sent through the outbox on a channel the subscriber
already has (e-mail, SMS, or Telegram when the chat is linked), valid for
``ONE_TIME_CODE_SECONDS`` and usable once. Only an HMAC of the code is stored.
Wrong guesses are counted per code (``ONE_TIME_CODE_ATTEMPTS``), and a
subscriber gets at most ``ONE_TIME_CODES_PER_HOUR`` codes an hour, so neither
guessing nor flooding someone's phone works.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.subscribers.models import Channel, ContactPoint, Subscriber, normalize_phone

from . import outbox
from .models import OneTimeCode

Purpose = OneTimeCode.Purpose
# Channels a code may travel on, best first (a Telegram link code never goes to Telegram).
CODE_CHANNELS: dict[str, tuple[str, ...]] = {
    Purpose.LOGIN: (Channel.TELEGRAM, Channel.EMAIL, Channel.SMS, Channel.PHONE),
    Purpose.LINK_TELEGRAM: (Channel.EMAIL, Channel.SMS, Channel.PHONE),
}


def _digest(subscriber_id: int, purpose: str, code: str) -> str:
    message = f"{subscriber_id}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def find_subscriber(identifier: str) -> Subscriber | None:
    """The subscriber with this contract number, or with this phone number among their contacts."""
    value = (identifier or "").strip()
    if not value or len(value) > 64:
        return None
    found = Subscriber.objects.filter(contract_number=value).first()
    if found is not None:
        return found
    digits = normalize_phone(value)
    if re.fullmatch(r"7\d{10}", digits):
        contact = (
            ContactPoint.objects.filter(channel__in=[Channel.PHONE, Channel.SMS], normalized=digits)
            .select_related("subscriber")
            .first()
        )
        if contact is not None:
            return contact.subscriber
    return None


def code_channel(subscriber: Subscriber, purpose: str) -> str | None:
    """The channel a code for ``purpose`` would be sent on (None if the subscriber has none)."""
    usable = set(ContactPoint.objects.filter(subscriber=subscriber, consent=True).values_list("channel", flat=True))
    for channel in CODE_CHANNELS[purpose]:
        if channel in usable:
            return Channel.SMS if channel == Channel.PHONE else channel
    return None


def issue(subscriber: Subscriber, purpose: str, channel: str | None = None) -> OneTimeCode:
    """Create a code and send it through the outbox; raises ``ValidationError`` with the reason.

    Refused when the subscriber has had too many codes this hour or has no
    channel a code can travel on. Earlier unused codes for the same purpose stop
    working.
    """
    now = timezone.now()
    recent = OneTimeCode.objects.filter(
        subscriber=subscriber, purpose=purpose, created_at__gte=now - timedelta(hours=1)
    ).count()
    if recent >= settings.ONE_TIME_CODES_PER_HOUR:
        raise ValidationError(
            _("Too many codes were requested for this account. Try again in an hour."), code="rate_limited"
        )
    channel = channel or code_channel(subscriber, purpose)
    if channel is None:
        raise ValidationError(
            _("We have no e-mail or phone number to send a code to. Call us or ask an agent to add your contact."),
            code="no_channel",
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    minutes = max(settings.ONE_TIME_CODE_SECONDS // 60, 1)
    body = _("Your Beskontakt code: %(code)s. It is valid for %(minutes)d minutes. Do not tell it to anyone.") % {
        "code": code,
        "minutes": minutes,
    }
    with transaction.atomic():
        OneTimeCode.objects.filter(subscriber=subscriber, purpose=purpose, used_at__isnull=True).update(used_at=now)
        row = OneTimeCode.objects.create(
            subscriber=subscriber,
            purpose=purpose,
            channel=channel,
            digest=_digest(subscriber.pk, purpose, code),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.ONE_TIME_CODE_SECONDS),
        )
        outbox.enqueue(
            channel=channel,
            body=body,
            subscriber=subscriber,
            subject=_("Your code"),
            kind="code",
            key=outbox.make_key("code", row.pk),
        )
    return row


def verify(subscriber: Subscriber, purpose: str, code: str) -> None:
    """Accept ``code`` once; raises ``ValidationError`` saying what is wrong (and what to do)."""
    now = timezone.now()
    code = re.sub(r"\s", "", code or "")
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(subscriber=subscriber, purpose=purpose)
            .order_by("-created_at", "-pk")
            .first()
        )
        if row is None or row.used_at is not None:
            raise ValidationError(_("This code is no longer valid. Request a new one."), code="used")
        if row.expires_at <= now:
            raise ValidationError(_("The code has expired. Request a new one."), code="expired")
        if row.attempts >= settings.ONE_TIME_CODE_ATTEMPTS:
            raise ValidationError(_("Too many wrong codes. Request a new one."), code="attempts")
        if hmac.compare_digest(row.digest, _digest(subscriber.pk, purpose, code)):
            row.used_at = now
            row.save(update_fields=["used_at"])
            return
        # The wrong guess is counted (and committed) before the error is raised.
        OneTimeCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    left = settings.ONE_TIME_CODE_ATTEMPTS - row.attempts - 1
    raise ValidationError(_("Wrong code. Attempts left: %(left)d.") % {"left": max(left, 0)}, code="wrong")
