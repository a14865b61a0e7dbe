"""Fixtures of the Telegram tests: the local Bot API server and a configured bot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from beskontakt.inbox import outbox
from beskontakt.inbox.models import OutboundMessage
from beskontakt.inbox.telegram import updates

from .fake_bot_api import FakeBotApi

TOKEN = "123456:TEST-beskontakt-token"
SECRET = "webhook-secret-Xy9"


@pytest.fixture(scope="session")
def bot_server() -> Iterator[FakeBotApi]:
    """One local Bot API server for the session."""
    server = FakeBotApi(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def bot_api(bot_server: FakeBotApi, settings: Any, tmp_path: Any) -> Iterator[FakeBotApi]:
    """The Bot API server, emptied, with the bot configured to use it (and media in a temporary folder)."""
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_API_URL = bot_server.url
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.MEDIA_ROOT = str(tmp_path / "media")
    bot_server.clear()
    bot_server.updates.clear()
    bot_server.blocked.clear()
    bot_server.failures.clear()
    yield bot_server


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Processing and outbox deliveries are recorded, not queued (tests run them explicitly)."""
    calls: list[str] = []
    monkeypatch.setattr(updates, "schedule_processing", lambda: calls.append("process"))
    monkeypatch.setattr(outbox, "_schedule", lambda item_id: calls.append(f"deliver:{item_id}"))
    return calls


def sent_code() -> str:
    """The digits of the latest one-time code written to the outbox."""
    item = OutboundMessage.objects.filter(kind=OutboundMessage.Kind.CODE).order_by("-pk").first()
    assert item is not None, "no code was sent"
    found = re.search(r"\b(\d{6})\b", item.body)
    assert found is not None
    return found.group(1)
