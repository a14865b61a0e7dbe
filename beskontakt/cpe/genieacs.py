"""``GenieAcs``: the ``DeviceManagement`` contract over an existing GenieACS's northbound interface.

For operators who already run GenieACS. Everything goes through its NBI (default port 7557)
exactly as ``docs/api-reference.rst`` of GenieACS documents it:

* ``GET /devices/?query=<mongo JSON>&projection=<paths>`` reads device documents — the
  ACS's cache, each parameter an object with ``_value``, ``_type``, ``_timestamp``;
* ``POST /devices/<id>/tasks?timeout=<ms>&connection_request`` with one task
  (``getParameterValues``, ``refreshObject``, ``setParameterValues``, ``reboot``,
  ``factoryReset``) runs it now: **200** when the device ran it, **202** when it stays queued
  for the next inform (the connection request failed, the session did not start within
  ``timeout``, or the task faulted);
* after a 202 the task's fault is looked up (``GET /faults/?query={"_id": "<id>:task_<task>"}``);
  a CWMP fault becomes ``Outcome(ok=False, fault_code=…)`` and is deleted
  (``DELETE /faults/<id>``, which drops the task too) so it does not block the device's queue.
  Without a fault the task stays queued: ``Outcome(timed_out=True)``.

Device ids are GenieACS's own (``OUI-ProductClass-Serial``, parts percent-escaped); they are
percent-encoded again in URLs, so ``%2D`` travels as ``%252D``. The data model is TR-181 when
the device document has ``Device``, else TR-098. Nothing here raises for a device or NBI
problem: an unreachable NBI, a timeout or a refusal comes back as an ``Outcome`` with an
English ``detail``. Values written to devices (passwords) are never logged.

Diagnostics (``ping``, ``speed_test``) are two steps: a ``setParameterValues`` of the test's
parameters with ``DiagnosticsState=Requested``, then waiting for the results. The CPE runs the
test after that session and opens a new one with ``8 DIAGNOSTICS COMPLETE``; GenieACS records
the inform (``_lastInform`` moves) but fetches the results only if a provision says so. So the
adapter polls the document (no connection request, ``poll_interval`` growing to 1 s); when
``_lastInform`` has moved, or every ``refresh_every`` seconds as a safety net, it asks for the
result parameters with a ``getParameterValues`` task; it stops when ``DiagnosticsState`` is no
longer ``Requested`` or the deadline passes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from beskontakt.cpe import profiles
from beskontakt.cpe.management import DeviceInfo, Outcome, Reading

logger = logging.getLogger(__name__)

_PENDING_STATES = {"Requested", "None", ""}
_DEVICE_FIELDS = ["_id", "_lastInform", "_deviceId"]
_INFO_LEAVES = [
    "DeviceInfo.SoftwareVersion",
    "ManagementServer.PeriodicInformInterval",
    "ManagementServer.ConnectionRequestURL",
]
_ROOTS = {profiles.TR181: "Device.", profiles.TR098: "InternetGatewayDevice."}


class _Deadline:
    """A point in time every request of one operation must finish by."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + max(seconds, 0.0)

    def left(self) -> float:
        return max(self.at - time.monotonic(), 0.0)


