"""Poll IF-MIB interface state and counters from a node over SNMP v2c or v3 (pysnmp 7, asyncio).

Nothing here raises on a network problem: a timeout, a refused port, an authentication
failure or a garbage reply becomes a ``NodeReading`` whose ``status`` says what went wrong
("timeout" or "error"); callers treat anything but "ok" as unknown evidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    usm3DESEDEPrivProtocol,
    usmAesCfb128Protocol,
    usmAesCfb192Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC128SHA224AuthProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC256SHA384AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
    usmNoAuthProtocol,
    usmNoPrivProtocol,
)
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from .oids import COLUMNS, SYS_UPTIME

OK = "ok"
TIMEOUT = "timeout"
ERROR = "error"

AUTH_PROTOCOLS: dict[str, Any] = {
    "none": usmNoAuthProtocol,
    "md5": usmHMACMD5AuthProtocol,
    "sha": usmHMACSHAAuthProtocol,
    "sha224": usmHMAC128SHA224AuthProtocol,
    "sha256": usmHMAC192SHA256AuthProtocol,
    "sha384": usmHMAC256SHA384AuthProtocol,
    "sha512": usmHMAC384SHA512AuthProtocol,
}
PRIV_PROTOCOLS: dict[str, Any] = {
    "none": usmNoPrivProtocol,
    "des": usmDESPrivProtocol,
    "3des": usm3DESEDEPrivProtocol,
    "aes128": usmAesCfb128Protocol,
    "aes192": usmAesCfb192Protocol,
    "aes256": usmAesCfb256Protocol,
}

# Columns that change between polls (status and counters), read on every poll; the walk asks
# for all of them side by side in one GETBULK stream.
DYNAMIC_COLUMNS = [
    "admin_status",
    "oper_status",
    "last_change",
    "in_errors",
    "out_errors",
    "in_discards",
    "out_discards",
    "in_octets64",
    "out_octets64",
    "discontinuity",
]
# Names and speeds barely change: read on a full poll only (first poll, then hourly).
STATIC_COLUMNS = ["descr", "name", "alias", "speed", "high_speed"]
# Agents without ifXTable's HC counters get the 32-bit ones instead.
FALLBACK_COLUMNS = ["in_octets32", "out_octets32"]
WALK_COLUMNS = DYNAMIC_COLUMNS + STATIC_COLUMNS
MAX_REPETITIONS = 25
# Variable bindings per GET request when reading chosen interfaces.
GET_CHUNK = 34


@dataclass(frozen=True)
class Credentials:
    """How to authenticate: v2c with a community, or v3 USM with a user and optional auth/priv keys."""

    version: str = "v2c"
    community: str = "public"
    user: str = ""
    auth_protocol: str = "none"
    auth_key: str = ""
    priv_protocol: str = "none"
    priv_key: str = ""

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"Credentials(version={self.version!r}, user={self.user!r})"


@dataclass(frozen=True)
class Target:
    """One SNMP agent: address, port, credentials and the per-request timeout/retries."""

    host: str
    port: int = 161
    credentials: Credentials = field(default_factory=Credentials)
    timeout: float = 2.0
    retries: int = 1
    key: Any = None  # the caller's handle for this node (e.g. its database id)


@dataclass
class InterfaceReading:
    """One interface as read: names, speed, status and raw counters (``None`` where the agent has none)."""

    if_index: int
    name: str = ""
    alias: str = ""
    descr: str = ""
    speed_bps: int | None = None
    admin_status: int | None = None
    oper_status: int | None = None
    last_change: int | None = None  # sysUpTime ticks at the last status change
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None
    in_octets: int | None = None
    out_octets: int | None = None
    counter_bits: int = 64
    discontinuity: int | None = None


@dataclass
class NodeReading:
    """The result of polling one node: status ("ok"/"timeout"/"error"), sysUpTime and the interfaces."""

    target: Target
    status: str
    error: str = ""
    uptime_ticks: int | None = None
    interfaces: dict[int, InterfaceReading] = field(default_factory=dict)
    started_at: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the poll got an answer."""
        return self.status == OK


