"""Ping of loopback through icmplib and through the system's ping, and parsing its output."""

from __future__ import annotations

import shutil

import pytest

from beskontakt.network.ping import ICMPLIB, SYSTEM, parse_system_output, ping, system_ping


def test_icmplib_ping_of_loopback() -> None:
    result = ping("127.0.0.1", count=2, interval=0.05)
    assert result.method in {ICMPLIB, SYSTEM}
    assert result.received == 2 and result.loss == 0.0
    assert result.avg_ms is not None and result.min_ms is not None and result.min_ms <= result.max_ms  # type: ignore[operator]


@pytest.mark.skipif(shutil.which("ping") is None, reason="the system ping (iputils-ping) is missing: run 'make snmp'")
def test_system_ping_of_loopback() -> None:
    result = system_ping("127.0.0.1", count=2)
    assert result.method == SYSTEM and result.received == 2 and result.reachable


def test_bad_host_is_refused_without_running_anything() -> None:
    assert ping("-f; rm -rf /").error == "invalid host"
    assert system_ping("--help").error == "invalid host"


def test_parse_system_output() -> None:
    out = (
        "PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.\n\n--- 10.0.0.1 ping statistics ---\n"
        "4 packets transmitted, 3 received, 25% packet loss, time 3004ms\n"
        "rtt min/avg/max/mdev = 0.040/0.052/0.070/0.012 ms\n"
    )
    result = parse_system_output("10.0.0.1", 4, out)
    assert (result.sent, result.received, result.loss) == (4, 3, 0.25)
    assert (result.min_ms, result.avg_ms, result.max_ms) == (0.04, 0.052, 0.07)
    lost = parse_system_output("10.0.0.2", 2, "2 packets transmitted, 0 received, 100% packet loss\n")
    assert lost.received == 0 and lost.avg_ms is None and not lost.reachable
    assert parse_system_output("x", 1, "", "ping: unknown host x\n").error == "ping: unknown host x"
