"""Live chat in real browsers: a subscriber chats from the portal, an agent answers from the case page.

The ASGI application (HTTP and WebSockets) runs in uvicorn in a thread against the
test database — pytest-django's ``live_server`` is WSGI and has no WebSockets. Two
Chromium contexts: the subscriber signs in with a one-time code and opens the chat;
the agent signs in with password and TOTP, sees the new chat appear in the queue
without reloading, opens it, sees "typing…" and every message live, and answers;
the subscriber sees the answer live, also after the connection drops.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import confirmed_device, sign_in_in_browser
from beskontakt.cases.models import Case, Message
from beskontakt.conftest import PASSWORD, make_subscriber, make_user
from beskontakt.inbox.models import OutboundMessage
from beskontakt.subscribers.models import Channel, ContactPoint

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTS = range(18300, 18340)
LIVE = 3_000  # ms: well inside the page's 15 s timer; the live path must deliver


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18300-18339")


@pytest.fixture
def asgi_server(settings: Any) -> Iterator[str]:
    """uvicorn serving the project's ASGI app (with the chat page routed) on a port of this test's range."""
    import uvicorn

    settings.ROOT_URLCONF = "beskontakt.inbox.tests.realtime.urls"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    from beskontakt.asgi import application

    port = _free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _code_for(subscriber: Any) -> str:
    item = OutboundMessage.objects.filter(subscriber=subscriber, kind=OutboundMessage.Kind.CODE).latest("pk")
    found = re.search(r"\b(\d{6})\b", item.body)
    assert found, item.body
    return found.group(1)


def test_subscriber_and_agent_chat_live(asgi_server: str, browser: Any) -> None:
    agent = make_user(Role.AGENT, username="olga", first_name="Ольга", last_name="Смирнова")
    device = confirmed_device(agent)
    subscriber = make_subscriber("77001234")
    ContactPoint.objects.create(subscriber=subscriber, channel=Channel.SMS, value="+79161234567")

    agent_context = browser.new_context(locale="ru-RU")
    sub_context = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 800})
    try:
        staff = agent_context.new_page()
        staff.set_default_timeout(15_000)
        me = sub_context.new_page()
        me.set_default_timeout(15_000)

        # The agent signs in (password + TOTP) and watches the unassigned queue.
        sign_in_in_browser(staff, asgi_server, "olga", PASSWORD, device, next_url="/?tab=unassigned")
        staff.wait_for_selector("#presence-indicator[data-state=online]")

        # The subscriber signs in to the portal with a one-time code and opens the chat.
        me.goto(f"{asgi_server}/my/login/")
        me.fill("input[name=identifier]", "77001234")
        me.click("#login-form button[type=submit]")
        me.wait_for_selector("#code-form")
        me.fill("input[name=code]", _code_for(subscriber))
        me.click("#code-form button[type=submit]")
        me.wait_for_url(re.compile(r".*/my/$"))
        me.goto(f"{asgi_server}/my/chat/")
        me.wait_for_selector("#chat-status[data-state=online]")

        me.fill("#chat-input", "Здравствуйте! Пропал интернет")
        me.click("#chat-send")
        me.wait_for_selector("#chat-messages li.mine[data-id]")
        case = Case.objects.get(subscriber=subscriber, channel=Channel.CHAT)

        # The new chat shows up in the agent's queue without a reload.
        staff.locator(f"tr[data-case='{case.pk}']").wait_for(timeout=LIVE)
        staff.locator(f"tr[data-case='{case.pk}'] a").first.click()
        staff.wait_for_selector("#reply-body")
        staff.wait_for_selector(f"#live-config[data-watching='{case.pk}']", state="attached")
        staff.wait_for_selector("#case-timeline li.in.message:has-text('Пропал интернет')")
        assert staff.input_value("#id_channel") == Channel.CHAT

        # The subscriber types: the agent sees it; then writes again: it appears on the case page.
        me.wait_for_timeout(2_100)  # typing notices go out at most every 2 s; the first went with the first message
        me.type("#chat-input", "Роутер мигает")
        staff.wait_for_selector("#typing-indicator:not([hidden])", timeout=LIVE)
        me.press("#chat-input", "Enter")
        staff.wait_for_selector("#case-timeline li.in.message:has-text('Роутер мигает')", timeout=LIVE)

        # The agent types and answers in the chat: the subscriber sees "typing" and the answer.
        staff.type("#reply-body", "Ольга на связи, проверяю линию.")
        me.wait_for_selector("#chat-typing:not([hidden])", timeout=LIVE)
        staff.click("#send-reply")
        me.wait_for_selector("#chat-messages li.theirs:has-text('проверяю линию')", timeout=LIVE)
        staff.wait_for_selector("#case-timeline li.out.message:has-text('проверяю линию')")

        # The subscriber's connection drops; an answer sent meanwhile arrives after the reconnect.
        me.evaluate("window.beskontaktChat.socket().close()")
        staff.fill("#reply-body", "Перезагрузите, пожалуйста, роутер.")
        staff.click("#send-reply")
        me.wait_for_selector("#chat-messages li.theirs:has-text('Перезагрузите')", timeout=10_000)
        me.wait_for_selector("#chat-status[data-state=online]")

        # Nothing was shown twice on either side, and nothing stored twice.
        assert me.locator("#chat-messages li.chat-msg").count() == 4
        assert Message.objects.filter(case__subscriber=subscriber, channel=Channel.CHAT).count() == 4
        staff.reload()
        assert staff.locator("#case-timeline li.message").count() == 4
    finally:
        agent_context.close()
        sub_context.close()
