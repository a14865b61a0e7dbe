"""Ping a host: icmplib with raw sockets, falling back to the system ``ping`` program.

Plain Python, no Django. Raw ICMP sockets need root (or CAP_NET_RAW); unprivileged
ICMP sockets need ``net.ipv4.ping_group_range`` to include the group. When neither
works, ``/bin/ping`` (setuid or with file capabilities) does the job and its summary
lines are parsed. Nothing raises: problems end up in ``PingResult.error``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from icmplib import ICMPLibError, SocketPermissionError
from icmplib import ping as icmp_ping

ICMPLIB = "icmplib"
SYSTEM = "system"
_HOST = re.compile(r"^[A-Za-z0-9.:\-]{1,253}$")
_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_RTT = re.compile(r"= ([\d.]+)/([\d.]+)/([\d.]+)")


@dataclass(frozen=True)
class PingResult:
    """What a ping found: packets sent and received, loss (0..1), round trips in ms, how, and any error."""

    host: str
    sent: int
    received: int
    loss: float
    min_ms: float | None
    avg_ms: float | None
    max_ms: float | None
    method: str
    error: str = ""

    @property
    def reachable(self) -> bool:
        """Whether any reply came back."""
        return self.received > 0


def _failed(host: str, count: int, method: str, error: str) -> PingResult:
    return PingResult(host, count, 0, 1.0, None, None, None, method, error)


def ping(host: str, *, count: int = 3, interval: float = 0.2, timeout: float = 1.0) -> PingResult:
    """Send ``count`` echo requests to ``host`` and summarise the replies."""
    if not _HOST.match(host) or host.startswith("-"):
        return _failed(host, 0, ICMPLIB, "invalid host")
    count = max(1, min(count, 20))
    try:
        reply = icmp_ping(host, count=count, interval=interval, timeout=timeout, privileged=True)
    except SocketPermissionError:
        return system_ping(host, count=count, interval=interval, timeout=timeout)
    except ICMPLibError as exc:
        return _failed(host, count, ICMPLIB, exc.__class__.__name__)
    except OSError as exc:
        return _failed(host, count, ICMPLIB, exc.__class__.__name__)
    received = reply.packets_received
    return PingResult(
        host=host,
        sent=reply.packets_sent,
        received=received,
        loss=reply.packet_loss,
        min_ms=reply.min_rtt if received else None,
        avg_ms=reply.avg_rtt if received else None,
        max_ms=reply.max_rtt if received else None,
        method=ICMPLIB,
    )


def system_ping(host: str, *, count: int = 3, interval: float = 0.2, timeout: float = 1.0) -> PingResult:
    """Ping through the system's ``ping`` program (iputils), parsing its summary."""
    program = shutil.which("ping")
    if program is None:
        return _failed(host, count, SYSTEM, "no ping program")
    if not _HOST.match(host) or host.startswith("-"):
        return _failed(host, 0, SYSTEM, "invalid host")
    command = [program, "-n", "-q", "-c", str(count), "-i", str(max(0.2, interval)), "-W", str(max(1, round(timeout)))]
    try:
        done = subprocess.run(  # noqa: S603 - fixed program, validated host
            [*command, host], capture_output=True, text=True, timeout=count * (interval + timeout) + 5, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _failed(host, count, SYSTEM, exc.__class__.__name__)
    return parse_system_output(host, count, done.stdout, done.stderr)


def parse_system_output(host: str, count: int, stdout: str, stderr: str = "") -> PingResult:
    """Read iputils ``ping -q`` output into a result."""
    summary = _SUMMARY.search(stdout)
    if summary is None:
        return _failed(host, count, SYSTEM, (stderr.strip().splitlines() or ["no summary"])[-1][:200])
    sent, received = int(summary.group(1)), int(summary.group(2))
    rtt = _RTT.search(stdout)
    low = avg = high = None
    if rtt is not None and received:
        low, avg, high = (float(rtt.group(i)) for i in (1, 2, 3))
    loss = 1.0 if sent == 0 else (sent - received) / sent
    return PingResult(host, sent, received, loss, low, avg, high, SYSTEM)
