"""Group commit: many sessions' writes in one transaction, each caller resumed after the commit.

``GroupWriter.submit(item)`` queues an item and waits; a single loop takes everything queued
(up to ``max_batch``) after a short ``window``, hands the batch to ``flush`` in one dedicated
thread (one database connection, one transaction) and resolves every caller's future with
its result — so an Inform is answered only once it is persisted, yet 500 Informs cost a few
statements instead of 500 transactions. While a flush runs, the next batch fills up, so
batches grow with load by themselves. ``submit_nowait`` queues without waiting (session logs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

log = logging.getLogger("beskontakt.cpe.acs")

T = TypeVar("T")


class GroupWriter(Generic[T]):
    """Batches items for ``flush(items) -> results`` (one result per item, same order)."""

    def __init__(self, flush: Callable[[list[T]], list[Any]], *, window: float = 0.002, max_batch: int = 1000) -> None:
        self.flush = flush
        self.window = window
        self.max_batch = max_batch
        self.pending: list[tuple[T, asyncio.Future[Any] | None]] = []
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="acs-writer")
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    @property
    def backlog(self) -> int:
        """Items waiting for the next flush."""
        return len(self.pending)

    def _ensure(self) -> asyncio.Event:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        assert self._wake is not None
        return self._wake

    async def submit(self, item: T) -> Any:
        """Queue ``item`` and wait until it is committed; returns its flush result."""
        wake = self._ensure()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append((item, future))
        wake.set()
        return await future

    def submit_nowait(self, item: T) -> None:
        """Queue ``item`` for the next flush without waiting for it."""
        wake = self._ensure()
        self.pending.append((item, None))
        wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.window:
                await asyncio.sleep(self.window)
            while self.pending:
                batch = self.pending[: self.max_batch]
                del self.pending[: self.max_batch]
                try:
                    results = await loop.run_in_executor(self.executor, self.flush, [item for item, _ in batch])
                except Exception as exc:  # the whole batch failed: every caller learns it
                    log.exception("ACS group commit of %d items failed", len(batch))
                    for _, future in batch:
                        if future is not None and not future.done():
                            future.set_exception(exc)
                    continue
                self.batches += 1
                self.items += len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future is not None and not future.done():
                        future.set_result(result)

    async def close(self) -> None:
        """Flush what is queued and stop."""
        while self.pending and self._task is not None and not self._task.done():
            await asyncio.sleep(self.window or 0.001)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await release_thread_connections(self.executor, 1)


async def release_thread_connections(executor: ThreadPoolExecutor, threads: int) -> None:
    """Close the database connection of each of ``executor``'s ``threads`` threads, then stop it.

    The ACS's threads keep their (pooled) connections between calls; when the ACS stops they
    must go back to the pool, or a process that starts another ACS (the tests) runs dry.
    A barrier makes every thread take exactly one of the closing jobs.
    """
    from django.db import connections

    barrier = threading.Barrier(threads)

    def close_here() -> None:
        # Fewer threads than expected ever started: each one still closes its own.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        connections.close_all()

    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(executor, close_here) for _ in range(threads)))
    executor.shutdown(wait=False)
