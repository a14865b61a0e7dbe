"""BOOTSTRAP sessions of about 10 RPCs per second, per ACS worker process (PostgreSQL).

    .venv/bin/python bench/acs_bootstrap.py [--db bk_acsbench] [--devices 3000] [--workers 1,2]
        [--concurrency 64] [--port 17710]

For each measurement a fresh set of ``--devices`` devices is registered (as from the
warehouse: serial known, factory credentials stored encrypted), each with the tasks an
operator queues for a new device; one enabled preset for their product class sets the
periodic inform interval and generates management credentials on ``0 BOOTSTRAP``. Then
simulated CPEs (``beskontakt.cpe.simulator.SimulatedCpe``, the real simulator, with its
data model answering every RPC) run their first session — ``0 BOOTSTRAP`` + ``1 BOOT`` —
``--concurrency`` at a time. Each session has 10 ACS RPCs:

  preset:  SetParameterValues (PeriodicInformInterval), SetParameterValues (generated
           ACS + connection-request credentials, stored encrypted once accepted)
  tasks:   GetParameterValues (overview: uptime, software, WAN status/IP, SSID, channel),
           GetParameterNames (Device., next level), GetParameterNames (Device.DeviceInfo.),
           GetParameterAttributes + SetParameterAttributes (WAN status notification),
           GetRPCMethods, GetParameterValues (Device.ManagementServer.),
           GetParameterValues (Device.DeviceInfo.)

Prints sessions/s, RPCs/s, session latency, CPU shares, and checks what was stored: tasks
done, session-log rows with their RPC count, credentials replaced.
Target (issue 4): ≥ 100 such sessions/s per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from datetime import timedelta
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
    serials,
)
from common import percentiles, setup_django

PRODUCT = "BenchBoot"
PRESET = "bench-boot"


def task_rows() -> list[tuple[str, dict[str, object]]]:
    """The eight tasks queued for every new device (TR-181 paths)."""
    from beskontakt.cpe import profiles

    profile = profiles.profile_for(profiles.TR181)
    overview = profile.paths(
        [
            profiles.UPTIME,
            profiles.SOFTWARE_VERSION,
            profiles.WAN_STATUS,
            profiles.WAN_IP,
            profiles.WIFI_SSID,
            profiles.WIFI_CHANNEL,
        ]
    )
    wan_status = profile.path(profiles.WAN_STATUS)
    return [
        ("GetParameterValues", {"names": overview}),
        ("GetParameterNames", {"path": "Device.", "next_level": True}),
        ("GetParameterNames", {"path": "Device.DeviceInfo.", "next_level": False}),
        ("GetParameterAttributes", {"names": [wan_status]}),
        ("SetParameterAttributes", {"attributes": [[wan_status, 2]]}),
        ("GetRPCMethods", {}),
        ("GetParameterValues", {"names": ["Device.ManagementServer."]}),
        ("GetParameterValues", {"names": ["Device.DeviceInfo."]}),
    ]


def prepare(prefix: str, count: int) -> None:
    """Register the devices, queue their tasks, make sure the preset exists."""
    from django.utils import timezone

    from beskontakt.cpe import actions, profiles
    from beskontakt.cpe.models import DeviceTask, Preset

    # The interval + credentials preset: the project's default one when it is there (migration
    # 0002 installs it for every device), else one of our own for the product class.
    if Preset.objects.filter(name="default-bootstrap", enabled=True).exists():
        Preset.objects.filter(name=PRESET).update(enabled=False)
    elif not Preset.objects.filter(name=PRESET).exists():
        actions.save_preset(
            None,
            name=PRESET,
            events=["0 BOOTSTRAP"],
            product_class=PRODUCT,
            actions=[{"set": {profiles.INFORM_INTERVAL: 300}}, {"credentials": "generate"}],
        )
    pks = register_devices(prefix, count, PRODUCT)
    expires = timezone.now() + timedelta(days=1)
    rows = task_rows()
    DeviceTask.objects.bulk_create(
        [DeviceTask(device_id=pk, rpc=rpc, arguments=args, expires_at=expires) for pk in pks for rpc, args in rows],
        batch_size=5000,
    )


async def bootstrap_all(port: int, prefix: str, count: int, concurrency: int) -> tuple[float, object]:
    """Every device's first session, ``concurrency`` at a time; (seconds, simulator stats)."""
    import aiohttp

    from beskontakt.cpe import profiles
    from beskontakt.cpe.simulator.cpe import SimulatedCpe
    from beskontakt.cpe.simulator.stats import Stats

    devices = [
        SimulatedCpe(serial, oui=OUI, product_class=PRODUCT, data_model=profiles.TR181,
                     acs_url=f"http://127.0.0.1:{port}/", request_timeout=60)
        for serial in serials(prefix, count)
    ]  # fmt: skip
    for device in devices:
        device.set_connection_request_url(f"http://127.0.0.1:17999/{device.serial}")
    stats = Stats()
    queue = list(reversed(devices))

    async def worker() -> None:
        # One keep-alive connection per session in flight, as a CPE holds its own connection
        # for its session (see acs_fleet.py: a pool shared by many devices breaks sessions
        # across ACS worker processes).
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
            while queue:
                await queue.pop().session(http, stats)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return elapsed, stats


