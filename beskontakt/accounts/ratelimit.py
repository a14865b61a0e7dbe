"""Counting failed attempts in the shared cache, so guessing passwords or codes stays slow.

A ``Limiter`` counts failures per key (a username, a client address, a user's
second factor) in a fixed window that starts at the first failure. When the
count reaches the limit, further attempts are refused until the window ends.
The counters live in Django's default cache: local memory in the embedded demo,
Redis in production (shared by every web node). ``cache.add`` and
``cache.incr`` are atomic on Redis, so concurrent guesses are all counted.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def _digest(value: str) -> str:
    """A cache-key-safe fingerprint (usernames may hold any character)."""
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Limiter:
    """Failures allowed per ``scope`` key within ``window`` seconds."""

    scope: str
    limit: int
    window: int

    def _keys(self, ident: str) -> tuple[str, str]:
        base = f"beskontakt:ratelimit:{self.scope}:{_digest(ident)}"
        return f"{base}:count", f"{base}:reset"

    def wait_seconds(self, ident: str) -> int:
        """Seconds until ``ident`` may try again; 0 when it may try now."""
        count_key, reset_key = self._keys(ident)
        values = cache.get_many([count_key, reset_key])
        count = values.get(count_key) or 0
        if count < self.limit:
            return 0
        reset_at = values.get(reset_key)
        if reset_at is None:
            return self.window
        return max(1, math.ceil(reset_at - time.time()))

    def fail(self, ident: str) -> int:
        """Count one failure; return seconds of lockout it causes (0 if still allowed)."""
        count_key, reset_key = self._keys(ident)
        now = time.time()
        if cache.add(count_key, 0, timeout=self.window):
            cache.set(reset_key, now + self.window, timeout=self.window)
        try:
            count = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, timeout=self.window)
            cache.set(reset_key, now + self.window, timeout=self.window)
            count = 1
        return self.wait_seconds(ident) if count >= self.limit else 0

    def clear(self, ident: str) -> None:
        """Forget the failures of ``ident`` (after a success)."""
        cache.delete_many(list(self._keys(ident)))


def login_limiters() -> tuple[Limiter, Limiter]:
    """Limiters of password attempts per username and per client address."""
    window = settings.LOGIN_RATE_WINDOW_SECONDS
    return (
        Limiter("login-user", settings.LOGIN_RATE_LIMIT, window),
        # Higher: agents in one office share an address behind NAT.
        Limiter("login-ip", settings.LOGIN_IP_RATE_LIMIT, window),
    )


def otp_limiter() -> Limiter:
    """Limiter of second-factor codes per user (counts both login and enrolment codes)."""
    return Limiter("otp-user", settings.LOGIN_RATE_LIMIT, settings.LOGIN_RATE_WINDOW_SECONDS)
