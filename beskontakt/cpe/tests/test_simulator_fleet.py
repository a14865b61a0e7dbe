"""Fleets: many devices in one process, the command line, and ``manage.py cpe_simulate --demo``."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import threading
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from beskontakt.conftest import make_subscriber
from beskontakt.cpe import profiles
from beskontakt.cpe.simulator import Fleet, FleetConfig
from beskontakt.cpe.simulator.fleet import parse_mix
from beskontakt.cpe.simulator.scripted_acs import ScriptedAcs
from beskontakt.demo.faults import demo_scenario
from beskontakt.subscribers.models import Equipment

from .test_simulator_session import run, until


def test_config_mixes_are_deterministic() -> None:
    config = FleetConfig(count=400, scenarios={"healthy": 3, "wifi_congested": 1}, optical_share=0.5, seed=7)
    specs = config.specs()
    assert specs == FleetConfig(**{**config.__dict__}).specs()
    assert specs[0].serial == "SIM000001"
    models = {spec.data_model for spec in specs}
    assert models == {profiles.TR181, profiles.TR098}
    congested = sum(spec.scenario == "wifi_congested" for spec in specs)
    assert 50 < congested < 150
    assert all(not spec.optical for spec in specs if spec.data_model == profiles.TR098)
    assert any(spec.optical for spec in specs)


def test_parse_mix() -> None:
    assert parse_mix("healthy=9, wifi_congested") == {"healthy": 9.0, "wifi_congested": 1.0}
    with pytest.raises(ValueError):
        parse_mix(" , ")
    with pytest.raises(ValueError):
        parse_mix("healthy=lots")


def test_a_fleet_informs_and_counts() -> None:
    async def test(acs: ScriptedAcs) -> None:
        config = FleetConfig(
            acs_url=acs.url,
            count=300,
            ramp_seconds=0.3,
            scenarios={"healthy": 1, "wifi_congested": 1, "ppp_auth_failure": 1, "low_optical": 1},
            optical_share=0.5,
            connections=32,
            retry_min=0.05,
            inform_interval=3600,
        )
        async with Fleet(config) as fleet:
            await until(lambda: fleet.stats.sessions_ok >= 300, timeout=30)
            summary = fleet.summary()
        assert summary["sessions_failed"] == 0
        assert summary["devices"] == 300
        assert summary["events"] == {"0 BOOTSTRAP": 300, "1 BOOT": 300}
        assert summary["p95_ms"] is not None
        assert len({inform.serial for inform in acs.informs}) == 300
        # the static tree is shared: each device keeps only a small overlay of its own
        own = max(len(device.dm.own) for device in fleet.devices.values())
        assert own < 120

    run(test, auth="digest")


def test_command_line_runs_a_fleet() -> None:
    async def test(acs: ScriptedAcs) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "beskontakt.cpe.simulator",
            "--acs",
            acs.url,
            "--count",
            "5",
            "--ramp",
            "0",
            "--duration",
            "1.5",
            "--stats-every",
            "0",
            "--scenarios",
            "healthy=1,flapping_link=1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(Path(__file__).resolve().parents[3]),
        )
        output, errors = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, errors.decode()
        lines = [json.loads(line) for line in output.decode().splitlines()]
        assert lines[0]["started"] == 5
        assert lines[-1]["final"]["sessions_ok"] >= 5
        assert lines[-1]["final"]["sessions_failed"] == 0
        assert len({inform.serial for inform in acs.informs}) == 5

    run(test)


def test_command_line_rejects_bad_options() -> None:
    from beskontakt.cpe.simulator.__main__ import main

    assert main(["--scenarios", "gremlins=1", "--count", "1"]) == 2
    assert main(["--models", "tr999=1", "--count", "1"]) == 2


# --- manage.py cpe_simulate --------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def _command_importable() -> None:
    """``beskontakt/cpe/management.py`` (the DeviceManagement protocol) shadows a
    ``management/`` package, so Django cannot import ``management.commands`` yet; until the
    protocol module moves into ``management/__init__.py`` let the module double as the package."""
    module = importlib.import_module("beskontakt.cpe.management")
    if not hasattr(module, "__path__"):
        module.__path__ = [str(Path(module.__file__ or "").with_suffix(""))]  # type: ignore[attr-defined]


class _AcsThread:
    """A scripted ACS on its own event loop in a thread (the command runs its own loop)."""

    def __init__(self) -> None:
        self.acs = ScriptedAcs()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ScriptedAcs:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.acs.start(), self.loop).result(10)
        return self.acs

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.acs.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def acs() -> Iterator[ScriptedAcs]:
    with _AcsThread() as running:
        yield running


@pytest.fixture
def equipment(db: Any) -> list[Equipment]:
    first, second = make_subscriber("77100001"), make_subscriber("77100002")
    return [
        Equipment.objects.create(
            subscriber=first,
            kind="ont",
            vendor="Huawei",
            model="HG8245H",
            serial_number="48575443A1B2C3D4",
            mac_address="00:E0:FC:00:00:01",
        ),
        Equipment.objects.create(
            subscriber=first,
            kind="router",
            vendor="TP-Link",
            model="Archer C6",
            serial_number="2226000000A1",
            mac_address="50:c7:bf:00:00:02",
        ),
        Equipment.objects.create(
            subscriber=second,
            kind="router",
            vendor="ASUS",
            model="RT-AX55",
            serial_number="N8IG00000002",
            mac_address="04:D9:F5:00:00:03",
        ),
        Equipment.objects.create(
            subscriber=second,
            kind="stb",
            vendor="SmartLabs",
            model="SML-482 HD Base",
            serial_number="SML00000004",
            mac_address="00:1A:79:00:00:04",
        ),
    ]


def test_demo_specs_follow_the_equipment(equipment: list[Equipment]) -> None:
    from beskontakt.cpe.management.commands.cpe_simulate import demo_specs, oui_of

    assert oui_of("50:c7:bf:00:00:02") == "50C7BF"
    assert oui_of("") == "00D09E"
    specs = {spec.serial: spec for spec in demo_specs()}
    assert set(specs) == {"48575443A1B2C3D4", "2226000000A1", "N8IG00000002"}  # no set-top boxes
    ont = specs["48575443A1B2C3D4"]
    assert (ont.oui, ont.product_class, ont.manufacturer) == ("00E0FC", "HG8245H", "Huawei")
    assert ont.data_model == profiles.TR181 and ont.optical
    assert ont.scenario == demo_scenario("77100001")
    assert specs["2226000000A1"].data_model == profiles.TR098  # odd serial
    assert specs["N8IG00000002"].data_model == profiles.TR181  # even serial
    assert specs["N8IG00000002"].scenario == demo_scenario("77100002")
    assert len(demo_specs(limit=1)) == 1


@pytest.mark.django_db(transaction=True)
def test_cpe_simulate_demo(acs: ScriptedAcs) -> None:
    subscriber = make_subscriber("77100003")
    Equipment.objects.create(
        subscriber=subscriber,
        kind="ont",
        vendor="ZTE",
        model="F670L",
        serial_number="ZTEG00000001",
        mac_address="34:4B:50:00:00:01",
    )
    out = StringIO()
    options = ["--demo", "--acs", acs.url, "--duration", "1.5", "--ramp", "0", "--stats-every", "0"]
    with translation.override("en"):
        call_command("cpe_simulate", *options, stdout=out)
    assert "Simulating 1 devices" in out.getvalue()
    assert [(i.serial, [code for code, _ in i.events]) for i in acs.informs][:1] == [
        ("ZTEG00000001", ["0 BOOTSTRAP", "1 BOOT"])
    ]
    assert "Device.RootDataModelVersion" in acs.informs[0].parameters


@pytest.mark.django_db
def test_cpe_simulate_needs_demo_and_equipment() -> None:
    with translation.override("en"):
        with pytest.raises(CommandError, match="--demo"):
            call_command("cpe_simulate")
        with pytest.raises(CommandError, match="no routers or ONTs"):
            call_command("cpe_simulate", "--demo")