def _parse_time(raw: Any) -> datetime | None:
    """A JSON date as GenieACS writes it (``2026-11-25T08:00:00.000Z``); None when it is not one."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _as_text(value: Any) -> str:
    """A stored ``_value`` as the string a CPE would send (profiles decode strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def flatten(document: Mapping[str, Any]) -> dict[str, tuple[Any, datetime | None]]:
    """Parameter path → (``_value``, ``_timestamp``) for every leaf of a device document."""
    leaves: dict[str, tuple[Any, datetime | None]] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, child in node.items():
            if key.startswith("_") or not isinstance(child, Mapping):
                continue
            path = prefix + key
            if "_value" in child:
                leaves[path] = (child["_value"], _parse_time(child.get("_timestamp")))
            walk(child, path + ".")

    walk(document, "")
    return leaves


def data_model_of_document(document: Mapping[str, Any]) -> str:
    """TR-181 when the document has ``Device``, else TR-098 (GenieACS's own rule for requests)."""
    return profiles.TR181 if "Device" in document else profiles.TR098


class GenieAcs:
    """``DeviceManagement`` through GenieACS's NBI (see the module docstring for the wire)."""

    name = "genieacs"

    def __init__(
        self,
        nbi_url: str,
        *,
        connect_timeout: float = 2.0,
        poll_interval: float = 0.25,
        refresh_every: float = 2.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.nbi_url = nbi_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.poll_interval = poll_interval
        self.refresh_every = refresh_every
        self._client = client or httpx.Client(headers={"Accept": "application/json"})
        self._models: dict[str, str] = {}
        self.last_error = ""  # why the last find_device found nothing, when the NBI failed

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> GenieAcs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- HTTP ----------------------------------------------------------------------
    def _send(
        self, method: str, path: str, deadline: _Deadline, *, query: str = "", body: Any = None
    ) -> httpx.Response | Outcome:
        """One NBI request within the deadline; an ``Outcome`` instead of an exception when it fails."""
        left = deadline.left()
        if left <= 0:
            return Outcome(False, "no time left for the GenieACS NBI", timed_out=True)
        url = self.nbi_url + path + (f"?{query}" if query else "")
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        timeout = httpx.Timeout(left, connect=min(self.connect_timeout, left))
        try:
            response = self._client.request(method, url, content=content, timeout=timeout)
        except httpx.TimeoutException:
            logger.info("GenieACS NBI %s %s: no answer within %.1f s", method, path, left)
            return Outcome(False, f"GenieACS NBI did not answer within {left:.1f} s", timed_out=True)
        except httpx.HTTPError as exc:
            logger.warning("GenieACS NBI %s %s failed: %s", method, path, type(exc).__name__)
            return Outcome(False, f"GenieACS NBI at {self.nbi_url} is unreachable ({type(exc).__name__}: {exc})")
        logger.debug("GenieACS NBI %s %s → %s", method, path, response.status_code)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    @staticmethod
    def _refused(response: httpx.Response, what: str, *, echo: bool = True) -> Outcome:
        # GenieACS's refusal of a task may quote the values sent (passwords): not echoed for tasks
        text = response.text.strip()[:200] if echo else ""
        if response.status_code == 404:
            return Outcome(False, f"GenieACS does not know {what}")
        return Outcome(False, f"GenieACS refused {what}: HTTP {response.status_code} {text}".rstrip())

    def _find(
        self, query: Mapping[str, Any], projection: Iterable[str], deadline: _Deadline
    ) -> list[dict[str, Any]] | Outcome:
        """``GET /devices/?query=…&projection=…``: the matching device documents."""
        encoded = quote(json.dumps(query, separators=(",", ":")), safe="")
        fields = ",".join(dict.fromkeys(projection))
        response = self._send("GET", "/devices/", deadline, query=f"query={encoded}&projection={fields}")
        if isinstance(response, Outcome):
            return response
        if response.status_code != 200:
            return self._refused(response, "the device query")
        documents = self._json(response)
        if not isinstance(documents, list):
            return Outcome(False, "GenieACS answered the device query with something other than a JSON list")
        return [d for d in documents if isinstance(d, dict)]

    def _document(self, device_id: str, paths: Iterable[str], deadline: _Deadline) -> dict[str, Any] | Outcome:
        """The device's document restricted to ``paths`` (plus ``_id``/``_lastInform``/``_deviceId``)."""
        found = self._find({"_id": device_id}, [*_DEVICE_FIELDS, *paths], deadline)
        if isinstance(found, Outcome):
            return found
        if not found:
            return Outcome(False, f"GenieACS does not know device {device_id}")
        return found[0]

    def _task(self, device_id: str, task: dict[str, Any], deadline: _Deadline) -> Outcome:
        """Post one task with a connection request and say what came of it."""
        left_ms = int(deadline.left() * 1000)
        # The NBI waits ``timeout`` ms for the session to start, then for it to end: leave a third for that.
        online_ms = max(left_ms * 2 // 3, 1)
        path = f"/devices/{quote(device_id, safe='')}/tasks"
        response = self._send("POST", path, deadline, query=f"timeout={online_ms}&connection_request", body=task)
        if isinstance(response, Outcome):
            return response
        answer = self._json(response)
        task_id = answer.get("_id") if isinstance(answer, dict) else None
        if response.status_code == 200:
            return Outcome(True, f"{task['name']} done", task_id=task_id)
        if response.status_code != 202:
            return self._refused(response, f"the {task['name']} task for device {device_id}", echo=False)
        if task_id:
            fault = self._task_fault(device_id, str(task_id), deadline)
            if fault is not None:
                return fault
        reason = response.reason_phrase or "Task queued but not processed"
        return Outcome(False, f"{task['name']} queued for the next inform: {reason}", timed_out=True, task_id=task_id)

    def _task_fault(self, device_id: str, task_id: str, deadline: _Deadline) -> Outcome | None:
        """The fault a task ended with (deleted, so the device's queue moves on), or None."""
        fault_id = f"{device_id}:task_{task_id}"
        encoded = quote(json.dumps({"_id": fault_id}, separators=(",", ":")), safe="")
        response = self._send("GET", "/faults/", deadline, query=f"query={encoded}")
        if isinstance(response, Outcome) or response.status_code != 200:
            return None
        faults = self._json(response)
        if not isinstance(faults, list) or not faults or not isinstance(faults[0], dict):
            return None
        fault = faults[0]
        code, message = _fault_code(fault)
        self._send("DELETE", f"/faults/{quote(fault_id, safe='')}", deadline)
        label = f"CPE fault {code}" if code is not None else f"GenieACS fault {fault.get('code', '')!s}"
        return Outcome(False, f"{label}: {message}".strip(), fault_code=code, task_id=task_id)

    def _model(self, device_id: str, deadline: _Deadline) -> str | Outcome:
        """The device's data model (cached per adapter)."""
        if device_id in self._models:
            return self._models[device_id]
        paths = [root + leaf for root in _ROOTS.values() for leaf in _INFO_LEAVES]
        document = self._document(device_id, paths, deadline)
        if isinstance(document, Outcome):
            return document
        model = data_model_of_document(document)
        self._models[device_id] = model
        return model

    # --- DeviceManagement ------------------------------------------------------------
    def find_device(self, serial_number: str) -> DeviceInfo | None:
        """The device with this serial number (the most recently informing one), or None.

        None also when the NBI cannot be asked; ``last_error`` then says why.
        """
        self.last_error = ""
        paths = [root + leaf for root in _ROOTS.values() for leaf in _INFO_LEAVES]
        found = self._find({"_deviceId._SerialNumber": serial_number}, [*_DEVICE_FIELDS, *paths], _Deadline(5.0))
        if isinstance(found, Outcome):
            self.last_error = found.detail
            return None
        if not found:
            return None
        epoch = datetime.min.replace(tzinfo=None)

        def informed(doc: Mapping[str, Any]) -> datetime:
            moment = _parse_time(doc.get("_lastInform"))
            return moment.replace(tzinfo=None) if moment else epoch

        document = max(found, key=informed)
        model = data_model_of_document(document)
        device_id = str(document.get("_id", ""))
        self._models[device_id] = model
        raw_ids = document.get("_deviceId")
        ids: dict[str, Any] = raw_ids if isinstance(raw_ids, dict) else {}
        leaves = flatten(document)
        root = _ROOTS[model]
        interval = leaves.get(root + "ManagementServer.PeriodicInformInterval", (None, None))[0]
        try:
            periodic = int(interval) if interval is not None else None
        except (TypeError, ValueError):
            periodic = None
        return DeviceInfo(
            device_id=device_id,
            serial_number=str(ids.get("_SerialNumber", serial_number)),
            data_model=model,
            manufacturer=str(ids.get("_Manufacturer", "")),
            product_class=str(ids.get("_ProductClass", "")),
            software_version=_as_text(leaves.get(root + "DeviceInfo.SoftwareVersion", ("", None))[0]),
            last_inform_at=_parse_time(document.get("_lastInform")),
            periodic_inform_interval=periodic,
        )

    def read(
        self, device_id: str, names: list[str], *, refresh: bool = False, timeout: float = 3.0
    ) -> tuple[dict[str, Reading], Outcome]:
        """Logical values from GenieACS's document; with ``refresh`` fetched from the device first.

        When the refresh fails the cached values still come back, with the failed ``Outcome``.
        """
        deadline = _Deadline(timeout)
        model = self._model(device_id, deadline)
        if isinstance(model, Outcome):
            return {name: Reading(name, None) for name in names}, model
        profile = profiles.profile_for(model)
        outcome = Outcome(True, "from GenieACS's cache")
        if refresh:
            # keep a fifth of the time (at most a second) to read the cache when the device is slow
            reserve = min(deadline.left() / 5, 1.0)
            outcome = self._refresh(device_id, profile, names, _Deadline(deadline.left() - reserve))
        document = self._document(device_id, self._projection(profile, names), deadline)
        if isinstance(document, Outcome):
            return {name: Reading(name, None) for name in names}, document
        readings = self._readings(profile, names, document)
        outcome.values.setdefault("data_model", model)
        return readings, outcome

    def _refresh(self, device_id: str, profile: profiles.Profile, names: list[str], deadline: _Deadline) -> Outcome:
        """Fetch ``names`` from the device: one getParameterValues, one refreshObject per list name."""
        leaves = [p.path for n in names if (p := profile.params.get(n)) and not p.leaf]
        objects = [p.path.rstrip(".") for n in names if (p := profile.params.get(n)) and p.leaf]
        outcome = Outcome(True, "nothing to fetch")
        if leaves:
            outcome = self._task(device_id, {"name": "getParameterValues", "parameterNames": leaves}, deadline)
        for object_name in objects:
            if not outcome.ok:
                break
            outcome = self._task(device_id, {"name": "refreshObject", "objectName": object_name}, deadline)
        if outcome.ok:
            outcome.detail = "fresh from the device"
        return outcome

    @staticmethod
    def _projection(profile: profiles.Profile, names: list[str]) -> list[str]:
        return [param.path.rstrip(".") for name in names if (param := profile.params.get(name))]

    @staticmethod
    def _readings(profile: profiles.Profile, names: list[str], document: Mapping[str, Any]) -> dict[str, Reading]:
        leaves = flatten(document)
        texts = {path: _as_text(value) for path, (value, _) in leaves.items() if value is not None}
        readings: dict[str, Reading] = {}
        for name in names:
            param = profile.params.get(name)
            if param is None:
                readings[name] = Reading(name, None)
                continue
            if param.leaf:
                stamps = [s for p, (_, s) in leaves.items() if p.startswith(param.path) and s is not None]
                updated = max(stamps) if stamps else None
            else:
                updated = leaves.get(param.path, (None, None))[1]
            readings[name] = Reading(name, profile.decode(name, texts), param.path, updated)
        return readings

    def set_values(self, device_id: str, values: dict[str, Any], *, timeout: float = 10.0) -> Outcome:
        """Write logical values with one ``setParameterValues`` task ([path, value, xsd type] each)."""
        deadline = _Deadline(timeout)
        model = self._model(device_id, deadline)
        if isinstance(model, Outcome):
            return model
        return self._set(device_id, profiles.profile_for(model), values, deadline)

    def _set(
        self, device_id: str, profile: profiles.Profile, values: Mapping[str, Any], deadline: _Deadline
    ) -> Outcome:
        missing = [name for name in values if name not in profile.params or profile.params[name].leaf]
        if missing:
            return Outcome(False, f"the {profile.data_model} model has no writable {', '.join(sorted(missing))}")
        if not values:
            return Outcome(False, "nothing to set")
        wrong = [name for name, value in values.items() if not _fits(value, profile.params[name].xsd_type)]
        if wrong:
            return Outcome(False, f"values of the wrong type for {', '.join(sorted(wrong))}")
        triples = [list(profile.encode(name, value)) for name, value in values.items()]
        return self._task(device_id, {"name": "setParameterValues", "parameterValues": triples}, deadline)

    def reboot(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """A ``reboot`` task with a connection request."""
        return self._task(device_id, {"name": "reboot"}, _Deadline(timeout))

    def factory_reset(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """A ``factoryReset`` task with a connection request."""
        return self._task(device_id, {"name": "factoryReset"}, _Deadline(timeout))

    def reprovision(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """A bare connection request: GenieACS applies its presets in the session it opens.

        GenieACS has no "apply presets" task; presets are evaluated in every session, so the
        NBI's connection request (``POST …/tasks?connection_request`` without a body: 200, or
        504 when the device cannot be reached) is how to have them applied now.
        """
        deadline = _Deadline(timeout)
        path = f"/devices/{quote(device_id, safe='')}/tasks"
        response = self._send("POST", path, deadline, query="connection_request")
        if isinstance(response, Outcome):
            return response
        if response.status_code == 200:
            return Outcome(True, "connection request accepted; GenieACS applies its presets in that session")
        if response.status_code == 504:
            reason = response.text.strip()[:200] or response.reason_phrase
            return Outcome(False, f"connection request failed: {reason}", timed_out=True)
        return self._refused(response, f"a connection request to device {device_id}")

    def ping(self, device_id: str, host: str, *, count: int = 4, timeout: float = 15.0) -> Outcome:
        """IPPing diagnostics; ``values``: sent, received, avg_ms, min_ms, max_ms."""
        if not host or count < 1:
            return Outcome(False, "ping needs a host and a count of at least 1")
        deadline = _Deadline(timeout)
        setup = {profiles.PING_HOST: host, profiles.PING_COUNT: count, profiles.PING_STATE: "Requested"}
        results = [
            profiles.PING_STATE,
            profiles.PING_SUCCESS,
            profiles.PING_FAILURE,
            profiles.PING_AVG,
            profiles.PING_MIN,
            profiles.PING_MAX,
        ]
        outcome, readings = self._diagnose(device_id, setup, results, deadline)
        if readings is None:
            return outcome
        received = readings[profiles.PING_SUCCESS].value or 0
        failed = readings[profiles.PING_FAILURE].value or 0
        outcome.values.update(
            sent=received + failed or count,
            received=received,
            avg_ms=readings[profiles.PING_AVG].value,
            min_ms=readings[profiles.PING_MIN].value,
            max_ms=readings[profiles.PING_MAX].value,
        )
        outcome.detail = f"ping {host}: {received} of {received + failed or count} answered"
        return outcome

    def speed_test(self, device_id: str, url: str, *, timeout: float = 30.0) -> Outcome:
        """DownloadDiagnostics; ``values``: bytes, seconds, mbps."""
        if not url.startswith(("http://", "https://", "ftp://")):
            return Outcome(False, "the speed test needs an http(s) or ftp URL")
        deadline = _Deadline(timeout)
        setup = {profiles.DOWNLOAD_URL: url, profiles.DOWNLOAD_STATE: "Requested"}
        results = [profiles.DOWNLOAD_STATE, profiles.DOWNLOAD_BOM, profiles.DOWNLOAD_EOM, profiles.DOWNLOAD_BYTES]
        outcome, readings = self._diagnose(device_id, setup, results, deadline)
        if readings is None:
            return outcome
        size = readings[profiles.DOWNLOAD_BYTES].value or 0
        begin = _parse_time(readings[profiles.DOWNLOAD_BOM].value)
        end = _parse_time(readings[profiles.DOWNLOAD_EOM].value)
        seconds = (end - begin).total_seconds() if begin and end else 0.0
        if seconds <= 0:
            return Outcome(False, "the device reported no usable download times", values={"bytes": size})
        outcome.values.update(bytes=size, seconds=round(seconds, 3), mbps=round(size * 8 / seconds / 1e6, 2))
        outcome.detail = f"downloaded {size} bytes in {seconds:.2f} s"
        return outcome

    def _diagnose(
        self, device_id: str, setup: dict[str, Any], results: list[str], deadline: _Deadline
    ) -> tuple[Outcome, dict[str, Reading] | None]:
        """Request a diagnostic and wait for its results (see the module docstring)."""
        model = self._model(device_id, deadline)
        if isinstance(model, Outcome):
            return model, None
        profile = profiles.profile_for(model)
        started = self._set(device_id, profile, setup, deadline)
        if not started.ok:
            return started, None
        state_name = results[0]
        paths = self._projection(profile, results)
        last_inform: str | None = None
        last_refresh = time.monotonic()
        pause = self.poll_interval
        while True:
            document = self._document(device_id, paths, deadline)
            if isinstance(document, Outcome):
                return document, None
            readings = self._readings(profile, results, document)
            state = readings[state_name].value
            if state is not None and state not in _PENDING_STATES:
                if state != "Complete":
                    return Outcome(False, f"diagnostics ended with {state}", values={"state": state}), None
                return Outcome(True, "diagnostics complete", values={"state": state}), readings
            informed = str(document.get("_lastInform", ""))
            moved = last_inform is not None and informed != last_inform
            last_inform = informed
            if moved or time.monotonic() - last_refresh >= self.refresh_every:
                last_refresh = time.monotonic()
                fetched = self._task(device_id, {"name": "getParameterValues", "parameterNames": paths}, deadline)
                if fetched.fault_code is not None:
                    return fetched, None
                last_inform = None  # that session moved _lastInform itself: take a new baseline
                continue
            if deadline.left() <= pause:
                return Outcome(False, "diagnostics did not complete in time", timed_out=True), None
            time.sleep(pause)
            pause = min(pause * 1.5, 1.0)


def _fits(value: Any, xsd_type: str) -> bool:
    """Whether ``value`` can be written as ``xsd_type`` (refused here rather than faulted by the CPE)."""
    if value is None:
        return False
    if xsd_type == "xsd:boolean":
        return isinstance(value, bool) or str(value).strip().lower() in {"true", "false", "1", "0"}
    if xsd_type in {"xsd:int", "xsd:unsignedInt"}:
        if isinstance(value, bool):
            return False
        try:
            number = int(str(value).strip())
        except ValueError:
            return False
        return number >= 0 or xsd_type == "xsd:int"
    return isinstance(value, str | int | float)


def _fault_code(fault: Mapping[str, Any]) -> tuple[int | None, str]:
    """(CWMP fault code, message) of a GenieACS fault document; per-parameter codes win over 9003."""
    raw_detail = fault.get("detail")
    detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
    message = str(fault.get("message") or detail.get("faultString") or "")
    per_parameter = detail.get("setParameterValuesFault") or []
    raw = ""
    if per_parameter and isinstance(per_parameter[0], dict):
        raw = str(per_parameter[0].get("faultCode", ""))
        message = str(per_parameter[0].get("faultString") or message)
    code_text = str(fault.get("code", ""))
    if not raw and code_text.startswith("cwmp."):
        raw = code_text[5:]
    try:
        return int(raw), message
    except ValueError:
        return None, message or code_text
