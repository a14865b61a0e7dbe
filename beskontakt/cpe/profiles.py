"""Data-model profiles: logical names → TR-181 (``Device.``) or TR-098 (``InternetGatewayDevice.``) paths.

The diagnosis and the remote fixes ask for ``WAN_STATUS`` or ``WIFI_CHANNEL``; a profile
says where that lives in the device's data model and how its string value decodes
(optical levels come in 0.001 dBm, DSL margins in 0.1 dB, booleans as ``1``/``true``).
A logical name a model does not define (optical level on TR-098) reads as ``None``:
"unknown", never an error. Plain Python, no Django: the ACS, the GenieACS adapter and
the CPE simulator all use it.

List-valued names (``WIFI_CLIENT_SIGNALS``) map to a *partial path*; ``decode_list``
picks the matching leaf of every instance from a GetParameterValues answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TR181 = "tr181"
TR098 = "tr098"

# --- logical names ------------------------------------------------------------
UPTIME = "uptime"  # seconds since boot
SOFTWARE_VERSION = "software_version"
WAN_STATUS = "wan.status"  # "Connected" / "Up" → normalised to "up", anything else as given, lower-case
WAN_PPP_LAST_ERROR = "wan.ppp_last_error"  # e.g. "ERROR_AUTHENTICATION_FAILURE"
WAN_IP = "wan.ip"
WIFI_SSID = "wifi.ssid"
WIFI_PASSWORD = "wifi.password"  # noqa: S105 - a name, not a secret; write-only: devices answer an empty string
WIFI_CHANNEL = "wifi.channel"
WIFI_AUTO_CHANNEL = "wifi.auto_channel"
WIFI_CHANNELS_IN_USE = "wifi.channels_in_use"  # neighbouring networks' channels, a list of ints
WIFI_CLIENTS = "wifi.clients"  # number of associated stations
WIFI_CLIENT_SIGNALS = "wifi.client_signals"  # list of dBm, one per station
OPTICAL_RX_POWER = "optical.rx_power"  # dBm
OPTICAL_TX_POWER = "optical.tx_power"  # dBm
DSL_STATUS = "dsl.status"
DSL_SNR_MARGIN_DOWN = "dsl.snr_margin_down"  # dB
DSL_SNR_MARGIN_UP = "dsl.snr_margin_up"  # dB
INFORM_INTERVAL = "management.inform_interval"
INFORM_ENABLE = "management.inform_enable"
CR_USERNAME = "management.cr_username"
CR_PASSWORD = "management.cr_password"  # noqa: S105 - a name
ACS_USERNAME = "management.username"
ACS_PASSWORD = "management.password"  # noqa: S105 - a name
# IPPing diagnostics
PING_STATE = "ping.state"
PING_HOST = "ping.host"
PING_COUNT = "ping.count"
PING_TIMEOUT = "ping.timeout_ms"
PING_SUCCESS = "ping.success"
PING_FAILURE = "ping.failure"
PING_AVG = "ping.avg_ms"
PING_MIN = "ping.min_ms"
PING_MAX = "ping.max_ms"
# DownloadDiagnostics
DOWNLOAD_STATE = "download.state"
DOWNLOAD_URL = "download.url"
DOWNLOAD_BOM = "download.bom_time"
DOWNLOAD_EOM = "download.eom_time"
DOWNLOAD_BYTES = "download.test_bytes"

# What the device card and the diagnosis read in one go.
OVERVIEW = [
    UPTIME,
    SOFTWARE_VERSION,
    WAN_STATUS,
    WAN_PPP_LAST_ERROR,
    WAN_IP,
    WIFI_SSID,
    WIFI_CHANNEL,
    WIFI_AUTO_CHANNEL,
    WIFI_CHANNELS_IN_USE,
    WIFI_CLIENTS,
    WIFI_CLIENT_SIGNALS,
    OPTICAL_RX_POWER,
    OPTICAL_TX_POWER,
    DSL_STATUS,
    DSL_SNR_MARGIN_DOWN,
    DSL_SNR_MARGIN_UP,
]


def _text(raw: str) -> str:
    return raw.strip()


def _int(raw: str) -> int | None:
    try:
        return int(raw.strip())
    except ValueError:
        return None


def _bool(raw: str) -> bool | None:
    value = raw.strip().lower()
    if value in {"1", "true"}:
        return True
    if value in {"0", "false"}:
        return False
    return None


def _scaled(factor: float) -> Callable[[str], float | None]:
    def decode(raw: str) -> float | None:
        number = _int(raw)
        return None if number is None else round(number * factor, 3)

    return decode


def _status(raw: str) -> str:
    value = raw.strip()
    return "up" if value.lower() in {"up", "connected"} else value.lower()


def _int_list(raw: str) -> list[int]:
    return [int(part) for part in re.split(r"[,\s]+", raw.strip()) if part.isdigit()]


def _text_out(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Param:
    """Where one logical name lives and how its value converts (and its xsd type for writes)."""

    path: str
    decode: Callable[[str], Any] = _text
    xsd_type: str = "xsd:string"
    encode: Callable[[Any], str] = _text_out
    leaf: str = ""  # for list-valued names: the leaf under every instance of ``path``


@dataclass(frozen=True)
class Profile:
    """One data model's map of logical names."""

    data_model: str
    root: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def path(self, name: str) -> str | None:
        """The path (or partial path, for list names) of ``name``; None when the model lacks it."""
        param = self.params.get(name)
        return param.path if param else None

    def paths(self, names: list[str]) -> list[str]:
        """Paths to ask a GetParameterValues for, skipping names the model lacks."""
        return [param.path for name in names if (param := self.params.get(name))]

    def decode(self, name: str, values: Mapping[str, str]) -> Any:
        """The logical value of ``name`` from a path → string map (None when absent)."""
        param = self.params.get(name)
        if param is None:
            return None
        if param.leaf:
            return self.decode_list(param, values)
        raw = values.get(param.path)
        return None if raw is None else param.decode(raw)

    def decode_list(self, param: Param, values: Mapping[str, str]) -> list[Any]:
        """Every instance's ``leaf`` under ``param.path``, in instance order."""
        pattern = re.compile(re.escape(param.path) + r"(\d+)\." + re.escape(param.leaf) + "$")
        found = sorted((int(m.group(1)), raw) for path, raw in values.items() if (m := pattern.match(path)))
        return [param.decode(raw) for _, raw in found]

    def encode(self, name: str, value: Any) -> tuple[str, str, str]:
        """(path, string value, xsd type) for a SetParameterValues; KeyError when the model lacks it."""
        param = self.params[name]
        return param.path, param.encode(value), param.xsd_type


