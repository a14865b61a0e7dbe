"""``DjangoBackend``: the ACS's ``SessionBackend`` over the device registry, built for speed.

Per Inform, on the event loop, no query is made one by one:

* **Device cache** — ``device_id`` → ``CachedDevice`` per process; a miss loads (or, under
  the ``accept`` bootstrap policy, registers) the device in a thread, once.
* **Credentials cache** — ``acs_username`` → password for ``credentials_ttl`` seconds;
  a miss reads the database. A username nobody owns gets the bootstrap password
  (``ACS_BOOTSTRAP_PASSWORD``) under ``accept``, and nothing (401) under ``reject``.
* **Group commit** — the Inform's updates (``last_inform_at``, ``ip``, the values it
  carries, software version, connection-request URL, boot time) go to the ``GroupWriter``,
  which writes every pending Inform in one transaction (bulk update + bulk upsert of the
  parameter cache) and in the same transaction asks which of those devices have queued
  tasks. The InformResponse goes out after the commit.
* **Tasks only when there are some** — the queued-task check rides on that batch query, so
  several ACS worker processes stay correct without any shared memory: the database is
  the only place that says whether a device has work. A session claims all its device's
  runnable tasks at once through the same writer: one ``SELECT … FOR UPDATE SKIP LOCKED``
  (PostgreSQL) and one UPDATE for every session claiming in that batch.
* **Plain SQL where the ORM costs** — the parameter cache is written with multi-row
  ``INSERT … ON CONFLICT DO UPDATE`` statements (PostgreSQL and SQLite), row updates with
  one ``UPDATE … FROM (VALUES …)`` (PostgreSQL) or one ``executemany``; writability from
  GetParameterNames is one UPDATE per batch.
* **Presets** — matched in memory against the Inform's events; the list is reloaded every
  ``presets_ttl`` seconds.

Session logs are written by the same writer without waiting.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from beskontakt.cpe import presets as preset_rules
from beskontakt.cpe import profiles, rpcs
from beskontakt.cpe.acs.writer import GroupWriter, release_thread_connections
from beskontakt.cpe.cwmp import faults as cwmp_faults
from beskontakt.cpe.cwmp import messages as m
from beskontakt.cpe.cwmp.session import BaseSessionHandler, CloseReason, FileAnswer, Refusal, SessionHandler

log = logging.getLogger("beskontakt.cpe.acs")

DEFAULT_BOOTSTRAP_PASSWORD = "beskontakt-bootstrap"  # noqa: S105 - the documented factory default
BOOT_EVENTS = frozenset({"0 BOOTSTRAP", "1 BOOT"})
DIAGNOSTICS_COMPLETE = "8 DIAGNOSTICS COMPLETE"

# Inform/GetParameterValues paths (after the data-model root) that mirror a Device field.
_FIELD_OF_SUFFIX = {
    "ManagementServer.ConnectionRequestURL": "connection_request_url",
    "ManagementServer.PeriodicInformInterval": "periodic_inform_interval",
    "ManagementServer.ParameterKey": "parameter_key",
    "DeviceInfo.SoftwareVersion": "software_version",
    "DeviceInfo.HardwareVersion": "hardware_version",
}
_FIELD_LIMITS = {"connection_request_url": 300, "parameter_key": 32, "software_version": 64, "hardware_version": 64}


def configured_bootstrap_password() -> str:
    """The password any not-yet-known CPE may log in with under the ``accept`` policy."""
    return settings.ACS_BOOTSTRAP_PASSWORD or DEFAULT_BOOTSTRAP_PASSWORD


def device_fields(values: dict[str, str]) -> dict[str, Any]:
    """Device fields mirrored by parameter values (``path`` → value), e.g. the CR URL."""
    found: dict[str, Any] = {}
    for path, value in values.items():
        root, _, suffix = path.partition(".")
        if root not in ("Device", "InternetGatewayDevice"):
            continue
        name = _FIELD_OF_SUFFIX.get(suffix)
        if name is None:
            continue
        if name == "periodic_inform_interval":
            try:
                found[name] = max(0, int(value.strip()))
            except ValueError:
                continue
        else:
            found[name] = value.strip()[: _FIELD_LIMITS[name]]
    return found


@dataclass
class CachedDevice:
    """What the ACS keeps in memory about a device."""

    pk: int
    device_id: str
    serial_number: str
    oui: str
    product_class: str
    data_model: str
    enabled: bool
    acs_username: str | None
    fields: dict[str, Any] = field(default_factory=dict)  # mirrored Device fields as last written


@dataclass
class InformUpdate:
    """What one Inform changes (handed to the group-commit writer)."""

    device_pk: int
    at: datetime
    ip: str
    changed: dict[str, Any]  # Device fields that changed
    parameters: list[m.ParameterValue]


@dataclass
class PasswordLookup:
    """Find the password (and owner) of an ACS username — in a batch."""

    username: str


@dataclass
class DeviceLookup:
    """Find a device not in the cache (and register it when unknown and ``register``) — in a batch."""

    inform: m.Inform
    register: bool
    username: str | None
    password: str | None  # the bootstrap password it logged in with, stored for it when registered


@dataclass
class PresetResult:
    """Values a device accepted from a preset (cached; credentials stored) — written by the writer."""

    device_pk: int
    values: list[m.ParameterValue]
    credentials: bool


@dataclass
class TaskResult:
    """A task the device answered: its result, values to cache, credentials to store — written by the writer."""

    task_pk: int
    device_pk: int
    request: m.Message
    response: m.Message
    stores_credentials: bool


@dataclass
class ClaimTasks:
    """Claim every runnable queued task of a device (marked sent, oldest first) — in the batch."""

    device_pk: int
    events: list[str]
    files_url: str


@dataclass
class SessionRecord:
    """A finished session for the log (written by the writer without waiting)."""

    device_pk: int
    events: list[str]
    started_at: datetime
    ended_at: datetime
    outcome: str
    reason: str
    rpc_count: int
    remote_addr: str


WriterItem = PasswordLookup | DeviceLookup | InformUpdate | PresetResult | TaskResult | ClaimTasks | SessionRecord
HAS_TASKS, DISABLED = 1, 2  # flags flush() answers an InformUpdate with


def flush(items: list[WriterItem]) -> list[Any]:
    """Write a batch in one transaction; for each Inform: flags ``HAS_TASKS`` (queued tasks), ``DISABLED``.

    Every statement covers the whole batch: look-ups and registrations of devices not yet
    cached (a ``CachedDevice`` or None for each), one bulk update per set of changed Device
    fields, one upsert of all parameter values, credentials in bulk, session logs in bulk,
    one query for the devices with queued tasks, and one claim of the queued tasks asked for
    (a list of ``(task pk, request, stores credentials)`` for each ``ClaimTasks``).
    """
    from beskontakt.cpe.models import Device, DeviceSession, DeviceTask

    usernames = [item.username for item in items if isinstance(item, PasswordLookup)]
    passwords = _load_passwords(usernames) if usernames else {}
    lookups = [item for item in items if isinstance(item, DeviceLookup)]
    found: dict[str, CachedDevice] = {}
    if lookups:
        with transaction.atomic():
            found = _lookup_devices(lookups)

    fields: dict[int, dict[str, Any]] = {}
    rows: dict[tuple[int, str], tuple[int, str, str, str, Any]] = {}
    informed: set[int] = set()
    credentials: dict[int, list[m.ParameterValue]] = {}
    sessions: list[SessionRecord] = []
    tasks: list[TaskResult] = []
    claims: list[ClaimTasks] = []
    now = timezone.now()
    stamps: dict[datetime, Any] = {}  # datetime → its database form
    for item in items:  # in order: a later value of the same device and path wins
        if isinstance(item, SessionRecord):
            sessions.append(item)
            continue
        if isinstance(item, ClaimTasks):
            claims.append(item)
            continue
        if isinstance(item, DeviceLookup | PasswordLookup):
            continue
        if isinstance(item, TaskResult):
            tasks.append(item)
            values = _task_values(item)
            if not values:
                continue
            fields.setdefault(item.device_pk, {}).update(device_fields({v.name: v.value for v in values}))
            if item.stores_credentials and isinstance(item.request, m.SetParameterValues):
                credentials[item.device_pk] = values
            at = now
        elif isinstance(item, InformUpdate):
            informed.add(item.device_pk)
            fields.setdefault(item.device_pk, {}).update(last_inform_at=item.at, ip=item.ip, **item.changed)
            values, at = item.parameters, item.at
        else:
            fields.setdefault(item.device_pk, {}).update(device_fields({v.name: v.value for v in item.values}))
            values, at = item.values, now
            if item.credentials:
                credentials[item.device_pk] = item.values
        stamp = stamps.get(at)
        if stamp is None:
            stamp = stamps[at] = connection.ops.adapt_datetimefield_value(at)
        for value in values:
            rows[(item.device_pk, value.name)] = (
                item.device_pk,
                value.name[:255],
                rpcs.shown_value(value.name, value.value),
                (value.type or "xsd:string")[:32],
                stamp,
            )
    pending: set[int] = set()
    claimed: dict[int, list[tuple[int, m.Message, bool]]] = {}
    disabled: set[int] = set()
    with transaction.atomic():
        groups: dict[tuple[str, ...], list[Device]] = {}
        for pk, changed in fields.items():
            if changed:
                groups.setdefault(tuple(sorted(changed)), []).append(Device(pk=pk, **changed))
        for names, objs in groups.items():
            _update_rows(Device, objs, names)
        if rows:
            _upsert_parameters(list(rows.values()))
        if credentials:
            _store_credentials_bulk(credentials)
        if tasks:
            _finish_tasks(tasks, now)
        if claims:
            claimed = _claim_tasks(claims, now)
        if informed:
            pending = set(
                DeviceTask.objects.filter(device_id__in=list(informed), status=DeviceTask.Status.QUEUED)
                .values_list("device_id", flat=True)
                .distinct()
            )
            disabled = set(
                Device.objects.filter(pk__in=list(informed))
                .exclude(status=Device.Status.ACTIVE)
                .values_list("pk", flat=True)
            )
        if sessions:
            DeviceSession.objects.bulk_create(
                [
                    DeviceSession(
                        device_id=record.device_pk,
                        events=record.events,
                        started_at=record.started_at,
                        ended_at=record.ended_at,
                        outcome=record.outcome,
                        reason=record.reason[:300],
                        rpc_count=min(record.rpc_count, 32767),
                        remote_addr=record.remote_addr[:45],
                    )
                    for record in sessions
                ]
            )
    answers: list[Any] = []
    for item in items:
        if isinstance(item, InformUpdate):
            answers.append(
                (HAS_TASKS if item.device_pk in pending else 0) | (DISABLED if item.device_pk in disabled else 0)
            )
        elif isinstance(item, DeviceLookup):
            answers.append(found.get(item.inform.device.device_id[:200]))
        elif isinstance(item, PasswordLookup):
            answers.append(passwords.get(item.username))
        elif isinstance(item, ClaimTasks):
            answers.append(claimed.pop(item.device_pk, []))
        else:
            answers.append(None)
    return answers


def _update_rows(model: Any, objs: list[Any], names: tuple[str, ...]) -> None:
    """``UPDATE … SET <names> WHERE id = …`` for each object — ``bulk_update`` builds a CASE
    expression per row in Python, which costs more than the rest of a session's work.

    PostgreSQL: one ``UPDATE … FROM (VALUES …)`` per 1,000 rows (values cast to the columns'
    types); elsewhere one parametrised statement run by ``executemany``.
    """
    fields = [model._meta.get_field(name) for name in names]
    table = connection.ops.quote_name(model._meta.db_table)
    objs = list({obj.pk: obj for obj in objs}.values())  # the last of a row wins, as if run in order
    params = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk] for obj in objs]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)  # noqa: S608
            return
        columns = [connection.ops.quote_name(f.column) for f in fields]
        assignments = ", ".join(f"{column} = v.{column}" for column in columns)
        row = "(" + ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in fields) + ", CAST(%s AS bigint))"
        aliases = ", ".join([*columns, "id"])
        for start in range(0, len(params), 1000):
            chunk = params[start : start + 1000]
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608
                f"AS v({aliases}) WHERE t.id = v.id",
                [part for values in chunk for part in values],
            )


def _upsert_parameters(rows: list[tuple[int, str, str, str, Any]]) -> None:
    """Insert or update parameter-cache rows ``(device pk, path, value, type, updated_at in database
    form)``: ``INSERT … VALUES (…), (…) ON CONFLICT (device_id, path) DO UPDATE``, one statement per
    190 rows (PostgreSQL and SQLite alike; under SQLite's 999 parameters); ``writable`` is left
    as it was. A later row of the same device and path wins (one statement may not touch a row twice)."""
    from beskontakt.cpe.models import DeviceParameter

    unique = list({(row[0], row[1]): row for row in rows}.values())
    head = (
        f"INSERT INTO {connection.ops.quote_name(DeviceParameter._meta.db_table)} "  # noqa: S608
        "(device_id, path, value, xsd_type, updated_at) VALUES "
    )
    tail = (
        " ON CONFLICT (device_id, path) DO UPDATE SET "
        "value = EXCLUDED.value, xsd_type = EXCLUDED.xsd_type, updated_at = EXCLUDED.updated_at"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(unique), 190):
            chunk = unique[start : start + 190]
            cursor.execute(
                head + ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk)) + tail,
                [part for row in chunk for part in row],
            )


def _task_values(item: TaskResult) -> list[m.ParameterValue]:
    """The values a task result puts into the parameter cache: read by GPV, written by SPV."""
    if isinstance(item.response, m.GetParameterValuesResponse):
        return item.response.parameters
    if isinstance(item.request, m.SetParameterValues) and isinstance(item.response, m.SetParameterValuesResponse):
        return item.request.values
    return []


def _finish_tasks(items: list[TaskResult], now: datetime) -> None:
    """Mark answered tasks done with their results (one bulk update); partial-path reads drop
    what the device no longer has, GetParameterNames notes writability (inside the batch)."""
    from beskontakt.cpe.models import DeviceTask

    done = []
    writable: list[tuple[int, list[m.ParameterInfo]]] = []
    for item in items:
        if isinstance(item.response, m.GetParameterValuesResponse) and isinstance(item.request, m.GetParameterValues):
            _drop_vanished(item.device_pk, item.request.names, item.response.parameters)
        elif isinstance(item.response, m.GetParameterNamesResponse):
            writable.append((item.device_pk, item.response.parameters))
        result = rpcs.result_of(item.request, item.response)
        # A Download is done when TransferComplete arrives (DownloadResponse status 1 = later).
        if isinstance(item.response, m.DownloadResponse) and item.response.status == 1:
            result["transfer"] = "pending"
        done.append(DeviceTask(pk=item.task_pk, status=DeviceTask.Status.DONE, finished_at=now, result=result))
    if writable:
        _cache_writable_bulk(writable)
    _update_rows(DeviceTask, done, ("status", "finished_at", "result"))


def _credential_fields(values: list[m.ParameterValue]) -> dict[str, str]:
    """DeviceCredentials fields (passwords encrypted) from ManagementServer values."""
    from beskontakt.cpe.crypto import encrypt

    by_leaf = {item.name.rsplit(".", 1)[-1]: item.value for item in values}
    found: dict[str, str] = {}
    if by_leaf.get("Username"):
        found["acs_username"] = by_leaf["Username"][:128]
    if "Password" in by_leaf:
        found["acs_password_encrypted"] = encrypt(by_leaf["Password"])
    if "ConnectionRequestUsername" in by_leaf:
        found["cr_username"] = by_leaf["ConnectionRequestUsername"][:128]
    if "ConnectionRequestPassword" in by_leaf:
        found["cr_password_encrypted"] = encrypt(by_leaf["ConnectionRequestPassword"])
    return found


def _store_credentials_bulk(accepted: dict[int, list[m.ParameterValue]]) -> None:
    """Store credentials several devices accepted (a username moves to its new owner)."""
    from beskontakt.cpe.models import DeviceCredentials

    changes = {pk: _credential_fields(values) for pk, values in accepted.items()}
    usernames = [c["acs_username"] for c in changes.values() if "acs_username" in c]
    if usernames:
        DeviceCredentials.objects.filter(acs_username__in=usernames).exclude(device_id__in=list(changes)).update(
            acs_username=None
        )
    existing = {c.device_id: c for c in DeviceCredentials.objects.filter(device_id__in=list(changes))}
    now = timezone.now()
    created: list[DeviceCredentials] = []
    updated: dict[tuple[str, ...], list[DeviceCredentials]] = {}
    for pk, change in changes.items():
        creds = existing.get(pk) or DeviceCredentials(device_id=pk)
        for name, value in change.items():
            setattr(creds, name, value)
        creds.updated_at = now
        if creds.pk is None:
            created.append(creds)
        else:
            updated.setdefault((*sorted(change), "updated_at"), []).append(creds)
    for names, objs in updated.items():
        _update_rows(DeviceCredentials, objs, names)
    if created:
        DeviceCredentials.objects.bulk_create(created)


SPEED_TEST_FILE = "speedtest"
SPEED_TEST_BYTES = 8 * 1024 * 1024


@functools.cache
def _speed_test_payload() -> bytes:
    """Incompressible bytes for the built-in speed-test file (made once per process)."""
    return os.urandom(SPEED_TEST_BYTES)


def _cache_values(device_pk: int, values: list[m.ParameterValue]) -> dict[str, Any]:
    """Upsert values into the parameter cache and the mirrored Device fields (sync)."""
    from beskontakt.cpe.models import Device

    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = {
        item.name: (
            device_pk,
            item.name[:255],
            rpcs.shown_value(item.name, item.value),
            (item.type or "xsd:string")[:32],
            stamp,
        )
        for item in values
    }
    if rows:
        _upsert_parameters(list(rows.values()))
    changed = device_fields({item.name: item.value for item in values})
    if changed:
        Device.objects.filter(pk=device_pk).update(**changed)
    return changed


class DjangoBackend:
    """The ACS's ``SessionBackend`` over the Django models (see the module docstring)."""

    def __init__(
        self,
        *,
        bootstrap_policy: str | None = None,
        bootstrap_password: str | None = None,
        files_url: str | None = None,
        window: float = 0.002,
        max_batch: int = 1000,
        credentials_ttl: float = 60.0,
        presets_ttl: float = 10.0,
        max_open_sessions: int = 20_000,
        max_backlog: int = 5_000,
        db_threads: int = 4,
    ) -> None:
        policy = bootstrap_policy or settings.ACS_BOOTSTRAP_POLICY
        if policy not in ("accept", "reject"):
            raise ValueError("bootstrap policy must be 'accept' or 'reject'")
        self.policy = policy
        self.bootstrap_password = (
            bootstrap_password if bootstrap_password is not None else configured_bootstrap_password()
        )
        self.files_url = files_url or settings.ACS_URL.rstrip("/") + "/files/"
        self.credentials_ttl = credentials_ttl
        self.presets_ttl = presets_ttl
        self.max_open_sessions = max_open_sessions
        self.max_backlog = max_backlog
        self.devices: dict[str, CachedDevice] = {}
        self.by_username: dict[str, str] = {}  # acs_username → device_id (cached devices)
        self.passwords: dict[str, tuple[str, float]] = {}
        self.preset_specs: list[preset_rules.PresetSpec] = []
        self._presets_loaded = -1.0
        self._first_load: asyncio.Task[None] | None = None
        self.writer: GroupWriter[WriterItem] = GroupWriter(_with_connection(flush), window=window, max_batch=max_batch)
        self.db_threads = db_threads
        self.db = ThreadPoolExecutor(max_workers=db_threads, thread_name_prefix="acs-db")
        self.closed = False
        self.open_sessions = 0
        self.refused: list[tuple[str, str]] = []  # recent refusals (device id, reason), for tests and logs

    async def run_db(self, fn: Any, *args: Any) -> Any:
        """Run a sync ORM function in the ACS's database threads."""
        return await asyncio.get_running_loop().run_in_executor(self.db, _with_connection(fn), *args)

    # --- SessionBackend -----------------------------------------------------------------

    async def credentials(self, username: str) -> str | None:
        """The device's ACS password; the bootstrap password for a stranger under ``accept``."""
        cached = self.passwords.get(username)
        if cached is not None and time.monotonic() - cached[1] < self.credentials_ttl:
            return cached[0]
        found = await self.writer.submit(PasswordLookup(username))
        if found is not None:
            password, owner = found
            self.passwords[username] = (password, time.monotonic())
            self.by_username[username] = owner
            return password
        self.passwords.pop(username, None)
        return self.bootstrap_password if self.policy == "accept" else None

    async def open(self, inform: m.Inform, *, username: str | None, remote_addr: str) -> SessionHandler | Refusal:
        """Find or register the device, persist the Inform (group commit), start a handler."""
        ident = inform.device
        if not ident.oui or not ident.serial_number:
            return self._refuse(ident.device_id, "the Inform has no OUI or serial number")
        device_id = ident.device_id[:200]
        device = self.devices.get(device_id)
        via_bootstrap = username is not None and username not in self.passwords
        bootstrap_event = inform.has_event("0 BOOTSTRAP")
        if username is not None and not via_bootstrap:
            owner = self.by_username.get(username)
            if owner is not None and owner != device_id:
                return self._refuse(device_id, "credentials of another device")
        if device is None:
            password = self.bootstrap_password if via_bootstrap else None
            loaded = await self.writer.submit(DeviceLookup(inform, self.policy == "accept", username, password))
            if loaded is None:
                return self._refuse(device_id, "unknown device")
            device = loaded
            self._remember(device)
        if username is not None and not via_bootstrap:
            device.acs_username = username  # its own (perhaps set by another ACS process meanwhile)
        elif via_bootstrap and device.acs_username:
            # Factory credentials are good for a (re-)bootstrap only, once the device has its own.
            if not bootstrap_event:
                return self._refuse(device_id, "bootstrap credentials outside 0 BOOTSTRAP")
            # A factory reset: from now on it logs in with these (until a preset gives it new ones).
            assert username is not None
            stored = await self.run_db(_reset_credentials, device.pk, username, self.bootstrap_password)
            self.by_username.pop(device.acs_username, None)
            self.passwords.pop(device.acs_username, None)
            device.acs_username = stored
        values = {item.name: item.value for item in inform.parameters}
        mirrored = device_fields(values)
        changed = {name: value for name, value in mirrored.items() if device.fields.get(name) != value}
        now = timezone.now()
        if inform.events and BOOT_EVENTS.intersection(inform.event_codes):
            changed["last_boot_at"] = now
        flags = await self.writer.submit(InformUpdate(device.pk, now, remote_addr[:45], changed, inform.parameters))
        device.enabled = not flags & DISABLED  # status is read in the batch: other processes' changes count
        if not device.enabled:
            return self._refuse(device_id, "device disabled")
        has_tasks = flags & HAS_TASKS
        device.fields.update({k: v for k, v in changed.items() if k != "last_boot_at"})
        requests = await self._preset_requests(device, inform)
        self.open_sessions += 1
        return DjangoHandler(self, device, inform, remote_addr, now, requests, bool(has_tasks))

    async def file(self, name: str) -> FileAnswer | None:
        """A ``CpeFile`` by name, streamed from storage; ``speedtest`` is built in.

        A router's speed test (DownloadDiagnostics) downloads ``/files/speedtest`` unless an
        operator uploaded a file of that name or set ``DIAGNOSIS_SPEED_TEST_URL``.
        """
        found = await self.run_db(_load_file, name)
        if found is None and name == SPEED_TEST_FILE:
            return _speed_test_payload(), "application/octet-stream"
        return found

    def overloaded(self) -> bool:
        """Too many sessions open, or the writer cannot keep up."""
        return self.open_sessions >= self.max_open_sessions or self.writer.backlog >= self.max_backlog

    # --- helpers ---------------------------------------------------------------------------

    def _refuse(self, device_id: str, reason: str) -> Refusal:
        log.info("ACS refused %s: %s", device_id or "?", reason)
        self.refused.append((device_id, reason))
        del self.refused[:-100]
        return Refusal(reason)

    def _remember(self, device: CachedDevice) -> None:
        self.devices[device.device_id] = device
        if device.acs_username:
            self.by_username[device.acs_username] = device.device_id

    def forget(self, device_id: str) -> None:
        """Drop a device from the cache (it is loaded again at its next Inform)."""
        device = self.devices.pop(device_id, None)
        if device is not None and device.acs_username:
            self.by_username.pop(device.acs_username, None)
            self.passwords.pop(device.acs_username, None)

    def remember_credentials(self, device: CachedDevice, username: str, password: str) -> None:
        """New ACS credentials the device accepted: cache them at once."""
        if device.acs_username and device.acs_username != username:
            self.by_username.pop(device.acs_username, None)
            self.passwords.pop(device.acs_username, None)
        device.acs_username = username
        self.by_username[username] = device.device_id
        self.passwords[username] = (password, time.monotonic())

    async def _preset_requests(self, device: CachedDevice, inform: m.Inform) -> list[preset_rules.PresetRequest]:
        if self._presets_loaded < 0:
            if self._first_load is None:
                self._first_load = asyncio.get_running_loop().create_task(self.load())
            try:
                await asyncio.shield(self._first_load)
            except Exception:
                self._first_load = None  # the next session tries again
                raise
        elif time.monotonic() - self._presets_loaded > self.presets_ttl:
            self._presets_loaded = time.monotonic()
            asyncio.get_running_loop().create_task(self._reload_presets())
        codes = inform.event_codes
        specs = [
            spec
            for spec in self.preset_specs
            if spec.matches(
                oui=device.oui, product_class=device.product_class, data_model=device.data_model, events=codes
            )
        ]
        if not specs:
            return []
        return preset_rules.requests_for(
            specs, device_id=device.device_id, serial_number=device.serial_number, data_model=device.data_model
        )

    async def _reload_presets(self) -> None:
        try:
            self.preset_specs = await self.run_db(load_presets)
        except Exception:
            log.exception("loading presets failed")

    async def load(self) -> None:
        """Load the presets now (at startup, and in tests)."""
        self.preset_specs = await self.run_db(load_presets)
        self._presets_loaded = time.monotonic()

    async def close(self) -> None:
        """Flush the writer, give the threads' connections back and stop them (idempotent)."""
        if self.closed:
            return
        self.closed = True
        await self.writer.close()
        await release_thread_connections(self.db, self.db_threads)


class DjangoHandler(BaseSessionHandler):
    """One session of one device: presets first, then its queued tasks one at a time."""

    def __init__(
        self,
        backend: DjangoBackend,
        device: CachedDevice,
        inform: m.Inform,
        remote_addr: str,
        started_at: datetime,
        preset_requests: list[preset_rules.PresetRequest],
        has_tasks: bool,
    ) -> None:
        self.backend = backend
        self.device = device
        self.events = inform.event_codes
        self.remote_addr = remote_addr
        self.started_at = started_at
        self.presets: deque[preset_rules.PresetRequest] = deque(preset_requests)
        self.has_tasks = has_tasks
        self.current_preset: preset_rules.PresetRequest | None = None
        self.current_task: tuple[int, m.Message, bool] | None = None  # (task pk, request, stores credentials)
        # Tasks claimed (marked sent) in one go and not handed out yet; given back on close.
        self.claimed: deque[tuple[int, m.Message, bool]] = deque()
        self.rpc_count = 0
        self.problems: list[str] = []
        # A GetParameterValues the device refused with 9005 (one name it lacks fails the whole
        # request): asked again name by name in the same session. (task pk, names left, values, missing)
        self.split: tuple[int, deque[str], list[m.ParameterValue], list[str]] | None = None
        self.split_request: m.GetParameterValues | None = None

    async def cpe_request(self, message: m.Message) -> m.Message:
        """TransferComplete finishes the Download task with its command key; the rest as usual."""
        if isinstance(message, m.TransferComplete):
            await self.backend.run_db(_transfer_complete, self.device.pk, message)
        return await super().cpe_request(message)

    async def next_request(self) -> m.Message | None:
        """The next preset request, then the next queued task (claimed in the database)."""
        if self.presets:
            self.current_preset = self.presets.popleft()
            self.rpc_count += 1
            return self.current_preset.request
        self.current_preset = None
        if self.split is not None:
            pk, names, values, missing = self.split
            if names:
                self.split_request = m.GetParameterValues(names=[names.popleft()])
                self.rpc_count += 1
                return self.split_request
            self.split = self.split_request = None
            await self.backend.run_db(_split_done, pk, values, missing)
        if not self.claimed and self.has_tasks:
            # Every runnable task at once (one transaction); asked again when they are used up,
            # so tasks queued during the session still run in it.
            self.claimed.extend(
                await self.backend.writer.submit(ClaimTasks(self.device.pk, self.events, self.backend.files_url))
            )
            if not self.claimed:
                self.has_tasks = False
        if self.claimed:
            self.current_task = self.claimed.popleft()
            self.rpc_count += 1
            return self.current_task[1]
        return None

    async def response(self, request: m.Message, message: m.Message) -> None:
        """Cache what was read or written, store accepted credentials, finish the task."""
        preset = self.current_preset
        if preset is not None and preset.request is request:
            self.current_preset = None
            await self.backend.writer.submit(
                PresetResult(self.device.pk, preset.request.values, preset.credentials is not None)
            )
            if preset.credentials is not None:
                creds = preset.credentials
                self.backend.remember_credentials(self.device, creds.acs_username, creds.acs_password)
            self.device.fields.update(device_fields({v.name: v.value for v in preset.request.values}))
            return
        if self.split is not None and request is self.split_request:
            if isinstance(message, m.GetParameterValuesResponse):
                self.split[2].extend(message.parameters)
            return
        task = self.current_task
        if task is not None and task[1] is request:
            self.current_task = None
            await self.backend.writer.submit(TaskResult(task[0], self.device.pk, request, message, task[2]))
            if task[2] and isinstance(request, m.SetParameterValues):
                fields = _credential_fields(request.values)
                password = next((v.value for v in request.values if v.name.endswith(".Password")), "")
                if fields.get("acs_username") and password:
                    self.backend.remember_credentials(self.device, fields["acs_username"], password)

    async def fault(self, request: m.Message, fault: m.Fault) -> None:
        """Record the fault on the task (retry it when the session merely ended first)."""
        self.problems.append(f"{request.method}: {fault.code}")
        preset = self.current_preset
        if preset is not None and preset.request is request:
            self.current_preset = None
            level = logging.INFO if fault.code == cwmp_faults.RETRY_REQUEST else logging.WARNING
            log.log(
                level, "preset %s failed on %s: %s %s", preset.preset, self.device.device_id, fault.code, fault.string
            )
            return
        if self.split is not None and request is self.split_request:
            if fault.code == cwmp_faults.RETRY_REQUEST:  # the session ended: try the whole task again
                await self.backend.run_db(_requeue, self.split[0])
                self.split = self.split_request = None
            else:
                self.split[3].extend(request.names)  # type: ignore[attr-defined]
            return
        task = self.current_task
        if task is not None and task[1] is request:
            self.current_task = None
            if (
                fault.code == cwmp_faults.INVALID_PARAMETER_NAME
                and isinstance(request, m.GetParameterValues)
                and len(request.names) > 1
            ):
                self.split = (task[0], deque(request.names), [], [])
                return
            await self.backend.run_db(_task_failed, task[0], fault)

    async def close(self, reason: CloseReason) -> None:
        """Give an unanswered task back to the queue; log the session."""
        self.backend.open_sessions -= 1
        if self.split is not None:
            self.current_task = (self.split[0], m.GetParameterValues(), False)
            self.split = None
        unsent = [task[0] for task in self.claimed]
        self.claimed.clear()
        if self.current_task is not None:
            unsent.insert(0, self.current_task[0])
            self.current_task = None
        if unsent:
            try:
                await self.backend.run_db(_requeue_all, unsent)
            except Exception:
                log.exception("could not requeue tasks %s", unsent)
        self.backend.writer.submit_nowait(
            SessionRecord(
                self.device.pk,
                self.events,
                self.started_at,
                timezone.now(),
                reason,
                ", ".join(self.problems),
                self.rpc_count,
                self.remote_addr,
            )
        )


# --- sync database work (in the ACS's threads) ---------------------------------------------


def _with_connection(fn: Any) -> Any:
    """Run ``fn`` on this thread's connection, kept open between calls (the ACS's threads are few
    and fixed, so each holds one pooled connection); a connection that broke is dropped."""

    def run(*args: Any) -> Any:
        try:
            return fn(*args)
        except Exception:
            if connection.connection is not None and connection.errors_occurred and not connection.is_usable():
                connection.close()
            raise

    return run


def _reset_credentials(device_pk: int, username: str, password: str) -> str | None:
    """After a factory reset: the device logs in with its bootstrap credentials again."""
    from beskontakt.cpe.crypto import encrypt
    from beskontakt.cpe.models import DeviceCredentials

    with transaction.atomic():
        taken = DeviceCredentials.objects.filter(acs_username=username).exclude(device_id=device_pk).exists()
        name = None if taken else username[:128]
        DeviceCredentials.objects.update_or_create(
            device_id=device_pk,
            defaults={"acs_username": name, "acs_password_encrypted": encrypt(password)},
        )
    return name


def _load_passwords(usernames: list[str]) -> dict[str, tuple[str, str]]:
    """username → (password, owner's device id) for the ACS usernames known and active."""
    from beskontakt.cpe.models import DeviceCredentials

    found = {}
    for creds in DeviceCredentials.objects.filter(
        acs_username__in=set(usernames), device__status="active"
    ).select_related("device"):
        password = creds.acs_password()
        if password and creds.acs_username:
            found[creds.acs_username] = (password, creds.device.device_id)
    return found


def _cached(device: Any) -> CachedDevice:
    creds = getattr(device, "credentials", None)
    return CachedDevice(
        pk=device.pk,
        device_id=device.device_id,
        serial_number=device.serial_number,
        oui=device.oui,
        product_class=device.product_class,
        data_model=device.data_model,
        enabled=device.enabled,
        acs_username=creds.acs_username if creds is not None else None,
        fields={name: getattr(device, name) for name in set(_FIELD_OF_SUFFIX.values())},
    )


def _lookup_devices(lookups: list[DeviceLookup]) -> dict[str, CachedDevice]:
    """Load the devices of a batch of Informs, register the unknown ones that may be, link equipment."""
    from beskontakt.cpe.crypto import encrypt
    from beskontakt.cpe.models import Device, DeviceCredentials, DeviceEvent

    wanted = {item.inform.device.device_id[:200]: item for item in lookups}
    devices = {d.device_id: d for d in Device.objects.select_related("credentials").filter(device_id__in=list(wanted))}
    new = [item for device_id, item in wanted.items() if device_id not in devices and item.register]
    if new:
        rows = []
        for item in new:
            ident = item.inform.device
            values = {value.name: value.value for value in item.inform.parameters}
            rows.append(
                Device(
                    device_id=ident.device_id[:200],
                    oui=ident.oui[:6],
                    product_class=ident.product_class[:64],
                    serial_number=ident.serial_number[:64],
                    manufacturer=ident.manufacturer[:64],
                    data_model=profiles.data_model_of(values),
                    **device_fields(values),
                )
            )
        Device.objects.bulk_create(rows, ignore_conflicts=True)  # another ACS process may have been first
        created = {
            d.device_id: d for d in Device.objects.filter(device_id__in=[r.device_id for r in rows], credentials=None)
        }
        usernames = {item.username for item in new if item.username and item.password}
        taken = set(DeviceCredentials.objects.filter(acs_username__in=usernames).values_list("acs_username", flat=True))
        credentials: list[DeviceCredentials] = []
        events: list[DeviceEvent] = []
        for item in new:
            device = created.get(item.inform.device.device_id[:200])
            if device is None:
                continue
            events.append(
                DeviceEvent(device=device, kind=DeviceEvent.Kind.REGISTERED, data={"events": item.inform.event_codes})
            )
            if item.username and item.password:
                name = item.username[:128]
                credentials.append(
                    DeviceCredentials(
                        device=device,
                        acs_username=None if name in taken else name,
                        acs_password_encrypted=encrypt(item.password),
                    )
                )
                taken.add(name)
        DeviceCredentials.objects.bulk_create(credentials, ignore_conflicts=True)
        DeviceEvent.objects.bulk_create(events)
        devices.update(
            (d.device_id, d)
            for d in Device.objects.select_related("credentials").filter(device_id__in=[r.device_id for r in rows])
        )
    _link_equipment_bulk(list(devices.values()))
    return {device_id: _cached(device) for device_id, device in devices.items()}


def _link_equipment_bulk(devices: list[Any]) -> None:
    """Link devices without equipment to the subscriber's equipment with the same serial number."""
    from beskontakt.cpe.models import Device
    from beskontakt.subscribers.models import Equipment

    unlinked = {d.serial_number: d for d in devices if d.equipment_id is None}
    if not unlinked:
        return
    linked = []
    for equipment in Equipment.objects.filter(serial_number__in=list(unlinked), managed_device__isnull=True):
        device = unlinked[equipment.serial_number]
        device.equipment_id = equipment.pk
        linked.append(device)
    if linked:
        Device.objects.bulk_update(linked, ["equipment"])


def _load_file(name: str) -> FileAnswer | None:
    from beskontakt.cpe.models import CpeFile

    found = CpeFile.objects.filter(name=name).first()
    if found is None or not found.file:
        return None
    try:
        path = Path(found.file.path)
    except NotImplementedError:  # a storage without local paths
        with found.file.open("rb") as handle:
            return handle.read(), "application/octet-stream"
    return path, "application/octet-stream"


def _claim_tasks(claims: list[ClaimTasks], now: datetime) -> dict[int, list[tuple[int, m.Message, bool]]]:
    """Mark every runnable queued task of the claiming devices sent (oldest first), build their requests.

    Inside the batch's transaction, one statement each: the runnable tasks of all the devices
    (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL), expired tasks become "expired", tasks
    whose request cannot be built "failed", the rest "sent". Device pk → its claimed tasks.
    """
    from django.db.models import F

    from beskontakt.cpe.models import DeviceTask

    events_of = {item.device_pk: (set(item.events), item.files_url) for item in claims}
    events = sorted(set().union(*(found for found, _ in events_of.values())))
    query = (
        DeviceTask.objects.filter(device_id__in=list(events_of), status=DeviceTask.Status.QUEUED)
        .filter(Q(wait_event="") | Q(wait_event__in=events))
        .order_by("id")
    )
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True)
    claimed: dict[int, list[tuple[int, m.Message, bool]]] = {}
    expired: list[int] = []
    failed: list[DeviceTask] = []
    for pk, device_pk, rpc, arguments, wait_event, expires_at in query.values_list(
        "id", "device_id", "rpc", "arguments", "wait_event", "expires_at"
    ):
        device_events, files_url = events_of[device_pk]
        if wait_event and wait_event not in device_events:
            continue
        if expires_at is not None and expires_at <= now:
            expired.append(pk)
            continue
        try:
            request = rpcs.build_request(rpc, arguments, files_url=files_url)
        except (ValueError, KeyError, TypeError) as exc:
            failed.append(
                DeviceTask(
                    pk=pk,
                    status=DeviceTask.Status.FAILED,
                    finished_at=now,
                    fault_code=cwmp_faults.INTERNAL_ERROR,
                    fault_string=f"cannot build the request: {exc}"[:500],
                )
            )
            continue
        stores = bool(arguments.get("credentials")) if isinstance(arguments, dict) else False
        claimed.setdefault(device_pk, []).append((pk, request, stores))
    if expired:
        DeviceTask.objects.filter(pk__in=expired).update(status=DeviceTask.Status.EXPIRED, finished_at=now)
    if failed:
        _update_rows(DeviceTask, failed, ("status", "finished_at", "fault_code", "fault_string"))
    if claimed:
        DeviceTask.objects.filter(pk__in=[pk for tasks in claimed.values() for pk, _, _ in tasks]).update(
            status=DeviceTask.Status.SENT, sent_at=now, attempts=F("attempts") + 1
        )
    return claimed


