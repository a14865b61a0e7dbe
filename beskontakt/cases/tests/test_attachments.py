"""Attachments: content-based type checks, limits, clean names, storing with a reply, the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified
from beskontakt.cases import actions
from beskontakt.cases import attachments as case_files
from beskontakt.cases.models import Attachment, Case, Event, Message

from .files import ELF, EXE, GIF, HTML, JPEG, PDF, PNG, SVG, SVG_BARE, TEXT, WEBP, upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (TEXT, "text/plain"),
        (b"\xef\xbb\xbfhello\r\n", "text/plain"),
        (EXE, None),
        (ELF, None),
        (HTML, None),
        (SVG, None),
        (SVG_BARE, None),
        (b"#!/bin/sh\nrm -rf /\n", None),
        (b"\xff\xfe\x00bad utf-8 \xc3", None),
        (b"text with \x1b[31m escape", None),
    ],
)
def test_type_comes_from_content(data: bytes, expected: str | None) -> None:
    # The declared type and the name say JPEG every time: only the bytes count.
    assert case_files.detect_type(upload("photo.jpg", data, "image/jpeg")) == expected


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\agent\\scan.pdf", "scan.pdf"),
        ("..", "file"),
        ("", "file"),
        (".htaccess", "htaccess"),
        ("bad\x00name\r\n.txt", "badname.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("  many   spaces .png ", "many spaces .png"),
    ],
)
def test_names_are_cleaned(raw: str, clean: str) -> None:
    assert case_files.clean_filename(raw) == clean


def test_long_names_keep_their_extension() -> None:
    name = case_files.clean_filename("я" * 300 + ".pdf")
    assert len(name) == case_files.MAX_NAME_LENGTH
    assert name.endswith(".pdf")


def test_reply_with_files_stores_them_under_random_names(case: Case, agent: User) -> None:
    message = actions.reply(
        case,
        by=agent,
        body="Посмотрите инструкцию",
        attachments=[upload("../../инструкция.pdf", PDF, "text/html"), upload("роутер.png", PNG)],
    )
    files = list(message.attachments.order_by("pk"))
    assert [(a.filename, a.content_type, a.size) for a in files] == [
        ("инструкция.pdf", "application/pdf", len(PDF)),
        ("роутер.png", "image/png", len(PNG)),
    ]
    for attachment in files:
        stored = Path(attachment.file.path)
        assert stored.read_bytes() in (PDF, PNG)
        assert attachment.filename not in attachment.file.name
        assert attachment.file.name.startswith("attachments/") and f"/{case.pk}/" in attachment.file.name
        assert ".." not in attachment.file.name
    event = Event.objects.get(case=case, kind=Event.Kind.MESSAGE_OUT, data__message=message.pk)
    assert event.data["attachments"] == 2


def test_reply_without_files_still_works(case: Case, agent: User) -> None:
    message = actions.reply(case, by=agent, body="Без файлов")
    assert message.attachments.count() == 0


def test_oversize_file_is_refused_and_nothing_stored(case: Case, agent: User, monkeypatch: Any) -> None:
    monkeypatch.setattr(case_files, "MAX_FILE_SIZE", 1000)
    before = Message.objects.count()
    with pytest.raises(ValidationError) as error:
        actions.reply(case, by=agent, body="x", attachments=[upload("big.pdf", PDF + b"0" * 2000)])
    (text,) = error.value.message_dict["files"]
    assert "big.pdf" in text
    assert Message.objects.count() == before
    assert Attachment.objects.count() == 0


def test_real_size_limit_is_ten_megabytes(case: Case, agent: User) -> None:
    big = upload("big.txt", b"a" * (case_files.MAX_FILE_SIZE + 1))
    with pytest.raises(ValidationError) as error:
        case_files.check_files([big])
    assert "big.txt" in error.value.message_dict["files"][0]
    assert case_files.MAX_FILE_SIZE == 10 * 1024 * 1024


def test_too_many_files(case: Case, agent: User) -> None:
    files = [upload(f"{i}.txt", TEXT) for i in range(case_files.MAX_FILES + 1)]
    with pytest.raises(ValidationError) as error:
        actions.reply(case, by=agent, body="x", attachments=files)
    assert "5" in error.value.message_dict["files"][0]
    assert Attachment.objects.count() == 0


def test_disguised_file_is_named_in_the_error(case: Case, agent: User) -> None:
    with pytest.raises(ValidationError) as error:
        actions.reply(
            case,
            by=agent,
            body="x",
            attachments=[upload("ok.txt", TEXT), upload("photo.jpg", EXE, "image/jpeg"), upload("pic.png", SVG)],
        )
    messages = error.value.message_dict["files"]
    assert len(messages) == 2
    assert "photo.jpg" in messages[0] and "JPEG" in messages[0] and "PDF" in messages[0]
    assert "pic.png" in messages[1]
    assert Attachment.objects.count() == 0


def test_inbound_message_with_files_is_idempotent(case: Case) -> None:
    message, created = actions.receive_message_with_attachments(
        attachments=[upload("screen.jpg", JPEG)],
        channel="portal",
        external_id="portal-1",
        body="Вот скриншот",
        case=case,
        subscriber=case.subscriber,
    )
    assert created and message.attachments.get().content_type == "image/jpeg"
    again, created = actions.receive_message_with_attachments(
        attachments=[upload("other.jpg", JPEG)],
        channel="portal",
        external_id="portal-1",
        body="Вот скриншот",
        case=case,
        subscriber=case.subscriber,
    )
    assert not created and again.pk == message.pk
    assert Attachment.objects.count() == 1
    event = Event.objects.get(kind=Event.Kind.MESSAGE_IN, data__message=message.pk)
    assert event.data["attachments"] == 1


# --- Workspace -----------------------------------------------------------------------------


@pytest.fixture
def agent_client(client: Client, agent: User) -> Client:
    login_verified(client, agent)
    return client


def test_composer_uploads_and_timeline_shows_the_file(agent_client: Client, case: Case) -> None:
    page = agent_client.get(f"/cases/{case.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'type="file" name="attachments"' in page
    response = agent_client.post(
        f"/cases/{case.pk}/reply/", {"body": "Схема подключения", "attachments": [upload("схема.pdf", PDF)]}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    page = agent_client.get(f"/cases/{case.pk}/").content.decode()
    assert "схема.pdf" in page
    assert f'href="/cases/attachments/{attachment.pk}/"' in page
    download = agent_client.get(f"/cases/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_composer_shows_refused_file_as_form_error(agent_client: Client, case: Case) -> None:
    response = agent_client.post(
        f"/cases/{case.pk}/reply/", {"body": "Ответ", "attachments": [upload("photo.jpg", HTML, "image/jpeg")]}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="attachments"' in html and "photo.jpg" in html
    assert Message.objects.filter(case=case, direction=Message.Direction.OUTBOUND).count() == 0


def test_composer_too_many_files_is_a_form_error(agent_client: Client, case: Case) -> None:
    files = [upload(f"{i}.txt", TEXT) for i in range(6)]
    response = agent_client.post(f"/cases/{case.pk}/reply/", {"body": "Ответ", "attachments": files})
    assert response.status_code == 400
    assert 'data-field="attachments"' in response.content.decode()


def test_staff_download_checks_case_access(client: Client, case: Case, users: dict[str, User]) -> None:
    (attachment,) = case_files.store(case.messages.get(), case_files.check_files([upload("a.txt", TEXT)]))
    Case.objects.filter(pk=case.pk).update(assignee=None)
    login_verified(client, users[Role.TECHNICIAN])
    assert client.get(f"/cases/attachments/{attachment.pk}/").status_code == 404
    assert client.get("/cases/attachments/999999/").status_code == 404
    Case.objects.filter(pk=case.pk).update(assignee=users[Role.TECHNICIAN])
    assert client.get(f"/cases/attachments/{attachment.pk}/").status_code == 200


def test_subscriber_cannot_use_staff_download(client: Client, case: Case, users: dict[str, User]) -> None:
    (attachment,) = case_files.store(case.messages.get(), case_files.check_files([upload("a.txt", TEXT)]))
    client.force_login(users[Role.SUBSCRIBER])
    assert client.get(f"/cases/attachments/{attachment.pk}/").status_code in (302, 403)


def test_missing_file_on_disk_is_404(agent_client: Client, case: Case) -> None:
    (attachment,) = case_files.store(case.messages.get(), case_files.check_files([upload("a.txt", TEXT)]))
    Path(attachment.file.path).unlink()
    assert agent_client.get(f"/cases/attachments/{attachment.pk}/").status_code == 404
