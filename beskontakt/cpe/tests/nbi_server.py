"""A local server speaking GenieACS's northbound interface (NBI), with an in-memory device store.

GenieACS cannot run on this machine (it needs Node packages and MongoDB), so the GenieACS
adapter is tested against this server instead: the one fake in those tests. It follows the
NBI as GenieACS documents it (``docs/api-reference.rst``) and as its ``lib/nbi.ts`` answers:

* ``GET /<collection>/?query=<mongo JSON>&projection=a,b`` for devices, tasks, faults,
  presets and files; device documents carry ``_id``, ``_lastInform``, ``_registered``,
  ``_deviceId`` {``_Manufacturer``, ``_OUI``, ``_ProductClass``, ``_SerialNumber``} and
  parameters as nested objects with ``_value``, ``_type``, ``_timestamp``, ``_writable``.
* ``POST /devices/<id>/tasks[?timeout=<ms>&connection_request]`` with one task: 200 and the
  task when the device ran it in a session, 202 and the task when it stays queued (no
  connection request; the device is offline; its session did not start within ``timeout``;
  the task faulted, with the fault stored as ``<device>:task_<task id>``). 404 for an
  unknown device, 400 for a malformed task. Without a body: a bare connection request,
  200 or 504 "Device is offline".
* ``DELETE /faults/<id>`` (a ``task_`` fault takes its task with it), ``DELETE /tasks/<id>``,
  ``POST /tasks/<id>/retry``, ``PUT/DELETE /presets/<name>``, ``PUT/DELETE /files/<name>``.

Behind the documents stands a simulated CPE per device (``SimDevice``): its *actual*
parameters, which tasks read and write, while the device document shows only what the ACS
last fetched — just as GenieACS's cache does. A ``getParameterValues`` or ``refreshObject``
task copies actual values into the document with fresh timestamps. Setting an IPPing or
DownloadDiagnostics ``DiagnosticsState`` to ``Requested`` makes the device finish the test a
little later and open a new session (``8 DIAGNOSTICS COMPLETE``: ``_lastInform`` moves) without
the results reaching the document, unless ``refresh_on_diagnostics`` stands for an operator's
provision that fetches them. Scripting: ``reachable``, ``session_delay`` (the device is slow
to answer a connection request), ``session_seconds`` (a long session), ``fail_next`` (a CWMP
fault for the next task), non-writable and unknown parameters (faults 9008 / 9005).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from beskontakt.cpe import profiles

DEFAULT_ONLINE_THRESHOLD_MS = 4000  # GenieACS's cwmp.deviceOnlineThreshold default
TERMINAL_FAULTS = {
    "9005": "Invalid parameter name",
    "9008": "Attempt to set a non-writable parameter",
}


def js_time(moment: datetime) -> str:
    """A datetime the way JavaScript's ``Date.toJSON`` writes it (milliseconds, ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def device_id_for(oui: str, product_class: str, serial_number: str) -> str:
    """GenieACS's device id: each part with everything but ``[A-Za-z0-9_]`` percent-escaped."""

    def esc(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9_]", lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), text)

    if product_class:
        return f"{esc(oui)}-{esc(product_class)}-{esc(serial_number)}"
    return f"{esc(oui)}-{esc(serial_number)}"


def _typed(value: Any, xsd_type: str) -> Any:
    """A value as GenieACS stores it for its type (``sanitizeParameterValue``)."""
    if value is None or isinstance(value, bool):
        return value
    if xsd_type == "xsd:boolean":
        text = str(value).strip().lower()
        return True if text in {"true", "1"} else False if text in {"false", "0"} else str(value)
    if xsd_type in {"xsd:int", "xsd:unsignedInt"} and not isinstance(value, int | float):
        try:
            return int(str(value))
        except ValueError:
            return str(value)
    return value


@dataclass
class Param:
    """One parameter of a simulated CPE."""

    value: Any
    xsd_type: str = "xsd:string"
    writable: bool = True


