"""The bot's aiogram dispatcher (one per process, built on first use)."""

from __future__ import annotations

from functools import cache

from aiogram import Dispatcher

from .handlers import build_router


@cache
def dispatcher() -> Dispatcher:
    """The dispatcher with the bot's router; conversation state is in the database, so no FSM storage."""
    dp = Dispatcher(disable_fsm=True, name="beskontakt-telegram")
    dp.include_router(build_router())
    return dp
