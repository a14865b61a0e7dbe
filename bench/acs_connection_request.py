"""Connection request → first GetParameterValues result, p50/p95, on a running fleet (PostgreSQL).

    .venv/bin/python bench/acs_connection_request.py [--db bk_acsbench] [--fleet 1000] [--interval 30]
        [--reads 200] [--parallel 4] [--workers 2] [--port 17730] [--cr-port 17731]

Registers ``--fleet`` devices once (ACS and connection-request credentials stored
encrypted), starts the ACS (``uvicorn beskontakt.cpe.acs.app:application``) and the simulator
fleet in its own process (``python -m beskontakt.cpe.simulator``, periodic informs every
``--interval`` seconds: the light background load), waits until every device has told the
ACS its connection-request URL, then makes ``--reads`` calls of
``BuiltinAcs().read(device_id, profiles.OVERVIEW, refresh=True)`` for random devices,
``--parallel`` at a time (as several agents would): a task row, the connection request
(HTTP Digest) to the device, its ``6 CONNECTION REQUEST`` session, the GetParameterValues,
the task done, the values read back from the parameter cache. Prints the wall time of each
call as p50/p95/p99 and the outcomes. Target (issue 4): p95 < 3 s.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acs_common import (
    OUI,
    acs_server,
    ensure_database,
    machine_busy_since,
    machine_ticks,
    register_devices,
    serials,
)
from common import PYTHON, ROOT, bench_env, percentiles, setup_django

PRODUCT = "BenchCR"
PREFIX = "CRQ"


def wait_for_urls(device_ids: list[str], timeout: float) -> int:
    """Wait until the devices reported a connection-request URL; how many did."""
    from django.db import close_old_connections

    from beskontakt.cpe.models import Device

    deadline = time.monotonic() + timeout
    ready = 0
    while time.monotonic() < deadline:
        close_old_connections()
        ready = Device.objects.filter(device_id__in=device_ids).exclude(connection_request_url="").count()
        if ready == len(device_ids):
            break
        time.sleep(1.0)
    return ready


def one_read(device_id: str, timeout: float) -> tuple[float, bool, str, int]:
    """One refresh read; (seconds, ok, detail, values found)."""
    from django.db import connection

    from beskontakt.cpe import profiles
    from beskontakt.cpe.builtin import BuiltinAcs

    started = time.perf_counter()
    try:
        readings, outcome = BuiltinAcs().read(device_id, list(profiles.OVERVIEW), refresh=True, timeout=timeout)
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    found = sum(1 for reading in readings.values() if reading.value is not None)
    return elapsed, outcome.ok, outcome.detail, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bk_acsbench", help="PostgreSQL database (created and migrated if missing)")
    parser.add_argument("--fleet", type=int, default=1000, help="simulated CPEs in the running fleet")
    parser.add_argument("--interval", type=int, default=30, help="the fleet's periodic inform interval, seconds")
    parser.add_argument("--reads", type=int, default=200, help="refresh reads to time")
    parser.add_argument("--parallel", type=int, default=4, help="reads at the same time")
    parser.add_argument("--timeout", type=float, default=10.0, help="BuiltinAcs.read timeout, seconds")
    parser.add_argument("--workers", type=int, default=2, help="ACS worker processes")
    parser.add_argument("--port", type=int, default=17730)
    parser.add_argument("--cr-port", type=int, default=17731)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    ensure_database(args.db)
    setup_django(args.db)
    # A fresh set of devices per run: their first sessions (0 BOOTSTRAP) get the presets'
    # generated credentials, so a set is good for one fleet's life.
    prefix = f"{PREFIX}{int(time.time()) % 10**6:06d}N"
    register_devices(prefix, args.fleet, PRODUCT)
    device_ids = [f"{OUI}-{PRODUCT}-{serial}" for serial in serials(prefix, args.fleet)]
    env = bench_env(args.db)
    with acs_server(args.db, args.port, args.workers):
        # The simulator fleet, each device on its own connection (see acs_fleet.py).
        fleet = subprocess.Popen(
            [PYTHON, str(Path(__file__).resolve().parent / "acs_fleet.py"), "--serve",
             "--acs-url", f"http://127.0.0.1:{args.port}/", "--count", str(args.fleet), "--prefix", prefix,
             "--product-class", PRODUCT, "--interval", str(args.interval), "--ramp", "10",
             "--cr-port", str(args.cr_port)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            ready = wait_for_urls(device_ids, 120)
            print(json.dumps({"fleet": args.fleet, "devices_with_cr_url": ready}))
            time.sleep(2.0)
            rng = random.Random(args.seed)
            picks = [rng.choice(device_ids) for _ in range(args.reads)]
            ticks = machine_ticks()
            started = time.monotonic()
            with ThreadPoolExecutor(args.parallel) as pool:
                results = list(pool.map(lambda d: one_read(d, args.timeout), picks))
            elapsed = time.monotonic() - started
            busy = machine_busy_since(ticks)
        finally:
            fleet.terminate()
            try:
                fleet.wait(timeout=20)
            except subprocess.TimeoutExpired:
                fleet.kill()
    times = [r[0] * 1000 for r in results]
    done = [r[0] * 1000 for r in results if r[1]]
    print(
        json.dumps(
            {
                "fleet": args.fleet,
                "fleet_inform_interval_s": args.interval,
                "workers": args.workers,
                "reads": args.reads,
                "parallel": args.parallel,
                "seconds": round(elapsed, 1),
                "ok": sum(1 for r in results if r[1]),
                "outcomes": dict(Counter(r[2] for r in results)),
                "values_found_avg": round(sum(r[3] for r in results) / max(1, len(results)), 1),
                "latency_ms": percentiles(times),
                "latency_ms_ok_only": percentiles(done) if len(done) > 1 else {},
                "machine_busy_pct": busy,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
