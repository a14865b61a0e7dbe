"""Files through the API: multipart upload on a case's messages, listing, download per role."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from beskontakt.accounts.roles import Role
from beskontakt.cases.models import Attachment, Case, Message
from beskontakt.cases.tests.files import EXE, HTML, JPEG, PDF, PNG, SVG, TEXT, upload

from .conftest import World

pytestmark = pytest.mark.django_db


def _body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def _post(world: World, role: str, case: Case, **data: object) -> object:
    return world.client(role).post(f"/api/v1/cases/{case.pk}/messages/", data, format="multipart")


def test_agent_reply_with_files(world: World) -> None:
    response = _post(
        world,
        Role.AGENT,
        world.case,
        body="Инструкция во вложении",
        files=[upload("guide.pdf", PDF), upload("a.png", PNG)],
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["direction"] == "out"
    assert [(a["filename"], a["content_type"]) for a in data["attachments"]] == [
        ("guide.pdf", "application/pdf"),
        ("a.png", "image/png"),
    ]
    first = data["attachments"][0]
    assert first["size"] == len(PDF)
    assert first["download_url"] == f"/api/v1/attachments/{first['id']}/download/"
    listed = world.client(Role.AGENT).get(f"/api/v1/cases/{world.case.pk}/messages/").json()["results"]
    assert any(m["id"] == data["id"] and len(m["attachments"]) == 2 for m in listed)
    download = world.client(Role.SUBSCRIBER).get(first["download_url"])
    assert download.status_code == 200
    assert _body(download) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;") and "guide.pdf" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"


def test_json_reply_without_files_unchanged(world: World) -> None:
    response = world.client(Role.AGENT).post(f"/api/v1/cases/{world.case.pk}/messages/", {"body": "Просто текст"})
    assert response.status_code == 201
    assert response.json()["attachments"] == []


def test_subscriber_portal_message_with_file(world: World) -> None:
    response = _post(world, Role.SUBSCRIBER, world.case, body="Фото роутера", files=[upload("router.jpg", JPEG)])
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["direction"] == "in" and data["channel"] == "portal"
    (attachment,) = data["attachments"]
    assert attachment["content_type"] == "image/jpeg"
    # Idempotent with an external id: the repeat stores neither a message nor a file.
    first = _post(world, Role.SUBSCRIBER, world.case, body="Ещё", external_id="k1", files=[upload("a.txt", TEXT)])
    again = _post(world, Role.SUBSCRIBER, world.case, body="Ещё", external_id="k1", files=[upload("a.txt", TEXT)])
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotency-Replayed"] == "true"
    assert Attachment.objects.filter(message_id=first.json()["id"]).count() == 1


def test_subscriber_cannot_post_files_to_another_case(world: World) -> None:
    response = _post(world, Role.SUBSCRIBER, world.other_case, body="x", files=[upload("a.txt", TEXT)])
    assert response.status_code == 404
    assert not Attachment.objects.filter(message__case=world.other_case).exclude(pk=world.other_attachment.pk).exists()


def test_technician_cannot_reply_with_files(world: World) -> None:
    response = _post(world, Role.TECHNICIAN, world.technician_case, body="x", files=[upload("a.txt", TEXT)])
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "data"),
    [("photo.jpg", EXE), ("photo.jpg", HTML), ("logo.png", SVG), ("report.pdf", b"\x00\x01\x02binary")],
)
def test_disguised_file_is_400_naming_it(world: World, name: str, data: bytes) -> None:
    before = Message.objects.count()
    response = _post(world, Role.AGENT, world.case, body="x", files=[SimpleUploadedFile(name, data, "image/jpeg")])
    assert response.status_code == 400
    (text,) = response.json()["files"]
    assert name in text and "JPEG" in text and "PDF" in text
    assert Message.objects.count() == before


def test_too_many_files_is_400(world: World) -> None:
    files = [upload(f"{i}.txt", TEXT) for i in range(6)]
    response = _post(world, Role.AGENT, world.case, body="x", files=files)
    assert response.status_code == 400
    assert "files" in response.json()


def test_oversize_file_is_400(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from beskontakt.cases import attachments

    monkeypatch.setattr(attachments, "MAX_FILE_SIZE", 100)
    response = _post(world, Role.AGENT, world.case, body="x", files=[upload("big.txt", b"a" * 101)])
    assert response.status_code == 400
    assert "big.txt" in response.json()["files"][0]


def test_empty_file_is_400(world: World) -> None:
    response = _post(world, Role.AGENT, world.case, body="x", files=[upload("empty.txt", b"")])
    assert response.status_code == 400
    assert "files" in response.json()


def test_path_traversal_name_is_cleaned(world: World) -> None:
    response = _post(world, Role.AGENT, world.case, body="x", files=[upload("../../../etc/passwd", TEXT)])
    assert response.status_code == 201
    (attachment,) = response.json()["attachments"]
    assert attachment["filename"] == "passwd"
    stored = Attachment.objects.get(pk=attachment["id"])
    assert ".." not in stored.file.name and "passwd" not in stored.file.name


@pytest.mark.parametrize(
    ("role", "own", "other"),
    [
        (Role.AGENT, 200, 200),
        (Role.SUPERVISOR, 200, 200),
        (Role.NOC, 200, 200),
        (Role.ADMIN, 200, 200),
        (Role.TECHNICIAN, 404, 404),  # neither case is assigned to them
        (Role.SUBSCRIBER, 200, 404),  # never another subscriber's file
    ],
)
def test_download_permission_per_role(world: World, role: str, own: int, other: int) -> None:
    client = world.client(role)
    assert client.get(f"/api/v1/attachments/{world.attachment.pk}/download/").status_code == own
    response = client.get(f"/api/v1/attachments/{world.other_attachment.pk}/download/")
    assert response.status_code == other
    if other == 404:
        assert world.other_attachment.filename not in response.content.decode()


def test_technician_downloads_files_of_assigned_case(world: World) -> None:
    response = _post(world, Role.AGENT, world.technician_case, body="Схема", files=[upload("plan.pdf", PDF)])
    attachment_id = response.json()["attachments"][0]["id"]
    assert world.client(Role.TECHNICIAN).get(f"/api/v1/attachments/{attachment_id}/download/").status_code == 200


def test_download_anonymous_and_unknown(world: World) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(f"/api/v1/attachments/{world.attachment.pk}/download/").status_code in (401, 403)
    assert world.client(Role.AGENT).get("/api/v1/attachments/999999/download/").status_code == 404


def test_download_accepts_any_accept_header(world: World) -> None:
    response = world.client(Role.AGENT).get(
        f"/api/v1/attachments/{world.other_attachment.pk}/download/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    missing = world.client(Role.AGENT).get("/api/v1/attachments/999999/download/", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404


def test_subscriber_message_list_shows_own_files_only(world: World) -> None:
    data = world.client(Role.SUBSCRIBER).get(f"/api/v1/cases/{world.case.pk}/messages/").json()["results"]
    files = [a["filename"] for m in data for a in m["attachments"]]
    assert files == [world.attachment.filename]


def test_inbound_intake_is_json_only(world: World) -> None:
    client = world.client(Role.ADMIN)
    response = client.post(
        "/api/v1/messages/inbound/",
        {"channel": "telegram", "external_id": "tg-file-1", "body": "x", "files": [upload("a.txt", TEXT)]},
        format="multipart",
    )
    assert response.status_code == 415


def test_schema_documents_upload_and_download() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/cases/{id}/messages/"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    download = schema["paths"]["/api/v1/attachments/{id}/download/"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
    inbound = schema["paths"]["/api/v1/messages/inbound/"]["post"]["requestBody"]["content"]
    assert set(inbound) == {"application/json"}
