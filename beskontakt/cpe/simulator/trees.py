"""The TR-181 (``Device:2``) and TR-098 (``InternetGatewayDevice:1``) trees the simulator serves.

Each tree is a plain table, one line per parameter or object: ``path type access default``.
``{i}`` marks a multi-instance table; ``access`` is ``r``/``w`` for parameters and, for a
table's instance line (``X.{i}.``), whether the ACS may AddObject/DeleteObject there.
``INSTANCES`` says how many instances the shared default tree holds. The paths match
``beskontakt.cpe.profiles``; a test checks that every profile path exists here.
"""

from __future__ import annotations

import sys
from functools import cache

from beskontakt.cpe import profiles

from .datamodel import BOOLEAN, TYPES, ParamSpec, Schema, template_of

DIAG_STATES_SET = frozenset({"Requested"})
PING_STATES = frozenset(
    {"None", "Requested", "Complete", "Error_CannotResolveHostName", "Error_Internal", "Error_Other"}
)

TR181_TABLE = """
Device. object r
Device.RootDataModelVersion string r 2.11
Device.DeviceInfo. object r
Device.DeviceInfo.Manufacturer string r
Device.DeviceInfo.ManufacturerOUI string r
Device.DeviceInfo.ModelName string r
Device.DeviceInfo.Description string r Beskontakt simulated CPE
Device.DeviceInfo.ProductClass string r
Device.DeviceInfo.SerialNumber string r
Device.DeviceInfo.HardwareVersion string r 1.0
Device.DeviceInfo.SoftwareVersion string r 1.0.0
Device.DeviceInfo.ProvisioningCode string w
Device.DeviceInfo.UpTime unsignedInt r 0
Device.ManagementServer. object r
Device.ManagementServer.URL string w
Device.ManagementServer.Username string w
Device.ManagementServer.Password string w
Device.ManagementServer.PeriodicInformEnable boolean w true
Device.ManagementServer.PeriodicInformInterval unsignedInt w 300
Device.ManagementServer.PeriodicInformTime dateTime w 0001-01-01T00:00:00Z
Device.ManagementServer.ParameterKey string r
Device.ManagementServer.ConnectionRequestURL string r
Device.ManagementServer.ConnectionRequestUsername string w
Device.ManagementServer.ConnectionRequestPassword string w
Device.PPP. object r
Device.PPP.InterfaceNumberOfEntries unsignedInt r 1
Device.PPP.Interface.{i}. object r
Device.PPP.Interface.{i}.Enable boolean w true
Device.PPP.Interface.{i}.Status string r Up
Device.PPP.Interface.{i}.ConnectionStatus string r Connected
Device.PPP.Interface.{i}.LastConnectionError string r ERROR_NONE
Device.PPP.Interface.{i}.Username string w
Device.PPP.Interface.{i}.Password string w
Device.IP. object r
Device.IP.InterfaceNumberOfEntries unsignedInt r 1
Device.IP.Interface.{i}. object r
Device.IP.Interface.{i}.Enable boolean w true
Device.IP.Interface.{i}.Status string r Up
Device.IP.Interface.{i}.IPv4AddressNumberOfEntries unsignedInt r 1
Device.IP.Interface.{i}.IPv4Address.{i}. object r
Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress string r
Device.IP.Interface.{i}.IPv4Address.{i}.SubnetMask string r 255.255.255.255
Device.IP.Diagnostics. object r
Device.IP.Diagnostics.IPPing. object r
Device.IP.Diagnostics.IPPing.DiagnosticsState string w None
Device.IP.Diagnostics.IPPing.Interface string w
Device.IP.Diagnostics.IPPing.Host string w
Device.IP.Diagnostics.IPPing.NumberOfRepetitions unsignedInt w 4
Device.IP.Diagnostics.IPPing.Timeout unsignedInt w 1000
Device.IP.Diagnostics.IPPing.DataBlockSize unsignedInt w 64
Device.IP.Diagnostics.IPPing.SuccessCount unsignedInt r 0
Device.IP.Diagnostics.IPPing.FailureCount unsignedInt r 0
Device.IP.Diagnostics.IPPing.AverageResponseTime unsignedInt r 0
Device.IP.Diagnostics.IPPing.MinimumResponseTime unsignedInt r 0
Device.IP.Diagnostics.IPPing.MaximumResponseTime unsignedInt r 0
Device.IP.Diagnostics.DownloadDiagnostics. object r
Device.IP.Diagnostics.DownloadDiagnostics.DiagnosticsState string w None
Device.IP.Diagnostics.DownloadDiagnostics.Interface string w
Device.IP.Diagnostics.DownloadDiagnostics.DownloadURL string w
Device.IP.Diagnostics.DownloadDiagnostics.ROMTime dateTime r 0001-01-01T00:00:00Z
Device.IP.Diagnostics.DownloadDiagnostics.BOMTime dateTime r 0001-01-01T00:00:00Z
Device.IP.Diagnostics.DownloadDiagnostics.EOMTime dateTime r 0001-01-01T00:00:00Z
Device.IP.Diagnostics.DownloadDiagnostics.TestBytesReceived unsignedInt r 0
Device.IP.Diagnostics.DownloadDiagnostics.TotalBytesReceived unsignedInt r 0
Device.WiFi. object r
Device.WiFi.RadioNumberOfEntries unsignedInt r 1
Device.WiFi.SSIDNumberOfEntries unsignedInt r 1
Device.WiFi.AccessPointNumberOfEntries unsignedInt r 1
Device.WiFi.Radio.{i}. object r
Device.WiFi.Radio.{i}.Enable boolean w true
Device.WiFi.Radio.{i}.Status string r Up
Device.WiFi.Radio.{i}.OperatingFrequencyBand string r 2.4GHz
Device.WiFi.Radio.{i}.PossibleChannels string r 1-13
Device.WiFi.Radio.{i}.ChannelsInUse string r 1
Device.WiFi.Radio.{i}.Channel unsignedInt w 1
Device.WiFi.Radio.{i}.AutoChannelEnable boolean w false
Device.WiFi.SSID.{i}. object r
Device.WiFi.SSID.{i}.Enable boolean w true
Device.WiFi.SSID.{i}.Status string r Up
Device.WiFi.SSID.{i}.SSID string w
Device.WiFi.SSID.{i}.BSSID string r
Device.WiFi.SSID.{i}.LowerLayers string r Device.WiFi.Radio.1.
Device.WiFi.AccessPoint.{i}. object r
Device.WiFi.AccessPoint.{i}.Enable boolean w true
Device.WiFi.AccessPoint.{i}.SSIDReference string r Device.WiFi.SSID.1.
Device.WiFi.AccessPoint.{i}.AssociatedDeviceNumberOfEntries unsignedInt r 0
Device.WiFi.AccessPoint.{i}.Security. object r
Device.WiFi.AccessPoint.{i}.Security.ModeEnabled string w WPA2-Personal
Device.WiFi.AccessPoint.{i}.Security.KeyPassphrase string w
Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}. object r
Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.MACAddress string r
Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.SignalStrength int r -50
Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.Active boolean r true
Device.Hosts. object r
Device.Hosts.HostNumberOfEntries unsignedInt r 0
Device.Hosts.Host.{i}. object w
Device.Hosts.Host.{i}.PhysAddress string w
Device.Hosts.Host.{i}.HostName string w
"""

