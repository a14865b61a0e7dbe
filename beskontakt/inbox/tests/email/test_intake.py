"""E-mail into cases (no IMAP here): threading, matching, refusals, repeats, files."""

from __future__ import annotations

from typing import Any

import pytest

from beskontakt.cases import actions
from beskontakt.cases.models import Case, Message
from beskontakt.inbox.email import intake
from beskontakt.inbox.email.parse import MAX_HEADER_BYTES
from beskontakt.inbox.models import OutboundMessage, RejectedInbound
from beskontakt.subscribers.models import Channel, ContactPoint

from .mails import EXE, PNG, bounce, mail

pytestmark = pytest.mark.django_db


def test_new_mail_opens_a_case_for_the_matched_subscriber(email_contact: ContactPoint) -> None:
    result = intake.ingest(mail(message_id="<first@example.ru>"))
    assert isinstance(result, Message)
    case = result.case
    assert case.subscriber == email_contact.subscriber
    assert case.channel == Channel.EMAIL
    assert case.subject == "Не работает интернет"
    assert result.external_id == "<first@example.ru>"
    assert result.sender == "maria.ivanova@example.ru"
    assert result.body.startswith("Здравствуйте!")


def test_unknown_sender_opens_a_case_without_subscriber(db: Any) -> None:
    result = intake.ingest(mail(sender="stranger@example.org", message_id="<s1@example.org>"))
    assert isinstance(result, Message)
    assert result.case.subscriber is None
    assert result.sender == "stranger@example.org"


def test_repeat_is_a_no_op(email_contact: ContactPoint) -> None:
    raw = mail(message_id="<again@example.ru>")
    first = intake.ingest(raw)
    second = intake.ingest(raw)
    assert isinstance(first, Message) and isinstance(second, Message)
    assert first.pk == second.pk
    assert Message.objects.count() == 1 and Case.objects.count() == 1


def test_repeat_without_message_id_is_a_no_op(email_contact: ContactPoint) -> None:
    raw = mail(message_id="")
    first = intake.ingest(raw)
    second = intake.ingest(b"Received: from relay by mx; Thu, 20 Nov 2026 10:00:00 +0300\r\n" + raw)
    assert isinstance(first, Message) and isinstance(second, Message)
    assert first.pk == second.pk
    assert first.external_id is not None and first.external_id.endswith("@no-message-id.invalid>")


def _unrelated_case(subscriber: Any) -> Case:
    """An older active e-mail case of the subscriber, so threading must pick the right one."""
    return actions.open_case(subject="Другой вопрос", channel=Channel.EMAIL, subscriber=subscriber)


def test_reply_threads_by_in_reply_to(email_contact: ContactPoint) -> None:
    first = intake.ingest(mail(message_id="<t1@example.ru>"))
    assert isinstance(first, Message)
    _unrelated_case(email_contact.subscriber)
    reply = intake.ingest(mail(message_id="<t2@example.ru>", subject="Re: что-то", in_reply_to="<t1@example.ru>"))
    assert isinstance(reply, Message)
    assert reply.case_id == first.case_id


def test_reply_threads_by_references(db: Any) -> None:
    first = intake.ingest(mail(sender="x@example.org", message_id="<r1@example.org>"))
    assert isinstance(first, Message)
    reply = intake.ingest(
        mail(
            sender="other@example.org",
            message_id="<r3@example.org>",
            subject="Fwd: совсем другое",
            references=["<r1@example.org>", "<unknown@example.org>"],
        )
    )
    assert isinstance(reply, Message)
    assert reply.case_id == first.case_id


def test_reply_threads_to_our_outbound_message_id(email_contact: ContactPoint, agent: Any) -> None:
    first = intake.ingest(mail(message_id="<o1@example.ru>"))
    assert isinstance(first, Message)
    answer = actions.reply(first.case, by=agent, body="Перезагрузите роутер, пожалуйста.")
    Message.objects.filter(pk=answer.pk).update(external_id="<ours-1@beskontakt.local>")
    _unrelated_case(email_contact.subscriber)
    back = intake.ingest(mail(message_id="<o2@example.ru>", in_reply_to="<ours-1@beskontakt.local>"))
    assert isinstance(back, Message)
    assert back.case_id == first.case_id


def test_reply_threads_by_subject_tag(email_contact: ContactPoint) -> None:
    case = actions.open_case(subject="Нет ТВ", channel=Channel.PHONE, subscriber=email_contact.subscriber)
    _unrelated_case(email_contact.subscriber)
    result = intake.ingest(mail(message_id="<tag1@example.ru>", subject=f"Re: Нет ТВ [#{case.pk}]"))
    assert isinstance(result, Message)
    assert result.case_id == case.pk


def test_subject_tag_of_someone_elses_case_is_ignored(email_contact: ContactPoint) -> None:
    case = actions.open_case(subject="Чужое", channel=Channel.PHONE, subscriber=email_contact.subscriber)
    result = intake.ingest(mail(sender="intruder@example.org", message_id="<i1@x>", subject=f"Re: [#{case.pk}]"))
    assert isinstance(result, Message)
    assert result.case_id != case.pk


