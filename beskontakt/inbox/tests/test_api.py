"""The callback API: clear 400s, subscribers only for themselves, outcomes by desk staff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from beskontakt.accounts.roles import Role
from beskontakt.api.tests.conftest import token_client
from beskontakt.inbox.models import CallbackRequest
from beskontakt.subscribers.models import Subscriber


def _window(minutes: int = 10) -> dict[str, str]:
    start = timezone.now() + timedelta(minutes=minutes)
    return {"window_start": start.isoformat(), "window_end": (start + timedelta(hours=1)).isoformat()}


def test_subscriber_asks_for_own_callback(users: dict[str, Any], subscriber: Subscriber) -> None:
    client = token_client(users[Role.SUBSCRIBER])
    response = client.post("/api/v1/callbacks/", {"phone": "89161112233", **_window()}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["subscriber"] == subscriber.pk and response.json()["phone"] == "+79161112233"
    listed = client.get("/api/v1/callbacks/").json()
    assert listed["count"] == 1


def test_subscriber_cannot_ask_for_someone_else(users: dict[str, Any], other_subscriber: Subscriber) -> None:
    client = token_client(users[Role.SUBSCRIBER])
    body = {"subscriber": other_subscriber.pk, "phone": "89161112233", **_window()}
    assert client.post("/api/v1/callbacks/", body, format="json").status_code == 403
    assert not CallbackRequest.objects.exists()


def test_bad_input_names_the_field(users: dict[str, Any]) -> None:
    client = token_client(users[Role.AGENT])
    response = client.post("/api/v1/callbacks/", {"phone": "12", **_window()}, format="json")
    assert response.status_code == 400 and "phone" in response.json()
    response = client.post("/api/v1/callbacks/", {"phone": "+79161112233", "window_start": "завтра"}, format="json")
    assert response.status_code == 400 and "window_start" in response.json() and "window_end" in response.json()
    response = client.post("/api/v1/callbacks/", {"phone": "+79161112233", **_window(-600)}, format="json")
    assert response.status_code == 400 and "window_end" in response.json()


def test_agent_records_a_missed_call(users: dict[str, Any], subscriber: Subscriber) -> None:
    client = token_client(users[Role.AGENT])
    made = client.post(
        "/api/v1/callbacks/", {"subscriber": subscriber.pk, "phone": "+79161112233", **_window()}, format="json"
    ).json()
    response = client.post(f"/api/v1/callbacks/{made['id']}/outcome/", {"reached": False}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "missed"
    assert client.post(f"/api/v1/callbacks/{made['id']}/outcome/", {}, format="json").status_code == 400
    assert client.post("/api/v1/callbacks/abc/outcome/", {"reached": True}, format="json").status_code == 404
