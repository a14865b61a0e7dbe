"""One simulated CPE: its identity, tree, pending events, CWMP sessions and life cycle.

A device informs with 0 BOOTSTRAP (first contact, after a factory reset), 1 BOOT (after a
reboot), 2 PERIODIC (every PeriodicInformInterval), 3 SCHEDULED (ScheduleInform),
4 VALUE CHANGE, 6 CONNECTION REQUEST, 7 TRANSFER COMPLETE and 8 DIAGNOSTICS COMPLETE, plus
the ``M`` events that carry a CommandKey. Events stay pending until a session succeeds; a
failed session is retried with the TR-069 back-off (3.2.1.1), or after the ACS's
Retry-After. Sessions authenticate with Basic or Digest as the ACS asks and keep the ACS's
cookie for their own requests only (a fleet shares one HTTP client without a cookie jar).
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from dataclasses import dataclass, field
from functools import cache
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from beskontakt.cpe import profiles

from . import diagnostics, rpc, soap
from .datamodel import DataModel
from .digest import DigestClient, basic_authorization, parse_params
from .errors import CpeFault
from .lanes import Lanes, lease
from .scenarios import Scenario, make_scenario
from .stats import Stats
from .trees import schema_for

BOOTSTRAP = "0 BOOTSTRAP"
BOOT = "1 BOOT"
PERIODIC = "2 PERIODIC"
SCHEDULED = "3 SCHEDULED"
VALUE_CHANGE = "4 VALUE CHANGE"
CONNECTION_REQUEST = "6 CONNECTION REQUEST"
TRANSFER_COMPLETE = "7 TRANSFER COMPLETE"
DIAGNOSTICS_COMPLETE = "8 DIAGNOSTICS COMPLETE"
M_REBOOT = "M Reboot"
M_DOWNLOAD = "M Download"
M_SCHEDULE_INFORM = "M ScheduleInform"
_SINGLE = {BOOTSTRAP, BOOT, PERIODIC, SCHEDULED, VALUE_CHANGE, CONNECTION_REQUEST, TRANSFER_COMPLETE}
MAX_EXCHANGES = 2000  # messages in one session before the device gives up on the ACS
LOG_SIZE = 200  # entries of ``SimulatedCpe.log`` kept (the newest)
_RNG = random.Random(1)


@dataclass(frozen=True)
class Paths:
    """The paths the device itself needs, per data model."""

    root: str
    serial: str
    manufacturer: str
    oui: str
    product_class: str
    model_name: str
    hardware: str
    software: str
    provisioning: str
    uptime: str
    summary: str
    spec_version: str
    url: str
    username: str
    password: str
    interval: str
    inform_enable: str
    parameter_key: str
    cr_url: str
    cr_username: str
    cr_password: str
    wan_ip: str
    wan_status: str
    wan_error: str
    ppp_status: str
    ppp_username: str
    ppp_password: str
    ssid: str
    bssid: str
    clients_table: str
    ping: str
    download: str


@cache
def paths_for(data_model: str) -> Paths:
    """The device's own paths in ``tr181`` or ``tr098``."""
    profile = profiles.profile_for(data_model)

    def p(name: str) -> str:
        return profile.path(name) or ""

    if data_model == profiles.TR181:
        info, ms, ppp = "Device.DeviceInfo.", "Device.ManagementServer.", "Device.PPP.Interface.1."
        summary, spec, ppp_status = "Device.RootDataModelVersion", "", ppp + "Status"
        ssid_obj, ping_obj, download_obj = "Device.WiFi.SSID.1.", "Device.IP.Diagnostics.IPPing.", ""
        download_obj = "Device.IP.Diagnostics.DownloadDiagnostics."
    else:
        info, ms = "InternetGatewayDevice.DeviceInfo.", "InternetGatewayDevice.ManagementServer."
        ppp = "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1."
        summary, spec, ppp_status = "InternetGatewayDevice.DeviceSummary", info + "SpecVersion", ""
        ssid_obj = "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1."
        ping_obj = "InternetGatewayDevice.IPPingDiagnostics."
        download_obj = "InternetGatewayDevice.DownloadDiagnostics."
    clients = p(profiles.WIFI_CLIENT_SIGNALS) or ssid_obj + "AssociatedDevice."
    return Paths(
        root=profile.root,
        serial=info + "SerialNumber",
        manufacturer=info + "Manufacturer",
        oui=info + "ManufacturerOUI",
        product_class=info + "ProductClass",
        model_name=info + "ModelName",
        hardware=info + "HardwareVersion",
        software=info + "SoftwareVersion",
        provisioning=info + "ProvisioningCode",
        uptime=info + "UpTime",
        summary=summary,
        spec_version=spec,
        url=ms + "URL",
        username=ms + "Username",
        password=ms + "Password",
        interval=ms + "PeriodicInformInterval",
        inform_enable=ms + "PeriodicInformEnable",
        parameter_key=ms + "ParameterKey",
        cr_url=ms + "ConnectionRequestURL",
        cr_username=ms + "ConnectionRequestUsername",
        cr_password=ms + "ConnectionRequestPassword",
        wan_ip=p(profiles.WAN_IP),
        wan_status=p(profiles.WAN_STATUS),
        wan_error=p(profiles.WAN_PPP_LAST_ERROR),
        ppp_status=ppp_status,
        ppp_username=ppp + "Username",
        ppp_password=ppp + "Password",
        ssid=ssid_obj + "SSID",
        bssid=ssid_obj + "BSSID",
        clients_table=clients,
        ping=ping_obj,
        download=download_obj,
    )


