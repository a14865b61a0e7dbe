"""Command line: ``python -m beskontakt.cpe.simulator --acs URL --count N …`` runs a fleet.

Prints the fleet's counters every ``--stats-every`` seconds (JSON lines) and at the end;
``--duration`` stops it (otherwise Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys

from .fleet import CpeSpec, Fleet, FleetConfig, parse_mix


def build_parser() -> argparse.ArgumentParser:
    """The options, shared with ``manage.py cpe_simulate``."""
    parser = argparse.ArgumentParser(prog="python -m beskontakt.cpe.simulator", description=__doc__)
    add_fleet_arguments(parser)
    parser.add_argument("--count", type=int, default=100, help="number of devices")
    parser.add_argument("--serial-prefix", default="SIM")
    parser.add_argument("--oui", default="00D09E")
    parser.add_argument("--manufacturer", default="Beskontakt")
    parser.add_argument("--product-class", default="SimRouter")
    parser.add_argument("--models", default="tr181=1,tr098=1", help="data-model mix, e.g. tr181=3,tr098=1")
    parser.add_argument("--optical-share", type=float, default=0.0, help="share of TR-181 devices that are ONTs")
    parser.add_argument("--scenarios", default="healthy=1", help="scenario mix, e.g. healthy=9,wifi_congested=1")
    parser.add_argument("--seed", type=int, default=1)
    return parser


def add_fleet_arguments(parser: argparse.ArgumentParser) -> None:
    """Options about running any fleet (ACS, timing, credentials, CR server)."""
    parser.add_argument("--acs", default="http://127.0.0.1:7547/", help="the ACS URL")
    parser.add_argument("--interval", type=int, default=300, help="PeriodicInformInterval, seconds")
    parser.add_argument("--ramp", type=float, default=10.0, help="spread first contacts over N seconds")
    parser.add_argument("--username", default="{oui}-{serial}", help="ACS username template")
    parser.add_argument("--password", default="acs-{serial}", help="ACS password template")
    parser.add_argument("--cr-host", default="127.0.0.1", help="connection-request server address")
    parser.add_argument("--cr-port", type=int, default=0, help="connection-request server port (0: any)")
    parser.add_argument("--cwmp", default="1-0", choices=["1-0", "1-1", "1-2", "1-3", "1-4"])
    parser.add_argument("--connections", type=int, default=256, help="HTTP connections to the ACS at most")
    parser.add_argument("--retry-min", type=float, default=5.0, help="first retry wait, seconds")
    parser.add_argument(
        "--wan-octet",
        type=int,
        default=10,
        choices=[10, 100, 127],
        help="first octet of the routers' WAN addresses (127: loopback, so pinging them reaches this machine)",
    )
    parser.add_argument("--duration", type=float, default=0.0, help="stop after N seconds (0: run until Ctrl-C)")
    parser.add_argument("--stats-every", type=float, default=10.0, help="print counters every N seconds (0: never)")


def config_from(args: argparse.Namespace, **extra: object) -> FleetConfig:
    """A FleetConfig from parsed options."""
    values: dict[str, object] = {
        "acs_url": args.acs,
        "inform_interval": args.interval,
        "ramp_seconds": args.ramp,
        "username_template": args.username,
        "password_template": args.password,
        "cr_host": args.cr_host,
        "cr_port": args.cr_port,
        "cwmp_version": args.cwmp,
        "connections": args.connections,
        "retry_min": args.retry_min,
        "wan_octet": getattr(args, "wan_octet", 10),
    }
    values.update(extra)
    return FleetConfig(**values)  # type: ignore[arg-type]


async def run_fleet(fleet: Fleet, duration: float, stats_every: float, out: object = sys.stdout) -> None:
    """Run until ``duration`` passes (or forever), printing counters."""
    write = out.write  # type: ignore[attr-defined]
    async with fleet:
        write(json.dumps({"started": len(fleet.devices), "cr_port": fleet.cr_server.port}) + "\n")
        loop = asyncio.get_running_loop()
        end = loop.time() + duration if duration else None
        while end is None or loop.time() < end:
            step = stats_every or 3600.0
            if end is not None:
                step = min(step, max(0.0, end - loop.time()))
            await asyncio.sleep(step)
            if stats_every:
                write(json.dumps(fleet.summary()) + "\n")
    write(json.dumps({"final": fleet.summary()}) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    try:
        config = config_from(
            args,
            count=args.count,
            serial_prefix=args.serial_prefix,
            oui=args.oui,
            manufacturer=args.manufacturer,
            product_class=args.product_class,
            data_models=parse_mix(args.models),
            optical_share=args.optical_share,
            scenarios=parse_mix(args.scenarios),
            seed=args.seed,
        )
        specs: list[CpeSpec] = config.specs()
        fleet = Fleet(config, specs)
    except (ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_fleet(fleet, args.duration, args.stats_every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
