"""Scenarios: what a broken line looks like through the profiles, and what fixes it."""

from __future__ import annotations

import pytest

from beskontakt.cpe import profiles
from beskontakt.cpe.simulator import SCENARIOS, CpeSpec, SimulatedCpe
from beskontakt.cpe.simulator.scenarios import Scenario, make_scenario
from beskontakt.cpe.simulator.scripted_acs import ScriptedAcs
from beskontakt.demo import faults

from .test_simulator_rpc import ask
from .test_simulator_session import events_of, fleet_of, run, until

TR181 = profiles.profile_for(profiles.TR181)
TR098 = profiles.profile_for(profiles.TR098)


def read(cpe: SimulatedCpe, *names: str) -> dict[str, object]:
    """Logical values as the ACS would decode them from a GetParameterValues of the whole tree."""
    cpe.refresh_dynamic()
    raw = {path: value for path, value, _ in cpe.dm.values_under([cpe.paths.root])}
    return {name: cpe.profile.decode(name, raw) for name in names}


def set_values(cpe: SimulatedCpe, **values: str) -> None:
    items = "".join(
        f"<ParameterValueStruct><Name>{k}</Name><Value>{v}</Value></ParameterValueStruct>" for k, v in values.items()
    )
    answer = ask(
        cpe, f"<c:SetParameterValues><ParameterList>{items}</ParameterList><ParameterKey/></c:SetParameterValues>"
    )
    assert answer.findtext("Status") == "0"


def test_every_demo_scenario_exists() -> None:
    for name in (
        faults.HEALTHY,
        faults.WIFI_CONGESTED,
        faults.PPP_AUTH_FAILURE,
        faults.LOW_OPTICAL,
        faults.FLAPPING_LINK,
        faults.CABLE_FAULT,
    ):
        assert name in SCENARIOS
    with pytest.raises(ValueError, match="unknown scenario"):
        make_scenario("gremlins")


def test_healthy_line() -> None:
    cpe = SimulatedCpe("SIMH0001", optical=True)
    values = read(
        cpe,
        profiles.WAN_STATUS,
        profiles.WAN_PPP_LAST_ERROR,
        profiles.WIFI_CLIENT_SIGNALS,
        profiles.OPTICAL_RX_POWER,
        profiles.WIFI_CHANNELS_IN_USE,
    )
    assert values[profiles.WAN_STATUS] == "up"
    assert values[profiles.WAN_PPP_LAST_ERROR] == "ERROR_NONE"
    assert all(signal > -65 for signal in values[profiles.WIFI_CLIENT_SIGNALS])  # type: ignore[attr-defined]
    assert -22 < values[profiles.OPTICAL_RX_POWER] < -17  # type: ignore[operator]
    assert len(values[profiles.WIFI_CHANNELS_IN_USE]) <= 4  # type: ignore[arg-type]


def test_wifi_congested_is_fixed_by_a_free_channel() -> None:
    cpe = SimulatedCpe("SIMW0001", scenario="wifi_congested")
    before = read(cpe, profiles.WIFI_CHANNEL, profiles.WIFI_CHANNELS_IN_USE, profiles.WIFI_CLIENT_SIGNALS)
    assert before[profiles.WIFI_CHANNEL] == 6
    assert before[profiles.WIFI_CHANNELS_IN_USE].count(6) >= 8  # type: ignore[attr-defined]
    signals = before[profiles.WIFI_CLIENT_SIGNALS]
    assert len(signals) == 12 and max(signals) <= -78  # type: ignore[arg-type]
    set_values(cpe, **{"Device.WiFi.Radio.1.Channel": "7"})  # next to the crowd: still bad
    assert not cpe.scenario.fixed
    set_values(cpe, **{"Device.WiFi.Radio.1.Channel": "13"})
    assert cpe.scenario.fixed
    after = read(cpe, profiles.WIFI_CHANNEL, profiles.WIFI_CLIENT_SIGNALS, profiles.WIFI_CLIENTS)
    assert after[profiles.WIFI_CHANNEL] == 13
    assert min(after[profiles.WIFI_CLIENT_SIGNALS]) >= -60  # type: ignore[type-var]
    assert after[profiles.WIFI_CLIENTS] == 12


def test_wifi_congested_auto_channel_also_fixes_it_on_tr098() -> None:
    cpe = SimulatedCpe("SIMW0002", scenario="wifi_congested", data_model=profiles.TR098)
    set_values(cpe, **{"InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.AutoChannelEnable": "true"})
    assert cpe.scenario.fixed
    assert read(cpe, profiles.WIFI_CHANNEL)[profiles.WIFI_CHANNEL] != 6


