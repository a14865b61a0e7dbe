"""The webhook's writer: concurrent updates coalesced into one INSERT.

Each webhook request hands its (validated) update to :func:`submit` and waits
until the row is committed, so a 200 always means "stored". While one batch is
being written, the requests arriving meanwhile queue up and go in the next
statement: under load a few dozen updates share one round trip to the
database, with no added delay when the load is light. The writes run on one
dedicated thread (one database connection) per process.

After each batch, processing is requested from Celery — at most every
``SCHEDULE_EVERY`` seconds, with a trailing request so the last updates of a
burst are never left waiting for the periodic sweep.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import DatabaseError, connection

from . import updates

log = logging.getLogger(__name__)

MAX_BATCH = 500
SCHEDULE_EVERY = 0.25

_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telegram-ingest")
_scheduler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telegram-schedule")


def _write(payloads: list[dict[str, Any]]) -> None:
    """Insert one batch on the writer thread (a broken connection is dropped for the next batch)."""
    connection.close_if_unusable_or_obsolete()
    try:
        updates.store_many(payloads)
    except DatabaseError:
        connection.close()
        raise


class Batcher:
    """Collects updates of one event loop and writes them in batches."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self.running = False
        self.last_schedule = 0.0
        self.trailing: asyncio.TimerHandle | None = None

    async def submit(self, payload: dict[str, Any]) -> None:
        """Store ``payload``; returns once it is committed (raises if the database refused)."""
        future: asyncio.Future[None] = self.loop.create_future()
        self.pending.append((payload, future))
        if not self.running:
            self.running = True
            self.loop.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                try:
                    await self.loop.run_in_executor(_writer, _write, [p for p, _ in batch])
                except Exception as exc:
                    log.warning("telegram: could not store %d updates: %r", len(batch), exc)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
                self._schedule()
        finally:
            self.running = False

    def _schedule(self) -> None:
        """Ask for processing now, or once the current window ends."""
        now = time.monotonic()
        wait = self.last_schedule + SCHEDULE_EVERY - now
        if wait <= 0:
            self.last_schedule = now
            self.loop.run_in_executor(_scheduler, updates.schedule_processing)
        elif self.trailing is None:
            self.trailing = self.loop.call_later(wait, self._trail)

    def _trail(self) -> None:
        self.trailing = None
        self._schedule()


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batcher] = weakref.WeakKeyDictionary()


async def submit(payload: dict[str, Any]) -> None:
    """Store one validated update through this event loop's batcher."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = Batcher(loop)
    await batcher.submit(payload)


def close() -> None:
    """Close the writer thread's database connection (tests, shutdown)."""
    _writer.submit(lambda: connection.close()).result()