def stored(prefix: str) -> dict[str, object]:
    """What the ACS persisted for the devices of ``prefix``."""
    from django.db import connection
    from django.db.models import Avg, Count

    from beskontakt.cpe.models import DeviceCredentials, DeviceSession, DeviceTask

    connection.close()
    tasks = DeviceTask.objects.filter(device__serial_number__startswith=prefix)
    sessions = DeviceSession.objects.filter(device__serial_number__startswith=prefix)
    return {
        "tasks_by_status": dict(tasks.values_list("status").annotate(n=Count("id")).values_list("status", "n")),
        "session_rows": sessions.count(),
        "session_rows_done": sessions.filter(outcome="done").count(),
        "avg_rpcs_per_session_logged": round(sessions.aggregate(a=Avg("rpc_count"))["a"] or 0, 2),
        # the generated ACS username is the device id (the factory one was OUI-serial)
        "credentials_replaced": DeviceCredentials.objects.filter(
            device__serial_number__startswith=prefix, acs_username__startswith=f"{OUI}-{PRODUCT}-"
        ).count(),
    }


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(args: argparse.Namespace, workers: int, tag: str) -> dict[str, object]:
    prefix = f"BT{tag}W{workers}N"
    warm = f"BT{tag}W{workers}WARM"
    prepare(prefix, args.devices)
    prepare(warm, 200)
    with acs_server(args.db, args.port, workers) as pid:
        asyncio.run(bootstrap_all(args.port, warm, 200, min(args.concurrency, 32)))  # imports, pools, presets
        meter = CpuMeter(acs=pid)
        pg_before, client_before, ticks = cpu_snapshot(postgres_pids()), client_cpu(), machine_ticks()
        meter.start()
        elapsed, stats = asyncio.run(bootstrap_all(args.port, prefix, args.devices, args.concurrency))
        meter.stop()
        busy = machine_busy_since(ticks)
        pg_used, client_used = cpu_since(pg_before, postgres_pids()), client_cpu() - client_before
        time.sleep(1.0)
    summary = stats.summary()  # type: ignore[attr-defined]
    rpcs = sum(summary["rpcs"].values())
    shares = {
        "acs": round(100 * meter.used["acs"] / (meter.wall * 2), 1),
        "client": round(100 * client_used / (meter.wall * 2), 1),
        "postgres": round(100 * pg_used / (meter.wall * 2), 1),
    }
    shares["other_processes"] = round(max(0.0, busy - sum(shares.values())), 1)
    ok = max(1, summary["sessions_ok"])
    return {
        "workers": workers,
        "devices": args.devices,
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 1),
        "sessions_ok": summary["sessions_ok"],
        "sessions_failed": summary["failures"],
        "sessions_per_s": round(summary["sessions_ok"] / elapsed, 1),
        "sessions_per_s_per_worker": round(summary["sessions_ok"] / elapsed / workers, 1),
        "acs_rpcs_per_session": round(rpcs / ok, 2),
        "rpcs": summary["rpcs"],
        "cpe_faults_sent": sum(stats.faults_sent.values()),  # type: ignore[attr-defined]
        "latency_ms": percentiles([x * 1000 for x in stats.latencies]) if stats.latencies else {},  # type: ignore[attr-defined]
        "cpu_share_pct": shares,
        "cpu_ms_per_session": {
            "acs": round(1000 * meter.used["acs"] / ok, 2),
            "client": round(1000 * client_used / ok, 2),
            "postgres": round(1000 * pg_used / ok, 2),
        },
        "acs_sessions_per_cpu_second": round(ok / max(1e-9, meter.used["acs"]), 1),
        **stored(prefix),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bk_acsbench", help="PostgreSQL database (created and migrated if missing)")
    parser.add_argument("--devices", type=int, default=3000, help="devices bootstrapping per measurement")
    parser.add_argument("--workers", default="1,2", help="ACS worker processes to measure, comma-separated")
    parser.add_argument("--concurrency", type=int, default=64, help="sessions in flight at once")
    parser.add_argument("--port", type=int, default=17710)
    args = parser.parse_args()

    ensure_database(args.db)
    setup_django(args.db)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    tag = f"{int(time.time()) % 10**6:06d}"
    for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
        print(json.dumps(run(args, workers, tag), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
