"""``manage.py cpe_simulate --demo``: simulated CPEs for the demo's routers and ONTs.

Every router and ONT of ``subscribers.Equipment`` becomes a simulated device that informs
the ACS (``settings.ACS_URL``): SerialNumber is the serial number, the OUI the first three
bytes of the MAC address, ProductClass the model, and the scenario
``demo_scenario(contract_number)`` — the same fault the demo's switch ports show. ONTs
speak TR-181 with an Optical interface; routers TR-181 or TR-098 by serial parity.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import zlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from beskontakt.cpe import profiles
from beskontakt.cpe.simulator.__main__ import add_fleet_arguments, config_from, run_fleet
from beskontakt.cpe.simulator.fleet import CpeSpec, Fleet
from beskontakt.demo.faults import demo_scenario
from beskontakt.subscribers.models import Equipment


def oui_of(mac_address: str, default: str = "00D09E") -> str:
    """The OUI (six hex digits) from the first three bytes of a MAC address."""
    digits = "".join(ch for ch in mac_address if ch.isalnum()).upper()
    if len(digits) < 6 or any(ch not in "0123456789ABCDEF" for ch in digits[:6]):
        return default
    return digits[:6]


def demo_specs(limit: int | None = None) -> list[CpeSpec]:
    """One device per demo router and ONT (ordered by id; at most ``limit``)."""
    rows = (
        Equipment.objects.filter(kind__in=[Equipment.Kind.ROUTER, Equipment.Kind.ONT])
        .order_by("pk")
        .values_list("kind", "vendor", "model", "serial_number", "mac_address", "subscriber__contract_number")
    )
    if limit:
        rows = rows[:limit]
    specs: list[CpeSpec] = []
    for kind, vendor, model, serial, mac, contract in rows:
        ont = kind == Equipment.Kind.ONT
        parity = zlib.crc32(serial.encode()) % 2 if not serial[-1:].isdigit() else int(serial[-1]) % 2
        specs.append(
            CpeSpec(
                serial=serial,
                oui=oui_of(mac),
                product_class=model,
                manufacturer=vendor or "Unknown",
                model_name=model,
                data_model=profiles.TR181 if ont or parity == 0 else profiles.TR098,
                optical=ont,
                scenario=demo_scenario(contract),
            )
        )
    return specs


class Command(BaseCommand):
    """Run simulated CPEs against the ACS until stopped (or for ``--duration`` seconds)."""

    help = "Simulate the demo's routers and ONTs as TR-069 devices informing the ACS."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--demo`` plus the simulator's fleet options."""
        parser.add_argument("--demo", action="store_true", help="simulate the demo's routers and ONTs")
        parser.add_argument("--limit", type=int, default=0, help="at most N devices (0: all)")
        add_fleet_arguments(parser)
        parser.set_defaults(acs=None)

    def handle(self, *args: Any, **options: Any) -> None:
        """Build the fleet and run it."""
        if not options["demo"]:
            raise CommandError(
                _(
                    "Nothing to simulate: pass --demo (the demo's equipment), or run "
                    "'python -m beskontakt.cpe.simulator --count N' for a generated fleet."
                )
            )
        specs = demo_specs(options["limit"] or None)
        if not specs:
            raise CommandError(_("The database has no routers or ONTs: load the demo first (manage.py load_demo)."))
        namespace = argparse.Namespace(**{**options, "acs": options["acs"] or settings.ACS_URL})
        fleet = Fleet(config_from(namespace), specs)
        self.stdout.write(
            _("Simulating %(count)d devices against %(url)s") % {"count": len(specs), "url": fleet.config.acs_url}
        )
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_fleet(fleet, options["duration"], options["stats_every"], self.stdout))
