"""Which outage notices a subscriber sees (``outages_for``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified
from beskontakt.conftest import make_subscriber
from beskontakt.incidents.models import Outage, OutageBuilding
from beskontakt.incidents.outages import outages_for
from beskontakt.subscribers.models import District, Subscriber

pytestmark = pytest.mark.django_db


def _titles(subscriber: Subscriber) -> set[str]:
    return {o.title for o in outages_for(subscriber)}


def test_scope_by_district_building_and_whole_network() -> None:
    subscriber = make_subscriber("77001234")
    assert subscriber.address is not None
    now = timezone.now()
    district = Outage.objects.create(title="district", starts_at=now - timedelta(hours=2))
    district.districts.add(subscriber.address.district)
    building = Outage.objects.create(title="building", starts_at=now)
    OutageBuilding.objects.create(outage=building, street="ул. Льва Толстого", building="16")
    other_building = Outage.objects.create(title="other building", starts_at=now)
    OutageBuilding.objects.create(outage=other_building, street="ул. Льва Толстого", building="18")
    other_district = Outage.objects.create(title="other district", starts_at=now)
    other_district.districts.add(District.objects.create(name="Митино"))
    Outage.objects.create(title="network", starts_at=now)
    assert _titles(subscriber) == {"district", "building", "network"}


def test_period() -> None:
    subscriber = make_subscriber("77001234")
    now = timezone.now()
    Outage.objects.create(title="ongoing", starts_at=now - timedelta(days=3))
    Outage.objects.create(title="ends later", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    Outage.objects.create(title="planned", starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=3))
    Outage.objects.create(title="far ahead", starts_at=now + timedelta(days=30))
    Outage.objects.create(title="over", starts_at=now - timedelta(days=1), ends_at=now - timedelta(hours=1))
    assert _titles(subscriber) == {"ongoing", "ends later", "planned"}
    ongoing = Outage.objects.get(title="ongoing")
    assert ongoing.is_ongoing_at() and not Outage.objects.get(title="planned").is_ongoing_at()


def test_subscriber_without_address_sees_network_wide_only() -> None:
    subscriber = Subscriber.objects.create(contract_number="77000001")
    now = timezone.now()
    Outage.objects.create(title="network", starts_at=now)
    scoped = Outage.objects.create(title="district", starts_at=now)
    scoped.districts.add(District.objects.create(name="Арбат"))
    assert _titles(subscriber) == {"network"}


def test_one_row_per_outage_even_when_several_scopes_match() -> None:
    subscriber = make_subscriber("77001234")
    assert subscriber.address is not None
    both = Outage.objects.create(title="both", starts_at=timezone.now())
    both.districts.add(subscriber.address.district, District.objects.create(name="Арбат"))
    OutageBuilding.objects.create(outage=both, street="ул. Льва Толстого", building="16")
    assert [o.title for o in outages_for(subscriber)] == ["both"]


def test_admin_pages(client: Client, users: dict[str, User]) -> None:
    login_verified(client, users[Role.ADMIN])
    outage = Outage.objects.create(title="Авария", starts_at=timezone.now())
    assert client.get("/admin/incidents/outage/").status_code == 200
    assert client.get("/admin/incidents/outage/add/").status_code == 200
    assert client.get(f"/admin/incidents/outage/{outage.pk}/change/").status_code == 200
