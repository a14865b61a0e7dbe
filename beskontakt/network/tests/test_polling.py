"""Polling into the database, port health for the diagnosis, retention, outages on nodes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from beskontakt.conftest import make_subscriber
from beskontakt.incidents.models import Outage
from beskontakt.incidents.outages import outages_for
from beskontakt.network import actions, credentials, tasks
from beskontakt.network.health import node_of_subscriber, port_health
from beskontakt.network.models import Node, Port, PortSample, PortState
from beskontakt.network.polling import due_nodes

from .agents import V2C_COMMUNITY, V3_AUTH, V3_PRIV, V3_USER, Agent, free_udp_port

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("snmp")]


def _node(port: int, community: str = "dlink-des3200", **extra: Any) -> Node:
    return actions.save_node(
        name=extra.pop("name", community), address="127.0.0.1", snmp_port=port, community=community, **extra
    )


def test_secrets_are_encrypted_at_rest_and_validated() -> None:
    node = actions.save_node(
        name="olt-1",
        address="10.0.0.1",
        kind=Node.Kind.OLT,
        snmp_version=Node.Version.V3,
        v3_user="noc",
        v3_auth_protocol="sha",
        v3_auth_key="auth-secret-1",
        v3_priv_protocol="aes128",
        v3_priv_key="priv-secret-1",
    )
    node.refresh_from_db()
    assert "auth-secret-1" not in node.v3_auth_key_sealed
    assert credentials.reveal(node.v3_auth_key_sealed) == "auth-secret-1"
    assert credentials.reveal("garbage") == ""
    # Omitted secrets are kept.
    actions.save_node(
        node=node,
        name="olt-1",
        address="olt1.example.net",
        snmp_version="v3",
        v3_user="noc",
        v3_auth_protocol="sha",
        v3_priv_protocol="aes128",
    )
    node.refresh_from_db()
    assert credentials.reveal(node.v3_priv_key_sealed) == "priv-secret-1"
    with pytest.raises(ValidationError) as bad:
        actions.save_node(name="", address="not an address!", snmp_port=70000, snmp_version="v3", v3_auth_key="short")
    assert {"name", "address", "snmp_port", "v3_user", "v3_auth_key"} <= set(bad.value.message_dict)


def test_poll_task_writes_samples_and_states(snmpsim_agent: Agent) -> None:
    node = _node(snmpsim_agent.port)
    dead = _node(free_udp_port(), name="dead", community="x")
    assert set(due_nodes()) == {node.pk, dead.pk}
    totals = tasks.poll_nodes([node.pk, dead.pk])
    assert totals["ok"] == 1 and totals["timeout"] + totals["error"] == 1
    node.refresh_from_db()
    dead.refresh_from_db()
    assert node.poll_status == Node.PollStatus.OK and node.uptime_ticks
    assert dead.poll_status in {Node.PollStatus.TIMEOUT, Node.PollStatus.ERROR}
    ports = Port.objects.filter(node=node).count()
    assert ports >= 18
    assert PortSample.objects.filter(port__node=node).count() == ports
    assert PortState.objects.filter(port__node=node).count() == ports
    first = PortState.objects.filter(port__node=node, oper_status=1).first()
    assert first is not None and first.in_octets is not None
    # The recording is static: a second poll sees no error growth and no link changes.
    tasks.poll_nodes([node.pk])
    assert PortSample.objects.filter(port__node=node).count() == 2 * ports
    latest = PortSample.objects.filter(port=first.port).order_by("-at").first()
    assert latest is not None and latest.errors_delta == 0 and latest.flaps == 0
    assert node.pk not in due_nodes()


def test_v3_node_through_the_task(snmpd_agent: Agent) -> None:
    node = actions.save_node(
        name="lab",
        address="127.0.0.1",
        snmp_port=snmpd_agent.port,
        snmp_version="v3",
        v3_user=V3_USER,
        v3_auth_protocol="sha",
        v3_auth_key=V3_AUTH,
        v3_priv_protocol="aes128",
        v3_priv_key=V3_PRIV,
    )
    assert tasks.poll_nodes([node.pk])["ok"] == 1
    assert Port.objects.filter(node=node, name="lo").exists()
    v2 = _node(snmpd_agent.port, name="lab-v2", community=V2C_COMMUNITY)
    assert tasks.poll_nodes([v2.pk])["ok"] == 1


def test_flaps_errors_and_rates_from_consecutive_polls() -> None:
    from beskontakt.network.snmp.client import InterfaceReading, NodeReading, Target

    node = _node(161, name="sw")
    t0 = timezone.now() - timedelta(minutes=10)

    def reading(uptime: int, errors: int, octets: int, last_change: int) -> NodeReading:
        iface = InterfaceReading(
            if_index=1,
            name="Gi0/1",
            speed_bps=100_000_000,
            admin_status=1,
            oper_status=1,
            last_change=last_change,
            in_errors=errors,
            out_errors=0,
            in_discards=0,
            out_discards=0,
            in_octets=octets,
            out_octets=octets,
            counter_bits=32,
        )
        return NodeReading(target=Target("127.0.0.1"), status="ok", uptime_ticks=uptime, interfaces={1: iface})

    actions.record_poll(node, reading(100_000, 10, 2**32 - 1000, 500), t0)
    actions.record_poll(node, reading(130_000, 25, 2_999_000, 120_000), t0 + timedelta(minutes=5))
    sample = PortSample.objects.filter(port__node=node).order_by("-at").first()
    assert sample is not None
    assert sample.errors_delta == 15 and sample.flaps == 1
    assert sample.in_bps == pytest.approx((1000 + 2_999_000) * 8 / 300)
    # The switch rebooted: uptime went back -> no rates, no error growth, no flap counted.
    actions.record_poll(node, reading(500, 0, 10, 0), t0 + timedelta(minutes=10))
    after = PortSample.objects.filter(port__node=node).order_by("-at").first()
    assert after is not None and after.in_bps is None and after.errors_delta is None and after.flaps == 0
    state = PortState.objects.get(port__node=node)
    assert state.flap_count == 1


def test_port_health_live_and_from_history(snmpsim_agent: Agent) -> None:
    subscriber = make_subscriber("77005555")
    assert port_health(subscriber.pk) is None
    node = _node(snmpsim_agent.port, name="sw-live")
    tasks.poll_nodes([node.pk])
    port = Port.objects.get(node=node, if_index=2)
    actions.connect_subscriber(subscriber, port)
    assert node_of_subscriber(subscriber.pk) == node
    live = port_health(subscriber.pk, live=True, timeout=2.0)
    assert live is not None
    assert live.node_reachable is True and live.oper_status == "up" and live.admin_status == "up"
    assert live.port_name == port.name and not live.stale
    assert live.flaps_24h == 0 and live.errors_last_hour == 0
    assert live.evidence["live_poll"]["status"] == "ok"
    # The node stops answering: the stored history is the evidence.
    node.snmp_port = free_udp_port()
    node.save()
    offline = port_health(subscriber.pk, live=True, timeout=0.5)
    assert offline is not None and offline.node_reachable is False
    assert offline.oper_status == "up" and offline.evidence["live_poll"]["status"] != "ok"
    stored = port_health(subscriber.pk, live=False)
    assert stored is not None and stored.node_reachable is None


def test_retention_deletes_old_samples_in_batches(settings: Any) -> None:
    settings.NETWORK_SAMPLE_RETENTION_DAYS = 7
    node = _node(161, name="old")
    port = Port.objects.create(node=node, if_index=1, name="1")
    now = timezone.now()
    PortSample.objects.bulk_create([PortSample(port=port, at=now - timedelta(days=d, hours=1)) for d in range(0, 20)])
    assert actions.purge_samples(now, batch=3) == 13
    assert PortSample.objects.count() == 7
    assert tasks.purge_samples() == 0


def test_outage_on_a_node_covers_subscribers_below_it() -> None:
    subscriber = make_subscriber("77006666")
    aggregation = _node(161, name="agg", kind=Node.Kind.AGGREGATION)
    access = _node(161, name="acc", parent=aggregation)
    port = Port.objects.create(node=access, if_index=5, name="5")
    actions.connect_subscriber(subscriber, port)
    elsewhere = _node(161, name="other")
    outage = Outage.objects.create(title="agg down", starts_at=timezone.now())
    outage.nodes.add(aggregation)
    other = Outage.objects.create(title="other node", starts_at=timezone.now())
    other.nodes.add(elsewhere)
    assert {o.title for o in outages_for(subscriber)} == {"agg down"}
    with pytest.raises(ValidationError):
        actions.connect_subscriber(subscriber, Port.objects.create(node=access, if_index=49, is_uplink=True))