def _requeue_all(pks: list[int]) -> None:
    """Give sent tasks the session did not finish back to the queue."""
    from beskontakt.cpe.models import DeviceTask

    DeviceTask.objects.filter(pk__in=pks, status=DeviceTask.Status.SENT).update(status=DeviceTask.Status.QUEUED)


def _cache_writable(device_pk: int, infos: list[m.ParameterInfo]) -> None:
    """Note which cached parameters are writable (from GetParameterNames)."""
    _cache_writable_bulk([(device_pk, infos)])


def _cache_writable_bulk(answers: list[tuple[int, list[m.ParameterInfo]]]) -> None:
    """Note which cached parameters are writable, for several GetParameterNames answers at once:
    one ``UPDATE … WHERE (device_id, path) IN (…)`` per flag (and per 400 rows); rows not cached
    yet are not created."""
    from beskontakt.cpe.models import DeviceParameter

    table = connection.ops.quote_name(DeviceParameter._meta.db_table)
    with connection.cursor() as cursor:
        for flag in (True, False):
            pairs = list(
                dict.fromkeys(
                    (device_pk, info.name[:255])
                    for device_pk, infos in answers
                    for info in infos
                    if info.writable is flag and not info.name.endswith(".")
                )
            )
            for start in range(0, len(pairs), 400):
                chunk = pairs[start : start + 400]
                rows = ", ".join(["(%s, %s)"] * len(chunk))
                cursor.execute(
                    f"UPDATE {table} SET writable = %s WHERE (device_id, path) IN ({rows})",  # noqa: S608
                    [flag, *(part for pair in chunk for part in pair)],
                )


