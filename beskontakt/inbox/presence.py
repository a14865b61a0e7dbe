"""Staff presence: online, away or offline, kept by the workspace's live connections.

Every open workspace tab holds one WebSocket (``AgentConsumer``). Each
connection reports its own state ("online" while the page is visible and used,
"away" when hidden or idle) and heartbeats; the person's presence is the best
state over their live connections:

- any connection online → **online**; else any connection away → **away**;
- no live connection → **offline**.

The connections of one person are kept in the cache (``presence.conns.<user id>``:
connection name → state and last heartbeat), updated under a short cache lock,
so two tabs closing at once never leave a wrong answer. A connection whose
heartbeat is older than ``PRESENCE_TIMEOUT_SECONDS`` no longer counts (its
worker may have died without saying goodbye); :func:`expire`, run every 30 s by
Celery beat, marks offline everyone not heard from within that time. With
several web processes the cache must be shared (Redis: ``BESKONTAKT_REDIS_URL``).

The result is written to ``User.presence`` / ``User.presence_seen_at``, which
automatic assignment reads (``cases.actions.pick_agent``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from beskontakt.accounts.models import Presence, User

STATES = frozenset({Presence.ONLINE, Presence.AWAY})
LOCK_SECONDS = 5


def _conns_key(user_id: int) -> str:
    return f"presence.conns.{user_id}"


def _lock_key(user_id: int) -> str:
    return f"presence.lock.{user_id}"


def timeout_seconds() -> int:
    """How long a connection counts as live after its last heartbeat."""
    return int(settings.PRESENCE_TIMEOUT_SECONDS)


@contextlib.contextmanager
def _lock(user_id: int) -> Iterator[None]:
    """Hold the person's presence lock (best effort: after 2 s of waiting, go on without it)."""
    key = _lock_key(user_id)
    deadline = time.monotonic() + 2
    got = cache.add(key, 1, LOCK_SECONDS)
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
        got = cache.add(key, 1, LOCK_SECONDS)
    try:
        yield
    finally:
        if got:
            cache.delete(key)


def combine(states: list[str]) -> str:
    """The person's presence from the states of their live connections."""
    if Presence.ONLINE in states:
        return Presence.ONLINE
    if Presence.AWAY in states:
        return Presence.AWAY
    return Presence.OFFLINE


def _update(user_id: int, connection: str, state: str | None) -> str:
    """Set (or with ``state=None`` remove) one connection's state; store and return the person's presence."""
    now = time.time()
    live_after = now - timeout_seconds()
    with _lock(user_id):
        stored = cache.get(_conns_key(user_id)) or {}
        conns = {name: entry for name, entry in stored.items() if entry[1] >= live_after}
        if state is None:
            conns.pop(connection, None)
        else:
            conns[connection] = (state, now)
        if conns:
            cache.set(_conns_key(user_id), conns, timeout_seconds() * 2)
        else:
            cache.delete(_conns_key(user_id))
        result = combine([entry[0] for entry in conns.values()])
        User.objects.filter(pk=user_id).update(presence=result, presence_seen_at=timezone.now())
    return result


def touch(user_id: int, connection: str, state: str = Presence.ONLINE) -> str:
    """Record that ``connection`` of the person is alive in ``state`` (online/away); returns their presence."""
    if state not in STATES:
        raise ValueError(f"presence state must be online or away, not {state!r}")
    return _update(user_id, connection, state)


def leave(user_id: int, connection: str) -> str:
    """Forget a closed connection; returns the person's presence (offline when it was the last one)."""
    return _update(user_id, connection, None)


def live_connections(user_id: int) -> int:
    """How many live workspace connections the person has now."""
    live_after = time.time() - timeout_seconds()
    stored = cache.get(_conns_key(user_id)) or {}
    return sum(1 for entry in stored.values() if entry[1] >= live_after)


def expire() -> int:
    """Mark offline every person not heard from within ``PRESENCE_TIMEOUT_SECONDS``; returns how many.

    People set online by hand who never connected (``presence_seen_at`` empty)
    are left as they are.
    """
    cutoff = timezone.now() - timedelta(seconds=timeout_seconds())
    return (
        User.objects.exclude(presence=Presence.OFFLINE)
        .filter(presence_seen_at__lt=cutoff)
        .update(presence=Presence.OFFLINE)
    )
