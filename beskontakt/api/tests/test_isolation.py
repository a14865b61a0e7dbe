"""A subscriber's token reaches nothing of another subscriber, on every API route.

The routes come from the URL resolver, so a new endpoint is covered without
editing this test; a route whose parameters are unknown here fails loudly.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from beskontakt.accounts.roles import Role

from .conftest import World
from .routes import api_routes

pytestmark = pytest.mark.django_db


def secrets(world: World) -> list[str]:
    """Strings that only appear in the other subscriber's data, or in internal notes."""
    other = world.other_subscriber
    return [
        other.contract_number,
        other.last_name,
        world.other_case.subject,
        "Секретный текст другого абонента",
        "Ответ другому абоненту",
        "SECRET-SN-1",
        world.other_restriction.reason,
        world.note.body,
        world.other_note.body,
        "tg-other-1",
        world.other_attachment.filename,
        world.other_callback.phone,
    ]


def other_ids(world: World) -> dict[str, dict[str, int]]:
    """Path values that point at the other subscriber's objects, by route family."""
    return {
        "subscribers": {"pk": world.other_subscriber.pk, "restriction_id": world.other_restriction.pk},
        "cases": {"pk": world.other_case.pk},
        "tariffs": {"pk": world.subscriber.subscriptions.get().tariff_id},
        "attachments": {"pk": world.other_attachment.pk},
        "callbacks": {"pk": world.other_callback.pk},
    }


def own_ids(world: World) -> dict[str, dict[str, int]]:
    return {
        "subscribers": {"pk": world.subscriber.pk, "restriction_id": world.restriction.pk},
        "cases": {"pk": world.case.pk},
        "tariffs": {"pk": world.subscriber.subscriptions.get().tariff_id},
        "attachments": {"pk": world.attachment.pk},
        "callbacks": {"pk": world.callback.pk},
    }


# The tariff catalogue is the same for everyone: readable, but it holds nothing personal.
PUBLIC_FAMILIES = {"tariffs"}


def family(template: str) -> str:
    return template.removeprefix("api/v1/").split("/")[0]


def body_of(response: Any) -> bytes:
    """The response body, also for streamed file downloads."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def assert_no_leak(world: World, body: bytes, where: str) -> None:
    try:
        text = json.dumps(json.loads(body), ensure_ascii=False) if body else ""
    except ValueError:  # a downloaded file, not JSON
        text = body.decode("utf-8", errors="replace")
    for secret in secrets(world):
        assert secret not in text, f"{where} leaks {secret!r}"


def test_subscriber_sees_nothing_of_another_subscriber(world: World) -> None:
    client = world.client(Role.SUBSCRIBER)
    routes = api_routes()
    assert len(routes) >= 10
    checked = 0
    for route in routes:
        if not route.params:
            if "GET" in route.methods:
                response = client.get(route.url())
                assert response.status_code in (200, 403), route.template
                assert_no_leak(world, body_of(response), route.template)
                checked += 1
            for method in route.methods - {"GET"}:
                response = client.generic(method, route.url(), data="{}", content_type="application/json")
                assert response.status_code in (400, 403), f"{method} {route.template}"
                assert_no_leak(world, body_of(response), route.template)
            continue
        values = other_ids(world).get(family(route.template))
        assert values is not None, f"the isolation test does not know route {route.template}: add its ids"
        url = route.url(**values)
        for method in route.methods:
            response = client.generic(method, url, data="{}", content_type="application/json")
            if family(route.template) in PUBLIC_FAMILIES:
                assert response.status_code in (200, 403, 405), f"{method} {url}"
            elif method == "GET":
                assert response.status_code == 404, f"GET {url}"
            else:
                assert response.status_code in (403, 404), f"{method} {url}"
            assert_no_leak(world, body_of(response), f"{method} {url}")
            checked += 1
        # The subscriber's own objects do not show internal notes either.
        own = route.url(**own_ids(world)[family(route.template)])
        if "GET" in route.methods:
            response = client.get(own)
            assert response.status_code in (200, 404), own
            assert_no_leak(world, body_of(response), own)
    assert checked >= len(routes)


def test_subscriber_lists_only_own(world: World) -> None:
    client = world.client(Role.SUBSCRIBER)
    subscribers = client.get("/api/v1/subscribers/").json()["results"]
    assert [s["id"] for s in subscribers] == [world.subscriber.pk]
    cases = client.get("/api/v1/cases/").json()["results"]
    assert {c["subscriber"] for c in cases} == {world.subscriber.pk}
    # Filtering for the other subscriber finds nothing rather than an error.
    response = client.get("/api/v1/cases/", {"subscriber": world.other_subscriber.pk})
    assert response.status_code == 200 and response.json()["count"] == 0
    response = client.get("/api/v1/subscribers/", {"q": world.other_subscriber.contract_number})
    assert response.status_code == 200 and response.json()["count"] == 0


def test_subscriber_case_has_no_internal_fields(world: World) -> None:
    data = world.client(Role.SUBSCRIBER).get(f"/api/v1/cases/{world.case.pk}/").json()
    assert "assignee" not in data and "queue" not in data and "tags" not in data and "related" not in data
    events = world.client(Role.SUBSCRIBER).get(f"/api/v1/cases/{world.case.pk}/events/").json()["results"]
    assert all(e["kind"] != "note" for e in events)
    assert all("actor" not in e for e in events)


def test_notes_hidden_from_subscriber(world: World) -> None:
    client = world.client(Role.SUBSCRIBER)
    assert client.get(f"/api/v1/cases/{world.case.pk}/notes/").status_code == 404
    assert client.post(f"/api/v1/cases/{world.case.pk}/notes/", {"body": "x"}).status_code == 404


def test_subscriber_cannot_use_another_subscribers_linked_case(world: World) -> None:
    """Even a case linked to theirs stays invisible (related ids are not shown to subscribers)."""
    from beskontakt.cases import actions

    actions.link(world.case, other=world.other_case, kind="related", by=world.users[Role.AGENT])
    client = world.client(Role.SUBSCRIBER)
    data = client.get(f"/api/v1/cases/{world.case.pk}/").json()
    assert world.other_case.pk not in data.get("related", [])
    assert client.get(f"/api/v1/cases/{world.other_case.pk}/").status_code == 404
