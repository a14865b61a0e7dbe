"""The SOAP envelope of CWMP: ``parse()`` bytes into an ``Envelope``, ``render()`` a message to bytes.

Tolerant in:

* any namespace prefixes (``SOAP-ENV``, ``soapenv``, ``s`` …), elements matched by local
  name, case-insensitively; body children with or without the cwmp namespace;
* ``urn:dslforum-org:cwmp-1-0`` to ``cwmp-1-4`` (the version is reported in ``Envelope.version``);
* SOAP-ENC arrays with or without ``arrayType`` (and a wrong count), any item element name;
* whitespace around names, numbers and booleans; booleans as ``0``/``1``/``true``/``false``;
* missing optional fields (their defaults), unknown header entries and body methods
  (``UnknownMessage``, the session answers 8000).

Strict out: one namespace set (``soap-env``, ``soap-enc``, ``xsd``, ``xsi``, ``cwmp``),
``xsi:type`` on every value, ``soap-enc:arrayType`` on every array, UTF-8 with a declaration.

Hostile input is refused before lxml sees it: any ``<!DOCTYPE``/``<!ENTITY`` (so no XXE,
no billion laughs, no external DTD), NUL bytes (UTF-16/32 smuggling), bodies over
``max_bytes``. lxml itself runs with entity resolution, DTD loading and network access
off and ``huge_tree`` off. Every problem raises ``CwmpError(fault_code, message)``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from beskontakt.cpe.cwmp import faults
from beskontakt.cpe.cwmp import messages as m

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CWMP_PREFIX = "urn:dslforum-org:cwmp-"
VERSIONS: tuple[str, ...] = ("1-0", "1-1", "1-2", "1-3", "1-4")
LATEST = "1-4"
DEFAULT_MAX_BYTES = 256_000

_XSI_TYPE = f"{{{XSI}}}type"
_ARRAY_TYPE = f"{{{SOAP_ENC}}}arrayType"
_MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"
# "<!" that does not open a comment or CDATA: DOCTYPE, ENTITY, ELEMENT, ATTLIST, NOTATION …
_DECLARATION = re.compile(rb"<!(?!--|\[CDATA\[)")


class CwmpError(Exception):
    """A CWMP-level problem with a fault code (8002 internal, 8003 invalid arguments, 8004 too big …)."""

    def __init__(self, fault_code: int, message: str) -> None:
        super().__init__(message)
        self.fault_code = fault_code
        self.message = message

    def to_fault(self) -> m.Fault:
        """The SOAP fault that reports this error."""
        return m.Fault(code=self.fault_code, string=self.message)

    def __repr__(self) -> str:
        return f"CwmpError({self.fault_code}, {self.message!r})"


@dataclass(slots=True)
class Envelope:
    """One parsed SOAP envelope: header fields and the body message (None: an empty POST)."""

    message: m.Message | None
    cwmp_id: str | None = None
    hold_requests: bool | None = None  # None: no such header
    no_more_requests: bool = False
    version: str = "1-0"
    session_timeout: int | None = None
    supported_versions: str | None = None
    use_version: str | None = None


# --- parsing ------------------------------------------------------------------------

_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def _name(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].lower()


def _items(element: etree._Element) -> Iterator[etree._Element]:
    for child in element:
        if isinstance(child.tag, str):
            yield child


class _Fields:
    """The child elements of one struct, by lower-case local name."""

    __slots__ = ("children", "where")

    def __init__(self, element: etree._Element, where: str) -> None:
        self.children = {_name(child): child for child in _items(element)}
        self.where = where

    def element(self, name: str) -> etree._Element | None:
        return self.children.get(name.lower())

    def required(self, name: str) -> etree._Element:
        child = self.children.get(name.lower())
        if child is None:
            raise CwmpError(faults.INVALID_ARGUMENTS, f"{self.where}: {name} is missing")
        return child

    def text(self, name: str, default: str = "") -> str:
        child = self.children.get(name.lower())
        if child is None or child.text is None:
            return default
        return child.text

    def name(self, name: str) -> str:
        return self.text(name).strip()

    def integer(self, name: str, default: int = 0) -> int:
        child = self.children.get(name.lower())
        if child is None:
            return default
        text = (child.text or "").strip()
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            raise CwmpError(faults.INVALID_ARGUMENTS, f"{self.where}: {name} is not an integer") from None

    def boolean(self, name: str, default: bool = False) -> bool:
        child = self.children.get(name.lower())
        if child is None:
            return default
        text = (child.text or "").strip()
        if not text:
            return default
        flag = m.parse_bool(text)
        if flag is None:
            raise CwmpError(faults.INVALID_ARGUMENTS, f"{self.where}: {name} is not a boolean")
        return flag

    def time(self, name: str) -> m.datetime | None:
        return m.parse_time(self.text(name))

    def array(self, name: str) -> list[etree._Element]:
        child = self.children.get(name.lower())
        if child is None:
            return []
        return list(_items(child))

    def strings(self, name: str) -> list[str]:
        return [(item.text or "").strip() for item in self.array(name)]


def _value_type(element: etree._Element) -> str:
    declared = element.get(_XSI_TYPE)
    if declared is None:
        for key, value in element.attrib.items():  # xsi:type under an odd namespace or none
            if str(key).rpartition("}")[2] == "type":
                declared = str(value)
                break
    if not declared:
        return m.XSD_STRING
    return "xsd:" + declared.rpartition(":")[2]


def _parameter_values(fields: _Fields, name: str) -> list[m.ParameterValue]:
    values = []
    for item in fields.array(name):
        struct = _Fields(item, "ParameterValueStruct")
        value = struct.element("Value")
        text = "" if value is None or value.text is None else value.text
        kind = m.XSD_STRING if value is None else _value_type(value)
        values.append(m.ParameterValue(struct.name("Name"), text, kind))
    return values


def _fault_struct(fields: _Fields) -> tuple[int, str]:
    struct = fields.element("FaultStruct")
    if struct is None:
        return 0, ""
    inner = _Fields(struct, "FaultStruct")
    return inner.integer("FaultCode"), inner.text("FaultString")


def _p_inform(f: _Fields) -> m.Message:
    device = _Fields(f.required("DeviceId"), "DeviceId")
    serial = device.name("SerialNumber")
    if not serial:
        raise CwmpError(faults.INVALID_ARGUMENTS, "Inform: DeviceId has no SerialNumber")
    events = []
    for item in f.array("Event"):
        event = _Fields(item, "EventStruct")
        events.append(m.EventStruct(event.name("EventCode"), event.text("CommandKey")))
    return m.Inform(
        device=m.DeviceId(device.name("Manufacturer"), device.name("OUI"), device.name("ProductClass"), serial),
        events=events,
        max_envelopes=f.integer("MaxEnvelopes", 1),
        current_time=f.time("CurrentTime"),
        retry_count=f.integer("RetryCount"),
        parameters=_parameter_values(f, "ParameterList"),
    )


def _p_transfer_complete(f: _Fields) -> m.Message:
    code, string = _fault_struct(f)
    return m.TransferComplete(
        command_key=f.text("CommandKey"),
        fault_code=code,
        fault_string=string,
        start_time=f.time("StartTime"),
        complete_time=f.time("CompleteTime"),
    )


def _p_autonomous_transfer_complete(f: _Fields) -> m.Message:
    code, string = _fault_struct(f)
    return m.AutonomousTransferComplete(
        announce_url=f.name("AnnounceURL"),
        transfer_url=f.name("TransferURL"),
        is_download=f.boolean("IsDownload", True),
        file_type=f.name("FileType"),
        file_size=f.integer("FileSize"),
        target_file_name=f.text("TargetFileName"),
        fault_code=code,
        fault_string=string,
        start_time=f.time("StartTime"),
        complete_time=f.time("CompleteTime"),
    )


def _p_kicked(f: _Fields) -> m.Message:
    return m.Kicked(command=f.text("Command"), referer=f.text("Referer"), arg=f.text("Arg"), next_url=f.text("Next"))


def _p_request_download(f: _Fields) -> m.Message:
    arguments = []
    for item in f.array("FileTypeArg"):
        arg = _Fields(item, "ArgStruct")
        arguments.append((arg.name("Name"), arg.text("Value")))
    return m.RequestDownload(file_type=f.name("FileType"), arguments=arguments)


def _p_get_rpc_methods_response(f: _Fields) -> m.Message:
    return m.GetRPCMethodsResponse(methods=f.strings("MethodList"))


def _p_get_parameter_names(f: _Fields) -> m.Message:
    return m.GetParameterNames(parameter_path=f.name("ParameterPath"), next_level=f.boolean("NextLevel"))


def _p_get_parameter_names_response(f: _Fields) -> m.Message:
    infos = []
    for item in f.array("ParameterList"):
        struct = _Fields(item, "ParameterInfoStruct")
        infos.append(m.ParameterInfo(struct.name("Name"), struct.boolean("Writable")))
    return m.GetParameterNamesResponse(parameters=infos)


def _p_get_parameter_attributes_response(f: _Fields) -> m.Message:
    attributes = []
    for item in f.array("ParameterList"):
        struct = _Fields(item, "ParameterAttributeStruct")
        attributes.append(
            m.ParameterAttribute(
                struct.name("Name"), struct.integer("Notification"), tuple(struct.strings("AccessList"))
            )
        )
    return m.GetParameterAttributesResponse(attributes=attributes)


def _p_set_parameter_attributes(f: _Fields) -> m.Message:
    attributes = []
    for item in f.array("ParameterList"):
        struct = _Fields(item, "SetParameterAttributesStruct")
        attributes.append(
            m.SetParameterAttribute(
                struct.name("Name"),
                struct.boolean("NotificationChange"),
                struct.integer("Notification"),
                struct.boolean("AccessListChange"),
                tuple(struct.strings("AccessList")),
            )
        )
    return m.SetParameterAttributes(attributes=attributes)


def _p_download(f: _Fields) -> m.Message:
    return m.Download(
        command_key=f.text("CommandKey"),
        file_type=f.name("FileType"),
        url=f.name("URL"),
        username=f.text("Username"),
        password=f.text("Password"),
        file_size=f.integer("FileSize"),
        target_file_name=f.text("TargetFileName"),
        delay_seconds=f.integer("DelaySeconds"),
        success_url=f.name("SuccessURL"),
        failure_url=f.name("FailureURL"),
    )


def _p_fault(f: _Fields) -> m.Message:
    soap_code = f.name("faultcode").rpartition(":")[2]
    fault = m.Fault(code=0, string=f.text("faultstring"), soap_code=soap_code)
    detail = f.element("detail")
    if detail is None:
        return fault
    for inner in _items(detail):
        if _name(inner) != "fault":
            continue
        cwmp = _Fields(inner, "Fault")
        fault.code = cwmp.integer("FaultCode")
        fault.string = cwmp.text("FaultString")
        for child in _items(inner):
            if _name(child) == "setparametervaluesfault":
                item = _Fields(child, "SetParameterValuesFault")
                fault.set_parameter_faults.append(
                    m.SetParameterFault(item.name("ParameterName"), item.integer("FaultCode"), item.text("FaultString"))
                )
        break
    return fault


_PARSERS: dict[str, Callable[[_Fields], m.Message]] = {
    "inform": _p_inform,
    "informresponse": lambda f: m.InformResponse(max_envelopes=f.integer("MaxEnvelopes", 1)),
    "transfercomplete": _p_transfer_complete,
    "transfercompleteresponse": lambda f: m.TransferCompleteResponse(),
    "autonomoustransfercomplete": _p_autonomous_transfer_complete,
    "autonomoustransfercompleteresponse": lambda f: m.AutonomousTransferCompleteResponse(),
    "getrpcmethods": lambda f: m.GetRPCMethods(),
    "getrpcmethodsresponse": _p_get_rpc_methods_response,
    "kicked": _p_kicked,
    "kickedresponse": lambda f: m.KickedResponse(next_url=f.text("NextURL")),
    "requestdownload": _p_request_download,
    "requestdownloadresponse": lambda f: m.RequestDownloadResponse(),
    "getparameternames": _p_get_parameter_names,
    "getparameternamesresponse": _p_get_parameter_names_response,
    "getparametervalues": lambda f: m.GetParameterValues(names=f.strings("ParameterNames")),
    "getparametervaluesresponse": lambda f: m.GetParameterValuesResponse(
        parameters=_parameter_values(f, "ParameterList")
    ),
    "setparametervalues": lambda f: m.SetParameterValues(
        values=_parameter_values(f, "ParameterList"), parameter_key=f.text("ParameterKey")
    ),
    "setparametervaluesresponse": lambda f: m.SetParameterValuesResponse(status=f.integer("Status")),
    "getparameterattributes": lambda f: m.GetParameterAttributes(names=f.strings("ParameterNames")),
    "getparameterattributesresponse": _p_get_parameter_attributes_response,
    "setparameterattributes": _p_set_parameter_attributes,
    "setparameterattributesresponse": lambda f: m.SetParameterAttributesResponse(),
    "addobject": lambda f: m.AddObject(object_name=f.name("ObjectName"), parameter_key=f.text("ParameterKey")),
    "addobjectresponse": lambda f: m.AddObjectResponse(
        instance_number=f.integer("InstanceNumber"), status=f.integer("Status")
    ),
    "deleteobject": lambda f: m.DeleteObject(object_name=f.name("ObjectName"), parameter_key=f.text("ParameterKey")),
    "deleteobjectresponse": lambda f: m.DeleteObjectResponse(status=f.integer("Status")),
    "reboot": lambda f: m.Reboot(command_key=f.text("CommandKey")),
    "rebootresponse": lambda f: m.RebootResponse(),
    "factoryreset": lambda f: m.FactoryReset(),
    "factoryresetresponse": lambda f: m.FactoryResetResponse(),
    "download": _p_download,
    "downloadresponse": lambda f: m.DownloadResponse(
        status=f.integer("Status"), start_time=f.time("StartTime"), complete_time=f.time("CompleteTime")
    ),
    "scheduleinform": lambda f: m.ScheduleInform(
        delay_seconds=f.integer("DelaySeconds"), command_key=f.text("CommandKey")
    ),
    "scheduleinformresponse": lambda f: m.ScheduleInformResponse(),
    "fault": _p_fault,
}


def _version_of(root: etree._Element, body_child: etree._Element | None) -> str:
    candidates: list[str] = []
    if body_child is not None and isinstance(body_child.tag, str) and body_child.tag.startswith("{"):
        candidates.append(body_child.tag[1:].partition("}")[0])
    candidates.extend(uri for uri in root.nsmap.values() if uri)
    for uri in candidates:
        if uri.startswith(CWMP_PREFIX):
            return uri[len(CWMP_PREFIX) :]
    return "1-0"


def parse(body: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Parse one HTTP body; an empty (or blank) body is the empty POST: ``Envelope(None)``.

    Raises ``CwmpError`` — 8004 when the body is over ``max_bytes``, 8003 when it is not
    well-formed, declares a DOCTYPE/entity, or is not a SOAP envelope with a known shape.
    """
    if len(body) > max_bytes:
        raise CwmpError(faults.RESOURCES_EXCEEDED, f"envelope larger than {max_bytes} bytes")
    if not body.strip():
        return Envelope(None)
    if b"\x00" in body:
        raise CwmpError(faults.INVALID_ARGUMENTS, "envelope is not UTF-8 text")
    if _DECLARATION.search(body):
        raise CwmpError(faults.INVALID_ARGUMENTS, "DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise CwmpError(faults.INVALID_ARGUMENTS, f"malformed XML: {exc.msg}") from None
    except (ValueError, etree.LxmlError) as exc:  # e.g. an unknown encoding declaration
        raise CwmpError(faults.INVALID_ARGUMENTS, f"unreadable XML: {exc}") from None
    tree = root.getroottree()
    docinfo: Any = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CwmpError(faults.INVALID_ARGUMENTS, "DOCTYPE and entity declarations are not allowed")
    if _name(root) != "envelope":
        raise CwmpError(faults.INVALID_ARGUMENTS, "not a SOAP envelope")
    header = body_element = None
    for child in _items(root):
        kind = _name(child)
        if kind == "header":
            header = child
        elif kind == "body":
            body_element = child
    if body_element is None:
        raise CwmpError(faults.INVALID_ARGUMENTS, "SOAP envelope without a Body")
    method = next(_items(body_element), None)
    envelope = Envelope(None, version=_version_of(root, method))
    if header is not None:
        _read_header(header, envelope)
    if method is None:
        return envelope  # an empty Body: as good as an empty POST
    name = _name(method)
    parser = _PARSERS.get(name)
    if parser is None:
        envelope.message = m.UnknownMessage(name=method.tag.rpartition("}")[2] if isinstance(method.tag, str) else "")
        return envelope
    local_name = method.tag.rpartition("}")[2]
    envelope.message = parser(_Fields(method, local_name))
    return envelope


def _read_header(header: etree._Element, envelope: Envelope) -> None:
    for entry in _items(header):
        kind = _name(entry)
        text = (entry.text or "").strip()
        if kind == "id":
            envelope.cwmp_id = entry.text or ""
        elif kind == "holdrequests":
            envelope.hold_requests = bool(m.parse_bool(text))
        elif kind == "nomorerequests":
            envelope.no_more_requests = bool(m.parse_bool(text))
        elif kind == "sessiontimeout":
            envelope.session_timeout = int(text) if text.isdigit() else None
        elif kind == "supportedcwmpversions":
            envelope.supported_versions = text
        elif kind == "usecwmpversion":
            envelope.use_version = text


# --- rendering ------------------------------------------------------------------------

_NSMAPS: dict[str, dict[str, str]] = {
    version: {"soap-env": SOAP_ENV, "soap-enc": SOAP_ENC, "xsd": XSD, "xsi": XSI, "cwmp": CWMP_PREFIX + version}
    for version in VERSIONS
}


def render_version(version: str) -> str:
    """The version to answer in: the peer's when this module knows it, else the latest."""
    return version if version in _NSMAPS else LATEST


class _Out:
    """A tiny builder bound to one namespace set."""

    __slots__ = ("cwmp",)

    def __init__(self, cwmp: str) -> None:
        self.cwmp = cwmp

    @staticmethod
    def text(parent: etree._Element, name: str, value: str) -> etree._Element:
        child = etree.SubElement(parent, name)
        child.text = value
        return child

    def array(self, parent: etree._Element, name: str, item_type: str, count: int) -> etree._Element:
        child = etree.SubElement(parent, name)
        child.set(_ARRAY_TYPE, f"{item_type}[{count}]")
        return child

    def strings(self, parent: etree._Element, name: str, values: list[str] | tuple[str, ...]) -> None:
        array = self.array(parent, name, "xsd:string", len(values))
        for value in values:
            self.text(array, "string", value)

    def values(self, parent: etree._Element, name: str, values: list[m.ParameterValue]) -> None:
        array = self.array(parent, name, "cwmp:ParameterValueStruct", len(values))
        for item in values:
            struct = etree.SubElement(array, "ParameterValueStruct")
            self.text(struct, "Name", item.name)
            value = self.text(struct, "Value", item.value)
            value.set(_XSI_TYPE, item.type if ":" in item.type else "xsd:" + item.type)

    def fault_struct(self, parent: etree._Element, code: int, string: str) -> None:
        struct = etree.SubElement(parent, "FaultStruct")
        self.text(struct, "FaultCode", str(code))
        self.text(struct, "FaultString", string)


def _b(flag: bool) -> str:
    return "1" if flag else "0"


def _r_inform(o: _Out, el: etree._Element, msg: m.Inform) -> None:
    device = etree.SubElement(el, "DeviceId")
    o.text(device, "Manufacturer", msg.device.manufacturer)
    o.text(device, "OUI", msg.device.oui)
    o.text(device, "ProductClass", msg.device.product_class)
    o.text(device, "SerialNumber", msg.device.serial_number)
    events = o.array(el, "Event", "cwmp:EventStruct", len(msg.events))
    for event in msg.events:
        struct = etree.SubElement(events, "EventStruct")
        o.text(struct, "EventCode", event.code)
        o.text(struct, "CommandKey", event.command_key)
    o.text(el, "MaxEnvelopes", str(msg.max_envelopes))
    o.text(el, "CurrentTime", m.format_time(msg.current_time))
    o.text(el, "RetryCount", str(msg.retry_count))
    o.values(el, "ParameterList", msg.parameters)


def _r_transfer_complete(o: _Out, el: etree._Element, msg: m.TransferComplete) -> None:
    o.text(el, "CommandKey", msg.command_key)
    o.fault_struct(el, msg.fault_code, msg.fault_string)
    o.text(el, "StartTime", m.format_time(msg.start_time))
    o.text(el, "CompleteTime", m.format_time(msg.complete_time))


def _r_autonomous_transfer_complete(o: _Out, el: etree._Element, msg: m.AutonomousTransferComplete) -> None:
    o.text(el, "AnnounceURL", msg.announce_url)
    o.text(el, "TransferURL", msg.transfer_url)
    o.text(el, "IsDownload", _b(msg.is_download))
    o.text(el, "FileType", msg.file_type)
    o.text(el, "FileSize", str(msg.file_size))
    o.text(el, "TargetFileName", msg.target_file_name)
    o.fault_struct(el, msg.fault_code, msg.fault_string)
    o.text(el, "StartTime", m.format_time(msg.start_time))
    o.text(el, "CompleteTime", m.format_time(msg.complete_time))


def _r_kicked(o: _Out, el: etree._Element, msg: m.Kicked) -> None:
    o.text(el, "Command", msg.command)
    o.text(el, "Referer", msg.referer)
    o.text(el, "Arg", msg.arg)
    o.text(el, "Next", msg.next_url)


def _r_request_download(o: _Out, el: etree._Element, msg: m.RequestDownload) -> None:
    o.text(el, "FileType", msg.file_type)
    array = o.array(el, "FileTypeArg", "cwmp:ArgStruct", len(msg.arguments))
    for name, value in msg.arguments:
        struct = etree.SubElement(array, "ArgStruct")
        o.text(struct, "Name", name)
        o.text(struct, "Value", value)


def _r_get_parameter_names_response(o: _Out, el: etree._Element, msg: m.GetParameterNamesResponse) -> None:
    array = o.array(el, "ParameterList", "cwmp:ParameterInfoStruct", len(msg.parameters))
    for info in msg.parameters:
        struct = etree.SubElement(array, "ParameterInfoStruct")
        o.text(struct, "Name", info.name)
        o.text(struct, "Writable", _b(info.writable))


def _r_get_parameter_attributes_response(o: _Out, el: etree._Element, msg: m.GetParameterAttributesResponse) -> None:
    array = o.array(el, "ParameterList", "cwmp:ParameterAttributeStruct", len(msg.attributes))
    for attribute in msg.attributes:
        struct = etree.SubElement(array, "ParameterAttributeStruct")
        o.text(struct, "Name", attribute.name)
        o.text(struct, "Notification", str(attribute.notification))
        o.strings(struct, "AccessList", attribute.access_list)


def _r_set_parameter_attributes(o: _Out, el: etree._Element, msg: m.SetParameterAttributes) -> None:
    array = o.array(el, "ParameterList", "cwmp:SetParameterAttributesStruct", len(msg.attributes))
    for attribute in msg.attributes:
        struct = etree.SubElement(array, "SetParameterAttributesStruct")
        o.text(struct, "Name", attribute.name)
        o.text(struct, "NotificationChange", _b(attribute.notification_change))
        o.text(struct, "Notification", str(attribute.notification))
        o.text(struct, "AccessListChange", _b(attribute.access_list_change))
        o.strings(struct, "AccessList", attribute.access_list)


def _r_download(o: _Out, el: etree._Element, msg: m.Download) -> None:
    o.text(el, "CommandKey", msg.command_key)
    o.text(el, "FileType", msg.file_type)
    o.text(el, "URL", msg.url)
    o.text(el, "Username", msg.username)
    o.text(el, "Password", msg.password)
    o.text(el, "FileSize", str(msg.file_size))
    o.text(el, "TargetFileName", msg.target_file_name)
    o.text(el, "DelaySeconds", str(msg.delay_seconds))
    o.text(el, "SuccessURL", msg.success_url)
    o.text(el, "FailureURL", msg.failure_url)


def _r_download_response(o: _Out, el: etree._Element, msg: m.DownloadResponse) -> None:
    o.text(el, "Status", str(msg.status))
    o.text(el, "StartTime", m.format_time(msg.start_time))
    o.text(el, "CompleteTime", m.format_time(msg.complete_time))


def _r_nothing(o: _Out, el: etree._Element, msg: m.Message) -> None:
    return None


_Renderer = Callable[["_Out", etree._Element, m.Message], None]


def _fields(*spec: tuple[str, str]) -> _Renderer:
    """A renderer writing simple fields in order: (element name, attribute); bools as 0/1."""

    def write(o: _Out, el: etree._Element, msg: m.Message) -> None:
        for element, attribute in spec:
            value = getattr(msg, attribute)
            if isinstance(value, bool):
                text = _b(value)
            elif isinstance(value, int):
                text = str(value)
            else:
                text = value
            o.text(el, element, text)

    return write


def _r_method_list(o: _Out, el: etree._Element, msg: m.Message) -> None:
    o.strings(el, "MethodList", msg.methods)  # type: ignore[attr-defined]


def _r_parameter_names(o: _Out, el: etree._Element, msg: m.Message) -> None:
    o.strings(el, "ParameterNames", msg.names)  # type: ignore[attr-defined]


def _r_parameter_list(o: _Out, el: etree._Element, msg: m.Message) -> None:
    o.values(el, "ParameterList", msg.parameters)  # type: ignore[attr-defined]


def _r_set_parameter_values(o: _Out, el: etree._Element, msg: m.Message) -> None:
    o.values(el, "ParameterList", msg.values)  # type: ignore[attr-defined]
    o.text(el, "ParameterKey", msg.parameter_key)  # type: ignore[attr-defined]


_RENDERERS: dict[type[m.Message], _Renderer] = {
    m.Inform: _r_inform,  # type: ignore[dict-item]
    m.InformResponse: _fields(("MaxEnvelopes", "max_envelopes")),
    m.TransferComplete: _r_transfer_complete,  # type: ignore[dict-item]
    m.TransferCompleteResponse: _r_nothing,
    m.AutonomousTransferComplete: _r_autonomous_transfer_complete,  # type: ignore[dict-item]
    m.AutonomousTransferCompleteResponse: _r_nothing,
    m.GetRPCMethods: _r_nothing,
    m.GetRPCMethodsResponse: _r_method_list,
    m.Kicked: _r_kicked,  # type: ignore[dict-item]
    m.KickedResponse: _fields(("NextURL", "next_url")),
    m.RequestDownload: _r_request_download,  # type: ignore[dict-item]
    m.RequestDownloadResponse: _r_nothing,
    m.GetParameterNames: _fields(("ParameterPath", "parameter_path"), ("NextLevel", "next_level")),
    m.GetParameterNamesResponse: _r_get_parameter_names_response,  # type: ignore[dict-item]
    m.GetParameterValues: _r_parameter_names,
    m.GetParameterValuesResponse: _r_parameter_list,
    m.SetParameterValues: _r_set_parameter_values,
    m.SetParameterValuesResponse: _fields(("Status", "status")),
    m.GetParameterAttributes: _r_parameter_names,
    m.GetParameterAttributesResponse: _r_get_parameter_attributes_response,  # type: ignore[dict-item]
    m.SetParameterAttributes: _r_set_parameter_attributes,  # type: ignore[dict-item]
    m.SetParameterAttributesResponse: _r_nothing,
    m.AddObject: _fields(("ObjectName", "object_name"), ("ParameterKey", "parameter_key")),
    m.AddObjectResponse: _fields(("InstanceNumber", "instance_number"), ("Status", "status")),
    m.DeleteObject: _fields(("ObjectName", "object_name"), ("ParameterKey", "parameter_key")),
    m.DeleteObjectResponse: _fields(("Status", "status")),
    m.Reboot: _fields(("CommandKey", "command_key")),
    m.RebootResponse: _r_nothing,
    m.FactoryReset: _r_nothing,
    m.FactoryResetResponse: _r_nothing,
    m.Download: _r_download,  # type: ignore[dict-item]
    m.DownloadResponse: _r_download_response,  # type: ignore[dict-item]
    m.ScheduleInform: _fields(("DelaySeconds", "delay_seconds"), ("CommandKey", "command_key")),
    m.ScheduleInformResponse: _r_nothing,
}


def _render_fault(o: _Out, body: etree._Element, fault: m.Fault) -> None:
    element = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    o.text(element, "faultcode", fault.soap_code or faults.soap_fault_code(fault.code))
    o.text(element, "faultstring", "CWMP fault")
    detail = etree.SubElement(element, "detail")
    cwmp_fault = etree.SubElement(detail, f"{{{o.cwmp}}}Fault")
    o.text(cwmp_fault, "FaultCode", str(fault.code))
    o.text(cwmp_fault, "FaultString", fault.string or faults.fault_name(fault.code))
    for item in fault.set_parameter_faults:
        struct = etree.SubElement(cwmp_fault, "SetParameterValuesFault")
        o.text(struct, "ParameterName", item.name)
        o.text(struct, "FaultCode", str(item.code))
        o.text(struct, "FaultString", item.string or faults.fault_name(item.code))


def render(
    message: m.Message | None,
    *,
    cwmp_id: str | None = None,
    version: str = LATEST,
    hold_requests: bool | None = None,
    no_more_requests: bool = False,
) -> bytes:
    """One SOAP envelope (UTF-8 bytes) carrying ``message`` (None: an envelope with an empty Body).

    Raises ``CwmpError(8003)`` when a value cannot be written as XML (control characters)
    and ``CwmpError(8002)`` for a message class this module cannot write.
    """
    version = render_version(version)
    nsmap = _NSMAPS[version]
    out = _Out(nsmap["cwmp"])
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=nsmap)
    try:
        if cwmp_id is not None or hold_requests is not None or no_more_requests:
            header = etree.SubElement(root, f"{{{SOAP_ENV}}}Header")
            if cwmp_id is not None:
                entry = etree.SubElement(header, f"{{{out.cwmp}}}ID")
                entry.set(_MUST_UNDERSTAND, "1")
                entry.text = cwmp_id
            if hold_requests is not None:
                entry = etree.SubElement(header, f"{{{out.cwmp}}}HoldRequests")
                entry.set(_MUST_UNDERSTAND, "1")
                entry.text = _b(hold_requests)
            if no_more_requests:
                entry = etree.SubElement(header, f"{{{out.cwmp}}}NoMoreRequests")
                entry.text = "1"
        body = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
        if isinstance(message, m.Fault):
            _render_fault(out, body, message)
        elif message is not None:
            renderer = _RENDERERS.get(type(message))
            if renderer is None:
                raise CwmpError(faults.INTERNAL_ERROR, f"cannot render {message.method or type(message).__name__}")
            element = etree.SubElement(body, f"{{{out.cwmp}}}{message.METHOD}")
            renderer(out, element, message)
    except ValueError as exc:  # lxml refuses control characters and the like
        raise CwmpError(faults.INVALID_ARGUMENTS, f"value cannot be written as XML: {exc}") from None
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def fault_body(code: int, string: str = "", *, cwmp_id: str | None = None, version: str = LATEST) -> bytes:
    """A SOAP fault envelope for an ACS fault code (used for HTTP 400/413/503 bodies)."""
    return render(m.Fault(code=code, string=string or faults.fault_name(code)), cwmp_id=cwmp_id, version=version)
