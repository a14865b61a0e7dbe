"""CWMP (TR-069 Amendment 6) messages as plain dataclasses, both directions.

Every RPC of the CWMP 1.0–1.4 method set that Beskontakt speaks is one class here; the
SOAP envelope around them is ``envelope.py``'s business. A message class carries:

* ``METHOD`` — the element name in the SOAP body (``"GetParameterValues"``);
* ``RESPONSE`` (requests only) — the class of the response that answers it, which is how
  the session checks that a CPE's answer matches the request outstanding.

Small records are ``NamedTuple``s so they can be written as plain tuples too:
``ParameterValue("Device.DeviceInfo.UpTime", "42", "xsd:unsignedInt")``. Parameter values
are kept as the strings that travel on the wire, together with their ``xsd:`` type;
``ParameterValue.of()`` builds one from a Python value and ``.typed()`` converts back.

Times are ``datetime`` (aware, UTC when the CPE says ``Z``) or ``None`` for the CWMP
"unknown time" ``0001-01-01T00:00:00Z`` and anything unparsable.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

# --- event codes (TR-069 3.7.1.5) -------------------------------------------------------

BOOTSTRAP = "0 BOOTSTRAP"
BOOT = "1 BOOT"
PERIODIC = "2 PERIODIC"
SCHEDULED = "3 SCHEDULED"
VALUE_CHANGE = "4 VALUE CHANGE"
KICKED = "5 KICKED"
CONNECTION_REQUEST = "6 CONNECTION REQUEST"
TRANSFER_COMPLETE = "7 TRANSFER COMPLETE"
DIAGNOSTICS_COMPLETE = "8 DIAGNOSTICS COMPLETE"
REQUEST_DOWNLOAD = "9 REQUEST DOWNLOAD"
AUTONOMOUS_TRANSFER_COMPLETE = "10 AUTONOMOUS TRANSFER COMPLETE"
DU_STATE_CHANGE_COMPLETE = "11 DU STATE CHANGE COMPLETE"
AUTONOMOUS_DU_STATE_CHANGE_COMPLETE = "12 AUTONOMOUS DU STATE CHANGE COMPLETE"
WAKEUP = "13 WAKEUP"
HEARTBEAT = "14 HEARTBEAT"
M_REBOOT = "M Reboot"
M_SCHEDULE_INFORM = "M ScheduleInform"
M_DOWNLOAD = "M Download"
M_SCHEDULE_DOWNLOAD = "M ScheduleDownload"
M_UPLOAD = "M Upload"
M_CHANGE_DU_STATE = "M ChangeDUState"

EVENT_CODES: tuple[str, ...] = (
    BOOTSTRAP,
    BOOT,
    PERIODIC,
    SCHEDULED,
    VALUE_CHANGE,
    KICKED,
    CONNECTION_REQUEST,
    TRANSFER_COMPLETE,
    DIAGNOSTICS_COMPLETE,
    REQUEST_DOWNLOAD,
    AUTONOMOUS_TRANSFER_COMPLETE,
    DU_STATE_CHANGE_COMPLETE,
    AUTONOMOUS_DU_STATE_CHANGE_COMPLETE,
    WAKEUP,
    HEARTBEAT,
    M_REBOOT,
    M_SCHEDULE_INFORM,
    M_DOWNLOAD,
    M_SCHEDULE_DOWNLOAD,
    M_UPLOAD,
    M_CHANGE_DU_STATE,
)

# Download FileType values (TR-069 A.3.2.8)
FILE_FIRMWARE = "1 Firmware Upgrade Image"
FILE_WEB_CONTENT = "2 Web Content"
FILE_VENDOR_CONFIG = "3 Vendor Configuration File"
FILE_TONE = "4 Tone File"
FILE_RINGER = "5 Ringer File"

# The CWMP "unknown time"
UNKNOWN_TIME = "0001-01-01T00:00:00Z"

# xsd types a parameter value may carry
XSD_STRING = "xsd:string"
XSD_INT = "xsd:int"
XSD_UNSIGNED_INT = "xsd:unsignedInt"
XSD_LONG = "xsd:long"
XSD_UNSIGNED_LONG = "xsd:unsignedLong"
XSD_BOOLEAN = "xsd:boolean"
XSD_DATETIME = "xsd:dateTime"
XSD_BASE64 = "xsd:base64"
XSD_HEXBINARY = "xsd:hexBinary"

_INT_TYPES = frozenset({XSD_INT, XSD_UNSIGNED_INT, XSD_LONG, XSD_UNSIGNED_LONG})
_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})


def parse_bool(text: str | None) -> bool | None:
    """A CWMP boolean in any spelling (``1``/``0``/``true``/``false``, any case, padded) or None."""
    if text is None:
        return None
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def parse_time(text: str | None) -> datetime | None:
    """A CWMP ``dateTime``: aware datetime, or None for the unknown time, empty or bad text."""
    if not text:
        return None
    text = text.strip()
    if not text or text.startswith("0001-01-01"):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.year < 1971:  # devices without NTP report 1970: as good as unknown
        return None
    return value


def format_time(value: datetime | None) -> str:
    """A ``datetime`` as CWMP writes it (UTC with ``Z``); None becomes the unknown time."""
    if value is None:
        return UNKNOWN_TIME
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- records --------------------------------------------------------------------------


class DeviceId(NamedTuple):
    """The DeviceIdStruct of an Inform: who the CPE is."""

    manufacturer: str
    oui: str
    product_class: str
    serial_number: str

    @property
    def device_id(self) -> str:
        """``OUI-ProductClass-SerialNumber``, the registry key (``OUI-SerialNumber`` without a class)."""
        if self.product_class:
            return f"{self.oui}-{self.product_class}-{self.serial_number}"
        return f"{self.oui}-{self.serial_number}"


class EventStruct(NamedTuple):
    """One event of an Inform: its code and the command key of the RPC it reports on."""

    code: str
    command_key: str = ""


class ParameterValue(NamedTuple):
    """One ParameterValueStruct: a name, its value as wire text and its ``xsd:`` type."""

    name: str
    value: str
    type: str = XSD_STRING

    @classmethod
    def of(cls, name: str, value: Any) -> ParameterValue:
        """A value from a Python value, with the ``xsd:`` type inferred (bool, int, datetime, bytes, str)."""
        if isinstance(value, bool):
            return cls(name, "true" if value else "false", XSD_BOOLEAN)
        if isinstance(value, int):
            return cls(name, str(value), XSD_UNSIGNED_INT if value >= 0 else XSD_INT)
        if isinstance(value, datetime):
            return cls(name, format_time(value), XSD_DATETIME)
        if isinstance(value, bytes):
            return cls(name, base64.b64encode(value).decode("ascii"), XSD_BASE64)
        return cls(name, "" if value is None else str(value), XSD_STRING)

    def typed(self) -> Any:
        """The value as a Python value by its type (text when it does not parse)."""
        kind = self.type
        if kind in _INT_TYPES:
            try:
                return int(self.value.strip())
            except ValueError:
                return self.value
        if kind == XSD_BOOLEAN:
            flag = parse_bool(self.value)
            return self.value if flag is None else flag
        if kind == XSD_DATETIME:
            return parse_time(self.value)
        return self.value


class ParameterInfo(NamedTuple):
    """One ParameterInfoStruct of GetParameterNamesResponse."""

    name: str
    writable: bool


class ParameterAttribute(NamedTuple):
    """One ParameterAttributeStruct of GetParameterAttributesResponse (notification 0–6)."""

    name: str
    notification: int
    access_list: tuple[str, ...] = ()


class SetParameterAttribute(NamedTuple):
    """One SetParameterAttributesStruct."""

    name: str
    notification_change: bool
    notification: int
    access_list_change: bool = False
    access_list: tuple[str, ...] = ()


class SetParameterFault(NamedTuple):
    """One SetParameterValuesFault: which parameter failed, with its fault code and text."""

    name: str
    code: int
    string: str = ""


_NO_DEVICE = DeviceId("", "", "", "")

# --- messages -------------------------------------------------------------------------


@dataclass(slots=True)
class Message:
    """Base of every CWMP message (a SOAP body element)."""

    METHOD: ClassVar[str] = ""
    RESPONSE: ClassVar[type[Message] | None] = None  # set on requests
    FROM_CPE: ClassVar[bool] = False  # True: a request the CPE sends to the ACS

    @property
    def method(self) -> str:
        """The RPC name."""
        return self.METHOD

    @property
    def is_request(self) -> bool:
        """Whether this message is a request (it expects a response)."""
        return self.RESPONSE is not None


# CPE → ACS requests and their ACS responses


@dataclass(slots=True)
class InformResponse(Message):
    """The ACS's answer to Inform; Beskontakt always says MaxEnvelopes=1."""

    METHOD: ClassVar[str] = "InformResponse"
    max_envelopes: int = 1


