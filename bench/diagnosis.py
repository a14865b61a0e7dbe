"""One-click diagnosis benchmark: p50/p95 of a whole diagnosis against the real parts.

Builds the world a diagnosis meets in production, on this machine: the built-in ACS (uvicorn,
Django backend, PostgreSQL) with ``--cpes`` simulated CPEs (a tenth of them with a congested
Wi-Fi), a switch served by snmpsim (a recorded Cisco C3560, ``make snmp``) whose ports the
subscribers hang on, and the system's ping. Then runs ``--runs`` diagnoses one after the other
(``--parallel`` at a time), each a connection request + GetParameterValues on the CPE, a live
SNMP read of the port and its history, ping, billing, restrictions and outages — all checks in
parallel, as the "Diagnose" button does — and prints p50/p95/p99 and the verdicts.

    .venv/bin/python bench/diagnosis.py [--db bk_bench_diag] [--cpes 20] [--runs 200] [--parallel 1]

Ping goes to 127.0.0.1: the simulated CPEs live on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PYTHON, ROOT, bench_env, percentiles, setup_django

OUI, PRODUCT = "00D09E", "SimRouter"
BOOTSTRAP_PASSWORD = "factory-pw"  # noqa: S105 - the simulated CPEs' factory default


def ensure_database(name: str) -> None:
    """Create and migrate the benchmark database when it is missing."""
    if not name.replace("_", "").isalnum():
        raise SystemExit("--db: letters, digits and _ only")
    query = f"SELECT 1 FROM pg_database WHERE datname='{name}'"  # noqa: S608 - checked above
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", query],
        capture_output=True,
        text=True,
        check=True,
    )
    if exists.stdout.strip() != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=bench_env(name), check=True)


def prepare(cpes: int, snmp_port: int | None) -> list[int]:
    """Subscribers ``BENCH-DIAG-i`` with a router each, hung on the switch's ports; returns their ids."""
    from beskontakt.conftest import make_subscriber
    from beskontakt.cpe import actions as cpe_actions
    from beskontakt.cpe import profiles
    from beskontakt.cpe.models import Preset
    from beskontakt.subscribers.models import Equipment, Subscriber

    ids = []
    for index in range(cpes):
        contract = f"BENCH-DIAG-{index:04d}"
        subscriber = Subscriber.objects.filter(contract_number=contract).first() or make_subscriber(contract)
        Equipment.objects.get_or_create(
            serial_number=f"SIMB{index:04d}", defaults={"subscriber": subscriber, "kind": "router", "model": PRODUCT}
        )
        ids.append(subscriber.pk)
    if not Preset.objects.filter(name="bench-bootstrap").exists():
        cpe_actions.save_preset(
            None,
            name="bench-bootstrap",
            events=["0 BOOTSTRAP"],
            actions=[{"set": {profiles.INFORM_INTERVAL: 300}}, {"credentials": "generate"}],
        )
    from beskontakt.network.models import SubscriberPort

    SubscriberPort.objects.filter(subscriber_id__in=ids).delete()
    if snmp_port is not None:
        from beskontakt.network import actions as net_actions
        from beskontakt.network import tasks
        from beskontakt.network.models import Node, Port

        node = Node.objects.filter(name="bench-diag-switch").first()
        node = net_actions.save_node(
            node=node, name="bench-diag-switch", address="127.0.0.1", snmp_port=snmp_port, community="cisco-c3560"
        )
        tasks.poll_nodes([node.pk])
        # Subscribers hang on the ports whose link is up in the recording (the others are empty sockets).
        ports = list(Port.objects.filter(node=node, state__oper_status=1).order_by("if_index"))
        for index, subscriber_id in enumerate(ids):
            net_actions.connect_subscriber(Subscriber.objects.get(pk=subscriber_id), ports[index % len(ports)])
    return ids


