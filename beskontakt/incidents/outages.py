"""Which outage notices a subscriber sees."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from beskontakt.subscribers.models import Subscriber

from .models import Outage, OutageBuilding

# Planned works are announced this long before they start.
ANNOUNCE_AHEAD = timedelta(days=7)


def outages_for(subscriber: Subscriber, at: datetime | None = None) -> QuerySet[Outage]:
    """Outages covering the subscriber's address that are going on at ``at`` (now) or start within a week.

    An outage with no districts and no buildings covers everyone; a subscriber
    without an address sees only those.
    """
    now = at or timezone.now()
    current = Outage.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now), starts_at__lte=now + ANNOUNCE_AHEAD)
    network_wide = Q(districts__isnull=True) & ~Exists(OutageBuilding.objects.filter(outage=OuterRef("pk")))
    scope = network_wide
    address = subscriber.address
    if address is not None:
        building = OutageBuilding.objects.filter(
            outage=OuterRef("pk"), street=address.street, building=address.building
        )
        scope = scope | Q(districts=address.district_id) | Exists(building)
    ids = current.filter(scope).values("pk")
    return Outage.objects.filter(pk__in=ids).prefetch_related("districts").order_by("starts_at")
