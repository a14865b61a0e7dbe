"""E-mail: outbound messages over SMTP (``EMAIL_HOST``/``EMAIL_PORT``/...).

One e-mail per outbox item, from ``CARE_EMAIL_ADDRESS`` to ``item.address``:

* ``Message-ID`` is derived from ``item.key`` alone, so a delivery repeated
  after a worker crash carries the same Message-ID (mail clients and many
  servers drop the second copy). The case message gets that id as its
  ``external_id``, so the subscriber's answer (``In-Reply-To``) threads back.
* On a case: the subject is ``Re: <case subject> [#<case id>]`` (the tag of
  :mod:`beskontakt.inbox.email.parse`), ``In-Reply-To`` is the subscriber's last
  e-mail on the case and ``References`` lists the case's e-mail Message-IDs in order.
* A plain-text part and an HTML part (the text escaped, paragraphs and line
  breaks kept); the case attachments listed in ``item.payload["attachments"]``.
* Notices and codes (not replies written by a person) say ``Auto-Submitted:
  auto-generated`` (RFC 3834), so vacation responders do not answer them.

Errors: no connection, a timeout, a dropped connection, a 4xx answer or a
refused login are temporary (the outbox retries); a 5xx refusal of the
recipient, the sender or the content is permanent, with the server's words.
"""

from __future__ import annotations

import hashlib
import html
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.inbox.email.parse import tagged_subject

from . import PermanentFailure, TemporaryFailure

if TYPE_CHECKING:
    from beskontakt.cases.models import Case
    from beskontakt.inbox.models import OutboundMessage

MAX_REFERENCES = 20
# Ids made up for e-mails that had none: not worth putting in headers.
SYNTHETIC_ID_SUFFIXES = ("@no-message-id.invalid>", "@long-id.invalid>")


def care_domain() -> str:
    """The domain of the care address (the right side of our Message-IDs)."""
    address = parseaddr(settings.CARE_EMAIL_ADDRESS)[1]
    return address.rpartition("@")[2] or "beskontakt.local"


def message_id_for(key: str) -> str:
    """The Message-ID of the e-mail that delivers the outbox item with idempotency key ``key``."""
    digest = hashlib.sha256(f"beskontakt-outbox:{key}".encode()).hexdigest()[:40]
    return f"<{digest}@{care_domain()}>"


def text_to_html(text: str) -> str:
    """The text as a small HTML document: escaped, blank lines as paragraphs, line breaks kept."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join("<p>" + html.escape(p.strip()).replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        '<body style="font-family: sans-serif; line-height: 1.4">\n'
        f"{body}\n</body></html>\n"
    )


def thread_headers(case: Case | None, own_id: str) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) for a message on ``case``: its e-mail history, oldest first."""
    from beskontakt.cases.models import Message

    if case is None:
        return None, []
    rows = list(
        Message.objects.filter(case=case, channel="email", external_id__isnull=False)
        .exclude(external_id=own_id)
        .order_by("created_at", "id")
        .values_list("external_id", "direction")
    )
    usable = [(mid, d) for mid, d in rows if mid and mid.startswith("<") and not mid.endswith(SYNTHETIC_ID_SUFFIXES)]
    inbound = [mid for mid, d in usable if d == Message.Direction.INBOUND]
    references = [mid for mid, _d in usable][-MAX_REFERENCES:]
    return (inbound[-1] if inbound else None), references


def _recipient(address: str) -> str:
    addr = parseaddr(address or "")[1].strip()
    if "@" not in addr or any(c in addr for c in "\r\n"):
        raise PermanentFailure(_("Not an e-mail address: %(address)r.") % {"address": address})
    return addr


def build_message(item: OutboundMessage, message_id: str) -> EmailMessage:
    """The e-mail for one outbox item (headers, text and HTML parts, attachments)."""
    from beskontakt.cases.models import Attachment
    from beskontakt.inbox.models import OutboundMessage as Item

    to = _recipient(item.address)
    case = item.case
    if case is not None:
        subject = tagged_subject(item.subject or case.subject, case.pk, reply=item.kind == Item.Kind.REPLY)
    else:
        subject = item.subject or _("Message from customer care")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((str(_("Customer care")), parseaddr(settings.CARE_EMAIL_ADDRESS)[1]))
    msg["To"] = to
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id
    in_reply_to, references = thread_headers(case, message_id)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    if item.kind != Item.Kind.REPLY:
        msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(item.body)
    msg.add_alternative(text_to_html(item.body), subtype="html")
    ids = [int(i) for i in (item.payload or {}).get("attachments", []) if str(i).isdigit()]
    for attachment in Attachment.objects.filter(pk__in=ids).order_by("pk") if ids else []:
        with attachment.file.open("rb") as handle:
            data = handle.read()
        maintype, _slash, subtype = (attachment.content_type or "application/octet-stream").partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.filename)
    return msg


def _server_text(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {words}".strip()


def _failure(code: int, text: bytes | str, what: str) -> Exception:
    reason = _("The mail server refused %(what)s: %(reply)s") % {"what": what, "reply": _server_text(code, text)}
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


class EmailNotifier:
    """Sends outbox items as e-mail over SMTP."""

    def send(self, item: OutboundMessage) -> str:
        """Deliver one item; returns its Message-ID (the same for every attempt)."""
        from beskontakt.cases.models import Message

        if not settings.EMAIL_HOST:
            raise PermanentFailure(_("No mail server is configured (BESKONTAKT_SMTP_HOST)."))
        message_id = message_id_for(item.key)
        try:
            msg = build_message(item, message_id)
        except (ValueError, TypeError, LookupError, OSError) as exc:
            reason = _("The e-mail could not be put together: %(error)s") % {
                "error": f"{exc.__class__.__name__}: {exc}"
            }
            raise PermanentFailure(reason) from exc
        if item.message_id is not None:
            # Set before sending, so an answer that arrives at once threads into the case.
            Message.objects.filter(pk=item.message_id).update(external_id=message_id)
        sender = parseaddr(settings.CARE_EMAIL_ADDRESS)[1]
        recipient = _recipient(item.address)
        try:
            self._submit(msg, sender, recipient)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            raise _failure(code, text, _("the recipient")) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _failure(exc.smtp_code, exc.smtp_error, _("the sender")) from exc
        except smtplib.SMTPAuthenticationError as exc:
            reason = _("The mail server refused our login: %(reply)s") % {
                "reply": _server_text(exc.smtp_code, exc.smtp_error)
            }
            raise TemporaryFailure(reason) from exc
        except smtplib.SMTPResponseException as exc:
            raise _failure(exc.smtp_code, exc.smtp_error, _("the message")) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(
                _("The mail server could not be reached: %(error)s") % {"error": f"{exc.__class__.__name__}: {exc}"}
            ) from exc
        return message_id

    def _submit(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or 20
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if getattr(settings, "EMAIL_USE_SSL", False):
            client = smtplib.SMTP_SSL(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=timeout)
        with client:
            client.ehlo()
            if getattr(settings, "EMAIL_USE_TLS", False):
                client.starttls(context=context)
                client.ehlo()
            if settings.EMAIL_HOST_USER:
                client.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
            refused = client.send_message(msg, from_addr=sender, to_addrs=[recipient])
            if refused:
                code, text = next(iter(refused.values()))
                raise _failure(code, text, _("the recipient"))