def test_auto_reply_is_refused_without_a_case(email_contact: ContactPoint) -> None:
    result = intake.ingest(mail(message_id="<ooo@example.ru>", subject="Автоответ: Re: Нет интернета"))
    assert isinstance(result, RejectedInbound)
    assert result.reason == RejectedInbound.Reason.AUTO_REPLY
    assert "subject" in result.detail
    assert Case.objects.count() == 0
    assert intake.ingest(mail(message_id="<ooo@example.ru>", subject="Автоответ: x")).pk == result.pk
    assert RejectedInbound.objects.count() == 1


def test_bounce_marks_our_reply_failed(email_contact: ContactPoint, agent: Any) -> None:
    first = intake.ingest(mail(message_id="<b1@example.ru>"))
    assert isinstance(first, Message)
    answer = actions.reply(first.case, by=agent, body="Ответ")
    Message.objects.filter(pk=answer.pk).update(external_id="<ours-b@beskontakt.local>")
    result = intake.ingest(bounce("<ours-b@beskontakt.local>"))
    assert isinstance(result, RejectedInbound)
    assert result.reason == RejectedInbound.Reason.BOUNCE
    assert result.case_id == first.case_id
    answer.refresh_from_db()
    assert answer.delivery == Message.Delivery.FAILED
    assert "550 5.1.1" in answer.delivery_error
    item = OutboundMessage.objects.get(message=answer)
    assert item.status == OutboundMessage.Status.FAILED
    assert Case.objects.count() == 1
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1


def test_bounce_of_unknown_mail_is_kept(db: Any) -> None:
    result = intake.ingest(bounce("<never-sent@elsewhere>"))
    assert isinstance(result, RejectedInbound)
    assert result.reason == RejectedInbound.Reason.BOUNCE
    assert result.case is None
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"Subject: no sender\r\n\r\ntext", RejectedInbound.Reason.MALFORMED),
        (b"", RejectedInbound.Reason.MALFORMED),
        (b"From: a@example.ru\r\nX: " + b"y" * (MAX_HEADER_BYTES + 1) + b"\r\n\r\nbody", "too_large"),
    ],
)
def test_malformed_and_huge_are_refused(db: Any, raw: bytes, reason: str) -> None:
    result = intake.ingest(raw, uid="17")
    assert isinstance(result, RejectedInbound)
    assert result.reason == reason
    assert "IMAP UID 17" in result.detail
    assert Case.objects.count() == 0


def test_bad_charset_and_broken_mime_still_become_messages(email_contact: ContactPoint) -> None:
    raw = (
        b"From: maria.ivanova@example.ru\r\nSubject: =?bogus?B?0J/RgNC40LLQtdGC?=\r\nMessage-ID: <cs@x>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="zz"\r\n\r\n'
        b"--zz\r\nContent-Type: text/plain; charset=klingon\r\n\r\n"
        + "Нет сигнала на ТВ".encode("cp1251")
        + b"\r\n--zz\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!broken"
    )
    result = intake.ingest(raw)
    assert isinstance(result, Message)
    assert result.body == "Нет сигнала на ТВ"
    assert result.case.subscriber == email_contact.subscriber


def test_long_body_is_cut_not_refused(email_contact: ContactPoint) -> None:
    result = intake.ingest(mail(message_id="<long@x>", body="Текст. " * 5000))
    assert isinstance(result, Message)
    assert len(result.body) <= actions.MAX_BODY


def test_attachments_kept_and_refused(email_contact: ContactPoint) -> None:
    raw = mail(
        message_id="<files@example.ru>",
        files=[("роутер.png", "image/png", PNG), ("photo.jpg", "image/jpeg", EXE)],
    )
    result = intake.ingest(raw)
    assert isinstance(result, Message)
    assert [(a.filename, a.content_type) for a in result.attachments.all()] == [("роутер.png", "image/png")]
    refused = RejectedInbound.objects.get()
    assert refused.reason == RejectedInbound.Reason.REFUSED_FILE
    assert "photo.jpg" in refused.detail
    assert refused.case_id == result.case_id
    intake.ingest(raw)  # a repeat: no second file, no second refusal
    assert result.attachments.count() == 1
    assert RejectedInbound.objects.count() == 1


def test_attachment_only_mail(email_contact: ContactPoint) -> None:
    raw = mail(message_id="<only@x>", subject="", body="", files=[("a.png", "image/png", PNG)])
    result = intake.ingest(raw)
    assert isinstance(result, Message)
    assert result.attachments.count() == 1
    assert result.body


def test_mail_from_the_care_address_is_refused(db: Any, settings: Any) -> None:
    settings.CARE_EMAIL_ADDRESS = "Care <care@beskontakt.local>"
    result = intake.ingest(mail(sender="Care@Beskontakt.local", message_id="<loop@x>"))
    assert isinstance(result, RejectedInbound)
    assert result.reason == RejectedInbound.Reason.OTHER
    assert Case.objects.count() == 0


def test_overlong_sender_is_refused(db: Any) -> None:
    result = intake.ingest(mail(sender="a" * 230 + "@example.org", message_id="<long-sender@x>"))
    assert isinstance(result, RejectedInbound)
    assert result.reason == RejectedInbound.Reason.MALFORMED
