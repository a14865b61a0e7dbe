"""Helpers for tests that run the ACS and simulated CPEs on an event loop beside the ORM."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from django.db import connection


async def db(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ORM code off the event loop (and give its connection back)."""

    def run() -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    return await asyncio.to_thread(run)


async def until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Wait for a (sync, ORM) condition — a generous deadline, not a speed assertion."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not (value := await db(check)):
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)
    return value