def _int_param(path: str) -> Param:
    return Param(path, _int, "xsd:unsignedInt")


def _bool_param(path: str) -> Param:
    return Param(path, _bool, "xsd:boolean")


def _signal_int(raw: str) -> int | None:
    return _int(raw)


_TR181 = Profile(
    TR181,
    "Device.",
    {
        UPTIME: _int_param("Device.DeviceInfo.UpTime"),
        SOFTWARE_VERSION: Param("Device.DeviceInfo.SoftwareVersion"),
        WAN_STATUS: Param("Device.PPP.Interface.1.ConnectionStatus", _status),
        WAN_PPP_LAST_ERROR: Param("Device.PPP.Interface.1.LastConnectionError"),
        WAN_IP: Param("Device.IP.Interface.1.IPv4Address.1.IPAddress"),
        WIFI_SSID: Param("Device.WiFi.SSID.1.SSID"),
        WIFI_PASSWORD: Param("Device.WiFi.AccessPoint.1.Security.KeyPassphrase"),
        WIFI_CHANNEL: _int_param("Device.WiFi.Radio.1.Channel"),
        WIFI_AUTO_CHANNEL: _bool_param("Device.WiFi.Radio.1.AutoChannelEnable"),
        WIFI_CHANNELS_IN_USE: Param("Device.WiFi.Radio.1.ChannelsInUse", _int_list),
        WIFI_CLIENTS: _int_param("Device.WiFi.AccessPoint.1.AssociatedDeviceNumberOfEntries"),
        WIFI_CLIENT_SIGNALS: Param(
            "Device.WiFi.AccessPoint.1.AssociatedDevice.", _signal_int, "xsd:int", leaf="SignalStrength"
        ),
        OPTICAL_RX_POWER: Param("Device.Optical.Interface.1.OpticalSignalLevel", _scaled(0.001), "xsd:int"),
        OPTICAL_TX_POWER: Param("Device.Optical.Interface.1.TransmitOpticalLevel", _scaled(0.001), "xsd:int"),
        DSL_STATUS: Param("Device.DSL.Line.1.Status", _status),
        DSL_SNR_MARGIN_DOWN: Param("Device.DSL.Line.1.DownstreamNoiseMargin", _scaled(0.1), "xsd:int"),
        DSL_SNR_MARGIN_UP: Param("Device.DSL.Line.1.UpstreamNoiseMargin", _scaled(0.1), "xsd:int"),
        INFORM_INTERVAL: _int_param("Device.ManagementServer.PeriodicInformInterval"),
        INFORM_ENABLE: _bool_param("Device.ManagementServer.PeriodicInformEnable"),
        CR_USERNAME: Param("Device.ManagementServer.ConnectionRequestUsername"),
        CR_PASSWORD: Param("Device.ManagementServer.ConnectionRequestPassword"),
        ACS_USERNAME: Param("Device.ManagementServer.Username"),
        ACS_PASSWORD: Param("Device.ManagementServer.Password"),
        PING_STATE: Param("Device.IP.Diagnostics.IPPing.DiagnosticsState"),
        PING_HOST: Param("Device.IP.Diagnostics.IPPing.Host"),
        PING_COUNT: _int_param("Device.IP.Diagnostics.IPPing.NumberOfRepetitions"),
        PING_TIMEOUT: _int_param("Device.IP.Diagnostics.IPPing.Timeout"),
        PING_SUCCESS: _int_param("Device.IP.Diagnostics.IPPing.SuccessCount"),
        PING_FAILURE: _int_param("Device.IP.Diagnostics.IPPing.FailureCount"),
        PING_AVG: _int_param("Device.IP.Diagnostics.IPPing.AverageResponseTime"),
        PING_MIN: _int_param("Device.IP.Diagnostics.IPPing.MinimumResponseTime"),
        PING_MAX: _int_param("Device.IP.Diagnostics.IPPing.MaximumResponseTime"),
        DOWNLOAD_STATE: Param("Device.IP.Diagnostics.DownloadDiagnostics.DiagnosticsState"),
        DOWNLOAD_URL: Param("Device.IP.Diagnostics.DownloadDiagnostics.DownloadURL"),
        DOWNLOAD_BOM: Param("Device.IP.Diagnostics.DownloadDiagnostics.BOMTime", xsd_type="xsd:dateTime"),
        DOWNLOAD_EOM: Param("Device.IP.Diagnostics.DownloadDiagnostics.EOMTime", xsd_type="xsd:dateTime"),
        DOWNLOAD_BYTES: _int_param("Device.IP.Diagnostics.DownloadDiagnostics.TestBytesReceived"),
    },
)