@dataclass
class SimDevice:
    """The CPE behind one device document, with knobs for the tests."""

    device_id: str
    oui: str
    product_class: str
    serial_number: str
    manufacturer: str
    params: dict[str, Param]
    reachable: bool = True
    session_delay: float = 0.0  # seconds between the connection request and the session
    session_seconds: float = 0.0  # how long a session takes
    diagnostics_seconds: float = 0.05  # how long an IPPing / DownloadDiagnostics runs
    refresh_on_diagnostics: bool = False  # a provision fetches results on 8 DIAGNOSTICS COMPLETE
    ping_result: dict[str, int] | None = field(default_factory=lambda: {"success": 4, "avg": 12, "min": 9, "max": 17})
    download_result: dict[str, float] | None = field(default_factory=lambda: {"bytes": 12_500_000, "seconds": 1.0})
    fail_next: tuple[str, str] | None = None  # (CWMP fault code, fault string) for the next task
    cache: dict[str, tuple[Any, str, datetime, bool]] = field(default_factory=dict)
    last_inform: datetime = field(default_factory=lambda: datetime.now(UTC))
    registered: datetime = field(default_factory=lambda: datetime.now(UTC))
    tags: list[str] = field(default_factory=list)
    factory: dict[str, Param] = field(default_factory=dict)
    reboots: int = 0
    factory_resets: int = 0
    downloads: list[str] = field(default_factory=list)
    sessions: int = 0

    def refresh(self, prefix: str, now: datetime) -> None:
        """Copy the device's values under ``prefix`` (or one leaf) into the document."""
        for path, param in self.params.items():
            if path == prefix or path.startswith(prefix if prefix.endswith(".") or not prefix else prefix + "."):
                self.cache[path] = (param.value, param.xsd_type, now, param.writable)
        gone = [p for p in self.cache if p.startswith(prefix) and p not in self.params]
        for path in gone:
            del self.cache[path]

    def document(self) -> dict[str, Any]:
        """The device document as GenieACS's NBI returns it."""
        doc: dict[str, Any] = {
            "_id": self.device_id,
            "_deviceId": {
                "_Manufacturer": self.manufacturer,
                "_OUI": self.oui,
                "_ProductClass": self.product_class,
                "_SerialNumber": self.serial_number,
            },
            "_lastInform": js_time(self.last_inform),
            "_registered": js_time(self.registered),
        }
        if self.tags:
            doc["_tags"] = list(self.tags)
        for path, (value, xsd_type, stamp, writable) in sorted(self.cache.items()):
            node = doc
            parts = path.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {"_object": True, "_timestamp": js_time(stamp), "_writable": False})
            node[parts[-1]] = {
                "_value": js_time(value) if isinstance(value, datetime) else value,
                "_type": xsd_type,
                "_timestamp": js_time(stamp),
                "_writable": writable,
            }
        return doc


def device_params(data_model: str, values: Mapping[str, Any]) -> dict[str, Param]:
    """A simulated CPE's parameters from logical values (``{profiles.WAN_STATUS: "Up"}``)."""
    profile = profiles.profile_for(data_model)
    params: dict[str, Param] = {}
    for name, value in values.items():
        param = profile.params.get(name)
        if param is None:
            continue
        if param.leaf:
            for number, item in enumerate(value, start=1):
                params[f"{param.path}{number}.{param.leaf}"] = Param(item, param.xsd_type, False)
            continue
        params[param.path] = Param(_typed(value, param.xsd_type), param.xsd_type)
    root = profile.root
    params.setdefault(
        root + "ManagementServer.ConnectionRequestURL", Param("http://192.0.2.10:7547/cr", writable=False)
    )
    return params


