"""Reading billing files (CSV and JSON) into records of one shape.

The file formats are described, with examples, in ``docs/billing-import.md``.
A CSV row is turned into the same nested record a JSON file carries, so the
importer checks and saves one shape only. Problems with the file as a whole
(unreadable, malformed JSON, a wrong CSV header) raise :class:`BillingFileError`;
problems with one row are left for the importer to reject.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from .fields import RowError

KINDS = ("tariffs", "subscribers", "balances")
FORMATS = ("csv", "json")

TARIFF_COLUMNS = (
    "code",
    "name",
    "kind",
    "monthly_price",
    "download_mbps",
    "upload_mbps",
    "tv_channels",
    "active",
    "includes",
)
SUBSCRIBER_FIELDS = (
    "contract_number",
    "kind",
    "last_name",
    "first_name",
    "middle_name",
    "company_name",
    "segment",
    "preferred_language",
    "preferred_channel",
    "billing_status",
    "balance",
)
ADDRESS_FIELDS = ("district", "okrug", "street", "building", "entrance", "floor", "apartment")
SUBSCRIBER_COLUMNS = (
    *SUBSCRIBER_FIELDS,
    *ADDRESS_FIELDS,
    "phones",
    "emails",
    "telegram",
    "subscriptions",
    "equipment",
)
BALANCE_COLUMNS = ("contract_number", "balance", "billing_status")
COLUMNS = {"tariffs": TARIFF_COLUMNS, "subscribers": SUBSCRIBER_COLUMNS, "balances": BALANCE_COLUMNS}
REQUIRED_COLUMNS = {
    "tariffs": ("code", "name", "kind", "monthly_price"),
    "subscribers": ("contract_number",),
    "balances": ("contract_number", "balance"),
}
LIST_SEPARATOR = ";"
EQUIPMENT_PARTS = ("kind", "vendor", "model", "serial_number", "mac_address", "installed_on")


class BillingFileError(ValueError):
    """The file as a whole cannot be imported (nothing was read from it)."""


@dataclass
class Source:
    """What was read from a file: its kind, its format and its rows ``(row number, record)``."""

    kind: str
    format: str
    rows: list[tuple[int, Any]]
    name: str = ""


def read_file(path: str | Path, *, format: str | None = None, kind: str | None = None) -> Source:
    """Read a billing file; ``format`` defaults to the file extension, ``kind`` to what the file says."""
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise BillingFileError(
            _("Unknown file format “%(format)s”: use --format csv or --format json.") % {"format": fmt}
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BillingFileError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}) from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BillingFileError(
            _("The file is not UTF-8 text (bad byte at position %(pos)d); save it as UTF-8.") % {"pos": exc.start}
        ) from None
    source = read_csv(content, kind) if fmt == "csv" else read_json(content, kind)
    source.name = path.name
    return source


def read_json(content: str, kind: str | None = None) -> Source:
    """Parse a JSON billing file: ``{"kind": ..., "records": [...]}`` or a bare list of records."""
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        raise BillingFileError(
            _("Malformed JSON at line %(line)d, column %(col)d: %(error)s")
            % {"line": exc.lineno, "col": exc.colno, "error": exc.msg}
        ) from None
    if isinstance(document, dict):
        declared = document.get("kind")
        if declared is not None and declared not in KINDS:
            raise BillingFileError(
                _("Unknown kind “%(kind)s” in the file; expected one of: %(kinds)s.")
                % {"kind": declared, "kinds": ", ".join(KINDS)}
            )
        if kind and declared and kind != declared:
            raise BillingFileError(
                _("The file holds %(declared)s, but %(kind)s were asked for.") % {"declared": declared, "kind": kind}
            )
        kind = kind or declared
        records = document.get("records")
        if not isinstance(records, list):
            raise BillingFileError(_("The JSON object must have a “records” list."))
    elif isinstance(document, list):
        records = document
    else:
        raise BillingFileError(_("The JSON file must hold an object with “kind” and “records”, or a list of records."))
    if not kind:
        raise BillingFileError(_("Say what the file holds: add “kind” to the file or use --kind."))
    if kind not in KINDS:
        raise BillingFileError(
            _("Unknown kind “%(kind)s”; expected one of: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)}
        )
    return Source(kind=kind, format="json", rows=[(i, r) for i, r in enumerate(records, start=1)])


def detect_csv_kind(header: list[str]) -> str:
    """Guess what a CSV file holds from its header."""
    columns = set(header)
    if "code" in columns:
        return "tariffs"
    if columns <= set(BALANCE_COLUMNS) and "balance" in columns:
        return "balances"
    return "subscribers"


def read_csv(content: str, kind: str | None = None) -> Source:
    """Parse a CSV billing file (comma or semicolon separated, header in the first line)."""
    first_line = content.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise BillingFileError(_("The CSV file is empty; the first line must be a header.")) from None
    except csv.Error as exc:
        raise BillingFileError(_("Malformed CSV header: %(error)s") % {"error": exc}) from None
    kind = kind or detect_csv_kind(header)
    if kind not in KINDS:
        raise BillingFileError(
            _("Unknown kind “%(kind)s”; expected one of: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)}
        )
    allowed = COLUMNS[kind]
    unknown = [h for h in header if h not in allowed]
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    problems = []
    if unknown:
        problems.append(_("unknown columns: %(cols)s") % {"cols": ", ".join(unknown)})
    if missing:
        problems.append(_("missing columns: %(cols)s") % {"cols": ", ".join(missing)})
    if duplicated:
        problems.append(_("repeated columns: %(cols)s") % {"cols": ", ".join(duplicated)})
    if problems:
        raise BillingFileError(
            _("Wrong CSV header for %(kind)s (%(problems)s). Allowed columns: %(allowed)s.")
            % {"kind": kind, "problems": "; ".join(problems), "allowed": ", ".join(allowed)}
        )
    rows: list[tuple[int, Any]] = []
    try:
        for values in _rows(reader):
            line, cells = values
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                rows.append(
                    (line, RowError("*", _("expected %(n)d values, found %(m)d") % {"n": len(header), "m": len(cells)}))
                )
                continue
            rows.append((line, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise BillingFileError(
            _("Malformed CSV at line %(line)d: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    return Source(kind=kind, format="csv", rows=rows)


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        yield reader.line_num, cells


def split_list(value: str) -> list[str]:
    """Items of a ``;``-separated CSV cell, stripped, without empty ones."""
    return [item.strip() for item in (value or "").split(LIST_SEPARATOR) if item.strip()]


def csv_subscriber_to_record(row: dict[str, str]) -> dict[str, Any]:
    """Turn a flat subscribers CSV row into the nested record a JSON file holds.

    ``phones``/``emails``/``telegram`` hold ``;``-separated values;
    ``subscriptions`` holds ``code:started_on[:status[:ended_on]]`` items;
    ``equipment`` holds ``kind|vendor|model|serial|mac|installed_on`` items.
    Columns missing from the header are missing from the record (left untouched).
    """
    record: dict[str, Any] = {k: row[k] for k in SUBSCRIBER_FIELDS if k in row}
    if any(k in row for k in ADDRESS_FIELDS):
        record["address"] = {k: row.get(k, "") for k in ADDRESS_FIELDS}
    if any(k in row for k in ("phones", "emails", "telegram")):
        contacts: list[dict[str, Any]] = []
        for column, channel in (("phones", "phone"), ("emails", "email"), ("telegram", "telegram")):
            contacts.extend({"channel": channel, "value": v} for v in split_list(row.get(column, "")))
        record["contacts"] = contacts
    if "subscriptions" in row:
        subscriptions = []
        for n, item in enumerate(split_list(row["subscriptions"]), start=1):
            parts = [p.strip() for p in item.split(":")]
            if len(parts) > 4:
                raise RowError(
                    f"subscriptions[{n}]",
                    _("“%(item)s”: expected code:started_on[:status[:ended_on]]") % {"item": item},
                )
            parts += [""] * (4 - len(parts))
            subscriptions.append(dict(zip(("tariff", "started_on", "status", "ended_on"), parts, strict=True)))
        record["subscriptions"] = subscriptions
    if "equipment" in row:
        equipment = []
        for n, item in enumerate(split_list(row["equipment"]), start=1):
            parts = [p.strip() for p in item.split("|")]
            if len(parts) not in (4, 5, 6):
                raise RowError(
                    f"equipment[{n}]",
                    _("“%(item)s”: expected kind|vendor|model|serial[|mac[|installed_on]]") % {"item": item},
                )
            parts += [""] * (6 - len(parts))
            equipment.append(dict(zip(EQUIPMENT_PARTS, parts, strict=True)))
        record["equipment"] = equipment
    return record
