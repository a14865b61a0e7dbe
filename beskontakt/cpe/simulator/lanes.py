"""HTTP connections to the ACS that a fleet's devices take turns on, one session at a time.

A real CPE keeps a CWMP session on one TCP connection. A fleet sharing one pooled client
would spread a session's POSTs over whichever connections are free, and with several ACS
worker processes (each holding its sessions in memory) a POST could reach a worker that
never saw the Inform. ``Lanes`` gives each running session a client of its own with a single
keep-alive connection, and takes it back when the session ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp


class Lanes:
    """``count`` single-connection HTTP clients, leased one per CWMP session."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._free: asyncio.Queue[aiohttp.ClientSession] = asyncio.Queue()
        self._all: list[aiohttp.ClientSession] = []

    async def open(self) -> None:
        """Create the clients (call inside the running event loop)."""
        for _ in range(self.count):
            client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), cookie_jar=aiohttp.DummyCookieJar())
            self._all.append(client)
            self._free.put_nowait(client)

    @asynccontextmanager
    async def lane(self) -> AsyncIterator[aiohttp.ClientSession]:
        """A client for one session; waits when every lane is busy."""
        client = await self._free.get()
        try:
            yield client
        finally:
            self._free.put_nowait(client)

    async def close(self) -> None:
        """Close every client."""
        for client in self._all:
            await client.close()
        self._all.clear()


@asynccontextmanager
async def lease(http: aiohttp.ClientSession | Lanes) -> AsyncIterator[aiohttp.ClientSession]:
    """A client for one session: a lane of ``Lanes``, or the given shared client as it is."""
    if isinstance(http, Lanes):
        async with http.lane() as client:
            yield client
    else:
        yield http