def healthy_values(data_model: str) -> dict[str, Any]:
    """Logical values of a healthy home router in ``data_model``, with idle diagnostics."""
    values: dict[str, Any] = {
        profiles.UPTIME: 86400,
        profiles.SOFTWARE_VERSION: "3.2.1",
        profiles.WAN_STATUS: "Connected" if data_model == profiles.TR098 else "Up",
        profiles.WAN_PPP_LAST_ERROR: "ERROR_NONE",
        profiles.WAN_IP: "203.0.113.7",
        profiles.WIFI_SSID: "home-net",
        profiles.WIFI_PASSWORD: "",
        profiles.WIFI_CHANNEL: 6,
        profiles.WIFI_AUTO_CHANNEL: False,
        profiles.WIFI_CHANNELS_IN_USE: "1,6,6,11",
        profiles.WIFI_CLIENTS: 2,
        profiles.WIFI_CLIENT_SIGNALS: [-48, -71],
        profiles.OPTICAL_RX_POWER: -19500,
        profiles.OPTICAL_TX_POWER: 2100,
        profiles.DSL_STATUS: "Up",
        profiles.DSL_SNR_MARGIN_DOWN: 95,
        profiles.DSL_SNR_MARGIN_UP: 120,
        profiles.INFORM_INTERVAL: 300,
        profiles.INFORM_ENABLE: True,
        profiles.PING_STATE: "None",
        profiles.PING_HOST: "",
        profiles.PING_COUNT: 4,
        profiles.PING_TIMEOUT: 1000,
        profiles.PING_SUCCESS: 0,
        profiles.PING_FAILURE: 0,
        profiles.PING_AVG: 0,
        profiles.PING_MIN: 0,
        profiles.PING_MAX: 0,
        profiles.DOWNLOAD_STATE: "None",
        profiles.DOWNLOAD_URL: "",
        profiles.DOWNLOAD_BOM: "0001-01-01T00:00:00Z",
        profiles.DOWNLOAD_EOM: "0001-01-01T00:00:00Z",
        profiles.DOWNLOAD_BYTES: 0,
    }
    return values


