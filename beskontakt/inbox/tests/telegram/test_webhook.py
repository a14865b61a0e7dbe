"""The webhook: secret, malformed bodies, store-first, then handled into the case."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from beskontakt.cases.models import Case
from beskontakt.inbox.models import TelegramChat, TelegramUpdate
from beskontakt.inbox.telegram import ingest, updates
from beskontakt.subscribers.models import Channel, Subscriber

from .conftest import SECRET
from .fake_bot_api import FakeBotApi, message_update

URL = "/inbox/telegram/webhook/"
pytestmark = [pytest.mark.urls("beskontakt.inbox.tests.telegram.urls")]


@pytest.fixture
def hook(transactional_db: Any, bot_api: FakeBotApi, scheduled: list[str]) -> Iterator[Client]:
    yield Client()
    ingest.close()


def post(client: Client, body: Any, secret: str | None = SECRET, raw: bool = False) -> Any:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    data = body if raw else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers)


def test_update_is_stored_and_processing_requested(hook: Client, scheduled: list[str]) -> None:
    response = post(hook, message_update(7001, 42, text="/start"))
    assert response.status_code == 200 and response.json() == {"ok": True}
    row = TelegramUpdate.objects.get(update_id=7001)
    assert row.state == TelegramUpdate.State.PENDING and row.payload["message"]["text"] == "/start"
    assert "process" in scheduled
    # A repeat is accepted (Telegram must stop resending) and stored once.
    assert post(hook, message_update(7001, 42, text="/start")).status_code == 200
    assert TelegramUpdate.objects.filter(update_id=7001).count() == 1


def test_wrong_or_missing_secret_is_403(hook: Client) -> None:
    for secret in (None, "", "nope", SECRET + "x"):
        response = post(hook, message_update(1, 42, text="hi"), secret=secret)
        assert response.status_code == 403
        assert "X-Telegram-Bot-Api-Secret-Token" in response.json()["detail"]
    assert not TelegramUpdate.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"update_id": "12"}',
        b'{"update_id": true}',
        b'{"update_id": 1.5}',
        b'{"update_id": -3}',
        b"[" * 100000,
    ],
)
def test_malformed_bodies_are_400(hook: Client, body: bytes) -> None:
    response = post(hook, body, raw=True)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not TelegramUpdate.objects.exists()


def test_get_is_405_and_unconfigured_is_404(hook: Client, settings: Any) -> None:
    assert hook.get(URL, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code == 405
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    response = post(hook, message_update(1, 42, text="hi"))
    assert response.status_code == 404 and response.json()["detail"]


def test_webhook_updates_become_case_messages(hook: Client, bot_api: FakeBotApi, subscriber: Subscriber) -> None:
    chat = 777002
    TelegramChat.objects.create(chat_id=chat, subscriber=subscriber)
    for n, text in enumerate(["Нет интернета", "Роутер мигает красным"]):
        assert post(hook, message_update(8000 + n, chat, text=text)).status_code == 200
    assert updates.process_pending() == (2, 0)
    case = Case.objects.get(subscriber=subscriber, channel=Channel.TELEGRAM)
    assert [m.body for m in case.messages.order_by("created_at")] == ["Нет интернета", "Роутер мигает красным"]
    assert case.reference in bot_api.sent_to(chat)[-1]


def test_update_aiogram_cannot_parse_fails_at_once(hook: Client) -> None:
    assert post(hook, {"update_id": 9001, "message": {"text": "no chat"}}).status_code == 200
    assert updates.process_pending() == (0, 1)
    row = TelegramUpdate.objects.get(update_id=9001)
    assert row.state == TelegramUpdate.State.FAILED and "ValidationError" in row.error


def test_lean_asgi_door_answers_like_the_view(hook: Client, scheduled: list[str]) -> None:
    import httpx
    from asgiref.sync import async_to_sync

    from beskontakt.inbox.telegram.asgi import WEBHOOK_PATH, with_webhook

    reached_django: list[str] = []

    async def django_app(scope: Any, receive: Any, send: Any) -> None:
        reached_django.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = with_webhook(django_app)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [
                await client.post(WEBHOOK_PATH, json=message_update(9100, 42, text="hi"), headers=headers),
                await client.post(WEBHOOK_PATH, content=b"{oops", headers=headers),
                await client.post(WEBHOOK_PATH, json=message_update(9101, 42, text="hi")),
                await client.get(WEBHOOK_PATH, headers=headers),
                await client.post("/inbox/other/", json={}),
            ]

    ok, bad, forbidden, wrong_method, other = async_to_sync(run)()
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    assert bad.status_code == 400 and "JSON" in bad.json()["detail"]
    assert forbidden.status_code == 403
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert other.status_code == 204 and reached_django == ["/inbox/other/"]
    assert list(TelegramUpdate.objects.values_list("update_id", flat=True)) == [9100]
