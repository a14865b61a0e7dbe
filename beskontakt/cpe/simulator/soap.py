"""The CPE side of CWMP's SOAP: read what the ACS sends (lxml), write what the device answers (templates).

Reading is tolerant, as a device must be: any namespace prefix, any ``urn:dslforum-org:cwmp-1-x``
namespace, whitespace around values. The parser resolves no entities, loads no DTD and
touches no network. Writing is strict and cheap: fixed string templates with escaped
values, so ten thousand devices can render their Informs without building trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from .errors import INVALID_ARGUMENTS, INVALID_NAME, INVALID_TYPE, INVALID_VALUE, NON_WRITABLE, CpeFault

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CWMP_NS = {f"1-{n}": f"urn:dslforum-org:cwmp-1-{n}" for n in range(5)}
DEFAULT_CWMP = CWMP_NS["1-0"]
UNKNOWN_TIME = "0001-01-01T00:00:00Z"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=True
)


class GarbledMessage(ValueError):
    """What the ACS sent is no SOAP envelope the device can read."""


@dataclass
class AcsMessage:
    """One message from the ACS: its method (local name), ``cwmp:ID``, HoldRequests and body element."""

    method: str
    cwmp_id: str | None
    hold_requests: bool
    namespace: str
    body: etree._Element | None

    def text(self, name: str, default: str = "") -> str:
        """The stripped text of the first child element named ``name`` (any namespace)."""
        node = child(self.body, name)
        return default if node is None or node.text is None else node.text.strip()


def local(tag: object) -> str:
    """An element's local name, whatever its namespace prefix."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def child(node: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element of ``node`` whose local name is ``name``."""
    if node is None:
        return None
    for element in node:
        if local(element.tag) == name:
            return element
    return None


def children(node: etree._Element | None, name: str | None = None) -> list[etree._Element]:
    """Child elements (optionally only those named ``name``)."""
    if node is None:
        return []
    return [e for e in node if isinstance(e.tag, str) and (name is None or local(e.tag) == name)]


def text_of(node: etree._Element | None, default: str = "") -> str:
    """Stripped text of an element (``default`` when missing or empty)."""
    if node is None or node.text is None:
        return default
    return node.text.strip()


def parse(body: bytes) -> AcsMessage | None:
    """The ACS's message, or None for an empty body (the ACS has nothing more: end of session)."""
    if not body.strip():
        return None
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise GarbledMessage("DOCTYPE or entity declarations are not accepted")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise GarbledMessage(f"not XML: {error}") from None
    if local(root.tag) != "Envelope":
        raise GarbledMessage("not a SOAP envelope")
    header = child(root, "Header")
    soap_body = child(root, "Body")
    if soap_body is None:
        raise GarbledMessage("no SOAP Body")
    payload = children(soap_body)
    if not payload:
        return None
    element = payload[0]
    tag = element.tag if isinstance(element.tag, str) else ""
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    cwmp_id = text_of(child(header, "ID")) or None
    hold = text_of(child(header, "HoldRequests")).lower() in ("1", "true")
    method = local(tag)
    if method == "Fault":
        detail = child(element, "detail")
        fault = child(detail, "Fault")
        if fault is not None:
            element = fault
    if not namespace.startswith("urn:dslforum-org:cwmp-"):
        namespace = ""
    return AcsMessage(method, cwmp_id, hold, namespace, element)


# --- writing -------------------------------------------------------------------
def escape(value: str) -> str:
    """Escape text for an element's content."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value


_ENVELOPE_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:cwmp="'
)


def envelope(body: str, cwmp_id: str | None, namespace: str = DEFAULT_CWMP) -> bytes:
    """A whole SOAP envelope around ``body`` (``cwmp:ID`` echoed when given)."""
    header = (
        f'<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">{escape(cwmp_id)}</cwmp:ID></soap-env:Header>'
        if cwmp_id is not None
        else ""
    )
    return f'{_ENVELOPE_HEAD}{namespace}">{header}<soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>'.encode()


def now_text() -> str:
    """The current time as xsd:dateTime in UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def inform(
    device_id: tuple[str, str, str, str],
    events: list[tuple[str, str]],
    retry_count: int,
    parameters: list[tuple[str, str, str]],
) -> str:
    """An Inform body: DeviceId (manufacturer, OUI, product class, serial), events and parameters."""
    manufacturer, oui, product_class, serial = device_id
    event_xml = "".join(
        f"<EventStruct><EventCode>{code}</EventCode><CommandKey>{escape(key)}</CommandKey></EventStruct>"
        for code, key in events
    )
    return (
        f"<cwmp:Inform><DeviceId><Manufacturer>{escape(manufacturer)}</Manufacturer><OUI>{escape(oui)}</OUI>"
        f"<ProductClass>{escape(product_class)}</ProductClass><SerialNumber>{escape(serial)}</SerialNumber></DeviceId>"
        f'<Event soap-enc:arrayType="cwmp:EventStruct[{len(events)}]">{event_xml}</Event>'
        f"<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>{now_text()}</CurrentTime><RetryCount>{retry_count}</RetryCount>"
        f"{parameter_list(parameters)}</cwmp:Inform>"
    )


