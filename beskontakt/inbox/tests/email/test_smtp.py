"""Outbound e-mail over a real SMTP server (aiosmtpd): headers, parts, threading, errors."""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from beskontakt.cases import actions
from beskontakt.cases.models import Case, Message
from beskontakt.inbox import outbox
from beskontakt.inbox.email import intake
from beskontakt.inbox.models import OutboundMessage
from beskontakt.inbox.notifiers import PermanentFailure, TemporaryFailure
from beskontakt.inbox.notifiers.email import EmailNotifier, message_id_for
from beskontakt.subscribers.models import Channel, ContactPoint

from .mails import CARE, PNG, SUBSCRIBER_EMAIL, mail
from .servers import SmtpServer

pytestmark = pytest.mark.django_db


def _received(smtp: SmtpServer, index: int = -1) -> EmailMessage:
    content = smtp.received[index].content
    return email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[return-value]


def _case_from_mail(email_contact: ContactPoint) -> tuple[Case, Message]:
    first = intake.ingest(mail(message_id="<in-1@example.ru>"))
    second = intake.ingest(mail(message_id="<in-2@example.ru>", in_reply_to="<in-1@example.ru>"))
    assert isinstance(first, Message) and isinstance(second, Message)
    return first.case, second


def test_reply_is_sent_with_threading_headers_and_both_parts(
    smtp: SmtpServer, email_contact: ContactPoint, agent: Any
) -> None:
    case, _last_in = _case_from_mail(email_contact)
    answer = actions.reply(case, by=agent, body="Здравствуйте!\nПерезагрузите роутер.\n\nС уважением, <поддержка>")
    item = OutboundMessage.objects.get(message=answer)
    assert item.address == "Maria.Ivanova@Example.ru"
    assert outbox.deliver(item.pk) == OutboundMessage.Status.DELIVERED

    assert len(smtp.received) == 1
    envelope = smtp.received[0]
    assert envelope.mail_from == CARE
    assert envelope.rcpt_tos == ["Maria.Ivanova@Example.ru"]
    sent = _received(smtp)
    expected_id = message_id_for(item.key)
    assert sent["Message-ID"] == expected_id
    assert sent["Subject"] == f"Re: Не работает интернет [#{case.pk}]"
    assert sent["In-Reply-To"] == "<in-2@example.ru>"
    assert sent["References"].split() == ["<in-1@example.ru>", "<in-2@example.ru>"]
    assert CARE in sent["From"]
    assert "Auto-Submitted" not in sent
    plain = sent.get_body(("plain",))
    html = sent.get_body(("html",))
    assert plain is not None and html is not None
    assert "Перезагрузите роутер." in plain.get_content()
    assert "Здравствуйте!<br>" in html.get_content()
    assert "&lt;поддержка&gt;" in html.get_content()

    item.refresh_from_db()
    answer.refresh_from_db()
    assert item.provider_id == expected_id
    assert answer.external_id == expected_id
    assert answer.delivery == Message.Delivery.DELIVERED


def test_same_message_id_on_a_repeated_send(smtp: SmtpServer, email_contact: ContactPoint, agent: Any) -> None:
    case, _ = _case_from_mail(email_contact)
    answer = actions.reply(case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=answer)
    first = EmailNotifier().send(item)
    second = EmailNotifier().send(item)  # the worker died after sending, before recording it
    assert first == second
    assert [_received(smtp, i)["Message-ID"] for i in (0, 1)] == [first, first]


def test_subscriber_answer_threads_back_into_the_case(
    smtp: SmtpServer, email_contact: ContactPoint, agent: Any
) -> None:
    case, _ = _case_from_mail(email_contact)
    actions.open_case(subject="Другое обращение", channel=Channel.EMAIL, subscriber=email_contact.subscriber)
    answer = actions.reply(case, by=agent, body="Ответ")
    outbox.deliver(OutboundMessage.objects.get(message=answer).pk)
    sent = _received(smtp)
    back = intake.ingest(
        mail(
            message_id="<in-3@example.ru>",
            subject=str(sent["Subject"]),
            in_reply_to=str(sent["Message-ID"]),
            references=[*str(sent["References"]).split(), str(sent["Message-ID"])],
        )
    )
    assert isinstance(back, Message)
    assert back.case_id == case.pk


