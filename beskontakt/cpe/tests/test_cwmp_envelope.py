"""CWMP envelopes: round trips of every message, tolerance of real-world variants, refusal of attacks."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from beskontakt.cpe.cwmp import faults
from beskontakt.cpe.cwmp import messages as m
from beskontakt.cpe.cwmp.envelope import (
    CWMP_PREFIX,
    SOAP_ENC,
    XSI,
    CwmpError,
    Envelope,
    fault_body,
    parse,
    render,
)

T1 = datetime(2026, 11, 25, 8, 30, 5, tzinfo=UTC)
T2 = datetime(2026, 11, 25, 8, 31, 0, tzinfo=UTC)
DEVICE = m.DeviceId("Acme Networks", "00D09E", "HGW-1", "ACME0001")

EXAMPLES: list[m.Message] = [
    m.Inform(
        device=DEVICE,
        events=[m.EventStruct(m.BOOT), m.EventStruct(m.M_REBOOT, "reboot-17")],
        max_envelopes=1,
        current_time=T1,
        retry_count=2,
        parameters=[
            m.ParameterValue("Device.DeviceInfo.SoftwareVersion", "1.2.3"),
            m.ParameterValue("Device.DeviceInfo.UpTime", "3600", m.XSD_UNSIGNED_INT),
            m.ParameterValue("Device.ManagementServer.ConnectionRequestURL", "http://10.0.0.2:7547/cr"),
        ],
    ),
    m.InformResponse(max_envelopes=1),
    m.TransferComplete(command_key="fw-1", fault_code=9010, fault_string="no route", start_time=T1, complete_time=T2),
    m.TransferCompleteResponse(),
    m.AutonomousTransferComplete(
        announce_url="http://a/",
        transfer_url="http://t/f.bin",
        is_download=False,
        file_type=m.FILE_VENDOR_CONFIG,
        file_size=1234,
        target_file_name="cfg.xml",
        start_time=T1,
        complete_time=T2,
    ),
    m.AutonomousTransferCompleteResponse(),
    m.GetRPCMethods(),
    m.GetRPCMethodsResponse(methods=["GetRPCMethods", "GetParameterValues", "Reboot"]),
    m.Kicked(command="login", referer="http://portal/", arg="x", next_url="http://next/"),
    m.KickedResponse(next_url="http://next/"),
    m.RequestDownload(file_type=m.FILE_FIRMWARE, arguments=[("Version", "2.0")]),
    m.RequestDownloadResponse(),
    m.GetParameterNames(parameter_path="Device.WiFi.", next_level=True),
    m.GetParameterNamesResponse(
        parameters=[m.ParameterInfo("Device.WiFi.SSID.", False), m.ParameterInfo("Device.WiFi.Radio.1.Channel", True)]
    ),
    m.GetParameterValues(names=["Device.WiFi.Radio.1.Channel", "Device.IP."]),
    m.GetParameterValuesResponse(
        parameters=[
            m.ParameterValue("Device.WiFi.Radio.1.Channel", "6", m.XSD_UNSIGNED_INT),
            m.ParameterValue("Device.WiFi.Radio.1.Enable", "true", m.XSD_BOOLEAN),
            m.ParameterValue("Device.WiFi.SSID.1.SSID", "Дом 42 ☕"),
        ]
    ),
    m.SetParameterValues(
        values=[m.ParameterValue("Device.WiFi.Radio.1.Channel", "11", m.XSD_UNSIGNED_INT)], parameter_key="case-7"
    ),
    m.SetParameterValuesResponse(status=1),
    m.GetParameterAttributes(names=["Device.DeviceInfo.UpTime"]),
    m.GetParameterAttributesResponse(attributes=[m.ParameterAttribute("Device.DeviceInfo.UpTime", 2, ("Subscriber",))]),
    m.SetParameterAttributes(
        attributes=[m.SetParameterAttribute("Device.WiFi.SSID.1.SSID", True, 2, True, ("Subscriber", "Other"))]
    ),
    m.SetParameterAttributesResponse(),
    m.AddObject(object_name="Device.WiFi.SSID.", parameter_key="k1"),
    m.AddObjectResponse(instance_number=3, status=0),
    m.DeleteObject(object_name="Device.WiFi.SSID.3.", parameter_key="k2"),
    m.DeleteObjectResponse(status=1),
    m.Reboot(command_key="reboot-17"),
    m.RebootResponse(),
    m.FactoryReset(),
    m.FactoryResetResponse(),
    m.Download(
        command_key="fw-1",
        file_type=m.FILE_FIRMWARE,
        url="http://acs.example:7547/files/fw.bin",
        username="dl",
        password="pw",
        file_size=1048576,
        target_file_name="fw.bin",
        delay_seconds=5,
        success_url="http://ok/",
        failure_url="http://fail/",
    ),
    m.DownloadResponse(status=0, start_time=T1, complete_time=T2),
    m.ScheduleInform(delay_seconds=30, command_key="later"),
    m.ScheduleInformResponse(),
    m.Fault(
        code=9003,
        string="Invalid arguments",
        set_parameter_faults=[
            m.SetParameterFault("Device.WiFi.Radio.1.Channel", 9007, "Invalid parameter value"),
            m.SetParameterFault("Device.DeviceInfo.UpTime", 9008, "Attempt to set a non-writable parameter"),
        ],
        soap_code="Client",
    ),
]


def test_examples_cover_every_message_class() -> None:
    covered = {type(example) for example in EXAMPLES}
    assert covered == set(m.MESSAGE_CLASSES.values())


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda message: message.method)
@pytest.mark.parametrize("version", ["1-0", "1-2", "1-4"])
def test_round_trip(message: m.Message, version: str) -> None:
    body = render(message, cwmp_id="id-1", version=version)
    envelope = parse(body)
    assert envelope.message == message
    assert envelope.cwmp_id == "id-1"
    assert envelope.version == version


def test_rendering_is_strict() -> None:
    body = render(EXAMPLES[0], cwmp_id="1")
    root = etree.fromstring(body)
    assert root.nsmap == {
        "soap-env": "http://schemas.xmlsoap.org/soap/envelope/",
        "soap-enc": SOAP_ENC,
        "xsd": "http://www.w3.org/2001/XMLSchema",
        "xsi": XSI,
        "cwmp": CWMP_PREFIX + "1-4",
    }
    values = root.findall(".//Value")
    assert values and all(value.get(f"{{{XSI}}}type", "").startswith("xsd:") for value in values)
    assert root.find(".//ParameterList").get(f"{{{SOAP_ENC}}}arrayType") == "cwmp:ParameterValueStruct[3]"
    assert root.find(".//Event").get(f"{{{SOAP_ENC}}}arrayType") == "cwmp:EventStruct[2]"
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    ident = root.find(f".//{{{CWMP_PREFIX}1-4}}ID")
    assert ident.get("{http://schemas.xmlsoap.org/soap/envelope/}mustUnderstand") == "1"


def test_header_flags_round_trip() -> None:
    envelope = parse(render(m.InformResponse(), cwmp_id="x", hold_requests=True, no_more_requests=True))
    assert envelope.hold_requests is True
    assert envelope.no_more_requests is True
    assert parse(render(m.InformResponse(), cwmp_id="x")).hold_requests is None


def test_empty_post_and_empty_body() -> None:
    assert parse(b"") == Envelope(None)
    assert parse(b"  \r\n ") == Envelope(None)
    assert parse(render(None, cwmp_id="3")).message is None


def test_fault_body_carries_code() -> None:
    envelope = parse(fault_body(faults.INVALID_ARGUMENTS, "bad"))
    assert isinstance(envelope.message, m.Fault)
    assert envelope.message.code == 8003
    assert envelope.message.soap_code == "Client"


def test_unknown_method_is_kept_by_name() -> None:
    envelope = parse(
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-1">'
        b"<s:Body><c:X_ACME_Frobnicate><A>1</A></c:X_ACME_Frobnicate></s:Body></s:Envelope>"
    )
    assert envelope.message == m.UnknownMessage(name="X_ACME_Frobnicate")
    assert envelope.version == "1-1"


# --- tolerance ----------------------------------------------------------------------

TOLERANT_INFORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:dslf="urn:dslforum-org:cwmp-1-2">
  <SOAP-ENV:Header>
    <dslf:ID SOAP-ENV:mustUnderstand="1">  4711  </dslf:ID>
    <dslf:NoMoreRequests>true</dslf:NoMoreRequests>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <dslf:Inform>
      <DeviceId>
        <Manufacturer>Acme</Manufacturer>
        <OUI> 00D09E </OUI>
        <ProductClass>HGW</ProductClass>
        <SerialNumber>
            SN42
        </SerialNumber>
      </DeviceId>
      <Event SOAP-ENC:arrayType="dslf:EventStruct[7]">
        <EventStruct><EventCode>2 PERIODIC</EventCode><CommandKey/></EventStruct>
        <EventStruct><EventCode> 6 CONNECTION REQUEST </EventCode></EventStruct>
      </Event>
      <MaxEnvelopes> 1 </MaxEnvelopes>
      <CurrentTime>2026-11-25T11:30:05+03:00</CurrentTime>
      <RetryCount>0</RetryCount>
      <ParameterList>
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.DeviceInfo.UpTime</Name>
          <Value xsi:type="xsd:unsignedInt">42</Value>
        </ParameterValueStruct>
        <item>
          <Name>InternetGatewayDevice.ManagementServer.ParameterKey</Name>
          <Value/>
        </item>
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Enable</Name>
          <Value xsi:type="boolean">1</Value>
        </ParameterValueStruct>
      </ParameterList>
    </dslf:Inform>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
"""


