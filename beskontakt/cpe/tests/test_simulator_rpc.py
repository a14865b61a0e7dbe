"""The simulated device's answers to hand-written ACS envelopes (no network)."""

from __future__ import annotations

import pytest
from lxml import etree

from beskontakt.cpe import profiles
from beskontakt.cpe.simulator import FaultInjection, SimulatedCpe, soap

CWMP12 = "urn:dslforum-org:cwmp-1-2"


def envelope(body: str, cwmp_id: str = "42", namespace: str = CWMP12) -> bytes:
    """What an ACS might send: unusual prefixes, whitespace, a 1-2 namespace."""
    return (
        '<?xml version="1.0"?>\n<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:c="{namespace}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:SE="http://schemas.xmlsoap.org/soap/encoding/">\n'
        f'  <S:Header> <c:ID S:mustUnderstand="1"> {cwmp_id} </c:ID> </S:Header>\n'
        f"  <S:Body>\n    {body}\n  </S:Body>\n</S:Envelope>"
    ).encode()


def ask(cpe: SimulatedCpe, body: str) -> etree._Element:
    """Send one request to the device; the first element of its answer's Body."""
    message = soap.parse(envelope(body))
    assert message is not None
    answer = cpe.answer(message)
    root = etree.fromstring(answer)
    header_id = root.find(f"{{{soap.SOAP_ENV}}}Header/{{{CWMP12}}}ID")
    assert header_id is not None and header_id.text == "42"
    assert root.nsmap["cwmp"] == CWMP12  # the device answers in the ACS's version
    body_element = root.find(f"{{{soap.SOAP_ENV}}}Body")
    assert body_element is not None
    return body_element[0]


def values(element: etree._Element) -> dict[str, tuple[str, str]]:
    found = {}
    for struct in element.find("ParameterList"):
        value = struct.find("Value")
        xsi_type = value.get("{http://www.w3.org/2001/XMLSchema-instance}type")
        found[struct.findtext("Name")] = (value.text or "", xsi_type)
    return found


def fault_of(element: etree._Element) -> tuple[int, list[tuple[str, int]]]:
    assert etree.QName(element).localname == "Fault"
    fault = element.find(f"detail/{{{CWMP12}}}Fault")
    details = [
        (item.findtext("ParameterName"), int(item.findtext("FaultCode")))
        for item in fault.iter("SetParameterValuesFault")
    ]
    return int(fault.findtext("FaultCode")), details


@pytest.fixture
def cpe() -> SimulatedCpe:
    return SimulatedCpe("SIMRPC01", optical=True, scenario="low_optical")


def test_get_rpc_methods(cpe: SimulatedCpe) -> None:
    answer = ask(cpe, "<c:GetRPCMethods/>")
    methods = [item.text for item in answer.find("MethodList")]
    assert {"GetParameterValues", "SetParameterValues", "Download", "Reboot", "FactoryReset"} <= set(methods)
    assert answer.find("MethodList").get(f"{{{'http://schemas.xmlsoap.org/soap/encoding/'}}}arrayType") == (
        f"xsd:string[{len(methods)}]"
    )


def test_get_parameter_values_full_and_partial(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe,
        '<c:GetParameterValues><ParameterNames SE:arrayType="xsd:string[2]">'
        "<string> Device.Optical.Interface.1.OpticalSignalLevel </string>"
        "<string>Device.DeviceInfo.</string></ParameterNames></c:GetParameterValues>",
    )
    found = values(answer)
    level, xsd = found["Device.Optical.Interface.1.OpticalSignalLevel"]
    assert xsd == "xsd:int"
    assert -29300 <= int(level) <= -28700
    assert found["Device.DeviceInfo.SerialNumber"] == ("SIMRPC01", "xsd:string")
    assert found["Device.DeviceInfo.UpTime"][1] == "xsd:unsignedInt"
    decoded = profiles.profile_for(profiles.TR181).decode(
        profiles.OPTICAL_RX_POWER, {k: v for k, (v, _) in found.items()}
    )
    assert -29.3 <= decoded <= -28.7


def test_get_parameter_values_unknown_name_is_9005(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe,
        "<c:GetParameterValues><ParameterNames><string>Device.Bogus.</string></ParameterNames></c:GetParameterValues>",
    )
    assert fault_of(answer) == (9005, [])


