"""Fixtures of the live-socket tests: a fresh in-memory channel layer, cache, and socket helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client

from beskontakt.accounts.testing import login_verified

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def _fresh_layer_and_cache(settings: Any) -> Iterator[None]:
    """Each test gets its own in-memory channel layer (bound to its own event loop) and an empty cache."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}
    cache.clear()
    yield
    channel_layers.backends = {}
    cache.clear()


def session_cookie(user: Any, *, verified: bool = True) -> str:
    """A session id for ``user`` (staff: with the TOTP step passed unless ``verified=False``)."""
    client = Client()
    if verified and getattr(user, "is_operator_staff", False):
        login_verified(client, user)
    else:
        client.force_login(user)
    return str(client.cookies["sessionid"].value)


def socket(path: str, session: str | None = None, origin: bytes = b"http://testserver") -> WebsocketCommunicator:
    """A communicator speaking to the project's real ASGI application (origin check and session auth)."""
    from beskontakt.asgi import application

    headers = [(b"origin", origin)]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def frames_until(communicator: WebsocketCommunicator, kind: str, timeout: float = 2) -> list[dict[str, Any]]:
    """Frames received up to and including the first of type ``kind``."""
    got = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        got.append(frame)
        if frame.get("type") == kind:
            return got


async def next_of(communicator: WebsocketCommunicator, kind: str, timeout: float = 2) -> dict[str, Any]:
    """The next frame of type ``kind`` (others before it are skipped)."""
    return (await frames_until(communicator, kind, timeout))[-1]


async def drain(communicator: WebsocketCommunicator, quiet: float = 0.3) -> list[dict[str, Any]]:
    """Every frame that arrives until the socket stays quiet for ``quiet`` seconds."""
    got = []
    while not await communicator.receive_nothing(timeout=quiet):
        got.append(await communicator.receive_json_from())
    return got
