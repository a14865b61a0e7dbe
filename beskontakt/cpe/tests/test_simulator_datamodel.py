"""The simulator's TR-181/TR-098 trees: profile paths exist, instances, names, values, writes."""

from __future__ import annotations

import pytest

from beskontakt.cpe import profiles
from beskontakt.cpe.simulator import SimulatedCpe
from beskontakt.cpe.simulator.datamodel import DataModel, template_of
from beskontakt.cpe.simulator.errors import INVALID_ARGUMENTS, INVALID_NAME, INVALID_VALUE, NON_WRITABLE, CpeFault
from beskontakt.cpe.simulator.trees import schema_for

AP = "Device.WiFi.AccessPoint.1.AssociatedDevice."


@pytest.mark.parametrize(("model", "optical", "dsl"), [(profiles.TR181, True, True), (profiles.TR098, False, True)])
def test_every_profile_path_exists(model: str, optical: bool, dsl: bool) -> None:
    dm = DataModel(schema_for(model, optical, dsl))
    profile = profiles.profile_for(model)
    missing = [param.path for param in profile.params.values() if param.path not in dm]
    assert missing == []
    for param in profile.params.values():
        if not param.leaf:
            assert not param.path.endswith(".")


def test_optical_and_dsl_only_where_asked() -> None:
    plain = DataModel(schema_for(profiles.TR181))
    assert "Device.Optical.Interface.1.OpticalSignalLevel" not in plain
    assert "Device.DSL.Line.1.Status" not in plain
    assert "InternetGatewayDevice.WANDevice.1.WANDSLInterfaceConfig.Status" not in DataModel(schema_for(profiles.TR098))


def test_devices_share_the_static_tree() -> None:
    one, two = SimulatedCpe("SIM-A"), SimulatedCpe("SIM-B")
    assert one.dm.schema is two.dm.schema
    assert len(one.dm.own) < len(one.dm.schema.base)
    assert one.dm.value("Device.DeviceInfo.SerialNumber") == "SIM-A"
    assert two.dm.value("Device.DeviceInfo.SerialNumber") == "SIM-B"
    assert one.dm.schema.base["Device.DeviceInfo.SerialNumber"] == ""


def test_template_of() -> None:
    assert template_of(AP + "3.SignalStrength") == "Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.SignalStrength"
    assert template_of("Device.DeviceInfo.UpTime") == "Device.DeviceInfo.UpTime"


def test_add_and_delete_instances_keep_the_count() -> None:
    dm = DataModel(schema_for(profiles.TR181))
    assert dm.instances(AP) == []
    assert dm.add_instance(AP, force=True) == 1
    assert dm.add_instance(AP, force=True) == 2
    assert dm.value("Device.WiFi.AccessPoint.1.AssociatedDeviceNumberOfEntries") == "2"
    dm.delete_instance(AP + "1.", force=True)
    assert dm.instances(AP) == [2]
    assert dm.value("Device.WiFi.AccessPoint.1.AssociatedDeviceNumberOfEntries") == "1"
    assert dm.add_instance(AP, force=True) == 3  # numbers are not reused
    with pytest.raises(CpeFault) as raised:
        dm.add_instance(AP)  # stations are read-only for the ACS
    assert raised.value.code == INVALID_NAME


def test_writable_table_and_deleting_a_base_instance() -> None:
    dm = DataModel(schema_for(profiles.TR181))
    number = dm.add_instance("Device.Hosts.Host.")
    assert f"Device.Hosts.Host.{number}.HostName" in dm
    assert dm.value("Device.Hosts.HostNumberOfEntries") == "1"
    dm.delete_instance("Device.PPP.Interface.1.", force=True)
    assert "Device.PPP.Interface.1.Username" not in dm
    assert dm.value("Device.PPP.InterfaceNumberOfEntries") == "0"
    with pytest.raises(CpeFault):
        dm.delete_instance("Device.PPP.Interface.1.", force=True)


