"""/check in Telegram: the linked subscriber's self-check through the real bot pipeline (aiogram and a
local Bot API server), answered in the chat's language with a subscriber-safe summary."""

from __future__ import annotations

import pytest
from django.utils import translation

from beskontakt.cpe import profiles
from beskontakt.diagnostics import verdicts
from beskontakt.diagnostics.models import DiagnosisRun
from beskontakt.inbox.telegram import texts
from beskontakt.inbox.tests.telegram.conftest import bot_api, bot_server, scheduled  # noqa: F401 - fixtures
from beskontakt.inbox.tests.telegram.fake_bot_api import FakeBotApi, message_update
from beskontakt.inbox.tests.telegram.test_bot import Ids, feed, link
from beskontakt.subscribers.models import Subscriber

from .doubles import FakeDevice, World

pytestmark = pytest.mark.django_db(transaction=True)
CHAT = 556001


def test_check_in_telegram(
    bot_api: FakeBotApi,  # noqa: F811
    scheduled: list[str],  # noqa: F811
    world: World,
    device: FakeDevice,
    subscriber: Subscriber,
) -> None:
    device.values[profiles.WIFI_CHANNELS_IN_USE] = [6, 6, 6, 7, 5, 1]
    ids = Ids(300)
    link(bot_api, subscriber, CHAT, ids)
    bot_api.clear()
    feed(message_update(ids(), CHAT, text="/check"))
    [answer] = bot_api.sent_to(CHAT)
    run = DiagnosisRun.objects.get()
    assert run.origin == "telegram" and run.verdict == verdicts.WIFI_CONGESTED
    assert run.requested_by is None and run.applied_fix == verdicts.FIX_WIFI_CHANNEL
    assert "11" in answer
    for internal in ("sw-khamovniki", "Gi0/12", "127.0.0.1", "SN0001"):
        assert internal not in answer
    with translation.override("ru"):
        assert answer.startswith(texts.check_result("", "").split(":")[0])

    feed(message_update(ids(), CHAT, text="/check", language_code="en"))
    assert "just checked your connection" in bot_api.sent_to(CHAT)[-1]
    assert DiagnosisRun.objects.count() == 1


def test_check_needs_a_linked_chat(bot_api: FakeBotApi, scheduled: list[str], world: World) -> None:  # noqa: F811
    feed(message_update(1, CHAT + 1, text="/check", language_code="en"))
    assert "First link this chat" in bot_api.sent_to(CHAT + 1)[-1]
    assert not DiagnosisRun.objects.exists()


def test_help_mentions_check(bot_api: FakeBotApi, scheduled: list[str], subscriber: Subscriber, world: World) -> None:  # noqa: F811
    ids = Ids(400)
    link(bot_api, subscriber, CHAT + 2, ids)
    feed(message_update(ids(), CHAT + 2, text="/help"))
    assert "/check" in bot_api.sent_to(CHAT + 2)[-1]
