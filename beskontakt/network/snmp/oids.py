"""The IF-MIB and SNMPv2-MIB objects the poller reads, by column name."""

from __future__ import annotations

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"

_IF_TABLE = "1.3.6.1.2.1.2.2.1"
_IFX_TABLE = "1.3.6.1.2.1.31.1.1.1"

# Column name -> column OID (the row's ifIndex is appended).
COLUMNS: dict[str, str] = {
    "descr": f"{_IF_TABLE}.2",
    "speed": f"{_IF_TABLE}.5",
    "admin_status": f"{_IF_TABLE}.7",
    "oper_status": f"{_IF_TABLE}.8",
    "last_change": f"{_IF_TABLE}.9",
    "in_octets32": f"{_IF_TABLE}.10",
    "in_discards": f"{_IF_TABLE}.13",
    "in_errors": f"{_IF_TABLE}.14",
    "out_octets32": f"{_IF_TABLE}.16",
    "out_discards": f"{_IF_TABLE}.19",
    "out_errors": f"{_IF_TABLE}.20",
    "name": f"{_IFX_TABLE}.1",
    "in_octets64": f"{_IFX_TABLE}.6",
    "out_octets64": f"{_IFX_TABLE}.10",
    "high_speed": f"{_IFX_TABLE}.15",
    "alias": f"{_IFX_TABLE}.18",
    "discontinuity": f"{_IFX_TABLE}.19",
}

# ifOperStatus / ifAdminStatus values (RFC 2863).
STATUS_NAMES: dict[int, str] = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}
