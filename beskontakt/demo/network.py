"""The demo's access network: a topology for the demo subscribers and 24 h of port history.

Each district gets an aggregation node; its subscribers (in contract order) hang on
access switches (one port each) or, for every third group, an OLT whose PON ports are
shared by eight subscribers. Hourly samples for the last day are seeded (deterministic
from the seed, relative to the current hour) with ``demo_scenario`` deciding the faulty
lines: a cable fault shows growing CRC/input errors and a few link flaps, a flapping link
many flaps. Nodes have TEST-NET addresses and no agents: live polls in the demo time out
and the stored history is the evidence.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from beskontakt.demo.faults import CABLE_FAULT, FLAPPING_LINK, demo_scenario
from beskontakt.network import credentials
from beskontakt.network.models import Node, Port, PortSample, PortState, SubscriberPort
from beskontakt.subscribers.models import District, Subscriber

GROUP = 32  # subscribers per access switch / OLT
PON_SHARE = 8  # subscribers per PON port
HOURS = 24
# History is seeded for at most this many ports (the "operator" size gets topology only).
MAX_HISTORY_PORTS = 12_000
SWITCH_SPEED = 100_000_000
PON_SPEED = 2_500_000_000
UPLINK_SPEED = 10_000_000_000


def _address(n: int) -> str:
    """A TEST-NET-1/2/3 address (RFC 5737): nothing answers there."""
    nets = ("192.0.2", "198.51.100", "203.0.113")
    return f"{nets[n // 254 % 3]}.{n % 254 + 1}"


@transaction.atomic
def seed_network(seed: int, now: datetime | None = None) -> dict[str, int]:
    """Build the demo topology and port history; returns counts of nodes, ports and samples."""
    rng = random.Random(seed * 7919 + 17)
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    Node.objects.filter(name__startswith="demo-").delete()
    community = credentials.seal("public")
    districts = list(District.objects.order_by("pk"))
    subscribers: dict[int, list[tuple[int, str]]] = {}
    for pk, contract, district_id in Subscriber.objects.order_by("contract_number").values_list(
        "pk", "contract_number", "address__district_id"
    ):
        if district_id is not None:
            subscribers.setdefault(district_id, []).append((pk, contract))
    counter = 0
    nodes: list[Node] = []
    plan: list[tuple[Node, list[tuple[int, str]], bool]] = []
    for d_index, district in enumerate(districts):
        members = subscribers.get(district.pk, [])
        if not members:
            continue
        counter += 1
        aggregation = Node(
            name=f"demo-agg-{d_index + 1:03d}",
            kind=Node.Kind.AGGREGATION,
            vendor="Huawei",
            model="S12704",
            district=district,
            address=_address(counter),
            community_sealed=community,
        )
        nodes.append(aggregation)
        for g_index in range(0, len(members), GROUP):
            counter += 1
            group = members[g_index : g_index + GROUP]
            pon = (g_index // GROUP) % 3 == 2
            node = Node(
                name=f"demo-{'olt' if pon else 'sw'}-{d_index + 1:03d}-{g_index // GROUP + 1:03d}",
                kind=Node.Kind.OLT if pon else Node.Kind.ACCESS_SWITCH,
                vendor="BDCOM" if pon else "D-Link",
                model="P3310C" if pon else "DES-3200-28",
                district=district,
                address=_address(counter),
                community_sealed=community,
            )
            node.parent = aggregation
            nodes.append(node)
            plan.append((node, group, pon))
    Node.objects.bulk_create([n for n in nodes if n.kind == Node.Kind.AGGREGATION], batch_size=500)
    for node, _group, _pon in plan:
        node.parent_id = node.parent.pk  # type: ignore[union-attr]
    Node.objects.bulk_create([n for n, _g, _p in plan], batch_size=500)

    ports: list[Port] = []
    lines: list[tuple[int, Port]] = []
    faults: dict[int, str] = {}
    for node, group, pon in plan:
        uplink = Port(
            node=node,
            if_index=1000,
            name="uplink",
            kind=Port.Kind.ETHERNET,
            speed_bps=UPLINK_SPEED // 10,
            is_uplink=True,
        )
        ports.append(uplink)
        if pon:
            pon_ports = [
                Port(node=node, if_index=i + 1, name=f"gpon0/{i + 1}", kind=Port.Kind.PON, speed_bps=PON_SPEED)
                for i in range(math.ceil(len(group) / PON_SHARE))
            ]
            ports.extend(pon_ports)
            lines.extend((pk, pon_ports[i // PON_SHARE]) for i, (pk, _c) in enumerate(group))
        else:
            for i, (pk, contract) in enumerate(group):
                port = Port(
                    node=node, if_index=i + 1, name=f"1/{i + 1}", kind=Port.Kind.ETHERNET, speed_bps=SWITCH_SPEED
                )
                ports.append(port)
                lines.append((pk, port))
                scenario = demo_scenario(contract)
                if scenario in {CABLE_FAULT, FLAPPING_LINK}:
                    faults[id(port)] = scenario
    for node in nodes:
        if node.kind == Node.Kind.AGGREGATION:
            ports.append(Port(node=node, if_index=1, name="uplink", speed_bps=UPLINK_SPEED * 4, is_uplink=True))
    Port.objects.bulk_create(ports, batch_size=2000)
    SubscriberPort.objects.bulk_create(
        [SubscriberPort(subscriber_id=pk, port=port, since=now - timedelta(days=365)) for pk, port in lines],
        batch_size=2000,
    )
    samples, states = _history(ports[:MAX_HISTORY_PORTS], faults, rng, now)
    PortSample.objects.bulk_create(samples, batch_size=5000)
    PortState.objects.bulk_create(states, batch_size=2000)
    Node.objects.filter(name__startswith="demo-").update(polled_at=now, poll_status=Node.PollStatus.OK)
    return {"nodes": len(nodes), "ports": len(ports), "samples": len(samples)}


def _history(
    ports: list[Port], faults: dict[int, str], rng: random.Random, now: datetime
) -> tuple[list[PortSample], list[PortState]]:
    samples: list[PortSample] = []
    states: list[PortState] = []
    for port in ports:
        scenario = faults.get(id(port))
        errors_total = rng.randint(0, 20)
        octets = rng.randint(10**9, 10**11)
        flap_count = 0
        last_change_at = now - timedelta(days=rng.randint(3, 60))
        base = rng.uniform(0.02, 0.25) if not port.is_uplink else rng.uniform(0.3, 0.55)
        oper = 1
        for hour in range(HOURS, 0, -1):
            at = now - timedelta(hours=hour - 1)
            evening = 1.0 + 0.8 * math.sin(math.pi * ((at.hour - 8) % 24) / 24)
            util = min(0.98, base * evening * rng.uniform(0.8, 1.2))
            errors = flaps = 0
            age = HOURS - hour  # 0 = a day ago, 23 = the last hour
            if scenario == CABLE_FAULT and age >= 6:
                errors = int(8 * (age - 5) ** 1.6) + rng.randint(0, 9)
                flaps = 1 if age in (11, 17, 22) else 0
            elif scenario == FLAPPING_LINK and age >= 8:
                flaps = rng.randint(3, 6)
                errors = rng.randint(0, 4)
            oper = 2 if scenario == FLAPPING_LINK and age in (15, 21) else 1
            if flaps:
                last_change_at = at - timedelta(minutes=rng.randint(1, 50))
            errors_total += errors
            flap_count += flaps
            bps = util * (port.speed_bps or SWITCH_SPEED)
            octets += int(bps * 3600 / 8)
            values: dict[str, Any] = {
                "oper_status": oper,
                "admin_status": 1,
                "in_errors": errors_total,
                "out_errors": 0,
                "in_discards": 0,
                "out_discards": 0,
                "in_octets": Decimal(octets),
                "out_octets": Decimal(octets // 3),
                "in_bps": bps,
                "out_bps": bps / 3,
                "util_in": util,
                "util_out": util / 3,
            }
            samples.append(PortSample(port=port, at=at, errors_delta=errors, discards_delta=0, flaps=flaps, **values))
        states.append(
            PortState(
                port=port,
                at=now,
                last_change_at=last_change_at,
                flap_count=flap_count,
                last_flap_at=last_change_at if flap_count else None,
                **values,
            )
        )
    return samples, states
