"""Inbound e-mail into cases: threading, subscriber matching, refusals.

:func:`ingest` takes the raw bytes of one e-mail and returns the stored case
message, or the :class:`~beskontakt.inbox.models.RejectedInbound` row that says
why it did not become one. Calling it again with the same e-mail changes
nothing (the Message-ID is the channel id; an e-mail without one gets a stable
id from its content).

Threading, first match wins:

1. In-Reply-To, then References (newest first): a stored e-mail message —
   inbound, or one of our replies, whose ``external_id`` is the Message-ID the
   e-mail notifier gave it — names the case;
2. the case tag ``[#<id>]`` in the subject, if the sender is the case's
   subscriber or has written on the case before (a stranger cannot post into
   someone else's case by guessing a number);
3. otherwise :func:`beskontakt.cases.actions.receive_message` places it (the
   subscriber's newest active e-mail case, or a new case).

The sender is matched to a subscriber through an e-mail contact with the same
address (``ContactPoint.normalized``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _

from beskontakt.cases import actions
from beskontakt.cases import attachments as files_
from beskontakt.cases.actions import MAX_BODY
from beskontakt.cases.models import Case, Message
from beskontakt.inbox.models import OutboundMessage, RejectedInbound
from beskontakt.subscribers.models import Channel, ContactPoint, Subscriber

from .parse import MAX_MESSAGE_BYTES, Kind, ParsedEmail, find_case_tag, parse

log = logging.getLogger(__name__)

EMAIL = Channel.EMAIL
Reason = RejectedInbound.Reason
EXCERPT_CHARS = 2000
# E-mails of a batch stored per transaction (fewer commits; each e-mail still has its own savepoint).
COMMIT_EVERY = 20
SENDER_MAX = 200  # Message.sender


def ingest(raw: bytes, *, uid: str | None = None) -> Message | RejectedInbound:
    """Store one inbound e-mail as a case message, or keep it refused with the reason.

    ``uid`` (the IMAP UID, for logs and the refusal's detail) is optional.
    Auto-replies and bounces never open cases; a bounce of one of our replies
    marks that reply failed with the report's reason.
    """
    return Intake([raw]).ingest(0, uid=uid)


class Intake:
    """A batch of e-mails taken in one after another, in order.

    Everything the batch refers to — stored messages with its Message-IDs or
    the ones it answers, subscribers with its senders' addresses — is read in
    one query each up front; an e-mail answering an earlier one of the same
    batch finds it, since every stored message is added as it is stored.
    """

    def __init__(self, raws: Sequence[bytes]) -> None:
        self.raws = list(raws)
        self.parsed = [parse(raw) for raw in self.raws]
        ids: set[str] = set()
        addresses: set[str] = set()
        for item in self.parsed:
            ids.add(item.stable_id)
            ids.update(item.thread_ids)
            if item.from_address:
                addresses.add(item.from_address.strip().lower())
        self.messages: dict[str, Message] = {}
        if ids:
            for message in Message.objects.filter(channel=EMAIL, external_id__in=ids).select_related("case"):
                self.messages[str(message.external_id)] = message
        self.subscribers: dict[str, Subscriber] = {}
        if addresses:
            contacts = (
                ContactPoint.objects.filter(channel=EMAIL, normalized__in=addresses)
                .select_related("subscriber")
                .order_by("-preferred", "pk")
            )
            for contact in contacts:
                self.subscribers.setdefault(contact.normalized, contact.subscriber)

    def ingest(self, index: int, *, uid: str | None = None) -> Message | RejectedInbound:
        """Take in e-mail number ``index`` of the batch (see :func:`ingest`)."""
        parsed, raw = self.parsed[index], self.raws[index]
        where = f" (IMAP UID {uid})" if uid else ""
        if parsed.problem is not None:
            return _reject(parsed, raw, parsed.problem.value, parsed.problem_detail + where)
        if parsed.kind == Kind.BOUNCE:
            return _bounce(parsed, raw, where)
        if parsed.kind == Kind.AUTO_REPLY:
            return _reject(parsed, raw, Reason.AUTO_REPLY, parsed.kind_detail + where, case=self.threaded_case(parsed))
        stored = self.messages.get(parsed.stable_id)
        if stored is not None:
            return stored  # a repeat: nothing changes
        if parsed.from_address.lower() == parseaddr(settings.CARE_EMAIL_ADDRESS)[1].lower():
            detail = _("Sent from the care address itself (a mail loop?).")
            return _reject(parsed, raw, Reason.OTHER, detail + where)
        if len(parsed.from_address) > SENDER_MAX:
            detail = _("The sender's address is longer than %(max)d characters.") % {"max": SENDER_MAX}
            return _reject(parsed, raw, Reason.MALFORMED, detail + where)
        message = _store(parsed, raw, where, self)
        if isinstance(message, Message) and message.external_id:
            self.messages[message.external_id] = message
        return message

    def ingest_all(self, labels: Sequence[str | None] | None = None, *, workers: int = 1) -> None:
        """Take in the whole batch, on up to ``workers`` threads (each with its own database connection).

        E-mails that may touch the same case — one answers another, same
        sender, same subscriber, same case tag — go to the same thread in
        order; others run side by side. An error other than the database's
        keeps that e-mail refused (reason "other") instead of stopping the
        batch; a database error is raised once every thread has stopped.
        """
        labels = list(labels) if labels is not None else [None] * len(self.raws)
        lanes = self.lanes()
        if workers <= 1 or len(lanes) <= 1 or connection.vendor == "sqlite":
            self._run_bucket(list(range(len(self.raws))), labels, close=False)
            return
        buckets: list[list[int]] = [[] for _ in range(min(workers, len(lanes)))]
        for lane in sorted(lanes, key=len, reverse=True):
            min(buckets, key=len).extend(lane)
        with ThreadPoolExecutor(max_workers=len(buckets), thread_name_prefix="mail-intake") as pool:
            futures = [pool.submit(self._run_bucket, sorted(bucket), labels) for bucket in buckets]
            errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error

    def _run_bucket(self, indexes: list[int], labels: list[str | None], *, close: bool = True) -> None:
        """Take in ``indexes`` in order, ``COMMIT_EVERY`` e-mails per transaction."""
        try:
            for start in range(0, len(indexes), COMMIT_EVERY):
                with transaction.atomic():
                    for index in indexes[start : start + COMMIT_EVERY]:
                        self._ingest_safely(index, labels[index])
        finally:
            if close:
                connection.close()

    def _ingest_safely(self, index: int, label: str | None) -> None:
        try:
            self.ingest(index, uid=label)
        except DatabaseError:
            raise
        except Exception as exc:
            log.exception("mail: %s could not be taken in", label or index)
            reject_unreadable(self.raws[index], uid=label, error=exc)

    def lanes(self) -> list[list[int]]:
        """Groups of e-mails (indexes, in order) that must be taken in one after another."""
        parent = list(range(len(self.parsed)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        first: dict[str, int] = {}
        for index, item in enumerate(self.parsed):
            keys = [f"id:{item.stable_id}", *(f"id:{t}" for t in item.thread_ids)]
            address = item.from_address.strip().lower()
            keys.append(f"from:{address}")
            subscriber = self.subscribers.get(address)
            if subscriber is not None:
                keys.append(f"subscriber:{subscriber.pk}")
            tag = find_case_tag(item.subject)
            if tag is not None:
                keys.append(f"case:{tag}")
            for key in keys:
                if key in first:
                    a, b = root(index), root(first[key])
                    parent[max(a, b)] = min(a, b)
                else:
                    first[key] = index
        groups: dict[int, list[int]] = {}
        for index in range(len(self.parsed)):
            groups.setdefault(root(index), []).append(index)
        return list(groups.values())

    def threaded_case(self, parsed: ParsedEmail) -> Case | None:
        """The case the e-mail answers, by In-Reply-To / References, then by the subject's tag."""
        for message_id in parsed.thread_ids:
            found = self.messages.get(message_id)
            if found is not None:
                return _follow_merges(found.case)
        tag = find_case_tag(parsed.subject)
        if tag is not None:
            case = Case.objects.filter(pk=tag).select_related("subscriber").first()
            if case is not None and _may_write_to(case, parsed.from_address):
                return _follow_merges(case)
        return None

    def subscriber(self, address: str) -> Subscriber | None:
        """The subscriber with this e-mail address as a contact (the preferred contact first)."""
        return self.subscribers.get(address.strip().lower())


# --- refusals -----------------------------------------------------------------------


def _excerpt(parsed: ParsedEmail, raw: bytes) -> str:
    if parsed.text:
        return parsed.text[:EXCERPT_CHARS]
    return raw[:EXCERPT_CHARS].decode("utf-8", "replace").replace("\x00", "")


def _reject(parsed: ParsedEmail, raw: bytes, reason: str, detail: str, *, case: Case | None = None) -> RejectedInbound:
    """Keep a refused e-mail (once per Message-ID and reason)."""
    external_id = parsed.stable_id
    existing = RejectedInbound.objects.filter(channel=EMAIL, external_id=external_id, reason=reason).first()
    if existing is not None:
        return existing
    return RejectedInbound.objects.create(
        channel=EMAIL,
        external_id=external_id,
        sender=parsed.from_address[:255],
        reason=reason,
        detail=detail,
        excerpt=_excerpt(parsed, raw),
        case=case,
    )


def _bounce(parsed: ParsedEmail, raw: bytes, where: str) -> RejectedInbound:
    """Keep a delivery failure report; mark the reply it is about as failed."""
    reason = parsed.kind_detail or _("delivery failure report")
    failed = (
        Message.objects.filter(channel=EMAIL, direction=Message.Direction.OUTBOUND, external_id__in=parsed.bounced_ids)
        .select_related("case")
        .first()
        if parsed.bounced_ids
        else None
    )
    with transaction.atomic():
        rejected = _reject(parsed, raw, Reason.BOUNCE, reason + where, case=failed.case if failed else None)
        if failed is not None:
            _mark_failed(failed, reason)
    return rejected


def _mark_failed(message: Message, reason: str) -> None:
    """The reply bounced: its outbox item and the case message show it failed, with the reason."""
    from beskontakt.inbox import outbox

    text = _("Bounced: %(reason)s") % {"reason": reason}
    item = OutboundMessage.objects.filter(message=message).first()
    if item is None:
        Message.objects.filter(pk=message.pk).update(delivery=Message.Delivery.FAILED, delivery_error=text)
        return
    if item.status == OutboundMessage.Status.FAILED and item.last_error == text:
        return
    outbox.mark_failed(item, text)


# --- threading ----------------------------------------------------------------------


def _follow_merges(case: Case | None) -> Case | None:
    for _step in range(10):
        if case is None or case.merged_into_id is None:
            return case
        case = Case.objects.filter(pk=case.merged_into_id).first()
    return case


def _may_write_to(case: Case, address: str) -> bool:
    """Whether ``address`` belongs on ``case``: the subscriber's e-mail, or a sender seen on it."""
    normalized = address.strip().lower()
    if not normalized:
        return False
    if (
        case.subscriber_id is not None
        and ContactPoint.objects.filter(subscriber_id=case.subscriber_id, channel=EMAIL, normalized=normalized).exists()
    ):
        return True
    return Message.objects.filter(
        case=case, direction=Message.Direction.INBOUND, channel=EMAIL, sender__iexact=normalized
    ).exists()


# --- storing ------------------------------------------------------------------------


def _body(parsed: ParsedEmail, files: int) -> str:
    text = parsed.text.strip() or parsed.subject.strip()
    if not text:
        text = _("(no text, %(count)d file(s) attached)") % {"count": files}
    if len(text) > MAX_BODY:
        note = "\n\n" + _("[the e-mail was longer; the rest is not shown]")
        text = text[: MAX_BODY - len(note)].rstrip() + note
    return text


def _check_files(parsed: ParsedEmail) -> tuple[list[Any], list[str]]:
    """(accepted uploads, reasons for each refused file), each file checked on its own."""
    accepted: list[Any] = []
    refused: list[str] = []
    for item in parsed.attachments:
        upload = SimpleUploadedFile(files_.clean_filename(item.filename), item.data, item.content_type)
        if len(accepted) >= files_.MAX_FILES:
            refused.append(
                _("“%(name)s”: at most %(max)d files per message are kept.")
                % {"name": upload.name, "max": files_.MAX_FILES}
            )
            continue
        try:
            files_.check_files([upload])
        except ValidationError as exc:
            refused += [str(m) for m in exc.messages]
            continue
        accepted.append(upload)
    return accepted, refused


def _store(parsed: ParsedEmail, raw: bytes, where: str, batch: Intake) -> Message | RejectedInbound:
    external_id = parsed.stable_id
    case = batch.threaded_case(parsed)
    subscriber = case.subscriber if case is not None else batch.subscriber(parsed.from_address)
    uploads, refused = _check_files(parsed)
    fields: dict[str, Any] = {
        "attachments": uploads,
        "channel": EMAIL,
        "external_id": external_id,
        "body": _body(parsed, len(uploads)),
        "case": case,
        "subscriber": subscriber,
        "subject": parsed.subject or None,
        "sender": parsed.from_address,
    }
    try:
        if not refused:
            message, _created = actions.receive_message_with_attachments(**fields)
            return message
        with transaction.atomic():
            message, created = actions.receive_message_with_attachments(**fields)
            if created:
                RejectedInbound.objects.create(
                    channel=EMAIL,
                    external_id=external_id,
                    sender=parsed.from_address[:255],
                    reason=Reason.REFUSED_FILE,
                    detail="\n".join(refused) + where,
                    excerpt=_excerpt(parsed, raw),
                    case=message.case,
                )
    except ValidationError as exc:
        log.info("e-mail %s refused: %s", external_id, exc.messages)
        return _reject(parsed, raw, Reason.MALFORMED, "; ".join(exc.messages) + where)
    return message


def reject_oversized(head: bytes, size: int, *, uid: str | None = None) -> RejectedInbound:
    """Keep an e-mail too large to download as refused (only its header was read)."""
    parsed = parse(head + b"\r\n\r\n")
    parsed.text = ""
    detail = _("The e-mail is %(size)d KB; at most %(max)d KB is accepted.") % {
        "size": size // 1024,
        "max": MAX_MESSAGE_BYTES // 1024,
    }
    where = f" (IMAP UID {uid})" if uid else ""
    return _reject(parsed, head, Reason.TOO_LARGE, detail + where)


def reject_unreadable(raw: bytes, *, uid: str | None = None, error: BaseException) -> RejectedInbound:
    """Keep an e-mail the intake failed on (a bug, not the database) so it is not lost or retried forever."""
    parsed = parse(raw)
    where = f" (IMAP UID {uid})" if uid else ""
    return _reject(parsed, raw, Reason.OTHER, f"{error.__class__.__name__}: {error}"[:1000] + where)