@dataclass(slots=True)
class Inform(Message):
    """The CPE opens every session with Inform: who it is, why it calls, and some values."""

    METHOD: ClassVar[str] = "Inform"
    RESPONSE: ClassVar[type[Message] | None] = InformResponse
    FROM_CPE: ClassVar[bool] = True
    device: DeviceId = _NO_DEVICE
    events: list[EventStruct] = field(default_factory=list)
    max_envelopes: int = 1
    current_time: datetime | None = None
    retry_count: int = 0
    parameters: list[ParameterValue] = field(default_factory=list)

    @property
    def event_codes(self) -> list[str]:
        """The event codes alone."""
        return [event.code for event in self.events]

    def has_event(self, code: str) -> bool:
        """Whether the Inform carries this event code."""
        return any(event.code == code for event in self.events)

    def parameter(self, name: str) -> str | None:
        """The value of one parameter of the ParameterList, or None."""
        for item in self.parameters:
            if item.name == name:
                return item.value
        return None


@dataclass(slots=True)
class TransferCompleteResponse(Message):
    """The ACS acknowledges TransferComplete."""

    METHOD: ClassVar[str] = "TransferCompleteResponse"


@dataclass(slots=True)
class TransferComplete(Message):
    """The CPE reports the end of a Download/Upload the ACS asked for (fault_code 0: success)."""

    METHOD: ClassVar[str] = "TransferComplete"
    RESPONSE: ClassVar[type[Message] | None] = TransferCompleteResponse
    FROM_CPE: ClassVar[bool] = True
    command_key: str = ""
    fault_code: int = 0
    fault_string: str = ""
    start_time: datetime | None = None
    complete_time: datetime | None = None