def _like_prefix(prefix: str) -> str:
    """A ``LIKE … ESCAPE '!'`` pattern for the paths under ``prefix``."""
    return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def _drop_vanished(device_pk: int, asked: list[str], values: list[m.ParameterValue]) -> None:
    """Forget cached parameters under an asked partial path that the device no longer has.

    A partial path (``...AssociatedDevice.``) answers with every instance that exists now:
    instances the cache still holds from earlier (a Wi-Fi client that left) are gone.
    One DELETE per partial path (no query when only full names were asked).
    """
    from beskontakt.cpe.models import DeviceParameter

    prefixes = [name for name in asked if name.endswith(".")]
    if not prefixes:
        return
    table = connection.ops.quote_name(DeviceParameter._meta.db_table)
    with connection.cursor() as cursor:
        for prefix in prefixes:
            present = sorted({item.name[:255] for item in values if item.name.startswith(prefix)})
            if len(present) > 500:  # too many to list in one statement: compare in Python
                stale = [
                    path
                    for path in DeviceParameter.objects.filter(
                        device_id=device_pk, path__startswith=prefix
                    ).values_list("path", flat=True)
                    if path not in present
                ]
                for start in range(0, len(stale), 500):
                    DeviceParameter.objects.filter(device_id=device_pk, path__in=stale[start : start + 500]).delete()
                continue
            keep = f" AND path NOT IN ({', '.join(['%s'] * len(present))})" if present else ""
            cursor.execute(
                f"DELETE FROM {table} WHERE device_id = %s AND path LIKE %s ESCAPE '!'{keep}",  # noqa: S608
                [device_pk, _like_prefix(prefix), *present],
            )


