"""Filling macro placeholders with what is known about the case."""

from __future__ import annotations

import re
from typing import Any

from django.utils.formats import number_format

from .models import Case, Macro

PLACEHOLDERS = ("name", "first_name", "contract", "tariff", "balance", "case", "agent")


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholder_values(case: Case, agent: Any | None) -> dict[str, str]:
    """The values macros can use for ``case`` replied to by ``agent``."""
    subscriber = case.subscriber
    values = dict.fromkeys(PLACEHOLDERS, "")
    values["case"] = case.reference
    if agent is not None:
        values["agent"] = agent.first_name or agent.get_username()
    if subscriber is not None:
        values["name"] = (
            " ".join(p for p in (subscriber.first_name, subscriber.middle_name) if p) or subscriber.display_name
        )
        values["first_name"] = subscriber.first_name or subscriber.display_name
        values["contract"] = subscriber.contract_number
        values["balance"] = number_format(subscriber.balance, 2)
        tariffs = [s.tariff.name for s in subscriber.subscriptions.filter(status="active").select_related("tariff")]
        values["tariff"] = ", ".join(tariffs)
    return values


def render_macro(macro: Macro, case: Case, agent: Any | None, language: str | None = None) -> str:
    """The macro's text in the subscriber's language with placeholders filled.

    Unknown placeholders are left as written so the agent sees and fixes them.
    """
    lang = language or (case.subscriber.preferred_language if case.subscriber else "ru")
    template = macro.body_en if lang.startswith("en") else macro.body_ru
    values = placeholder_values(case, agent)
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
