"""Periodic Inform sessions per second with persistence (PostgreSQL), per ACS worker process.

    .venv/bin/python bench/acs_inform.py [--db bk_acsbench] [--devices 5000] [--seconds 20]
        [--workers 1,2] [--connections 64] [--cached-nonce] [--port 17700]

Registers ``--devices`` new devices (as after their bootstrap: own credentials, stored
encrypted), starts ``uvicorn beskontakt.cpe.acs.app:application`` with 1 and then 2 worker
processes on one port, warms every worker's device cache with one pass of informs, then
lets the lean CWMP client (``acs_common.LeanClient``: raw keep-alive HTTP/1.1, Informs
rendered once with the simulator's templates) run periodic sessions as fast as it can:
Inform → 401 Digest challenge → Inform with Digest → InformResponse → empty POST → 204
(``--cached-nonce``: the Inform carries Digest with a nonce from an earlier session, no 401).
Prints sessions/s, session latency, the CPU shares of the ACS, the client and PostgreSQL,
and checks persistence: devices whose ``last_inform_at`` moved and session-log rows written
during the load phase. Target (issue 4): ≥ 500 sessions/s per worker, scaling with processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acs_common import (
    OUI,
    CpuMeter,
    LeanClient,
    LeanDevice,
    acs_server,
    cpu_since,
    cpu_snapshot,
    ensure_database,
    inform_body,
    machine_busy_since,
    machine_ticks,
    postgres_pids,
    register_devices,
    serials,
)
from common import percentiles, setup_django

PRODUCT = "BenchInform"
PREFIX = "INF"


def lean_devices(count: int, prefix: str = PREFIX) -> list[LeanDevice]:
    """The client side of the registered devices, each with its PERIODIC Inform."""
    return [
        LeanDevice(
            serial=serial,
            username=f"{OUI}-{serial}",
            password=f"acs-{serial}",
            inform=inform_body(serial, PRODUCT, [("2 PERIODIC", "")], f"http://127.0.0.1:17999/{serial}"),
        )
        for serial in serials(prefix, count)
    ]


def persisted(since: float, prefix: str) -> dict[str, int]:
    """Devices informed and sessions logged since ``since`` (epoch seconds)."""
    from datetime import UTC, datetime

    from django.db import connection

    from beskontakt.cpe.models import Device, DeviceSession

    connection.close()
    at = datetime.fromtimestamp(since, UTC)
    devices = Device.objects.filter(product_class=PRODUCT, serial_number__startswith=prefix)
    sessions = DeviceSession.objects.filter(
        device__product_class=PRODUCT, device__serial_number__startswith=prefix, started_at__gte=at
    )
    return {
        "devices_informed": devices.filter(last_inform_at__gte=at).count(),
        "session_rows": sessions.count(),
        "session_rows_done": sessions.filter(outcome="done").count(),
    }


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(args: argparse.Namespace, workers: int, devices: list[LeanDevice], prefix: str) -> dict[str, object]:
    """One measurement with ``workers`` ACS processes."""
    with acs_server(args.db, args.port, workers) as pid:
        client = LeanClient("127.0.0.1", args.port, connections=args.connections, cached_nonce=args.cached_nonce)
        # Warm-up, not measured: every device a few times, so each worker process has loaded it
        # into its device and credentials caches (as in a running ACS).
        asyncio.run(client.run(devices, args.warmup, sessions=len(devices) * (1 + 2 * (workers - 1))))
        client = LeanClient("127.0.0.1", args.port, connections=args.connections, cached_nonce=args.cached_nonce)
        for device in devices:  # keep the warm nonce only when asked to
            if not args.cached_nonce:
                device.nonce = ""
        time.sleep(0.5)
        meter = CpuMeter(acs=pid)
        pg = postgres_pids()
        pg_before, client_before = cpu_snapshot(pg), client_cpu()
        since = time.time()
        ticks = machine_ticks()
        meter.start()
        elapsed = asyncio.run(client.run(devices, args.seconds))
        meter.stop()
        busy = machine_busy_since(ticks)
        pg_used, client_used = cpu_since(pg_before, postgres_pids()), client_cpu() - client_before
        time.sleep(1.0)  # the session log is written without waiting: let the last batch land
        stored = persisted(since, prefix)
    stats = client.stats
    cores = 2
    shares = {
        "acs": round(100 * meter.used["acs"] / (meter.wall * cores), 1),
        "client": round(100 * client_used / (meter.wall * cores), 1),
        "postgres": round(100 * pg_used / (meter.wall * cores), 1),
    }
    shares["other_processes"] = round(max(0.0, busy - sum(shares.values())), 1)
    per_session = max(1, stats.ok)
    result: dict[str, object] = {
        "workers": workers,
        "devices": len(devices),
        "connections": args.connections,
        "auth": "digest, cached nonce" if args.cached_nonce else "digest, 401 challenge every session",
        "seconds": round(elapsed, 1),
        "sessions_ok": stats.ok,
        "sessions_failed": dict(stats.failed),
        "sessions_per_s": round(stats.ok / elapsed, 1),
        "sessions_per_s_per_worker": round(stats.ok / elapsed / workers, 1),
        "http_requests_per_s": round(stats.requests / elapsed, 1),
        "latency_ms": percentiles([x * 1000 for x in stats.latencies]) if stats.latencies else {},
        "cpu_share_pct": shares,
        "cpu_ms_per_session": {
            "acs": round(1000 * meter.used["acs"] / per_session, 3),
            "client": round(1000 * client_used / per_session, 3),
            "postgres": round(1000 * pg_used / per_session, 3),
        },
        "acs_sessions_per_cpu_second": round(per_session / max(1e-9, meter.used["acs"]), 1),
        **stored,
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bk_acsbench", help="PostgreSQL database (created and migrated if missing)")
    parser.add_argument("--devices", type=int, default=5000, help="registered devices informing in turn")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load phase")
    parser.add_argument("--warmup", type=float, default=60.0, help="warm-up at most (seconds) before each load phase")
    parser.add_argument("--workers", default="1,2", help="ACS worker processes to measure, comma-separated")
    parser.add_argument("--connections", type=int, default=64, help="concurrent client connections")
    parser.add_argument("--cached-nonce", action="store_true", help="reuse a Digest nonce (no 401 per session)")
    parser.add_argument("--port", type=int, default=17700)
    args = parser.parse_args()

    ensure_database(args.db)
    setup_django(args.db)
    started = time.monotonic()
    # A new set per run, registered with the credentials sealed by the current code.
    prefix = f"{PREFIX}{int(time.time()) % 10**6:06d}N"
    register_devices(prefix, args.devices, PRODUCT)
    print(json.dumps({"registered": args.devices, "seconds": round(time.monotonic() - started, 1)}))
    devices = lean_devices(args.devices, prefix)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
        print(json.dumps(run(args, workers, devices, prefix), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
