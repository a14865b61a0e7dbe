"""Test doubles of the diagnosis sources: a device management system, switch port health, ping.

They have the shapes of the real ones (``DeviceManagement``, ``network.health.PortHealth``,
``network.ping``) and keep what was done to them, so tests can assert on it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from beskontakt.cpe import profiles
from beskontakt.cpe.management import DeviceInfo, Outcome, Reading
from beskontakt.diagnostics.sources import Sources

HEALTHY_READINGS: dict[str, Any] = {
    profiles.UPTIME: 86_400,
    profiles.SOFTWARE_VERSION: "3.1.4",
    profiles.WAN_STATUS: "up",
    profiles.WAN_PPP_LAST_ERROR: "ERROR_NONE",
    profiles.WAN_IP: "127.0.0.1",
    profiles.WIFI_SSID: "Beskontakt-1234",
    profiles.WIFI_CHANNEL: 6,
    profiles.WIFI_AUTO_CHANNEL: False,
    profiles.WIFI_CHANNELS_IN_USE: [1, 11],
    profiles.WIFI_CLIENTS: 2,
    profiles.WIFI_CLIENT_SIGNALS: [-48, -60],
    profiles.OPTICAL_RX_POWER: -19.5,
    profiles.OPTICAL_TX_POWER: 2.1,
}


@dataclass
class FakeDevice:
    """One device: its record, its values, whether it answers, and the faults it returns."""

    serial: str
    values: dict[str, Any] = field(default_factory=lambda: dict(HEALTHY_READINGS))
    answers: bool = True
    informed_ago: timedelta = timedelta(minutes=2)
    interval: int = 300
    fault_code: int | None = None
    hang: threading.Event | None = None

    @property
    def device_id(self) -> str:
        return f"A1B2C3-Router-{self.serial}"

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            device_id=self.device_id,
            serial_number=self.serial,
            data_model=profiles.TR181,
            manufacturer="Acme",
            product_class="Router",
            software_version="3.1.4",
            last_inform_at=timezone.now() - self.informed_ago,
            periodic_inform_interval=self.interval,
        )


class FakeManagement:
    """A ``DeviceManagement`` over ``FakeDevice`` objects, recording every operation."""

    name = "fake"

    def __init__(self, *devices: FakeDevice) -> None:
        self.devices = {d.serial: d for d in devices}
        self.calls: list[tuple[str, str, Any]] = []

    def _by_id(self, device_id: str) -> FakeDevice:
        return next(d for d in self.devices.values() if d.device_id == device_id)

    def find_device(self, serial_number: str) -> DeviceInfo | None:
        device = self.devices.get(serial_number)
        return device.info() if device else None

    def read(
        self, device_id: str, names: list[str], *, refresh: bool = False, timeout: float = 3.0
    ) -> tuple[dict[str, Reading], Outcome]:
        device = self._by_id(device_id)
        self.calls.append(("read", device_id, refresh))
        if device.hang is not None:
            device.hang.wait(10)
        readings = {n: Reading(n, device.values.get(n), updated_at=timezone.now()) for n in names}
        if refresh and not device.answers:
            return readings, Outcome(ok=False, detail="connection request timed out", timed_out=True)
        return readings, Outcome(ok=True)

    def _act(self, kind: str, device_id: str, payload: Any = None) -> Outcome:
        device = self._by_id(device_id)
        self.calls.append((kind, device_id, payload))
        if not device.answers:
            return Outcome(ok=False, detail="no answer", timed_out=True)
        if device.fault_code is not None:
            return Outcome(ok=False, detail="fault", fault_code=device.fault_code)
        return Outcome(ok=True, detail=f"{kind} done")

    def set_values(self, device_id: str, values: dict[str, Any], *, timeout: float = 10.0) -> Outcome:
        outcome = self._act("set_values", device_id, dict(values))
        if outcome.ok:
            self._by_id(device_id).values.update(values)
        return outcome

    def reboot(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        return self._act("reboot", device_id)

    def factory_reset(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        return self._act("factory_reset", device_id)

    def reprovision(self, device_id: str, *, timeout: float = 10.0) -> Outcome:
        outcome = self._act("reprovision", device_id)
        if outcome.ok:
            device = self._by_id(device_id)
            device.values[profiles.WAN_STATUS] = "up"
            device.values[profiles.WAN_PPP_LAST_ERROR] = "ERROR_NONE"
        return outcome

    def ping(self, device_id: str, host: str, *, count: int = 4, timeout: float = 15.0) -> Outcome:
        return self._act("ping", device_id, host)

    def speed_test(self, device_id: str, url: str, *, timeout: float = 30.0) -> Outcome:
        outcome = self._act("speed_test", device_id, url)
        if outcome.ok:
            outcome.values = {"bytes": 10_000_000, "seconds": 0.8, "mbps": 100.0}
        return outcome


@dataclass
class PortHealth:
    """The shape of ``network.health.PortHealth``."""

    node_name: str = "sw-khamovniki-12"
    node_kind: str = "access_switch"
    port_name: str = "Gi0/12"
    if_index: int = 12
    oper_status: str = "up"
    admin_status: str = "up"
    last_change_at: datetime | None = None
    flaps_24h: int = 0
    errors_last_hour: int = 0
    errors_per_minute: float = 0.0
    discards_last_hour: int = 0
    utilisation_in: float = 0.1
    utilisation_out: float = 0.2
    uplink_utilisation: float = 0.3
    sampled_at: datetime | None = None
    stale: bool = False
    node_reachable: bool = True
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class PingResult:
    """The shape of ``network.ping``'s answer."""

    sent: int = 3
    received: int = 3
    loss: float = 0.0
    min_ms: float = 0.5
    avg_ms: float = 1.0
    max_ms: float = 2.0


class World:
    """The doubles of one test: devices, the port, ping; ``sources()`` wires them into a diagnosis."""

    def __init__(self, *devices: FakeDevice) -> None:
        self.management = FakeManagement(*devices)
        self.port: PortHealth | None = PortHealth()
        self.ping_result = PingResult()
        self.node: Any = None
        self.pinged: list[str] = []

    def port_health(self, subscriber_id: int, *, live: bool = True, timeout: float = 2.0) -> PortHealth | None:
        return self.port

    def ping(self, host: str, *, count: int = 3, interval: float = 0.2, timeout: float = 1.0) -> PingResult:
        self.pinged.append(host)
        return self.ping_result

    def sources(self) -> Sources:
        return Sources(
            device_management=lambda: self.management,
            port_health=self.port_health,
            node_of_subscriber=lambda subscriber_id: self.node,
            ping=self.ping,
        )