def test_tolerant_inform() -> None:
    envelope = parse(TOLERANT_INFORM)
    inform = envelope.message
    assert isinstance(inform, m.Inform)
    assert envelope.version == "1-2"
    assert envelope.cwmp_id is not None and envelope.cwmp_id.strip() == "4711"
    assert envelope.no_more_requests is True
    assert inform.device == m.DeviceId("Acme", "00D09E", "HGW", "SN42")
    assert inform.device.device_id == "00D09E-HGW-SN42"
    assert inform.event_codes == ["2 PERIODIC", "6 CONNECTION REQUEST"]
    assert inform.current_time == datetime(2026, 11, 25, 8, 30, 5, tzinfo=UTC)
    assert inform.parameters[0] == m.ParameterValue("InternetGatewayDevice.DeviceInfo.UpTime", "42", m.XSD_UNSIGNED_INT)
    assert inform.parameters[1].value == ""
    assert inform.parameters[2].type == m.XSD_BOOLEAN
    assert inform.parameters[2].typed() is True


@pytest.mark.parametrize("version", ["1-0", "1-1", "1-2", "1-3", "1-4"])
@pytest.mark.parametrize("prefixes", [("soapenv", "cwmp"), ("S", "c"), ("env", "urn")])
def test_any_prefix_and_version(version: str, prefixes: tuple[str, str]) -> None:
    soap, cwmp = prefixes
    body = (
        f'<{soap}:Envelope xmlns:{soap}="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:{cwmp}="urn:dslforum-org:cwmp-{version}"><{soap}:Header><{cwmp}:ID>9</{cwmp}:ID></{soap}:Header>'
        f"<{soap}:Body><{cwmp}:SetParameterValuesResponse><Status>0</Status>"
        f"</{cwmp}:SetParameterValuesResponse></{soap}:Body></{soap}:Envelope>"
    ).encode()
    envelope = parse(body)
    assert envelope.version == version
    assert envelope.message == m.SetParameterValuesResponse(status=0)