def _split_done(pk: int, values: list[m.ParameterValue], missing: list[str]) -> None:
    """Finish a GetParameterValues asked name by name: the values found, the names missing."""
    from beskontakt.cpe.models import DeviceTask

    with transaction.atomic():
        task = DeviceTask.objects.select_for_update().get(pk=pk)
        _cache_values(task.device_id, values)
        task.status = DeviceTask.Status.DONE
        task.finished_at = timezone.now()
        task.result = {
            **rpcs.result_of(m.GetParameterValues(), m.GetParameterValuesResponse(values)),
            "missing": missing,
        }
        task.save(update_fields=["status", "finished_at", "result"])


def _task_failed(pk: int, fault: m.Fault) -> None:
    from beskontakt.cpe.models import DeviceTask

    if fault.code == cwmp_faults.RETRY_REQUEST:
        _requeue(pk)
        return
    DeviceTask.objects.filter(pk=pk).update(
        status=DeviceTask.Status.FAILED,
        finished_at=timezone.now(),
        fault_code=fault.code,
        fault_string=fault.string[:500],
        result=rpcs.fault_result(fault),
    )


def _requeue(pk: int) -> None:
    from beskontakt.cpe.models import DeviceTask

    DeviceTask.objects.filter(pk=pk, status=DeviceTask.Status.SENT).update(status=DeviceTask.Status.QUEUED)


def _transfer_complete(device_pk: int, message: m.TransferComplete) -> None:
    """The Download task with this command key is over: done, or failed with the CPE's fault."""
    from beskontakt.cpe.models import DeviceTask

    task = (
        DeviceTask.objects.filter(device_id=device_pk, rpc="Download", arguments__command_key=message.command_key)
        .order_by("-id")
        .first()
    )
    if task is None:
        return
    task.result = {**task.result, "transfer": "failed" if message.fault_code else "done"}
    if message.fault_code:
        task.status = DeviceTask.Status.FAILED
        task.fault_code = message.fault_code
        task.fault_string = message.fault_string[:500]
    task.finished_at = timezone.now()
    task.save(update_fields=["result", "status", "fault_code", "fault_string", "finished_at"])


def load_presets() -> list[preset_rules.PresetSpec]:
    """The enabled presets as plain specs."""
    from beskontakt.cpe.models import Preset

    return [
        preset_rules.PresetSpec(
            name=p.name,
            events=frozenset(str(code) for code in (p.events or [])),
            actions=tuple(p.actions or []),
            product_class=p.product_class,
            data_model=p.data_model,
            oui=p.oui,
            precedence=p.precedence,
        )
        for p in Preset.objects.filter(enabled=True)
    ]
