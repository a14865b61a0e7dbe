"""Message intake: exactly once per (channel, external id), one at a time or in batches."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from beskontakt.accounts.roles import Role
from beskontakt.cases.models import Case, Message

from .conftest import World, token_client

URL = "/api/v1/messages/inbound/"
BATCH = "/api/v1/messages/inbound/batch/"


def item(**extra: Any) -> dict[str, Any]:
    return {"channel": "telegram", "external_id": "tg-100", "body": "Не работает интернет", **extra}


@pytest.mark.django_db
def test_created_then_replayed(world: World) -> None:
    client = world.client(Role.NOC)
    first = client.post(URL, item(subscriber=world.subscriber.pk, sender="@maria"))
    assert first.status_code == 201, first.content
    assert "Idempotency-Replayed" not in first
    second = client.post(URL, item(subscriber=world.subscriber.pk, sender="@maria"))
    assert second.status_code == 200
    assert second["Idempotency-Replayed"] == "true"
    assert second.json() == first.json()
    assert Message.objects.filter(channel="telegram", external_id="tg-100").count() == 1


@pytest.mark.django_db
def test_subscriber_by_contract_number_and_case(world: World) -> None:
    client = world.client(Role.AGENT)
    response = client.post(URL, item(subscriber=world.subscriber.contract_number, external_id="tg-1"))
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["case"])
    assert case.subscriber_id == world.subscriber.pk and case.channel == "telegram"
    response = client.post(URL, item(case=world.case.pk, external_id="tg-2", sent_at=timezone.now().isoformat()))
    assert response.status_code == 201 and response.json()["case"] == world.case.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"external_id": "x", "body": "y"}, "channel"),
        ({"channel": "fax", "external_id": "x", "body": "y"}, "channel"),
        ({"channel": "sms", "body": "y"}, "external_id"),
        ({"channel": "sms", "external_id": "x" * 256, "body": "y"}, "external_id"),
        ({"channel": "sms", "external_id": "x", "body": ""}, "body"),
        ({"channel": "sms", "external_id": "x", "body": "   "}, "body"),
        ({"channel": "sms", "external_id": "x", "body": "y" * 20_001}, "body"),
        ({"channel": "sms", "external_id": "x", "body": "y", "subscriber": 123456789}, "subscriber"),
        ({"channel": "sms", "external_id": "x", "body": "y", "subscriber": "NO-SUCH"}, "subscriber"),
        ({"channel": "sms", "external_id": "x", "body": "y", "subscriber": True}, "subscriber"),
        ({"channel": "sms", "external_id": "x", "body": "y", "subscriber": 2**80}, "subscriber"),
        ({"channel": "sms", "external_id": "x", "body": "y", "subscriber": [1]}, "subscriber"),
        ({"channel": "sms", "external_id": "x", "body": "y", "case": 999999}, "case"),
        ({"channel": "sms", "external_id": "x", "body": "y", "case": "one"}, "case"),
        ({"channel": "sms", "external_id": "x", "body": "y", "sent_at": "yesterday"}, "sent_at"),
        ({"channel": "sms", "external_id": "x", "body": "y", "sent_at": "2999-01-01T00:00:00Z"}, "sent_at"),
        ({"channel": "sms", "external_id": "x", "body": "y", "sent_at": "0001-01-01T00:00:00+05:00"}, "sent_at"),
    ],
)
def test_bad_input_names_the_field(world: World, body: dict[str, Any], field: str) -> None:
    response = world.client(Role.AGENT).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Message.objects.filter(external_id="x").exists()


@pytest.mark.django_db
def test_case_of_another_subscriber_is_refused(world: World) -> None:
    body = item(case=world.other_case.pk, subscriber=world.subscriber.pk, external_id="mix")
    response = world.client(Role.AGENT).post(URL, body)
    assert response.status_code == 400 and "case" in response.json()


@pytest.mark.django_db
def test_message_to_merged_case_goes_to_the_survivor(world: World) -> None:
    from beskontakt.cases import actions
    from beskontakt.subscribers.models import Channel

    dup = actions.open_case(subject="Дубль", subscriber=world.subscriber, channel=Channel.PHONE)
    actions.merge(dup, into=world.case, by=world.users[Role.SUPERVISOR])
    response = world.client(Role.AGENT).post(URL, item(case=dup.pk, external_id="after-merge"))
    assert response.status_code == 201 and response.json()["case"] == world.case.pk
    portal = world.client(Role.SUBSCRIBER).post(f"/api/v1/cases/{dup.pk}/messages/", {"body": "Ну что там?"})
    assert portal.status_code == 201 and portal.json()["case"] == world.case.pk


@pytest.mark.django_db
def test_batch_reports_each_item(world: World) -> None:
    client = world.client(Role.NOC)
    client.post(URL, item(external_id="already"))
    items: list[Any] = [
        item(external_id="b-1", subscriber=world.subscriber.pk),
        item(external_id="b-2", subscriber=world.subscriber.contract_number),
        item(external_id="already"),
        item(external_id="b-1"),  # a repeat inside the same batch
        {"channel": "fax"},
        "not an object",
        item(external_id="b-3", subscriber="NO-SUCH"),
    ]
    response = client.post(BATCH, {"items": items}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert [r["status"] for r in data["results"]] == [
        "created",
        "created",
        "replayed",
        "replayed",
        "error",
        "error",
        "error",
    ]
    assert (data["created"], data["replayed"], data["errors"]) == (2, 2, 3)
    assert data["results"][0]["message"] == data["results"][3]["message"]
    assert {"channel", "external_id", "body"} <= set(data["results"][4]["errors"])
    assert "subscriber" in data["results"][6]["errors"]
    assert Message.objects.filter(external_id__startswith="b-").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"items": []}, {"items": "x"}, {"items": [item()] * 501}, [item()]])
def test_batch_envelope_errors(world: World, body: Any) -> None:
    response = world.client(Role.NOC).post(BATCH, body, format="json")
    assert response.status_code == 400
    if isinstance(body, dict):
        assert "items" in response.json()


@pytest.mark.django_db
def test_batch_of_500(world: World) -> None:
    items = [item(external_id=f"bulk-{i}", subscriber=world.subscriber.pk) for i in range(500)]
    response = world.client(Role.NOC).post(BATCH, {"items": items}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 500
    assert Message.objects.filter(external_id__startswith="bulk-").count() == 500


@pytest.mark.django_db
def test_old_sent_at_is_kept(world: World) -> None:
    sent = timezone.now() - timedelta(hours=3)
    response = world.client(Role.NOC).post(URL, item(external_id="late", sent_at=sent.isoformat()))
    assert response.status_code == 201
    assert Message.objects.get(external_id="late").created_at == sent


def _in_threads(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported by the assertion below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need a server database"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_store_one_message(world: World) -> None:
    user = world.users[Role.NOC]
    body = item(external_id="race-1", subscriber=world.subscriber.pk)
    codes = _in_threads(6, lambda i: token_client(user).post(URL, body).status_code)
    assert sorted(codes) == [200] * 5 + [201], codes
    assert Message.objects.filter(external_id="race-1").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_replies_are_all_stored(world: World) -> None:
    people = [world.users[Role.AGENT], world.users[Role.SUPERVISOR], world.users[Role.ADMIN]]
    url = f"/api/v1/cases/{world.case.pk}/messages/"
    codes = _in_threads(3, lambda i: token_client(people[i]).post(url, {"body": f"Ответ {i}"}).status_code)
    assert codes == [201, 201, 201], codes
    assert Message.objects.filter(case=world.case, direction="out").count() == 3