def test_body_children_without_namespace_and_default_namespace() -> None:
    body = (
        b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body>'
        b'<GetParameterNamesResponse xmlns=""><ParameterList>'
        b"<ParameterInfoStruct><Name>Device.</Name><Writable>false</Writable></ParameterInfoStruct>"
        b"<ParameterInfoStruct><Name>Device.X</Name><Writable> TRUE </Writable></ParameterInfoStruct>"
        b"</ParameterList></GetParameterNamesResponse></Body></Envelope>"
    )
    envelope = parse(body)
    assert envelope.version == "1-0"
    assert envelope.message == m.GetParameterNamesResponse(
        parameters=[m.ParameterInfo("Device.", False), m.ParameterInfo("Device.X", True)]
    )


@pytest.mark.parametrize(("text", "expected"), [("0", False), ("1", True), ("true", True), ("False", False)])
def test_boolean_spellings(text: str, expected: bool) -> None:
    body = (
        '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-0">'
        f"<e:Body><c:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel> {text} </NextLevel>"
        "</c:GetParameterNames></e:Body></e:Envelope>"
    ).encode()
    message = parse(body).message
    assert isinstance(message, m.GetParameterNames)
    assert message.next_level is expected


def test_soap_enc_array_of_strings_with_any_item_name() -> None:
    body = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-0" '
        b'xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        b'<e:Body><c:GetParameterValues><ParameterNames enc:arrayType="xsd:string[2]">'
        b"<xsd:string>Device.A</xsd:string><item> Device.B. </item></ParameterNames>"
        b"</c:GetParameterValues></e:Body></e:Envelope>"
    )
    assert parse(body).message == m.GetParameterValues(names=["Device.A", "Device.B."])


