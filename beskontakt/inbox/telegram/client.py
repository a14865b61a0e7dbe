"""The aiogram ``Bot`` the project talks to Telegram with.

``TELEGRAM_API_URL`` points aiogram at another Bot API server (a self-hosted
``telegram-bot-api``, or the test suite's local server); empty means
api.telegram.org.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Seconds a single Bot API request may take (long polling adds its own timeout on top).
REQUEST_TIMEOUT = 30


def api_server() -> TelegramAPIServer:
    """The Bot API server from ``TELEGRAM_API_URL`` (api.telegram.org when it is empty)."""
    base = settings.TELEGRAM_API_URL
    return TelegramAPIServer.from_base(base) if base else PRODUCTION


def make_bot() -> Bot:
    """A new ``Bot`` with its own HTTP session; the caller closes ``bot.session`` when done.

    Must be called inside the event loop that will use it.
    """
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise ImproperlyConfigured("TELEGRAM_BOT_TOKEN is not set (BESKONTAKT_TELEGRAM_TOKEN)")
    return Bot(token=token, session=AiohttpSession(api=api_server(), timeout=REQUEST_TIMEOUT))