@dataclass(slots=True)
class AutonomousTransferCompleteResponse(Message):
    """The ACS acknowledges AutonomousTransferComplete."""

    METHOD: ClassVar[str] = "AutonomousTransferCompleteResponse"


@dataclass(slots=True)
class AutonomousTransferComplete(Message):
    """The CPE reports a transfer it started by itself (not asked for by this ACS)."""

    METHOD: ClassVar[str] = "AutonomousTransferComplete"
    RESPONSE: ClassVar[type[Message] | None] = AutonomousTransferCompleteResponse
    FROM_CPE: ClassVar[bool] = True
    announce_url: str = ""
    transfer_url: str = ""
    is_download: bool = True
    file_type: str = ""
    file_size: int = 0
    target_file_name: str = ""
    fault_code: int = 0
    fault_string: str = ""
    start_time: datetime | None = None
    complete_time: datetime | None = None


@dataclass(slots=True)
class GetRPCMethodsResponse(Message):
    """The methods the answering side supports."""

    METHOD: ClassVar[str] = "GetRPCMethodsResponse"
    methods: list[str] = field(default_factory=list)


@dataclass(slots=True)
class GetRPCMethods(Message):
    """Either side asks which methods the other supports (the only RPC both may send)."""

    METHOD: ClassVar[str] = "GetRPCMethods"
    RESPONSE: ClassVar[type[Message] | None] = GetRPCMethodsResponse
    FROM_CPE: ClassVar[bool] = True


@dataclass(slots=True)
class KickedResponse(Message):
    """The ACS's answer to Kicked (Beskontakt does not support Kicked; it answers 8000)."""

    METHOD: ClassVar[str] = "KickedResponse"
    next_url: str = ""


@dataclass(slots=True)
class Kicked(Message):
    """A web-page "kick" the CPE forwards (optional in TR-069; refused here)."""

    METHOD: ClassVar[str] = "Kicked"
    RESPONSE: ClassVar[type[Message] | None] = KickedResponse
    FROM_CPE: ClassVar[bool] = True
    command: str = ""
    referer: str = ""
    arg: str = ""
    next_url: str = ""


@dataclass(slots=True)
class RequestDownloadResponse(Message):
    """The ACS's answer to RequestDownload."""

    METHOD: ClassVar[str] = "RequestDownloadResponse"


