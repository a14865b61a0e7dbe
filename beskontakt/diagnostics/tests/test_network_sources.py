"""The port and outage checks over the real ``network`` code: a live SNMP read of a recorded switch
(snmpsim), its stored history, an outage on the node, and the real ping on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from beskontakt.diagnostics import actions, verdicts
from beskontakt.diagnostics.models import CheckStatus, DiagnosisRun
from beskontakt.diagnostics.sources import default_sources, use_sources
from beskontakt.incidents.models import Outage
from beskontakt.network import actions as net_actions
from beskontakt.network import tasks
from beskontakt.network.models import Node, Port
from beskontakt.network.tests.agents import Agent, start_snmpsim
from beskontakt.subscribers.models import Subscriber

from .doubles import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def switch_agent() -> Iterator[Agent]:
    """snmpsim serving a recorded D-Link DES-3200 (``make snmp`` installs snmpsim)."""
    try:
        agent = start_snmpsim({"dlink-des3200": "dlink-des3200"})
    except FileNotFoundError as exc:
        pytest.skip(f"snmpsim is missing ({exc}); 'make snmp' installs it")
    yield agent
    agent.stop()


@pytest.fixture
def node(switch_agent: Agent, subscriber: Subscriber) -> Node:
    made = net_actions.save_node(
        name="sw-khamovniki-16", address="127.0.0.1", snmp_port=switch_agent.port, community="dlink-des3200"
    )
    tasks.poll_nodes([made.pk])
    port = Port.objects.filter(node=made, state__oper_status=1).order_by("if_index").first()
    assert port is not None
    net_actions.connect_subscriber(subscriber, port)
    return made


def _run(subscriber: Subscriber, agent: Any) -> DiagnosisRun:
    return actions.run_diagnosis(subscriber, actor=agent)


def test_port_read_live_from_the_switch(world: World, node: Node, subscriber: Subscriber, agent: Any) -> None:
    real = default_sources()
    assert real.port_health is not None and real.ping is not None
    network_ping = real.ping
    sources = world.sources().with_(
        port_health=real.port_health,
        node_of_subscriber=real.node_of_subscriber,
        ping=lambda host, **options: network_ping("127.0.0.1", **options),
    )
    with use_sources(sources):
        run = _run(subscriber, agent)
    checks = {c.check_code: c for c in run.checks.all()}
    port = checks["port"]
    assert port.status == CheckStatus.OK, (port.error, port.evidence)
    assert port.summary["oper"] == "up"
    assert port.evidence["node_name"] == "sw-khamovniki-16"
    assert port.evidence["evidence"]["live_poll"]["status"] == "ok"
    assert checks["ping"].status == CheckStatus.OK
    assert run.verdict == verdicts.HEALTHY


def test_outage_on_the_subscribers_switch(world: World, node: Node, subscriber: Subscriber, agent: Any) -> None:
    outage = Outage.objects.create(title="Замена коммутатора", ends_at=timezone.now() + timedelta(hours=2))
    outage.nodes.add(node)
    real = default_sources()
    with use_sources(world.sources().with_(port_health=real.port_health, node_of_subscriber=real.node_of_subscriber)):
        run = _run(subscriber, agent)
    assert run.verdict == verdicts.KNOWN_OUTAGE
    assert run.verdict_params["scope"] == "node"
