"""The IMAP poller against a real dovecot: cursor, UIDVALIDITY, \\Seen, IDLE, sizes, the command."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from imapclient import IMAPClient

from beskontakt.cases.models import Case, Message
from beskontakt.inbox import tasks
from beskontakt.inbox.email import intake, parse, poller
from beskontakt.inbox.models import MailboxCursor, RejectedInbound
from beskontakt.subscribers.models import ContactPoint

from .conftest import Mailbox
from .mails import bounce, mail

pytestmark = pytest.mark.django_db


def test_new_mail_becomes_a_case_and_is_flagged_seen(mailbox: Mailbox, email_contact: ContactPoint) -> None:
    uid = mailbox.append(mail(message_id="<imap-1@example.ru>"))
    assert poller.poll_once() == 1
    message = Message.objects.get(external_id="<imap-1@example.ru>")
    assert message.case.subscriber == email_contact.subscriber
    assert b"\\Seen" in mailbox.flags()[uid]
    cursor = MailboxCursor.objects.get()
    assert cursor.last_uid == uid
    assert cursor.uidvalidity == mailbox.uidvalidity()
    assert cursor.polled_at is not None and cursor.error == ""


def test_threading_through_the_mailbox(mailbox: Mailbox, email_contact: ContactPoint) -> None:
    mailbox.append(mail(message_id="<th-1@example.ru>"))
    mailbox.append(mail(message_id="<th-2@example.ru>", subject="Re: x", in_reply_to="<th-1@example.ru>"))
    mailbox.append(mail(message_id="<th-3@example.ru>", subject="Fwd: y", references=["<th-2@example.ru>"]))
    assert poller.poll_once() == 3
    case = Case.objects.get()
    mailbox.append(mail(message_id="<th-4@example.ru>", subject=f"Ещё вопрос {parse.case_tag(case.pk)}"))
    assert poller.poll_once() == 1
    assert Case.objects.count() == 1
    assert case.messages.count() == 4


def test_repeated_fetch_makes_no_duplicates(mailbox: Mailbox, email_contact: ContactPoint) -> None:
    raw = mail(message_id="<dup@example.ru>")
    mailbox.append(raw)
    assert poller.poll_once() == 1
    assert poller.poll_once() == 0  # nothing new
    MailboxCursor.objects.update(last_uid=0)  # as if the cursor had not been saved
    mailbox.append(raw)  # and the same e-mail delivered twice
    assert poller.poll_once() == 2
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_cursor_survives_a_restart(mailbox: Mailbox, email_contact: ContactPoint) -> None:
    mailbox.append(mail(message_id="<c1@example.ru>"))
    assert poller.poll_once() == 1
    connection.close()  # a new process: nothing in memory, a new connection
    mailbox.append(mail(message_id="<c2@example.ru>", in_reply_to="<c1@example.ru>"))
    mailbox.append(mail(message_id="<c3@example.ru>", in_reply_to="<c2@example.ru>"))
    assert poller.poll_once() == 2
    assert Message.objects.count() == 3


def test_crash_during_a_batch_loses_nothing(
    mailbox: Mailbox, email_contact: ContactPoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    uids = [mailbox.append(mail(message_id=f"<crash-{i}@example.ru>")) for i in range(3)]
    real = intake.Intake.ingest
    calls = {"n": 0}

    def dies_on_second(self: intake.Intake, index: int, *, uid: str | None = None) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("worker killed")
        return real(self, index, uid=uid)

    monkeypatch.setattr(intake.Intake, "ingest", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        poller.poll_once()
    assert MailboxCursor.objects.get().last_uid < uids[1]  # never past an e-mail not stored
    assert not any(b"\\Seen" in f for f in mailbox.flags().values())  # nothing marked read yet
    monkeypatch.setattr(intake.Intake, "ingest", real)
    assert poller.poll_once() == 3  # the batch again; what was stored before the crash is a no-op
    assert Message.objects.count() == 3


def test_uidvalidity_change_reads_the_folder_again(mailbox: Mailbox, email_contact: ContactPoint) -> None:
    mailbox.append(mail(message_id="<v1@example.ru>"))
    assert poller.poll_once() == 1
    before = MailboxCursor.objects.get().uidvalidity
    mailbox.recreate()  # the server renumbered the folder
    mailbox.append(mail(message_id="<v1@example.ru>"))  # the old mail again, with UID 1
    mailbox.append(mail(message_id="<v2@example.ru>"))
    assert poller.poll_once() == 2
    cursor = MailboxCursor.objects.get()
    assert cursor.uidvalidity != before
    assert cursor.last_uid == 2
    assert set(Message.objects.values_list("external_id", flat=True)) == {"<v1@example.ru>", "<v2@example.ru>"}


def test_auto_replies_bounces_and_broken_mail(mailbox: Mailbox, email_contact: ContactPoint) -> None:
    mailbox.append(mail(message_id="<ar@x>", headers={"Auto-Submitted": "auto-replied"}))
    mailbox.append(bounce("<nothing@x>"))
    mailbox.append(b"Subject: =?utf-8?Q?=FF?=\r\nContent-Type: text/plain; charset=nope\r\n\r\n\xff\xfe")
    mailbox.append(b"From: a@example.ru\r\nX-Huge: " + b"h" * (parse.MAX_HEADER_BYTES + 100) + b"\r\n\r\nx")
    mailbox.append(mail(message_id="<ok@x>"))
    assert poller.poll_once() == 5
    assert Case.objects.count() == 1
    reasons = sorted(RejectedInbound.objects.values_list("reason", flat=True))
    assert reasons == ["auto_reply", "bounce", "malformed", "too_large"]


def test_too_large_mail_is_not_downloaded(
    mailbox: Mailbox, email_contact: ContactPoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(poller, "MAX_MESSAGE_BYTES", 2000)
    mailbox.append(mail(message_id="<big@example.ru>", body="Большое письмо. " * 500))
    assert poller.poll_once() == 1
    refused = RejectedInbound.objects.get()
    assert refused.reason == RejectedInbound.Reason.TOO_LARGE
    assert refused.external_id == "<big@example.ru>"
    assert refused.sender == "maria.ivanova@example.ru"
    assert Case.objects.count() == 0


def test_many_messages_in_batches(mailbox: Mailbox, email_contact: ContactPoint, monkeypatch: Any) -> None:
    monkeypatch.setattr(poller, "BATCH", 7)
    for i in range(20):
        mailbox.append(mail(message_id=f"<batch-{i}@example.ru>", subject=f"Вопрос {i}"))
    assert poller.poll_once() == 20
    assert Message.objects.count() == 20
    assert MailboxCursor.objects.get().last_uid == 20


def test_the_celery_task_and_the_command(mailbox: Mailbox, email_contact: ContactPoint, settings: Any) -> None:
    mailbox.append(mail(message_id="<task@example.ru>"))
    assert tasks.poll_mailbox.run() == 1
    mailbox.append(mail(message_id="<cmd@example.ru>"))
    call_command("mail_poll", "--once", verbosity=0)
    assert Message.objects.count() == 2
    settings.IMAP_HOST = ""
    assert tasks.poll_mailbox.run() == 0


def test_unreachable_server_is_recorded(mailbox: Mailbox, settings: Any) -> None:
    MailboxCursor.objects.create(name=poller.cursor_name())
    settings.IMAP_PASSWORD = "wrong"
    with pytest.raises(poller.NETWORK_ERRORS):
        poller.poll_once()
    assert MailboxCursor.objects.get().error


@pytest.mark.django_db(transaction=True)
def test_idle_wakes_on_new_mail(mailbox: Mailbox, email_contact: ContactPoint) -> None:
    stop = threading.Event()
    rounds: list[int] = []

    def run() -> None:
        try:
            poller.idle_loop(stop, poll_seconds=3600, on_round=rounds.append)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not rounds and time.monotonic() < deadline:  # the first read, then IDLE
            time.sleep(0.05)
        assert rounds == [0]
        time.sleep(0.3)
        sent = time.monotonic()
        mailbox.append(mail(message_id="<idle@example.ru>"))
        while not Message.objects.filter(external_id="<idle@example.ru>").exists():
            assert time.monotonic() - sent < 5, "IDLE did not wake up on new mail"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert sum(rounds) == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_intake_keeps_conversations_in_order(
    mailbox: Mailbox, email_contact: ContactPoint, settings: Any
) -> None:
    settings.EMAIL_INTAKE_THREADS = 3  # (SQLite takes them in on one thread anyway)
    expected: dict[str, str] = {}
    for n in range(6):
        root = f"<conv-{n}@example.org>"
        mailbox.append(mail(sender=f"guest{n}@example.org", message_id=root, subject=f"Тема {n}"))
        expected[root] = root
        parent = root
        for k in range(3):
            own = f"<conv-{n}-{k}@example.org>"
            mailbox.append(mail(sender=f"guest{n}@example.org", message_id=own, in_reply_to=parent))
            expected[own], parent = root, own
    for k in range(4):  # the matched subscriber writes new threads: they join the subscriber's active case
        mailbox.append(mail(message_id=f"<sub-{k}@example.ru>", subject=f"Вопрос {k}"))
    assert poller.poll_once() == 28
    case_of = dict(Message.objects.values_list("external_id", "case_id"))
    assert len(case_of) == 28
    for own, root in expected.items():
        assert case_of[own] == case_of[root], own
    assert len({case_of[f"<sub-{k}@example.ru>"] for k in range(4)}) == 1
    assert Case.objects.count() == 7


def test_lanes_group_what_must_stay_in_order(email_contact: ContactPoint) -> None:
    raws = [
        mail(sender="a@example.org", message_id="<a1@x>"),
        mail(sender="b@example.org", message_id="<b1@x>"),
        mail(sender="c@example.org", message_id="<c1@x>", in_reply_to="<a1@x>"),
        mail(sender="a@example.org", message_id="<a2@x>"),
        mail(message_id="<m1@x>"),
        mail(sender="d@example.org", message_id="<d1@x>", subject="Re: [#77]"),
        mail(sender="e@example.org", message_id="<e1@x>", subject="Re: [#77]"),
    ]
    assert sorted(intake.Intake(raws).lanes()) == [[0, 2, 3], [1], [4], [5, 6]]


@pytest.mark.django_db(transaction=True)
def test_without_idle_the_loop_polls(
    mailbox: Mailbox, email_contact: ContactPoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = IMAPClient.capabilities
    monkeypatch.setattr(IMAPClient, "capabilities", lambda self: tuple(c for c in real(self) if c != b"IDLE"))
    monkeypatch.setattr(IMAPClient, "idle", lambda self: pytest.fail("IDLE used although not announced"))
    stop = threading.Event()
    rounds: list[int] = []

    def run() -> None:
        try:
            poller.idle_loop(stop, poll_seconds=0.3, on_round=rounds.append)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        mailbox.append(mail(message_id="<polled@example.ru>"))
        deadline = time.monotonic() + 10
        while not Message.objects.filter(external_id="<polled@example.ru>").exists():
            assert time.monotonic() < deadline, "polling did not read the new mail"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert len(rounds) >= 1
