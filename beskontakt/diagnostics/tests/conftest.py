"""Fixtures of the diagnostics tests: a subscriber with a router, the doubles wired in, a clean rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from beskontakt.diagnostics.sources import use_sources
from beskontakt.subscribers.models import Equipment, Subscriber

from .doubles import FakeDevice, World

SERIAL = "SN0001"


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """The per-subscriber rate limit lives in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _short_timeout(settings: Any) -> None:
    settings.DIAGNOSIS_CHECK_TIMEOUT_SECONDS = 2.0


@pytest.fixture
def router(subscriber: Subscriber) -> Equipment:
    return Equipment.objects.create(
        subscriber=subscriber, kind=Equipment.Kind.ROUTER, model="RT-1", serial_number=SERIAL
    )


@pytest.fixture
def world(router: Equipment) -> Iterator[World]:
    """A healthy line: the router answers, the port is clean, ping comes back."""
    made = World(FakeDevice(SERIAL))
    with use_sources(made.sources()):
        yield made


@pytest.fixture
def device(world: World) -> FakeDevice:
    return world.management.devices[SERIAL]