class SnmpFailure(Exception):
    """A poll could not complete; ``status`` is "timeout" or "error"."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def auth_data(credentials: Credentials) -> Any:
    """The pysnmp authentication object for ``credentials``."""
    if credentials.version == "v3":
        auth = AUTH_PROTOCOLS.get(credentials.auth_protocol.lower())
        priv = PRIV_PROTOCOLS.get(credentials.priv_protocol.lower())
        if auth is None or priv is None:
            raise SnmpFailure(ERROR, "unsupported SNMPv3 protocol")
        return UsmUserData(
            credentials.user,
            authKey=credentials.auth_key or None,
            privKey=credentials.priv_key or None,
            authProtocol=auth,
            privProtocol=priv,
        )
    if credentials.version in {"v2c", "v1"}:
        return CommunityData(credentials.community, mpModel=0 if credentials.version == "v1" else 1)
    raise SnmpFailure(ERROR, f"unsupported SNMP version {credentials.version!r}")


def _value(raw: Any) -> Any:
    """A Python value for an SNMP value; ``None`` for noSuchObject/noSuchInstance/endOfMibView."""
    if isinstance(raw, NoSuchObject | NoSuchInstance | EndOfMibView):
        return None
    if hasattr(raw, "asOctets"):
        try:
            return raw.asOctets().decode("utf-8", "replace").strip("\x00").strip()
        except Exception:
            return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


class _Session:
    """One node's requests, sharing the engine and the transport."""

    def __init__(self, engine: SnmpEngine, target: Target) -> None:
        self.engine = engine
        self.target = target
        self.auth = auth_data(target.credentials)
        self.transport: Any = None

    async def open(self) -> None:
        try:
            self.transport = await UdpTransportTarget.create(
                (self.target.host, self.target.port), timeout=self.target.timeout, retries=self.target.retries
            )
        except Exception as exc:
            raise SnmpFailure(ERROR, f"cannot reach {self.target.host}: {exc.__class__.__name__}") from exc

    def _check(self, error_indication: Any, error_status: Any) -> None:
        if error_indication:
            text = str(error_indication)
            status = TIMEOUT if "timeout" in text.lower() or "no snmp response" in text.lower() else ERROR
            raise SnmpFailure(status, text)
        if error_status and int(error_status) != 0:
            raise SnmpFailure(ERROR, str(error_status.prettyPrint()))

    async def get(self, oids: Sequence[str]) -> dict[str, Any]:
        """GET the OIDs (in chunks); missing ones map to ``None``."""
        values: dict[str, Any] = {}
        for start in range(0, len(oids), GET_CHUNK):
            chunk = oids[start : start + GET_CHUNK]
            error_indication, error_status, _index, var_binds = await get_cmd(
                self.engine,
                self.auth,
                self.transport,
                ContextData(),
                *[ObjectType(ObjectIdentity(oid)) for oid in chunk],
                lookupMib=False,
            )
            self._check(error_indication, error_status)
            for name, raw in var_binds:
                values[str(name)] = _value(raw)
        return values

    async def walk_columns(self, columns: Sequence[str]) -> dict[str, dict[int, Any]]:
        """Walk table columns side by side with GETBULK; ``{column oid: {row index: value}}``."""
        result: dict[str, dict[int, Any]] = {column: {} for column in columns}
        cursors = {column: column for column in columns}
        rounds = 0
        while cursors:
            rounds += 1
            if rounds > 10_000:
                raise SnmpFailure(ERROR, "the agent's table never ends")
            active = list(cursors)
            error_indication, error_status, _index, var_binds = await bulk_cmd(
                self.engine,
                self.auth,
                self.transport,
                ContextData(),
                0,
                MAX_REPETITIONS,
                *[ObjectType(ObjectIdentity(cursors[c])) for c in active],
                lookupMib=False,
            )
            self._check(error_indication, error_status)
            if not var_binds:
                break
            finished: set[str] = set()
            for position, (name, raw) in enumerate(var_binds):
                column = active[position % len(active)]
                if column in finished:
                    continue
                oid = str(name)
                prefix = column + "."
                if isinstance(raw, EndOfMibView) or not oid.startswith(prefix):
                    finished.add(column)
                    continue
                suffix = oid[len(prefix) :]
                if not suffix.isdigit():
                    finished.add(column)
                    continue
                if _oid_key(oid) <= _oid_key(cursors[column]):
                    finished.add(column)  # the agent went backwards: stop rather than loop
                    continue
                result[column][int(suffix)] = _value(raw)
                cursors[column] = oid
            for column in finished:
                cursors.pop(column, None)
        return result


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.split(".") if part.isdigit())


def _interfaces(columns: dict[str, dict[int, Any]]) -> dict[int, InterfaceReading]:
    by_name = {name: columns.get(oid, {}) for name, oid in COLUMNS.items()}
    indexes = set(by_name["oper_status"]) | set(by_name["descr"]) | set(by_name["name"])
    indexes |= set(by_name["in_errors"])
    interfaces: dict[int, InterfaceReading] = {}
    for if_index in sorted(indexes):

        def col(name: str, if_index: int = if_index) -> Any:
            return by_name[name].get(if_index)

        in64, out64 = _as_int(col("in_octets64")), _as_int(col("out_octets64"))
        hc = in64 is not None or out64 is not None
        high_speed = _as_int(col("high_speed"))
        speed = _as_int(col("speed"))
        if high_speed:
            speed_bps: int | None = high_speed * 1_000_000
        elif speed:
            speed_bps = speed
        else:
            speed_bps = None
        interfaces[if_index] = InterfaceReading(
            if_index=if_index,
            name=_as_str(col("name")) or _as_str(col("descr")),
            alias=_as_str(col("alias")),
            descr=_as_str(col("descr")),
            speed_bps=speed_bps,
            admin_status=_as_int(col("admin_status")),
            oper_status=_as_int(col("oper_status")),
            last_change=_as_int(col("last_change")),
            in_errors=_as_int(col("in_errors")),
            out_errors=_as_int(col("out_errors")),
            in_discards=_as_int(col("in_discards")),
            out_discards=_as_int(col("out_discards")),
            in_octets=in64 if hc else _as_int(col("in_octets32")),
            out_octets=out64 if hc else _as_int(col("out_octets32")),
            counter_bits=64 if hc else 32,
            discontinuity=_as_int(col("discontinuity")),
        )
    return interfaces


