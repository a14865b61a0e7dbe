"""``manage.py issue_token <username>``: create or replace a staff member's REST API token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beskontakt.accounts.actions import issue_api_token
from beskontakt.accounts.models import User


class Command(BaseCommand):
    help = "Create (or replace) the REST API token of a staff user and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="login name of an active staff user")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if not user.is_active:
            raise CommandError(f"user {username!r} is not active")
        if not user.is_operator_staff:
            raise CommandError(f"user {username!r} is a subscriber; API tokens are for operator staff only")
        key = issue_api_token(user, via="command")
        self.stdout.write(key)
