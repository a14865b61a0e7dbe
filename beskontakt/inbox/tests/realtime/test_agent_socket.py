"""The agent workspace socket (/ws/agent/) over the real ASGI stack: who may connect, live case
changes, typing relay and presence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.utils import timezone

from beskontakt.accounts.models import Presence, User
from beskontakt.accounts.roles import Role
from beskontakt.cases import actions
from beskontakt.conftest import make_user
from beskontakt.inbox import chat, presence
from beskontakt.subscribers.models import Channel

from .conftest import next_of, session_cookie, socket

pytestmark = pytest.mark.django_db(transaction=True)


def _refused(path: str, session: str | None, origin: bytes = b"http://testserver") -> tuple[bool, Any]:
    async def run() -> tuple[bool, Any]:
        communicator = socket(path, session, origin)
        connected, code = await communicator.connect()
        if connected:
            await communicator.disconnect()
        return connected, code

    return async_to_sync(run)()


def test_anonymous_subscriber_and_unverified_staff_are_refused(users: dict[str, User]) -> None:
    assert _refused("/ws/agent/", None)[0] is False
    assert _refused("/ws/agent/", session_cookie(users[Role.SUBSCRIBER])) == (False, 4403)
    # Password given but no TOTP step in the session.
    assert _refused("/ws/agent/", session_cookie(users[Role.AGENT], verified=False)) == (False, 4403)
    # A page of another site may not open a socket with the agent's cookie.
    assert _refused("/ws/agent/", session_cookie(users[Role.AGENT]), origin=b"http://evil.example")[0] is False
    connected, _code = _refused("/ws/agent/", session_cookie(users[Role.AGENT]))
    assert connected is True


def test_inbound_message_reaches_queue_and_watching_case_page(users: dict[str, User], case: Any) -> None:
    agent = users[Role.AGENT]
    cookie = session_cookie(agent)

    async def run() -> None:
        queue_page = socket("/ws/agent/", cookie)
        case_page = socket("/ws/agent/", cookie)
        assert (await queue_page.connect())[0]
        assert (await case_page.connect())[0]
        assert (await next_of(queue_page, "hello"))["presence"] == "online"
        await next_of(case_page, "hello")
        await case_page.send_json_to({"watch": case.pk})
        assert (await next_of(case_page, "watching"))["case"] == case.pk

        await database_sync_to_async(actions.receive_message)(
            channel=Channel.PHONE, external_id="call-2", body="Всё ещё не работает", case=case
        )
        frame = await next_of(case_page, "case.changed")
        assert frame == {"type": "case.changed", "case": case.pk, "kind": "message_in"}
        # The queue page gets the changes of cases it does not watch in one frame per moment.
        frame = await next_of(queue_page, "queue.changed")
        assert frame == {"type": "queue.changed", "cases": [case.pk], "count": 1}
        assert await queue_page.receive_nothing(timeout=0.3)
        # The watching page hears of the change once, although it is in both groups.
        assert await case_page.receive_nothing(timeout=0.3)
        await queue_page.disconnect()
        await case_page.disconnect()

    async_to_sync(run)()


def test_watching_a_case_one_may_not_see_is_refused(users: dict[str, User], case: Any) -> None:
    technician = users[Role.TECHNICIAN]  # sees only cases assigned to them
    cookie = session_cookie(technician)

    async def run() -> None:
        page = socket("/ws/agent/", cookie)
        assert (await page.connect())[0]
        await next_of(page, "hello")
        await page.send_json_to({"watch": case.pk})
        error = await next_of(page, "error")
        assert error["code"] == "not_found"
        await page.send_json_to({"watch": "abc"})
        assert (await next_of(page, "error"))["code"] == "invalid"
        await page.send_json_to({"typing": case.pk})
        assert (await next_of(page, "error"))["code"] == "not_found"
        await page.send_to(text_data="not json")
        assert (await next_of(page, "error"))["code"] == "bad_frame"
        await page.send_json_to({"dance": 1})
        assert (await next_of(page, "error"))["code"] == "bad_frame"
        await page.disconnect()

    async_to_sync(run)()


def test_typing_is_relayed_both_ways(users: dict[str, User], subscriber: Any, agent: User) -> None:
    message, _created = chat.send(subscriber, body="Здравствуйте, нет ТВ", client_id="c-1")
    case_id = message.case_id
    agent_cookie, chat_cookie = session_cookie(agent), session_cookie(users[Role.SUBSCRIBER])

    async def run() -> None:
        agent_page = socket("/ws/agent/", agent_cookie)
        chat_page = socket("/ws/chat/", chat_cookie)
        assert (await agent_page.connect())[0]
        assert (await chat_page.connect())[0]
        await next_of(agent_page, "hello")
        await next_of(chat_page, "history")
        await agent_page.send_json_to({"watch": case_id})
        await next_of(agent_page, "watching")

        await agent_page.send_json_to({"typing": case_id})
        typing = await next_of(chat_page, "typing")
        assert typing == {"type": "typing", "who": "agent", "name": agent.first_name}

        await chat_page.send_json_to({"typing": True})
        assert await next_of(agent_page, "typing") == {"type": "typing", "case": case_id, "who": "subscriber"}
        # Repeats within the throttle are not relayed again.
        await chat_page.send_json_to({"typing": True})
        assert await agent_page.receive_nothing(timeout=0.3)
        await agent_page.disconnect()
        await chat_page.disconnect()

    async_to_sync(run)()


def _presence(user: User) -> str:
    return str(User.objects.get(pk=user.pk).presence)


def test_presence_online_away_offline_across_tabs(users: dict[str, User]) -> None:
    supervisor = users[Role.SUPERVISOR]
    cookie = session_cookie(supervisor)
    assert _presence(supervisor) == Presence.OFFLINE

    async def run() -> None:
        tab1 = socket("/ws/agent/", cookie)
        tab2 = socket("/ws/agent/", cookie)
        assert (await tab1.connect())[0]
        await next_of(tab1, "hello")
        assert await database_sync_to_async(_presence)(supervisor) == Presence.ONLINE
        assert (await tab2.connect())[0]
        await next_of(tab2, "hello")
        assert await database_sync_to_async(presence.live_connections)(supervisor.pk) == 2

        # One tab hidden: still online because of the other.
        await tab1.send_json_to({"presence": "away"})
        assert (await next_of(tab1, "presence"))["state"] == Presence.ONLINE
        await tab2.send_json_to({"presence": "away"})
        assert (await next_of(tab2, "presence"))["state"] == Presence.AWAY
        assert await database_sync_to_async(_presence)(supervisor) == Presence.AWAY
        await tab2.send_json_to({"presence": "busy"})
        assert (await next_of(tab2, "error"))["code"] == "invalid"
        await tab2.send_json_to({"presence": "online"})
        await next_of(tab2, "presence")
        await tab2.send_json_to({"heartbeat": 1})
        assert (await next_of(tab2, "heartbeat"))["presence"] == Presence.ONLINE

        # Closing one tab leaves the person online; closing the last makes them offline.
        await tab2.disconnect()
        assert await database_sync_to_async(_presence)(supervisor) == Presence.AWAY
        await tab1.disconnect()
        assert await database_sync_to_async(_presence)(supervisor) == Presence.OFFLINE
        assert await database_sync_to_async(presence.live_connections)(supervisor.pk) == 0

    async_to_sync(run)()


def test_expire_marks_silent_people_offline(users: dict[str, User], settings: Any) -> None:
    settings.PRESENCE_TIMEOUT_SECONDS = 90
    agent = users[Role.AGENT]
    quiet = make_user(Role.AGENT, username="quiet")
    presence.touch(agent.pk, "tab-a", Presence.ONLINE)
    presence.touch(quiet.pk, "tab-b", Presence.AWAY)
    User.objects.filter(pk=quiet.pk).update(presence_seen_at=timezone.now() - timedelta(seconds=91))
    assert presence.expire() == 1
    assert _presence(quiet) == Presence.OFFLINE
    assert _presence(agent) == Presence.ONLINE
    # A dead worker's connection stops counting once its heartbeat is older than the timeout.
    settings.PRESENCE_TIMEOUT_SECONDS = 0
    assert presence.live_connections(agent.pk) == 0
    assert presence.leave(agent.pk, "another-tab") == Presence.OFFLINE


def test_offline_agents_are_not_picked(users: dict[str, User], queue: Any) -> None:
    agent = users[Role.AGENT]
    queue.auto_assign = True
    queue.save()
    presence.touch(agent.pk, "tab", Presence.ONLINE)
    assert actions.pick_agent(queue) == agent
    presence.leave(agent.pk, "tab")
    assert actions.pick_agent(queue) is None
