"""Shared parts of the ACS benchmarks: database, registered devices, the ACS process, a lean CPE client.

* ``ensure_database`` creates and migrates a PostgreSQL benchmark database (once).
* ``register_devices`` bulk-registers simulated devices with their ACS and connection-request
  credentials (the simulator's defaults: ``{oui}-{serial}`` / ``acs-{serial}``, ``{serial}`` /
  ``cr-{serial}``), as a device that bootstrapped once would be stored.
* ``acs_server`` runs ``uvicorn beskontakt.cpe.acs.app:application`` with N worker processes.
* ``CpuMeter`` reads the CPU time of processes (and their children) from ``/proc``.
* ``LeanClient`` speaks CWMP over raw keep-alive HTTP/1.1 connections: Inform with HTTP
  Digest (the 401 challenge every session, as a CPE with no cached nonce does, or a cached
  nonce with a growing ``nc``), then the empty POST, then the ACS's 204. Inform envelopes are
  rendered once per device with the simulator's own templates, so the client stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from common import PYTHON, ROOT, bench_env

OUI = "00D09E"
MANUFACTURER = "Beskontakt"
ACS_APP = "beskontakt.cpe.acs.app:application"


def ensure_database(name: str) -> None:
    """Create the database when it is missing and migrate it."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a plain database name: {name!r}")
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608 - checked above
        capture_output=True,
        text=True,
        check=True,
    )
    if exists.stdout.strip() != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=bench_env(name), check=True)


def serials(prefix: str, count: int) -> list[str]:
    """``prefix000001`` … (the simulator fleet's numbering for ``count`` ≤ 999,999)."""
    width = max(6, len(str(count)))
    return [f"{prefix}{n:0{width}d}" for n in range(1, count + 1)]


def register_devices(prefix: str, count: int, product_class: str, data_model: str = "tr181") -> list[int]:
    """Devices ``OUI-product_class-serial`` with credentials (created when missing); their pks."""
    from django.db import transaction

    from beskontakt.cpe.crypto import encrypt
    from beskontakt.cpe.models import Device, DeviceCredentials

    wanted = serials(prefix, count)
    ids = {f"{OUI}-{product_class}-{s}": s for s in wanted}
    have = set(Device.objects.filter(device_id__in=list(ids)).values_list("device_id", flat=True))
    missing = [(device_id, serial) for device_id, serial in ids.items() if device_id not in have]
    for start in range(0, len(missing), 2000):
        chunk = missing[start : start + 2000]
        with transaction.atomic():
            devices = Device.objects.bulk_create(
                [
                    Device(
                        device_id=device_id,
                        oui=OUI,
                        product_class=product_class,
                        serial_number=serial,
                        manufacturer=MANUFACTURER,
                        data_model=data_model,
                        periodic_inform_interval=300,
                    )
                    for device_id, serial in chunk
                ]
            )
            DeviceCredentials.objects.bulk_create(
                [
                    DeviceCredentials(
                        device=device,
                        acs_username=f"{OUI}-{device.serial_number}",
                        acs_password_encrypted=encrypt(f"acs-{device.serial_number}"),
                        cr_username=device.serial_number,
                        cr_password_encrypted=encrypt(f"cr-{device.serial_number}"),
                    )
                    for device in devices
                ]
            )
    return list(Device.objects.filter(device_id__in=list(ids)).values_list("pk", flat=True))


def wait_port(port: int, timeout: float = 60.0) -> None:
    """Wait until something listens on ``port`` of loopback."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


@contextlib.contextmanager
def acs_server(db: str, port: int, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[int]:
    """``uvicorn`` serving the ACS with ``workers`` processes; yields the master's pid."""
    full_env = bench_env(db)
    full_env.update({"BESKONTAKT_ACS_PORT": str(port), "BESKONTAKT_ACS_URL": f"http://127.0.0.1:{port}/"})
    full_env.update(env or {})
    proc = subprocess.Popen(
        [PYTHON, "-m", "uvicorn", ACS_APP, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "30"],
        cwd=ROOT,
        env=full_env,
    )  # fmt: skip
    try:
        wait_port(port)
        time.sleep(1.0 if workers > 1 else 0.2)  # let every worker finish importing Django
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(p) for p in handle.read().split())
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


