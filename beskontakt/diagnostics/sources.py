"""Where the checks get their data: the device management system, the access network, ping, outages.

The real sources live in other apps (``cpe``, ``network``, ``incidents``); ``default_sources()``
finds them and leaves out any that is not installed (its checks then answer "unknown").
Tests and benchmarks swap in their own with ``use_sources(...)`` — the same shape, real or
a double.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Sources:
    """The data sources of one diagnosis.

    ``device_management``: a callable returning a ``DeviceManagement``;
    ``port_health``: ``(subscriber_id, *, live, timeout) -> PortHealth | None``;
    ``node_of_subscriber``: ``(subscriber_id) -> Node | None``;
    ``ping``: ``(host, *, count, interval, timeout) -> result with sent/received/loss/min_ms/avg_ms/max_ms``.
    """

    device_management: Callable[[], Any] | None = None
    port_health: Callable[..., Any] | None = None
    node_of_subscriber: Callable[[int], Any] | None = None
    ping: Callable[..., Any] | None = None

    def with_(self, **changes: Any) -> Sources:
        """A copy with some sources replaced."""
        return replace(self, **changes)


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _device_management() -> Any:
    from beskontakt.cpe.management import get_device_management

    return get_device_management()


def default_sources() -> Sources:
    """The project's real sources (those whose app has them yet)."""
    return Sources(
        device_management=_device_management,
        port_health=_optional("beskontakt.network.health", "port_health"),
        node_of_subscriber=_optional("beskontakt.network.health", "node_of_subscriber"),
        ping=_optional("beskontakt.network.ping", "ping"),
    )


_global: list[Sources] = []


def current_sources() -> Sources:
    """The sources in use now: an override (``use_sources``) or the defaults."""
    if _global:
        return _global[-1]
    return default_sources()


@contextlib.contextmanager
def use_sources(sources: Sources) -> Iterator[Sources]:
    """Use ``sources`` for every diagnosis while the block runs (any thread: tests drive servers in threads)."""
    _global.append(sources)
    try:
        yield sources
    finally:
        _global.remove(sources)
