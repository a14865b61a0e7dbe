"""What the bot does with each message: the synchronous, database half of the handlers.

The aiogram handlers (``handlers.py``) call these functions through
``sync_to_async``; they run in the transaction that :mod:`.updates` opened for
the update, on the same connection. Each returns the texts to answer with.

Conversation state lives in ``TelegramChat.state`` (JSON), never in memory,
so any worker may handle a chat's next update:

``step``
    ``"code"`` — a link code was sent for subscriber ``subscriber``, the next
    six digits are checked against it; ``"describe"`` — after /new, the next
    message opens a new case.
``recent``
    Unix times of the chat's latest messages (flood control).
``warned_until``
    Until when the flood notice has already been sent (it is sent once a minute at most).
``lookups``
    Unix times of contract look-ups from an unlinked chat (at most ``MAX_LOOKUPS`` an hour).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import formats, timezone, translation

from beskontakt.cases import actions as case_actions
from beskontakt.cases.attachments import MAX_FILE_SIZE
from beskontakt.cases.models import Case, Message
from beskontakt.cases.models.case import ACTIVE_STATUSES
from beskontakt.inbox import codes, outbox
from beskontakt.inbox.models import OneTimeCode, RejectedInbound, TelegramChat
from beskontakt.subscribers import actions as subscriber_actions
from beskontakt.subscribers.models import Channel, Subscriber, Subscription

from . import texts

Reason = RejectedInbound.Reason
T = TypeVar("T")

# Messages per minute from one chat before the rest is refused as a flood.
FLOOD_PER_MINUTE = 20
# Contract look-ups an unlinked chat may make per hour.
MAX_LOOKUPS = 10
CODE_RE = re.compile(r"\d{6}")
# A contract number or a phone number, as people type them.
IDENTIFIER_RE = re.compile(r"\+?[\d][\d\s()\-]{3,24}")
OPEN_CASES_SHOWN = 10


@dataclass(frozen=True)
class Incoming:
    """The parts of a Telegram message the bot needs."""

    chat_id: int
    message_id: int
    date: datetime
    text: str = ""
    username: str = ""
    first_name: str = ""
    language_code: str = ""

    @property
    def external_id(self) -> str:
        """The case message's channel id: unique per chat and message."""
        return f"{self.chat_id}:{self.message_id}"

    @property
    def timestamp(self) -> float:
        return self.date.timestamp()


@dataclass
class Entry:
    """The chat an update came from (locked for the update's transaction) and what the bot decided about it."""

    chat: TelegramChat
    language: str
    allowed: bool = True
    notice: str = ""

    @property
    def subscriber(self) -> Subscriber | None:
        return self.chat.subscriber


def language_for(code: str) -> str:
    """English for chats whose Telegram language is English, Russian otherwise."""
    return "en" if (code or "").lower().startswith("en") else "ru"


def _in(language: str, fn: Callable[[], T]) -> T:
    with translation.override(language):
        return fn()


def flood_limit() -> int:
    """Messages per minute a chat may send (``TELEGRAM_FLOOD_PER_MINUTE``, default 20)."""
    return int(getattr(settings, "TELEGRAM_FLOOD_PER_MINUTE", FLOOD_PER_MINUTE))


def reject(info: Incoming, reason: str, detail: str = "", case: Case | None = None) -> RejectedInbound:
    """Keep something the chat sent that did not become a case message, with the reason."""
    return RejectedInbound.objects.create(
        channel=Channel.TELEGRAM,
        external_id=info.external_id,
        sender=str(info.chat_id),
        reason=reason,
        detail=detail[:2000],
        excerpt=info.text[:500],
        case=case,
    )


def enter(info: Incoming) -> Entry:
    """Find (or register) the chat, lock it, note its names and language, and apply flood control."""
    chat, _ = TelegramChat.objects.get_or_create(
        chat_id=info.chat_id,
        defaults={
            "username": info.username[:100],
            "first_name": info.first_name[:100],
            "language": info.language_code[:8],
        },
    )
    chat = TelegramChat.objects.select_for_update(of=("self",)).select_related("subscriber").get(pk=chat.pk)
    changed = []
    for field, value in (
        ("username", info.username[:100]),
        ("first_name", info.first_name[:100]),
        ("language", info.language_code[:8]),
    ):
        if value and getattr(chat, field) != value:
            setattr(chat, field, value)
            changed.append(field)
    entry = Entry(chat=chat, language=language_for(chat.language))
    state = dict(chat.state or {})
    now = info.timestamp
    recent = sorted(t for t in state.get("recent", []) if isinstance(t, int | float) and now - 60 < t <= now + 60)
    if len([t for t in recent if t <= now]) >= flood_limit():
        entry.allowed = False
        reject(info, Reason.FLOOD, f"more than {flood_limit()} messages a minute")
        if float(state.get("warned_until", 0)) <= now:
            state["warned_until"] = now + 60
            entry.notice = _in(entry.language, texts.flood)
    else:
        recent.append(now)
    state["recent"] = recent[-flood_limit() :]
    chat.state = state
    chat.save(update_fields=["state", *changed])
    return entry


