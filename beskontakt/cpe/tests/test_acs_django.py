"""The ACS with the Django backend under real uvicorn, driven by the CPE simulator.

Bootstrap registers devices and links equipment by serial, presets set the inform interval
and fresh management credentials (stored encrypted), periodic informs are persisted by the
group-commit writer, a queued task runs through a connection request with Digest, faults
are recorded in words, and ``BuiltinAcs`` reads, writes, reboots and pings simulated CPEs.
Both data models; PostgreSQL and SQLite (whichever the run uses).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.db import connection

from beskontakt.conftest import make_subscriber
from beskontakt.cpe import actions, profiles
from beskontakt.cpe.acs.app import make_app
from beskontakt.cpe.acs.backend import DjangoBackend
from beskontakt.cpe.builtin import BuiltinAcs
from beskontakt.cpe.cwmp.serve import serving
from beskontakt.cpe.models import Device, DeviceCredentials, DeviceParameter, DeviceSession, DeviceTask, Preset
from beskontakt.cpe.simulator import CpeSpec, Fleet, FleetConfig
from beskontakt.cpe.testing import db, until
from beskontakt.subscribers.models import Equipment

OUI, PRODUCT = "00D09E", "SimRouter"
BOOTSTRAP_PASSWORD = "factory-pw"
SERIALS = {"SIMD0001": profiles.TR181, "SIMD0002": profiles.TR098}

pytestmark = pytest.mark.django_db(transaction=True)


def device_id(serial: str) -> str:
    return f"{OUI}-{PRODUCT}-{serial}"


def _setup() -> None:
    subscriber = make_subscriber("D-0001")
    Equipment.objects.create(subscriber=subscriber, kind="router", model="SimRouter", serial_number="SIMD0001")
    # the default preset (migration 0002; gone if an earlier transactional test flushed it),
    # with a short interval for the test
    actions.save_preset(
        Preset.objects.filter(name="default-bootstrap").first(),
        name="default-bootstrap",
        events=["0 BOOTSTRAP"],
        actions=[{"set": {profiles.INFORM_INTERVAL: 1}}, {"credentials": "generate"}],
    )


def _config(base: str, **options: Any) -> FleetConfig:
    return FleetConfig(
        acs_url=base + "/",
        username_template="{oui}-{serial}",
        password_template=BOOTSTRAP_PASSWORD,
        inform_interval=3600,
        retry_min=0.05,
        oui=OUI,
        product_class=PRODUCT,
        **options,
    )


def _specs() -> list[CpeSpec]:
    return [CpeSpec(serial, oui=OUI, product_class=PRODUCT, data_model=model) for serial, model in SERIALS.items()]


def test_devices_bootstrap_inform_and_take_tasks(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    asyncio.run(_scenario())


async def _scenario() -> None:
    await db(_setup)
    backend = DjangoBackend(bootstrap_policy="accept", bootstrap_password=BOOTSTRAP_PASSWORD)
    async with serving(make_app(backend, auth="digest")) as base:
        backend.files_url = base + "/files/"  # where this ACS serves its files
        async with Fleet(_config(base), _specs()) as fleet:
            await _scenario_steps(fleet)
    await backend.close()


async def _scenario_steps(fleet: Fleet) -> None:
    await _bootstrap(fleet)
    await _periodic(fleet)
    await _next_session_task()
    for device in fleet.devices.values():  # from now on, only connection requests make them call
        device.dm.set(device.paths.interval, "3600")
        device._interval_changed = True
    await asyncio.sleep(1.2)
    await _builtin_read(fleet)
    await _builtin_set_and_fault(fleet)
    await _builtin_reboot(fleet)
    await _builtin_ping(fleet)
    await _download(fleet)
    await _factory_reset(fleet)
    assert fleet.stats.sessions_failed == 0, fleet.summary()


async def _bootstrap(fleet: Fleet) -> None:
    def registered() -> bool:
        return Device.objects.filter(device_id__in=[device_id(s) for s in SERIALS]).count() == 2

    await until(registered)

    def credentials_stored() -> bool:
        return (
            DeviceCredentials.objects.filter(device__device_id__in=[device_id(s) for s in SERIALS])
            .exclude(cr_password_encrypted="")
            .count()
            == 2
        )

    await until(credentials_stored)

    def check() -> None:
        tr181 = Device.objects.select_related("equipment", "credentials").get(device_id=device_id("SIMD0001"))
        tr098 = Device.objects.get(device_id=device_id("SIMD0002"))
        assert tr181.data_model == profiles.TR181 and tr098.data_model == profiles.TR098
        assert tr181.equipment is not None and tr181.equipment.serial_number == "SIMD0001"
        assert tr098.equipment is None  # no equipment with that serial
        creds = tr181.credentials
        # the preset's generated credentials, encrypted at rest and readable with the key
        assert creds.acs_username == device_id("SIMD0001")
        assert creds.acs_password() and creds.acs_password() not in creds.acs_password_encrypted
        assert creds.cr_password() not in creds.cr_password_encrypted
        assert tr181.connection_request_url.startswith("http://127.0.0.1:")

    await db(check)
    # the devices took the new credentials and the inform interval
    sim = fleet.devices["SIMD0001"]
    assert sim.dm.value(sim.paths.interval) == "1"
    stored = await db(lambda: Device.objects.get(device_id=device_id("SIMD0001")).credentials.acs_password())
    assert sim.dm.value(sim.paths.password) == stored


async def _periodic(fleet: Fleet) -> None:
    def periodic_logged() -> bool:
        return all(
            DeviceSession.objects.filter(device__device_id=device_id(s), events__contains=["2 PERIODIC"]).exists()
            if connection.vendor == "postgresql"
            else any("2 PERIODIC" in row.events for row in DeviceSession.objects.filter(device__device_id=device_id(s)))
            for s in SERIALS
        )

    await until(periodic_logged)

    def check() -> None:
        device = Device.objects.get(device_id=device_id("SIMD0001"))
        assert device.last_inform_at is not None and device.ip == "127.0.0.1"
        assert device.last_boot_at is not None
        assert device.periodic_inform_interval == 1
        assert DeviceParameter.objects.filter(device=device, path="Device.DeviceInfo.SoftwareVersion").exists()
        # passwords never sit in the parameter cache in clear
        secret = DeviceParameter.objects.filter(device=device, path__endswith="ManagementServer.Password").first()
        assert secret is None or secret.value in ("", "••••••")

    await db(check)


async def _next_session_task() -> None:
    """A task queued without a connection request runs in the device's next (periodic) session."""
    device = await db(Device.objects.get, device_id=device_id("SIMD0002"))
    task = await db(actions.queue_task, device, "GetRPCMethods", {})

    def done() -> bool:
        return DeviceTask.objects.get(pk=task.pk).status == DeviceTask.Status.DONE

    await until(done)
    task = await db(DeviceTask.objects.get, pk=task.pk)
    assert "GetParameterValues" in task.result["methods"]
    assert (await db(Device.objects.get, pk=device.pk)).last_connection_request_at is None


