"""Every write of the network app: topology changes, poll results, sample retention.

Poll results are written in bulk (one ``bulk_create`` of samples and one
``bulk_update``/``bulk_create`` of port states per node) inside a transaction.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.subscribers.models import Subscriber

from . import credentials
from .models import Node, Port, PortSample, PortState, SubscriberPort
from .snmp import counters
from .snmp.client import InterfaceReading, NodeReading

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$"
)
RETENTION_BATCH = 5000


def _valid_address(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(address))


@transaction.atomic
def save_node(
    *,
    node: Node | None = None,
    name: str,
    address: str,
    kind: str = Node.Kind.ACCESS_SWITCH,
    snmp_port: int = 161,
    snmp_version: str = Node.Version.V2C,
    community: str | None = None,
    v3_user: str = "",
    v3_auth_protocol: str = Node.AuthProtocol.NONE,
    v3_auth_key: str | None = None,
    v3_priv_protocol: str = Node.PrivProtocol.NONE,
    v3_priv_key: str | None = None,
    **fields: Any,
) -> Node:
    """Create or change a node; secrets given as ``None`` are kept, strings replace them (encrypted).

    Other ``fields`` (vendor, model, district, parent, enabled, poll_interval_seconds) are set as given.
    """
    errors: dict[str, str] = {}
    address = address.strip()
    if not name.strip():
        errors["name"] = _("Give the node a name.")
    if not _valid_address(address):
        errors["address"] = _("Enter an IP address or a host name.")
    if not 1 <= int(snmp_port) <= 65535:
        errors["snmp_port"] = _("The SNMP port must be between 1 and 65535.")
    if kind not in Node.Kind.values:
        errors["kind"] = _("Unknown node kind.")
    if snmp_version not in Node.Version.values:
        errors["snmp_version"] = _("Choose SNMPv2c or SNMPv3.")
    if snmp_version == Node.Version.V3 and not v3_user.strip():
        errors["v3_user"] = _("SNMPv3 needs a user name.")
    if v3_auth_protocol not in Node.AuthProtocol.values or v3_priv_protocol not in Node.PrivProtocol.values:
        errors["v3_auth_protocol"] = _("Unknown SNMPv3 protocol.")
    for key, value in (("v3_auth_key", v3_auth_key), ("v3_priv_key", v3_priv_key)):
        if value and len(value) < 8:
            errors[key] = _("SNMPv3 keys must be at least 8 characters long.")
    interval = fields.get("poll_interval_seconds")
    if interval is not None and not 30 <= int(interval) <= 86400:
        errors["poll_interval_seconds"] = _("Poll between every 30 seconds and once a day.")
    if errors:
        raise ValidationError(errors)
    node = node or Node()
    node.name, node.address, node.kind = name.strip(), address, kind
    node.snmp_port, node.snmp_version = int(snmp_port), snmp_version
    node.v3_user, node.v3_auth_protocol, node.v3_priv_protocol = v3_user.strip(), v3_auth_protocol, v3_priv_protocol
    if community is not None:
        node.community_sealed = credentials.seal(community)
    if v3_auth_key is not None:
        node.v3_auth_key_sealed = credentials.seal(v3_auth_key)
    if v3_priv_key is not None:
        node.v3_priv_key_sealed = credentials.seal(v3_priv_key)
    for key, value in fields.items():
        setattr(node, key, value)
    node.full_clean(exclude=["community_sealed", "v3_auth_key_sealed", "v3_priv_key_sealed"])
    node.save()
    return node


@transaction.atomic
def connect_subscriber(subscriber: Subscriber, port: Port) -> SubscriberPort:
    """Record that ``subscriber`` hangs on ``port`` (moving them if they were elsewhere)."""
    if port.is_uplink:
        raise ValidationError({"port": _("Subscribers cannot hang on an uplink port.")})
    line, _created = SubscriberPort.objects.update_or_create(
        subscriber=subscriber, defaults={"port": port, "since": timezone.now()}
    )
    return line


def _dec(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _int(value: Decimal | int | None) -> int | None:
    return None if value is None else int(value)


def _sum(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _port_kind(reading: InterfaceReading) -> str:
    text = f"{reading.name} {reading.descr}".lower()
    if "pon" in text or "gpon" in text or "epon" in text:
        return Port.Kind.PON
    if "dsl" in text:
        return Port.Kind.DSL
    return Port.Kind.ETHERNET


@transaction.atomic
def record_poll(node: Node, reading: NodeReading, at: datetime | None = None) -> int:
    """Store one node's poll: its outcome, new/changed ports, a sample per port and the ports' latest state.

    Returns the number of samples written. A failed poll only records the outcome on the node.
    """
    at = at or timezone.now()
    node.polled_at = at
    node.poll_status = reading.status if reading.status in Node.PollStatus.values else Node.PollStatus.ERROR
    node.poll_error = reading.error[:200]
    node.poll_ms = int(reading.seconds * 1000)
    if not reading.ok:
        node.save(update_fields=["polled_at", "poll_status", "poll_error", "poll_ms"])
        return 0
    node_reset = (
        node.uptime_ticks is not None and reading.uptime_ticks is not None and reading.uptime_ticks < node.uptime_ticks
    )
    node.uptime_ticks = reading.uptime_ticks
    node.save(update_fields=["polled_at", "poll_status", "poll_error", "poll_ms", "uptime_ticks"])

    ports = {p.if_index: p for p in Port.objects.filter(node=node)}
    new_ports = [
        Port(
            node=node,
            if_index=i,
            name=r.name[:100],
            alias=r.alias[:200],
            speed_bps=r.speed_bps,
            kind=_port_kind(r),
        )
        for i, r in reading.interfaces.items()
        if i not in ports
    ]
    if new_ports:
        Port.objects.bulk_create(new_ports, ignore_conflicts=True)
        ports = {p.if_index: p for p in Port.objects.filter(node=node)}
    changed_ports = []
    for i, r in reading.interfaces.items():
        port = ports.get(i)
        if port is None:
            continue
        if (port.name, port.alias, port.speed_bps) != (r.name[:100], r.alias[:200], r.speed_bps) and (
            r.name or r.alias
        ):
            port.name, port.alias, port.speed_bps = r.name[:100], r.alias[:200], r.speed_bps
            changed_ports.append(port)
    if changed_ports:
        Port.objects.bulk_update(changed_ports, ["name", "alias", "speed_bps"])

    states = {s.port_id: s for s in PortState.objects.filter(port__node=node)}
    samples: list[PortSample] = []
    updated: list[PortState] = []
    created: list[PortState] = []
    for i, r in reading.interfaces.items():
        port = ports.get(i)
        if port is None:
            continue
        previous = states.get(port.pk)
        sample, state = _sample(port, previous, r, reading.uptime_ticks, node_reset, at)
        samples.append(sample)
        (updated if previous is not None else created).append(state)
    PortSample.objects.bulk_create(samples, batch_size=1000)
    if created:
        PortState.objects.bulk_create(created, batch_size=1000)
    if updated:
        PortState.objects.bulk_update(updated, _STATE_FIELDS, batch_size=500)
    return len(samples)


_STATE_FIELDS = [
    "at",
    "oper_status",
    "admin_status",
    "last_change_ticks",
    "last_change_at",
    "uptime_ticks",
    "discontinuity",
    "counter_bits",
    "in_errors",
    "out_errors",
    "in_discards",
    "out_discards",
    "in_octets",
    "out_octets",
    "in_bps",
    "out_bps",
    "util_in",
    "util_out",
    "flap_count",
    "last_flap_at",
]


def _snapshot(state: PortState) -> counters.CounterSnapshot:
    return counters.CounterSnapshot(
        at=state.at.timestamp(),
        uptime_ticks=state.uptime_ticks,
        in_octets=_int(state.in_octets),
        out_octets=_int(state.out_octets),
        bits=state.counter_bits,
        discontinuity=state.discontinuity,
    )


def compare(
    previous: PortState | None,
    reading: InterfaceReading,
    uptime_ticks: int | None,
    node_reset: bool,
    at: datetime,
    speed_bps: int | None,
) -> dict[str, Any]:
    """What changed on a port since its stored state: error/discard growth, link changes, rates."""
    current = counters.CounterSnapshot(
        at=at.timestamp(),
        uptime_ticks=uptime_ticks,
        in_octets=reading.in_octets,
        out_octets=reading.out_octets,
        bits=reading.counter_bits,
        discontinuity=reading.discontinuity,
    )
    result: dict[str, Any] = {
        "errors_delta": None,
        "discards_delta": None,
        "flaps": 0,
        "rates": None,
        "last_change_at": None,
    }
    if uptime_ticks is not None and reading.last_change is not None and reading.last_change <= uptime_ticks:
        result["last_change_at"] = at - timedelta(seconds=(uptime_ticks - reading.last_change) / 100)
    if previous is None:
        return result
    snapshot = _snapshot(previous)
    reset = node_reset or counters.is_reset(snapshot, current)
    result["errors_delta"] = _sum(
        counters.growth(previous.in_errors, reading.in_errors, reset=reset),
        counters.growth(previous.out_errors, reading.out_errors, reset=reset),
    )
    result["discards_delta"] = _sum(
        counters.growth(previous.in_discards, reading.in_discards, reset=reset),
        counters.growth(previous.out_discards, reading.out_discards, reset=reset),
    )
    if (
        not node_reset
        and reading.last_change is not None
        and previous.last_change_ticks is not None
        and reading.last_change != previous.last_change_ticks
    ):
        result["flaps"] = 1
    result["rates"] = counters.rates(snapshot, current, speed_bps)
    return result


def _sample(
    port: Port,
    previous: PortState | None,
    r: InterfaceReading,
    uptime_ticks: int | None,
    node_reset: bool,
    at: datetime,
) -> tuple[PortSample, PortState]:
    change = compare(previous, r, uptime_ticks, node_reset, at, r.speed_bps or port.speed_bps)
    rates: counters.Rates | None = change["rates"]
    values: dict[str, Any] = {
        "at": at,
        "oper_status": r.oper_status if r.oper_status in range(1, 8) else None,
        "admin_status": r.admin_status if r.admin_status in range(1, 8) else None,
        "last_change_ticks": r.last_change,
        "in_errors": r.in_errors,
        "out_errors": r.out_errors,
        "in_discards": r.in_discards,
        "out_discards": r.out_discards,
        "in_octets": _dec(r.in_octets),
        "out_octets": _dec(r.out_octets),
        "in_bps": rates.in_bps if rates else None,
        "out_bps": rates.out_bps if rates else None,
        "util_in": rates.util_in if rates else None,
        "util_out": rates.util_out if rates else None,
    }
    sample = PortSample(
        port=port,
        errors_delta=change["errors_delta"],
        discards_delta=change["discards_delta"],
        flaps=change["flaps"],
        **values,
    )
    state = previous or PortState(port=port)
    for key, value in values.items():
        setattr(state, key, value)
    state.last_change_at = change["last_change_at"]
    state.uptime_ticks = uptime_ticks
    state.discontinuity = r.discontinuity
    state.counter_bits = r.counter_bits
    if change["flaps"]:
        state.flap_count += change["flaps"]
        state.last_flap_at = change["last_change_at"] or at
    return sample, state


def purge_samples(now: datetime | None = None, *, batch: int = RETENTION_BATCH) -> int:
    """Delete port samples older than ``NETWORK_SAMPLE_RETENTION_DAYS``, ``batch`` rows per statement."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.NETWORK_SAMPLE_RETENTION_DAYS)
    removed = 0
    while True:
        ids = list(PortSample.objects.filter(at__lt=cutoff).order_by("at").values_list("pk", flat=True)[:batch])
        if not ids:
            return removed
        with transaction.atomic():
            removed += PortSample.objects.filter(pk__in=ids).delete()[0]
