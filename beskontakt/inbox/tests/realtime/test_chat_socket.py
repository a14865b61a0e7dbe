"""The subscriber's chat socket (/ws/chat/) over the real ASGI stack: who may connect, send and
acknowledge, idempotent resends, history after a reconnect, agents' replies live, limits."""

from __future__ import annotations

import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role
from beskontakt.cases import actions
from beskontakt.cases.models import Case, Message
from beskontakt.conftest import make_user
from beskontakt.inbox import chat
from beskontakt.inbox.consumers import chat as chat_consumer
from beskontakt.subscribers.models import Channel

from .conftest import drain, frames_until, next_of, session_cookie, socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat_cookie(users: dict[str, User]) -> str:
    return session_cookie(users[Role.SUBSCRIBER])


def _connect_result(session: str | None) -> tuple[bool, Any]:
    async def run() -> tuple[bool, Any]:
        communicator = socket("/ws/chat/", session)
        result = await communicator.connect()
        if result[0]:
            await communicator.disconnect()
        return result

    return async_to_sync(run)()


def test_only_a_subscribers_portal_login_may_chat(users: dict[str, User]) -> None:
    assert _connect_result(None) == (False, 4403)
    assert _connect_result(session_cookie(users[Role.AGENT])) == (False, 4403)
    unlinked = make_user(Role.SUBSCRIBER, username="nobody-linked")
    assert _connect_result(session_cookie(unlinked)) == (False, 4403)
    assert _connect_result(session_cookie(users[Role.SUBSCRIBER]))[0] is True


def test_send_ack_and_idempotent_resend(chat_cookie: str, subscriber: Any) -> None:
    async def run() -> None:
        page = socket("/ws/chat/", chat_cookie)
        assert (await page.connect())[0]
        assert (await next_of(page, "hello"))["subscriber"] == subscriber.pk
        assert (await next_of(page, "history"))["count"] == 0

        await page.send_json_to({"send": "Не работает интернет", "client_id": "a1b2"})
        got = await frames_until(page, "ack")
        message = next(f for f in got if f["type"] == "message")
        ack = got[-1]
        assert ack == {"type": "ack", "ack": "a1b2", "message": message["id"], "duplicate": False}
        assert message["mine"] is True and message["client_id"] == "a1b2" and message["direction"] == "in"
        assert message["body"] == "Не работает интернет"

        # The page lost the ack and sends again after reconnecting: no second message.
        await page.send_json_to({"send": "Не работает интернет", "client_id": "a1b2"})
        again = await next_of(page, "ack")
        assert again["message"] == message["id"] and again["duplicate"] is True
        assert await page.receive_nothing(timeout=0.3)
        await page.disconnect()

    async_to_sync(run)()
    stored = Message.objects.filter(channel=Channel.CHAT)
    assert stored.count() == 1
    case = Case.objects.get(pk=stored.get().case_id)
    assert case.channel == Channel.CHAT and case.subscriber_id == subscriber.pk
    assert stored.get().external_id == f"chat:{subscriber.pk}:a1b2"


def test_history_after_reconnect_loses_nothing(chat_cookie: str, subscriber: Any, agent: User) -> None:
    first, _ = chat.send(subscriber, body="Первое", client_id="m1")
    chat.send(subscriber, body="Второе", client_id="m2")
    # While the page is away, the agent answers in the chat; a phone-channel reply is not chat.
    reply = actions.reply(first.case, by=agent, body="Проверяю линию", channel=Channel.CHAT)
    actions.reply(first.case, by=agent, body="SMS text", channel=Channel.SMS)

    async def run() -> None:
        page = socket("/ws/chat/", chat_cookie)
        assert (await page.connect())[0]
        frames = await frames_until(page, "history")
        bodies = [f["body"] for f in frames if f["type"] == "message"]
        assert bodies == ["Первое", "Второе", "Проверяю линию"]
        out = [f for f in frames if f["type"] == "message"][-1]
        assert out["mine"] is False and out["author"] == agent.first_name and out["id"] == reply.pk

        await page.send_json_to({"since": first.pk})
        frames = await frames_until(page, "history")
        assert [f["body"] for f in frames if f["type"] == "message"] == ["Второе", "Проверяю линию"]
        await page.send_json_to({"since": "x"})
        assert (await next_of(page, "error"))["code"] == "invalid"
        await page.disconnect()

    async_to_sync(run)()


