"""The device's own network work: IPPing, DownloadDiagnostics and file Downloads.

IPPing pings for real only loopback addresses (``beskontakt.network.ping``: icmplib, then the
system's ``ping``);
anything else is answered by the scenario or as unreachable, so a simulated fleet never
floods the network. Downloads are real HTTP transfers with aiohttp, timed to the
microsecond for BOMTime/EOMTime.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from beskontakt.network.ping import ping as access_ping

from .digest import basic_authorization
from .errors import (
    DOWNLOAD_INCOMPLETE,
    FILE_ACCESS_FAILURE,
    FILE_CORRUPTED,
    SERVER_UNREACHABLE,
    TRANSFER_AUTH_FAILURE,
    UNSUPPORTED_PROTOCOL,
)


@dataclass
class PingResult:
    """IPPing outcome: DiagnosticsState and counts/times in milliseconds."""

    state: str
    success: int = 0
    failure: int = 0
    avg: int = 0
    minimum: int = 0
    maximum: int = 0


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def ping(host: str, count: int, timeout_ms: int) -> PingResult:
    """Ping ``host`` (loopback only, else unreachable) ``count`` times."""
    if not host:
        return PingResult("Error_CannotResolveHostName")
    count = max(1, min(count, 20))
    if not is_loopback(host):
        return PingResult("Complete", 0, count)
    # the access network's own ping (icmplib, falling back to the system's ping)
    reply = await asyncio.to_thread(access_ping, host, count=count, interval=0.05, timeout=max(timeout_ms, 100) / 1000)
    if reply.error and not reply.received:  # could not ping at all (no raw socket, no ping program)
        return PingResult("Error_Internal")
    return _result(count, reply.received, reply.avg_ms or 0, reply.min_ms or 0, reply.max_ms or 0)


def _result(count: int, received: int, avg: float, low: float, high: float) -> PingResult:
    return PingResult("Complete", received, count - received, round(avg), round(low), round(high))


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class DownloadTest:
    """DownloadDiagnostics outcome (TR-143)."""

    state: str
    rom: str = "0001-01-01T00:00:00Z"
    bom: str = "0001-01-01T00:00:00Z"
    eom: str = "0001-01-01T00:00:00Z"
    test_bytes: int = 0
    total_bytes: int = 0


async def download_test(http: aiohttp.ClientSession, url: str, timeout: float = 60.0) -> DownloadTest:
    """Fetch ``url`` and measure request, first-byte and last-byte times and the bytes received."""
    if not url.lower().startswith(("http://", "https://")):
        return DownloadTest("Error_InitConnectionFailed")
    rom = time.time()
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            if response.status != 200:
                return DownloadTest("Error_NoResponse", _stamp(rom))
            body = 0
            bom = 0.0
            async for chunk in response.content.iter_any():
                if not bom:
                    bom = time.time()
                body += len(chunk)
            eom = time.time()
            bom = bom or eom
            headers = sum(len(k) + len(v) + 4 for k, v in response.raw_headers)
    except (aiohttp.ClientError, TimeoutError):
        return DownloadTest("Error_TransferFailed", _stamp(rom))
    return DownloadTest("Completed", _stamp(rom), _stamp(bom), _stamp(eom), body, body + headers)


@dataclass
class FetchedFile:
    """A Download RPC's transfer: fault code 0 when it worked, the content, and its times."""

    fault_code: int
    detail: str
    content: bytes
    start: str
    complete: str


async def fetch_file(
    http: aiohttp.ClientSession, url: str, username: str, password: str, size: int, timeout: float = 120.0
) -> FetchedFile:
    """Download a file for the Download RPC and check its announced size."""
    start = time.time()

    def failed(code: int, detail: str) -> FetchedFile:
        return FetchedFile(code, detail, b"", _stamp(start), _stamp(time.time()))

    if not url.lower().startswith(("http://", "https://")):
        return failed(UNSUPPORTED_PROTOCOL, "only HTTP and HTTPS are supported")
    headers = {"Authorization": basic_authorization(username, password)} if username else {}
    try:
        async with http.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            if response.status in (401, 403):
                return failed(TRANSFER_AUTH_FAILURE, f"HTTP {response.status}")
            if response.status != 200:
                return failed(FILE_ACCESS_FAILURE, f"HTTP {response.status}")
            content = await response.read()
    except TimeoutError:
        return failed(DOWNLOAD_INCOMPLETE, "timed out")
    except aiohttp.ClientConnectionError as error:
        return failed(SERVER_UNREACHABLE, type(error).__name__)
    except aiohttp.ClientError as error:
        return failed(DOWNLOAD_INCOMPLETE, type(error).__name__)
    if size and len(content) != size:
        return failed(FILE_CORRUPTED, f"size {len(content)} instead of {size}")
    return FetchedFile(0, "", content, _stamp(start), _stamp(time.time()))
