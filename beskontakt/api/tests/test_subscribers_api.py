"""Subscriber endpoints: the 360 read, filters, restrictions and the tariff catalogue."""

from __future__ import annotations

import pytest

from beskontakt.accounts.roles import Role
from beskontakt.subscribers.models import AccessRestriction, SubscriberEvent

from .conftest import World

pytestmark = pytest.mark.django_db


def test_list_and_filters(world: World) -> None:
    client = world.client(Role.AGENT)
    assert client.get("/api/v1/subscribers/").json()["count"] == 2
    found = client.get("/api/v1/subscribers/", {"contract_number": "77009999"}).json()["results"]
    assert [s["id"] for s in found] == [world.other_subscriber.pk]
    assert client.get("/api/v1/subscribers/", {"segment": "business"}).json()["count"] == 0
    assert client.get("/api/v1/subscribers/", {"billing_status": "active"}).json()["count"] == 2
    found = client.get("/api/v1/subscribers/", {"q": "смирнов"}).json()["results"]
    assert [s["id"] for s in found] == [world.other_subscriber.pk]
    found = client.get("/api/v1/subscribers/", {"q": "+7 495 123-45-67"}).json()["results"]
    assert len(found) == 2
    ordered = client.get("/api/v1/subscribers/", {"ordering": "-contract_number"}).json()["results"]
    assert [s["contract_number"] for s in ordered] == ["77009999", "77001234"]


@pytest.mark.parametrize(
    "params",
    [{"segment": "gold"}, {"billing_status": "x"}, {"q": "x" * 201}, {"contract_number": "1" * 33}, {"q": "\x00"}],
)
def test_bad_filters(world: World, params: dict[str, str]) -> None:
    response = world.client(Role.AGENT).get("/api/v1/subscribers/", params)
    assert response.status_code == 400 and set(params) <= set(response.json())


def test_detail_has_the_360(world: World) -> None:
    data = world.client(Role.AGENT).get(f"/api/v1/subscribers/{world.subscriber.pk}/").json()
    assert data["address"]["district"] == "Хамовники"
    assert data["contacts"][0]["channel"] == "phone"
    assert data["subscriptions"][0]["tariff"]["code"] == "net-500"
    assert [r["kind"] for r in data["active_restrictions"]] == ["quarantine"]
    other = world.client(Role.AGENT).get(f"/api/v1/subscribers/{world.other_subscriber.pk}/").json()
    assert other["equipment"][0]["serial_number"] == "SECRET-SN-1"


def test_unknown_subscriber_is_404(world: World) -> None:
    client = world.client(Role.AGENT)
    for pk in ("999999", "abc", "9" * 30):
        assert client.get(f"/api/v1/subscribers/{pk}/").status_code == 404


def test_record_and_lift_restriction(world: World) -> None:
    client = world.client(Role.TECHNICIAN)
    url = f"/api/v1/subscribers/{world.subscriber.pk}/restrictions/"
    response = client.post(
        url,
        {"kind": "self_isolation", "reason": "Самоизоляция", "valid_from": "2030-01-01", "valid_until": "2030-01-14"},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["active"] is False and created["recorded_by"] == world.users[Role.TECHNICIAN].pk
    assert len(client.get(url).json()) == 2
    lift = client.post(f"{url}{created['id']}/lift/")
    assert lift.status_code == 200 and lift.json()["lifted_at"] is not None
    again = client.post(f"{url}{created['id']}/lift/")
    assert again.status_code == 400 and "restriction" in again.json()
    assert SubscriberEvent.objects.filter(subscriber=world.subscriber, kind="restriction_lifted").count() == 1
    # A restriction of another subscriber cannot be lifted through this subscriber.
    assert client.post(f"{url}{world.other_restriction.pk}/lift/").status_code == 404
    assert client.post(f"{url}999999/lift/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "x"}, "kind"),
        ({"kind": "curfew", "reason": "x"}, "kind"),
        ({"kind": "no_entry"}, "reason"),
        ({"kind": "no_entry", "reason": "   "}, "reason"),
        ({"kind": "no_entry", "reason": "x", "valid_until": "soon"}, "valid_until"),
        ({"kind": "no_entry", "reason": "x", "valid_from": "2030-02-01", "valid_until": "2030-01-01"}, "valid_until"),
        ({"kind": "no_entry", "reason": "x" * 2001}, "reason"),
    ],
)
def test_restriction_bad_input(world: World, body: dict[str, str], field: str) -> None:
    url = f"/api/v1/subscribers/{world.subscriber.pk}/restrictions/"
    response = world.client(Role.AGENT).post(url, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert AccessRestriction.objects.filter(subscriber=world.subscriber).count() == 1


def test_tariffs(world: World) -> None:
    client = world.client(Role.SUBSCRIBER)
    data = client.get("/api/v1/tariffs/", {"kind": "internet"}).json()
    assert data["results"][0]["download_mbps"] == 500
    tariff_id = data["results"][0]["id"]
    assert client.get(f"/api/v1/tariffs/{tariff_id}/").json()["code"] == "net-500"
    assert client.get("/api/v1/tariffs/", {"kind": "radio"}).status_code == 400
    assert client.get("/api/v1/tariffs/999999/").status_code == 404
