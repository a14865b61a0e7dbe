"""The GenieACS adapter over real HTTP against a local server speaking the NBI's documented JSON."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from beskontakt.cpe import profiles
from beskontakt.cpe.genieacs import GenieAcs, flatten
from beskontakt.cpe.management import DeviceManagement, Outcome
from beskontakt.cpe.tests.nbi_server import NbiServer, Param, device_id_for


@pytest.fixture
def nbi() -> Iterator[NbiServer]:
    server = NbiServer().start()
    yield server
    server.stop()


@pytest.fixture
def acs(nbi: NbiServer) -> Iterator[GenieAcs]:
    with GenieAcs(nbi.url, poll_interval=0.05, refresh_every=0.5) as adapter:
        yield adapter


def _posted_tasks(nbi: NbiServer) -> list[tuple[str, dict[str, list[str]]]]:
    return [
        (unquote(urlsplit(path).path), parse_qs(urlsplit(path).query, keep_blank_values=True))
        for method, path in nbi.requests
        if method == "POST"
    ]


def test_it_is_a_device_management(acs: GenieAcs) -> None:
    assert isinstance(acs, DeviceManagement)
    assert acs.name == "genieacs"


def test_find_device_tr181(nbi: NbiServer, acs: GenieAcs) -> None:
    nbi.add_device("SN-0001", profiles.TR181, values={profiles.SOFTWARE_VERSION: "5.0.2"})
    info = acs.find_device("SN-0001")
    assert info is not None
    assert info.device_id == "202BC1-BM632w-SN%2D0001"  # GenieACS escapes "-" inside a part
    assert info.serial_number == "SN-0001"
    assert info.data_model == profiles.TR181
    assert info.manufacturer == "Beskontakt Labs"
    assert info.product_class == "BM632w"
    assert info.software_version == "5.0.2"
    assert info.periodic_inform_interval == 300
    assert info.last_inform_at is not None
    assert info.online(datetime.now(UTC)) is True


def test_find_device_tr098_and_unknown(nbi: NbiServer, acs: GenieAcs) -> None:
    nbi.add_device("CP1234", profiles.TR098, oui="00236A", product_class="SR552n")
    info = acs.find_device("CP1234")
    assert info is not None and info.data_model == profiles.TR098
    assert info.device_id == "00236A-SR552n-CP1234"
    assert acs.find_device("nobody") is None
    assert acs.last_error == ""


def test_find_device_sends_the_documented_query(nbi: NbiServer, acs: GenieAcs) -> None:
    acs.find_device("SN 1/2")
    method, raw = nbi.requests[-1]
    assert method == "GET"
    parts = urlsplit(raw)
    assert parts.path == "/devices/"
    assert "%7B%22_deviceId._SerialNumber%22%3A%22SN%201%2F2%22%7D" in parts.query  # percent-encoded JSON
    query = parse_qs(parts.query)
    assert json.loads(query["query"][0]) == {"_deviceId._SerialNumber": "SN 1/2"}
    assert "_lastInform" in query["projection"][0].split(",")


def test_device_id_is_percent_encoded_in_task_urls(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SR552NA084-0003269", oui="00236a", product_class="SR552n")
    assert device.device_id == "00236a-SR552n-SR552NA084%2D0003269"
    assert acs.reboot(device.device_id, timeout=5).ok
    raw = [path for method, path in nbi.requests if method == "POST"][-1]
    # as in GenieACS's docs: the id's own "%2D" travels as "%252D"
    assert raw.startswith("/devices/00236a-SR552n-SR552NA084%252D0003269/tasks?")
    query = parse_qs(urlsplit(raw).query, keep_blank_values=True)
    assert "connection_request" in query and int(query["timeout"][0]) > 0


def test_read_cached_does_not_touch_the_device(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-C", profiles.TR181)
    device.params["Device.WiFi.Radio.1.Channel"] = Param(11, "xsd:unsignedInt")  # changed on the device only
    readings, outcome = acs.read(device.device_id, profiles.OVERVIEW)
    assert outcome.ok and outcome.values["data_model"] == profiles.TR181
    assert readings[profiles.WIFI_CHANNEL].value == 6  # GenieACS's cached value
    assert readings[profiles.WIFI_CHANNEL].path == "Device.WiFi.Radio.1.Channel"
    assert readings[profiles.WIFI_CHANNEL].updated_at is not None
    assert readings[profiles.WAN_STATUS].value == "up"
    assert readings[profiles.OPTICAL_RX_POWER].value == -19.5
    assert readings[profiles.DSL_SNR_MARGIN_DOWN].value == 9.5
    assert readings[profiles.WIFI_AUTO_CHANNEL].value is False
    assert readings[profiles.WIFI_CHANNELS_IN_USE].value == [1, 6, 6, 11]
    assert readings[profiles.WIFI_CLIENT_SIGNALS].value == [-48, -71]
    assert readings[profiles.UPTIME].value == 86400
    assert _posted_tasks(nbi) == []


def test_read_refresh_fetches_from_the_device(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-R", profiles.TR181)
    before = acs.read(device.device_id, [profiles.WIFI_CHANNEL])[0][profiles.WIFI_CHANNEL].updated_at
    device.params["Device.WiFi.Radio.1.Channel"] = Param(11, "xsd:unsignedInt")
    del device.params["Device.WiFi.AccessPoint.1.AssociatedDevice.2.SignalStrength"]  # a station left
    readings, outcome = acs.read(
        device.device_id, [profiles.WIFI_CHANNEL, profiles.WIFI_CLIENT_SIGNALS], refresh=True, timeout=5
    )
    assert outcome.ok, outcome.detail
    assert readings[profiles.WIFI_CHANNEL].value == 11
    after = readings[profiles.WIFI_CHANNEL].updated_at
    assert before is not None and after is not None and after >= before
    assert readings[profiles.WIFI_CLIENT_SIGNALS].value == [-48]
    tasks = [json.loads(body) for body in _task_bodies(nbi)]
    assert tasks == [
        {"name": "getParameterValues", "parameterNames": ["Device.WiFi.Radio.1.Channel"]},
        {"name": "refreshObject", "objectName": "Device.WiFi.AccessPoint.1.AssociatedDevice"},
    ]


def test_read_tr098_names_the_model_lacks_are_none(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-098", profiles.TR098)
    readings, outcome = acs.read(device.device_id, profiles.OVERVIEW, refresh=True, timeout=5)
    assert outcome.ok, outcome.detail
    assert readings[profiles.WAN_STATUS].value == "up"  # "Connected" normalised
    assert readings[profiles.WAN_STATUS].path.startswith("InternetGatewayDevice.WANDevice.1.")
    assert readings[profiles.OPTICAL_RX_POWER].value is None
    assert readings[profiles.OPTICAL_RX_POWER].path == ""
    assert readings[profiles.DSL_SNR_MARGIN_UP].value == 12.0


def test_read_refresh_timeout_keeps_the_cached_values(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-SLOW", profiles.TR181, session_delay=5.0)
    readings, outcome = acs.read(device.device_id, [profiles.WIFI_SSID], refresh=True, timeout=1.0)
    assert not outcome.ok and outcome.timed_out
    assert outcome.task_id  # the task stays queued for the next inform
    assert "Task queued but not processed" in outcome.detail
    assert readings[profiles.WIFI_SSID].value == "home-net"  # time was kept to read the cache


def test_set_values_writes_typed_triples(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-SET", profiles.TR181)
    outcome = acs.set_values(
        device.device_id,
        {profiles.WIFI_CHANNEL: 1, profiles.WIFI_AUTO_CHANNEL: False, profiles.WIFI_PASSWORD: "s3cret-pass"},
        timeout=5,
    )
    assert outcome.ok, outcome.detail
    assert outcome.task_id
    assert device.params["Device.WiFi.Radio.1.Channel"].value == 1
    assert device.params["Device.WiFi.AccessPoint.1.Security.KeyPassphrase"].value == "s3cret-pass"
    assert "s3cret-pass" not in outcome.detail
    body = json.loads(_task_bodies(nbi)[-1])
    assert body == {
        "name": "setParameterValues",
        "parameterValues": [
            ["Device.WiFi.Radio.1.Channel", "1", "xsd:unsignedInt"],
            ["Device.WiFi.Radio.1.AutoChannelEnable", "false", "xsd:boolean"],
            ["Device.WiFi.AccessPoint.1.Security.KeyPassphrase", "s3cret-pass", "xsd:string"],
        ],
    }
    readings, _ = acs.read(device.device_id, [profiles.WIFI_CHANNEL])
    assert readings[profiles.WIFI_CHANNEL].value == 1


def test_set_values_refuses_wrong_types(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-TYPE", profiles.TR181)
    for values in ({profiles.WIFI_CHANNEL: "six"}, {profiles.WIFI_CHANNEL: -1}, {profiles.WIFI_AUTO_CHANNEL: "maybe"}):
        outcome = acs.set_values(device.device_id, values)
        assert not outcome.ok and "wrong type" in outcome.detail
    assert not acs.set_values(device.device_id, {}).ok
    assert not acs.set_values(device.device_id, {profiles.WIFI_CLIENT_SIGNALS: [1]}).ok  # a list name is read-only
    assert _posted_tasks(nbi) == []


def test_set_values_a_name_the_model_lacks(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-098S", profiles.TR098)
    outcome = acs.set_values(device.device_id, {profiles.OPTICAL_RX_POWER: 1})
    assert not outcome.ok and outcome.fault_code is None
    assert "optical.rx_power" in outcome.detail
    assert _posted_tasks(nbi) == []


def test_a_cwmp_fault_becomes_an_outcome_and_is_cleared(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-F", profiles.TR181)
    device.params["Device.WiFi.Radio.1.Channel"].writable = False
    outcome = acs.set_values(device.device_id, {profiles.WIFI_CHANNEL: 3}, timeout=5)
    assert outcome == Outcome(
        False,
        "CPE fault 9008: Attempt to set a non-writable parameter",
        fault_code=9008,
        task_id=outcome.task_id,
    )
    assert outcome.task_id
    assert nbi.faults == {} and nbi.tasks == {}  # DELETE /faults/<id> took the task with it
    assert ("DELETE", f"/faults/{device.device_id.replace('%', '%25')}%3Atask_{outcome.task_id}") in nbi.requests
    # the queue is free again: the next task runs
    assert acs.reboot(device.device_id, timeout=5).ok


def test_an_injected_fault_on_reboot(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-F2", profiles.TR098, fail_next=("9002", "Internal error"))
    outcome = acs.reboot(device.device_id, timeout=5)
    assert not outcome.ok and outcome.fault_code == 9002 and not outcome.timed_out
    assert outcome.detail == "CPE fault 9002: Internal error"
    assert device.reboots == 0


def test_reboot_and_factory_reset(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-B", profiles.TR181)
    device.params["Device.WiFi.SSID.1.SSID"].value = "changed"
    assert acs.reboot(device.device_id, timeout=5).ok
    assert device.reboots == 1
    assert device.params["Device.DeviceInfo.UpTime"].value == 0
    outcome = acs.factory_reset(device.device_id, timeout=5)
    assert outcome.ok and outcome.task_id
    assert device.factory_resets == 1
    assert device.params["Device.WiFi.SSID.1.SSID"].value == "home-net"
    assert [json.loads(b)["name"] for b in _task_bodies(nbi)] == ["reboot", "factoryReset"]


def test_offline_device_queues_the_task(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-OFF", profiles.TR181, reachable=False)
    outcome = acs.reboot(device.device_id, timeout=5)
    assert not outcome.ok and outcome.timed_out and outcome.fault_code is None
    assert "Device is offline" in outcome.detail
    assert outcome.task_id in nbi.tasks  # GenieACS runs it at the next inform
    assert device.reboots == 0


def test_a_session_longer_than_the_timeout(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-LONG", profiles.TR181, session_seconds=3.0)
    outcome = acs.factory_reset(device.device_id, timeout=0.8)
    assert not outcome.ok and outcome.timed_out
    assert "did not answer within" in outcome.detail


def test_unknown_device(nbi: NbiServer, acs: GenieAcs) -> None:
    readings, outcome = acs.read("000000-X-nobody", [profiles.WAN_STATUS])
    assert readings[profiles.WAN_STATUS].value is None
    assert not outcome.ok and "does not know device" in outcome.detail
    nbi.add_device("SN-KNOWN", profiles.TR181)
    assert not acs.reboot("000000-X-nobody", timeout=2).ok


def test_reprovision_is_a_connection_request(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-P", profiles.TR181)
    outcome = acs.reprovision(device.device_id, timeout=5)
    assert outcome.ok, outcome.detail
    method, raw = nbi.requests[-1]
    assert method == "POST" and urlsplit(raw).query == "connection_request"
    device.reachable = False
    offline = acs.reprovision(device.device_id, timeout=5)
    assert not offline.ok and offline.timed_out and "Device is offline" in offline.detail


@pytest.mark.parametrize("data_model", [profiles.TR181, profiles.TR098])
def test_ping_waits_for_diagnostics_complete(nbi: NbiServer, acs: GenieAcs, data_model: str) -> None:
    device = nbi.add_device(f"SN-PING-{data_model}", data_model, diagnostics_seconds=0.3)
    outcome = acs.ping(device.device_id, "192.0.2.1", count=5, timeout=10)
    assert outcome.ok, outcome.detail
    assert outcome.values == {
        "state": "Complete",
        "sent": 5,
        "received": 4,
        "avg_ms": 12,
        "min_ms": 9,
        "max_ms": 17,
    }
    bodies = [json.loads(b) for b in _task_bodies(nbi)]
    assert bodies[0]["name"] == "setParameterValues"
    paths = [item[0] for item in bodies[0]["parameterValues"]]
    assert paths[-1].endswith("DiagnosticsState") and bodies[0]["parameterValues"][-1][1] == "Requested"
    # the results came with a getParameterValues once the CPE informed DIAGNOSTICS COMPLETE
    assert bodies[-1]["name"] == "getParameterValues"
    assert any(name.endswith("SuccessCount") for name in bodies[-1]["parameterNames"])
    assert len(bodies) <= 4  # one set, then a fetch or two: no storm of connection requests
    assert device.sessions == len(bodies) + 1  # + the DIAGNOSTICS COMPLETE inform


def test_ping_results_fetched_by_a_provision(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-PROV", profiles.TR181, diagnostics_seconds=0.1, refresh_on_diagnostics=True)
    outcome = acs.ping(device.device_id, "192.0.2.1", count=4, timeout=10)
    assert outcome.ok and outcome.values["received"] == 4
    assert [json.loads(b)["name"] for b in _task_bodies(nbi)] == ["setParameterValues"]  # no fetch needed


def test_ping_error_state(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-PERR", profiles.TR181, ping_result=None, diagnostics_seconds=0.1)
    outcome = acs.ping(device.device_id, "no.such.host", timeout=10)
    assert not outcome.ok and not outcome.timed_out
    assert outcome.values["state"] == "Error_CannotResolveHostName"


def test_ping_never_completes(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-PSLOW", profiles.TR181, diagnostics_seconds=60)
    outcome = acs.ping(device.device_id, "192.0.2.1", timeout=1.5)
    assert not outcome.ok and outcome.timed_out


def test_ping_bad_input(nbi: NbiServer, acs: GenieAcs) -> None:
    assert not acs.ping("x", "", count=4).ok
    assert not acs.ping("x", "192.0.2.1", count=0).ok
    assert nbi.requests == []


def test_speed_test(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device(
        "SN-SPEED", profiles.TR181, diagnostics_seconds=0.2, download_result={"bytes": 25_000_000, "seconds": 2.0}
    )
    outcome = acs.speed_test(device.device_id, "http://192.0.2.5/25MB.bin", timeout=10)
    assert outcome.ok, outcome.detail
    assert outcome.values == {"state": "Complete", "bytes": 25_000_000, "seconds": 2.0, "mbps": 100.0}
    first = json.loads(_task_bodies(nbi)[0])
    assert first["parameterValues"][0] == [
        "Device.IP.Diagnostics.DownloadDiagnostics.DownloadURL",
        "http://192.0.2.5/25MB.bin",
        "xsd:string",
    ]


def test_speed_test_failure_and_bad_url(nbi: NbiServer, acs: GenieAcs) -> None:
    device = nbi.add_device("SN-SPF", profiles.TR098, download_result=None, diagnostics_seconds=0.1)
    outcome = acs.speed_test(device.device_id, "http://192.0.2.5/x", timeout=10)
    assert not outcome.ok and outcome.values["state"] == "Error_InitConnectionFailed"
    assert not acs.speed_test(device.device_id, "file:///etc/passwd").ok


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_nbi_down_never_raises() -> None:
    with GenieAcs(f"http://127.0.0.1:{_closed_port()}") as acs:
        assert acs.find_device("SN") is None
        assert "unreachable" in acs.last_error
        readings, outcome = acs.read("dev", [profiles.WAN_STATUS], refresh=True)
        assert readings[profiles.WAN_STATUS].value is None
        assert not outcome.ok and not outcome.timed_out and "unreachable" in outcome.detail
        for result in (
            acs.set_values("dev", {profiles.WIFI_CHANNEL: 1}),
            acs.reboot("dev"),
            acs.factory_reset("dev"),
            acs.reprovision("dev"),
            acs.ping("dev", "192.0.2.1"),
            acs.speed_test("dev", "http://192.0.2.5/x"),
        ):
            assert not result.ok and "unreachable" in result.detail


def test_a_refused_task_does_not_echo_values() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text=f"Error: Invalid parameter value '{request.content.decode()}'")

    with GenieAcs("http://nbi.invalid", client=httpx.Client(transport=httpx.MockTransport(handler))) as acs:
        acs._models["dev"] = profiles.TR181
        outcome = acs.set_values("dev", {profiles.WIFI_PASSWORD: "top-secret-1"})
        assert not outcome.ok and "HTTP 400" in outcome.detail and "top-secret-1" not in outcome.detail


def test_nbi_answers_garbage() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>not json</html>")

    with GenieAcs("http://nbi.invalid", client=httpx.Client(transport=httpx.MockTransport(handler))) as acs:
        assert acs.find_device("SN") is None
        assert "JSON" in acs.last_error
        outcome = acs.reboot("dev")  # a 200 is "done" even when the body is not the task
        assert outcome.ok and outcome.task_id is None
        readings, read = acs.read("dev", [profiles.WAN_STATUS])
        assert not read.ok and "JSON" in read.detail and readings[profiles.WAN_STATUS].value is None


def test_flatten_reads_genieacs_documents() -> None:
    document = {
        "_id": "x",
        "Device": {
            "_object": True,
            "DeviceInfo": {
                "UpTime": {"_value": 5, "_type": "xsd:unsignedInt", "_timestamp": "2026-11-25T08:00:00.000Z"}
            },
        },
    }
    assert flatten(document) == {"Device.DeviceInfo.UpTime": (5, datetime(2026, 11, 25, 8, tzinfo=UTC))}


def test_nbi_server_speaks_the_documented_collections(nbi: NbiServer) -> None:
    device = nbi.add_device("SN-DOC", profiles.TR181)
    with httpx.Client(base_url=nbi.url) as client:
        docs = client.get("/devices/", params={"query": json.dumps({"_id": device.device_id})}).json()
        assert docs[0]["_deviceId"]["_SerialNumber"] == "SN-DOC"
        leaf = docs[0]["Device"]["WiFi"]["Radio"]["1"]["Channel"]
        assert leaf["_value"] == 6 and leaf["_type"] == "xsd:unsignedInt" and leaf["_writable"] is True
        by_value = client.get("/devices/", params={"query": json.dumps({"Device.WiFi.Radio.1.Channel": 6})}).json()
        assert [d["_id"] for d in by_value] == [device.device_id]
        assert client.get("/devices/", params={"query": "{bad"}).status_code == 400
        queued = client.post(
            f"/devices/{device_id_for('202BC1', 'BM632w', 'SN-DOC').replace('%', '%25')}/tasks",
            content=json.dumps({"name": "reboot"}),
        )
        assert queued.status_code == 202 and queued.json()["name"] == "reboot"
        assert client.get("/tasks/", params={"query": json.dumps({"device": device.device_id})}).json()
        assert client.delete(f"/tasks/{queued.json()['_id']}").status_code == 200
        assert client.post(f"/devices/{device.device_id}/tasks", content=b'{"name":"nope"}').status_code == 400
        preset = {"weight": 0, "precondition": "{}", "configurations": []}
        assert client.put("/presets/inform", content=json.dumps(preset)).status_code == 200
        assert client.get("/presets/").json()[0]["_id"] == "inform"
        assert client.delete("/presets/inform").status_code == 200
        put = client.put("/files/fw.bin", content=b"\x00" * 10, headers={"fileType": "1 Firmware Upgrade Image"})
        assert put.status_code == 201
        files = client.get("/files/", params={"query": json.dumps({"filename": "fw.bin"})}).json()
        assert files[0]["length"] == 10 and files[0]["metadata"]["fileType"] == "1 Firmware Upgrade Image"
        assert client.delete("/files/fw.bin").status_code == 200
        assert client.delete("/files/fw.bin").status_code == 404


def _task_bodies(nbi: NbiServer) -> list[bytes]:
    return [body for _, body in nbi.bodies]


def test_the_adapter_is_plain_python() -> None:
    import ast
    from pathlib import Path

    source = Path(__file__).resolve().parents[1] / "genieacs.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "django" not in imported