class _Fault(Exception):
    """A CWMP fault the simulated CPE answers a task with."""

    def __init__(self, code: str, message: str, parameter_faults: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.parameter_faults = parameter_faults


class BadTask(ValueError):
    """A task GenieACS's ``sanitizeTask`` would refuse."""


def _check_task(task: Any) -> None:
    """Refuse malformed tasks as GenieACS's ``sanitizeTask`` does."""
    if not isinstance(task, dict):
        raise BadTask("Invalid task")
    name = task.get("name")

    def valid_value(item: Any) -> bool:
        return (
            isinstance(item, list)
            and len(item) >= 2
            and isinstance(item[0], str)
            and bool(item[0])
            and isinstance(item[1], str | bool | int | float)
            and (len(item) < 3 or item[2] is None or isinstance(item[2], str))
        )

    if name == "getParameterValues":
        names = task.get("parameterNames")
        if not isinstance(names, list) or not names:
            raise BadTask("Missing 'parameterNames' property")
        if not all(isinstance(n, str) and n for n in names):
            raise BadTask("Invalid parameter name")
    elif name == "setParameterValues":
        values = task.get("parameterValues")
        if not isinstance(values, list) or not values:
            raise BadTask("Missing 'parameterValues' property")
        if not all(valid_value(v) for v in values):
            raise BadTask("Invalid parameter value")
    elif name == "refreshObject":
        if not isinstance(task.get("objectName"), str):
            raise BadTask("Missing 'objectName' property")
    elif name in {"addObject", "deleteObject"}:
        if not isinstance(task.get("objectName"), str) or not task["objectName"]:
            raise BadTask("Missing 'objectName' property")
    elif name == "download":
        if not task.get("file") and not (task.get("fileType") and task.get("fileName")):
            raise BadTask("Missing 'fileType' property")
    elif name not in {"reboot", "factoryReset"}:
        raise BadTask("Invalid task name")


def _match(doc: Mapping[str, Any], query: Mapping[str, Any], *, devices: bool) -> bool:
    """A small part of MongoDB's query language: equality, $ne/$lt/$lte/$gt/$gte/$in, $and/$or."""
    for key, condition in query.items():
        if key == "$and":
            if not all(_match(doc, q, devices=devices) for q in condition):
                return False
            continue
        if key == "$or":
            if not any(_match(doc, q, devices=devices) for q in condition):
                return False
            continue
        node: Any = doc
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if devices and isinstance(node, dict) and "_value" in node and not key.rsplit(".", 1)[-1].startswith("_"):
            node = node["_value"]  # GenieACS expands a parameter to its _value
        if not _compare(node, condition):
            return False
    return True


def _compare(actual: Any, condition: Any) -> bool:
    if not isinstance(condition, dict) or not any(k.startswith("$") for k in condition):
        return actual == condition
    for op, operand in condition.items():
        if op == "$ne":
            ok = actual != operand
        elif op == "$in":
            ok = actual in operand
        elif op in {"$lt", "$lte", "$gt", "$gte"}:
            if actual is None:
                return False
            ok = {
                "$lt": actual < operand,
                "$lte": actual <= operand,
                "$gt": actual > operand,
                "$gte": actual >= operand,
            }[op]
        else:
            raise ValueError(f"unsupported operator {op}")
        if not ok:
            return False
    return True


def _project(doc: Mapping[str, Any], projection: Iterable[str]) -> dict[str, Any]:
    """Keep ``_id`` and the listed (dotted) paths, as a MongoDB inclusion projection does."""
    out: dict[str, Any] = {"_id": doc["_id"]}
    for path in projection:
        parts = [p for p in path.strip().split(".") if p]
        source: Any = doc
        for part in parts:
            source = source.get(part) if isinstance(source, dict) else None
        if source is None or not parts:
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = json.loads(json.dumps(source))
    return out


class NbiServer:
    """GenieACS's NBI on loopback (port 0 by default), backed by ``SimDevice`` objects."""

    def __init__(self, port: int = 0) -> None:
        self.devices: dict[str, SimDevice] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.faults: dict[str, dict[str, Any]] = {}
        self.presets: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, raw path with query) as received
        self.bodies: list[tuple[str, bytes]] = []  # (raw path, body) of every task posted
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._timers: list[threading.Timer] = []
        self._server = _Server(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="nbi-server", daemon=True
        )

    # --- lifecycle ----------------------------------------------------------------
    @property
    def url(self) -> str:
        """The NBI's base URL (``GENIEACS_NBI_URL``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> NbiServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cancel pending diagnostics and close the socket."""
        for timer in self._timers:
            timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    # --- the store ----------------------------------------------------------------
    def add_device(
        self,
        serial_number: str,
        data_model: str = profiles.TR181,
        *,
        oui: str = "202BC1",
        product_class: str = "BM632w",
        manufacturer: str = "Beskontakt Labs",
        values: Mapping[str, Any] | None = None,
        extra: Mapping[str, Param] | None = None,
        **knobs: Any,
    ) -> SimDevice:
        """Register a device as if it had bootstrapped and been refreshed (its document is current)."""
        merged = healthy_values(data_model)
        merged.update(values or {})
        params = device_params(data_model, merged)
        params.update(extra or {})
        device_id = device_id_for(oui, product_class, serial_number)
        device = SimDevice(device_id, oui, product_class, serial_number, manufacturer, params, **knobs)
        device.factory = {path: Param(p.value, p.xsd_type, p.writable) for path, p in params.items()}
        device.refresh("", device.last_inform)
        with self._lock:
            self.devices[device_id] = device
        return device

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _inform(self, device: SimDevice) -> None:
        """The device opened a session: ``_lastInform`` moves on (at least 1 ms)."""
        now = self._now()
        if now <= device.last_inform:
            now = device.last_inform + timedelta(milliseconds=1)
        device.last_inform = now
        device.sessions += 1

    def _new_task(self, device: SimDevice, task: dict[str, Any]) -> dict[str, Any]:
        task = dict(task)
        task["device"] = device.device_id
        task["_id"] = f"{next(self._ids):024x}"
        task["timestamp"] = js_time(self._now())
        self.tasks[task["_id"]] = task
        return task

    def _session(self, device: SimDevice) -> str | None:
        """One CWMP session: run the device's queued tasks in order; the id of a task that faulted."""
        self._inform(device)
        for task_id in [tid for tid, t in self.tasks.items() if t["device"] == device.device_id]:
            if f"{device.device_id}:task_{task_id}" in self.faults:
                return task_id  # a faulted task blocks the queue until its fault is cleared
            task = self.tasks[task_id]
            try:
                if device.fail_next is not None:
                    code, message = device.fail_next
                    device.fail_next = None
                    raise _Fault(code, message)
                self._run(device, task)
            except _Fault as fault:
                detail: dict[str, Any] = {"faultCode": fault.code, "faultString": fault.message}
                if fault.parameter_faults:
                    detail["setParameterValuesFault"] = fault.parameter_faults
                fault_id = f"{device.device_id}:task_{task_id}"
                self.faults[fault_id] = {
                    "_id": fault_id,
                    "device": device.device_id,
                    "channel": f"task_{task_id}",
                    "timestamp": js_time(self._now()),
                    "code": f"cwmp.{fault.code}",
                    "message": fault.message,
                    "detail": detail,
                    "retries": 0,
                    "provisions": "[]",
                }
                return task_id
            del self.tasks[task_id]
        return None

    def _run(self, device: SimDevice, task: Mapping[str, Any]) -> None:
        """What the CPE does for one task."""
        now = self._now()
        name = task["name"]
        if name == "getParameterValues":
            for path in task["parameterNames"]:
                if path in device.params:  # unknown names are skipped, as GenieACS's declarations are
                    device.refresh(path, now)
        elif name == "refreshObject":
            device.refresh(task["objectName"], now)
        elif name == "setParameterValues":
            self._set(device, task["parameterValues"], now)
        elif name == "reboot":
            device.reboots += 1
            device.params[self._root(device) + "DeviceInfo.UpTime"] = Param(0, "xsd:unsignedInt", False)
        elif name == "factoryReset":
            device.factory_resets += 1
            device.params = {path: Param(p.value, p.xsd_type, p.writable) for path, p in device.factory.items()}
        elif name == "download":
            file_name = task.get("file") or task.get("fileName")
            if file_name not in self.files:
                raise _Fault("9010", "Download failure")
            device.downloads.append(file_name)
        elif name == "addObject":
            prefix = task["objectName"].rstrip(".") + "."
            numbers = [int(m.group(1)) for p in device.params if (m := re.match(re.escape(prefix) + r"(\d+)\.", p))]
            device.params[f"{prefix}{max(numbers, default=0) + 1}.Enable"] = Param(False, "xsd:boolean")
        elif name == "deleteObject":
            prefix = task["objectName"].rstrip(".") + "."
            if not any(p.startswith(prefix) for p in device.params):
                raise _Fault("9005", "Invalid parameter name")
            device.params = {p: v for p, v in device.params.items() if not p.startswith(prefix)}
            device.refresh(prefix, now)

    @staticmethod
    def _root(device: SimDevice) -> str:
        return "Device." if any(p.startswith("Device.") for p in device.params) else "InternetGatewayDevice."

    def _set(self, device: SimDevice, values: list[list[Any]], now: datetime) -> None:
        problems = []
        for item in values:
            path = item[0]
            param = device.params.get(path)
            if param is None:
                problems.append({"parameterName": path, "faultCode": "9005", "faultString": TERMINAL_FAULTS["9005"]})
            elif not param.writable:
                problems.append({"parameterName": path, "faultCode": "9008", "faultString": TERMINAL_FAULTS["9008"]})
        if problems:
            raise _Fault("9003", "Invalid arguments", problems)
        for item in values:
            path, value = item[0], item[1]
            xsd_type = item[2] if len(item) > 2 and item[2] else device.params[path].xsd_type
            device.params[path] = Param(_typed(value, xsd_type), xsd_type, device.params[path].writable)
            device.cache[path] = (device.params[path].value, xsd_type, now, device.params[path].writable)
            if path.endswith("DiagnosticsState") and value == "Requested":
                self._schedule_diagnostics(device, path.rsplit(".", 1)[0] + ".")

    def _schedule_diagnostics(self, device: SimDevice, prefix: str) -> None:
        """The test runs after the session; then the CPE informs ``8 DIAGNOSTICS COMPLETE``."""

        def complete() -> None:
            with self._lock:
                started = self._now() - timedelta(seconds=device.diagnostics_seconds)
                if "Download" in prefix:
                    result = device.download_result
                    if result is None:
                        self._put(device, prefix + "DiagnosticsState", "Error_InitConnectionFailed")
                    else:
                        self._put(device, prefix + "BOMTime", js_time(started))
                        end = started + timedelta(seconds=result["seconds"])
                        self._put(device, prefix + "EOMTime", js_time(end))
                        self._put(device, prefix + "TestBytesReceived", int(result["bytes"]))
                        self._put(device, prefix + "DiagnosticsState", "Complete")
                else:
                    ping = device.ping_result
                    if ping is None:
                        self._put(device, prefix + "DiagnosticsState", "Error_CannotResolveHostName")
                    else:
                        count = int(device.params[prefix + "NumberOfRepetitions"].value)
                        self._put(device, prefix + "SuccessCount", min(ping["success"], count))
                        self._put(device, prefix + "FailureCount", count - min(ping["success"], count))
                        self._put(device, prefix + "AverageResponseTime", ping["avg"])
                        self._put(device, prefix + "MinimumResponseTime", ping["min"])
                        self._put(device, prefix + "MaximumResponseTime", ping["max"])
                        self._put(device, prefix + "DiagnosticsState", "Complete")
                self._inform(device)
                if device.refresh_on_diagnostics:
                    device.refresh(prefix, self._now())

        timer = threading.Timer(device.diagnostics_seconds, complete)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    @staticmethod
    def _put(device: SimDevice, path: str, value: Any) -> None:
        old = device.params.get(path)
        xsd_type = old.xsd_type if old else "xsd:string"
        device.params[path] = Param(_typed(value, xsd_type), xsd_type, old.writable if old else False)

    # --- HTTP ------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str, Any]:
        """(status, reason phrase or "", JSON-able body or text) for one request."""
        with self._lock:
            self.requests.append((method, raw_path))
        parts = urlsplit(raw_path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        if m := re.fullmatch(r"/devices/([a-zA-Z0-9\-_%]+)/tasks/?", path):
            if method != "POST":
                return 405, "", "405 Method Not Allowed"
            if body:
                with self._lock:
                    self.bodies.append((raw_path, body))
            return self._post_task(unquote(m.group(1)), body, query)
        if m := re.fullmatch(r"/faults/([a-zA-Z0-9\-_%:]+)/?", path):
            if method != "DELETE":
                return 405, "", "405 Method Not Allowed"
            with self._lock:
                fault = self.faults.pop(unquote(m.group(1)), None)
                if fault and fault["channel"].startswith("task_"):
                    self.tasks.pop(fault["channel"][5:], None)
            return 200, "", ""
        if m := re.fullmatch(r"/tasks/([a-zA-Z0-9\-_%]+)(/[a-zA-Z_]*)?", path):
            return self._task_action(unquote(m.group(1)), m.group(2), method)
        if m := re.fullmatch(r"/presets/([a-zA-Z0-9\-_%]+)/?", path):
            name = unquote(m.group(1))
            if method == "PUT":
                try:
                    preset = json.loads(body or b"null")
                    preset["_id"] = name
                except (ValueError, TypeError) as exc:
                    return 400, "", f"SyntaxError: {exc}"
                with self._lock:
                    self.presets[name] = preset
                return 200, "", ""
            if method == "DELETE":
                with self._lock:
                    self.presets.pop(name, None)
                return 200, "", ""
            return 405, "", "405 Method Not Allowed"
        if m := re.fullmatch(r"/files/([a-zA-Z0-9%!*'();:@&=+$,?#\[\]\-_.~]+)/?", path):
            name = unquote(m.group(1))
            if method == "PUT":
                metadata = {key: headers.get(key.lower()) for key in ("fileType", "oui", "productClass", "version")}
                with self._lock:
                    self.files[name] = {
                        "_id": name,
                        "filename": name,
                        "length": len(body),
                        "uploadDate": js_time(self._now()),
                        "metadata": metadata,
                    }
                return 201, "", ""
            if method == "DELETE":
                with self._lock:
                    if self.files.pop(name, None) is None:
                        return 404, "", "404 Not Found"
                return 200, "", ""
            return 405, "", "405 Method Not Allowed"
        if m := re.fullmatch(r"/([a-zA-Z0-9_]+)/?", path):
            if method not in {"GET", "HEAD"}:
                return 405, "", "405 Method Not Allowed"
            return self._query(m.group(1), query)
        return 404, "", "404 Not Found"

    def _query(self, collection: str, query: Mapping[str, list[str]]) -> tuple[int, str, Any]:
        try:
            condition = json.loads(query["query"][0]) if "query" in query else {}
        except ValueError as exc:
            return 400, "", f"SyntaxError: {exc}"
        with self._lock:
            if collection == "devices":
                docs = [d.document() for d in self.devices.values()]
            elif collection in {"tasks", "faults", "presets", "files"}:
                docs = [json.loads(json.dumps(d)) for d in getattr(self, collection).values()]
            else:
                return 404, "", "404 Not Found"
        try:
            found = [d for d in docs if _match(d, condition, devices=collection == "devices")]
        except (ValueError, TypeError, AttributeError) as exc:
            return 400, "", f"Error: {exc}"
        if "projection" in query:
            found = [_project(d, query["projection"][0].split(",")) for d in found]
        return 200, "", found

    def _task_action(self, task_id: str, action: str | None, method: str) -> tuple[int, str, Any]:
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None:
                return 404, "", "Task not found"
            fault_id = f"{task['device']}:task_{task_id}"
            if not action or action == "/":
                if method != "DELETE":
                    return 405, "", "405 Method Not Allowed"
                del self.tasks[task_id]
                self.faults.pop(fault_id, None)
                return 200, "", ""
            if action == "/retry" and method == "POST":
                self.faults.pop(fault_id, None)
                return 200, "", ""
        return 404, "", ""

    def _post_task(self, device_id: str, body: bytes, query: Mapping[str, list[str]]) -> tuple[int, str, Any]:
        connection_request = "connection_request" in query
        task = None
        if body:
            try:
                task = json.loads(body)
                _check_task(task)
            except (ValueError, BadTask) as exc:
                return 400, "", f"Error: {exc}"
        if task is None and not connection_request:
            return 400, "", ""
        with self._lock:
            device = self.devices.get(device_id)
            if device is None:
                return 404, "", "No such device"
            stored = self._new_task(device, task) if task is not None else None
        if not connection_request:
            return 202, "", stored
        if not device.reachable:
            if stored is None:
                return 504, "Device is offline", "Device is offline"
            return 202, "Device is offline", stored
        try:
            threshold = int(query["timeout"][0]) if "timeout" in query else DEFAULT_ONLINE_THRESHOLD_MS
        except ValueError:
            threshold = DEFAULT_ONLINE_THRESHOLD_MS
        if stored is None:  # a bare connection request: answered once the CPE accepts it
            threading.Thread(target=self._late_session, args=(device,), daemon=True).start()
            return 200, "", ""
        if device.session_delay * 1000 > threshold:
            time.sleep(threshold / 1000)
            return 202, "Task queued but not processed", stored
        time.sleep(device.session_delay + device.session_seconds)
        with self._lock:
            faulted = self._session(device)
        if faulted is not None:
            return 202, "Task faulted" if faulted == stored["_id"] else "Task queued but not processed", stored
        return 200, "", stored

    def _late_session(self, device: SimDevice) -> None:
        time.sleep(device.session_delay + device.session_seconds)
        with self._lock:
            self._session(device)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is expected; anything else is printed."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(nbi: NbiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, reason, payload = nbi.handle(self.command, self.path, body, headers)
            if isinstance(payload, list | dict):
                data = json.dumps(payload).encode()
                content_type = "application/json"
            else:
                data = str(payload or "").encode()
                content_type = "text/plain"
            self.send_response(status, reason or None)
            self.send_header("GenieACS-Version", "1.2.13+nbi-server")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read ``nbi.requests`` instead."""

    return Handler
