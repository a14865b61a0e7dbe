"""Parsing and checking single values of billing records.

Every parser raises :class:`RowError` naming the field and saying what was
expected; the importer turns it into a rejection of the whole row.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..actions import parse_amount

CONTRACT_RE = re.compile(r"^[0-9A-Za-zА-Яа-яЁё][0-9A-Za-zА-Яа-яЁё\-/.]{0,31}$")
TARIFF_CODE_RE = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")
MAC_HEX_RE = re.compile(r"^[0-9a-fA-F]{12}$")
MAC_SEPARATORS_RE = re.compile(r"[:\-.]")
TRUE_WORDS = {"1", "true", "yes", "y", "да", "д", "+"}
FALSE_WORDS = {"0", "false", "no", "n", "нет", "н", "-"}


class RowError(Exception):
    """A value of a row is wrong: ``field`` says which, ``message`` says what is expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    """A string value, stripped; ``None`` becomes empty."""
    if value is None:
        value = ""
    if not isinstance(value, str | int):
        raise RowError(field, _("expected text"))
    result = str(value).strip()
    if required and not result:
        raise RowError(field, _("this field is required"))
    if len(result) > max_length:
        raise RowError(field, _("at most %(n)d characters allowed") % {"n": max_length})
    return result


def contract(value: Any, field: str = "contract_number") -> str:
    """A contract number: letters, digits, ``-``, ``/`` or ``.``, up to 32 characters."""
    result = text(value, field, 1000, required=True)
    if not CONTRACT_RE.match(result):
        raise RowError(
            field,
            _("“%(value)s” is not a contract number (letters, digits, “-”, “/”, “.”; up to 32 characters)")
            % {"value": result[:40]},
        )
    return result


def tariff_code(value: Any, field: str) -> str:
    """A tariff code (a slug)."""
    result = text(value, field, 1000, required=True)
    if not TARIFF_CODE_RE.match(result):
        raise RowError(
            field, _("“%(value)s” is not a tariff code (latin letters, digits, “-”, “_”)") % {"value": result[:60]}
        )
    return result


def choice(value: Any, field: str, choices: list[str], default: str | None = None) -> str | None:
    """One of ``choices``; empty gives ``default``."""
    result = text(value, field, 100)
    if not result:
        return default
    result = result.lower()
    if result not in choices:
        raise RowError(
            field, _("“%(value)s” is not one of: %(choices)s") % {"value": result, "choices": ", ".join(choices)}
        )
    return result


def amount(value: Any, field: str, limit: Decimal) -> Decimal | None:
    """Money in roubles with kopecks (``1234.50``, ``-12,5``, ``1 234,50``); empty gives ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        # JSON numbers with a fraction: go through their text to avoid binary noise.
        value = repr(value)
    try:
        return parse_amount(value, field, limit)
    except ValidationError as exc:
        raise RowError(field, exc.message_dict[field][0]) from None


def date(value: Any, field: str) -> dt.date | None:
    """A date as ``YYYY-MM-DD`` or ``DD.MM.YYYY``; empty gives ``None``."""
    result = text(value, field, 20)
    if not result:
        return None
    try:
        if "." in result:
            return dt.datetime.strptime(result, "%d.%m.%Y").date()
        return dt.date.fromisoformat(result)
    except ValueError:
        raise RowError(
            field, _("“%(value)s” is not a date (expected YYYY-MM-DD or DD.MM.YYYY)") % {"value": result}
        ) from None


def positive_int(value: Any, field: str, maximum: int = 2**31 - 1) -> int | None:
    """A whole number ≥ 0; empty gives ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RowError(field, _("expected a whole number"))
    try:
        result = int(str(value).strip())
    except ValueError:
        raise RowError(field, _("“%(value)s” is not a whole number") % {"value": str(value)[:40]}) from None
    if result < 0 or result > maximum:
        raise RowError(field, _("expected a number from 0 to %(max)d") % {"max": maximum})
    return result


def small_int(value: Any, field: str) -> int | None:
    """A floor number (may be negative for a basement); empty gives ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        result = int(str(value).strip())
    except ValueError:
        raise RowError(field, _("“%(value)s” is not a whole number") % {"value": str(value)[:40]}) from None
    if not -10 <= result <= 200:
        raise RowError(field, _("expected a number from -10 to 200"))
    return result


def boolean(value: Any, field: str, default: bool) -> bool:
    """Yes or no (``1/0``, ``true/false``, ``да/нет``); empty gives ``default``."""
    if isinstance(value, bool):
        return value
    result = text(value, field, 10).lower()
    if not result:
        return default
    if result in TRUE_WORDS:
        return True
    if result in FALSE_WORDS:
        return False
    raise RowError(field, _("“%(value)s” is not yes/no (expected 1 or 0, true or false)") % {"value": result})


def mac(value: Any, field: str) -> str:
    """A MAC address in any usual notation, returned as ``AA:BB:CC:DD:EE:FF``; empty stays empty."""
    result = text(value, field, 40)
    if not result:
        return ""
    hex_digits = MAC_SEPARATORS_RE.sub("", result)
    if not MAC_HEX_RE.match(hex_digits):
        raise RowError(
            field, _("“%(value)s” is not a MAC address (expected like AA:BB:CC:DD:EE:FF)") % {"value": result}
        )
    hex_digits = hex_digits.upper()
    return ":".join(hex_digits[i : i + 2] for i in range(0, 12, 2))