def test_get_parameter_names_next_level(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe,
        "<c:GetParameterNames><ParameterPath>Device.WiFi.</ParameterPath><NextLevel>true</NextLevel>"
        "</c:GetParameterNames>",
    )
    names = {item.findtext("Name"): item.findtext("Writable") for item in answer.find("ParameterList")}
    assert names["Device.WiFi.Radio."] == "0"
    assert "Device.WiFi.RadioNumberOfEntries" in names
    assert not any(name.startswith("Device.WiFi.Radio.1") for name in names)


def test_set_parameter_values_applies_and_records_the_key(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe,
        "<c:SetParameterValues><ParameterList>"
        '<ParameterValueStruct><Name>Device.WiFi.SSID.1.SSID</Name><Value xsi:type="xsd:string">Home &amp; Co</Value>'
        "</ParameterValueStruct>"
        "<ParameterValueStruct><Name>Device.WiFi.Radio.1.AutoChannelEnable</Name>"
        '<Value xsi:type="xsd:boolean">1</Value></ParameterValueStruct>'
        "</ParameterList><ParameterKey>preset-7</ParameterKey></c:SetParameterValues>",
    )
    assert answer.findtext("Status") == "0"
    assert cpe.dm.value("Device.WiFi.SSID.1.SSID") == "Home & Co"
    assert cpe.dm.value("Device.WiFi.Radio.1.AutoChannelEnable") == "true"
    assert cpe.dm.value("Device.ManagementServer.ParameterKey") == "preset-7"
    inform = cpe.render_inform([("2 PERIODIC", "")])
    assert b'<Name>Device.ManagementServer.ParameterKey</Name><Value xsi:type="xsd:string">preset-7</Value>' in inform


def test_set_parameter_values_faults_are_per_parameter_and_atomic(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe,
        "<c:SetParameterValues><ParameterList>"
        "<ParameterValueStruct><Name>Device.WiFi.SSID.1.SSID</Name><Value>new</Value></ParameterValueStruct>"
        "<ParameterValueStruct><Name>Device.WiFi.Radio.1.Channel</Name><Value>seven</Value></ParameterValueStruct>"
        "<ParameterValueStruct><Name>Device.DeviceInfo.UpTime</Name><Value>1</Value></ParameterValueStruct>"
        "<ParameterValueStruct><Name>Device.No.Such</Name><Value>1</Value></ParameterValueStruct>"
        "</ParameterList><ParameterKey>k</ParameterKey></c:SetParameterValues>",
    )
    code, details = fault_of(answer)
    assert code == 9003
    assert details == [
        ("Device.WiFi.Radio.1.Channel", 9007),
        ("Device.DeviceInfo.UpTime", 9008),
        ("Device.No.Such", 9005),
    ]
    assert cpe.dm.value("Device.WiFi.SSID.1.SSID") != "new"  # nothing applied
    assert cpe.dm.value("Device.ManagementServer.ParameterKey") == ""


def test_set_parameter_values_wrong_declared_type_is_9006(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe,
        "<c:SetParameterValues><ParameterList><ParameterValueStruct><Name>Device.WiFi.Radio.1.Channel</Name>"
        '<Value xsi:type="xsd:boolean">true</Value></ParameterValueStruct></ParameterList>'
        "<ParameterKey/></c:SetParameterValues>",
    )
    assert fault_of(answer) == (9003, [("Device.WiFi.Radio.1.Channel", 9006)])


def test_parameter_attributes(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe,
        "<c:SetParameterAttributes><ParameterList><SetParameterAttributesStruct>"
        "<Name>Device.PPP.Interface.1.ConnectionStatus</Name><NotificationChange>1</NotificationChange>"
        "<Notification>2</Notification><AccessListChange>0</AccessListChange><AccessList/>"
        "</SetParameterAttributesStruct></ParameterList></c:SetParameterAttributes>",
    )
    assert etree.QName(answer).localname == "SetParameterAttributesResponse"
    answer = ask(
        cpe,
        "<c:GetParameterAttributes><ParameterNames><string>Device.PPP.Interface.1.</string></ParameterNames>"
        "</c:GetParameterAttributes>",
    )
    attributes = {item.findtext("Name"): item.findtext("Notification") for item in answer.find("ParameterList")}
    assert attributes["Device.PPP.Interface.1.ConnectionStatus"] == "2"
    assert attributes["Device.PPP.Interface.1.Username"] == "0"
    answer = ask(
        cpe,
        "<c:SetParameterAttributes><ParameterList><SetParameterAttributesStruct>"
        "<Name>Device.DeviceInfo.UpTime</Name><NotificationChange>1</NotificationChange>"
        "<Notification>2</Notification></SetParameterAttributesStruct></ParameterList></c:SetParameterAttributes>",
    )
    assert fault_of(answer)[0] == 9009


