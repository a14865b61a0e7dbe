"""One-time codes: sent through the outbox, hashed, single-use, expiring, rate-limited."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from beskontakt.inbox import codes
from beskontakt.inbox.models import OneTimeCode, OutboundMessage
from beskontakt.subscribers.actions import add_contact
from beskontakt.subscribers.models import Subscriber

LOGIN = OneTimeCode.Purpose.LOGIN


def sent_code(row: OneTimeCode) -> str:
    """The code as the subscriber received it (read from the outbox)."""
    body = OutboundMessage.objects.get(key=f"code:{row.pk}").body
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def test_find_subscriber_by_contract_or_phone(subscriber: Subscriber, other_subscriber: Subscriber) -> None:
    assert codes.find_subscriber(subscriber.contract_number) == subscriber
    phone = subscriber.contacts.filter(channel="phone").values_list("value", flat=True).first()
    assert phone
    digits = re.sub(r"\D", "", phone)
    assert codes.find_subscriber("8" + digits[1:]) == subscriber
    assert codes.find_subscriber("00000000") is None
    assert codes.find_subscriber("") is None
    assert codes.find_subscriber("x" * 500) is None


def test_code_goes_out_hashed_and_works_once(subscriber: Subscriber) -> None:
    add_contact(subscriber, channel="email", value="maria@example.org")
    row = codes.issue(subscriber, LOGIN)
    assert row.channel == "email"
    code = sent_code(row)
    assert code not in row.digest
    item = OutboundMessage.objects.get(key=f"code:{row.pk}")
    assert item.address == "maria@example.org" and item.kind == "code"
    codes.verify(subscriber, LOGIN, code)
    with pytest.raises(ValidationError) as reused:
        codes.verify(subscriber, LOGIN, code)
    assert reused.value.code == "used"


def test_wrong_codes_are_counted_and_lock_the_code(subscriber: Subscriber, settings: Any) -> None:
    row = codes.issue(subscriber, LOGIN)
    code = sent_code(row)
    wrong = "000000" if code != "000000" else "111111"
    for left in range(settings.ONE_TIME_CODE_ATTEMPTS - 1, -1, -1):
        with pytest.raises(ValidationError) as error:
            codes.verify(subscriber, LOGIN, wrong)
        assert error.value.code == "wrong" and str(left) in error.value.messages[0]
    with pytest.raises(ValidationError) as locked:
        codes.verify(subscriber, LOGIN, code)
    assert locked.value.code == "attempts"


def test_expired_code(subscriber: Subscriber) -> None:
    row = codes.issue(subscriber, LOGIN)
    OneTimeCode.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError) as error:
        codes.verify(subscriber, LOGIN, sent_code(row))
    assert error.value.code == "expired"


def test_a_new_code_replaces_the_old_one(subscriber: Subscriber) -> None:
    first = codes.issue(subscriber, LOGIN)
    second = codes.issue(subscriber, LOGIN)
    first.refresh_from_db()
    assert first.used_at is not None
    codes.verify(subscriber, LOGIN, sent_code(second))


def test_codes_per_hour_are_limited(subscriber: Subscriber, settings: Any) -> None:
    for _ in range(settings.ONE_TIME_CODES_PER_HOUR):
        codes.issue(subscriber, LOGIN)
    with pytest.raises(ValidationError) as error:
        codes.issue(subscriber, LOGIN)
    assert error.value.code == "rate_limited"


def test_no_channel_to_send_to(subscriber: Subscriber) -> None:
    subscriber.contacts.all().delete()
    with pytest.raises(ValidationError) as error:
        codes.issue(subscriber, LOGIN)
    assert error.value.code == "no_channel"


def test_telegram_link_code_never_goes_to_telegram(subscriber: Subscriber) -> None:
    subscriber.contacts.all().delete()
    add_contact(subscriber, channel="telegram", value="555")
    assert codes.code_channel(subscriber, LOGIN) == "telegram"
    assert codes.code_channel(subscriber, OneTimeCode.Purpose.LINK_TELEGRAM) is None
