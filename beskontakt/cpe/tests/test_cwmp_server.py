"""Full CWMP sessions over real HTTP: uvicorn on a free loopback port, httpx as the CPE."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from beskontakt.cpe.cwmp import faults
from beskontakt.cpe.cwmp import messages as m
from beskontakt.cpe.cwmp.auth import Authenticator
from beskontakt.cpe.cwmp.connection_request import send_connection_request
from beskontakt.cpe.cwmp.envelope import Envelope, parse, render
from beskontakt.cpe.cwmp.memory import MemoryBackend
from beskontakt.cpe.cwmp.serve import serving
from beskontakt.cpe.cwmp.server import AcsApp

SECRET = b"0123456789abcdef0123456789abcdef"
USER, PASSWORD = "cpe-sn1", "s3cret"
DEVICE = m.DeviceId("Acme", "00D09E", "HGW", "SN1")
DEVICE_ID = "00D09E-HGW-SN1"


def inform(*codes: str, device: m.DeviceId = DEVICE) -> m.Inform:
    return m.Inform(device=device, events=[m.EventStruct(code) for code in codes or (m.PERIODIC,)])


class Cpe:
    """A minimal CPE speaking CWMP through httpx (cookies kept by the client)."""

    def __init__(self, client: httpx.AsyncClient, url: str, version: str = "1-0") -> None:
        self.client = client
        self.url = url
        self.version = version
        self.counter = 0

    async def post(self, message: m.Message | None, cwmp_id: str | None = None, **header: Any) -> httpx.Response:
        if message is None:
            content = b""
        else:
            self.counter += 1
            ident = cwmp_id if cwmp_id is not None else f"cpe-{self.counter}"
            content = render(message, cwmp_id=ident, version=self.version, **header)
        return await self.client.post(self.url + "/", content=content, headers={"SOAPAction": ""})


def envelope(response: httpx.Response) -> Envelope:
    assert response.headers["content-type"] == 'text/xml; charset="utf-8"'
    return parse(response.content)


def fault_code(response: httpx.Response) -> int:
    message = envelope(response).message
    assert isinstance(message, m.Fault), message
    return message.code


Scenario = Callable[[str, MemoryBackend, AcsApp], Awaitable[None]]


def run_acs(scenario: Scenario, *, backend: MemoryBackend | None = None, lifespan: str = "on", **options: Any) -> None:
    backend = backend or MemoryBackend(credentials={USER: PASSWORD})
    options.setdefault("auth", "digest")
    app = AcsApp(backend, secret=SECRET, **options)

    async def main() -> None:
        async with serving(app, lifespan=lifespan) as url:
            await scenario(url, backend, app)

    asyncio.run(main())


def digest_client(password: str = PASSWORD, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(auth=httpx.DigestAuth(USER, password), timeout=10, **kwargs)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for something the server does in the background (generous bound, not a speed check)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"never happened: {what}")


def test_full_session_with_digest() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        read = backend.enqueue(DEVICE_ID, m.GetParameterValues(names=["Device.WiFi.Radio.1.Channel"]))
        reboot = backend.enqueue(DEVICE_ID, m.Reboot(command_key="case-1"))
        async with digest_client() as client:
            cpe = Cpe(client, url)
            response = await cpe.post(inform(m.BOOT, m.TRANSFER_COMPLETE), cwmp_id="inform-1")
            assert response.status_code == 200
            assert "bk_cwmp" in response.headers["set-cookie"]
            answer = envelope(response)
            assert answer.message == m.InformResponse(max_envelopes=1)
            assert answer.cwmp_id == "inform-1"

            response = await cpe.post(m.TransferComplete(command_key="fw-1"), cwmp_id="tc")
            assert envelope(response).message == m.TransferCompleteResponse()
            assert envelope(response).cwmp_id == "tc"
            response = await cpe.post(m.GetRPCMethods())
            assert isinstance(envelope(response).message, m.GetRPCMethodsResponse)

            response = await cpe.post(None)  # empty POST: the ACS's turn
            request = envelope(response)
            assert isinstance(request.message, m.GetParameterValues)
            value = m.ParameterValue("Device.WiFi.Radio.1.Channel", "6", m.XSD_UNSIGNED_INT)
            response = await cpe.post(m.GetParameterValuesResponse(parameters=[value]), cwmp_id=request.cwmp_id)
            request = envelope(response)
            assert request.message == m.Reboot(command_key="case-1")
            response = await cpe.post(m.RebootResponse(), cwmp_id=request.cwmp_id)
            assert response.status_code == 204
            assert response.content == b""
        assert read.result() == m.GetParameterValuesResponse(parameters=[value])
        assert reboot.result() == m.RebootResponse()
        device = backend.devices[DEVICE_ID]
        assert device.username == USER
        assert device.transfers == [m.TransferComplete(command_key="fw-1")]
        assert backend.closed == [(DEVICE_ID, "done")]
        assert app.sessions == {} and app.connections == {}

    run_acs(scenario)


@pytest.mark.parametrize("version", ["1-0", "1-2", "1-4"])
def test_answers_in_the_cpes_version(version: str) -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async with httpx.AsyncClient() as client:
            cpe = Cpe(client, url, version=version)
            assert envelope(await cpe.post(inform())).version == version
            assert (await cpe.post(None)).status_code == 204

    run_acs(scenario, auth="none")


def test_sha256_digest_and_basic() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async with digest_client() as client:  # httpx picks from the offered algorithms
            assert (await Cpe(client, url).post(inform())).status_code == 200
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        async with httpx.AsyncClient(headers={"Authorization": f"Basic {token}"}) as client:
            cpe = Cpe(client, url)
            assert (await cpe.post(inform(device=m.DeviceId("Acme", "00D09E", "HGW", "SN2")))).status_code == 200
            assert (await cpe.post(None)).status_code == 204

    run_acs(scenario, auth="any", digest_algorithms=("SHA-256", "MD5"))


def test_unauthenticated_and_wrong_password_get_401() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async with httpx.AsyncClient() as client:
            response = await Cpe(client, url).post(inform())
            assert response.status_code == 401
            challenges = response.headers.get_list("www-authenticate")
            assert challenges[0].startswith('Digest realm="beskontakt-acs", qop="auth", algorithm=MD5')
            assert backend.devices == {}
        async with digest_client(password="wrong") as client:
            assert (await Cpe(client, url).post(inform())).status_code == 401
        assert backend.devices == {}
        assert app.stats["unauthorized"] == 3  # the digest client first asks without credentials

    run_acs(scenario)


def test_stale_nonce_gets_stale_true() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        old = Authenticator("digest", "beskontakt-acs", SECRET, clock=lambda: 1_000_000.0)
        nonce = old.make_nonce()
        from beskontakt.cpe.cwmp.auth import digest_response

        answer = digest_response(
            algorithm="MD5", username=USER, realm="beskontakt-acs", password=PASSWORD, method="POST", uri="/",
            nonce=nonce, nc="00000001", cnonce="c", qop="auth",
        )  # fmt: skip
        header = (
            f'Digest username="{USER}", realm="beskontakt-acs", nonce="{nonce}", uri="/", qop=auth, '
            f'nc=00000001, cnonce="c", response="{answer}"'
        )
        async with httpx.AsyncClient(headers={"Authorization": header}) as client:
            response = await Cpe(client, url).post(inform())
        assert response.status_code == 401
        assert all("stale=true" in value for value in response.headers.get_list("www-authenticate"))

    run_acs(scenario)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"<not-closed", 400, faults.INVALID_ARGUMENTS),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', 400, 8003),
        (b"<a/>", 400, faults.INVALID_ARGUMENTS),
        (b"<x>" + b"a" * 300_000 + b"</x>", 413, faults.RESOURCES_EXCEEDED),
    ],
    ids=["malformed", "xxe", "not-soap", "oversized"],
)
def test_bad_bodies_get_a_soap_fault(body: bytes, status: int, code: int) -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async with digest_client() as client:
            response = await client.post(url + "/", content=body)
            assert response.status_code == status
            assert fault_code(response) == code
            # a chunked body without Content-Length is limited too
            if status == 413:

                async def chunks() -> AsyncIterator[bytes]:
                    for start in range(0, len(body), 65536):
                        yield body[start : start + 65536]

                response = await client.post(url + "/", content=chunks())
                assert response.status_code == 413
        assert backend.devices == {}

    run_acs(scenario)


def test_bad_body_inside_a_session_ends_it() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        done = backend.enqueue(DEVICE_ID, m.GetParameterValues(names=["Device."]))
        async with digest_client() as client:
            cpe = Cpe(client, url)
            await cpe.post(inform())
            await cpe.post(None)
            response = await client.post(url + "/", content=b"<broken")
            assert response.status_code == 400
            assert fault_code(response) == faults.INVALID_ARGUMENTS
        result = done.result()
        assert isinstance(result, m.Fault) and result.code == faults.INVALID_ARGUMENTS
        assert backend.closed == [(DEVICE_ID, "protocol_error")]
        assert app.sessions == {}

    run_acs(scenario)


def test_other_methods_get_405() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async with httpx.AsyncClient() as client:
            for method in ("GET", "PUT", "DELETE"):
                response = await client.request(method, url + "/")
                assert response.status_code == 405
                assert response.headers["allow"] == "POST"

    run_acs(scenario)


def test_first_message_must_be_inform_over_http() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async with digest_client() as client:
            response = await Cpe(client, url).post(None)
            assert response.status_code == 400
            assert fault_code(response) == faults.INVALID_ARGUMENTS
            assert "set-cookie" not in response.headers

    run_acs(scenario)


def test_per_parameter_faults_over_http() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        done = backend.enqueue(
            DEVICE_ID,
            m.SetParameterValues(
                values=[m.ParameterValue.of("Device.WiFi.Radio.1.Channel", 99), m.ParameterValue("Device.Up", "1")],
                parameter_key="case-9",
            ),
        )
        async with digest_client() as client:
            cpe = Cpe(client, url)
            await cpe.post(inform())
            request = envelope(await cpe.post(None))
            assert isinstance(request.message, m.SetParameterValues)
            assert request.message.parameter_key == "case-9"
            fault = m.Fault(
                9003,
                "Invalid arguments",
                [
                    m.SetParameterFault("Device.WiFi.Radio.1.Channel", 9007, "Invalid parameter value"),
                    m.SetParameterFault("Device.Up", 9008, "Attempt to set a non-writable parameter"),
                ],
            )
            assert (await cpe.post(fault, cwmp_id=request.cwmp_id)).status_code == 204
        result = done.result()
        assert isinstance(result, m.Fault)
        assert [item.code for item in result.set_parameter_faults] == [9007, 9008]

    run_acs(scenario)


def test_mismatched_response_over_http() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        backend.enqueue(DEVICE_ID, m.GetParameterNames(parameter_path="Device.", next_level=True))
        async with digest_client() as client:
            cpe = Cpe(client, url)
            await cpe.post(inform())
            request = envelope(await cpe.post(None))
            response = await cpe.post(m.GetParameterValuesResponse(), cwmp_id=request.cwmp_id)
            assert response.status_code == 400
            assert fault_code(response) == faults.RESPONSE_MISMATCH
        assert backend.closed == [(DEVICE_ID, "protocol_error")]

    run_acs(scenario)


def test_hold_requests_over_http() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        backend.enqueue(DEVICE_ID, m.Reboot())
        async with digest_client() as client:
            cpe = Cpe(client, url)
            await cpe.post(inform(), hold_requests=True)
            assert (await cpe.post(None)).status_code == 204
        assert len(backend.devices[DEVICE_ID].tasks) == 1

    run_acs(scenario)


def test_session_tracked_by_connection_without_cookies() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        backend.enqueue(DEVICE_ID, m.FactoryReset())
        async with digest_client() as client:
            cpe = Cpe(client, url)
            await cpe.post(inform())
            client.cookies.clear()  # a CPE that ignores Set-Cookie; same keep-alive connection
            request = envelope(await cpe.post(None))
            assert isinstance(request.message, m.FactoryReset)
            client.cookies.clear()
            assert (await cpe.post(m.FactoryResetResponse(), cwmp_id=request.cwmp_id)).status_code == 204

    run_acs(scenario)


def test_new_inform_replaces_a_lost_session() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async with digest_client() as client:
            cpe = Cpe(client, url)
            await cpe.post(inform())
            response = await cpe.post(inform(m.BOOT))  # the CPE rebooted and starts over
            assert response.status_code == 200
            assert isinstance(envelope(response).message, m.InformResponse)
            assert (await cpe.post(None)).status_code == 204
        assert backend.closed == [(DEVICE_ID, "vanished"), (DEVICE_ID, "done")]

    run_acs(scenario)


def test_overload_answers_503_with_retry_after() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async with httpx.AsyncClient() as first, httpx.AsyncClient() as second:
            assert (await Cpe(first, url).post(inform())).status_code == 200
            response = await Cpe(second, url).post(inform(device=m.DeviceId("A", "1", "P", "other")))
            assert response.status_code == 503
            assert response.headers["retry-after"] == "30"
            assert fault_code(response) == faults.RETRY_REQUEST
            assert (await Cpe(first, url).post(None)).status_code == 204  # the open one goes on
            backend.overload = True
            response = await Cpe(second, url).post(inform())
            assert response.status_code == 503
            backend.overload = False
            assert (await Cpe(second, url).post(inform())).status_code == 200
        assert app.stats["overloaded"] == 2

    run_acs(scenario, auth="none", max_sessions=1)


@pytest.mark.parametrize("lifespan", ["on", "off"])
def test_vanished_cpe_is_expired_and_its_task_kept(lifespan: str) -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        done = backend.enqueue(DEVICE_ID, m.GetParameterValues(names=["Device."]))
        async with digest_client() as client:
            cpe = Cpe(client, url)
            await cpe.post(inform())
            await cpe.post(None)  # the ACS sends its request … and the CPE never answers
        await until(lambda: backend.closed == [(DEVICE_ID, "vanished")], "session expired")
        assert app.sessions == {}
        assert not done.done()
        assert len(backend.devices[DEVICE_ID].tasks) == 1
        async with digest_client() as client:  # the next session gets the task again
            cpe = Cpe(client, url)
            await cpe.post(inform())
            request = envelope(await cpe.post(None))
            assert isinstance(request.message, m.GetParameterValues)

    run_acs(scenario, session_timeout=0.2, lifespan=lifespan)


def test_shutdown_ends_open_sessions() -> None:
    backend = MemoryBackend()
    app = AcsApp(backend, auth="none", secret=SECRET)

    async def main() -> None:
        async with serving(app) as url, httpx.AsyncClient() as client:
            await Cpe(client, url).post(inform())
        assert backend.closed == [(DEVICE_ID, "timeout")]

    asyncio.run(main())


def test_files_are_served(tmp_path: Path) -> None:
    firmware = tmp_path / "fw.bin"
    firmware.write_bytes(bytes(range(256)) * 4000)

    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        backend.add_file("fw.bin", firmware)
        backend.add_file("cfg.xml", b"<config/>", "text/xml")
        async with httpx.AsyncClient() as client:
            response = await client.get(url + "/files/fw.bin")
            assert response.status_code == 200
            assert response.content == firmware.read_bytes()
            response = await client.get(url + "/files/cfg.xml")
            assert (response.content, response.headers["content-type"]) == (b"<config/>", "text/xml")
            response = await client.head(url + "/files/cfg.xml")
            assert (response.status_code, response.headers["content-length"]) == (200, "9")
            for missing in ("/files/none", "/files/..%2Fetc%2Fpasswd", "/files/", "/files/.hidden"):
                assert (await client.get(url + missing)).status_code == 404

    run_acs(scenario)


def test_many_concurrent_sessions() -> None:
    async def scenario(url: str, backend: MemoryBackend, app: AcsApp) -> None:
        async def one(index: int) -> int:
            async with httpx.AsyncClient() as client:
                cpe = Cpe(client, url)
                device = m.DeviceId("Acme", "00D09E", "HGW", f"SN{index:05d}")
                backend.enqueue(device.device_id, m.GetParameterValues(names=["Device.DeviceInfo.UpTime"]))
                await cpe.post(inform(device=device))
                request = envelope(await cpe.post(None))
                value = m.ParameterValue("Device.DeviceInfo.UpTime", str(index), m.XSD_UNSIGNED_INT)
                response = await cpe.post(m.GetParameterValuesResponse(parameters=[value]), cwmp_id=request.cwmp_id)
                return response.status_code

        statuses = await asyncio.gather(*(one(index) for index in range(150)))
        assert statuses == [204] * 150
        assert len(backend.devices) == 150
        assert backend.devices["00D09E-HGW-SN00042"].value("Device.DeviceInfo.UpTime") == "42"

    run_acs(scenario, auth="none")


# --- connection requests --------------------------------------------------------------


class CpeListener:
    """The CPE's connection-request endpoint: Digest-protected GET, counts accepted requests."""

    def __init__(self) -> None:
        self.authenticator = Authenticator("digest", "cpe", SECRET)
        self.accepted = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return

        async def lookup(username: str) -> str | None:
            return "cr-pass" if username == "acs" else None

        headers = dict(scope["headers"])
        header = headers.get(b"authorization", b"").decode() or None
        result = await self.authenticator.verify(scope["method"], header, lookup)
        if result.ok:
            self.accepted += 1
            await send({"type": "http.response.start", "status": 200, "headers": []})
        else:
            challenge = [(b"www-authenticate", value.encode()) for value in self.authenticator.challenge()]
            await send({"type": "http.response.start", "status": 401, "headers": challenge})
        await send({"type": "http.response.body", "body": b""})


