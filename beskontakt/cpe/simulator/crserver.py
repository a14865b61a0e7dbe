"""Connection requests (TR-069 3.2.2): one HTTP server for a whole fleet, ``GET /cr/<serial>``.

The ACS authenticates with HTTP Digest using the device's
ManagementServer.ConnectionRequestUsername/Password (so a preset that changes them is
honoured at once). A correct request is answered 200 and the device opens a session with
6 CONNECTION REQUEST; wrong credentials get 401 with a fresh challenge, an unknown serial 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from aiohttp import web

from .cpe import SimulatedCpe
from .digest import DigestServer

REALM = "Beskontakt CPE"


class ConnectionRequestServer:
    """Routes ``/cr/<serial>`` to the fleet's devices; ``start`` binds (port 0: any free port)."""

    def __init__(self, devices: Mapping[str, SimulatedCpe], host: str = "127.0.0.1", port: int = 0) -> None:
        self.devices = devices
        self.host = host
        self.port = port
        self.digest = DigestServer(REALM)
        self.requests = 0
        self.refused = 0
        self._runner: web.AppRunner | None = None

    def url_for(self, serial: str) -> str:
        """The ConnectionRequestURL of a device (valid once started)."""
        return f"http://{self.host}:{self.port}/cr/{quote(serial, safe='')}"

    async def handle(self, request: web.Request) -> web.Response:
        """Check Digest against the device's own credentials, then wake it."""
        device = self.devices.get(request.match_info["serial"])
        if device is None:
            return web.Response(status=404, text="no such device\n")
        paths = device.paths
        passwords = {device.dm.value(paths.cr_username): device.dm.value(paths.cr_password)}
        verdict = self.digest.check(request.method, request.headers.get("Authorization"), passwords)
        if verdict != "ok":
            self.refused += 1
            return web.Response(
                status=401, headers={"WWW-Authenticate": self.digest.challenge(stale=verdict == "stale")}
            )
        self.requests += 1
        device.log.append(("connection_request",))
        device.request_session()
        return web.Response(status=200)

    async def start(self) -> None:
        """Listen on ``host:port`` (the chosen port is known afterwards)."""
        app = web.Application()
        app.router.add_get("/cr/{serial}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
