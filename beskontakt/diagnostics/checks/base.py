"""What a check is given and what it answers.

A check is a function ``(ctx: CheckContext) -> Finding``. It reads what it needs through the
context (the subscriber's facts gathered up front, the device readings and the switch port
health shared between checks) and answers with a status, the facts its one-line summary is
worded from, and the raw evidence. It may raise :class:`Unknown` (or anything else, or run out
of time): the runner then records ``unknown`` with the reason, and the run goes on.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..models import CheckStatus

Status = CheckStatus


class Unknown(Exception):
    """The check cannot tell: data missing, a source unavailable. ``reason`` goes to the evidence."""

    def __init__(self, reason: str, **evidence: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence


@dataclass
class Finding:
    """A check's answer: status, summary facts (worded by the check's ``describe``) and raw evidence."""

    status: str
    summary: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Restriction:
    """An access restriction in force (kind and until when)."""

    kind: str
    valid_until: date | None = None


@dataclass(frozen=True)
class SubscriberFacts:
    """What the checks need to know of the subscriber, read once before the checks start."""

    subscriber_id: int
    contract_number: str
    billing_status: str
    balance: Decimal
    restrictions: tuple[Restriction, ...] = ()
    serial_numbers: tuple[str, ...] = ()  # routers and ONTs first


@dataclass
class DeviceSnapshot:
    """The subscriber's device as the management system sees it: its record and fresh (or cached) readings."""

    info: Any  # DeviceInfo | None
    readings: dict[str, Any]  # logical name -> value (None: the device has no such parameter)
    answered: bool  # the device answered a connection request just now
    detail: str = ""
    fault_code: int | None = None
    timed_out: bool = False
    read_ms: int = 0

    def value(self, name: str) -> Any:
        """The logical value ``name`` (None when unknown)."""
        return self.readings.get(name)


class Shared:
    """Values several checks need (the device snapshot, the port health), each computed once.

    The first check that asks starts the computation on the runner's pool; the others wait for
    the same future, never longer than their own deadline.
    """

    def __init__(self, submit: Callable[[Callable[[], Any]], Future[Any]]) -> None:
        self._submit = submit
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}

    def get(self, key: str, compute: Callable[[], Any], timeout: float) -> Any:
        """The value of ``key``, computing it with ``compute`` the first time; waits at most ``timeout``."""
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                future = self._submit(compute)
                self._futures[key] = future
        return future.result(timeout=max(0.0, timeout))


@dataclass
class CheckContext:
    """Everything a check may use: the subscriber's facts, the data sources, its deadline and shared values."""

    facts: SubscriberFacts
    sources: Any  # beskontakt.diagnostics.sources.Sources
    timeout: float
    shared: Shared
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        """Seconds left before this run's checks must have answered."""
        return max(0.05, self.timeout - (time.monotonic() - self.started))

    def device(self) -> DeviceSnapshot:
        """The device snapshot (shared by the CPE checks); raises :class:`Unknown` when there is no device."""
        from .device import load_snapshot

        snapshot: DeviceSnapshot | None = self.shared.get("device", lambda: load_snapshot(self), self.remaining())
        if snapshot is None or snapshot.info is None:
            raise Unknown("no managed device found for the subscriber", serial_numbers=list(self.facts.serial_numbers))
        return snapshot

    def port_health(self) -> Any:
        """The switch port health of the subscriber (shared); raises :class:`Unknown` without it."""
        fn = self.sources.port_health
        if fn is None:
            raise Unknown("access network monitoring is not available")
        subscriber_id = self.facts.subscriber_id
        budget = max(0.2, self.timeout - 0.3)
        health = self.shared.get("port", lambda: fn(subscriber_id, live=True, timeout=budget), self.remaining())
        if health is None:
            raise Unknown("the subscriber is not on a known switch port")
        return health


def jsonable(value: Any) -> Any:
    """``value`` made storable as JSON (dataclasses, datetimes, decimals, enums, sets, objects with fields)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return round(value, 3) if value == value else None  # NaN -> None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if hasattr(value, "_asdict"):
        return jsonable(value._asdict())
    if hasattr(value, "__dict__"):
        return {k: jsonable(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)
