"""One subscriber never reaches another's cases, files or restrictions: a foreign id is a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from beskontakt.cases import actions as case_actions
from beskontakt.cases.models import Case
from beskontakt.cases.tests.files import JPEG, upload
from beskontakt.subscribers.models import Subscriber

from .conftest import portal_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def their_case(other_subscriber: Subscriber) -> Case:
    """A case of the other subscriber with a photo."""
    message, _created = case_actions.receive_message_with_attachments(
        attachments=[upload("их-роутер.jpg", JPEG, "image/jpeg")],
        channel="portal",
        external_id="their-1",
        body="Секрет соседа",
        subscriber=other_subscriber,
    )
    return message.case


def test_another_subscribers_case_and_file_are_404(portal_client: Client, their_case: Case) -> None:
    attachment = their_case.messages.get().attachments.get()
    assert portal_client.get(f"/my/cases/{their_case.pk}/").status_code == 404
    assert portal_client.get(f"/my/cases/{their_case.pk}/", HTTP_HX_REQUEST="true").status_code == 404
    response = portal_client.post(f"/my/cases/{their_case.pk}/message/", {"token": "a" * 32, "body": "Привет"})
    assert response.status_code == 404
    assert portal_client.get(f"/my/files/{attachment.pk}/").status_code == 404
    assert their_case.messages.count() == 1
    assert portal_client.get("/my/cases/999999/").status_code == 404


def test_own_file_downloads_safely(portal_client: Client, subscriber: Subscriber, their_case: Case) -> None:
    message, _created = case_actions.receive_message_with_attachments(
        attachments=[upload("мой.jpg", JPEG, "image/jpeg")],
        channel="portal",
        external_id="mine-1",
        body="Фото",
        subscriber=subscriber,
    )
    attachment = message.attachments.get()
    response = portal_client.get(f"/my/files/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")


def test_each_subscriber_sees_only_their_own(
    client: Client, subscriber: Subscriber, their_case: Case, users: Any
) -> None:
    other = Client()
    portal_login(other, Subscriber.objects.get(pk=their_case.subscriber_id))
    assert other.get(f"/my/cases/{their_case.pk}/").status_code == 200
    portal_login(client, subscriber)
    assert client.get(f"/my/cases/{their_case.pk}/").status_code == 404
    assert "Секрет соседа" not in client.get("/my/").content.decode()