@dataclass(slots=True)
class RequestDownload(Message):
    """The CPE asks for a file of some type (optional in TR-069)."""

    METHOD: ClassVar[str] = "RequestDownload"
    RESPONSE: ClassVar[type[Message] | None] = RequestDownloadResponse
    FROM_CPE: ClassVar[bool] = True
    file_type: str = ""
    arguments: list[tuple[str, str]] = field(default_factory=list)


# ACS → CPE requests and the CPE's responses


@dataclass(slots=True)
class GetParameterNamesResponse(Message):
    """Names under a path, each with whether it is writable."""

    METHOD: ClassVar[str] = "GetParameterNamesResponse"
    parameters: list[ParameterInfo] = field(default_factory=list)


@dataclass(slots=True)
class GetParameterNames(Message):
    """Discover the data model under ``parameter_path`` (``next_level``: one level only)."""

    METHOD: ClassVar[str] = "GetParameterNames"
    RESPONSE: ClassVar[type[Message] | None] = GetParameterNamesResponse
    parameter_path: str = ""
    next_level: bool = False


@dataclass(slots=True)
class GetParameterValuesResponse(Message):
    """The values asked for (partial paths expand to every parameter below)."""

    METHOD: ClassVar[str] = "GetParameterValuesResponse"
    parameters: list[ParameterValue] = field(default_factory=list)


@dataclass(slots=True)
class GetParameterValues(Message):
    """Read parameters (full names or partial paths ending in ``.``)."""

    METHOD: ClassVar[str] = "GetParameterValues"
    RESPONSE: ClassVar[type[Message] | None] = GetParameterValuesResponse
    names: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SetParameterValuesResponse(Message):
    """Status 0: applied; 1: applied but takes effect only after a reboot (or similar)."""

    METHOD: ClassVar[str] = "SetParameterValuesResponse"
    status: int = 0


@dataclass(slots=True)
class SetParameterValues(Message):
    """Write parameters atomically; ``parameter_key`` lands in ``ManagementServer.ParameterKey``."""

    METHOD: ClassVar[str] = "SetParameterValues"
    RESPONSE: ClassVar[type[Message] | None] = SetParameterValuesResponse
    values: list[ParameterValue] = field(default_factory=list)
    parameter_key: str = ""


@dataclass(slots=True)
class GetParameterAttributesResponse(Message):
    """Notification and access-list attributes of the parameters asked for."""

    METHOD: ClassVar[str] = "GetParameterAttributesResponse"
    attributes: list[ParameterAttribute] = field(default_factory=list)


@dataclass(slots=True)
class GetParameterAttributes(Message):
    """Read notification/access-list attributes."""

    METHOD: ClassVar[str] = "GetParameterAttributes"
    RESPONSE: ClassVar[type[Message] | None] = GetParameterAttributesResponse
    names: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SetParameterAttributesResponse(Message):
    """The CPE applied the attributes."""

    METHOD: ClassVar[str] = "SetParameterAttributesResponse"


@dataclass(slots=True)
class SetParameterAttributes(Message):
    """Change notification (passive/active) and access lists."""

    METHOD: ClassVar[str] = "SetParameterAttributes"
    RESPONSE: ClassVar[type[Message] | None] = SetParameterAttributesResponse
    attributes: list[SetParameterAttribute] = field(default_factory=list)


@dataclass(slots=True)
class AddObjectResponse(Message):
    """The new instance's number; status 1: applied after a reboot."""

    METHOD: ClassVar[str] = "AddObjectResponse"
    instance_number: int = 0
    status: int = 0


@dataclass(slots=True)
class AddObject(Message):
    """Create an instance of a multi-instance object (``object_name`` ends with ``.``)."""

    METHOD: ClassVar[str] = "AddObject"
    RESPONSE: ClassVar[type[Message] | None] = AddObjectResponse
    object_name: str = ""
    parameter_key: str = ""


@dataclass(slots=True)
class DeleteObjectResponse(Message):
    """Status 1: applied after a reboot."""

    METHOD: ClassVar[str] = "DeleteObjectResponse"
    status: int = 0


@dataclass(slots=True)
class DeleteObject(Message):
    """Remove one instance (``object_name`` like ``Device.WiFi.SSID.3.``)."""

    METHOD: ClassVar[str] = "DeleteObject"
    RESPONSE: ClassVar[type[Message] | None] = DeleteObjectResponse
    object_name: str = ""
    parameter_key: str = ""


