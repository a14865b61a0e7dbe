"""End to end: simulated CPEs against the real ACS front (``AcsApp`` + memory backend) under uvicorn.

Bootstrap, periodic informs, a queued GetParameterValues delivered through a connection
request, SetParameterValues faults, Reboot, Download with TransferComplete, IPPing
diagnostics with 8 DIAGNOSTICS COMPLETE — both data models, Digest on both sides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from beskontakt.cpe import profiles
from beskontakt.cpe.cwmp import messages as m
from beskontakt.cpe.cwmp.connection_request import send_connection_request
from beskontakt.cpe.cwmp.memory import MemoryBackend
from beskontakt.cpe.cwmp.serve import serving
from beskontakt.cpe.cwmp.server import AcsApp
from beskontakt.cpe.simulator import CpeSpec, Fleet, FleetConfig

SERIALS = {"SIME0001": profiles.TR181, "SIME0002": profiles.TR098}
OUI, PRODUCT = "00D09E", "SimRouter"


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for ``condition`` (a generous deadline, not a speed assertion)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


def device_id(serial: str) -> str:
    return f"{OUI}-{PRODUCT}-{serial}"


def test_simulator_against_the_acs() -> None:
    asyncio.run(_scenario())


async def _scenario() -> None:
    credentials = {f"{OUI}-{serial}": f"pw-{serial}" for serial in SERIALS}
    backend = MemoryBackend(credentials=credentials, bootstrap="accept")
    backend.add_file("fw.bin", b"BKFW 4.2.0\n" + b"\x00" * 4096)
    app = AcsApp(backend, auth="digest", secret=b"0123456789abcdef0123456789abcdef")
    async with serving(app) as base:
        config = FleetConfig(
            acs_url=base + "/",
            password_template="pw-{serial}",
            inform_interval=1,
            retry_min=0.05,
            oui=OUI,
            product_class=PRODUCT,
        )
        specs = [CpeSpec(serial, oui=OUI, product_class=PRODUCT, data_model=model) for serial, model in SERIALS.items()]
        async with Fleet(config, specs) as fleet:
            # bootstrap, then periodic
            await until(lambda: all(len(backend.devices.get(device_id(s), _NoDevice).events) >= 3 for s in SERIALS))
            for serial in SERIALS:
                events = backend.devices[device_id(serial)].events
                assert events[:2] == ["0 BOOTSTRAP", "1 BOOT"]
                assert "2 PERIODIC" in events
            # the periodic interval is long from now on: what follows arrives through connection requests
            for device in fleet.devices.values():
                device.dm.set(device.paths.interval, "3600")
                device._interval_changed = True
            await _queued_read_through_connection_request(backend, fleet)
            await _set_faults(backend, fleet)
            await _reboot(backend, fleet)
            await _download(backend, fleet, base)
            await _ping(backend, fleet)
        assert fleet.stats.sessions_failed == 0


class _NoDevice:
    events: list[str] = []


async def _kick(fleet: Fleet, serial: str) -> None:
    device = fleet.devices[serial]
    result = await send_connection_request(device.cr_url, serial, f"cr-{serial}")
    assert result.ok, result


async def _queued_read_through_connection_request(backend: MemoryBackend, fleet: Fleet) -> None:
    for serial, model in SERIALS.items():
        profile = profiles.profile_for(model)
        future = backend.enqueue(
            device_id(serial), m.GetParameterValues(names=profile.paths([profiles.WIFI_CHANNEL, profiles.WAN_STATUS]))
        )
        await _kick(fleet, serial)
        answer = await asyncio.wait_for(future, 15)
        assert isinstance(answer, m.GetParameterValuesResponse)
        values = {p.name: p.value for p in answer.parameters}
        assert profile.decode(profiles.WAN_STATUS, values) == "up"
        assert profile.decode(profiles.WIFI_CHANNEL, values) in (1, 6, 11)
        assert "6 CONNECTION REQUEST" in backend.devices[device_id(serial)].events


async def _set_faults(backend: MemoryBackend, fleet: Fleet) -> None:
    serial = "SIME0001"
    future = backend.enqueue(
        device_id(serial),
        m.SetParameterValues(
            values=[
                m.ParameterValue("Device.WiFi.Radio.1.Channel", "99", "xsd:unsignedInt"),
                m.ParameterValue("Device.DeviceInfo.UpTime", "1", "xsd:unsignedInt"),
            ],
            parameter_key="bad",
        ),
    )
    ok = backend.enqueue(
        device_id(serial),
        m.SetParameterValues(values=[m.ParameterValue("Device.WiFi.Radio.1.Channel", "11", "xsd:unsignedInt")]),
    )
    await _kick(fleet, serial)
    fault = await asyncio.wait_for(future, 15)
    assert isinstance(fault, m.Fault)
    assert fault.code == 9003
    assert sorted(f.code for f in fault.set_parameter_faults) == [9007, 9008]
    assert isinstance(await asyncio.wait_for(ok, 15), m.SetParameterValuesResponse)
    assert fleet.devices[serial].dm.value("Device.WiFi.Radio.1.Channel") == "11"


async def _reboot(backend: MemoryBackend, fleet: Fleet) -> None:
    serial = "SIME0002"
    device = backend.devices[device_id(serial)]
    before = len(device.events)
    future = backend.enqueue(device_id(serial), m.Reboot(command_key="rb-7"))
    await _kick(fleet, serial)
    assert isinstance(await asyncio.wait_for(future, 15), m.RebootResponse)
    await until(lambda: "M Reboot" in device.events[before:])
    assert "1 BOOT" in device.events[before:]
    assert device.last_inform is not None
    assert ("M Reboot", "rb-7") in [(e.code, e.command_key) for e in device.last_inform.events]


async def _download(backend: MemoryBackend, fleet: Fleet, base: str) -> None:
    serial = "SIME0001"
    device = backend.devices[device_id(serial)]
    future = backend.enqueue(
        device_id(serial),
        m.Download(command_key="fw-42", url=f"{base}/files/fw.bin", file_size=len(b"BKFW 4.2.0\n") + 4096),
    )
    await _kick(fleet, serial)
    assert isinstance(await asyncio.wait_for(future, 15), m.DownloadResponse)
    await until(lambda: bool(device.transfers))
    transfer = device.transfers[-1]
    assert isinstance(transfer, m.TransferComplete)
    assert (transfer.command_key, transfer.fault_code) == ("fw-42", 0)
    assert device.value("Device.DeviceInfo.SoftwareVersion") == "4.2.0"


async def _ping(backend: MemoryBackend, fleet: Fleet) -> None:
    serial = "SIME0002"
    device = backend.devices[device_id(serial)]
    profile = profiles.profile_for(profiles.TR098)
    before = len(device.events)
    start = backend.enqueue(
        device_id(serial),
        m.SetParameterValues(
            values=[
                m.ParameterValue(profile.path(profiles.PING_HOST) or "", "127.0.0.1"),
                m.ParameterValue(profile.path(profiles.PING_COUNT) or "", "2", "xsd:unsignedInt"),
                m.ParameterValue(profile.path(profiles.PING_STATE) or "", "Requested"),
            ]
        ),
    )
    await _kick(fleet, serial)
    assert isinstance(await asyncio.wait_for(start, 15), m.SetParameterValuesResponse)
    await until(lambda: "8 DIAGNOSTICS COMPLETE" in device.events[before:])
    names = [profiles.PING_STATE, profiles.PING_SUCCESS, profiles.PING_FAILURE, profiles.PING_AVG]
    read = backend.enqueue(device_id(serial), m.GetParameterValues(names=profile.paths(names)))
    await _kick(fleet, serial)
    answer = await asyncio.wait_for(read, 15)
    assert isinstance(answer, m.GetParameterValuesResponse)
    values = {p.name: p.value for p in answer.parameters}
    assert values[profile.path(profiles.PING_STATE)] == "Complete"
    assert profile.decode(profiles.PING_SUCCESS, values) + profile.decode(profiles.PING_FAILURE, values) == 2
