"""Fixtures of the e-mail tests: a real dovecot (IMAP) and a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from imapclient import IMAPClient

from beskontakt.inbox import outbox
from beskontakt.subscribers.models import Channel, ContactPoint, Subscriber

from .mails import CARE, SUBSCRIBER_EMAIL
from .servers import Dovecot, SmtpServer


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One dovecot for the session (fails with the apt-get command when it is not installed)."""
    try:
        server = Dovecot().start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """One recording SMTP server for the session."""
    server = SmtpServer().start()
    yield server
    server.stop()


class Mailbox:
    """A folder of its own on the dovecot server, configured as the care mailbox."""

    def __init__(self, server: Dovecot, folder: str) -> None:
        self.server = server
        self.folder = folder
        self.client: IMAPClient = server.client()
        self.client.create_folder(folder)

    def append(self, raw: bytes, seen: bool = False) -> int:
        """Deliver one e-mail into the folder (IMAP APPEND); returns its UID."""
        answer = self.client.append(self.folder, raw, flags=[b"\\Seen"] if seen else [])
        return int(answer.split(b"]")[0].split()[-1])

    def uidvalidity(self) -> int:
        return int(self.client.folder_status(self.folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def recreate(self) -> None:
        """Delete the folder and make it again: a new UIDVALIDITY, UIDs from 1."""
        self.client.delete_folder(self.folder)
        self.client.create_folder(self.folder)

    def flags(self) -> dict[int, tuple[bytes, ...]]:
        self.client.select_folder(self.folder, readonly=True)
        found = self.client.fetch(self.client.search(["ALL"]), ["FLAGS"])
        self.client.unselect_folder()
        return {uid: data[b"FLAGS"] for uid, data in found.items()}

    def close(self) -> None:
        try:
            self.client.delete_folder(self.folder)
        finally:
            self.client.logout()


@pytest.fixture
def mailbox(dovecot: Dovecot, settings: Any) -> Iterator[Mailbox]:
    """An empty folder, with the IMAP_* settings pointing at it."""
    box = Mailbox(dovecot, f"T{uuid.uuid4().hex[:12]}")
    settings.IMAP_HOST = "127.0.0.1"
    settings.IMAP_PORT = dovecot.port
    settings.IMAP_SSL = False
    settings.IMAP_USER = dovecot.user
    settings.IMAP_PASSWORD = dovecot.password
    settings.IMAP_FOLDER = box.folder
    settings.EMAIL_INTAKE_THREADS = 1  # the test's transaction is invisible to other threads' connections
    yield box
    box.close()


@pytest.fixture
def smtp(smtp_server: SmtpServer, settings: Any) -> SmtpServer:
    """The SMTP server, emptied, with EMAIL_* pointing at it."""
    smtp_server.clear()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_USE_TLS = False
    settings.CARE_EMAIL_ADDRESS = CARE
    return smtp_server


@pytest.fixture(autouse=True)
def _quiet_outbox(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Any) -> None:
    """Deliveries run explicitly in tests (no Celery); files go to a temporary folder."""
    monkeypatch.setattr(outbox, "_schedule", lambda item_id: None)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.OUTBOX_FILE_DIR = ""


@pytest.fixture
def email_contact(subscriber: Subscriber) -> ContactPoint:
    """The subscriber's e-mail address (mixed case, as people type it)."""
    return ContactPoint.objects.create(
        subscriber=subscriber, channel=Channel.EMAIL, value="Maria.Ivanova@Example.ru", consent=True
    )


__all__ = ["SUBSCRIBER_EMAIL", "Mailbox"]
