"""Thousands of simulated CPEs in one asyncio process, with one HTTP client and one CR server.

``FleetConfig`` describes a generated fleet (count, serial prefix, OUI, product class, the
data-model and scenario mixes, inform interval, ramp-up, ACS URL, credentials); a list of
``CpeSpec`` describes given devices (the demo's equipment). ``Fleet.start`` opens one
aiohttp ``ClientSession`` (a bounded connection pool, no shared cookie jar) and one
connection-request server, then runs every device as a task; ``stats`` counts sessions,
failures and latencies for the benchmark.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from beskontakt.cpe import profiles

from .cpe import FaultInjection, SimulatedCpe
from .crserver import ConnectionRequestServer
from .lanes import Lanes
from .stats import Stats


@dataclass
class CpeSpec:
    """One device to simulate."""

    serial: str
    oui: str = "00D09E"
    product_class: str = "SimRouter"
    manufacturer: str = "Beskontakt"
    model_name: str = ""
    data_model: str = profiles.TR181
    optical: bool = False
    dsl: bool = False
    scenario: str | dict[str, Any] = "healthy"
    faults: FaultInjection | None = None


@dataclass
class FleetConfig:
    """How to build and run a fleet."""

    acs_url: str = "http://127.0.0.1:7547/"
    count: int = 100
    serial_prefix: str = "SIM"
    oui: str = "00D09E"
    manufacturer: str = "Beskontakt"
    product_class: str = "SimRouter"
    data_models: dict[str, float] = field(default_factory=lambda: {profiles.TR181: 1.0, profiles.TR098: 1.0})
    optical_share: float = 0.0  # of TR-181 devices: ONTs with an Optical interface
    scenarios: dict[str, float] = field(default_factory=lambda: {"healthy": 1.0})
    inform_interval: int = 300
    ramp_seconds: float = 0.0  # first contacts spread uniformly over this many seconds
    username_template: str = "{oui}-{serial}"
    password_template: str = "acs-{serial}"  # noqa: S105 - a template, not a secret
    cr_username_template: str = "{serial}"
    cr_password_template: str = "cr-{serial}"  # noqa: S105 - a template
    cr_host: str = "127.0.0.1"
    cr_port: int = 0
    cwmp_version: str = "1-0"
    connections: int = 256  # HTTP connections to the ACS at most
    retry_min: float = 5.0
    wan_octet: int = 10  # the routers' WAN addresses: 10.x.x.x, or 127.x.x.x (loopback: pingable here)
    request_timeout: float = 30.0
    seed: int = 1

    def specs(self) -> list[CpeSpec]:
        """The devices this config describes (deterministic from ``seed``)."""
        rng = random.Random(self.seed)
        models, model_weights = zip(*self.data_models.items(), strict=True)
        names, weights = zip(*self.scenarios.items(), strict=True)
        width = max(6, len(str(self.count)))
        found: list[CpeSpec] = []
        for index in range(1, self.count + 1):
            model = rng.choices(models, model_weights)[0]
            found.append(
                CpeSpec(
                    serial=f"{self.serial_prefix}{index:0{width}d}",
                    oui=self.oui,
                    product_class=self.product_class,
                    manufacturer=self.manufacturer,
                    data_model=model,
                    optical=model == profiles.TR181 and rng.random() < self.optical_share,
                    scenario=rng.choices(names, weights)[0],
                )
            )
        return found


def parse_mix(text: str) -> dict[str, float]:
    """``healthy=9,wifi_congested=1`` → {name: weight}; a bare name weighs 1."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, _, weight = part.partition("=")
        mix[name.strip()] = float(weight) if weight else 1.0
    if not mix:
        raise ValueError("empty mix")
    return mix


class Fleet:
    """Runs the devices; ``async with Fleet(...)`` starts and stops it."""

    def __init__(self, config: FleetConfig, specs: list[CpeSpec] | None = None) -> None:
        self.config = config
        self.stats = Stats()
        self.devices: dict[str, SimulatedCpe] = {}
        for spec in specs if specs is not None else config.specs():
            self.devices[spec.serial] = self._device(spec)
        self.cr_server = ConnectionRequestServer(self.devices, config.cr_host, config.cr_port)
        self.http: aiohttp.ClientSession | None = None  # for callers' own requests
        self.lanes: Lanes | None = None  # one connection per running CWMP session
        self._tasks: list[asyncio.Task[None]] = []
        self.started_at = 0.0

    def _device(self, spec: CpeSpec) -> SimulatedCpe:
        c = self.config
        names = {"serial": spec.serial, "oui": spec.oui, "product_class": spec.product_class}
        return SimulatedCpe(
            spec.serial,
            oui=spec.oui,
            product_class=spec.product_class,
            manufacturer=spec.manufacturer,
            model_name=spec.model_name,
            data_model=spec.data_model,
            optical=spec.optical,
            dsl=spec.dsl,
            scenario=spec.scenario,
            acs_url=c.acs_url,
            acs_username=c.username_template.format(**names),
            acs_password=c.password_template.format(**names),
            cr_username=c.cr_username_template.format(**names),
            cr_password=c.cr_password_template.format(**names),
            cwmp_version=c.cwmp_version,
            inform_interval=c.inform_interval,
            faults=spec.faults,
            retry_min=c.retry_min,
            request_timeout=c.request_timeout,
            wan_octet=c.wan_octet,
        )

    async def start(self) -> None:
        """Open the HTTP client and the CR server, then start every device."""
        connector = aiohttp.TCPConnector(limit=self.config.connections, limit_per_host=self.config.connections)
        self.http = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        lanes = self.lanes = Lanes(self.config.connections)
        await lanes.open()
        await self.cr_server.start()
        rng = random.Random(self.config.seed + 1)
        for serial, device in self.devices.items():
            device.set_connection_request_url(self.cr_server.url_for(serial))
        self.started_at = time.monotonic()
        for device in self.devices.values():
            delay = rng.uniform(0, self.config.ramp_seconds) if self.config.ramp_seconds else 0.0
            self._tasks.append(asyncio.create_task(device.run(lanes, self.stats, delay)))

    async def stop(self) -> None:
        """Cancel the devices and close the client and the server."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.cr_server.stop()
        if self.lanes is not None:
            await self.lanes.close()
            self.lanes = None
        if self.http is not None:
            await self.http.close()
            self.http = None

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_for_sessions(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` sessions succeeded in total (False when ``timeout`` passed first)."""
        deadline = time.monotonic() + timeout
        while self.stats.sessions_ok < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def summary(self) -> dict[str, object]:
        """Counters plus the fleet's size, run time and connection requests served."""
        elapsed = time.monotonic() - self.started_at if self.started_at else 0.0
        return {
            "devices": len(self.devices),
            "seconds": round(elapsed, 1),
            "connection_requests": self.cr_server.requests,
            **self.stats.summary(),
        }