def _save_state(chat: TelegramChat, **changes: Any) -> None:
    state = dict(chat.state or {})
    for key, value in changes.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    chat.state = state
    chat.save(update_fields=["state"])


# --- Commands -------------------------------------------------------------------------


def start(entry: Entry, info: Incoming) -> list[str]:
    """/start: a greeting; an unlinked chat is asked for its contract number."""

    def answer() -> list[str]:
        greeting = texts.greeting(entry.chat.first_name)
        if entry.subscriber is None:
            return [f"{greeting}\n\n{texts.ask_identifier()}"]
        return [f"{greeting} {texts.already_linked(entry.subscriber.contract_number)}\n\n{texts.help_text()}"]

    _save_state(entry.chat, step=None)
    return _in(entry.language, answer)


def help_(entry: Entry, info: Incoming) -> list[str]:
    """/help: the commands (or how to link, for an unlinked chat)."""
    if entry.subscriber is None:
        return _in(entry.language, lambda: [texts.ask_identifier()])
    return _in(entry.language, lambda: [texts.help_text()])


def status(entry: Entry, info: Incoming) -> list[str]:
    """/status: the subscriber's open cases with their status."""
    subscriber = entry.subscriber
    if subscriber is None:
        return _in(entry.language, lambda: [texts.link_first()])

    def answer() -> list[str]:
        cases = list(
            Case.objects.filter(subscriber=subscriber, status__in=ACTIVE_STATUSES, merged_into__isnull=True).order_by(
                "-created_at"
            )[:OPEN_CASES_SHOWN]
        )
        if not cases:
            return [texts.no_open_cases()]
        lines = [texts.case_line(c.reference, c.subject, str(c.get_status_display())) for c in cases]
        return ["\n".join([texts.open_cases_title(), *lines])]

    return _in(entry.language, answer)


def balance(entry: Entry, info: Incoming) -> list[str]:
    """/balance: balance and active tariffs."""
    subscriber = entry.subscriber
    if subscriber is None:
        return _in(entry.language, lambda: [texts.link_first()])

    def answer() -> list[str]:
        names = list(
            Subscription.objects.filter(subscriber=subscriber, status=Subscription.Status.ACTIVE)
            .select_related("tariff")
            .values_list("tariff__name", flat=True)
        )
        amount = formats.number_format(subscriber.balance, decimal_pos=2, use_l10n=True, force_grouping=True)
        return [texts.balance_for(subscriber.contract_number, amount, ", ".join(names) or texts.no_tariff())]

    return _in(entry.language, answer)


def new_case(entry: Entry, info: Incoming) -> list[str]:
    """/new: the next message opens a new case."""
    if entry.subscriber is None:
        return _in(entry.language, lambda: [texts.link_first()])
    _save_state(entry.chat, step="describe")
    return _in(entry.language, lambda: [texts.describe_problem()])


# --- Linking ----------------------------------------------------------------------------


def _link(entry: Entry, subscriber: Subscriber) -> None:
    """Link the chat to the subscriber and keep the chat as their Telegram contact."""
    chat = entry.chat
    chat.subscriber = subscriber
    chat.linked_at = timezone.now()
    state = {k: v for k, v in (chat.state or {}).items() if k in ("recent", "warned_until")}
    chat.state = state
    chat.save(update_fields=["subscriber", "linked_at", "state"])
    # ValidationError: the subscriber already has this chat as a contact.
    with contextlib.suppress(ValidationError):
        subscriber_actions.add_contact(subscriber, Channel.TELEGRAM, str(chat.chat_id))


def _link_step(entry: Entry, info: Incoming) -> list[str]:
    """An unlinked chat wrote text: a code, a contract number or phone, or something else."""
    chat = entry.chat
    value = info.text.strip()
    state = chat.state or {}
    compact = re.sub(r"\s", "", value)
    if state.get("step") == "code" and CODE_RE.fullmatch(compact):
        subscriber_id = state.get("subscriber")
        subscriber = Subscriber.objects.filter(pk=subscriber_id).first() if isinstance(subscriber_id, int) else None
        if subscriber is None:
            _save_state(chat, step=None, subscriber=None)
            return [texts.ask_identifier()]
        try:
            codes.verify(subscriber, OneTimeCode.Purpose.LINK_TELEGRAM, compact)
        except ValidationError as exc:
            return [" ".join(exc.messages)]
        _link(entry, subscriber)
        return [texts.linked(subscriber.contract_number), texts.help_text()]
    if IDENTIFIER_RE.fullmatch(value):
        now = info.timestamp
        lookups = [t for t in state.get("lookups", []) if isinstance(t, int | float) and now - 3600 < t <= now]
        if len(lookups) >= MAX_LOOKUPS:
            reject(info, Reason.OTHER, "too many contract look-ups from this chat")
            return [texts.too_many_lookups()]
        lookups.append(now)
        found = codes.find_subscriber(value)
        if found is None:
            _save_state(chat, lookups=lookups)
            return [texts.unknown_contract(value)]
        try:
            code = codes.issue(found, OneTimeCode.Purpose.LINK_TELEGRAM)
        except ValidationError as exc:
            _save_state(chat, lookups=lookups)
            return [" ".join(exc.messages)]
        _save_state(chat, lookups=lookups, step="code", subscriber=found.pk)
        return [texts.code_sent(code.channel)]
    reject(info, Reason.UNKNOWN_SENDER, "chat is not linked to a subscriber")
    return [texts.how_to_link()]


