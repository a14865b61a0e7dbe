"""Building test e-mails (as raw bytes, the way mail clients write them)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

SUBSCRIBER_EMAIL = "maria.ivanova@example.ru"
CARE = "care@beskontakt.local"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def mail(
    *,
    sender: str = SUBSCRIBER_EMAIL,
    name: str = "Мария Иванова",
    subject: str = "Не работает интернет",
    body: str = "Здравствуйте! Со вчерашнего вечера нет интернета, роутер мигает красным.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    files: list[tuple[str, str, bytes]] | None = None,
) -> bytes:
    """One e-mail as bytes; ``message_id=""`` leaves the header out."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = CARE
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
    if message_id != "":
        msg["Message-ID"] = message_id or make_msgid(domain="example.ru")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, ctype, data in files or []:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def bounce(original_id: str, recipient: str = SUBSCRIBER_EMAIL) -> bytes:
    """A delivery status notification (RFC 3464) about the e-mail ``original_id``."""
    boundary = "=_report_42"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.ru>\r\n"
        f"To: {CARE}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-" + original_id.strip("<>") + ">\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "This is the mail system at host mx.example.ru. Your message could not be delivered.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.ru\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"From: {CARE}\r\n"
        f"To: {recipient}\r\n"
        f"Message-ID: {original_id}\r\n"
        "Subject: Re: something\r\n"
        f"--{boundary}--\r\n"
    ).encode()
