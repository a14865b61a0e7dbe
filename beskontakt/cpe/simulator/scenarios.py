"""Scriptable device behaviours: how a simulated line is broken and what repairs it.

The names are those of ``beskontakt.demo.faults`` so that the demo's devices and its switch
ports tell the same story. A scenario sets values when the device is created (and after a
factory reset), may react to what the ACS writes (``on_set``: the fix), may run in the
background (``run``: a flapping link) and may decide diagnostics results. Adding one is a
small subclass registered in ``SCENARIOS``; a plain dict of logical values also works
(``from_dict``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

from beskontakt.cpe import profiles
from beskontakt.demo import faults as demo_faults

if TYPE_CHECKING:
    from .cpe import SimulatedCpe


def _set(cpe: SimulatedCpe, name: str, raw: str) -> None:
    path = cpe.profile.path(name)
    if path is not None and path in cpe.dm:
        cpe.dm.set(path, raw)


def _mac(cpe: SimulatedCpe, index: int) -> str:
    tail = cpe.rng.getrandbits(24)
    return f"02:5a:{index:02x}:{tail >> 16 & 0xFF:02x}:{tail >> 8 & 0xFF:02x}:{tail & 0xFF:02x}"


def set_clients(cpe: SimulatedCpe, signals: list[int]) -> None:
    """Replace the Wi-Fi clients with one station per signal level (dBm)."""
    table = cpe.paths.clients_table
    for number in cpe.dm.instances(table):
        cpe.dm.delete_instance(f"{table}{number}.", force=True)
    for index, signal in enumerate(signals, start=1):
        number = cpe.dm.add_instance(table, force=True)
        instance = f"{table}{number}."
        if cpe.data_model == profiles.TR181:
            cpe.dm.set(instance + "MACAddress", _mac(cpe, index))
            cpe.dm.set(instance + "SignalStrength", str(signal))
            cpe.dm.set(instance + "Active", "true")
        else:
            cpe.dm.set(instance + "AssociatedDeviceMACAddress", _mac(cpe, index))
            cpe.dm.set(instance + "AssociatedDeviceIPAddress", f"192.168.1.{100 + index}")
            cpe.dm.set(instance + "AssociatedDeviceAuthenticationState", "true")


class Scenario:
    """A healthy line; subclasses break it in one way."""

    name: ClassVar[str] = demo_faults.HEALTHY

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.fixed = False

    def setup(self, cpe: SimulatedCpe) -> None:
        """Values at creation and after a factory reset."""
        set_clients(cpe, [cpe.rng.randint(-62, -45) for _ in range(cpe.rng.randint(1, 4))])
        channel = cpe.rng.choice([1, 6, 11])
        _set(cpe, profiles.WIFI_CHANNEL, str(channel))
        if self.name != WifiCongested.name:
            neighbours = [cpe.rng.choice([1, 6, 11]) for _ in range(cpe.rng.randint(0, 3))]
            _set(cpe, profiles.WIFI_CHANNELS_IN_USE, ",".join(str(c) for c in [channel, *neighbours]))

    def on_set(self, cpe: SimulatedCpe, changed: dict[str, str]) -> None:
        """React to a SetParameterValues the device accepted (the remote fix)."""

    async def run(self, cpe: SimulatedCpe) -> None:
        """Background behaviour while the device runs (none by default)."""

    def ping(self, cpe: SimulatedCpe, host: str, count: int) -> tuple[int, int, int, int, int] | None:
        """Computed IPPing results (success, failure, avg, min, max ms); None: really ping."""
        return None


class Healthy(Scenario):
    """Everything works."""


class CableFault(Scenario):
    """The switch port sees CRC errors and flaps; the device itself looks healthy."""

    name = demo_faults.CABLE_FAULT


class WifiCongested(Scenario):
    """Channel 6 crowded by neighbours, many stations with weak signals; a free channel fixes it."""

    name = demo_faults.WIFI_CONGESTED
    NEIGHBOURS: ClassVar[list[int]] = [6, 6, 6, 6, 6, 6, 6, 6, 5, 7, 1, 11]

    def setup(self, cpe: SimulatedCpe) -> None:
        """Crowded channel, auto channel off, a dozen weak stations."""
        self.fixed = False
        neighbours = self.options.get("neighbours", self.NEIGHBOURS)
        channel = int(self.options.get("channel", 6))
        _set(cpe, profiles.WIFI_CHANNEL, str(channel))
        _set(cpe, profiles.WIFI_AUTO_CHANNEL, "false")
        _set(cpe, profiles.WIFI_CHANNELS_IN_USE, ",".join(str(c) for c in [channel, *neighbours]))
        count = int(self.options.get("clients", 12))
        set_clients(cpe, [cpe.rng.randint(-89, -78) for _ in range(count)])

    def free_channels(self) -> list[int]:
        """Channels (1–13) no more than one neighbour uses."""
        used = Counter(self.options.get("neighbours", self.NEIGHBOURS))
        return [c for c in range(1, 14) if used[c] <= 1 and used[c - 1] + used[c + 1] <= 1]

    def on_set(self, cpe: SimulatedCpe, changed: dict[str, str]) -> None:
        """A free channel (or auto channel, which picks one) clears the congestion."""
        channel_path = cpe.profile.path(profiles.WIFI_CHANNEL)
        auto_path = cpe.profile.path(profiles.WIFI_AUTO_CHANNEL)
        if auto_path in changed and changed[auto_path] == "true":
            cpe.dm.set(channel_path or "", str(self.free_channels()[0]))
        elif channel_path not in changed:
            return
        channel = int(cpe.dm.value(channel_path or "", "0"))
        neighbours = self.options.get("neighbours", self.NEIGHBOURS)
        _set(cpe, profiles.WIFI_CHANNELS_IN_USE, ",".join(str(c) for c in [channel, *neighbours]))
        self.fixed = channel in self.free_channels()
        count = int(self.options.get("clients", 12))
        if self.fixed:
            set_clients(cpe, [cpe.rng.randint(-60, -42) for _ in range(count)])
        else:
            set_clients(cpe, [cpe.rng.randint(-89, -78) for _ in range(count)])


class PppAuthFailure(Scenario):
    """The PPP session is refused for bad credentials; the expected password (if any) fixes it."""

    name = demo_faults.PPP_AUTH_FAILURE

    def setup(self, cpe: SimulatedCpe) -> None:
        """Disconnected with ERROR_AUTHENTICATION_FAILURE and no WAN address."""
        super().setup(cpe)
        self.fixed = False
        cpe.set_wan(False, "ERROR_AUTHENTICATION_FAILURE")

    def on_set(self, cpe: SimulatedCpe, changed: dict[str, str]) -> None:
        """Connect when the PPP password becomes the one the scenario expects."""
        expected = self.options.get("expected_password")
        password_path = cpe.paths.ppp_password
        if expected is not None and changed.get(password_path) == expected:
            self.fixed = True
            cpe.set_wan(True, "ERROR_NONE", notify=True)


class LowOptical(Scenario):
    """An ONT receiving about −29 dBm (0.001 dBm units), below the −28 dBm threshold."""

    name = demo_faults.LOW_OPTICAL

    def setup(self, cpe: SimulatedCpe) -> None:
        """A weak received optical level."""
        super().setup(cpe)
        level = int(self.options.get("level", -29000)) + cpe.rng.randint(-300, 300)
        _set(cpe, profiles.OPTICAL_RX_POWER, str(level))


class FlappingLink(Scenario):
    """The WAN goes down and up every ``period`` seconds (VALUE CHANGE informs), and reboots now and then."""

    name = demo_faults.FLAPPING_LINK

    async def run(self, cpe: SimulatedCpe) -> None:
        """Flap forever: down, up with a new address, every ``boot_every``-th time a reboot."""
        period = float(self.options.get("period", 60))
        boot_every = int(self.options.get("boot_every", 4))
        flaps = 0
        while True:
            await asyncio.sleep(period)
            cpe.set_wan(False, "ERROR_NO_CARRIER", notify=True)
            await asyncio.sleep(period / 4)
            flaps += 1
            if boot_every and flaps % boot_every == 0:
                cpe.power_cycle()
            cpe.set_wan(True, "ERROR_NO_CARRIER", notify=True)


SCENARIOS: dict[str, type[Scenario]] = {
    cls.name: cls for cls in (Healthy, CableFault, WifiCongested, PppAuthFailure, LowOptical, FlappingLink)
}


class ValuesScenario(Scenario):
    """A scenario written as data: logical names → raw values set at creation."""

    def __init__(self, name: str, values: dict[str, str], **options: Any) -> None:
        super().__init__(**options)
        self.name = name  # type: ignore[misc]
        self.values = values

    def setup(self, cpe: SimulatedCpe) -> None:
        """The healthy defaults, then the given values."""
        super().setup(cpe)
        for logical, raw in self.values.items():
            _set(cpe, logical, raw)


def make_scenario(spec: str | dict[str, Any] | Scenario) -> Scenario:
    """A scenario from its name, a dict (``{"name": …, "values": {…}, options…}``) or an instance."""
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, dict):
        options = dict(spec)
        name = str(options.pop("name", "custom"))
        values = options.pop("values", None)
        if values is not None:
            return ValuesScenario(name, values, **options)
        return SCENARIOS[name](**options)
    if spec not in SCENARIOS:
        raise ValueError(f"unknown scenario {spec!r}; known: {', '.join(sorted(SCENARIOS))}")
    return SCENARIOS[spec]()
