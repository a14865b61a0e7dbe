"""``manage.py mail_poll``: read the care mailbox over IMAP into cases."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from beskontakt.inbox.email import poller


class Command(BaseCommand):
    help = (
        "Read new e-mail from the IMAP mailbox (BESKONTAKT_IMAP_*) into cases: once, or continuously "
        "with IMAP IDLE (polling when the server has no IDLE)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="read what is new, then exit")
        mode.add_argument("--idle", action="store_true", help="keep reading as mail arrives (the default)")
        parser.add_argument(
            "--interval", type=float, default=60, help="seconds between polls when the server has no IDLE (default 60)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.IMAP_HOST:
            raise CommandError("Set BESKONTAKT_IMAP_HOST (and _USER, _PASSWORD) to the care mailbox first.")
        if options["interval"] <= 0:
            raise CommandError("--interval must be a positive number of seconds.")
        verbosity = int(options["verbosity"])
        if options["once"]:
            try:
                count = poller.poll_once()
            except poller.NETWORK_ERRORS as exc:
                raise CommandError(f"mail: {exc.__class__.__name__}: {exc}") from exc
            if verbosity:
                self.stdout.write(f"mail: {count} message(s) read")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())

        def report(count: int) -> None:
            if count and verbosity:
                self.stdout.write(f"mail: {count} message(s) read")

        poller.idle_loop(stop, poll_seconds=options["interval"], on_round=report)
