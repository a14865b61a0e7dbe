"""``manage.py import_billing <file>``: load a billing export and print what happened."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from beskontakt.subscribers.billing import Billing, BillingFileError
from beskontakt.subscribers.billing.formats import FORMATS, KINDS


class Command(BaseCommand):
    help = "Import tariffs, subscribers or balances from a billing CSV or JSON file (see docs/billing-import.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or JSON file exported from billing")
        parser.add_argument("--format", choices=FORMATS, help="file format (default: from the file extension)")
        parser.add_argument("--kind", choices=KINDS, help="what the file holds (default: detected from the file)")
        parser.add_argument("--dry-run", action="store_true", help="check and count everything, save nothing")
        parser.add_argument("--user", help="username recorded as the actor in the audit log")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options.get("user"):
            try:
                actor = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(_("No user named “%(name)s”.") % {"name": options["user"]}) from None
        billing = Billing(actor=actor)
        try:
            report = billing.import_file(
                options["file"], format=options.get("format"), kind=options.get("kind"), dry_run=options["dry_run"]
            )
        except BillingFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(report))
