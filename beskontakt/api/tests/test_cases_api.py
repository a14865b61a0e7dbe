"""Case endpoints: happy paths through the actions, and bad input answered with field errors."""

from __future__ import annotations

import pytest

from beskontakt.accounts.roles import Role
from beskontakt.cases.models import Case, CaseStatus, Event, Message, Note

from .conftest import World

pytestmark = pytest.mark.django_db


def test_list_filters_and_ordering(world: World) -> None:
    client = world.client(Role.AGENT)
    everything = client.get("/api/v1/cases/").json()
    # Three cases, plus one callback-queue case per subscriber.
    assert everything["count"] == 5
    assert client.get("/api/v1/cases/", {"subscriber": world.other_subscriber.pk}).json()["count"] == 2
    assert client.get("/api/v1/cases/", {"channel": "telegram"}).json()["count"] == 1
    assert client.get("/api/v1/cases/", {"status": ["new", "open"]}).json()["count"] == 5
    assert client.get("/api/v1/cases/", {"category": "no-internet"}).json()["count"] == 2
    assert client.get("/api/v1/cases/", {"queue": "support"}).json()["count"] == 2
    assert client.get("/api/v1/cases/", {"assignee": world.users[Role.TECHNICIAN].pk}).json()["count"] == 1
    assert client.get("/api/v1/cases/", {"created_after": "2000-01-01T00:00:00Z"}).json()["count"] == 5
    assert client.get("/api/v1/cases/", {"created_before": "2000-01-01T00:00:00Z"}).json()["count"] == 0
    assert client.get("/api/v1/cases/", {"sla_state": "ok"}).status_code == 200
    ordered = client.get("/api/v1/cases/", {"ordering": "id"}).json()["results"]
    assert [c["id"] for c in ordered] == sorted(c["id"] for c in ordered)


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"priority": "9"},
        {"assignee": "abc"},
        {"subscriber": "99999999999999999999999999"},
        {"subscriber": "-1"},
        {"created_after": "yesterday"},
        {"channel": "pigeon"},
        {"queue": "x" * 51},
    ],
)
def test_list_bad_filters_are_400_naming_the_field(world: World, params: dict[str, str]) -> None:
    response = world.client(Role.AGENT).get("/api/v1/cases/", params)
    assert response.status_code == 400
    assert set(params) <= set(response.json())


def test_odd_query_values_are_not_errors(world: World) -> None:
    client = world.client(Role.AGENT)
    assert client.get("/api/v1/cases/", {"ordering": "no_such_field"}).status_code == 200
    assert client.get("/api/v1/cases/", {"page": "999"}).status_code == 404
    assert client.get("/api/v1/cases/", {"page_size": "100000"}).status_code == 200
    assert client.get("/api/v1/cases/", {"queue": "nul\x00byte"}).status_code == 400


def test_bad_ids_in_path_are_404(world: World) -> None:
    client = world.client(Role.AGENT)
    for pk in ("abc", "-1", "1.5", "9" * 40, "0"):
        assert client.get(f"/api/v1/cases/{pk}/").status_code == 404, pk