TR181_OPTICAL = """
Device.Optical. object r
Device.Optical.InterfaceNumberOfEntries unsignedInt r 1
Device.Optical.Interface.{i}. object r
Device.Optical.Interface.{i}.Enable boolean w true
Device.Optical.Interface.{i}.Status string r Up
Device.Optical.Interface.{i}.OpticalSignalLevel int r -19500
Device.Optical.Interface.{i}.TransmitOpticalLevel int r 2100
Device.Optical.Interface.{i}.LowerOpticalThreshold int r -28000
Device.Optical.Interface.{i}.UpperOpticalThreshold int r -8000
"""

TR181_DSL = """
Device.DSL. object r
Device.DSL.LineNumberOfEntries unsignedInt r 1
Device.DSL.Line.{i}. object r
Device.DSL.Line.{i}.Enable boolean w true
Device.DSL.Line.{i}.Status string r Up
Device.DSL.Line.{i}.DownstreamNoiseMargin int r 95
Device.DSL.Line.{i}.UpstreamNoiseMargin int r 110
"""

_IGD = "InternetGatewayDevice."
_PPP = _IGD + "WANDevice.{i}.WANConnectionDevice.{i}.WANPPPConnection.{i}."
_WLAN = _IGD + "LANDevice.{i}.WLANConfiguration.{i}."
TR098_TABLE = f"""
{_IGD} object r
{_IGD}DeviceSummary string r InternetGatewayDevice:1.4[](Baseline:2, EthernetLAN:1, WiFiLAN:1, IPPing:1)
{_IGD}DeviceInfo. object r
{_IGD}DeviceInfo.Manufacturer string r
{_IGD}DeviceInfo.ManufacturerOUI string r
{_IGD}DeviceInfo.ModelName string r
{_IGD}DeviceInfo.Description string r Beskontakt simulated CPE
{_IGD}DeviceInfo.ProductClass string r
{_IGD}DeviceInfo.SerialNumber string r
{_IGD}DeviceInfo.HardwareVersion string r 1.0
{_IGD}DeviceInfo.SoftwareVersion string r 1.0.0
{_IGD}DeviceInfo.SpecVersion string r 1.0
{_IGD}DeviceInfo.ProvisioningCode string w
{_IGD}DeviceInfo.UpTime unsignedInt r 0
{_IGD}ManagementServer. object r
{_IGD}ManagementServer.URL string w
{_IGD}ManagementServer.Username string w
{_IGD}ManagementServer.Password string w
{_IGD}ManagementServer.PeriodicInformEnable boolean w true
{_IGD}ManagementServer.PeriodicInformInterval unsignedInt w 300
{_IGD}ManagementServer.PeriodicInformTime dateTime w 0001-01-01T00:00:00Z
{_IGD}ManagementServer.ParameterKey string r
{_IGD}ManagementServer.ConnectionRequestURL string r
{_IGD}ManagementServer.ConnectionRequestUsername string w
{_IGD}ManagementServer.ConnectionRequestPassword string w
{_IGD}WANDeviceNumberOfEntries unsignedInt r 1
{_IGD}WANDevice.{{i}}. object r
{_IGD}WANDevice.{{i}}.WANConnectionNumberOfEntries unsignedInt r 1
{_IGD}WANDevice.{{i}}.WANDSLInterfaceConfig. object r
{_IGD}WANDevice.{{i}}.WANDSLInterfaceConfig.Enable boolean w true
{_IGD}WANDevice.{{i}}.WANDSLInterfaceConfig.Status string r Up
{_IGD}WANDevice.{{i}}.WANDSLInterfaceConfig.DownstreamNoiseMargin int r 95
{_IGD}WANDevice.{{i}}.WANDSLInterfaceConfig.UpstreamNoiseMargin int r 110
{_IGD}WANDevice.{{i}}.WANConnectionDevice.{{i}}. object r
{_IGD}WANDevice.{{i}}.WANConnectionDevice.{{i}}.WANPPPConnectionNumberOfEntries unsignedInt r 1
{_PPP} object w
{_PPP}Enable boolean w true
{_PPP}ConnectionStatus string r Connected
{_PPP}LastConnectionError string r ERROR_NONE
{_PPP}Username string w
{_PPP}Password string w
{_PPP}ExternalIPAddress string r
{_IGD}LANDeviceNumberOfEntries unsignedInt r 1
{_IGD}LANDevice.{{i}}. object r
{_IGD}LANDevice.{{i}}.LANWLANConfigurationNumberOfEntries unsignedInt r 1
{_WLAN} object r
{_WLAN}Enable boolean w true
{_WLAN}Status string r Up
{_WLAN}SSID string w
{_WLAN}BSSID string r
{_WLAN}Channel unsignedInt w 1
{_WLAN}AutoChannelEnable boolean w false
{_WLAN}PossibleChannels string r 1-13
{_WLAN}BeaconType string w 11i
{_WLAN}KeyPassphrase string w
{_WLAN}TotalAssociations unsignedInt r 0
{_WLAN}AssociatedDevice.{{i}}. object r
{_WLAN}AssociatedDevice.{{i}}.AssociatedDeviceMACAddress string r
{_WLAN}AssociatedDevice.{{i}}.AssociatedDeviceIPAddress string r
{_WLAN}AssociatedDevice.{{i}}.AssociatedDeviceAuthenticationState boolean r true
{_IGD}IPPingDiagnostics. object r
{_IGD}IPPingDiagnostics.DiagnosticsState string w None
{_IGD}IPPingDiagnostics.Interface string w
{_IGD}IPPingDiagnostics.Host string w
{_IGD}IPPingDiagnostics.NumberOfRepetitions unsignedInt w 4
{_IGD}IPPingDiagnostics.Timeout unsignedInt w 1000
{_IGD}IPPingDiagnostics.DataBlockSize unsignedInt w 64
{_IGD}IPPingDiagnostics.SuccessCount unsignedInt r 0
{_IGD}IPPingDiagnostics.FailureCount unsignedInt r 0
{_IGD}IPPingDiagnostics.AverageResponseTime unsignedInt r 0
{_IGD}IPPingDiagnostics.MinimumResponseTime unsignedInt r 0
{_IGD}IPPingDiagnostics.MaximumResponseTime unsignedInt r 0
{_IGD}DownloadDiagnostics. object r
{_IGD}DownloadDiagnostics.DiagnosticsState string w None
{_IGD}DownloadDiagnostics.Interface string w
{_IGD}DownloadDiagnostics.DownloadURL string w
{_IGD}DownloadDiagnostics.ROMTime dateTime r 0001-01-01T00:00:00Z
{_IGD}DownloadDiagnostics.BOMTime dateTime r 0001-01-01T00:00:00Z
{_IGD}DownloadDiagnostics.EOMTime dateTime r 0001-01-01T00:00:00Z
{_IGD}DownloadDiagnostics.TestBytesReceived unsignedInt r 0
{_IGD}DownloadDiagnostics.TotalBytesReceived unsignedInt r 0
"""

