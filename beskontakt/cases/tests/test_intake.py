"""Queued intake: accepted once, processed into case messages exactly once, failures kept with reasons."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from beskontakt.accounts.roles import Role
from beskontakt.cases import intake
from beskontakt.cases.models import Message, PendingInbound

pytestmark = pytest.mark.django_db
QUEUE = "/api/v1/messages/inbound/queue/"


@pytest.fixture
def noc_client(users) -> APIClient:
    client = APIClient()
    client.force_authenticate(users[Role.NOC])
    return client


def test_accept_then_process_exactly_once(
    noc_client: APIClient, subscriber, policy, django_capture_on_commit_callbacks
) -> None:
    items = [
        {"channel": "telegram", "external_id": f"tg-{i}", "body": f"Нет интернета {i}", "subscriber": subscriber.pk}
        for i in range(5)
    ]
    items.append({"channel": "telegram", "external_id": "tg-0", "body": "повтор"})  # repeat inside the batch
    items.append({"channel": "pigeon", "external_id": "x", "body": "?"})  # bad item
    with django_capture_on_commit_callbacks(execute=False):
        response = noc_client.post(QUEUE, {"items": items}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["accepted"], body["replayed"], body["errors"]) == (5, 1, 1)
    assert body["results"][6]["errors"]["channel"]
    assert PendingInbound.objects.filter(state="pending").count() == 5
    # A repeat of the whole batch is all replays.
    with django_capture_on_commit_callbacks(execute=False):
        again = noc_client.post(QUEUE, {"items": items[:5]}, format="json").json()
    assert again["replayed"] == 5
    assert intake.process_pending() == (5, 0)
    assert Message.objects.filter(channel="telegram", external_id__startswith="tg-").count() == 5
    # Processing again (a worker restarted mid-batch) changes nothing.
    PendingInbound.objects.update(state="pending")
    assert intake.process_pending() == (5, 0)
    assert Message.objects.filter(channel="telegram", external_id__startswith="tg-").count() == 5
    assert subscriber.cases.count() == 1  # threaded into one case


def test_unprocessable_item_is_kept_with_reason(noc_client: APIClient, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        noc_client.post(
            QUEUE,
            {"items": [{"channel": "sms", "external_id": "s1", "body": "Алло", "subscriber": 999999}]},
            format="json",
        )
    assert intake.process_pending() == (0, 1)
    row = PendingInbound.objects.get()
    assert row.state == "failed" and "subscriber" in row.error


def test_bad_envelope_is_400(noc_client: APIClient) -> None:
    assert noc_client.post(QUEUE, {"items": []}, format="json").status_code == 400
    assert noc_client.post(QUEUE, {"nope": 1}, format="json").status_code == 400


def test_worker_task_drains_the_queue(noc_client: APIClient, subscriber, django_capture_on_commit_callbacks) -> None:
    from beskontakt.cases.tasks import process_inbound

    with django_capture_on_commit_callbacks(execute=False):
        noc_client.post(
            QUEUE,
            {
                "items": [
                    {"channel": "email", "external_id": f"<m{i}@x>", "body": "Письмо", "subscriber": subscriber.pk}
                    for i in range(3)
                ]
            },
            format="json",
        )
    assert process_inbound.apply().get() == {"done": 3, "failed": 0}
    assert not PendingInbound.objects.filter(state="pending").exists()