@dataclass
class FaultInjection:
    """Test hooks: misbehave on purpose.

    ``rpc_faults``: answer these ACS methods with this fault code; ``vanish_on``: on
    receiving this method, drop the session without answering; ``garble_on``: answer it
    with a broken envelope; ``wrong_password``: authenticate to the ACS with a wrong one.
    """

    rpc_faults: dict[str, int] = field(default_factory=dict)
    vanish_on: str | None = None
    garble_on: str | None = None
    wrong_password: bool = False


class SessionFailed(Exception):
    """A session ended without the ACS's final 204; ``retry_after`` from a 503."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class PendingTransfer:
    """A finished Download whose TransferComplete the ACS has not acknowledged yet."""

    command_key: str
    fault_code: int
    fault_string: str
    start: str
    complete: str


class _Log(list[tuple[str, ...]]):
    """A list that forgets its oldest half when it grows past ``LOG_SIZE``."""

    __slots__ = ()

    def append(self, item: tuple[str, ...]) -> None:
        """Add an entry, trimming old ones."""
        if len(self) >= LOG_SIZE:
            del self[: LOG_SIZE // 2]
        super().append(item)


class _Exchange:
    """One session's HTTP state: cookies and authentication towards the ACS."""

    __slots__ = ("basic", "cookies", "digest", "path", "url")

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.cookies: dict[str, str] = {}
        self.digest: DigestClient | None = None
        self.basic: str | None = None