# Writable-value restrictions the device enforces (besides the type).
_ALLOWED = {
    "DiagnosticsState": DIAG_STATES_SET,
    "ModeEnabled": frozenset({"None", "WEP-64", "WEP-128", "WPA-Personal", "WPA2-Personal", "WPA-WPA2-Personal"}),
    "BeaconType": frozenset({"None", "Basic", "WPA", "11i", "WPAand11i"}),
}

# Table → the parameter counting its instances (TR-098 names some of them differently).
_COUNT_NAMES = {
    "AssociatedDevice": ("AssociatedDeviceNumberOfEntries", "TotalAssociations"),
    "WLANConfiguration": ("LANWLANConfigurationNumberOfEntries",),
    "WANPPPConnection": ("WANPPPConnectionNumberOfEntries",),
    "WANConnectionDevice": ("WANConnectionNumberOfEntries",),
}

TR181 = profiles.TR181
TR098 = profiles.TR098


def _parse(table: str, schema: Schema) -> list[str]:
    """Fill ``schema``'s specs from a table; the template lines in order (for the base tree)."""
    lines: list[str] = []
    for raw in table.strip().splitlines():
        parts = raw.split(None, 3)
        path, kind, access = parts[0], parts[1], parts[2]
        default = parts[3] if len(parts) > 3 else ""
        if kind == "object":
            schema.objects[path] = access == "w"
            if path.endswith(".{i}."):
                schema.tables.add(path)
                table_object = path[: -len("{i}.")]
                if table_object not in schema.objects:  # the table itself exists, even when empty
                    schema.objects[table_object] = False
                    lines.append(f"{table_object}\t")
        else:
            assert kind in TYPES, raw
            leaf = path.rsplit(".", 1)[1]
            schema.params[path] = ParamSpec(kind, access == "w", _ALLOWED.get(leaf) if access == "w" else None)
            if kind == BOOLEAN and default:
                default = "true" if default in ("1", "true") else "false"
        lines.append(f"{path}\t{default}")
    return lines