async def _download(fleet: Fleet) -> None:
    """A firmware file the ACS serves itself; TransferComplete finishes the task."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("fw.bin", b"BKFW 4.2.0\n" + b"\x00" * 4096)
    await db(actions.add_file, "fw.bin", "1 Firmware Upgrade Image", upload, version="4.2.0")
    device = await db(Device.objects.get, device_id=device_id("SIMD0001"))
    task = await db(actions.queue_task, device, "Download", {"file": "fw.bin", "command_key": "fw-42"}, now=True)

    def transferred() -> bool:
        return DeviceTask.objects.get(pk=task.pk).result.get("transfer") == "done"

    await until(transferred)
    sim = fleet.devices["SIMD0001"]
    assert sim.dm.value(sim.paths.software) == "4.2.0"

    def version_seen() -> bool:
        return Device.objects.get(pk=device.pk).software_version == "4.2.0"

    await until(version_seen)


async def _factory_reset(fleet: Fleet) -> None:
    """After a factory reset the device returns with its factory credentials and 0 BOOTSTRAP; presets run again."""
    before = await db(lambda: Device.objects.get(device_id=device_id("SIMD0002")).credentials.acs_password())
    outcome = await db(BuiltinAcs().factory_reset, device_id("SIMD0002"), timeout=10.0)
    assert outcome.ok, outcome

    def new_credentials() -> bool:
        creds = DeviceCredentials.objects.get(device__device_id=device_id("SIMD0002"))
        return creds.acs_password() not in ("", before, BOOTSTRAP_PASSWORD)

    await until(new_credentials)
    sim = fleet.devices["SIMD0002"]
    stored = await db(lambda: Device.objects.get(device_id=device_id("SIMD0002")).credentials.acs_password())
    await until(lambda: sim.dm.value(sim.paths.password) == stored)


async def _builtin_read(fleet: Fleet) -> None:
    acs = BuiltinAcs()
    for serial in SERIALS:
        readings, outcome = await db(
            acs.read, device_id(serial), [profiles.WIFI_SSID, profiles.WAN_STATUS, profiles.OPTICAL_RX_POWER],
            refresh=True, timeout=10.0,
        )  # fmt: skip
        assert outcome.ok, outcome
        assert readings[profiles.WIFI_SSID].value == f"Beskontakt-{serial[-4:]}"
        assert readings[profiles.WIFI_SSID].updated_at is not None
        assert readings[profiles.WAN_STATUS].value == "up"
        assert readings[profiles.OPTICAL_RX_POWER].value is None  # not an ONT / not in TR-098
    info = await db(acs.find_device, "SIMD0001")
    assert info is not None and info.device_id == device_id("SIMD0001")
    assert await db(acs.find_device, "NOPE") is None
    # the connection request went out with Digest and was accepted
    device = await db(Device.objects.get, device_id=device_id("SIMD0001"))
    assert device.last_connection_request_result == "accepted"


async def _builtin_set_and_fault(fleet: Fleet) -> None:
    acs = BuiltinAcs()
    outcome = await db(acs.set_values, device_id("SIMD0001"), {profiles.WIFI_CHANNEL: 11}, timeout=10.0)
    assert outcome.ok, outcome
    sim = fleet.devices["SIMD0001"]
    assert sim.dm.value(profiles.profile_for(profiles.TR181).path(profiles.WIFI_CHANNEL)) == "11"
    # a value the device rejects: a fault, recorded in words with the per-parameter detail
    outcome = await db(acs.set_values, device_id("SIMD0001"), {profiles.WIFI_CHANNEL: 999}, timeout=10.0)
    assert not outcome.ok and outcome.fault_code is not None
    task = await db(DeviceTask.objects.get, pk=int(outcome.task_id or 0))
    assert task.status == DeviceTask.Status.FAILED and task.fault_code == outcome.fault_code
    assert outcome.values["fault"]  # words from faults.py
    assert task.result.get("parameter_faults"), task.result


async def _builtin_reboot(fleet: Fleet) -> None:
    sim = fleet.devices["SIMD0002"]
    sessions_before = sim.sessions
    outcome = await db(BuiltinAcs().reboot, device_id("SIMD0002"), timeout=10.0)
    assert outcome.ok, outcome

    def rebooted() -> bool:
        return DeviceSession.objects.filter(device__device_id=device_id("SIMD0002")).count() > 0 and any(
            "M Reboot" in row.events for row in DeviceSession.objects.filter(device__device_id=device_id("SIMD0002"))
        )

    await until(rebooted)
    assert sim.sessions > sessions_before


async def _builtin_ping(fleet: Fleet) -> None:
    outcome = await db(BuiltinAcs().ping, device_id("SIMD0001"), "127.0.0.1", count=3, timeout=15.0)
    assert outcome.ok, outcome
    assert outcome.values["sent"] == 3
    assert outcome.values["received"] is not None
    assert outcome.values["avg_ms"] is not None


def test_reject_policy_refuses_unknown_devices() -> None:
    asyncio.run(_reject())


async def _reject() -> None:
    backend = DjangoBackend(bootstrap_policy="reject", bootstrap_password=BOOTSTRAP_PASSWORD)
    async with (
        serving(make_app(backend, auth="digest")) as base,
        Fleet(_config(base), [CpeSpec("SIMR0001", oui=OUI, product_class=PRODUCT)]) as fleet,
    ):
        await asyncio.sleep(1.0)
        assert fleet.stats.sessions_ok == 0
        assert fleet.stats.sessions_failed >= 1
    assert await db(Device.objects.count) == 0
    await backend.close()


def test_credentials_of_another_device_are_refused() -> None:
    asyncio.run(_impostor())


async def _impostor() -> None:
    def register() -> None:
        owner = Device.objects.create(
            device_id=device_id("OWNER1"), oui=OUI, product_class=PRODUCT, serial_number="OWNER1"
        )
        actions.set_credentials(owner, acs_username="shared-user", acs_password="owner-pw")

    await db(register)
    backend = DjangoBackend(bootstrap_policy="accept", bootstrap_password=BOOTSTRAP_PASSWORD)
    config = _config("http://127.0.0.1:1")
    async with serving(make_app(backend, auth="digest")) as base:
        config.acs_url = base + "/"
        config.username_template = "shared-user"
        config.password_template = "owner-pw"
        async with Fleet(config, [CpeSpec("IMPOSTOR1", oui=OUI, product_class=PRODUCT)]) as fleet:
            await asyncio.sleep(1.0)
            assert fleet.stats.sessions_ok == 0
    assert (device_id("IMPOSTOR1"), "credentials of another device") in backend.refused
    await backend.close()


def test_factory_reset_device_keeps_working_without_a_credentials_preset() -> None:
    asyncio.run(_factory_login())


async def _factory_login() -> None:
    """A device the ACS knows with its own credentials comes back with factory ones (0 BOOTSTRAP):
    accepted, and from then on its factory login works (no preset gives it new credentials)."""

    def register() -> None:
        Preset.objects.all().delete()
        device = Device.objects.create(
            device_id=device_id("RESET1"), oui=OUI, product_class=PRODUCT, serial_number="RESET1"
        )
        actions.set_credentials(device, acs_username="own-login", acs_password="own-pw")

    await db(register)
    backend = DjangoBackend(bootstrap_policy="accept", bootstrap_password=BOOTSTRAP_PASSWORD)
    async with serving(make_app(backend, auth="digest")) as base:
        config = _config(base)
        config.inform_interval = 1
        async with Fleet(config, [CpeSpec("RESET1", oui=OUI, product_class=PRODUCT)]) as fleet:
            await until(lambda: DeviceSession.objects.filter(device__device_id=device_id("RESET1")).count() >= 3)
            assert fleet.stats.sessions_failed == 0
    creds = await db(DeviceCredentials.objects.get, device__device_id=device_id("RESET1"))
    assert creds.acs_username == f"{OUI}-RESET1" and creds.acs_password() == BOOTSTRAP_PASSWORD
    await backend.close()


def test_presets_are_loaded_in_precedence_order() -> None:
    from beskontakt.cpe import presets

    specs = [
        presets.PresetSpec("b", frozenset({"1 BOOT"}), ({"set": {profiles.WIFI_CHANNEL: 6}},), precedence=20),
        presets.PresetSpec("a", frozenset({"1 BOOT"}), ({"set": {"Device.X_Vendor.Flag": True}},), precedence=10),
    ]
    made = presets.requests_for(specs, device_id="D", serial_number="S", data_model=profiles.TR181)
    assert [r.preset for r in made] == ["a", "b"]
    assert made[0].request.values[0].type == "xsd:boolean"
    # a TR-181 path is skipped on a TR-098 device, a logical name maps
    made = presets.requests_for(specs, device_id="D", serial_number="S", data_model=profiles.TR098)
    assert [r.preset for r in made] == ["b"]
    assert made[0].request.values[0].name.startswith("InternetGatewayDevice.")