def test_connection_request_with_digest() -> None:
    listener = CpeListener()

    async def main() -> None:
        async with serving(listener, lifespan="off") as url:
            ok = await send_connection_request(url + "/cr", "acs", "cr-pass")
            assert (ok.ok, ok.status) == (True, 200)
            refused = await send_connection_request(url + "/cr", "acs", "wrong")
            assert (refused.ok, refused.status, refused.reason) == (False, 401, "credentials refused")
        gone = await send_connection_request(url + "/cr", "acs", "cr-pass", timeout=2)
        assert not gone.ok and gone.status is None

    asyncio.run(main())
    assert listener.accepted == 1


def test_two_cpes_on_one_connection_and_an_unknown_cookie() -> None:
    """A proxy may carry several CPEs on one connection: an Inform opens its own session and
    leaves the other alive; a cookie this process does not know never borrows the connection's session."""
    backend = MemoryBackend()
    app = AcsApp(backend, auth="none", secret=SECRET)
    other = m.DeviceId("Acme", "00D09E", "HGW", "SN2")

    async def main() -> None:
        backend.enqueue(DEVICE_ID, m.GetParameterValues(names=["Device.DeviceInfo.UpTime"]))
        # httpx's ASGI transport gives every request the same client address: one "connection".
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://acs") as first_client,
            httpx.AsyncClient(transport=transport, base_url="http://acs") as second_client,
        ):
            first, second = Cpe(first_client, "http://acs"), Cpe(second_client, "http://acs")
            assert isinstance(envelope(await first.post(inform())).message, m.InformResponse)
            assert isinstance(envelope(await second.post(inform(device=other))).message, m.InformResponse)
            # the first CPE's session survived the second one's Inform on the same connection
            request = envelope(await first.post(None)).message
            assert isinstance(request, m.GetParameterValues)
            assert (await second.post(None)).status_code == 204
            # a stale cookie (say, another ACS process's session): refused, not guessed
            stale = await first_client.post("/", content=b"", headers={"Cookie": f"{app.cookie_name}=unknown-session"})
            assert stale.status_code == 400

    asyncio.run(main())