def test_open_case(world: World) -> None:
    client = world.client(Role.AGENT)
    response = client.post(
        "/api/v1/cases/",
        {
            "subject": "Медленный интернет",
            "subscriber": world.subscriber.pk,
            "channel": "email",
            "body": "Скорость 5 Мбит/с",
            "category": "no-internet",
            "priority": 3,
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["priority"] == 3 and data["queue"] == "support" and data["channel"] == "email"
    case = Case.objects.get(pk=data["id"])
    assert case.messages.count() == 1
    assert case.events.filter(kind=Event.Kind.OPENED).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "ok", "subscriber": 987654}, "subscriber"),
        ({"subject": "ok", "subscriber": "abc"}, "subscriber"),
        ({"subject": "ok", "subscriber": 2**70}, "subscriber"),
        ({"subject": "ok", "channel": "pigeon"}, "channel"),
        ({"subject": "ok", "category": "nope"}, "category"),
        ({"subject": "ok", "priority": 7}, "priority"),
        ({"subject": "ok", "body": "x" * 20_001}, "body"),
        ({"subject": "ok", "body": "   "}, "body"),
        ({"subject": ["a", "b"]}, "subject"),
        ({"subject": "nul\x00"}, "subject"),
    ],
)
def test_open_case_bad_input(world: World, body: dict[str, object], field: str) -> None:
    response = world.client(Role.AGENT).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_malformed_json_is_400(world: World) -> None:
    client = world.client(Role.AGENT)
    response = client.generic("POST", "/api/v1/cases/", "{not json", content_type="application/json")
    assert response.status_code == 400
    response = client.generic("POST", "/api/v1/cases/", "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_patch_goes_through_actions(world: World) -> None:
    client = world.client(Role.SUPERVISOR)
    response = client.patch(
        f"/api/v1/cases/{world.case.pk}/",
        {
            "status": "waiting_subscriber",
            "priority": 4,
            "queue": None,
            "category": None,
            "tags": ["авария", "ЮЗАО"],
            "assignee": world.users[Role.SUPERVISOR].pk,
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "waiting_subscriber" and data["priority"] == 4
    assert data["queue"] is None and data["category"] is None
    assert sorted(data["tags"]) == ["ЮЗАО", "авария"]
    assert data["assignee"] == world.users[Role.SUPERVISOR].pk
    kinds = set(world.case.events.values_list("kind", flat=True))
    assert {"status", "priority", "queue", "category", "tags", "assigned"} <= kinds


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "reopened"}, "status"),
        ({"status": "new"}, "status"),  # new -> new is no transition... but same status is a no-op
        ({"priority": "high"}, "priority"),
        ({"queue": "nope"}, "queue"),
        ({"tags": "not-a-list"}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"assignee": 999999}, "assignee"),
        ({"assignee": "me"}, "assignee"),
    ],
)
def test_patch_bad_input(world: World, body: dict[str, object], field: str) -> None:
    response = world.client(Role.SUPERVISOR).patch(f"/api/v1/cases/{world.case.pk}/", body, format="json")
    if body == {"status": "new"}:
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_patch_is_all_or_nothing(world: World) -> None:
    client = world.client(Role.SUPERVISOR)
    response = client.patch(f"/api/v1/cases/{world.case.pk}/", {"priority": 4, "status": "new", "assignee": 999999})
    assert response.status_code == 400
    world.case.refresh_from_db()
    assert world.case.priority == 2


def test_impossible_transition_is_400(world: World) -> None:
    client = world.client(Role.AGENT)
    assert client.patch(f"/api/v1/cases/{world.case.pk}/", {"status": "closed"}).status_code == 200
    response = client.patch(f"/api/v1/cases/{world.case.pk}/", {"status": "waiting_field"})
    assert response.status_code == 400 and "status" in response.json()


def test_take_merge_link(world: World) -> None:
    from beskontakt.cases import actions
    from beskontakt.subscribers.models import Channel

    fresh = actions.open_case(subject="Повтор", subscriber=world.subscriber, channel=Channel.PHONE)
    agent = world.client(Role.AGENT)
    assert agent.post(f"/api/v1/cases/{fresh.pk}/take/").json()["assignee"] == world.users[Role.AGENT].pk
    supervisor = world.client(Role.SUPERVISOR)
    response = supervisor.post(f"/api/v1/cases/{fresh.pk}/take/")
    assert response.status_code == 400 and "assignee" in response.json()
    response = agent.post(f"/api/v1/cases/{fresh.pk}/link/", {"other": world.case.pk, "kind": "parent"})
    assert response.status_code == 200 and response.json()["parent"] == world.case.pk
    assert agent.post(f"/api/v1/cases/{fresh.pk}/link/", {"other": fresh.pk}).status_code == 400
    assert agent.post(f"/api/v1/cases/{fresh.pk}/link/", {"other": 10**12}).json().keys() == {"other"}
    assert agent.post(f"/api/v1/cases/{fresh.pk}/link/", {"other": world.case.pk, "kind": "x"}).status_code == 400
    response = supervisor.post(f"/api/v1/cases/{fresh.pk}/merge/", {"into": world.case.pk})
    assert response.status_code == 200 and response.json()["id"] == world.case.pk
    fresh.refresh_from_db()
    assert fresh.merged_into_id == world.case.pk and fresh.status == CaseStatus.CLOSED
    response = supervisor.post(f"/api/v1/cases/{world.case.pk}/merge/", {"into": world.other_case.pk})
    assert response.status_code == 400 and "into" in response.json()
    assert supervisor.post(f"/api/v1/cases/{world.case.pk}/merge/", {}).json().keys() == {"into"}