@dataclass(slots=True)
class RebootResponse(Message):
    """The CPE will reboot once the session ends (then informs ``M Reboot`` + ``1 BOOT``)."""

    METHOD: ClassVar[str] = "RebootResponse"


@dataclass(slots=True)
class Reboot(Message):
    """Reboot the CPE after the session; ``command_key`` comes back with the ``M Reboot`` event."""

    METHOD: ClassVar[str] = "Reboot"
    RESPONSE: ClassVar[type[Message] | None] = RebootResponse
    command_key: str = ""


@dataclass(slots=True)
class FactoryResetResponse(Message):
    """The CPE will reset after the session (then informs ``0 BOOTSTRAP``)."""

    METHOD: ClassVar[str] = "FactoryResetResponse"


@dataclass(slots=True)
class FactoryReset(Message):
    """Reset the CPE to its factory settings."""

    METHOD: ClassVar[str] = "FactoryReset"
    RESPONSE: ClassVar[type[Message] | None] = FactoryResetResponse


@dataclass(slots=True)
class DownloadResponse(Message):
    """Status 0: done (times given); 1: not finished yet, TransferComplete follows later."""

    METHOD: ClassVar[str] = "DownloadResponse"
    status: int = 1
    start_time: datetime | None = None
    complete_time: datetime | None = None


@dataclass(slots=True)
class Download(Message):
    """Make the CPE fetch a file (firmware, configuration …) from ``url``."""

    METHOD: ClassVar[str] = "Download"
    RESPONSE: ClassVar[type[Message] | None] = DownloadResponse
    command_key: str = ""
    file_type: str = FILE_FIRMWARE
    url: str = ""
    username: str = ""
    password: str = ""
    file_size: int = 0
    target_file_name: str = ""
    delay_seconds: int = 0
    success_url: str = ""
    failure_url: str = ""


@dataclass(slots=True)
class ScheduleInformResponse(Message):
    """The CPE will inform again after the delay."""

    METHOD: ClassVar[str] = "ScheduleInformResponse"


@dataclass(slots=True)
class ScheduleInform(Message):
    """Ask for one Inform (event ``3 SCHEDULED`` + ``M ScheduleInform``) after ``delay_seconds``."""

    METHOD: ClassVar[str] = "ScheduleInform"
    RESPONSE: ClassVar[type[Message] | None] = ScheduleInformResponse
    delay_seconds: int = 0
    command_key: str = ""


# Faults and anything unknown


@dataclass(slots=True)
class Fault(Message):
    """A SOAP fault with its CWMP detail, either side; per-parameter faults for SetParameterValues."""

    METHOD: ClassVar[str] = "Fault"
    code: int = 0
    string: str = ""
    set_parameter_faults: list[SetParameterFault] = field(default_factory=list)
    soap_code: str = ""  # "Client"/"Server" as received; chosen by code when rendering


@dataclass(slots=True)
class UnknownMessage(Message):
    """A body element this module does not know (a vendor RPC, Upload, …): kept by name."""

    name: str = ""

    @property
    def method(self) -> str:
        """The element name received."""
        return self.name


REQUESTS_FROM_ACS: tuple[type[Message], ...] = (
    GetRPCMethods,
    GetParameterNames,
    GetParameterValues,
    SetParameterValues,
    GetParameterAttributes,
    SetParameterAttributes,
    AddObject,
    DeleteObject,
    Reboot,
    FactoryReset,
    Download,
    ScheduleInform,
)
REQUESTS_FROM_CPE: tuple[type[Message], ...] = (
    Inform,
    TransferComplete,
    AutonomousTransferComplete,
    GetRPCMethods,
    Kicked,
    RequestDownload,
)

# The methods the ACS answers (its GetRPCMethodsResponse).
ACS_METHODS: tuple[str, ...] = ("Inform", "GetRPCMethods", "TransferComplete", "AutonomousTransferComplete")


def _all_classes() -> dict[str, type[Message]]:
    # From the module's names: ``dataclass(slots=True)`` replaces each class, so
    # ``__subclasses__()`` would also list the discarded originals.
    return {
        value.METHOD: value
        for value in globals().values()
        if isinstance(value, type) and issubclass(value, Message) and value.METHOD
    }


MESSAGE_CLASSES: dict[str, type[Message]] = _all_classes()
