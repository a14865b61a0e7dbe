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


def _refusal(url: str) -> ConnectionRequestResult | None:
    if not url.lower().startswith(("http://", "https://")):
        return ConnectionRequestResult(False, None, "not an HTTP URL")
    return None


def _failure(exc: Exception) -> ConnectionRequestResult:
    if isinstance(exc, httpx.TimeoutException):
        return ConnectionRequestResult(False, None, "timed out")
    return ConnectionRequestResult(False, None, f"unreachable: {type(exc).__name__}")


def _answer(response: httpx.Response) -> ConnectionRequestResult:
    if response.status_code in (200, 204):
        return ConnectionRequestResult(True, response.status_code, "accepted")
    if response.status_code in (401, 403):
        return ConnectionRequestResult(False, response.status_code, "credentials refused")
    return ConnectionRequestResult(False, response.status_code, f"HTTP {response.status_code}")


async def send_connection_request(
    url: str,
    username: str,
    password: str,
    *,
    timeout: float = 5.0,
    client: httpx.AsyncClient | None = None,
) -> ConnectionRequestResult:
    """Send one connection request; never raises for network problems (they become the result)."""
    refused = _refusal(url)
    if refused is not None:
        return refused
    auth = httpx.DigestAuth(username, password)
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as own:
                response = await own.get(url, auth=auth)
        else:
            response = await client.get(url, auth=auth, timeout=timeout)
    except (httpx.HTTPError, ValueError) as exc:
        return _failure(exc)
    return _answer(response)


def send_connection_request_sync(
    url: str, username: str, password: str, *, timeout: float = 5.0
) -> ConnectionRequestResult:
    """The same, for synchronous callers (the web side and workers)."""
    refused = _refusal(url)
    if refused is not None:
        return refused
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.get(url, auth=httpx.DigestAuth(username, password))
    except (httpx.HTTPError, ValueError) as exc:
        return _failure(exc)
    return _answer(response)
