"""Session fixtures: the SNMP agents the network tests poll (started once per test process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .agents import Agent, start_snmpd, start_snmpsim


@pytest.fixture(scope="session")
def snmpsim_agent() -> Iterator[Agent]:
    """snmpsim serving the recorded switches, each under its recording's name as community."""
    agent = start_snmpsim()
    yield agent
    agent.stop()


@pytest.fixture(scope="session")
def snmpd_agent() -> Iterator[Agent]:
    """Debian's snmpd on a loopback port, with a v2c community and a v3 user."""
    agent = start_snmpd()
    yield agent
    agent.stop()
