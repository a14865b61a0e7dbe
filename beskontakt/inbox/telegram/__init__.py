"""The Telegram bot: updates stored first and handled after, the aiogram router, the webhook.

Modules: ``client`` (the aiogram ``Bot`` pointed at the configured Bot API
server), ``updates`` (store / process stored updates), ``ingest`` (the
webhook's coalescing writer), ``views`` (the webhook), ``bot`` (the
dispatcher), ``handlers`` (aiogram handlers, async), ``conversation`` (what the
bot does for each kind of message: synchronous, database work), ``texts``
(everything the bot says). See ``docs/apps/inbox-telegram.md``.
"""
