"""``DeviceManagement``: what the rest of Beskontakt may ask of a subscriber's device.

Two implementations stand behind it:

* ``beskontakt.cpe.builtin.BuiltinAcs`` — the ACS in this project (``beskontakt acs``);
* ``beskontakt.cpe.genieacs.GenieAcs`` — an existing GenieACS, through its NBI.

``settings.DEVICE_MANAGEMENT`` picks one (``get_device_management()``). Callers speak in
*logical names* (``profiles.WAN_STATUS``, ``profiles.WIFI_CHANNEL`` …); each
implementation maps them to TR-181 (``Device.``) or TR-098 (``InternetGatewayDevice.``)
paths through ``beskontakt.cpe.profiles``. Every method is synchronous, bounded by its
``timeout`` and never raises for a device problem: the answer says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class DeviceInfo:
    """One managed device as the management system knows it."""

    device_id: str  # "OUI-ProductClass-SerialNumber" (GenieACS uses the same form)
    serial_number: str
    data_model: str  # profiles.TR181 or profiles.TR098
    manufacturer: str = ""
    product_class: str = ""
    software_version: str = ""
    last_inform_at: datetime | None = None
    periodic_inform_interval: int | None = None  # seconds

    def online(self, now: datetime, grace: float = 2.5) -> bool | None:
        """Whether the device informed within ``grace`` × its periodic interval (None: unknown)."""
        if self.last_inform_at is None:
            return False
        if not self.periodic_inform_interval:
            return None
        return (now - self.last_inform_at).total_seconds() <= grace * self.periodic_inform_interval


@dataclass(frozen=True)
class Reading:
    """A logical value read from the device (``value`` None: the device has no such parameter)."""

    name: str  # logical name
    value: Any
    path: str = ""  # the data-model path it came from
    updated_at: datetime | None = None  # when the device last reported it


@dataclass
class Outcome:
    """What an operation on a device came to.

    ``ok`` False with ``fault_code`` set: the CPE answered with a CWMP fault (9000–9032);
    with ``timed_out``: the device did not answer within the time allowed (the task may
    still run at its next session). ``detail`` is English for logs; the UI words it from
    ``fault_code``/``timed_out``. ``values`` carries results (readings, diagnostics).
    """

    ok: bool
    detail: str = ""
    fault_code: int | None = None
    timed_out: bool = False
    task_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class DeviceManagement(Protocol):
    """The contract both ACS adapters fulfil (see docs/apps/cpe.md)."""

    name: str

    def find_device(self, serial_number: str) -> DeviceInfo | None:
        """The device with this serial number, or None when the ACS has never seen it."""
        ...

    def read(
        self, device_id: str, names: list[str], *, refresh: bool = False, timeout: float = 3.0
    ) -> tuple[dict[str, Reading], Outcome]:
        """Logical values: from the cache, or fresh from the device (connection request) when ``refresh``."""
        ...

    def set_values(self, device_id: str, values: dict[str, Any], *, timeout: float = 10.0) -> Outcome:
        """Write logical values (e.g. ``{WIFI_CHANNEL: 6}``) with SetParameterValues."""
        ...

    def reboot(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """Reboot the device now (connection request + Reboot RPC)."""
        ...

    def factory_reset(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """Reset the device to factory settings (it re-provisions itself on BOOTSTRAP)."""
        ...

    def reprovision(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        """Apply the presets again (management credentials, inform interval, Wi-Fi …)."""
        ...

    def ping(self, device_id: str, host: str, *, count: int = 4, timeout: float = 15.0) -> Outcome:
        """Run IPPing diagnostics on the device; ``values``: sent, received, avg_ms, min_ms, max_ms."""
        ...

    def speed_test(self, device_id: str, url: str, *, timeout: float = 30.0) -> Outcome:
        """Run DownloadDiagnostics; ``values``: bytes, seconds, mbps."""
        ...


_instances: dict[tuple[str, str], DeviceManagement] = {}


def get_device_management() -> DeviceManagement:
    """The implementation ``settings.DEVICE_MANAGEMENT`` names (one per process: it keeps a connection pool)."""
    from django.conf import settings

    key = (settings.DEVICE_MANAGEMENT, settings.GENIEACS_NBI_URL)
    instance = _instances.get(key)
    if instance is None:
        if settings.DEVICE_MANAGEMENT == "genieacs":
            from beskontakt.cpe.genieacs import GenieAcs

            instance = GenieAcs(settings.GENIEACS_NBI_URL)
        else:
            from beskontakt.cpe.builtin import BuiltinAcs

            instance = BuiltinAcs()
        _instances[key] = instance
    return instance
