"""``BuiltinAcs``: the ``DeviceManagement`` contract (``management.py``) over the built-in ACS.

Operations become ``DeviceTask`` rows (``actions.queue_task``) followed by a connection
request, so the device opens a session at once and the ACS process runs the task; this side
then polls the task row every ``poll_interval`` seconds until it is final or ``timeout``
passes (then ``Outcome.timed_out``; the task stays queued for the device's next session).
Diagnostics (IPPing, DownloadDiagnostics) are two tasks: a SetParameterValues that starts
the test, and a GetParameterValues of the results that the ACS hands out only in the
session the device opens with ``8 DIAGNOSTICS COMPLETE``.

``actor`` and ``case`` (constructor or per call) are recorded on every task, so the remote
fixes made from a case show on it; the Protocol's calls stay valid without them.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError

from beskontakt.cpe import actions, profiles
from beskontakt.cpe import presets as preset_rules
from beskontakt.cpe.faults import describe_fault
from beskontakt.cpe.management import DeviceInfo, Outcome, Reading
from beskontakt.cpe.models import Device, DeviceParameter, DeviceTask

if TYPE_CHECKING:
    from beskontakt.accounts.models import User
    from beskontakt.cases.models import Case

log = logging.getLogger("beskontakt.cpe")
DIAGNOSTICS_COMPLETE = "8 DIAGNOSTICS COMPLETE"


def _info(device: Device) -> DeviceInfo:
    return DeviceInfo(
        device_id=device.device_id,
        serial_number=device.serial_number,
        data_model=device.data_model,
        manufacturer=device.manufacturer,
        product_class=device.product_class,
        software_version=device.software_version,
        last_inform_at=device.last_inform_at,
        periodic_inform_interval=device.periodic_inform_interval,
    )


class BuiltinAcs:
    """``DeviceManagement`` through the built-in ACS (see the module docstring)."""

    name = "builtin"

    def __init__(self, *, actor: User | None = None, case: Case | None = None, poll_interval: float = 0.05) -> None:
        self.actor = actor
        self.case = case
        self.poll_interval = poll_interval

    # --- look-ups ----------------------------------------------------------------------

    def find_device(self, serial_number: str) -> DeviceInfo | None:
        """The most recently seen device with this serial number."""
        device = (
            Device.objects.filter(serial_number=serial_number).order_by("-last_inform_at", "-id").first()
            if serial_number
            else None
        )
        return _info(device) if device is not None else None

    def _device(self, device_id: str) -> Device | None:
        return Device.objects.select_related("credentials").filter(device_id=device_id).first()

    def read(
        self, device_id: str, names: list[str], *, refresh: bool = False, timeout: float = 3.0
    ) -> tuple[dict[str, Reading], Outcome]:
        """Logical values from the parameter cache; with ``refresh`` first fresh from the device."""
        device = self._device(device_id)
        if device is None:
            return {}, Outcome(False, "unknown device")
        profile = profiles.profile_for(device.data_model)
        paths = profile.paths(names)
        outcome = Outcome(True, "from cache")
        if refresh and paths:
            outcome = self._run(device, "GetParameterValues", {"names": paths}, timeout)
        return self._readings(device, profile, names, paths), outcome

    def _readings(
        self, device: Device, profile: profiles.Profile, names: list[str], paths: list[str]
    ) -> dict[str, Reading]:
        from django.db.models import Q

        if not paths:
            return {name: Reading(name, None) for name in names}
        query = Q()
        for path in paths:
            query |= Q(path__startswith=path) if path.endswith(".") else Q(path=path)
        rows = {row.path: row for row in DeviceParameter.objects.filter(device=device).filter(query)}
        values = {path: row.value for path, row in rows.items()}
        readings: dict[str, Reading] = {}
        for name in names:
            path = profile.path(name) or ""
            value = profile.decode(name, values)
            stamps = [
                row.updated_at for p, row in rows.items() if p == path or (path.endswith(".") and p.startswith(path))
            ]
            updated: datetime | None = min(stamps) if stamps else None
            readings[name] = Reading(name, value, path, updated)
        return readings

    # --- operations ---------------------------------------------------------------------

    def set_values(self, device_id: str, values: dict[str, Any], *, timeout: float = 10.0) -> Outcome:
        """SetParameterValues of logical values, with a fresh ParameterKey."""
        device = self._device(device_id)
        if device is None:
            return Outcome(False, "unknown device")
        profile = profiles.profile_for(device.data_model)
        try:
            encoded = [list(profile.encode(name, value)) for name, value in values.items()]
        except KeyError as exc:
            return Outcome(False, f"the data model has no {exc.args[0]}")
        args = {"values": encoded, "parameter_key": "bk-" + secrets.token_hex(6)}
        return self._run(device, "SetParameterValues", args, timeout)

    def reboot(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """Reboot now."""
        return self._simple(device_id, "Reboot", {"command_key": "bk-" + secrets.token_hex(4)}, timeout)

    def factory_reset(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """Factory reset now (the device comes back with 0 BOOTSTRAP and gets its presets)."""
        return self._simple(device_id, "FactoryReset", {}, timeout)

    def reprovision(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """Queue every preset matching the device (whatever its events) and run them now."""
        from beskontakt.cpe.acs.backend import load_presets

        device = self._device(device_id)
        if device is None:
            return Outcome(False, "unknown device")
        specs = [
            spec
            for spec in load_presets()
            if spec.matches(
                oui=device.oui, product_class=device.product_class, data_model=device.data_model, events=None
            )
        ]
        requests = preset_rules.requests_for(
            specs, device_id=device.device_id, serial_number=device.serial_number, data_model=device.data_model
        )
        if not requests:
            return Outcome(True, "no presets apply")
        tasks = []
        try:
            for item in requests:
                args: dict[str, Any] = {
                    "values": [list(v) for v in item.request.values],
                    "parameter_key": item.request.parameter_key,
                }
                if item.credentials is not None:
                    args["credentials"] = True
                tasks.append(self._queue(device, "SetParameterValues", args, now=False))
        except (ValidationError, PermissionDenied) as exc:
            return Outcome(False, f"refused: {exc}")
        from beskontakt.cpe import connection

        connection.wake(device.pk)
        return self._wait_all(tasks, timeout)

    def ping(self, device_id: str, host: str, *, count: int = 4, timeout: float = 15.0) -> Outcome:
        """IPPing from the device; ``values``: sent, received, avg_ms, min_ms, max_ms."""
        names = {
            "received": profiles.PING_SUCCESS,
            "failed": profiles.PING_FAILURE,
            "avg_ms": profiles.PING_AVG,
            "min_ms": profiles.PING_MIN,
            "max_ms": profiles.PING_MAX,
            "state": profiles.PING_STATE,
        }
        start = {profiles.PING_HOST: host, profiles.PING_COUNT: count, profiles.PING_STATE: "Requested"}
        outcome = self._diagnostics(device_id, start, names, timeout)
        if outcome.ok:
            values = outcome.values
            values["sent"] = count
            if values.get("received") is None and values.get("failed") is not None:
                values["received"] = max(0, count - values["failed"])
        return outcome

    def speed_test(self, device_id: str, url: str, *, timeout: float = 30.0) -> Outcome:
        """DownloadDiagnostics; ``values``: bytes, seconds, mbps."""
        names = {
            "bytes": profiles.DOWNLOAD_BYTES,
            "bom": profiles.DOWNLOAD_BOM,
            "eom": profiles.DOWNLOAD_EOM,
            "state": profiles.DOWNLOAD_STATE,
        }
        start = {profiles.DOWNLOAD_URL: url, profiles.DOWNLOAD_STATE: "Requested"}
        outcome = self._diagnostics(device_id, start, names, timeout)
        if outcome.ok:
            values = outcome.values
            seconds = _seconds_between(values.pop("bom", None), values.pop("eom", None))
            values["seconds"] = seconds
            size = values.get("bytes")
            values["mbps"] = round(size * 8 / seconds / 1e6, 2) if size and seconds else None
        return outcome

    # --- machinery -------------------------------------------------------------------------

    def _diagnostics(self, device_id: str, start: dict[str, Any], names: dict[str, str], timeout: float) -> Outcome:
        device = self._device(device_id)
        if device is None:
            return Outcome(False, "unknown device")
        profile = profiles.profile_for(device.data_model)
        try:
            encoded = [list(profile.encode(name, value)) for name, value in start.items()]
        except KeyError as exc:
            return Outcome(False, f"the data model has no {exc.args[0]}")
        paths = profile.paths(list(names.values()))
        try:
            first = self._queue(device, "SetParameterValues", {"values": encoded, "parameter_key": ""}, now=False)
            second = self._queue(
                device, "GetParameterValues", {"names": paths}, now=True, wait_event=DIAGNOSTICS_COMPLETE
            )
        except (ValidationError, PermissionDenied) as exc:
            return Outcome(False, f"refused: {exc}")
        outcome = self._wait_all([first, second], timeout)
        if not outcome.ok:
            if not outcome.timed_out:
                DeviceTask.objects.filter(pk=second.pk, status=DeviceTask.Status.QUEUED).update(
                    status=DeviceTask.Status.CANCELLED
                )
            return outcome
        result = DeviceTask.objects.get(pk=second.pk).result.get("values", {})
        values = {key: profile.decode(name, result) for key, name in names.items()}
        state = values.pop("state", None)
        outcome.values = values
        if state and str(state).lower() not in ("complete", "completed"):
            outcome.ok = False
            outcome.detail = f"diagnostics ended in state {state}"
        return outcome

    def _queue(self, device: Device, rpc: str, args: dict[str, Any], *, now: bool, wait_event: str = "") -> DeviceTask:
        return actions.queue_task(device, rpc, args, by=self.actor, case=self.case, now=now, wait_event=wait_event)

    def _simple(self, device_id: str, rpc: str, args: dict[str, Any], timeout: float) -> Outcome:
        device = self._device(device_id)
        if device is None:
            return Outcome(False, "unknown device")
        return self._run(device, rpc, args, timeout)

    def _run(self, device: Device, rpc: str, args: dict[str, Any], timeout: float) -> Outcome:
        try:
            task = self._queue(device, rpc, args, now=True)
        except (ValidationError, PermissionDenied) as exc:
            return Outcome(False, f"refused: {exc}")
        return self._wait_all([task], timeout)

    def _wait_all(self, tasks: list[DeviceTask], timeout: float) -> Outcome:
        """Poll until every task is final (or ``timeout``); the outcome of the first failure or the last."""
        deadline = time.monotonic() + timeout
        pks = [task.pk for task in tasks]
        while True:
            rows = {row.pk: row for row in DeviceTask.objects.filter(pk__in=pks)}
            for pk in pks:
                row = rows.get(pk)
                if row is not None and row.status in (DeviceTask.Status.FAILED, DeviceTask.Status.EXPIRED):
                    return Outcome(
                        False,
                        row.fault_string or row.status,
                        fault_code=row.fault_code,
                        task_id=str(row.pk),
                        values={"fault": describe_fault(row.fault_code), **row.result} if row.fault_code else {},
                    )
                if row is not None and row.status == DeviceTask.Status.CANCELLED:
                    return Outcome(False, "cancelled", task_id=str(row.pk))
            if all(rows.get(pk) is not None and rows[pk].status == DeviceTask.Status.DONE for pk in pks):
                return Outcome(True, "done", task_id=str(pks[-1]), values=dict(rows[pks[-1]].result))
            if time.monotonic() >= deadline:
                return Outcome(False, "the device did not answer in time", timed_out=True, task_id=str(pks[-1]))
            _release_connection()
            time.sleep(min(self.poll_interval, max(0.0, deadline - time.monotonic())))


def _release_connection() -> None:
    """Give the database connection back (to the pool) while waiting, unless a transaction needs it."""
    from django.db import connection

    if not connection.in_atomic_block:
        connection.close()


def _seconds_between(bom: Any, eom: Any) -> float | None:
    from beskontakt.cpe.cwmp.messages import parse_time

    start = bom if isinstance(bom, datetime) else parse_time(str(bom)) if bom else None
    end = eom if isinstance(eom, datetime) else parse_time(str(eom)) if eom else None
    if start is None or end is None:
        return None
    return max(0.001, (end - start).total_seconds())
