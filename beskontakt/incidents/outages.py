"""Which outage notices a subscriber sees."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from beskontakt.subscribers.models import Subscriber

from .models import Outage, OutageBuilding

# How many uplink hops above the subscriber's node an outage still covers them.
MAX_UPLINK_HOPS = 8

# Planned works are announced this long before they start.
ANNOUNCE_AHEAD = timedelta(days=7)


def outages_for(subscriber: Subscriber, at: datetime | None = None) -> QuerySet[Outage]:
    """Outages covering the subscriber's address that are going on at ``at`` (now) or start within a week.

    An outage with no districts, buildings or nodes covers everyone; a subscriber
    without an address sees those and the ones on the network node they hang on
    (or any node above it).
    """
    now = at or timezone.now()
    current = Outage.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now), starts_at__lte=now + ANNOUNCE_AHEAD)
    network_wide = (
        Q(districts__isnull=True)
        & Q(nodes__isnull=True)
        & ~Exists(OutageBuilding.objects.filter(outage=OuterRef("pk")))
    )
    scope: Any = network_wide  # Q and Exists combine into Q or Combinable
    nodes = _nodes_above(subscriber)
    if nodes:
        scope = scope | Q(nodes__in=nodes)
    address = subscriber.address
    if address is not None:
        building = OutageBuilding.objects.filter(
            outage=OuterRef("pk"), street=address.street, building=address.building
        )
        scope = scope | Q(districts=address.district_id) | Exists(building)
    ids = current.filter(scope).values("pk")
    return Outage.objects.filter(pk__in=ids).prefetch_related("districts").order_by("starts_at")


def _nodes_above(subscriber: Subscriber) -> list[int]:
    """Ids of the subscriber's node and the nodes it hangs below (uplink chain)."""
    from beskontakt.network.health import node_of_subscriber

    node = node_of_subscriber(subscriber.pk)
    ids: list[int] = []
    while node is not None and node.pk not in ids and len(ids) <= MAX_UPLINK_HOPS:
        ids.append(node.pk)
        node = node.parent
    return ids
