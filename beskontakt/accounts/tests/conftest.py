"""Fixtures of the accounts tests: a clean cache per test and no device throttling by default."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_device_throttle(settings: Any) -> None:
    """django-otp's own exponential back-off is tested separately; by default only our limiter applies."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