def test_names_next_level_and_full() -> None:
    dm = DataModel(schema_for(profiles.TR181))
    assert dm.names("", True) == [("Device.", False)]
    top = dict(dm.names("Device.", True))
    assert "Device.DeviceInfo." in top
    assert "Device.DeviceInfo.UpTime" not in top
    info = dict(dm.names("Device.DeviceInfo.", False))
    assert info["Device.DeviceInfo."] is False
    assert info["Device.DeviceInfo.ProvisioningCode"] is True
    assert info["Device.DeviceInfo.UpTime"] is False
    assert dm.names("Device.DeviceInfo.UpTime", False) == [("Device.DeviceInfo.UpTime", False)]
    hosts = dict(dm.names("Device.Hosts.", True))
    assert hosts["Device.Hosts.Host."] is True  # AddObject allowed
    with pytest.raises(CpeFault) as raised:
        dm.names("Device.DeviceInfo.UpTime", True)
    assert raised.value.code == INVALID_ARGUMENTS
    with pytest.raises(CpeFault) as raised:
        dm.names("Device.Nothing.", True)
    assert raised.value.code == INVALID_NAME


def test_values_under_partial_paths() -> None:
    dm = DataModel(schema_for(profiles.TR098))
    found = dm.values_under(["InternetGatewayDevice.IPPingDiagnostics.", "InternetGatewayDevice.DeviceInfo.UpTime"])
    names = [name for name, _, _ in found]
    assert names[0] == "InternetGatewayDevice.IPPingDiagnostics.DiagnosticsState"
    assert names[-1] == "InternetGatewayDevice.DeviceInfo.UpTime"
    assert ("InternetGatewayDevice.IPPingDiagnostics.NumberOfRepetitions", "4", "unsignedInt") in found
    with pytest.raises(CpeFault) as raised:
        dm.values_under(["InternetGatewayDevice.NoSuch"])
    assert raised.value.code == INVALID_NAME


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        ("Device.WiFi.Radio.1.Channel", "abc", INVALID_VALUE),
        ("Device.WiFi.Radio.1.Channel", "99", INVALID_VALUE),
        ("Device.WiFi.Radio.1.AutoChannelEnable", "maybe", INVALID_VALUE),
        ("Device.ManagementServer.PeriodicInformInterval", "-5", INVALID_VALUE),
        ("Device.IP.Diagnostics.IPPing.DiagnosticsState", "Complete", INVALID_VALUE),
        ("Device.DeviceInfo.UpTime", "5", NON_WRITABLE),
        ("Device.DeviceInfo.NoSuch", "5", INVALID_NAME),
        ("Device.DeviceInfo.", "5", INVALID_NAME),
    ],
)
def test_validate_set_faults(path: str, value: str, code: int) -> None:
    dm = DataModel(schema_for(profiles.TR181))
    with pytest.raises(CpeFault) as raised:
        dm.validate_set(path, value)
    assert raised.value.code == code


def test_validate_set_canonical_values() -> None:
    dm = DataModel(schema_for(profiles.TR181))
    assert dm.validate_set("Device.WiFi.Radio.1.AutoChannelEnable", "1") == "true"
    assert dm.validate_set("Device.WiFi.Radio.1.Channel", " 11 ") == "11"
    assert dm.validate_set("Device.WiFi.SSID.1.SSID", " spaced ") == " spaced "


def test_factory_reset_restores_defaults() -> None:
    cpe = SimulatedCpe("SIM-R")
    cpe.dm.set("Device.WiFi.SSID.1.SSID", "changed")
    cpe.dm.attributes["Device.WiFi.SSID.1.SSID"] = 2
    cpe.dm.reset()
    assert cpe.dm.value("Device.WiFi.SSID.1.SSID") == ""
    assert cpe.dm.attributes == {}


def test_the_simulator_does_not_import_django() -> None:
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "simulator"
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(name.split(".")[0] == "django" for name in names), source.name
