"""10,000 simulated CPEs informing concurrently against the ACS with PostgreSQL: zero failed sessions?

    .venv/bin/python bench/acs_fleet.py [--db bk_acsbench] [--count 10000] [--ramp 10] [--workers 2]
        [--fresh] [--shared-pool --connections 1024] [--port 17720] [--cr-port 17721]

Registers ``--count`` new devices (own credentials, stored encrypted, as from the
warehouse; ``--fresh``: unknown devices that register themselves under the ``accept``
bootstrap policy instead), starts the ACS (``uvicorn beskontakt.cpe.acs.app:application``,
``--workers`` processes), then runs the simulator fleet (``beskontakt.cpe.simulator.Fleet``:
one asyncio process, one connection-request server) with every device making first contact
(``0 BOOTSTRAP`` + ``1 BOOT``, so the bootstrap presets run: two SetParameterValues) at a
random moment within ``--ramp`` seconds. Each device holds its own connection to the ACS,
as a CPE does (``--shared-pool``: the simulator's one pool). Waits until every device has
had a successful session (or ``--timeout``), then prints sessions ok/failed, failures by
reason, retries, the session latency, the time to serve the whole fleet, the CPU shares,
and checks persistence (devices whose ``last_inform_at`` moved).
Target (issue 4): not a single failed session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acs_common import (
    OUI,
    CpuMeter,
    acs_server,
    cpu_since,
    cpu_snapshot,
    ensure_database,
    machine_busy_since,
    machine_ticks,
    postgres_pids,
    register_devices,
)
from common import percentiles, setup_django

PRODUCT = "BenchFleet"


def own_connection_fleet(config: object) -> object:
    """A simulator ``Fleet`` whose devices each hold their own keep-alive connection to the ACS.

    The simulator's fleet shares one aiohttp pool among all its devices, so the requests of
    one CWMP session may travel on different connections. A real CPE keeps its own. With
    several ACS worker processes a session lives in one of them, found by its cookie, and a
    request that the kernel hands to another worker on another connection finds no session
    there (or, by the connection fallback, another device's). So by default each device gets
    its own one-connection client; ``--shared-pool`` runs the fleet as the simulator does.
    """
    import aiohttp

    from beskontakt.cpe.simulator.fleet import Fleet

    class OwnConnectionFleet(Fleet):
        async def start(self) -> None:
            self.clients = []
            await self.cr_server.start()
            rng = random.Random(self.config.seed + 1)
            for serial, device in self.devices.items():
                device.set_connection_request_url(self.cr_server.url_for(serial))
            self.started_at = time.monotonic()
            for device in self.devices.values():
                http = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=5), cookie_jar=aiohttp.DummyCookieJar()
                )
                self.clients.append(http)
                delay = rng.uniform(0, self.config.ramp_seconds) if self.config.ramp_seconds else 0.0
                self._tasks.append(asyncio.create_task(device.run(http, self.stats, delay)))

        async def stop(self) -> None:
            await super().stop()
            for http in self.clients:
                await http.close()

    return OwnConnectionFleet(config)


async def run_fleet(args: argparse.Namespace, prefix: str) -> dict[str, object]:
    """Start the fleet, wait until every device succeeded once, stop it; its figures."""
    from beskontakt.cpe import profiles
    from beskontakt.cpe.simulator.fleet import Fleet, FleetConfig

    config = FleetConfig(
        acs_url=f"http://127.0.0.1:{args.port}/",
        count=args.count,
        serial_prefix=prefix,
        oui=OUI,
        product_class=PRODUCT,
        data_models={profiles.TR181: 1.0, profiles.TR098: 1.0} if args.fresh else {profiles.TR181: 1.0},
        inform_interval=args.interval,
        ramp_seconds=args.ramp,
        cr_port=args.cr_port,
        connections=args.connections,
        request_timeout=args.request_timeout,
    )
    fleet = Fleet(config) if args.shared_pool else own_connection_fleet(config)
    started = time.monotonic()
    all_done = None
    async with fleet:
        while time.monotonic() - started < args.timeout:
            await asyncio.sleep(0.25)
            if all(device.sessions > 0 for device in fleet.devices.values()):
                all_done = time.monotonic() - started
                break
        pending = sum(1 for device in fleet.devices.values() if device.sessions == 0)
        samples: dict[str, str] = {}
        for device in fleet.devices.values():
            for entry in device.log:
                if entry[0] == "http_error" and entry[1] not in samples:
                    samples[entry[1]] = entry[2][-300:]
        summary = fleet.summary()
    stats = fleet.stats
    return {
        "all_served_after_s": None if all_done is None else round(all_done, 1),
        "devices_never_served": pending,
        "sessions_ok": stats.sessions_ok,
        "sessions_failed": stats.sessions_failed,
        "failures_by_reason": dict(stats.failures),
        "retries": stats.retries,
        "latency_ms": percentiles([x * 1000 for x in stats.latencies]) if stats.latencies else {},
        "events": summary["events"],
        "http_error_samples": samples,
    }


async def serve(args: argparse.Namespace) -> None:
    """Run a fleet (own connection per device) until cancelled; prints one line once started."""
    from beskontakt.cpe import profiles
    from beskontakt.cpe.simulator.fleet import FleetConfig

    config = FleetConfig(
        acs_url=args.acs_url,
        count=args.count,
        serial_prefix=args.prefix,
        oui=OUI,
        product_class=args.product_class,
        data_models={profiles.TR181: 1.0},
        inform_interval=args.interval,
        ramp_seconds=args.ramp,
        cr_port=args.cr_port,
        request_timeout=args.request_timeout,
    )
    fleet = own_connection_fleet(config)
    async with fleet:  # type: ignore[attr-defined]
        print(json.dumps({"fleet_started": args.count}), flush=True)
        while True:
            await asyncio.sleep(3600)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bk_acsbench", help="PostgreSQL database (created and migrated if missing)")
    parser.add_argument("--count", type=int, default=10_000, help="simulated CPEs")
    parser.add_argument("--ramp", type=float, default=10.0, help="first contacts spread over N seconds")
    parser.add_argument("--workers", type=int, default=2, help="ACS worker processes")
    parser.add_argument("--connections", type=int, default=1024, help="the shared pool's size (--shared-pool)")
    parser.add_argument("--interval", type=int, default=300, help="the devices' periodic inform interval")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="a CPE's HTTP timeout, seconds")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up waiting after N seconds")
    parser.add_argument("--fresh", action="store_true", help="unknown devices that bootstrap (accept policy)")
    parser.add_argument("--shared-pool", action="store_true", help="one HTTP pool for all devices (the simulator's)")
    parser.add_argument("--serve", action="store_true", help="only run the fleet against --acs-url until killed")
    parser.add_argument("--prefix", default="FLT", help="serial prefix (with --serve)")
    parser.add_argument("--product-class", default=PRODUCT, help="product class (with --serve)")
    parser.add_argument("--acs-url", default="", help="the ACS to inform (with --serve)")
    parser.add_argument("--port", type=int, default=17720)
    parser.add_argument("--cr-port", type=int, default=17721)
    args = parser.parse_args()

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if args.serve:
        asyncio.run(serve(args))
        return 0
    ensure_database(args.db)
    setup_django(args.db)
    # A new set of devices per run: a device's first contact (0 BOOTSTRAP) gets the presets'
    # generated credentials, so a registered set is good for one fleet's life.
    prefix = f"{'FR' if args.fresh else 'FL'}{int(time.time()) % 10**6:06d}N"
    if not args.fresh:
        started = time.monotonic()
        register_devices(prefix, args.count, PRODUCT)
        print(json.dumps({"registered": args.count, "seconds": round(time.monotonic() - started, 1)}))
    since = datetime.now(UTC)
    with acs_server(args.db, args.port, args.workers, {"BESKONTAKT_ACS_BOOTSTRAP_POLICY": "accept"}) as pid:
        meter = CpuMeter(acs=pid)
        pg_before, ticks = cpu_snapshot(postgres_pids()), machine_ticks()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        client_before = usage.ru_utime + usage.ru_stime
        meter.start()
        result = asyncio.run(run_fleet(args, prefix))
        meter.stop()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        client_used = usage.ru_utime + usage.ru_stime - client_before
        busy = machine_busy_since(ticks)
        pg_used = cpu_since(pg_before, postgres_pids())
        time.sleep(1.0)
    from django.db import connection

    from beskontakt.cpe.models import Device

    connection.close()
    shares = {
        "acs": round(100 * meter.used["acs"] / (meter.wall * 2), 1),
        "fleet": round(100 * client_used / (meter.wall * 2), 1),
        "postgres": round(100 * pg_used / (meter.wall * 2), 1),
    }
    shares["other_processes"] = round(max(0.0, busy - sum(shares.values())), 1)
    devices = Device.objects.filter(product_class=PRODUCT, serial_number__startswith=prefix)
    print(
        json.dumps(
            {
                "devices": args.count,
                "fresh": args.fresh,
                "workers": args.workers,
                "ramp_s": args.ramp,
                "client": f"shared pool of {args.connections}" if args.shared_pool else "own connection per device",
                **result,
                "devices_registered": devices.count(),
                "devices_informed_in_db": devices.filter(last_inform_at__gte=since).count(),
                "cpu_share_pct": shares,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
