"""``manage.py telegram_poll``: run the Telegram bot in long-polling mode."""

from __future__ import annotations

from typing import Any

from aiogram.exceptions import TelegramUnauthorizedError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from beskontakt.inbox.telegram import polling


class Command(BaseCommand):
    help = (
        "Fetch Telegram updates with getUpdates, store them and handle them (for servers Telegram "
        "cannot reach with a webhook)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round without waiting, then exit")
        parser.add_argument("--timeout", type=int, default=25, help="long-poll seconds per request (default 25)")
        parser.add_argument("--limit", type=int, default=100, help="updates per request, 1-100 (default 100)")
        parser.add_argument(
            "--delete-webhook", action="store_true", help="remove a webhook first (Telegram allows only one mode)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("Set BESKONTAKT_TELEGRAM_TOKEN to the bot's token first.")
        if not 1 <= options["limit"] <= 100:
            raise CommandError("--limit must be between 1 and 100.")
        verbosity = int(options["verbosity"])
        errors: list[str] = []

        def report(outcome: polling.Round) -> None:
            if outcome.error:
                errors.append(outcome.error)
                self.stderr.write(f"telegram: {outcome.error}")
            elif verbosity > 1 or (options["once"] and verbosity > 0):
                self.stdout.write(
                    f"received {outcome.received}, stored {outcome.stored}, "
                    f"handled {outcome.handled}, failed {outcome.failed}"
                )

        try:
            polling.run(
                once=options["once"],
                timeout=max(options["timeout"], 0),
                limit=options["limit"],
                drop_webhook=options["delete_webhook"],
                report=report,
            )
        except TelegramUnauthorizedError as exc:
            raise CommandError(f"Telegram refused the bot token: {exc.message}") from exc
        except KeyboardInterrupt:
            self.stdout.write("stopped")
            return
        if options["once"] and errors:
            raise CommandError(f"polling failed: {errors[-1]}")