class CpuMeter:
    """CPU seconds used by process trees between ``start()`` and ``stop()``."""

    def __init__(self, **roots: int) -> None:
        self.roots = roots
        self.before: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}
        self.wall = 0.0
        self._t0 = 0.0

    def _sample(self) -> dict[str, dict[int, float]]:
        return {name: {pid: _cpu_seconds(pid) for pid in tree(root)} for name, root in self.roots.items()}

    def start(self) -> None:
        """Take the first reading."""
        self.before = self._sample()
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        """CPU seconds per tree since ``start``."""
        after = self._sample()
        self.wall = time.monotonic() - self._t0
        self.used = {
            name: sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in after[name].items()) for name in after
        }
        return self.used

    def shares(self) -> dict[str, float]:
        """Each tree's CPU as a share of the machine (all cores) over the wall time, in %."""
        cores = os.cpu_count() or 1
        return {name: round(100 * used / (self.wall * cores), 1) for name, used in self.used.items()}


def postgres_pids() -> list[int]:
    """Pids of the local PostgreSQL server processes (for CPU accounting), [] when not visible."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/comm") as handle:
                if handle.read().strip() in ("postgres", "postmaster"):
                    found.append(int(entry))
    return found


def cpu_snapshot(pids: list[int]) -> dict[int, float]:
    """CPU seconds so far of each of ``pids``."""
    return {pid: _cpu_seconds(pid) for pid in pids}


def cpu_since(before: dict[int, float], pids: list[int]) -> float:
    """CPU seconds ``pids`` used since ``before`` (processes started meanwhile count whole)."""
    return sum(max(0.0, _cpu_seconds(pid) - before.get(pid, 0.0)) for pid in pids)


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores from ``/proc/stat``."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def machine_busy_since(before: tuple[int, int]) -> float:
    """Share of the whole machine (all cores) busy since ``before``, in %."""
    busy, total = machine_ticks()
    return round(100 * (busy - before[0]) / max(1, total - before[1]), 1)


# --- the lean CWMP client -------------------------------------------------------------------

_PARAM = re.compile(r'(\w+)="?([^",]*)"?')


def inform_body(serial: str, product_class: str, events: list[tuple[str, str]], cr_url: str) -> bytes:
    """A TR-181 Inform envelope as the simulator renders it (its own templates)."""
    from beskontakt.cpe.simulator import soap

    parameters = [
        ("Device.DeviceSummary", "Device:2.11[](Baseline:1)", "string"),
        ("Device.RootDataModelVersion", "2.11", "string"),
        ("Device.DeviceInfo.HardwareVersion", "HW1", "string"),
        ("Device.DeviceInfo.SoftwareVersion", "1.0.0", "string"),
        ("Device.DeviceInfo.ProvisioningCode", "", "string"),
        ("Device.ManagementServer.ConnectionRequestURL", cr_url, "string"),
        ("Device.ManagementServer.ParameterKey", "", "string"),
        ("Device.IP.Interface.1.IPv4Address.1.IPAddress", "100.64.0.10", "string"),
        ("Device.DeviceInfo.UpTime", "86400", "unsignedInt"),
    ]
    body = soap.inform((MANUFACTURER, OUI, product_class, serial), events, 0, parameters)
    return soap.envelope(body, "1", soap.DEFAULT_CWMP)


@dataclass
class LeanDevice:
    """What the client keeps per device: credentials, its Inform, a cached Digest nonce."""

    serial: str
    username: str
    password: str
    inform: bytes
    nonce: str = ""
    opaque: str = ""
    realm: str = ""
    nc: int = 0


@dataclass
class LeanStats:
    """Counters of the lean client."""

    ok: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    latencies: list[float] = field(default_factory=list)


class _Connection:
    """One keep-alive HTTP/1.1 connection to the ACS."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, headers: list[str]) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = [f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"]
        if body:
            head.append('Content-Type: text/xml; charset="utf-8"\r\nSOAPAction: ""\r\n')
        head.extend(f"{h}\r\n" for h in headers)
        head.append("\r\n")
        self.writer.write("".join(head).encode("latin-1") + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        found: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                key, _, value = line.partition(":")
                key = key.lower()
                found[key] = f"{found[key]}\n{value.strip()}" if key in found else value.strip()
        length = int(found.get("content-length", "0") or 0)
        content = await self.reader.readexactly(length) if length else b""
        if found.get("connection", "").lower() == "close":
            self.close()
        return status, found, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _digest(device: LeanDevice, uri: str = "/") -> str:
    device.nc += 1
    nc = f"{device.nc:08x}"
    cnonce = secrets.token_hex(8)
    ha1 = hashlib.md5(f"{device.username}:{device.realm}:{device.password}".encode()).hexdigest()  # noqa: S324
    ha2 = hashlib.md5(f"POST:{uri}".encode()).hexdigest()  # noqa: S324
    response = hashlib.md5(f"{ha1}:{device.nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()  # noqa: S324
    return (
        f'Authorization: Digest username="{device.username}", realm="{device.realm}", nonce="{device.nonce}", '
        f'uri="{uri}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}", response="{response}", '
        f'opaque="{device.opaque}"'
    )


def _take_challenge(device: LeanDevice, headers: dict[str, str]) -> bool:
    for value in headers.get("www-authenticate", "").split("\n"):
        if value.lower().startswith("digest") and "algorithm=MD5" in value:
            params = dict(_PARAM.findall(value))
            device.nonce, device.opaque, device.realm, device.nc = params["nonce"], params["opaque"], params["realm"], 0
            return True
    return False


class LeanClient:
    """Runs periodic Inform sessions for ``devices`` over ``connections`` keep-alive connections."""

    def __init__(self, host: str, port: int, *, connections: int = 64, cached_nonce: bool = False) -> None:
        self.host, self.port = host, port
        self.connections = connections
        self.cached_nonce = cached_nonce
        self.stats = LeanStats()

    async def session(self, conn: _Connection, device: LeanDevice) -> None:
        """Inform (401 challenge unless a nonce is cached) → InformResponse → empty POST → 204."""
        started = time.perf_counter()
        try:
            headers = [_digest(device)] if (self.cached_nonce and device.nonce) else []
            for _ in range(3):
                status, got, content = await conn.post(device.inform, headers)
                self.stats.requests += 1
                if status != 401:
                    break
                if not _take_challenge(device, got):
                    raise _Failed("no digest challenge")
                headers = [_digest(device)]
            if status == 503:
                raise _Failed("503 overloaded")
            if status != 200 or b"InformResponse" not in content:
                raise _Failed(f"inform answered {status}")
            cookie = got.get("set-cookie", "").split(";", 1)[0]
            status, got, content = await conn.post(b"", [f"Cookie: {cookie}"] if cookie else [])
            self.stats.requests += 1
            if status != 204:
                raise _Failed(f"empty POST answered {status}" + (" with a request" if content else ""))
        except _Failed as failure:
            self.stats.failed[failure.reason] += 1
            conn.close()
            return
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.stats.failed[f"network: {type(error).__name__}"] += 1
            conn.close()
            return
        self.stats.ok += 1
        self.stats.latencies.append(time.perf_counter() - started)

    async def run(self, devices: list[LeanDevice], seconds: float, sessions: int = 0) -> float:
        """Sessions as fast as possible for ``seconds`` (devices in turn), or until ``sessions`` were
        started; returns the elapsed time."""
        deadline = time.monotonic() + seconds
        index = 0

        async def worker() -> None:
            nonlocal index
            conn = _Connection(self.host, self.port)
            try:
                while time.monotonic() < deadline and not (sessions and index >= sessions):
                    device = devices[index % len(devices)]
                    index += 1
                    await self.session(conn, device)
            finally:
                conn.close()

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(self.connections)))
        return time.monotonic() - started


class _Failed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