def test_agent_reply_reaches_the_open_chat_within_a_second(
    chat_cookie: str, subscriber: Any, other_subscriber: Any, agent: User
) -> None:
    message, _ = chat.send(subscriber, body="Помогите", client_id="h1")
    other_case = actions.open_case(subject="Чужое", subscriber=other_subscriber, channel=Channel.CHAT, body="x")

    async def run() -> None:
        page = socket("/ws/chat/", chat_cookie)
        assert (await page.connect())[0]
        await next_of(page, "history")

        # Another subscriber's reply never shows here.
        await database_sync_to_async(actions.reply)(other_case, by=agent, body="Не вам", channel=Channel.CHAT)
        assert await page.receive_nothing(timeout=0.3)

        started = time.monotonic()
        await database_sync_to_async(actions.reply)(
            message.case, by=agent, body="Уже смотрю, минуту", channel=Channel.CHAT
        )
        frame = await next_of(page, "message", timeout=1)
        assert time.monotonic() - started < 1
        assert frame["body"] == "Уже смотрю, минуту" and frame["direction"] == "out"
        # The outbox's portal delivery later says the same again: nothing is shown twice.
        from beskontakt.inbox import realtime

        await database_sync_to_async(realtime.send_now)(
            realtime.subscriber_group(subscriber.pk),
            {"type": "subscriber.changed", "kind": "message_out", "case": message.case_id, "message": frame["id"]},
        )
        later = await drain(page)
        assert [f for f in later if f["type"] == "message"] == []
        assert {"type": "case.changed", "case": message.case_id, "kind": "status"} in later  # new -> open
        await page.disconnect()

    async_to_sync(run)()


def test_flood_size_and_malformed_frames_get_clear_errors(chat_cookie: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(chat_consumer, "SEND_LIMIT", 3)

    async def run() -> None:
        page = socket("/ws/chat/", chat_cookie)
        assert (await page.connect())[0]
        await next_of(page, "history")

        await page.send_json_to({"send": "я" * (chat.MAX_CHAT_CHARS + 1), "client_id": "big"})
        error = await next_of(page, "error")
        assert error["code"] == "too_long" and error["client_id"] == "big"
        assert str(chat.MAX_CHAT_CHARS) in error["message"]

        await page.send_to(text_data='{"send": "' + "x" * 40_000 + '"}')
        assert (await next_of(page, "error"))["code"] == "frame_too_large"
        await page.send_to(text_data="[1, 2]")
        assert (await next_of(page, "error"))["code"] == "bad_frame"
        await page.send_json_to({"send": "hi", "client_id": "no spaces allowed"})
        assert (await next_of(page, "error"))["code"] == "invalid"
        await page.send_json_to({"send": "   ", "client_id": "empty"})
        assert (await next_of(page, "error"))["code"] == "invalid"

        for n in range(3):
            await page.send_json_to({"send": f"msg {n}", "client_id": f"f{n}"})
            await next_of(page, "ack")
        await page.send_json_to({"send": "one too many", "client_id": "f3"})
        error = await next_of(page, "error")
        assert error["code"] == "flood" and error["client_id"] == "f3" and error["retry_after"] > 0
        await page.disconnect()

    async_to_sync(run)()
    assert Message.objects.filter(channel=Channel.CHAT).count() == 3


def test_a_connection_flooding_past_the_hard_limit_is_closed(chat_cookie: str, monkeypatch: Any) -> None:
    from beskontakt.inbox.consumers import base

    monkeypatch.setattr(base, "FRAME_LIMIT", 5)
    monkeypatch.setattr(base, "HARD_FRAME_LIMIT", 8)

    async def run() -> None:
        page = socket("/ws/chat/", chat_cookie)
        assert (await page.connect())[0]
        await next_of(page, "history")
        for _ in range(12):
            await page.send_json_to({"ping": 1})
        codes = []
        while True:
            output = await page.receive_output(timeout=1)
            if output["type"] == "websocket.close":
                assert output["code"] == base.CLOSE_FLOOD
                break
            codes.append(output["text"])
        assert any('"flood"' in text for text in codes)

    async_to_sync(run)()


def test_signing_out_closes_the_socket_at_the_next_heartbeat(chat_cookie: str, monkeypatch: Any) -> None:
    from django.contrib.sessions.models import Session

    from beskontakt.inbox.consumers import base

    monkeypatch.setattr(base, "SESSION_CHECK_SECONDS", 0)

    async def run() -> None:
        page = socket("/ws/chat/", chat_cookie)
        assert (await page.connect())[0]
        await next_of(page, "history")
        await page.send_json_to({"ping": 1})
        assert (await next_of(page, "pong"))["type"] == "pong"
        await database_sync_to_async(Session.objects.filter(session_key=chat_cookie).delete)()
        await page.send_json_to({"ping": 1})
        output = await page.receive_output(timeout=1)
        assert output == {"type": "websocket.close", "code": base.CLOSE_SIGNED_OUT}

    async_to_sync(run)()
