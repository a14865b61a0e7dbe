"""Outbound over Telegram: an agent's reply reaches the chat; Bot API errors map to retry or give up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from beskontakt.cases import actions
from beskontakt.cases.models import Case, Message
from beskontakt.inbox import outbox
from beskontakt.inbox.models import OutboundMessage, TelegramChat
from beskontakt.inbox.notifiers import PermanentFailure, TemporaryFailure, notifier_for
from beskontakt.inbox.notifiers.telegram import TelegramNotifier, split_text
from beskontakt.inbox.telegram import updates
from beskontakt.subscribers.actions import add_contact
from beskontakt.subscribers.models import Channel, Subscriber

from .fake_bot_api import FakeBotApi, message_update

CHAT = 557001
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

Status = OutboundMessage.Status


@pytest.fixture
def tg_case(bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber, agent: Any) -> Case:
    """A case the subscriber opened from their linked Telegram chat."""
    TelegramChat.objects.create(chat_id=CHAT, subscriber=subscriber)
    add_contact(subscriber, Channel.TELEGRAM, str(CHAT))
    updates.store(message_update(1, CHAT, text="Не работает интернет"))
    updates.process_pending()
    bot_api.clear()
    return Case.objects.get(subscriber=subscriber, channel=Channel.TELEGRAM)


@pytest.mark.django_db
def test_agent_reply_is_delivered_to_the_chat(bot_api: FakeBotApi, tg_case: Case, agent: Any) -> None:
    shot = SimpleUploadedFile("schema.png", PNG, content_type="image/png")
    message = actions.reply(tg_case, by=agent, body="Здравствуйте! Перезагрузите роутер.", attachments=[shot])
    item = OutboundMessage.objects.get(message=message)
    assert item.address == str(CHAT) and item.payload["attachments"]
    assert outbox.deliver(item.pk) == Status.DELIVERED
    item.refresh_from_db()
    [text] = bot_api.calls_of("sendMessage")
    assert text.params["chat_id"] == str(CHAT) and text.params["text"] == "Здравствуйте! Перезагрузите роутер."
    [photo] = bot_api.calls_of("sendPhoto")
    assert photo.files["photo"] == PNG
    assert item.provider_id and item.provider_id.isdigit()
    assert Message.objects.get(pk=message.pk).delivery == Message.Delivery.DELIVERED


@pytest.mark.parametrize(
    ("status", "description", "retry_after", "outcome"),
    [
        (429, "Too Many Requests: retry after 3", 3, Status.PENDING),
        (500, "Internal Server Error", None, Status.PENDING),
        (502, "Bad Gateway", None, Status.PENDING),
        (403, "Forbidden: bot was blocked by the user", None, Status.FAILED),
        (400, "Bad Request: chat not found", None, Status.FAILED),
    ],
)
@pytest.mark.django_db
def test_bot_api_errors_map_to_retry_or_failure(
    bot_api: FakeBotApi, tg_case: Case, agent: Any, status: int, description: str, retry_after: int | None, outcome: str
) -> None:
    bot_api.fail("sendMessage", status, description, retry_after=retry_after)
    message = actions.reply(tg_case, by=agent, body="Проверьте, пожалуйста, кабель.")
    item = OutboundMessage.objects.get(message=message)
    assert outbox.deliver(item.pk) == outcome
    item.refresh_from_db()
    if outcome == Status.FAILED:
        assert description.split(": ", 1)[1] in item.last_error
        assert Message.objects.get(pk=message.pk).delivery == Message.Delivery.FAILED
    else:
        assert item.last_error and item.attempts == 1


@pytest.fixture
def english() -> Iterator[None]:
    """The failure reasons are matched in English."""
    with translation.override("en"):
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_notifier_errors_directly(bot_api: FakeBotApi, settings: Any) -> None:
    notifier = TelegramNotifier()

    def item(address: str, body: str = "Привет") -> OutboundMessage:
        return OutboundMessage(key="k", channel=Channel.TELEGRAM, address=address, body=body, payload={})

    assert notifier.send(item(str(CHAT))).isdigit()
    bot_api.blocked.add(CHAT)
    with pytest.raises(PermanentFailure, match="blocked by the user"):
        notifier.send(item(str(CHAT)))
    with pytest.raises(PermanentFailure, match="chat not found"):
        notifier.send(item("@somebody"))
    bot_api.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(TemporaryFailure, match="7"):
        notifier.send(item(str(CHAT + 1)))
    with pytest.raises(PermanentFailure):
        notifier.send(item(""))
    settings.TELEGRAM_API_URL = "http://127.0.0.1:9"  # nothing listens: a network error
    with pytest.raises(TemporaryFailure):
        notifier.send(item(str(CHAT + 1)))
    settings.TELEGRAM_BOT_TOKEN = ""
    with pytest.raises(PermanentFailure, match="not configured"):
        notifier.send(item(str(CHAT + 1)))


@pytest.mark.django_db
def test_long_text_is_split_and_the_registry_finds_the_notifier(bot_api: FakeBotApi) -> None:
    assert isinstance(notifier_for(Channel.TELEGRAM), TelegramNotifier)
    body = ("строка текста\n" * 700).strip()
    pieces = split_text(body)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == body
    sent = TelegramNotifier().send(
        OutboundMessage(key="long", channel=Channel.TELEGRAM, address=str(CHAT), body=body, payload={})
    )
    calls = bot_api.calls_of("sendMessage")
    assert len(calls) == 3 and sent.isdigit()
