"""Long polling with the management command, and photos/documents into cases."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from beskontakt.cases.models import Attachment, Case
from beskontakt.inbox.models import RejectedInbound, TelegramChat, TelegramUpdate
from beskontakt.inbox.telegram import polling, updates
from beskontakt.subscribers.models import Channel, Subscriber

from .fake_bot_api import FakeBotApi, message_update

CHAT = 556001
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 2000 + b"\xff\xd9"


@pytest.fixture
def linked(db: Any, subscriber: Subscriber) -> TelegramChat:
    return TelegramChat.objects.create(chat_id=CHAT, subscriber=subscriber, language="ru")


def feed(*payloads: dict[str, Any]) -> tuple[int, int]:
    for payload in payloads:
        updates.store(payload)
    return updates.process_pending()


@pytest.mark.django_db
def test_poll_once_stores_and_handles(bot_api: FakeBotApi, scheduled: list[str], linked: TelegramChat) -> None:
    bot_api.updates.extend(
        [
            message_update(500, CHAT, text="Нет сигнала на ТВ"),
            message_update(501, CHAT, text="Совсем", date=int(time.time()) + 1),
            message_update(502, CHAT + 1, text="/start"),
        ]
    )
    out = io.StringIO()
    call_command("telegram_poll", "--once", stdout=out)
    assert "received 3, stored 3, handled 3, failed 0" in out.getvalue()
    assert [c.params.get("offset") for c in bot_api.calls_of("getUpdates")] == [None]
    case = Case.objects.get(subscriber=linked.subscriber)
    assert [m.body for m in case.messages.order_by("created_at")] == ["Нет сигнала на ТВ", "Совсем"]
    stored = TelegramUpdate.objects.get(update_id=500).payload
    assert stored["message"]["chat"]["id"] == CHAT and isinstance(stored["message"]["date"], int)
    assert bot_api.sent_to(CHAT + 1)
    # The next round confirms what was stored (offset) and Telegram drops it.
    bot_api.updates.append(message_update(503, CHAT, text="Ещё", date=int(time.time()) + 2))
    call_command("telegram_poll", "--once", stdout=io.StringIO())
    assert bot_api.calls_of("getUpdates")[-1].params["offset"] == "503"
    assert [u["update_id"] for u in bot_api.updates] == [503]
    assert case.messages.count() == 3
    assert not scheduled  # polling handles updates itself, no Celery needed


@pytest.mark.django_db
def test_poll_backs_off_on_errors_and_stops_on_a_refused_token(
    bot_api: FakeBotApi, scheduled: list[str], settings: Any
) -> None:
    bot_api.fail("getUpdates", 502, "Bad Gateway", times=2)
    bot_api.fail("getUpdates", 409, "Conflict: can't use getUpdates method while webhook is active")
    bot_api.updates.append(message_update(600, CHAT, text="/start"))
    slept: list[float] = []
    rounds: list[polling.Round] = []

    def stop_after_success(outcome: polling.Round) -> None:
        rounds.append(outcome)
        if outcome.received:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        polling.run(timeout=0, sleep=slept.append, report=stop_after_success)
    assert slept == [1.0, 2.0, 4.0]
    assert [bool(r.error) for r in rounds] == [True, True, True, False]
    assert "conflict" in rounds[2].error
    assert TelegramUpdate.objects.filter(update_id=600, state=TelegramUpdate.State.DONE).exists()
    with pytest.raises(CommandError, match="polling failed"):
        bot_api.fail("getUpdates", 500, "Internal Server Error")
        call_command("telegram_poll", "--once", stdout=io.StringIO(), stderr=io.StringIO())
    settings.TELEGRAM_BOT_TOKEN = "999:wrong-token"
    with pytest.raises(CommandError, match="refused the bot token"):
        call_command("telegram_poll", "--once", stdout=io.StringIO())


@pytest.mark.django_db
def test_photo_goes_on_the_case(bot_api: FakeBotApi, scheduled: list[str], linked: TelegramChat) -> None:
    file_id = bot_api.add_file(JPEG)
    feed(message_update(700, CHAT, photo_file_id=file_id, photo_size=len(JPEG), caption="Вот роутер"))
    case = Case.objects.get(subscriber=linked.subscriber, channel=Channel.TELEGRAM)
    message = case.messages.get()
    assert message.body == "Вот роутер" and message.external_id == f"{CHAT}:700"
    attachment = Attachment.objects.get(message=message)
    assert attachment.content_type == "image/jpeg" and attachment.size == len(JPEG)
    with attachment.file.open("rb") as handle:
        assert handle.read() == JPEG
    # The biggest size was fetched, then downloaded.
    assert [c.params["file_id"] for c in bot_api.calls_of("getFile")] == [file_id]
    # Repeated: nothing downloaded again, nothing doubled.
    feed(
        {
            **message_update(701, CHAT, photo_file_id=file_id, caption="Вот роутер"),
            "message": {**message_update(700, CHAT, photo_file_id=file_id, caption="Вот роутер")["message"]},
        }
    )
    assert Attachment.objects.count() == 1 and len(bot_api.calls_of("getFile")) == 1
    # No caption: a body is made up so the agent sees what it is.
    feed(message_update(702, CHAT, photo_file_id=bot_api.add_file(JPEG)))
    assert case.messages.count() == 2 and Attachment.objects.count() == 2


@pytest.mark.django_db
def test_disguised_and_oversized_files_are_refused(
    bot_api: FakeBotApi, scheduled: list[str], linked: TelegramChat
) -> None:
    html = bot_api.add_file(b"<html><script>alert(1)</script></html>", path="documents/invoice.pdf")
    document = {"file_id": html, "file_unique_id": "u1", "file_name": "invoice.pdf", "file_size": 40}
    feed(message_update(800, CHAT, document=document))
    refused = RejectedInbound.objects.get(reason=RejectedInbound.Reason.REFUSED_FILE)
    assert refused.sender == str(CHAT) and "invoice.pdf" in refused.detail
    assert "invoice.pdf" in bot_api.sent_to(CHAT)[-1]
    big = {"file_id": "big-1", "file_unique_id": "u2", "file_name": "scan.pdf", "file_size": 50 * 1024 * 1024}
    feed(message_update(801, CHAT, document=big))
    assert RejectedInbound.objects.filter(reason=RejectedInbound.Reason.TOO_LARGE).count() == 1
    assert not bot_api.calls_of("getFile") or all(c.params["file_id"] != "big-1" for c in bot_api.calls_of("getFile"))
    # Telegram will not give the file (gone): refused with the reason, the sender told.
    gone = {"file_id": "gone-1", "file_unique_id": "u3", "file_name": "a.pdf", "file_size": 10}
    feed(message_update(802, CHAT, document=gone))
    assert RejectedInbound.objects.filter(reason=RejectedInbound.Reason.REFUSED_FILE).count() == 2
    assert not Case.objects.exists()
    # A sticker is not a case message either.
    feed(message_update(803, CHAT, sticker=True))
    assert RejectedInbound.objects.filter(reason=RejectedInbound.Reason.OTHER, detail__contains="sticker").exists()
    assert TelegramUpdate.objects.filter(state=TelegramUpdate.State.DONE).count() == 4


@pytest.mark.django_db
def test_photo_from_unlinked_chat_is_refused(bot_api: FakeBotApi, scheduled: list[str]) -> None:
    file_id = bot_api.add_file(JPEG)
    feed(message_update(900, CHAT + 5, photo_file_id=file_id))
    assert RejectedInbound.objects.get().reason == RejectedInbound.Reason.UNKNOWN_SENDER
    assert not bot_api.calls_of("getFile") and not Case.objects.exists()


@pytest.mark.django_db
def test_answer_that_cannot_be_sent_goes_through_the_outbox(
    bot_api: FakeBotApi, scheduled: list[str], linked: TelegramChat
) -> None:
    from beskontakt.inbox.models import OutboundMessage

    bot_api.fail("sendMessage", 502, "Bad Gateway")
    feed(message_update(950, CHAT, text="/balance"))
    item = OutboundMessage.objects.get(channel=Channel.TELEGRAM)
    assert item.address == str(CHAT) and "77001234" in item.body
    assert TelegramUpdate.objects.get(update_id=950).state == TelegramUpdate.State.DONE
    # A chat that blocked the bot: the update is still handled, nothing retried.
    bot_api.blocked.add(CHAT)
    feed(message_update(951, CHAT, text="Вы тут?"))
    assert Case.objects.get().messages.filter(body="Вы тут?").exists()
    assert OutboundMessage.objects.count() == 1
