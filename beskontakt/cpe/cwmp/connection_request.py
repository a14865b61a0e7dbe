"""Connection requests: the ACS asks a CPE to open a session now (TR-069 3.2.2).

An HTTP GET to the CPE's ``ManagementServer.ConnectionRequestURL`` with HTTP Digest (or
Basic) authentication, done by httpx's own ``DigestAuth``. The CPE answers 200 or 204 and
then informs with ``6 CONNECTION REQUEST``; the result says only whether it agreed.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class ConnectionRequestResult:
    """Whether the CPE accepted the connection request; ``reason`` is English for logs."""

    ok: bool
    status: int | None = None
    reason: str = ""


async def send_connection_request(
    url: str,
    username: str,
    password: str,
    *,
    timeout: float = 5.0,
    client: httpx.AsyncClient | None = None,
) -> ConnectionRequestResult:
    """Send one connection request; never raises for network problems (they become the result)."""
    auth = httpx.DigestAuth(username, password)
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=timeout) as own:
                response = await own.get(url, auth=auth)
        else:
            response = await client.get(url, auth=auth, timeout=timeout)
    except httpx.TimeoutException:
        return ConnectionRequestResult(False, None, "timed out")
    except (httpx.HTTPError, ValueError) as exc:
        return ConnectionRequestResult(False, None, f"unreachable: {type(exc).__name__}")
    if response.status_code in (200, 204):
        return ConnectionRequestResult(True, response.status_code, "accepted")
    if response.status_code in (401, 403):
        return ConnectionRequestResult(False, response.status_code, "credentials refused")
    return ConnectionRequestResult(False, response.status_code, f"HTTP {response.status_code}")