def parameter_list(parameters: list[tuple[str, str, str]]) -> str:
    """``ParameterList`` of ParameterValueStruct (name, value, xsd type without prefix)."""
    items = "".join(
        f'<ParameterValueStruct><Name>{name}</Name><Value xsi:type="xsd:{xsd}">{escape(value)}</Value>'
        "</ParameterValueStruct>"
        for name, value, xsd in parameters
    )
    return f'<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[{len(parameters)}]">{items}</ParameterList>'


def transfer_complete(command_key: str, fault_code: int, fault_string: str, start: str, complete: str) -> str:
    """A TransferComplete body (``fault_code`` 0: success)."""
    return (
        f"<cwmp:TransferComplete><CommandKey>{escape(command_key)}</CommandKey>"
        f"<FaultStruct><FaultCode>{fault_code}</FaultCode><FaultString>{escape(fault_string)}</FaultString></FaultStruct>"
        f"<StartTime>{start}</StartTime><CompleteTime>{complete}</CompleteTime></cwmp:TransferComplete>"
    )


def get_rpc_methods_response(methods: list[str]) -> str:
    """The device's supported methods."""
    items = "".join(f"<string>{m}</string>" for m in methods)
    return (
        f'<cwmp:GetRPCMethodsResponse><MethodList soap-enc:arrayType="xsd:string[{len(methods)}]">{items}'
        "</MethodList></cwmp:GetRPCMethodsResponse>"
    )


def get_parameter_names_response(names: list[tuple[str, bool]]) -> str:
    """ParameterInfoStruct list (writable as 1/0)."""
    items = "".join(
        f"<ParameterInfoStruct><Name>{name}</Name><Writable>{1 if writable else 0}</Writable></ParameterInfoStruct>"
        for name, writable in names
    )
    return (
        f'<cwmp:GetParameterNamesResponse><ParameterList soap-enc:arrayType="cwmp:ParameterInfoStruct[{len(names)}]">'
        f"{items}</ParameterList></cwmp:GetParameterNamesResponse>"
    )


def get_parameter_values_response(parameters: list[tuple[str, str, str]]) -> str:
    """Values with their xsi:type."""
    return f"<cwmp:GetParameterValuesResponse>{parameter_list(parameters)}</cwmp:GetParameterValuesResponse>"


def simple_response(method: str, fields: list[tuple[str, str]] | None = None) -> str:
    """``<cwmp:{method}Response>`` with a few plain fields (Status, InstanceNumber …)."""
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields or [])
    return f"<cwmp:{method}Response>{inner}</cwmp:{method}Response>"


def get_parameter_attributes_response(attributes: list[tuple[str, int]]) -> str:
    """ParameterAttributeStruct list (AccessList always ``Subscriber``)."""
    items = "".join(
        f"<ParameterAttributeStruct><Name>{name}</Name><Notification>{notification}</Notification>"
        '<AccessList soap-enc:arrayType="xsd:string[1]"><string>Subscriber</string></AccessList>'
        "</ParameterAttributeStruct>"
        for name, notification in attributes
    )
    return (
        "<cwmp:GetParameterAttributesResponse>"
        f'<ParameterList soap-enc:arrayType="cwmp:ParameterAttributeStruct[{len(attributes)}]">{items}'
        "</ParameterList></cwmp:GetParameterAttributesResponse>"
    )


_CLIENT_FAULTS = {INVALID_ARGUMENTS, INVALID_NAME, INVALID_TYPE, INVALID_VALUE, NON_WRITABLE}


def fault(fault: CpeFault) -> str:
    """A SOAP Fault carrying a cwmp:Fault (with SetParameterValuesFault items when given)."""
    details = "".join(
        f"<SetParameterValuesFault><ParameterName>{escape(name)}</ParameterName><FaultCode>{code}</FaultCode>"
        f"<FaultString>{escape(text)}</FaultString></SetParameterValuesFault>"
        for name, code, text in fault.details
    )
    side = "Client" if fault.code in _CLIENT_FAULTS else "Server"
    return (
        f"<soap-env:Fault><faultcode>{side}</faultcode><faultstring>CWMP fault</faultstring><detail>"
        f"<cwmp:Fault><FaultCode>{fault.code}</FaultCode><FaultString>{escape(fault.fault_string)}</FaultString>"
        f"{details}</cwmp:Fault></detail></soap-env:Fault>"
    )