def test_missing_optional_fields_take_defaults() -> None:
    body = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-0">'
        b"<e:Body><c:TransferComplete><CommandKey>k</CommandKey></c:TransferComplete></e:Body></e:Envelope>"
    )
    assert parse(body).message == m.TransferComplete(command_key="k")


def test_unknown_time_and_1970_are_none() -> None:
    assert m.parse_time(m.UNKNOWN_TIME) is None
    assert m.parse_time("1970-01-01T00:03:00Z") is None
    assert m.parse_time("garbage") is None
    assert m.format_time(None) == m.UNKNOWN_TIME
    assert m.parse_time(m.format_time(T1)) == T1


def test_parameter_value_of_and_typed() -> None:
    assert m.ParameterValue.of("a", True) == m.ParameterValue("a", "true", m.XSD_BOOLEAN)
    assert m.ParameterValue.of("a", 6).typed() == 6
    assert m.ParameterValue.of("a", -3).type == m.XSD_INT
    assert m.ParameterValue.of("a", T1).typed() == T1
    assert m.ParameterValue.of("a", b"\x00\x01").type == m.XSD_BASE64
    assert m.ParameterValue.of("a", "x").typed() == "x"
    assert m.ParameterValue("a", "nope", m.XSD_INT).typed() == "nope"


# --- refusals -----------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&xxe;</soap:Body></soap:Envelope>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol9;</soap:Body></soap:Envelope>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE soap:Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x"> %remote;]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>"""


@pytest.mark.parametrize(
    "body",
    [XXE, BILLION_LAUGHS, EXTERNAL_DTD, PARAMETER_ENTITY, XXE.decode().encode("utf-16")],
    ids=["xxe", "billion-laughs", "external-dtd", "parameter-entity", "utf16-xxe"],
)
def test_declarations_are_refused(body: bytes) -> None:
    with pytest.raises(CwmpError) as caught:
        parse(body)
    assert caught.value.fault_code == faults.INVALID_ARGUMENTS


def test_oversized_is_refused_before_parsing() -> None:
    body = render(m.GetParameterValues(names=["Device.X"] * 5000))
    with pytest.raises(CwmpError) as caught:
        parse(body, max_bytes=10_000)
    assert caught.value.fault_code == faults.RESOURCES_EXCEEDED


@pytest.mark.parametrize(
    "body",
    [
        b"<soap:Envelope",
        b"not xml at all",
        b"<a><b></a>",
        b'<root xmlns="urn:x"/>',
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/></e:Envelope>',
        b'<?xml version="1.0" encoding="x-unknown-42"?><a/>',
        b"<a>" * 5000 + b"</a>" * 5000,
    ],
    ids=["truncated", "text", "mismatched", "not-soap", "no-body", "bad-encoding", "deep"],
)
def test_malformed_is_a_clean_error(body: bytes) -> None:
    with pytest.raises(CwmpError) as caught:
        parse(body)
    assert caught.value.fault_code == faults.INVALID_ARGUMENTS


