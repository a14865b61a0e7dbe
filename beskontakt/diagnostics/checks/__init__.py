"""The checks of a diagnosis, one small module each, and their registry.

``CHECKS`` lists them in the order the result panel shows them. A new check is a module with a
``CHECK = Check(...)`` and a line in ``_MODULES`` (see docs/apps/diagnostics.md, "Adding a check").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import CheckContext, Finding


@dataclass(frozen=True)
class Check:
    """A check: its code, its name for people, the function that runs it and the one that words its summary."""

    code: str
    title: Any  # a lazy translation
    run: Callable[[CheckContext], Finding]
    describe: Callable[[str, dict[str, Any]], str]


_MODULES = ["billing", "restrictions", "outage", "port", "line", "cpe", "wan", "wifi", "ping"]


def _load() -> list[Check]:
    return [importlib.import_module(f"{__name__}.{name}").CHECK for name in _MODULES]


CHECKS: list[Check] = _load()
BY_CODE: dict[str, Check] = {check.code: check for check in CHECKS}


def get_check(code: str) -> Check | None:
    """The check with this code (None for a code no longer known, e.g. in an old run)."""
    return BY_CODE.get(code)