async def poll_node(
    target: Target,
    if_indexes: Iterable[int] | None = None,
    *,
    engine: SnmpEngine | None = None,
    full: bool = True,
) -> NodeReading:
    """Read sysUpTime and the interfaces of one node: all (bulk walk) or only ``if_indexes`` (GETs).

    ``full`` also reads names, descriptions and speeds; without it only status and counters.
    Never raises for network or protocol trouble: the reading's status says what happened.
    """
    started = time.time()
    clock = time.monotonic()
    reading = NodeReading(target=target, status=OK, started_at=started)
    names = DYNAMIC_COLUMNS + (STATIC_COLUMNS if full or if_indexes is not None else [])
    try:
        session = _Session(engine or SnmpEngine(), target)
        await session.open()
        uptime = await session.get([SYS_UPTIME])
        reading.uptime_ticks = _as_int(uptime.get(SYS_UPTIME))
        if if_indexes is None:
            columns = await session.walk_columns([COLUMNS[name] for name in names])
            if not any(v is not None for v in columns[COLUMNS["in_octets64"]].values()):
                columns.update(await session.walk_columns([COLUMNS[name] for name in FALLBACK_COLUMNS]))
        else:
            names = names + FALLBACK_COLUMNS
            wanted = sorted(set(if_indexes))
            oids = [f"{COLUMNS[name]}.{i}" for i in wanted for name in names]
            values = await session.get(oids)
            columns = {COLUMNS[name]: {} for name in names}
            for i in wanted:
                for name in names:
                    columns[COLUMNS[name]][i] = values.get(f"{COLUMNS[name]}.{i}")
        reading.interfaces = _interfaces(columns)
        if if_indexes is not None:
            # An index the agent does not know at all is not an interface.
            reading.interfaces = {
                i: r for i, r in reading.interfaces.items() if r.oper_status is not None or r.name or r.descr
            }
    except SnmpFailure as exc:
        reading.status, reading.error = exc.status, str(exc)[:200]
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        reading.status, reading.error = ERROR, f"{exc.__class__.__name__}: {str(exc)[:150]}"
    reading.seconds = time.monotonic() - clock
    return reading


async def poll_many(
    targets: Sequence[Target],
    *,
    concurrency: int = 64,
    if_indexes: Mapping[Any, Iterable[int]] | None = None,
    deadline: float | None = None,
    full: bool | set[Any] = True,
) -> list[NodeReading]:
    """Poll many nodes at once (at most ``concurrency`` in flight), one shared SNMP engine.

    ``if_indexes`` maps a target's ``key`` to the interfaces to read (others are walked);
    ``deadline`` (seconds) bounds every node's poll: late ones come back as "timeout";
    ``full`` is ``True``/``False`` for all targets, or the set of keys to read names and speeds for.
    """
    engine = SnmpEngine()
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def one(target: Target) -> NodeReading:
        async with semaphore:
            chosen = (if_indexes or {}).get(target.key)
            wide = full if isinstance(full, bool) else target.key in full
            coro = poll_node(target, chosen, engine=engine, full=wide)
            if deadline is None:
                return await coro
            try:
                return await asyncio.wait_for(coro, deadline)
            except TimeoutError:
                return NodeReading(target=target, status=TIMEOUT, error="deadline exceeded", started_at=time.time())

    try:
        return list(await asyncio.gather(*(one(t) for t in targets)))
    finally:
        _close(engine)


def _close(engine: SnmpEngine) -> None:
    with contextlib.suppress(Exception):  # closing is best effort
        engine.close_dispatcher()


async def poll_one(target: Target, if_indexes: Iterable[int] | None = None, *, deadline: float) -> NodeReading:
    """Poll a single node with an overall time bound (for live checks)."""
    chosen = None if if_indexes is None else {target.key: list(if_indexes)}
    readings = await poll_many([target], concurrency=1, if_indexes=chosen, deadline=deadline)
    return readings[0]