def test_messages_reply_and_list(world: World) -> None:
    client = world.client(Role.AGENT)
    response = client.post(f"/api/v1/cases/{world.case.pk}/messages/", {"body": "Проверяю линию", "channel": "sms"})
    assert response.status_code == 201, response.content
    assert response.json()["direction"] == "out" and response.json()["channel"] == "sms"
    listed = client.get(f"/api/v1/cases/{world.case.pk}/messages/").json()
    assert listed["count"] == 2
    world.case.refresh_from_db()
    assert world.case.first_response_at is not None
    for bad in ({}, {"body": ""}, {"body": "x", "channel": "fax"}, {"body": "x", "then_status": "zzz"}):
        response = client.post(f"/api/v1/cases/{world.case.pk}/messages/", bad, format="json")
        assert response.status_code == 400 and response.json().keys() & {"body", "channel", "then_status"}


def test_subscriber_writes_to_own_case_as_inbound(world: World) -> None:
    client = world.client(Role.SUBSCRIBER)
    url = f"/api/v1/cases/{world.case.pk}/messages/"
    first = client.post(url, {"body": "Роутер перезагрузила", "external_id": "portal-42", "channel": "email"})
    assert first.status_code == 201, first.content
    assert first.json()["direction"] == "in" and first.json()["channel"] == "portal"
    again = client.post(url, {"body": "Роутер перезагрузила", "external_id": "portal-42"})
    assert again.status_code == 200 and again["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert Message.objects.filter(case=world.case, direction="in", channel="portal").count() == 1
    # Without a key every post is a new message.
    assert client.post(url, {"body": "Ещё"}).status_code == 201
    assert client.post(url, {"body": "Ещё"}).status_code == 201


def test_two_agents_replying_are_both_stored(world: World) -> None:
    a = world.client(Role.AGENT)
    b = world.client(Role.SUPERVISOR)
    url = f"/api/v1/cases/{world.case.pk}/messages/"
    assert a.post(url, {"body": "Первый ответ"}).status_code == 201
    assert b.post(url, {"body": "Второй ответ"}).status_code == 201
    assert Message.objects.filter(case=world.case, direction="out").count() == 2


def test_notes(world: World) -> None:
    client = world.client(Role.NOC)
    response = client.post(f"/api/v1/cases/{world.case.pk}/notes/", {"body": "Авария на узле"})
    assert response.status_code == 201 and response.json()["author"] == world.users[Role.NOC].pk
    assert client.get(f"/api/v1/cases/{world.case.pk}/notes/").json()["count"] == 2
    assert Note.objects.filter(case=world.case).count() == 2
    assert client.post(f"/api/v1/cases/{world.case.pk}/notes/", {"body": ""}).json().keys() == {"body"}
    assert client.post(f"/api/v1/cases/{world.case.pk}/notes/", {"body": "x" * 20_001}).status_code == 400


def test_events(world: World) -> None:
    data = world.client(Role.AGENT).get(f"/api/v1/cases/{world.case.pk}/events/").json()
    kinds = [e["kind"] for e in data["results"]]
    assert kinds[0] == "opened" and "note" in kinds


def test_odd_time_offsets_in_filters(world: World) -> None:
    client = world.client(Role.AGENT)
    assert client.get("/api/v1/cases/", {"created_before": "0525-10-17T09:08:07-21:03"}).status_code == 200
    assert client.get("/api/v1/cases/", {"created_after": "0001-01-01T00:00:00+05:00"}).status_code == 400