def test_add_and_delete_object(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe, "<c:AddObject><ObjectName>Device.Hosts.Host.</ObjectName><ParameterKey>add-1</ParameterKey></c:AddObject>"
    )
    number = answer.findtext("InstanceNumber")
    assert answer.findtext("Status") == "0"
    assert f"Device.Hosts.Host.{number}.HostName" in cpe.dm
    answer = ask(
        cpe,
        f"<c:DeleteObject><ObjectName>Device.Hosts.Host.{number}.</ObjectName><ParameterKey>del</ParameterKey>"
        "</c:DeleteObject>",
    )
    assert answer.findtext("Status") == "0"
    assert f"Device.Hosts.Host.{number}.HostName" not in cpe.dm
    answer = ask(cpe, "<c:AddObject><ObjectName>Device.DeviceInfo.</ObjectName><ParameterKey/></c:AddObject>")
    assert fault_of(answer)[0] == 9005


def test_unknown_method_is_9000(cpe: SimulatedCpe) -> None:
    answer = ask(cpe, "<c:X_VENDOR_Frobnicate><Level>11</Level></c:X_VENDOR_Frobnicate>")
    assert fault_of(answer)[0] == 9000


def test_download_is_accepted_and_done_after_the_session(cpe: SimulatedCpe) -> None:
    answer = ask(
        cpe,
        "<c:Download><CommandKey>fw-2</CommandKey><FileType>1 Firmware Upgrade Image</FileType>"
        "<URL>http://127.0.0.1:9/fw.bin</URL><Username/><Password/><FileSize>10</FileSize>"
        "<TargetFileName/><DelaySeconds>0</DelaySeconds><SuccessURL/><FailureURL/></c:Download>",
    )
    assert answer.findtext("Status") == "1"
    assert answer.findtext("StartTime") == "0001-01-01T00:00:00Z"
    assert cpe._actions[0][0] == "download"
    answer = ask(cpe, "<c:Download><CommandKey>x</CommandKey><FileType>9 Nonsense</FileType><URL>u</URL></c:Download>")
    assert fault_of(answer)[0] == 9003


def test_reboot_factory_reset_and_schedule_inform_answer_at_once(cpe: SimulatedCpe) -> None:
    assert etree.QName(ask(cpe, "<c:Reboot><CommandKey>r1</CommandKey></c:Reboot>")).localname == "RebootResponse"
    assert etree.QName(ask(cpe, "<c:FactoryReset/>")).localname == "FactoryResetResponse"
    answer = ask(cpe, "<c:ScheduleInform><DelaySeconds>5</DelaySeconds><CommandKey>s</CommandKey></c:ScheduleInform>")
    assert etree.QName(answer).localname == "ScheduleInformResponse"
    assert fault_of(ask(cpe, "<c:ScheduleInform><DelaySeconds>0</DelaySeconds></c:ScheduleInform>"))[0] == 9003
    assert [kind for kind, _ in cpe._actions] == ["reboot", "factory_reset", "schedule"]


def test_injected_fault() -> None:
    cpe = SimulatedCpe("SIMRPC02", faults=FaultInjection(rpc_faults={"Reboot": 9001}))
    assert fault_of(ask(cpe, "<c:Reboot><CommandKey/></c:Reboot>"))[0] == 9001


def test_tr098_device_answers_in_its_model() -> None:
    cpe = SimulatedCpe("SIMRPC03", data_model=profiles.TR098, scenario="wifi_congested")
    answer = ask(
        cpe,
        "<c:GetParameterValues><ParameterNames><string>InternetGatewayDevice.LANDevice.1.WLANConfiguration.1."
        "</string></ParameterNames></c:GetParameterValues>",
    )
    found = {k: v for k, (v, _) in values(answer).items()}
    assert found["InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Channel"] == "6"
    assert found["InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.TotalAssociations"] == "12"
    inform = cpe.render_inform([("0 BOOTSTRAP", "")])
    assert b"InternetGatewayDevice.DeviceSummary" in inform
    assert b"WANPPPConnection.1.ExternalIPAddress" in inform


def test_hostile_input_is_refused() -> None:
    with pytest.raises(soap.GarbledMessage):
        soap.parse(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    with pytest.raises(soap.GarbledMessage):
        soap.parse(b"<S:Envelope xmlns:S='http://schemas.xmlsoap.org/soap/envelope/'><S:Body><broken")
    with pytest.raises(soap.GarbledMessage):
        soap.parse(b"<html/>")
    assert soap.parse(b"  ") is None