def test_bad_numbers_and_missing_device_are_invalid_arguments() -> None:
    bad_status = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-0">'
        b"<e:Body><c:SetParameterValuesResponse><Status>zero</Status></c:SetParameterValuesResponse></e:Body>"
        b"</e:Envelope>"
    )
    no_device = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-0">'
        b"<e:Body><c:Inform/></e:Body></e:Envelope>"
    )
    for body in (bad_status, no_device):
        with pytest.raises(CwmpError) as caught:
            parse(body)
        assert caught.value.fault_code == faults.INVALID_ARGUMENTS


def test_control_characters_cannot_be_rendered() -> None:
    with pytest.raises(CwmpError) as caught:
        render(m.SetParameterValues(values=[m.ParameterValue("Device.X", "a\x01b")]))
    assert caught.value.fault_code == faults.INVALID_ARGUMENTS


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(body: bytes) -> None:
    with contextlib.suppress(CwmpError):
        parse(body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_inside_a_valid_envelope_never_crashes(junk: bytes) -> None:
    body = render(EXAMPLES[0], cwmp_id="1")
    cut = len(body) // 2
    with contextlib.suppress(CwmpError):
        parse(body[:cut] + junk + body[cut:])


# --- property-based round trips --------------------------------------------------------

XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=40)
NAMES = st.from_regex(
    r"(Device|InternetGatewayDevice)\.([A-Za-z][A-Za-z0-9_]{0,12}\.){0,4}[A-Za-z0-9_]{0,12}", fullmatch=True
)
XSD_TYPES = st.sampled_from([m.XSD_STRING, m.XSD_UNSIGNED_INT, m.XSD_INT, m.XSD_BOOLEAN, m.XSD_DATETIME, m.XSD_BASE64])
VALUES = st.builds(m.ParameterValue, NAMES, XML_TEXT, XSD_TYPES)


@settings(max_examples=150, deadline=None)
@given(st.lists(VALUES, max_size=12), XML_TEXT, st.sampled_from(["1-0", "1-1", "1-2", "1-3", "1-4"]))
def test_set_parameter_values_round_trip(values: list[m.ParameterValue], key: str, version: str) -> None:
    message = m.SetParameterValues(values=values, parameter_key=key)
    assert parse(render(message, cwmp_id=key.strip() or "x", version=version)).message == message


@settings(max_examples=150, deadline=None)
@given(
    st.builds(
        m.DeviceId,
        XML_TEXT.map(str.strip),
        st.from_regex(r"[0-9A-F]{6}", fullmatch=True),
        XML_TEXT.map(str.strip),
        XML_TEXT.map(str.strip).filter(bool),
    ),
    st.lists(st.builds(m.EventStruct, st.sampled_from(m.EVENT_CODES), XML_TEXT), max_size=5),
    st.lists(VALUES, max_size=10),
    st.integers(min_value=0, max_value=2**31 - 1),
)
def test_inform_round_trip(
    device: m.DeviceId, events: list[m.EventStruct], values: list[m.ParameterValue], retry: int
) -> None:
    message = m.Inform(device=device, events=events, current_time=T1, retry_count=retry, parameters=values)
    assert parse(render(message, cwmp_id="1")).message == message


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=9000, max_value=9899),
    XML_TEXT,
    st.lists(st.builds(m.SetParameterFault, NAMES, st.integers(9000, 9032), XML_TEXT.filter(str.strip)), max_size=5),
)
def test_fault_round_trip(code: int, text: str, per_parameter: list[m.SetParameterFault]) -> None:
    message = parse(render(m.Fault(code=code, string=text, set_parameter_faults=per_parameter))).message
    assert isinstance(message, m.Fault)
    assert message.code == code
    assert message.set_parameter_faults == per_parameter
    assert message.string == (text or faults.fault_name(code))