def test_attachments_are_sent(smtp: SmtpServer, email_contact: ContactPoint, agent: Any) -> None:
    case, _ = _case_from_mail(email_contact)
    upload = SimpleUploadedFile("схема.png", PNG, "image/png")
    answer = actions.reply(case, by=agent, body="Схема подключения во вложении.", attachments=[upload])
    item = OutboundMessage.objects.get(message=answer)
    assert item.payload["attachments"]
    outbox.deliver(item.pk)
    sent = _received(smtp)
    files = list(sent.iter_attachments())
    assert [(f.get_filename(), f.get_content_type(), f.get_content()) for f in files] == [
        ("схема.png", "image/png", PNG)
    ]
    assert sent.get_body(("plain",)) is not None and sent.get_body(("html",)) is not None


def test_notice_without_case(smtp: SmtpServer, email_contact: ContactPoint) -> None:
    item = outbox.enqueue(
        channel=Channel.EMAIL,
        body="Плановые работы завтра с 2:00 до 4:00.",
        subject="Плановые работы",
        subscriber=email_contact.subscriber,
        key="notice:works:1",
    )
    assert outbox.deliver(item.pk) == OutboundMessage.Status.DELIVERED
    sent = _received(smtp)
    assert sent["Subject"] == "Плановые работы"
    assert sent["Auto-Submitted"] == "auto-generated"
    assert "In-Reply-To" not in sent and "References" not in sent


def test_refused_recipient_is_a_permanent_failure(smtp: SmtpServer, email_contact: ContactPoint, agent: Any) -> None:
    smtp.handler.refuse["example.ru"] = "550 5.1.1 <maria.ivanova@example.ru>: Recipient address rejected"
    case, _ = _case_from_mail(email_contact)
    answer = actions.reply(case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=answer)
    with pytest.raises(PermanentFailure, match=r"550 5\.1\.1"):
        EmailNotifier().send(item)
    assert outbox.deliver(item.pk) == OutboundMessage.Status.FAILED
    answer.refresh_from_db()
    assert answer.delivery == Message.Delivery.FAILED
    assert "Recipient address rejected" in answer.delivery_error
    assert smtp.received == []


def test_greylisting_is_temporary(smtp: SmtpServer, email_contact: ContactPoint, agent: Any) -> None:
    smtp.handler.refuse["example.ru"] = "450 4.2.0 Greylisted, try again later"
    case, _ = _case_from_mail(email_contact)
    item = OutboundMessage.objects.get(message=actions.reply(case, by=agent, body="Ответ"))
    with pytest.raises(TemporaryFailure, match="450"):
        EmailNotifier().send(item)
    assert outbox.deliver(item.pk) == OutboundMessage.Status.PENDING


def test_unreachable_server_is_temporary(smtp: SmtpServer, settings: Any, email_contact: ContactPoint) -> None:
    # A port held by a socket that never listens: connecting is refused, and no parallel
    # test can start a server on it meanwhile.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = holder.getsockname()[1]
        settings.EMAIL_TIMEOUT = 2
        item = outbox.enqueue(channel=Channel.EMAIL, body="x", subscriber=email_contact.subscriber, key="n:2")
        with pytest.raises(TemporaryFailure):
            EmailNotifier().send(item)


def test_not_an_address_is_permanent(smtp: SmtpServer, db: Any) -> None:
    item = outbox.enqueue(channel=Channel.EMAIL, body="x", address="not-an-address", key="n:3")
    with pytest.raises(PermanentFailure):
        EmailNotifier().send(item)


def test_unknown_sender_is_answered_at_their_address(smtp: SmtpServer, agent: Any) -> None:
    first = intake.ingest(mail(sender="guest@example.org", message_id="<guest@example.org>"))
    assert isinstance(first, Message)
    answer = actions.reply(first.case, by=agent, body="Укажите номер договора, пожалуйста.")
    outbox.deliver(OutboundMessage.objects.get(message=answer).pk)
    assert smtp.received[-1].rcpt_tos == ["guest@example.org"]
    assert _received(smtp)["In-Reply-To"] == "<guest@example.org>"


def test_subscriber_email_constant_matches_contact(email_contact: ContactPoint) -> None:
    assert email_contact.normalized == SUBSCRIBER_EMAIL
