"""The aiogram handlers: thin async shells around :mod:`.conversation`.

An outer middleware registers the chat, locks it for the update and applies
flood control; each handler hands the message to a synchronous function of
``conversation`` (through ``sync_to_async``, so it runs on the thread and in
the transaction :mod:`.updates` opened) and sends back the texts it returns.
Only private chats are served.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandStart
from aiogram.types import Message, TelegramObject
from asgiref.sync import sync_to_async

from beskontakt.diagnostics.selfcheck import telegram_check

from . import conversation
from .conversation import Entry, Incoming

log = logging.getLogger(__name__)

# Failures after which an answer is worth delivering later through the outbox.
RETRYABLE = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, TimeoutError)


def incoming(message: Message) -> Incoming:
    """The parts of ``message`` the conversation needs."""
    user = message.from_user
    return Incoming(
        chat_id=message.chat.id,
        message_id=message.message_id,
        date=message.date,
        text=message.text or message.caption or "",
        username=(user.username if user else None) or message.chat.username or "",
        first_name=(user.first_name if user else None) or message.chat.first_name or "",
        language_code=(user.language_code if user else None) or "",
    )


async def say(message: Message, replies: list[str]) -> None:
    """Send the answers; one that cannot be sent now goes through the outbox, a refused one is logged."""
    for index, body in enumerate(replies):
        try:
            await message.answer(body)
        except RETRYABLE as exc:
            log.warning("telegram: answer to %s queued after %r", message.chat.id, exc)
            key = f"{message.chat.id}:{message.message_id}:{index}"
            await sync_to_async(conversation.queue_reply)(message.chat.id, body, key)
        except TelegramAPIError as exc:  # blocked by the user, chat gone: nobody to answer
            log.warning("telegram: could not answer %s: %s", message.chat.id, exc)


class ChatMiddleware(BaseMiddleware):
    """Registers and locks the chat, applies flood control and puts an ``entry`` into the handler data."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Message) or event.chat.type != ChatType.PRIVATE:
            return None
        entry = await sync_to_async(conversation.enter)(incoming(event))
        if not entry.allowed:
            if entry.notice:
                await say(event, [entry.notice])
            return None
        data["entry"] = entry
        return await handler(event, data)


def _command(fn: Callable[[Entry, Incoming], list[str]]) -> Callable[[Message, Entry], Awaitable[None]]:
    run = sync_to_async(fn)

    async def handle(message: Message, entry: Entry) -> None:
        await say(message, await run(entry, incoming(message)))

    handle.__name__ = f"on_{fn.__name__.rstrip('_')}"
    handle.__doc__ = fn.__doc__
    return handle


async def on_text(message: Message, entry: Entry) -> None:
    """Text: linking steps or a message on the subscriber's case."""
    await say(message, await sync_to_async(conversation.text)(entry, incoming(message)))


async def on_photo(message: Message, bot: Bot, entry: Entry) -> None:
    """A photo: its biggest size goes on the case."""
    assert message.photo
    photo = message.photo[-1]
    name = f"telegram-{message.chat.id}-{message.message_id}.jpg"
    await _take_file(message, bot, entry, photo.file_id, photo.file_size, name, photo=True)


async def on_document(message: Message, bot: Bot, entry: Entry) -> None:
    """A document (a PDF, a picture sent as a file) goes on the case if its type is accepted."""
    assert message.document
    document = message.document
    name = document.file_name or f"telegram-{message.chat.id}-{message.message_id}"
    await _take_file(message, bot, entry, document.file_id, document.file_size, name, photo=False)


async def _take_file(
    message: Message, bot: Bot, entry: Entry, file_id: str, size: int | None, name: str, *, photo: bool
) -> None:
    info = incoming(message)
    early = await sync_to_async(conversation.before_file)(entry, info, size)
    if early is not None:
        await say(message, early)
        return
    try:
        file = await bot.get_file(file_id)
        if file.file_path is None:
            await say(message, await sync_to_async(conversation.file_unavailable)(entry, info, "no file_path"))
            return
        early = await sync_to_async(conversation.before_file)(entry, info, file.file_size)
        if early is not None:
            await say(message, early)
            return
        buffer = await bot.download_file(file.file_path)
    except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge, TelegramForbiddenError) as exc:
        # Telegram will not hand this file over (too big for the Bot API, expired): tell the sender.
        await say(message, await sync_to_async(conversation.file_unavailable)(entry, info, str(exc)))
        return
    assert buffer is not None
    data = buffer.read()
    replies = await sync_to_async(conversation.take_file)(entry, info, name=name, data=data, photo=photo)
    await say(message, replies)


async def on_other(message: Message, entry: Entry) -> None:
    """Anything else (stickers, voice, locations): refused with the reason, and the sender told what works."""
    content_type = message.content_type
    kind = str(getattr(content_type, "value", content_type))
    await say(message, await sync_to_async(conversation.unsupported)(entry, incoming(message), kind))


async def on_edited(message: Message) -> None:
    """An edited message: the original is on the case already; the edit is kept as refused, visibly."""
    if message.chat.type == ChatType.PRIVATE:
        await sync_to_async(conversation.edited)(incoming(message))


def build_router() -> Router:
    """A new router with the bot's handlers (a router can belong to one dispatcher only)."""
    router = Router(name="beskontakt")
    router.message.outer_middleware(ChatMiddleware())
    router.message.register(_command(conversation.start), CommandStart())
    router.message.register(_command(conversation.help_), Command("help"))
    router.message.register(_command(conversation.status), Command("status"))
    router.message.register(_command(conversation.balance), Command("balance"))
    router.message.register(_command(conversation.new_case), Command("new"))
    router.message.register(_command(telegram_check), Command("check"))
    router.message.register(on_photo, F.photo)
    router.message.register(on_document, F.document)
    router.message.register(on_text, F.text)
    router.message.register(on_other)
    router.edited_message.register(on_edited)
    return router
