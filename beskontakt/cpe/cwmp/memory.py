"""An in-memory ``SessionBackend``: the whole ACS without Django or a database.

Devices, credentials, task queues and files live in dicts. It is complete enough to run
``AcsApp`` for the protocol tests, the CPE simulator's tests and the pure-protocol
benchmark::

    backend = MemoryBackend(credentials={"cpe": "secret"})
    app = AcsApp(backend, auth="digest", secret=b"0123456789abcdef")
    done = backend.enqueue("001122-Router-SN1", GetParameterValues(names=["Device.DeviceInfo."]))
    ...                                      # the CPE informs (or gets a connection request)
    answer = await done                       # GetParameterValuesResponse, or a Fault

Bootstrap policy: ``bootstrap="accept"`` registers any device that informs; ``"known"``
only talks to devices added with ``add_device()`` (others get 8001/403). ``presets`` is a
callable ``(device, inform) -> [requests]`` run at the start of each session (e.g. on
``0 BOOTSTRAP``: set the periodic inform interval and the management credentials).
A task handed to a CPE that vanishes before answering goes back to the head of the queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from beskontakt.cpe.cwmp import faults
from beskontakt.cpe.cwmp import messages as m
from beskontakt.cpe.cwmp.session import BaseSessionHandler, CloseReason, FileAnswer, Refusal, SessionHandler

Presets = Callable[["MemoryDevice", m.Inform], list[m.Message]]


@dataclass(eq=False)
class MemoryTask:
    """One queued ACS request and the future its answer (response or Fault) lands in."""

    request: m.Message
    future: asyncio.Future[m.Message]


@dataclass(eq=False)
class MemoryDevice:
    """A device as the memory backend knows it: identity, parameter cache, queue, history."""

    device_id: str
    device: m.DeviceId | None = None
    parameters: dict[str, m.ParameterValue] = field(default_factory=dict)
    updated_at: dict[str, datetime] = field(default_factory=dict)
    tasks: deque[MemoryTask] = field(default_factory=deque)
    last_inform: m.Inform | None = None
    last_inform_at: datetime | None = None
    informs: int = 0
    events: list[str] = field(default_factory=list)
    transfers: list[m.Message] = field(default_factory=list)  # TransferComplete / AutonomousTransferComplete
    faults: list[tuple[m.Message, m.Fault]] = field(default_factory=list)
    closes: list[CloseReason] = field(default_factory=list)
    username: str | None = None

    def value(self, name: str) -> str | None:
        """A cached parameter value, or None."""
        item = self.parameters.get(name)
        return None if item is None else item.value

    def remember(self, values: list[m.ParameterValue]) -> None:
        """Put values into the cache with the current time."""
        now = datetime.now(UTC)
        for item in values:
            self.parameters[item.name] = item
            self.updated_at[item.name] = now


class MemoryHandler(BaseSessionHandler):
    """One session of one device against the memory backend."""

    def __init__(self, backend: MemoryBackend, device: MemoryDevice, preset_requests: list[m.Message]) -> None:
        self.backend = backend
        self.device = device
        self.presets: deque[m.Message] = deque(preset_requests)
        self.current: MemoryTask | None = None
        self.answered: list[tuple[m.Message, m.Message]] = []

    async def cpe_request(self, message: m.Message) -> m.Message:
        """Record transfers; answer the standard CPE requests."""
        if isinstance(message, m.TransferComplete | m.AutonomousTransferComplete):
            self.device.transfers.append(message)
        return await super().cpe_request(message)

    async def next_request(self) -> m.Message | None:
        """Presets first, then the device's queued tasks."""
        if self.presets:
            return self.presets.popleft()
        while self.device.tasks:
            task = self.device.tasks.popleft()
            if task.future.done():  # cancelled by the caller meanwhile
                continue
            self.current = task
            return task.request
        return None

    async def response(self, request: m.Message, message: m.Message) -> None:
        """Update the cache from reads and successful writes; resolve the task's future."""
        if isinstance(message, m.GetParameterValuesResponse):
            self.device.remember(message.parameters)
        elif isinstance(request, m.SetParameterValues):
            self.device.remember(request.values)
        self.answered.append((request, message))
        self._resolve(request, message)

    async def fault(self, request: m.Message, fault: m.Fault) -> None:
        """Record the fault; resolve the task's future with it."""
        self.device.faults.append((request, fault))
        self._resolve(request, fault)

    async def close(self, reason: CloseReason) -> None:
        """Record the end; a task still out (the CPE vanished) goes back to the queue."""
        self.device.closes.append(reason)
        self.backend.closed.append((self.device.device_id, reason))
        if self.current is not None and not self.current.future.done():
            self.device.tasks.appendleft(self.current)
        self.current = None
        self.backend.open_sessions -= 1

    def _resolve(self, request: m.Message, answer: m.Message) -> None:
        task = self.current
        if task is not None and task.request is request:
            self.current = None
            if not task.future.done():
                if isinstance(answer, m.Fault) and answer.code == faults.RETRY_REQUEST:
                    self.device.tasks.appendleft(task)  # the session ended first: try next time
                else:
                    task.future.set_result(answer)


