"""The bot end to end: updates stored, handled by aiogram against the local Bot API server."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from beskontakt.cases.models import Case, Message
from beskontakt.inbox.models import OneTimeCode, RejectedInbound, TelegramChat, TelegramUpdate
from beskontakt.inbox.telegram import texts, updates
from beskontakt.subscribers.models import Channel, ContactPoint, Subscriber

from .conftest import sent_code
from .fake_bot_api import FakeBotApi, message_update

CHAT = 555001


def ru(fn: Any, *args: Any) -> str:
    """A bot text as the Russian chat gets it."""
    with translation.override("ru"):
        return str(fn(*args))


def ru_error(message: str) -> str:
    with translation.override("ru"):
        return str(translation.gettext(message))


def feed(*payloads: dict[str, Any]) -> tuple[int, int]:
    for payload in payloads:
        updates.store(payload)
    return updates.process_pending()


class Ids:
    """Consecutive update ids for one test."""

    def __init__(self, start: int = 1) -> None:
        self.n = start

    def __call__(self) -> int:
        self.n += 1
        return self.n


def link(bot_api: FakeBotApi, subscriber: Subscriber, chat_id: int = CHAT, ids: Ids | None = None) -> None:
    ids = ids or Ids(100)
    feed(message_update(ids(), chat_id, text="/start"), message_update(ids(), chat_id, text=subscriber.contract_number))
    feed(message_update(ids(), chat_id, text=sent_code()))
    assert TelegramChat.objects.get(chat_id=chat_id).subscriber_id == subscriber.pk


@pytest.mark.django_db
def test_start_asks_for_contract_in_russian_and_english(bot_api: FakeBotApi, scheduled: list[str]) -> None:
    assert feed(message_update(1, CHAT, text="/start")) == (1, 0)
    feed(message_update(2, CHAT + 1, text="/start", language_code="en-GB", first_name="Anna"))
    [ru_answer] = bot_api.sent_to(CHAT)
    [en] = bot_api.sent_to(CHAT + 1)
    assert ru(texts.ask_identifier) in ru_answer
    assert "Hello, Anna!" in en and "contract number" in en
    chat = TelegramChat.objects.get(chat_id=CHAT)
    assert chat.subscriber is None and chat.first_name == "Мария"
    assert TelegramUpdate.objects.filter(state=TelegramUpdate.State.DONE).count() == 2


@pytest.mark.django_db
def test_linking_with_a_code(bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber) -> None:
    feed(message_update(1, CHAT, text="/start"), message_update(2, CHAT, text="77001234"))
    assert bot_api.sent_to(CHAT)[-1] == ru(texts.code_sent, "sms")
    code = OneTimeCode.objects.get(subscriber=subscriber, purpose=OneTimeCode.Purpose.LINK_TELEGRAM)
    assert code.channel == Channel.SMS
    assert TelegramChat.objects.get(chat_id=CHAT).state["step"] == "code"
    feed(message_update(3, CHAT, text=sent_code()))
    chat = TelegramChat.objects.get(chat_id=CHAT)
    assert chat.subscriber == subscriber and chat.linked_at is not None
    assert "step" not in chat.state
    assert ContactPoint.objects.filter(subscriber=subscriber, channel=Channel.TELEGRAM, value=str(CHAT)).exists()
    assert "77001234" in bot_api.sent_to(CHAT)[-2]


@pytest.mark.django_db
def test_wrong_expired_and_reused_codes(bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber) -> None:
    feed(message_update(1, CHAT, text="77001234"))
    good = sent_code()
    wrong = "000000" if good != "000000" else "111111"
    feed(message_update(2, CHAT, text=wrong))
    assert bot_api.sent_to(CHAT)[-1] == ru_error("Wrong code. Attempts left: %(left)d.") % {"left": 4}
    assert TelegramChat.objects.get(chat_id=CHAT).subscriber is None
    # Expired.
    OneTimeCode.objects.filter(subscriber=subscriber).update(expires_at=timezone.now() - timedelta(seconds=1))
    feed(message_update(3, CHAT, text=good))
    assert bot_api.sent_to(CHAT)[-1] == ru_error("The code has expired. Request a new one.")
    # A fresh code links; using it again from another chat does not.
    feed(message_update(4, CHAT, text="77001234"))
    fresh = sent_code()
    feed(message_update(5, CHAT, text=fresh))
    assert TelegramChat.objects.get(chat_id=CHAT).subscriber == subscriber
    other = CHAT + 7
    TelegramChat.objects.create(chat_id=other, state={"step": "code", "subscriber": subscriber.pk})
    feed(message_update(6, other, text=fresh))
    assert TelegramChat.objects.get(chat_id=other).subscriber is None
    assert bot_api.sent_to(other)[-1] == ru_error("This code is no longer valid. Request a new one.")


@pytest.mark.django_db
def test_unknown_contract_and_chatter(bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber) -> None:
    feed(message_update(1, CHAT, text="99999999"), message_update(2, CHAT, text="Здравствуйте, у меня не работает"))
    unknown, explain = bot_api.sent_to(CHAT)
    assert unknown == ru(texts.unknown_contract, "99999999")
    assert explain == ru(texts.how_to_link)
    assert not OneTimeCode.objects.exists()
    assert not Message.objects.exists()
    refused = RejectedInbound.objects.get()
    assert refused.reason == RejectedInbound.Reason.UNKNOWN_SENDER and refused.sender == str(CHAT)


@pytest.mark.django_db
def test_text_goes_to_the_subscribers_case(
    bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber, agent: Any
) -> None:
    link(bot_api, subscriber)
    t0 = int(time.time()) - 300
    feed(
        message_update(10, CHAT, text="Пропал интернет", date=t0),
        message_update(11, CHAT, text="Роутер мигает", date=t0 + 5),
    )
    case = Case.objects.get(subscriber=subscriber, channel=Channel.TELEGRAM)
    messages = list(case.messages.order_by("created_at"))
    assert [m.body for m in messages] == ["Пропал интернет", "Роутер мигает"]
    assert [m.external_id for m in messages] == [f"{CHAT}:10", f"{CHAT}:11"]
    assert messages[0].sender == str(CHAT)
    assert int(messages[0].created_at.timestamp()) == t0
    assert case.reference in bot_api.sent_to(CHAT)[-1]


@pytest.mark.django_db
def test_repeated_and_out_of_order_updates(bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber) -> None:
    link(bot_api, subscriber)
    t0 = int(time.time()) - 100
    first = message_update(20, CHAT, text="первое", date=t0)
    second = message_update(21, CHAT, text="второе", date=t0 + 10)
    third = message_update(22, CHAT, text="третье", date=t0 + 20)
    assert updates.store(third) is True
    assert updates.store(third) is False
    updates.process_pending()
    feed(first, second, first, third)
    # The same message delivered again under a new update id is not doubled either.
    feed({**second, "update_id": 99})
    case = Case.objects.get(subscriber=subscriber, channel=Channel.TELEGRAM)
    assert [m.body for m in case.messages.order_by("created_at")] == ["первое", "второе", "третье"]
    assert TelegramUpdate.objects.filter(update_id__in=[20, 21, 22, 99]).count() == 4
    # An edit does not rewrite the case message; the new text is kept as refused, visibly.
    edit = {
        "update_id": 100,
        "edited_message": {**first["message"], "text": "первое (исправлено)", "edit_date": t0 + 30},
    }
    assert feed(edit) == (1, 0)
    assert case.messages.filter(body="первое").exists()
    refused = RejectedInbound.objects.get(reason=RejectedInbound.Reason.OTHER)
    assert refused.excerpt == "первое (исправлено)" and refused.external_id == f"{CHAT}:20"


@pytest.mark.django_db
def test_status_balance_help_and_new(
    bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber, agent: Any
) -> None:
    feed(message_update(1, CHAT, text="/status"))
    assert bot_api.sent_to(CHAT)[-1] == ru(texts.link_first)
    link(bot_api, subscriber)
    feed(message_update(10, CHAT, text="/status"))
    assert bot_api.sent_to(CHAT)[-1] == ru(texts.no_open_cases)
    feed(message_update(11, CHAT, text="Нет интернета"))
    feed(message_update(12, CHAT, text="/status"))
    case = Case.objects.get(subscriber=subscriber)
    assert case.reference in bot_api.sent_to(CHAT)[-1] and "Нет интернета" in bot_api.sent_to(CHAT)[-1]
    feed(message_update(13, CHAT, text="/balance"))
    answer = bot_api.sent_to(CHAT)[-1]
    assert "320,50" in answer and "Домашний 500" in answer and "77001234" in answer
    feed(message_update(14, CHAT, text="/new"), message_update(15, CHAT, text="Не работает ТВ"))
    cases = Case.objects.filter(subscriber=subscriber).order_by("pk")
    assert [c.subject for c in cases] == ["Нет интернета", "Не работает ТВ"]
    assert cases[1].messages.get().external_id == f"{CHAT}:15"
    feed(message_update(16, CHAT, text="/help"))
    assert "/balance" in bot_api.sent_to(CHAT)[-1]
    feed(message_update(17, CHAT, text="/balance", language_code="en"))
    assert "Balance: 320.50" in bot_api.sent_to(CHAT)[-1]


@pytest.mark.django_db
def test_flood_is_refused_with_one_notice(
    bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber, settings: Any
) -> None:
    settings.TELEGRAM_FLOOD_PER_MINUTE = 5
    link(bot_api, subscriber)
    bot_api.clear()
    t0 = int(time.time())
    feed(*[message_update(200 + i, CHAT, text=f"сообщение {i}", date=t0 + i) for i in range(12)])
    case = Case.objects.get(subscriber=subscriber)
    # The link steps (3 messages) were more than a minute before? No: they count too, so fewer get through.
    stored = case.messages.count()
    assert stored <= 5
    flood = RejectedInbound.objects.filter(reason=RejectedInbound.Reason.FLOOD)
    assert flood.count() == 12 - stored
    notices = [t for t in bot_api.sent_to(CHAT) if t == ru(texts.flood)]
    assert len(notices) == 1
    # A minute later the chat may write again.
    feed(message_update(300, CHAT, text="снова я", date=t0 + 75))
    assert case.messages.filter(body="снова я").exists()
