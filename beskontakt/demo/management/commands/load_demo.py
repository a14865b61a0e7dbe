"""``manage.py load_demo``: load the generated demo operator (see docs/apps/demo.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from beskontakt.demo import loader
from beskontakt.demo.generator import SIZES
from beskontakt.demo.users import PASSWORD_ENV, SUBSCRIBER_USERNAME, demo_password, ensure_demo_users, login_table


class Command(BaseCommand):
    help = "Load a generated Moscow operator: subscribers, cases, messages, configuration and demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size", choices=sorted(SIZES), default="demo", help="demo (5,000) or operator (1,000,000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data")
        parser.add_argument("--subscribers", type=int, default=None, help="scale the size to this many subscribers")
        parser.add_argument("--reset", action="store_true", help="delete the domain data (and demo logins) first")
        parser.add_argument(
            "--anchor",
            default=None,
            help="the 'now' of the generated history, ISO 8601 (default: the current hour)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size_name: str = options["size"]
        seed: int = options["seed"]
        subscribers: int | None = options["subscribers"]
        if subscribers is not None and subscribers < 1:
            raise CommandError(_("--subscribers must be a positive whole number."))
        anchor = self._anchor(options["anchor"])
        size = loader.size_for(size_name, subscribers)
        verbose = options["verbosity"] >= 1

        if options["reset"]:
            loader.reset_domain_data()
            self._say(verbose, _("Domain data removed."))
        previous = loader.existing_load()
        if previous is not None:
            same = (previous.size, previous.seed, previous.subscribers) == (size_name, seed, size.subscribers)
            if same and previous.finished_at is not None:
                ensure_demo_users(loader.skill_ids())
                self._say(verbose, _("The demo data is already loaded (%(load)s).") % {"load": previous})
                self._print_logins()
                return
            if previous.finished_at is None:
                raise CommandError(_("A previous load was interrupted; run again with --reset."))
            raise CommandError(
                _("Another dataset is loaded (%(load)s); run with --reset to replace it.") % {"load": previous}
            )
        from beskontakt.subscribers.models import Subscriber

        if Subscriber.objects.exists():
            raise CommandError(_("The database already holds subscribers; run with --reset to replace them."))

        self._say(
            verbose,
            _("Loading size %(size)s: %(n)d subscribers, seed %(seed)d.")
            % {"size": size_name, "n": size.subscribers, "seed": seed},
        )
        record = loader.load(
            size, size_name=size_name, seed=seed, anchor=anchor, progress=lambda m: self._say(verbose, m)
        )
        self._say(verbose, _("Rows and seconds spent writing each table:"))
        tables = record.counts.get("tables", {})
        seconds = record.counts.get("write_seconds", {})
        for table, count in tables.items():
            self._say(verbose, f"  {table:<13} {count:>11,} {seconds.get(table, 0):8.1f} s")
        self._say(verbose, _("Generating rows took %(s).1f s.") % {"s": record.counts.get("generation_seconds", 0)})
        self._say(verbose, _("Loaded in %(s).1f s.") % {"s": record.seconds or 0})
        # Live-channel data (outages, callbacks waiting) is made relative to the real
        # clock through the actions, after the deterministic history.
        from beskontakt.demo.intake import seed_intake
        from beskontakt.subscribers.models import Subscriber

        portal = Subscriber.objects.filter(portal_user__username=SUBSCRIBER_USERNAME).select_related("address").first()
        made = seed_intake(timezone.now(), seed, portal)
        counts = {"o": made["outages"], "c": made["callbacks"]}
        self._say(verbose, _("Outages: %(o)d, callback requests: %(c)d.") % counts)
        from beskontakt.demo.network import seed_network

        net = seed_network(seed)
        self._say(
            verbose,
            _("Access network: %(n)d nodes, %(p)d ports, %(s)d port samples.")
            % {"n": net["nodes"], "p": net["ports"], "s": net["samples"]},
        )
        self._print_logins()

    def _anchor(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(_("--anchor must be an ISO 8601 date and time, e.g. 2025-03-01T12:00.")) from exc
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)

    def _say(self, verbose: bool, message: str) -> None:
        if verbose:
            self.stdout.write(message)

    def _print_logins(self) -> None:
        rows = login_table()
        width = max(len(r[0]) for r in rows) + 2
        role_width = max(len(r[1]) for r in rows) + 2
        self.stdout.write("")
        self.stdout.write(
            _("Demo logins (password: %(password)s, set %(env)s to change):")
            % {
                "password": demo_password(),
                "env": PASSWORD_ENV,
            }
        )
        login, role_title, name_title = _("Login"), _("Role"), _("Name")
        self.stdout.write(f"  {login:<{width}}{role_title:<{role_width}}{name_title}")
        for username, role, name in rows:
            self.stdout.write(f"  {username:<{width}}{role:<{role_width}}{name}")
        from beskontakt.subscribers.models import Subscriber

        portal = Subscriber.objects.filter(portal_user__username=SUBSCRIBER_USERNAME).first()
        if portal is not None:
            self.stdout.write(
                _(
                    "Subscriber portal: /my/ - sign in with contract %(contract)s; in the demo the one-time code "
                    "is written to var/outbox/ (no mail server or SMS gateway needed)."
                )
                % {"contract": portal.contract_number}
            )
        self.stdout.write(
            _(
                "On first login each user enrols a TOTP authenticator: scan the QR code shown with an app "
                "such as Google Authenticator, Yandex Key or FreeOTP, then enter the 6-digit code."
            )
        )