# --- Messages into cases ----------------------------------------------------------------


def _store(
    entry: Entry, info: Incoming, body: str, attachments: list[Any] | None = None
) -> tuple[Message | None, bool, str]:
    """Put the message on the subscriber's case; returns (message, a new case was opened, refusal reason)."""
    subscriber = entry.subscriber
    assert subscriber is not None
    chat = entry.chat
    common = {
        "channel": Channel.TELEGRAM,
        "external_id": info.external_id,
        "body": body,
        "subscriber": subscriber,
        "sender": str(chat.chat_id),
        "at": info.date,
    }
    try:
        with transaction.atomic():
            opened = False
            if (chat.state or {}).get("step") == "describe":
                if Message.objects.filter(channel=Channel.TELEGRAM, external_id=info.external_id).exists():
                    return None, False, ""
                subject = (body.splitlines() or [body])[0][:200] or body[:200]
                case = case_actions.open_case(
                    subject=subject, channel=Channel.TELEGRAM, subscriber=subscriber, at=info.date
                )
                common["case"] = case
                opened = True
                _save_state(chat, step=None)
            message, created = case_actions.receive_message_with_attachments(attachments=attachments, **common)
    except ValidationError as exc:
        return None, False, " ".join(exc.messages)
    if created and not opened:
        opened = message.case.messages.count() == 1
    return message, opened and created, ""


def text(entry: Entry, info: Incoming) -> list[str]:
    """Text from the chat: linking steps for an unlinked chat, a case message for a linked one."""
    if entry.subscriber is None:
        return _in(entry.language, lambda: _link_step(entry, info))
    message, opened, refused = _store(entry, info, info.text)
    if refused:
        reject(info, Reason.MALFORMED, refused)
        return _in(entry.language, lambda: [refused])
    if opened and message is not None:
        reference = message.case.reference
        return _in(entry.language, lambda: [texts.case_opened(reference)])
    return []


def before_file(entry: Entry, info: Incoming, size: int | None) -> list[str] | None:
    """Whether to download a file: ``None`` to go on, or the answer (possibly none) instead."""
    if entry.subscriber is None:
        reject(info, Reason.UNKNOWN_SENDER, "file from a chat that is not linked to a subscriber")
        return _in(entry.language, lambda: [texts.how_to_link()])
    if Message.objects.filter(channel=Channel.TELEGRAM, external_id=info.external_id).exists():
        return []
    if size is not None and size > MAX_FILE_SIZE:
        reject(info, Reason.TOO_LARGE, f"{size} bytes; at most {MAX_FILE_SIZE}")
        return _in(entry.language, lambda: [texts.file_too_large(MAX_FILE_SIZE // (1024 * 1024))])
    return None


def file_unavailable(entry: Entry, info: Incoming, detail: str) -> list[str]:
    """Telegram refused to give us the file (too big for the Bot API, gone)."""
    reject(info, Reason.REFUSED_FILE, detail)
    return _in(entry.language, lambda: [texts.file_download_failed()])


def take_file(entry: Entry, info: Incoming, *, name: str, data: bytes, photo: bool) -> list[str]:
    """A downloaded photo or document: checked by ``cases.attachments`` and put on the case."""
    upload = SimpleUploadedFile(name, data)
    body = info.text.strip() or _in(settings.LANGUAGE_CODE, texts.photo_body if photo else texts.file_body)
    message, opened, refused = _store(entry, info, body, [upload])
    if refused:
        reject(info, Reason.REFUSED_FILE, refused)
        return _in(entry.language, lambda: [texts.file_refused(refused)])
    if opened and message is not None:
        reference = message.case.reference
        return _in(entry.language, lambda: [texts.case_opened(reference)])
    return []


def unsupported(entry: Entry, info: Incoming, kind: str) -> list[str]:
    """Stickers, voice, locations ...: kept as refused with the reason, and the chat told what works."""
    reject(info, Reason.OTHER, f"unsupported Telegram content: {kind}")
    if entry.subscriber is None:
        return _in(entry.language, lambda: [texts.how_to_link()])
    return _in(entry.language, lambda: [texts.unsupported()])


def edited(info: Incoming) -> None:
    """Edits do not change case messages (the agent may have answered already); the new text is kept as refused."""
    reject(info, Reason.OTHER, "edited message; the case keeps the original text")


def queue_reply(chat_id: int, body: str, key: str) -> None:
    """Deliver an answer through the outbox (with retries) when sending it at once failed."""
    chat = TelegramChat.objects.filter(chat_id=chat_id).select_related("subscriber").first()
    outbox.enqueue(
        channel=Channel.TELEGRAM,
        body=body,
        subscriber=chat.subscriber if chat else None,
        address=str(chat_id),
        key=outbox.make_key("tg-answer", key),
    )