def _counts(schema: Schema) -> None:
    for table in schema.tables:
        prefix = table[: -len("{i}.")]  # "X.Y." (template)
        name = prefix[:-1].rsplit(".", 1)[1]
        parent = prefix[: -len(name) - 1]
        candidates = (*_COUNT_NAMES.get(name, ()), f"{name}NumberOfEntries")
        for candidate in candidates:
            if parent + candidate in schema.params:
                schema.counts[prefix] = parent + candidate
                break


# How many instances the shared default tree has of each table (missing: 1).
INSTANCES = {
    "Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.": 0,
    "Device.Hosts.Host.{i}.": 0,
    _WLAN + "AssociatedDevice.{i}.": 0,
}


def _expand(template: str) -> list[str]:
    """Concrete paths of ``template`` given ``INSTANCES`` (nested tables multiply)."""
    paths = [""]
    rest = template
    while "{i}" in rest:
        head, rest = rest.split("{i}", 1)
        new: list[str] = []
        for done in paths:
            table_template = template_of(done + head) + "{i}."
            count = INSTANCES.get(table_template, 1)
            new.extend(f"{done}{head}{n}" for n in range(1, count + 1))
        paths = new
    return [p + rest for p in paths]


@cache
def schema_for(data_model: str, optical: bool = False, dsl: bool = False) -> Schema:
    """The shared schema (and default tree) of one device variant; built once per process."""
    if data_model == TR181:
        schema = Schema(TR181, "Device.")
        tables = [TR181_TABLE] + ([TR181_OPTICAL] if optical else []) + ([TR181_DSL] if dsl else [])
    elif data_model == TR098:
        schema = Schema(TR098, _IGD)
        tables = [TR098_TABLE]
    else:
        raise ValueError(f"unknown data model {data_model!r}")
    lines: list[str] = []
    for table in tables:
        lines.extend(_parse(table, schema))
    _counts(schema)
    for line in lines:
        template, default = line.split("\t", 1)
        value = None if template.endswith(".") else default
        for path in _expand(template):
            schema.base[sys.intern(path)] = value
    if data_model == TR098 and not dsl:
        # A TR-098 router without DSL simply reports its DSL config as absent.
        for path in [p for p in schema.base if ".WANDSLInterfaceConfig." in p]:
            del schema.base[path]
    return schema