class World:
    """The ACS and the simulated CPEs, served from an event loop on their own thread."""

    def __init__(self, cpes: int) -> None:
        self.cpes = cpes
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> World:
        self.thread.start()
        if not self.ready.wait(120) or self.error:
            raise RuntimeError(f"the ACS and CPEs did not come up: {self.error!r}")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self.error = exc
            self.ready.set()

    async def _serve(self) -> None:
        from beskontakt.cpe.acs.app import make_app
        from beskontakt.cpe.acs.backend import DjangoBackend
        from beskontakt.cpe.cwmp.serve import serving
        from beskontakt.cpe.models import Device
        from beskontakt.cpe.simulator import CpeSpec, Fleet, FleetConfig
        from beskontakt.demo import faults

        backend = DjangoBackend(bootstrap_policy="accept", bootstrap_password=BOOTSTRAP_PASSWORD)
        specs = [
            CpeSpec(
                f"SIMB{i:04d}",
                oui=OUI,
                product_class=PRODUCT,
                optical=i % 2 == 0,
                scenario=faults.WIFI_CONGESTED if i % 10 == 0 else faults.HEALTHY,
            )
            for i in range(self.cpes)
        ]
        async with serving(make_app(backend, auth="digest")) as base:
            config = FleetConfig(
                acs_url=base + "/",
                username_template="{oui}-{serial}",
                password_template=BOOTSTRAP_PASSWORD,
                inform_interval=300,
                retry_min=0.05,
                oui=OUI,
                product_class=PRODUCT,
            )
            async with Fleet(config, specs) as fleet:
                serials = [s.serial for s in specs]
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    done = await asyncio.to_thread(
                        lambda: (
                            Device.objects.filter(serial_number__in=serials).exclude(connection_request_url="").count()
                        )
                    )
                    if done == len(serials):
                        break
                    await asyncio.sleep(0.2)
                self.fleet = fleet
                self.ready.set()
                while not self.stop.is_set():
                    await asyncio.sleep(0.1)
        await backend.close()


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", default="bk_bench_diag")
    parser.add_argument("--cpes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=1, help="diagnoses at once")
    parser.add_argument("--verbose", action="store_true", help="show the checks of the last run")
    parser.add_argument("--no-snmp", action="store_true", help="without snmpsim (the port check is then unknown)")
    args = parser.parse_args()

    ensure_database(args.db)
    # The ACS and the simulated CPEs share this process with the diagnoses (in production the ACS is a
    # process of its own), so this process gets a bigger connection pool than a web worker's 8.
    os.environ.setdefault("BESKONTAKT_DB_POOL_MAX", "32")
    setup_django(args.db)
    from django.core.cache import cache
    from django.db import connection

    from beskontakt.accounts.models import User
    from beskontakt.diagnostics import actions
    from beskontakt.diagnostics.sources import default_sources, use_sources
    from beskontakt.subscribers.models import Subscriber

    agent = None
    if not args.no_snmp:
        from beskontakt.network.tests.agents import start_snmpsim

        try:
            agent = start_snmpsim({"cisco-c3560": "cisco-c3560"})
        except FileNotFoundError as exc:
            print(f"snmpsim not available ({exc}); the port check will be unknown")
    try:
        ids = prepare(args.cpes, agent.port if agent else None)
        agent_user, _ = User.objects.get_or_create(username="bench-diag-agent", defaults={"role": "agent"})
        sources = default_sources()
        network_ping = sources.ping
        if network_ping is not None:
            sources = sources.with_(ping=lambda host, **options: network_ping("127.0.0.1", **options))
        connection.close()
        with World(args.cpes), use_sources(sources):

            def one(index: int) -> tuple[float, str, int]:
                subscriber = Subscriber.objects.get(pk=ids[index % len(ids)])
                cache.delete_many([f"beskontakt:diagnosis:staff:{subscriber.pk}"])
                started = time.perf_counter()
                try:
                    run = actions.run_diagnosis(subscriber, actor=agent_user)
                    elapsed = (time.perf_counter() - started) * 1000
                    unknown = run.checks.filter(status="unknown").count()
                    return elapsed, run.verdict or run.status, unknown
                finally:
                    connection.close()

            one(0)  # warm up: imports, first connection request, first SNMP read
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.parallel) as pool:
                results = list(pool.map(one, range(1, args.runs + 1)))
            wall = time.monotonic() - started
    finally:
        if agent is not None:
            with contextlib.suppress(Exception):
                agent.stop()
    samples = [r[0] for r in results]
    print(f"{args.runs} diagnoses of {args.cpes} subscribers, {args.parallel} at a time, in {wall:.1f} s")
    print("latency, ms:", percentiles(samples))
    print("verdicts:", dict(collections.Counter(r[1] for r in results)))
    print("runs with an unknown check:", sum(1 for r in results if r[2]), "of", len(results))
    if args.verbose:
        from beskontakt.diagnostics.models import DiagnosisRun

        last = DiagnosisRun.objects.order_by("-pk").first()
        for check in last.checks.all() if last else []:
            print(f"  {check.check_code:13} {check.status:8} {check.duration_ms:5} ms {check.error[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