class MemoryBackend:
    """A ``SessionBackend`` keeping everything in memory (see the module docstring)."""

    def __init__(
        self,
        *,
        credentials: dict[str, str] | None = None,
        bootstrap: str = "accept",
        presets: Presets | None = None,
        files: dict[str, FileAnswer] | None = None,
    ) -> None:
        if bootstrap not in ("accept", "known"):
            raise ValueError("bootstrap must be 'accept' or 'known'")
        self.passwords: dict[str, str] = dict(credentials or {})
        self.bootstrap = bootstrap
        self.presets = presets
        self.files: dict[str, FileAnswer] = dict(files or {})
        self.devices: dict[str, MemoryDevice] = {}
        self.refused: list[tuple[str, str]] = []  # (device id, reason)
        self.closed: list[tuple[str, CloseReason]] = []
        self.open_sessions = 0
        self.overload = False  # set True to make the ACS answer 503

    # --- SessionBackend ----------------------------------------------------------

    async def credentials(self, username: str) -> str | None:
        """The stored password of ``username``."""
        return self.passwords.get(username)

    async def open(self, inform: m.Inform, *, username: str | None, remote_addr: str) -> SessionHandler | Refusal:
        """Register or refuse the device, update it from the Inform, start a handler."""
        device_id = inform.device.device_id
        device = self.devices.get(device_id)
        if device is None:
            if self.bootstrap == "known":
                self.refused.append((device_id, "unknown device"))
                return Refusal("unknown device")
            device = self.devices[device_id] = MemoryDevice(device_id)
        device.device = inform.device
        device.last_inform = inform
        device.last_inform_at = datetime.now(UTC)
        device.informs += 1
        device.events.extend(inform.event_codes)
        device.username = username
        device.remember(inform.parameters)
        preset_requests = self.presets(device, inform) if self.presets else []
        self.open_sessions += 1
        return MemoryHandler(self, device, preset_requests)

    async def file(self, name: str) -> FileAnswer | None:
        """A file registered with ``add_file()``."""
        return self.files.get(name)

    def overloaded(self) -> bool:
        """The ``overload`` flag."""
        return self.overload

    # --- for tests and tools ----------------------------------------------------------

    def add_device(self, device_id: str, *, username: str | None = None, password: str | None = None) -> MemoryDevice:
        """Pre-register a device (needed with ``bootstrap="known"``), optionally with credentials."""
        device = self.devices.setdefault(device_id, MemoryDevice(device_id))
        if username is not None and password is not None:
            self.passwords[username] = password
        return device

    def add_file(self, name: str, content: bytes | Path, content_type: str = "application/octet-stream") -> None:
        """Serve ``content`` at ``/files/<name>``."""
        self.files[name] = (content, content_type)

    def enqueue(self, device_id: str, request: m.Message) -> asyncio.Future[m.Message]:
        """Queue a request for the device's next session; the future gets its response or Fault."""
        if not request.is_request:
            raise ValueError(f"{request.method} is not a request")
        device = self.devices.setdefault(device_id, MemoryDevice(device_id))
        future: asyncio.Future[m.Message] = asyncio.get_running_loop().create_future()
        device.tasks.append(MemoryTask(request, future))
        return future