def test_ppp_auth_failure_stays_unless_the_expected_password_is_set() -> None:
    stuck = SimulatedCpe("SIMP0001", scenario="ppp_auth_failure")
    values = read(stuck, profiles.WAN_STATUS, profiles.WAN_PPP_LAST_ERROR, profiles.WAN_IP)
    assert values == {
        profiles.WAN_STATUS: "disconnected",
        profiles.WAN_PPP_LAST_ERROR: "ERROR_AUTHENTICATION_FAILURE",
        profiles.WAN_IP: "",
    }
    set_values(stuck, **{"Device.PPP.Interface.1.Password": "anything"})
    assert read(stuck, profiles.WAN_STATUS)[profiles.WAN_STATUS] == "disconnected"

    fixable = SimulatedCpe(
        "SIMP0002", data_model=profiles.TR098, scenario={"name": "ppp_auth_failure", "expected_password": "s3cret"}
    )
    set_values(fixable, **{"InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Password": "x"})
    assert read(fixable, profiles.WAN_STATUS)[profiles.WAN_STATUS] == "disconnected"
    set_values(
        fixable, **{"InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Password": "s3cret"}
    )
    values = read(fixable, profiles.WAN_STATUS, profiles.WAN_PPP_LAST_ERROR, profiles.WAN_IP)
    assert values[profiles.WAN_STATUS] == "up"
    assert values[profiles.WAN_PPP_LAST_ERROR] == "ERROR_NONE"
    assert str(values[profiles.WAN_IP]).startswith("10.")
    assert ("4 VALUE CHANGE", "") in fixable.events


def test_low_optical_level() -> None:
    cpe = SimulatedCpe("SIMO0001", optical=True, scenario="low_optical")
    level = read(cpe, profiles.OPTICAL_RX_POWER)[profiles.OPTICAL_RX_POWER]
    assert -29.4 <= level <= -28.6  # type: ignore[operator]
    raw = int(cpe.dm.value("Device.Optical.Interface.1.OpticalSignalLevel"))
    assert -29300 <= raw <= -28700  # 0.001 dBm units


def test_scenario_from_a_dict_and_a_subclass() -> None:
    cpe = SimulatedCpe("SIMD0001", scenario={"name": "old_firmware", "values": {profiles.SOFTWARE_VERSION: "0.9"}})
    assert read(cpe, profiles.SOFTWARE_VERSION)[profiles.SOFTWARE_VERSION] == "0.9"

    class NoClients(Scenario):
        name = "no_clients"

        def setup(self, cpe: SimulatedCpe) -> None:
            super().setup(cpe)
            from beskontakt.cpe.simulator.scenarios import set_clients

            set_clients(cpe, [])

    assert read(SimulatedCpe("SIMD0002", scenario=NoClients()), profiles.WIFI_CLIENTS)[profiles.WIFI_CLIENTS] == 0


def test_factory_reset_brings_the_scenario_back() -> None:
    async def test(acs: ScriptedAcs) -> None:
        serial = "SIMW0003"
        acs.queue(
            serial,
            "<cwmp:SetParameterValues><ParameterList><ParameterValueStruct><Name>Device.WiFi.Radio.1.Channel</Name>"
            "<Value>1</Value></ParameterValueStruct></ParameterList><ParameterKey/></cwmp:SetParameterValues>",
        )
        acs.queue(serial, "<cwmp:FactoryReset/>")
        async with fleet_of(acs, CpeSpec(serial, scenario="wifi_congested")) as fleet:
            await until(lambda: len(acs.informs) == 2)
            device = fleet.devices[serial]
            assert device.dm.value("Device.WiFi.Radio.1.Channel") == "6"
            assert not device.scenario.fixed

    run(test)


def test_flapping_link_reports_value_changes_and_boots() -> None:
    async def test(acs: ScriptedAcs) -> None:
        serial = "SIMF0001"
        spec = CpeSpec(serial, scenario={"name": "flapping_link", "period": 0.05, "boot_every": 2})
        async with fleet_of(acs, spec):
            await until(lambda: sum(1 for e in events_of(acs, serial) if "1 BOOT" in e) >= 2)
        informs = [i for i in acs.informs if i.serial == serial]
        changes = [i for i in informs if ("4 VALUE CHANGE", "") in i.events]
        assert changes
        statuses = {i.parameters.get("Device.PPP.Interface.1.ConnectionStatus") for i in changes}
        assert statuses & {"Connected", "Disconnected"}

    run(test)


def test_demo_scenarios_drive_devices() -> None:
    kinds = {faults.demo_scenario(f"D-{n:06d}") for n in range(500)}
    for kind in kinds:
        SimulatedCpe(f"SIMX-{kind}", scenario=kind, optical=True)