class SimulatedCpe:
    """A TR-069 device: call ``run`` (its life) or ``session`` (one session) with an aiohttp client."""

    __slots__ = (
        "_actions",
        "_initial",
        "_interval_changed",
        "_next_id",
        "_retry_after",
        "_timers",
        "_wake",
        "boot_time",
        "changed",
        "cr_url",
        "data_model",
        "dm",
        "events",
        "faults",
        "in_session",
        "log",
        "manufacturer",
        "model_name",
        "namespace",
        "oui",
        "paths",
        "pending_transfer",
        "product_class",
        "profile",
        "request_timeout",
        "retry_count",
        "retry_min",
        "rng",
        "scenario",
        "serial",
        "sessions",
        "wan_octet",
    )

    def __init__(
        self,
        serial: str,
        *,
        oui: str = "00D09E",
        product_class: str = "SimRouter",
        manufacturer: str = "Beskontakt",
        model_name: str = "",
        data_model: str = profiles.TR181,
        optical: bool = False,
        dsl: bool = False,
        scenario: str | dict[str, Any] | Scenario = "healthy",
        acs_url: str = "http://127.0.0.1:7547/",
        acs_username: str | None = None,
        acs_password: str | None = None,
        cr_username: str | None = None,
        cr_password: str | None = None,
        cwmp_version: str = "1-0",
        inform_interval: int = 300,
        software_version: str = "1.0.0",
        faults: FaultInjection | None = None,
        retry_min: float = 5.0,
        request_timeout: float = 30.0,
        wan_octet: int = 10,
    ) -> None:
        self.serial = serial
        self.oui = oui
        self.product_class = product_class
        self.manufacturer = manufacturer
        self.model_name = model_name or product_class
        self.data_model = data_model
        self.profile = profiles.profile_for(data_model)
        self.paths = paths_for(data_model)
        self.dm = DataModel(schema_for(data_model, optical, dsl))
        self.rng = _RNG  # one generator for the whole process: a Random per device would cost 2.5 kB each
        self.scenario = make_scenario(scenario)
        self.namespace = soap.CWMP_NS.get(cwmp_version, soap.DEFAULT_CWMP)
        self._initial = {
            "acs_url": acs_url,
            "acs_username": acs_username if acs_username is not None else f"{oui}-{serial}",
            "acs_password": acs_password if acs_password is not None else f"acs-{serial}",
            "cr_username": cr_username if cr_username is not None else serial,
            "cr_password": cr_password if cr_password is not None else f"cr-{serial}",
            "interval": str(inform_interval),
            "software": software_version,
        }
        self.cr_url = ""
        self.faults = faults or FaultInjection()
        self.retry_min = retry_min
        self.request_timeout = request_timeout
        self.wan_octet = wan_octet
        self.events: list[tuple[str, str]] = [(BOOTSTRAP, ""), (BOOT, "")]
        self.changed: set[str] = set()
        self.pending_transfer: PendingTransfer | None = None
        self.retry_count = 0
        self.boot_time = time.time()
        self._actions: list[tuple[str, Any]] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._wake: asyncio.Event | None = None
        self._next_id = 0
        self._interval_changed = False
        self._retry_after: float | None = None
        self.in_session = False
        self.sessions = 0  # successful ones
        self.log = _Log()  # (kind, detail …): informs sent, RPCs handled, failures — the newest LOG_SIZE
        self._identity()

    # --- state ------------------------------------------------------------------
    def _identity(self) -> None:
        """Identity, management settings and the scenario's values (again after a factory reset)."""
        p, dm, initial = self.paths, self.dm, self._initial
        dm.set(p.serial, self.serial)
        dm.set(p.manufacturer, self.manufacturer)
        dm.set(p.oui, self.oui)
        dm.set(p.product_class, self.product_class)
        dm.set(p.model_name, self.model_name)
        dm.set(p.software, initial["software"])
        dm.set(p.url, initial["acs_url"])
        dm.set(p.username, initial["acs_username"])
        dm.set(p.password, initial["acs_password"])
        dm.set(p.cr_username, initial["cr_username"])
        dm.set(p.cr_password, initial["cr_password"])
        dm.set(p.interval, initial["interval"])
        dm.set(p.ppp_username, f"{self.serial.lower()}@beskontakt")
        dm.set(p.ssid, f"Beskontakt-{self.serial[-4:]}")
        dm.set(p.bssid, self._mac(0))
        if self.cr_url:
            dm.set(p.cr_url, self.cr_url)
        self.set_wan(True, "ERROR_NONE")
        self.scenario.setup(self)

    def _mac(self, index: int) -> str:
        crc = zlib.crc32(f"{self.serial}/{index}".encode())
        return f"02:{crc >> 24 & 0xFF:02x}:{crc >> 16 & 0xFF:02x}:{crc >> 8 & 0xFF:02x}:{crc & 0xFF:02x}:{index:02x}"

    def _new_ip(self) -> str:
        return f"{self.wan_octet}.{self.rng.randint(64, 127)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

    @property
    def acs_url(self) -> str:
        """Where the device informs (ManagementServer.URL; the ACS may change it)."""
        return self.dm.value(self.paths.url) or self._initial["acs_url"]

    @property
    def device_id(self) -> str:
        """``OUI-ProductClass-SerialNumber``."""
        return f"{self.oui}-{self.product_class}-{self.serial}"

    @property
    def inform_interval(self) -> float:
        """PeriodicInformInterval in seconds (0 when periodic informs are off)."""
        if self.dm.value(self.paths.inform_enable, "true") != "true":
            return 0
        try:
            return max(1, int(self.dm.value(self.paths.interval, "300")))
        except ValueError:
            return 300

    def set_connection_request_url(self, url: str) -> None:
        """Where the ACS reaches this device (set by the fleet's connection-request server)."""
        self.cr_url = url
        self.dm.set(self.paths.cr_url, url)

    def refresh_dynamic(self) -> None:
        """Values that move by themselves (UpTime)."""
        self.dm.set(self.paths.uptime, str(int(time.time() - self.boot_time)))

    def set_wan(self, up: bool, error: str, *, notify: bool = False) -> None:
        """The WAN (PPP) connection up with a new address, or down; ``notify``: a VALUE CHANGE inform."""
        p = self.paths
        self.dm.set(p.wan_status, "Connected" if up else "Disconnected")
        self.dm.set(p.wan_error, error)
        if p.ppp_status:
            self.dm.set(p.ppp_status, "Up" if up else "Down")
        self.dm.set(p.wan_ip, self._new_ip() if up else "")
        if notify:
            self.value_changed([p.wan_status, p.wan_ip], active=True)

    def value_changed(self, paths: list[str], *, active: bool) -> None:
        """The device changed values itself: report them in the next Inform (now, when active)."""
        self.changed.update(paths)
        if active:
            self.add_event(VALUE_CHANGE)

    def add_event(self, code: str, command_key: str = "") -> None:
        """Queue an Inform event and wake the device for a session."""
        if code in _SINGLE:
            if any(existing == code for existing, _ in self.events):
                self._poke()
                return
        elif (code, command_key) in self.events:
            self._poke()
            return
        self.events.append((code, command_key))
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def request_session(self) -> None:
        """A connection request arrived: a session with 6 CONNECTION REQUEST (after the current one)."""
        self.add_event(CONNECTION_REQUEST)

    def power_cycle(self) -> None:
        """Lost power and came back: uptime restarts, a BOOT inform follows."""
        self.boot_time = time.time()
        self.add_event(BOOT)

    def after_session(self, action: tuple[str, Any]) -> None:
        """Queue work the spec puts after the session (reboot, download, diagnostics …)."""
        self._actions.append(action)

    def after_set(self, changed: dict[str, str]) -> None:
        """SetParameterValues was applied: scenario fixes, diagnostics requests, interval changes."""
        self.scenario.on_set(self, changed)
        p = self.paths
        if changed.get(p.ping + "DiagnosticsState") == "Requested":
            self.after_session(("ping", None))
        if p.download and changed.get(p.download + "DiagnosticsState") == "Requested":
            self.after_session(("download_test", None))
        if p.interval in changed or p.inform_enable in changed:
            self._interval_changed = True
        if p.cr_url in changed:
            self.dm.set(p.cr_url, self.cr_url)

    def schedule_inform(self, delay: int, command_key: str) -> None:
        """ScheduleInform: a 3 SCHEDULED + M ScheduleInform session in ``delay`` seconds."""

        def due() -> None:
            self.add_event(SCHEDULED)
            self.add_event(M_SCHEDULE_INFORM, command_key)

        try:
            self._timers.append(asyncio.get_running_loop().call_later(delay, due))
        except RuntimeError:  # not inside a loop (unit tests of the RPC layer)
            self._actions.append(("schedule", (delay, command_key)))

    # --- one session ------------------------------------------------------------
    def _inform_parameters(self) -> list[tuple[str, str, str]]:
        p = self.paths
        names = [p.summary, p.hardware, p.software, p.provisioning, p.cr_url, p.parameter_key, p.wan_ip]
        if p.spec_version:
            names.insert(1, p.spec_version)
        for path in sorted(self.changed):
            if path not in names and path in self.dm:
                names.append(path)
        found: list[tuple[str, str, str]] = []
        for name in names:
            spec = self.dm.schema.spec(name)
            found.append((name, self.dm.value(name), spec.xsd_type if spec else "string"))
        return found

    def render_inform(self, events: list[tuple[str, str]]) -> bytes:
        """The Inform envelope for ``events`` (exposed for tests and benchmarks)."""
        self.refresh_dynamic()
        body = soap.inform(
            (self.manufacturer, self.oui, self.product_class, self.serial),
            events,
            self.retry_count,
            self._inform_parameters(),
        )
        return soap.envelope(body, self._id(), self.namespace)

    def _id(self) -> str:
        self._next_id += 1
        return f"{self._next_id}"

    def answer(self, message: soap.AcsMessage) -> bytes:
        """The device's reply to one ACS request (fault injection applied)."""
        self.log.append(("rpc", message.method))
        namespace = message.namespace or self.namespace
        injected = self.faults.rpc_faults.get(message.method)
        try:
            if injected:
                raise CpeFault(injected, "injected fault")
            body = rpc.handle(self, message)
        except CpeFault as fault:
            self.log.append(("fault", message.method, str(fault.code)))
            body = soap.fault(fault)
        return soap.envelope(body, message.cwmp_id, namespace)

    async def _post(self, http: aiohttp.ClientSession, exchange: _Exchange, body: bytes) -> tuple[int, bytes]:
        headers: dict[str, str] = {}
        if body:
            headers["Content-Type"] = 'text/xml; charset="utf-8"'
            headers["SOAPAction"] = ""
        for attempt in range(3):
            if exchange.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in exchange.cookies.items())
            if exchange.digest is not None:
                headers["Authorization"] = exchange.digest.authorization("POST", exchange.path)
            elif exchange.basic is not None:
                headers["Authorization"] = exchange.basic
            try:
                async with http.post(
                    exchange.url,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.request_timeout),
                    allow_redirects=False,
                ) as response:
                    content = await response.read()
                    for cookie_header in response.headers.getall("Set-Cookie", []):
                        jar: SimpleCookie = SimpleCookie()
                        jar.load(cookie_header)
                        for key, morsel in jar.items():
                            exchange.cookies[key] = morsel.value
                    status = response.status
                    challenges = response.headers.getall("WWW-Authenticate", [])
                    retry_after = response.headers.get("Retry-After")
            except TimeoutError:
                raise SessionFailed("timeout") from None
            except aiohttp.ClientError as error:
                raise SessionFailed(f"network: {type(error).__name__}") from None
            if status == 401:
                if attempt > 0 and not any("stale=true" in c.lower() for c in challenges):
                    raise SessionFailed("unauthorized")
                if not self._authenticate(exchange, challenges):
                    raise SessionFailed("unauthorized")
                continue
            if status == 503:
                raise SessionFailed("busy", _seconds(retry_after))
            if status not in (200, 204):
                self.log.append(("http_error", str(status), content[-400:].decode(errors="replace")))
                raise SessionFailed(f"http {status}")
            return status, content
        raise SessionFailed("unauthorized")

    def _authenticate(self, exchange: _Exchange, challenges: list[str]) -> bool:
        username = self.dm.value(self.paths.username)
        password = self.dm.value(self.paths.password) + ("-wrong" if self.faults.wrong_password else "")
        for challenge in challenges:
            if parse_params(challenge)[0] == "digest":
                exchange.digest = exchange.digest or DigestClient(username, password)
                return exchange.digest.accept(challenge)
        for challenge in challenges:
            if parse_params(challenge)[0] == "basic":
                exchange.basic = basic_authorization(username, password)
                return True
        return False

    async def session(self, http: aiohttp.ClientSession, stats: Stats | None = None) -> bool:
        """One CWMP session from Inform to the ACS's 204; False (and counted) when it failed."""
        stats = stats if stats is not None else Stats()
        events, self.events = self.events, []  # what arrives meanwhile waits for the next session
        if not events:
            events = [(PERIODIC, "")]
        changed = set(self.changed)
        started = time.perf_counter()
        self.in_session = True
        try:
            await self._session(http, events, stats)
        except SessionFailed as failure:
            stats.failed(failure.reason)
            self.log.append(("failed", failure.reason))
            self.retry_count += 1
            self._retry_after = failure.retry_after
            self.events = events + [e for e in self.events if e not in events]
            return False
        finally:
            self.in_session = False
        stats.ok(time.perf_counter() - started)
        for code, _ in events:
            stats.events[code] += 1
        self.changed -= changed
        self.retry_count = 0
        self._retry_after = None
        self.sessions += 1
        return True

    async def _session(self, http: aiohttp.ClientSession, events: list[tuple[str, str]], stats: Stats) -> None:
        exchange = _Exchange(self.acs_url)
        self.log.append(("inform", *(code for code, _ in events)))
        _, content = await self._post(http, exchange, self.render_inform(events))
        message = self._parse(content)
        if message is None or message.method != "InformResponse":
            raise SessionFailed("no InformResponse" if message is None or message.method != "Fault" else "inform fault")
        namespace = message.namespace or self.namespace
        hold = message.hold_requests
        if self.pending_transfer is not None and not hold:
            transfer = self.pending_transfer
            body = soap.transfer_complete(
                transfer.command_key, transfer.fault_code, transfer.fault_string, transfer.start, transfer.complete
            )
            self.log.append(("transfer_complete", transfer.command_key, str(transfer.fault_code)))
            _, content = await self._post(http, exchange, soap.envelope(body, self._id(), namespace))
            message = self._parse(content)
            if message is None or message.method != "TransferCompleteResponse":
                raise SessionFailed("no TransferCompleteResponse")
            self.pending_transfer = None
        outgoing = b""
        for _ in range(MAX_EXCHANGES):
            status, content = await self._post(http, exchange, outgoing)
            if status == 204:
                return
            message = self._parse(content)
            if message is None:
                return
            if message.method == "Fault":
                raise SessionFailed("acs fault")
            stats.rpcs[message.method] += 1
            if message.method == self.faults.vanish_on:
                raise SessionFailed("vanished (injected)")
            if message.method == self.faults.garble_on:
                outgoing = b"<soap-env:Envelope><soap-env:Body><cwmp:"
                continue
            outgoing = self.answer(message)
            if b"<soap-env:Fault>" in outgoing:
                stats.faults_sent[0] += 1
        raise SessionFailed("too many messages")

    def _parse(self, content: bytes) -> soap.AcsMessage | None:
        try:
            return soap.parse(content)
        except soap.GarbledMessage:
            raise SessionFailed("garbled answer") from None

    # --- after a session ----------------------------------------------------------
    async def run_actions(self, http: aiohttp.ClientSession) -> None:
        """Do what the last session asked for (in order) and queue the informs that report it."""
        actions, self._actions = self._actions, []
        for kind, argument in actions:
            self.log.append(("action", kind))
            if kind == "reboot":
                self.boot_time = time.time()
                self.add_event(BOOT)
                self.add_event(M_REBOOT, argument)
            elif kind == "factory_reset":
                self.dm.reset()
                self._identity()
                self.boot_time = time.time()
                self.add_event(BOOTSTRAP)
                self.add_event(BOOT)
            elif kind == "download":
                await self._download(http, argument)
            elif kind == "ping":
                await self._ping()
            elif kind == "download_test":
                await self._download_test(http)
            elif kind == "schedule":
                self.schedule_inform(*argument)

    async def _download(self, http: aiohttp.ClientSession, request: dict[str, Any]) -> None:
        if request["delay"]:
            await asyncio.sleep(min(request["delay"], 3600))
        fetched = await diagnostics.fetch_file(
            http, request["url"], request["username"], request["password"], request["size"]
        )
        firmware = request["file_type"].startswith("1 ")
        if fetched.fault_code == 0 and firmware:
            if fetched.content.startswith(b"BKFW "):  # the simulator's firmware image: "BKFW <version>\n…"
                version = fetched.content[5:].split(b"\n", 1)[0].decode(errors="replace").strip()
                self._initial["software"] = version or self._initial["software"]
                self.dm.set(self.paths.software, self._initial["software"])
            self.boot_time = time.time()
            self.add_event(BOOT)
        fault_string = "" if fetched.fault_code == 0 else fetched.detail
        self.pending_transfer = PendingTransfer(
            request["command_key"], fetched.fault_code, fault_string, fetched.start, fetched.complete
        )
        self.add_event(TRANSFER_COMPLETE)
        self.add_event(M_DOWNLOAD, request["command_key"])

    async def _ping(self) -> None:
        prefix = self.paths.ping
        host = self.dm.value(prefix + "Host")
        try:
            count = int(self.dm.value(prefix + "NumberOfRepetitions", "4"))
            timeout = int(self.dm.value(prefix + "Timeout", "1000"))
        except ValueError:
            count, timeout = 4, 1000
        computed = self.scenario.ping(self, host, count)
        if computed is not None:
            result = diagnostics.PingResult("Complete", *computed)
        else:
            result = await diagnostics.ping(host, count, timeout)
        for leaf, value in (
            ("DiagnosticsState", result.state),
            ("SuccessCount", result.success),
            ("FailureCount", result.failure),
            ("AverageResponseTime", result.avg),
            ("MinimumResponseTime", result.minimum),
            ("MaximumResponseTime", result.maximum),
        ):
            self.dm.set(prefix + leaf, str(value))
        self.add_event(DIAGNOSTICS_COMPLETE)

    async def _download_test(self, http: aiohttp.ClientSession) -> None:
        prefix = self.paths.download
        result = await diagnostics.download_test(http, self.dm.value(prefix + "DownloadURL"))
        for leaf, value in (
            ("DiagnosticsState", result.state),
            ("ROMTime", result.rom),
            ("BOMTime", result.bom),
            ("EOMTime", result.eom),
            ("TestBytesReceived", result.test_bytes),
            ("TotalBytesReceived", result.total_bytes),
        ):
            self.dm.set(prefix + leaf, str(value))
        self.add_event(DIAGNOSTICS_COMPLETE)

    # --- the device's life --------------------------------------------------------
    def retry_wait(self) -> float:
        """TR-069 3.2.1.1: between m·k^(n−1) and m·k^n seconds (m = ``retry_min``, k = 2, n ≤ 10)."""
        retry_after = self._retry_after
        if retry_after is not None:
            return retry_after + self.rng.uniform(0, min(retry_after, 5) * 0.2)
        n = min(max(self.retry_count, 1), 10)
        return self.rng.uniform(self.retry_min * 2 ** (n - 1), self.retry_min * 2**n)

    async def run(self, http: aiohttp.ClientSession | Lanes, stats: Stats, first_delay: float = 0.0) -> None:
        """Live until cancelled: first contact, periodic informs, requests, retries."""
        self._wake = asyncio.Event()
        background = asyncio.create_task(self.scenario.run(self))
        loop = asyncio.get_running_loop()
        try:
            if first_delay:
                await asyncio.sleep(first_delay)
            # the first periodic inform comes between half and one interval after start (no herd)
            phase = self.rng.uniform(0.5, 1.0) * (self.inform_interval or 1)
            next_periodic = loop.time() + phase
            while True:
                self._wake.clear()
                if self.events:
                    async with lease(http) as client:
                        ok = await self.session(client, stats)
                        if ok:
                            await self.run_actions(client)
                    if not ok:
                        stats.retries += 1
                        await asyncio.sleep(self.retry_wait())
                    continue
                if self._interval_changed:
                    self._interval_changed = False
                    next_periodic = loop.time() + (self.inform_interval or 0)
                interval = self.inform_interval
                timeout = max(0.0, next_periodic - loop.time()) if interval else None
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    self.add_event(PERIODIC)
                    next_periodic = max(next_periodic + interval, loop.time())
        finally:
            background.cancel()
            for timer in self._timers:
                timer.cancel()


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
