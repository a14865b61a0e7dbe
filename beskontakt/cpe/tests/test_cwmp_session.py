"""The CWMP session state machine on its own (no HTTP), against the in-memory backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from beskontakt.cpe.cwmp import faults
from beskontakt.cpe.cwmp import messages as m
from beskontakt.cpe.cwmp.envelope import CwmpError, Envelope, parse, render
from beskontakt.cpe.cwmp.memory import MemoryBackend
from beskontakt.cpe.cwmp.session import BaseSessionHandler, Refusal, Session, SessionBackend, SessionHandler

DEVICE = m.DeviceId("Acme", "00D09E", "HGW", "SN1")
DEVICE_ID = "00D09E-HGW-SN1"


def inform(*codes: str) -> m.Inform:
    return m.Inform(device=DEVICE, events=[m.EventStruct(code) for code in codes or (m.PERIODIC,)])


def wire(message: m.Message | None, cwmp_id: str | None = None, **header: Any) -> Envelope:
    """Through the wire format, as the server would hand it over."""
    return parse(render(message, cwmp_id=cwmp_id, version="1-0", **header) if message is not None else b"")


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def test_protocols_are_met_by_the_memory_backend() -> None:
    backend = MemoryBackend()
    assert isinstance(backend, SessionBackend)
    assert isinstance(BaseSessionHandler(), SessionHandler)


def test_inform_then_204() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        session = Session(backend, remote_addr="10.0.0.2")
        reply = await session.receive(wire(inform(), "c-1"))
        assert reply.status == 200 and not reply.finished
        answer = parse(reply.body)
        assert answer.message == m.InformResponse(max_envelopes=1)
        assert answer.cwmp_id == "c-1"
        assert answer.version == "1-0"
        reply = await session.receive(wire(None))
        assert (reply.status, reply.finished) == (204, True)
        assert backend.closed == [(DEVICE_ID, "done")]
        assert backend.devices[DEVICE_ID].informs == 1

    run(body)


def test_first_message_must_be_inform() -> None:
    async def body() -> None:
        for first in (wire(None), wire(m.GetRPCMethods(), "x"), wire(m.GetParameterValuesResponse(), "y")):
            session = Session(MemoryBackend())
            reply = await session.receive(first)
            assert (reply.status, reply.finished) == (400, True)
            fault = parse(reply.body).message
            assert isinstance(fault, m.Fault) and fault.code == faults.INVALID_ARGUMENTS

    run(body)


def test_refusal_for_unknown_device() -> None:
    async def body() -> None:
        backend = MemoryBackend(bootstrap="known")
        reply = await Session(backend).receive(wire(inform(m.BOOTSTRAP), "1"))
        assert (reply.status, reply.finished) == (403, True)
        fault = parse(reply.body).message
        assert isinstance(fault, m.Fault) and fault.code == faults.REQUEST_DENIED
        assert backend.refused == [(DEVICE_ID, "unknown device")]

    run(body)


def test_cpe_requests_are_answered_with_their_ids() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        session = Session(backend)
        await session.receive(wire(inform(m.TRANSFER_COMPLETE), "1"))
        reply = await session.receive(wire(m.TransferComplete(command_key="fw"), "2"))
        assert parse(reply.body).message == m.TransferCompleteResponse()
        assert parse(reply.body).cwmp_id == "2"
        reply = await session.receive(wire(m.GetRPCMethods(), "3"))
        answer = parse(reply.body).message
        assert isinstance(answer, m.GetRPCMethodsResponse) and "Inform" in answer.methods
        for refused in (m.Kicked(command="x"), m.UnknownMessage(name="X_Vendor")):
            envelope = Envelope(refused, cwmp_id="4")
            fault = parse((await session.receive(envelope)).body).message
            assert isinstance(fault, m.Fault) and fault.code == faults.METHOD_NOT_SUPPORTED
        # an ACS-only method sent by the CPE
        fault = parse((await session.receive(wire(m.Reboot(), "5"))).body).message
        assert isinstance(fault, m.Fault) and fault.code == faults.METHOD_NOT_SUPPORTED
        # a second Inform is refused, the session goes on
        reply = await session.receive(wire(inform(), "6"))
        assert (reply.status, reply.finished) == (400, False)
        assert (await session.receive(wire(None))).status == 204
        assert backend.devices[DEVICE_ID].transfers == [m.TransferComplete(command_key="fw")]

    run(body)


def test_queued_requests_one_per_response() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        read = backend.enqueue(DEVICE_ID, m.GetParameterValues(names=["Device.WiFi.Radio.1.Channel"]))
        write = backend.enqueue(
            DEVICE_ID, m.SetParameterValues(values=[m.ParameterValue.of("Device.WiFi.Radio.1.Channel", 11)])
        )
        session = Session(backend)
        await session.receive(wire(inform(m.CONNECTION_REQUEST), "1"))
        first = parse((await session.receive(wire(None))).body)
        assert isinstance(first.message, m.GetParameterValues)
        value = m.ParameterValue("Device.WiFi.Radio.1.Channel", "6", m.XSD_UNSIGNED_INT)
        second = parse(
            (await session.receive(wire(m.GetParameterValuesResponse(parameters=[value]), first.cwmp_id))).body
        )
        assert isinstance(second.message, m.SetParameterValues)
        assert second.cwmp_id != first.cwmp_id
        assert read.result() == m.GetParameterValuesResponse(parameters=[value])
        assert not write.done()
        reply = await session.receive(wire(m.SetParameterValuesResponse(status=0), second.cwmp_id))
        assert reply.status == 204
        assert write.result() == m.SetParameterValuesResponse(status=0)
        assert backend.devices[DEVICE_ID].value("Device.WiFi.Radio.1.Channel") == "11"

    run(body)


def test_cpe_fault_with_per_parameter_faults_reaches_the_handler() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        done = backend.enqueue(DEVICE_ID, m.SetParameterValues(values=[m.ParameterValue("Device.X", "1")]))
        session = Session(backend)
        await session.receive(wire(inform(), "1"))
        request = parse((await session.receive(wire(None))).body)
        fault = m.Fault(9003, "Invalid arguments", [m.SetParameterFault("Device.X", 9008, "read-only")], "Client")
        assert (await session.receive(wire(fault, request.cwmp_id))).status == 204
        assert done.result() == fault
        assert backend.devices[DEVICE_ID].faults[0][1].set_parameter_faults[0].code == 9008

    run(body)


def test_mismatched_response_ends_the_session() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        done = backend.enqueue(DEVICE_ID, m.GetParameterValues(names=["Device."]))
        session = Session(backend)
        await session.receive(wire(inform(), "1"))
        request = parse((await session.receive(wire(None))).body)
        reply = await session.receive(wire(m.RebootResponse(), request.cwmp_id))
        assert (reply.status, reply.finished) == (400, True)
        fault = parse(reply.body).message
        assert isinstance(fault, m.Fault) and fault.code == faults.RESPONSE_MISMATCH
        assert session.mismatches and "GetParameterValuesResponse" in session.mismatches[0].expected
        result = done.result()
        assert isinstance(result, m.Fault) and result.code == faults.RESPONSE_MISMATCH
        assert backend.closed == [(DEVICE_ID, "protocol_error")]

    run(body)


def test_wrong_id_is_a_mismatch_but_a_missing_id_is_tolerated() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        backend.enqueue(DEVICE_ID, m.Reboot(command_key="r"))
        backend.enqueue(DEVICE_ID, m.Reboot(command_key="s"))
        session = Session(backend)
        await session.receive(wire(inform(), "1"))
        await session.receive(wire(None))
        reply = await session.receive(wire(m.RebootResponse()))  # no cwmp:ID at all
        assert reply.status == 200
        reply = await session.receive(wire(m.RebootResponse(), "not-the-id"))
        assert reply.status == 400 and session.close_reason == "protocol_error"

    run(body)


def test_unexpected_response_and_empty_post_while_waiting() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        session = Session(backend)
        await session.receive(wire(inform(), "1"))
        reply = await session.receive(wire(m.GetParameterValuesResponse(), "9"))
        assert (reply.status, reply.finished) == (400, True)
        assert session.mismatches[0].expected.startswith("no response")

        backend = MemoryBackend()
        done = backend.enqueue(DEVICE_ID, m.FactoryReset())
        session = Session(backend)
        await session.receive(wire(inform(), "1"))
        await session.receive(wire(None))
        reply = await session.receive(wire(None))  # the CPE ignored the request
        assert (reply.status, reply.finished) == (204, True)
        result = done.result()
        assert isinstance(result, m.Fault) and result.code == faults.RESPONSE_MISMATCH

    run(body)


def test_hold_requests_from_the_cpe_is_honoured() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        done = backend.enqueue(DEVICE_ID, m.Reboot())
        session = Session(backend)
        await session.receive(wire(inform(), "1", hold_requests=True))
        reply = await session.receive(wire(None))
        assert reply.status == 204  # nothing sent while held
        assert not done.done()
        assert len(backend.devices[DEVICE_ID].tasks) == 1  # still queued for the next session

        session = Session(backend)
        await session.receive(wire(inform(), "1", hold_requests=True))
        await session.receive(wire(m.GetRPCMethods(), "2", hold_requests=False))  # released
        reply = await session.receive(wire(None))
        assert isinstance(parse(reply.body).message, m.Reboot)

    run(body)


def test_expired_session_requeues_the_task() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        done = backend.enqueue(DEVICE_ID, m.GetParameterValues(names=["Device."]))
        session = Session(backend)
        await session.receive(wire(inform(), "1"))
        await session.receive(wire(None))
        await session.expire("vanished")
        assert not done.done()
        assert backend.closed == [(DEVICE_ID, "vanished")]
        assert len(backend.devices[DEVICE_ID].tasks) == 1
        reply = await session.receive(wire(None))
        assert (reply.status, reply.finished) == (400, True)

    run(body)


def test_unreadable_message_mid_session() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        session = Session(backend)
        await session.receive(wire(inform(), "1"))
        reply = await session.receive_error(CwmpError(faults.INVALID_ARGUMENTS, "malformed XML"))
        assert (reply.status, reply.finished) == (400, True)
        assert backend.closed == [(DEVICE_ID, "protocol_error")]

    run(body)


def test_unwritable_request_is_faulted_and_skipped() -> None:
    async def body() -> None:
        backend = MemoryBackend()
        bad = backend.enqueue(DEVICE_ID, m.SetParameterValues(values=[m.ParameterValue("Device.X", "\x07")]))
        not_acs = backend.enqueue(DEVICE_ID, m.TransferComplete(command_key="x"))
        good = backend.enqueue(DEVICE_ID, m.Reboot())
        session = Session(backend)
        await session.receive(wire(inform(), "1"))
        request = parse((await session.receive(wire(None))).body)
        assert isinstance(request.message, m.Reboot)
        result = bad.result()
        assert isinstance(result, m.Fault) and result.code == faults.INVALID_ARGUMENTS
        refused = not_acs.result()
        assert isinstance(refused, m.Fault) and refused.code == faults.INTERNAL_ERROR
        await session.receive(wire(m.RebootResponse(), request.cwmp_id))
        assert good.result() == m.RebootResponse()

    run(body)


class BrokenBackend(MemoryBackend):
    async def open(self, inform: m.Inform, *, username: str | None, remote_addr: str) -> SessionHandler | Refusal:
        raise RuntimeError("database is down")


def test_backend_failure_is_503_retry() -> None:
    async def body() -> None:
        reply = await Session(BrokenBackend()).receive(wire(inform(), "1"))
        assert (reply.status, reply.finished, reply.retry_after) == (503, True, 30)
        fault = parse(reply.body).message
        assert isinstance(fault, m.Fault) and fault.code == faults.RETRY_REQUEST

    run(body)


def test_presets_run_first_on_bootstrap() -> None:
    def presets(device: Any, message: m.Inform) -> list[m.Message]:
        if not message.has_event(m.BOOTSTRAP):
            return []
        return [
            m.SetParameterValues(
                values=[m.ParameterValue.of("Device.ManagementServer.PeriodicInformInterval", 300)],
                parameter_key="bootstrap",
            )
        ]

    async def body() -> None:
        backend = MemoryBackend(presets=presets)
        session = Session(backend)
        await session.receive(wire(inform(m.BOOTSTRAP, m.BOOT), "1"))
        request = parse((await session.receive(wire(None))).body)
        assert isinstance(request.message, m.SetParameterValues)
        assert request.message.parameter_key == "bootstrap"
        assert (await session.receive(wire(m.SetParameterValuesResponse(), request.cwmp_id))).status == 204
        device = backend.devices[DEVICE_ID]
        assert device.value("Device.ManagementServer.PeriodicInformInterval") == "300"

    run(body)


CPE_SIDE: list[m.Message | None] = [
    None,
    inform(),
    m.TransferComplete(command_key="k"),
    m.GetRPCMethods(),
    m.Kicked(),
    m.UnknownMessage(name="X_Vendor"),
    m.UnknownMessage(name="X_VendorResponse"),
    m.GetParameterValuesResponse(),
    m.SetParameterValuesResponse(),
    m.RebootResponse(),
    m.Fault(9002, "Internal error"),
    m.Reboot(),
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(CPE_SIDE))), max_size=12),
    st.lists(st.sampled_from(["match", "none", "wrong"]), min_size=12, max_size=12),
    st.booleans(),
)
def test_any_sequence_ends_cleanly(picks: list[int], ids: list[str], hold: bool) -> None:
    """Whatever a CPE sends, every answer is a known status and the handler is closed exactly once."""

    async def body() -> None:
        backend = MemoryBackend()
        for _ in range(3):
            backend.enqueue(DEVICE_ID, m.GetParameterValues(names=["Device."]))
        backend.enqueue(DEVICE_ID, m.Reboot())
        session = Session(backend)
        await session.receive(wire(inform(), "0", hold_requests=hold or None))
        outstanding: str | None = None
        for pick, id_kind in zip(picks, ids, strict=False):
            message = CPE_SIDE[pick]
            cwmp_id = {"match": outstanding, "none": None, "wrong": "nope"}[id_kind]
            reply = await session.receive(Envelope(message, cwmp_id=cwmp_id))
            assert reply.status in (200, 204, 400, 403, 503)
            if reply.finished:
                break
            answer = parse(reply.body)
            outstanding = answer.cwmp_id if answer.message is not None and answer.message.is_request else outstanding
        if not session.closed:
            await session.expire("vanished")
        assert len(backend.closed) == 1
        left = backend.devices[DEVICE_ID].tasks
        assert all(not task.future.done() for task in left)

    run(body)