_IGD = "InternetGatewayDevice."
_WAN = _IGD + "WANDevice.1."
_WLAN = _IGD + "LANDevice.1.WLANConfiguration.1."
_TR098 = Profile(
    TR098,
    _IGD,
    {
        UPTIME: _int_param(_IGD + "DeviceInfo.UpTime"),
        SOFTWARE_VERSION: Param(_IGD + "DeviceInfo.SoftwareVersion"),
        WAN_STATUS: Param(_WAN + "WANConnectionDevice.1.WANPPPConnection.1.ConnectionStatus", _status),
        WAN_PPP_LAST_ERROR: Param(_WAN + "WANConnectionDevice.1.WANPPPConnection.1.LastConnectionError"),
        WAN_IP: Param(_WAN + "WANConnectionDevice.1.WANPPPConnection.1.ExternalIPAddress"),
        WIFI_SSID: Param(_WLAN + "SSID"),
        WIFI_PASSWORD: Param(_WLAN + "KeyPassphrase"),
        WIFI_CHANNEL: _int_param(_WLAN + "Channel"),
        WIFI_AUTO_CHANNEL: _bool_param(_WLAN + "AutoChannelEnable"),
        WIFI_CLIENTS: _int_param(_WLAN + "TotalAssociations"),
        DSL_STATUS: Param(_WAN + "WANDSLInterfaceConfig.Status", _status),
        DSL_SNR_MARGIN_DOWN: Param(_WAN + "WANDSLInterfaceConfig.DownstreamNoiseMargin", _scaled(0.1), "xsd:int"),
        DSL_SNR_MARGIN_UP: Param(_WAN + "WANDSLInterfaceConfig.UpstreamNoiseMargin", _scaled(0.1), "xsd:int"),
        INFORM_INTERVAL: _int_param(_IGD + "ManagementServer.PeriodicInformInterval"),
        INFORM_ENABLE: _bool_param(_IGD + "ManagementServer.PeriodicInformEnable"),
        CR_USERNAME: Param(_IGD + "ManagementServer.ConnectionRequestUsername"),
        CR_PASSWORD: Param(_IGD + "ManagementServer.ConnectionRequestPassword"),
        ACS_USERNAME: Param(_IGD + "ManagementServer.Username"),
        ACS_PASSWORD: Param(_IGD + "ManagementServer.Password"),
        PING_STATE: Param(_IGD + "IPPingDiagnostics.DiagnosticsState"),
        PING_HOST: Param(_IGD + "IPPingDiagnostics.Host"),
        PING_COUNT: _int_param(_IGD + "IPPingDiagnostics.NumberOfRepetitions"),
        PING_TIMEOUT: _int_param(_IGD + "IPPingDiagnostics.Timeout"),
        PING_SUCCESS: _int_param(_IGD + "IPPingDiagnostics.SuccessCount"),
        PING_FAILURE: _int_param(_IGD + "IPPingDiagnostics.FailureCount"),
        PING_AVG: _int_param(_IGD + "IPPingDiagnostics.AverageResponseTime"),
        PING_MIN: _int_param(_IGD + "IPPingDiagnostics.MinimumResponseTime"),
        PING_MAX: _int_param(_IGD + "IPPingDiagnostics.MaximumResponseTime"),
        DOWNLOAD_STATE: Param(_IGD + "DownloadDiagnostics.DiagnosticsState"),
        DOWNLOAD_URL: Param(_IGD + "DownloadDiagnostics.DownloadURL"),
        DOWNLOAD_BOM: Param(_IGD + "DownloadDiagnostics.BOMTime", xsd_type="xsd:dateTime"),
        DOWNLOAD_EOM: Param(_IGD + "DownloadDiagnostics.EOMTime", xsd_type="xsd:dateTime"),
        DOWNLOAD_BYTES: _int_param(_IGD + "DownloadDiagnostics.TestBytesReceived"),
    },
)

PROFILES: dict[str, Profile] = {TR181: _TR181, TR098: _TR098}


def profile_for(data_model: str) -> Profile:
    """The profile of ``tr181``/``tr098``."""
    return PROFILES[data_model]


def data_model_of(parameter_names: list[str] | Mapping[str, Any]) -> str:
    """Which model an Inform's parameter list speaks (``Device.`` → TR-181, else TR-098)."""
    return TR181 if any(name.startswith("Device.") for name in parameter_names) else TR098
