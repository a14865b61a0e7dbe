"""Simulated devices in real sessions over loopback HTTP against a scripted ACS, and connection requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx
import pytest

from beskontakt.cpe import profiles
from beskontakt.cpe.simulator import CpeSpec, FaultInjection, Fleet, FleetConfig, SimulatedCpe, Stats
from beskontakt.cpe.simulator.scripted_acs import ScriptedAcs

GPV = "<cwmp:GetParameterValues><ParameterNames><string>{}</string></ParameterNames></cwmp:GetParameterValues>"
SPV = (
    "<cwmp:SetParameterValues><ParameterList>{}</ParameterList>"
    "<ParameterKey>{}</ParameterKey></cwmp:SetParameterValues>"
)


def pvs(**values: str) -> str:
    return "".join(
        f"<ParameterValueStruct><Name>{name}</Name><Value>{value}</Value></ParameterValueStruct>"
        for name, value in values.items()
    )


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for ``condition`` (a generous deadline, not a speed assertion)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


def run(test: Callable[..., Awaitable[None]], **acs_options: Any) -> ScriptedAcs:
    """Run ``test(acs)`` against a fresh scripted ACS."""
    acs = ScriptedAcs(**acs_options)

    async def main() -> None:
        await acs.start()
        try:
            await test(acs)
        finally:
            await acs.stop()

    asyncio.run(main())
    return acs


def fleet_of(acs: ScriptedAcs, *specs: CpeSpec, **options: Any) -> Fleet:
    config = FleetConfig(acs_url=acs.url, retry_min=0.05, **options)
    return Fleet(config, list(specs))


def events_of(acs: ScriptedAcs, serial: str) -> list[list[str]]:
    return [[code for code, _ in inform.events] for inform in acs.informs if inform.serial == serial]


def test_bootstrap_then_periodic_with_digest_and_cookie() -> None:
    async def test(acs: ScriptedAcs) -> None:
        async with fleet_of(acs, CpeSpec("SIMS0001"), inform_interval=1, password_template="secret") as fleet:
            await until(lambda: len(events_of(acs, "SIMS0001")) >= 2)
            assert fleet.stats.sessions_failed == 0
        first, second = events_of(acs, "SIMS0001")[:2]
        assert first == ["0 BOOTSTRAP", "1 BOOT"]
        assert second == ["2 PERIODIC"]
        inform = acs.informs[0]
        assert inform.parameters["Device.ManagementServer.ConnectionRequestURL"].startswith("http://127.0.0.1:")
        assert inform.parameters["Device.IP.Interface.1.IPv4Address.1.IPAddress"].startswith("10.")
        assert acs.refused >= 1  # the first request was challenged
        assert acs.ended >= 2

    run(test, auth="digest", password="secret")


def test_basic_auth_and_wrong_credentials() -> None:
    async def test(acs: ScriptedAcs) -> None:
        good = SimulatedCpe("SIMS0002", acs_url=acs.url, acs_password="pw")
        bad = SimulatedCpe("SIMS0003", acs_url=acs.url, acs_password="pw", faults=FaultInjection(wrong_password=True))
        stats = Stats()
        async with aiohttp.ClientSession() as http:
            assert await good.session(http, stats)
            assert not await bad.session(http, stats)
        assert stats.failures == {"unauthorized": 1}
        assert bad.events == [("0 BOOTSTRAP", ""), ("1 BOOT", "")]  # kept for the retry
        assert bad.retry_count == 1

    run(test, auth="basic", password="pw")


def test_busy_acs_is_retried_after_retry_after() -> None:
    async def test(acs: ScriptedAcs) -> None:
        async with fleet_of(acs, CpeSpec("SIMS0004")) as fleet:
            await until(lambda: fleet.stats.sessions_ok == 1)
            assert fleet.stats.failures == {"busy": 2}
        assert [inform.retry_count for inform in acs.informs] == [2]

    run(test, busy=2, retry_after=0)


def test_acs_down_counts_failures_and_backs_off() -> None:
    async def test() -> None:
        cpe = SimulatedCpe("SIMS0005", acs_url="http://127.0.0.1:9/", retry_min=5)
        stats = Stats()
        async with aiohttp.ClientSession() as http:
            assert not await cpe.session(http, stats)
            first = cpe.retry_wait()
            assert not await cpe.session(http, stats)
            assert not await cpe.session(http, stats)
            third = cpe.retry_wait()
        assert 5 <= first <= 10
        assert 20 <= third <= 40
        assert stats.sessions_failed == 3
        assert next(iter(stats.failures)).startswith("network")

    asyncio.run(test())


def test_reboot_factory_reset_and_scheduled_inform() -> None:
    async def test(acs: ScriptedAcs) -> None:
        serial = "SIMS0006"
        acs.queue(serial, SPV.format(pvs(**{"Device.WiFi.SSID.1.SSID": "Mine"}), "k1"))
        acs.queue(serial, "<cwmp:Reboot><CommandKey>reboot-1</CommandKey></cwmp:Reboot>")
        async with fleet_of(acs, CpeSpec(serial)) as fleet:
            await until(lambda: len(events_of(acs, serial)) >= 2)
            assert acs.informs[1].events == [("1 BOOT", ""), ("M Reboot", "reboot-1")]
            assert fleet.devices[serial].dm.value("Device.WiFi.SSID.1.SSID") == "Mine"
            acs.queue(serial, "<cwmp:FactoryReset/>")
            acs.queue(
                serial,
                "<cwmp:ScheduleInform><DelaySeconds>1</DelaySeconds><CommandKey>s-1</CommandKey></cwmp:ScheduleInform>",
            )
            fleet.devices[serial].request_session()
            await until(lambda: len(events_of(acs, serial)) >= 5)
        assert events_of(acs, serial)[2] == ["6 CONNECTION REQUEST"]
        assert events_of(acs, serial)[3] == ["0 BOOTSTRAP", "1 BOOT"]
        assert acs.informs[4].events == [("3 SCHEDULED", ""), ("M ScheduleInform", "s-1")]
        assert fleet.devices[serial].dm.value("Device.WiFi.SSID.1.SSID") != "Mine"

    run(test)


def test_download_then_transfer_complete() -> None:
    async def test(acs: ScriptedAcs) -> None:
        image = b"BKFW 2.0.1\n" + b"\0" * 1000
        acs.files["fw.bin"] = image
        base = f"http://127.0.0.1:{acs.port}/files/"
        download = (
            "<cwmp:Download><CommandKey>{key}</CommandKey><FileType>1 Firmware Upgrade Image</FileType>"
            "<URL>{url}</URL><Username/><Password/><FileSize>{size}</FileSize><TargetFileName/>"
            "<DelaySeconds>0</DelaySeconds><SuccessURL/><FailureURL/></cwmp:Download>"
        )
        acs.queue("SIMS0007", download.format(key="fw-ok", url=base + "fw.bin", size=len(image)))
        acs.queue("SIMS0008", download.format(key="fw-size", url=base + "fw.bin", size=5))
        acs.queue("SIMS0009", download.format(key="fw-404", url=base + "missing.bin", size=0))
        specs = [CpeSpec("SIMS0007"), CpeSpec("SIMS0008"), CpeSpec("SIMS0009", data_model=profiles.TR098)]
        async with fleet_of(acs, *specs) as fleet:
            await until(lambda: len(acs.transfers) == 3)
            await until(lambda: len(acs.informs) == 6)
            assert fleet.devices["SIMS0007"].dm.value("Device.DeviceInfo.SoftwareVersion") == "2.0.1"
        results = {t.serial: (t.field("CommandKey"), t.field("FaultStruct", "FaultCode")) for t in acs.transfers}
        assert results == {
            "SIMS0007": ("fw-ok", "0"),
            "SIMS0008": ("fw-size", "9018"),
            "SIMS0009": ("fw-404", "9016"),
        }
        assert events_of(acs, "SIMS0007")[1] == ["1 BOOT", "7 TRANSFER COMPLETE", "M Download"]
        assert events_of(acs, "SIMS0008")[1] == ["7 TRANSFER COMPLETE", "M Download"]
        second = [i for i in acs.informs if i.serial == "SIMS0007"][1]
        assert second.parameters["Device.DeviceInfo.SoftwareVersion"] == "2.0.1"
        assert ("M Download", "fw-ok") in second.events

    run(test)


def test_ip_ping_and_download_diagnostics() -> None:
    async def test(acs: ScriptedAcs) -> None:
        ping = "Device.IP.Diagnostics.IPPing."
        acs.queue(
            "SIMS0010",
            SPV.format(
                pvs(
                    **{
                        ping + "Host": "127.0.0.1",
                        ping + "NumberOfRepetitions": "3",
                        ping + "DiagnosticsState": "Requested",
                    }
                ),
                "",
            ),
        )
        dd = "InternetGatewayDevice.DownloadDiagnostics."
        acs.queue(
            "SIMS0011",
            SPV.format(
                pvs(
                    **{
                        dd + "DownloadURL": f"http://127.0.0.1:{acs.port}/bytes/200000",
                        dd + "DiagnosticsState": "Requested",
                    }
                ),
                "",
            ),
        )
        specs = [CpeSpec("SIMS0010"), CpeSpec("SIMS0011", data_model=profiles.TR098)]
        async with fleet_of(acs, *specs):
            await until(lambda: len(acs.informs) == 4)
        assert events_of(acs, "SIMS0010")[1] == ["8 DIAGNOSTICS COMPLETE"]
        assert events_of(acs, "SIMS0011")[1] == ["8 DIAGNOSTICS COMPLETE"]

    acs = run(test)
    assert acs.of("SIMS0010", "SetParameterValuesResponse")
    assert acs.of("SIMS0011", "SetParameterValuesResponse")


def test_diagnostics_results_are_readable() -> None:
    async def test(acs: ScriptedAcs) -> None:
        cpe = SimulatedCpe("SIMS0012", acs_url=acs.url)
        ping = "Device.IP.Diagnostics.IPPing."
        dd = "Device.IP.Diagnostics.DownloadDiagnostics."
        acs.queue(
            cpe.serial,
            SPV.format(
                pvs(
                    **{
                        ping + "Host": "127.0.0.1",
                        ping + "NumberOfRepetitions": "2",
                        ping + "DiagnosticsState": "Requested",
                        dd + "DownloadURL": f"http://127.0.0.1:{acs.port}/bytes/123456",
                        dd + "DiagnosticsState": "Requested",
                    }
                ),
                "",
            ),
        )
        async with aiohttp.ClientSession() as http:
            assert await cpe.session(http)
            await cpe.run_actions(http)
            assert cpe.events == [("8 DIAGNOSTICS COMPLETE", "")]
            acs.queue(cpe.serial, GPV.format(ping))
            acs.queue(cpe.serial, GPV.format(dd))
            assert await cpe.session(http)
        ping_values = acs.of(cpe.serial, "GetParameterValuesResponse")[0].values()
        assert ping_values[ping + "DiagnosticsState"] == "Complete"
        assert int(ping_values[ping + "SuccessCount"]) + int(ping_values[ping + "FailureCount"]) == 2
        assert int(ping_values[ping + "SuccessCount"]) >= 1
        download = acs.of(cpe.serial, "GetParameterValuesResponse")[1].values()
        assert download[dd + "DiagnosticsState"] == "Completed"
        assert download[dd + "TestBytesReceived"] == "123456"
        assert download[dd + "BOMTime"] <= download[dd + "EOMTime"]

    run(test)


def test_injected_vanish_and_garble() -> None:
    async def test(acs: ScriptedAcs) -> None:
        vanish = SimulatedCpe("SIMS0013", acs_url=acs.url, faults=FaultInjection(vanish_on="GetParameterValues"))
        garble = SimulatedCpe("SIMS0014", acs_url=acs.url, faults=FaultInjection(garble_on="GetParameterValues"))
        for cpe in (vanish, garble):
            acs.queue(cpe.serial, GPV.format("Device.DeviceInfo."))
        stats = Stats()
        async with aiohttp.ClientSession() as http:
            assert not await vanish.session(http, stats)
            assert not await garble.session(http, stats)
        assert stats.failures["vanished (injected)"] == 1
        assert stats.failures["http 500"] == 1  # the scripted ACS chokes on the garbled answer

    run(test)


def test_connection_request_with_digest() -> None:
    async def test(acs: ScriptedAcs) -> None:
        serial = "SIMS0015"
        async with fleet_of(acs, CpeSpec(serial)) as fleet:
            await until(lambda: len(acs.informs) == 1)
            url = fleet.devices[serial].cr_url
            async with httpx.AsyncClient() as client:
                plain = await client.get(url)
                assert plain.status_code == 401
                assert plain.headers["WWW-Authenticate"].startswith("Digest ")
                wrong = await client.get(url, auth=httpx.DigestAuth(serial, "wrong"))
                assert wrong.status_code == 401
                unknown = await client.get(url.replace(serial, "NOSUCH"), auth=httpx.DigestAuth(serial, "x"))
                assert unknown.status_code == 404
                ok = await client.get(url, auth=httpx.DigestAuth(serial, f"cr-{serial}"))
                assert ok.status_code in (200, 204)
            await until(lambda: len(acs.informs) == 2)
            assert fleet.cr_server.requests == 1
            # the ACS changes the CR credentials: the new ones count at once
            acs.queue(serial, SPV.format(pvs(**{"Device.ManagementServer.ConnectionRequestPassword": "n3w"}), "p"))
            async with httpx.AsyncClient() as client:
                assert (await client.get(url, auth=httpx.DigestAuth(serial, f"cr-{serial}"))).status_code == 200
                await until(lambda: len(acs.informs) == 3)
                assert (await client.get(url, auth=httpx.DigestAuth(serial, f"cr-{serial}"))).status_code == 401
                assert (await client.get(url, auth=httpx.DigestAuth(serial, "n3w"))).status_code == 200
            await until(lambda: len(acs.informs) == 4)
        assert events_of(acs, serial)[1:] == [["6 CONNECTION REQUEST"]] * 3

    run(test)


@pytest.mark.parametrize("version", ["1-0", "1-4"])
def test_cwmp_version_is_announced(version: str) -> None:
    cpe = SimulatedCpe("SIMS0016", cwmp_version=version)
    assert f'xmlns:cwmp="urn:dslforum-org:cwmp-{version}"'.encode() in cpe.render_inform(cpe.events)
