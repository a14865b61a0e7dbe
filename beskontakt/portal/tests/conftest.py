"""Fixtures for the portal tests: a clean rate-limit cache, uploads in a temporary folder, signing in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from beskontakt.inbox.models import OutboundMessage
from beskontakt.subscribers.models import Channel, ContactPoint, Subscriber


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    """Rate-limit counters live in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    """Uploaded files of a test go to its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client() -> Client:
    """A test client that asks for English pages, so assertions on messages do not depend on the catalogue."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def email_subscriber(subscriber: Subscriber) -> Subscriber:
    """The shared subscriber with an e-mail address (codes then go by e-mail)."""
    ContactPoint.objects.create(subscriber=subscriber, channel=Channel.EMAIL, value="ivanova.m@mail.ru")
    return subscriber


def last_code(subscriber: Subscriber) -> str:
    """The newest one-time code sent to ``subscriber``, read from the outbox row's text."""
    item = OutboundMessage.objects.filter(subscriber=subscriber, kind=OutboundMessage.Kind.CODE).latest("pk")
    found = re.search(r"\b(\d{6})\b", item.body)
    assert found, item.body
    return found.group(1)


def portal_login(client: Client, subscriber: Subscriber, identifier: str | None = None) -> None:
    """Sign ``client`` in to the portal the way a subscriber does: number, then the code sent."""
    response = client.post("/my/login/", {"identifier": identifier or subscriber.contract_number})
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post("/my/login/code/", {"code": last_code(subscriber)})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/my/"


@pytest.fixture
def portal_client(client: Client, subscriber: Subscriber, users: Any) -> Client:
    """A test client signed in to the portal as ``subscriber`` (the code taken from the outbox).

    Depends on ``users`` so the shared subscriber login exists before signing in.
    """
    portal_login(client, subscriber)
    return client
