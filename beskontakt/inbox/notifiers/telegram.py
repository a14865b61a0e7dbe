"""Telegram: outbound messages sent by the bot through the Bot API (aiogram).

``item.address`` is the chat id (the subscriber's Telegram contact, or the
chat an unknown sender wrote from); ``item.body`` goes as text (split at
Telegram's 4,096-character limit), then the files listed in
``item.payload["attachments"]`` (ids of ``cases.Attachment``): JPEG and PNG
as photos, anything else as a document. Returns the id of the first message.

Errors: a rate limit (429), a server error (5xx), a network failure or a
refused token is temporary (the outbox retries with back-off); a refusal of
the chat (400 chat not found, 403 blocked by the user, a file too large) is
permanent, with Telegram's reason. The Bot API has no idempotency key, so a
worker dying between Telegram's answer and the outbox recording it can repeat
one message (see ``docs/apps/inbox.md``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile
from django.conf import settings
from django.utils.translation import gettext as _

from . import AddressRefused, PermanentFailure, TemporaryFailure

if TYPE_CHECKING:
    from beskontakt.inbox.models import OutboundMessage

TEXT_LIMIT = 4096
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})


@dataclass(frozen=True)
class OutgoingFile:
    """A file to send after the text."""

    name: str
    content_type: str
    data: bytes


def chat_id_of(address: str) -> int | str:
    """The Bot API ``chat_id`` for an address: a number, or an ``@username`` as given."""
    value = (address or "").strip()
    if not value:
        raise PermanentFailure(_("No Telegram chat to send to."))
    try:
        return int(value)
    except ValueError:
        return value


def split_text(body: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line ends where possible."""
    pieces: list[str] = []
    rest = body.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    if rest:
        pieces.append(rest)
    return pieces


def load_files(item: OutboundMessage) -> list[OutgoingFile]:
    """The case attachments listed in the item's payload, read from storage."""
    from beskontakt.cases.models import Attachment

    ids = [int(i) for i in (item.payload or {}).get("attachments", []) if str(i).isdigit()]
    if not ids:
        return []
    files = []
    for attachment in Attachment.objects.filter(pk__in=ids).order_by("pk"):
        with attachment.file.open("rb") as handle:
            data = handle.read()
        files.append(OutgoingFile(attachment.filename, attachment.content_type, data))
    return files


async def _deliver(chat_id: int | str, texts: list[str], files: list[OutgoingFile]) -> str:
    from beskontakt.inbox.telegram.client import make_bot

    bot = make_bot()
    first: int | None = None
    try:
        for text in texts:
            sent = await bot.send_message(chat_id, text)
            first = first or sent.message_id
        for file in files:
            upload = BufferedInputFile(file.data, filename=file.name)
            if file.content_type in PHOTO_TYPES:
                sent = await bot.send_photo(chat_id, upload)
            else:
                sent = await bot.send_document(chat_id, upload)
            first = first or sent.message_id
    finally:
        await bot.session.close()
    return str(first or "")


def _run(coro: Any) -> str:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return str(asyncio.run(coro))
    # Called from inside an event loop's thread: run in a thread of its own.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return str(pool.submit(asyncio.run, coro).result())


class TelegramNotifier:
    """Sends outbound items to Telegram chats as the bot."""

    def send(self, item: OutboundMessage) -> str:
        """Send the text and files; returns the Telegram message id of the first message."""
        if not settings.TELEGRAM_BOT_TOKEN:
            raise PermanentFailure(_("The Telegram bot is not configured (BESKONTAKT_TELEGRAM_TOKEN)."))
        chat_id = chat_id_of(item.address)
        texts = split_text(item.body)
        files = load_files(item)
        if not texts and not files:
            raise PermanentFailure(_("Nothing to send: the message is empty."))
        try:
            return _run(_deliver(chat_id, texts, files))
        except TelegramRetryAfter as exc:
            raise TemporaryFailure(
                _("Telegram asked to slow down: retry after %(s)d s.") % {"s": exc.retry_after}
            ) from exc
        except TelegramForbiddenError as exc:
            # 403: the user blocked the bot (or left the chat): they opted out of Telegram.
            raise AddressRefused(_("Telegram refused the chat: %(reason)s") % {"reason": exc.message}) from exc
        except (TelegramBadRequest, TelegramEntityTooLarge) as exc:
            raise PermanentFailure(_("Telegram refused the message: %(reason)s") % {"reason": exc.message}) from exc
        except (TelegramUnauthorizedError, TelegramNotFound) as exc:
            raise TemporaryFailure(
                _("Telegram refused the bot token or address: %(reason)s") % {"reason": exc.message}
            ) from exc
        except TelegramAPIError as exc:  # 5xx, network errors, conflicts
            raise TemporaryFailure(_("Telegram is unavailable: %(reason)s") % {"reason": exc.message}) from exc
        except (TimeoutError, OSError) as exc:
            raise TemporaryFailure(
                _("Telegram is unreachable: %(reason)s") % {"reason": exc.__class__.__name__}
            ) from exc
