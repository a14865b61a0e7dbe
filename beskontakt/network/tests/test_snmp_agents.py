"""The SNMP client against real agents: recorded switches (snmpsim), Debian's snmpd (v2c and v3),
a closed port and a socket answering junk (both: unknown, never an exception)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from beskontakt.network.snmp.client import ERROR, OK, TIMEOUT, Credentials, Target, poll_many, poll_one

from .agents import RECORDINGS, V2C_COMMUNITY, V3_AUTH, V3_PRIV, V3_USER, Agent, free_udp_port

pytestmark = pytest.mark.xdist_group("snmp")


def test_walks_every_recorded_switch(snmpsim_agent: Agent) -> None:
    targets = [Target("127.0.0.1", snmpsim_agent.port, Credentials(community=name), key=name) for name in RECORDINGS]
    readings = {r.target.key: r for r in asyncio.run(poll_many(targets, concurrency=4))}
    for name in RECORDINGS:
        reading = readings[name]
        assert reading.status == OK, (name, reading.error)
        assert reading.uptime_ticks and reading.uptime_ticks > 0
        assert len(reading.interfaces) >= 5
        assert any(i.oper_status == 1 for i in reading.interfaces.values())
    cisco = readings["cisco-c3560"].interfaces
    assert len(cisco) == 57
    up = next(i for i in cisco.values() if i.oper_status == 1 and i.in_octets)
    assert up.counter_bits == 64 and up.speed_bps and up.name


def test_reads_chosen_interfaces_with_gets(snmpsim_agent: Agent) -> None:
    target = Target("127.0.0.1", snmpsim_agent.port, Credentials(community="dlink-des3200"))
    reading = asyncio.run(poll_one(target, [2, 3, 999_999], deadline=5))
    assert reading.status == OK
    assert set(reading.interfaces) == {2, 3}
    assert reading.interfaces[2].descr.startswith("D-Link")


def test_v2c_and_v3_against_snmpd(snmpd_agent: Agent) -> None:
    v2c = Credentials(community=V2C_COMMUNITY)
    v3 = Credentials(
        version="v3", user=V3_USER, auth_protocol="sha", auth_key=V3_AUTH, priv_protocol="aes128", priv_key=V3_PRIV
    )
    for creds in (v2c, v3):
        reading = asyncio.run(poll_one(Target("127.0.0.1", snmpd_agent.port, creds), deadline=5))
        assert reading.status == OK, reading.error
        names = {i.name for i in reading.interfaces.values()}
        assert "lo" in names
        lo = next(i for i in reading.interfaces.values() if i.name == "lo")
        assert lo.oper_status == 1 and lo.in_octets is not None


def test_wrong_v3_key_and_wrong_community_are_unknown(snmpd_agent: Agent) -> None:
    wrong_key = Credentials(
        version="v3",
        user=V3_USER,
        auth_protocol="sha",
        auth_key="not-the-key",
        priv_protocol="aes128",
        priv_key=V3_PRIV,
    )
    reading = asyncio.run(
        poll_one(Target("127.0.0.1", snmpd_agent.port, wrong_key, timeout=0.5, retries=0), deadline=3)
    )
    assert reading.status == ERROR and not reading.interfaces
    wrong_community = Credentials(community="nope")
    reading = asyncio.run(
        poll_one(Target("127.0.0.1", snmpd_agent.port, wrong_community, timeout=0.3, retries=0), deadline=3)
    )
    assert reading.status == TIMEOUT


def test_closed_port_times_out() -> None:
    port = free_udp_port()
    reading = asyncio.run(poll_one(Target("127.0.0.1", port, timeout=0.3, retries=0), deadline=3))
    assert reading.status in {TIMEOUT, ERROR} and not reading.ok
    assert reading.interfaces == {}


@pytest.fixture
def junk_server() -> Iterator[int]:
    """A UDP socket answering every datagram with garbage (and sometimes truncated BER)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        replies = [b"\x00garbage\xff" * 10, b"\x30\x82\xff\xff\x02\x01", b"\x30\x03\x02\x01\x01"]
        n = 0
        while not stop.is_set():
            try:
                _data, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            sock.sendto(replies[n % len(replies)], peer)
            n += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(2)
    sock.close()


def test_garbage_replies_are_unknown(junk_server: int) -> None:
    reading = asyncio.run(poll_one(Target("127.0.0.1", junk_server, timeout=0.3, retries=1), deadline=3))
    assert not reading.ok and reading.status in {TIMEOUT, ERROR}


def test_bad_credentials_object_is_an_error_not_a_crash() -> None:
    creds = Credentials(version="v9")
    reading = asyncio.run(poll_one(Target("127.0.0.1", free_udp_port(), creds), deadline=2))
    assert reading.status == ERROR
    assert "v9" in reading.error
    assert "secret" not in repr(Credentials(community="secret"))
