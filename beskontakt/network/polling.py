"""Polling nodes from the database: build SNMP targets, poll concurrently, store the results."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import actions, credentials
from .models import Node
from .snmp.client import Credentials, NodeReading, Target, poll_many

T = TypeVar("T")
CONCURRENCY = 64


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, also when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def target_for(node: Node, *, timeout: float | None = None, retries: int | None = None) -> Target:
    """The SNMP target of ``node``, with its secrets decrypted (kept in memory only)."""
    creds = Credentials(
        version=node.snmp_version,
        community=credentials.reveal(node.community_sealed),
        user=node.v3_user,
        auth_protocol=node.v3_auth_protocol,
        auth_key=credentials.reveal(node.v3_auth_key_sealed),
        priv_protocol=node.v3_priv_protocol,
        priv_key=credentials.reveal(node.v3_priv_key_sealed),
    )
    return Target(
        host=node.address,
        port=node.snmp_port,
        credentials=creds,
        timeout=settings.SNMP_TIMEOUT_SECONDS if timeout is None else timeout,
        retries=settings.SNMP_RETRIES if retries is None else retries,
        key=node.pk,
    )


def due_nodes(now: Any = None) -> list[int]:
    """Ids of enabled nodes whose poll interval has passed (never-polled first)."""
    now = now or timezone.now()
    nodes = Node.objects.filter(enabled=True).only("pk", "polled_at", "poll_interval_seconds")
    due = []
    for node in nodes.filter(Q(polled_at__isnull=True) | Q(polled_at__lt=now - timedelta(seconds=25))).order_by(
        F("polled_at").asc(nulls_first=True)
    ):
        if node.polled_at is None or node.polled_at + timedelta(seconds=node.poll_interval_seconds - 5) <= now:
            due.append(node.pk)
    return due


def poll_nodes(node_ids: Iterable[int], *, concurrency: int = CONCURRENCY) -> dict[str, int]:
    """Poll these nodes now and store what they answered; counts of ok/timeout/error and samples."""
    nodes = list(Node.objects.filter(pk__in=list(node_ids), enabled=True))
    by_id = {n.pk: n for n in nodes}
    now = timezone.now()
    # Names and speeds are read on the first poll and then once an hour; counters every time.
    full = {
        n.pk
        for n in nodes
        if n.polled_at is None
        or n.poll_status != Node.PollStatus.OK
        or n.polled_at.hour != now.hour
        or now - n.polled_at > timedelta(hours=1)
    }
    targets = [target_for(n) for n in nodes]
    readings: Sequence[NodeReading] = run_async(poll_many(targets, concurrency=concurrency, full=full))
    totals = {"ok": 0, "timeout": 0, "error": 0, "samples": 0}
    for reading in readings:
        node = by_id[reading.target.key]
        totals["samples"] += actions.record_poll(node, reading)
        totals[reading.status if reading.status in totals else "error"] += 1
    return totals
