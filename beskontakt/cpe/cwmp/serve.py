"""Run an ASGI app (the ACS) in uvicorn inside the current event loop, on a real port.

``async with serving(app) as url:`` binds 127.0.0.1 on a free port (port 0) by default and
yields ``http://127.0.0.1:<port>``; leaving the block stops the server (lifespan included).
Used by the protocol tests, the CPE simulator's tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn


@contextlib.asynccontextmanager
async def serving(app: Any, *, host: str = "127.0.0.1", port: int = 0, **config: Any) -> AsyncIterator[str]:
    """Serve ``app`` until the block ends; yields the base URL (extra ``uvicorn.Config`` options allowed)."""
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", "access_log": False}
    options.update(config)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    task = asyncio.get_running_loop().create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()
        yield f"http://{host}:{bound[1]}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
