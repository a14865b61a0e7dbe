"""The accounts catalogue is complete in Russian and pages render in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from beskontakt.accounts.views import wait_text

PO = Path(__file__).resolve().parents[1] / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def test_every_russian_entry_is_translated() -> None:
    text = PO.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first block is the header
    assert entries
    for entry in entries:
        assert "#, fuzzy" not in entry, entry
        msgstrs = re.findall(r'^msgstr(?:\[\d\])? "(.*)"((?:\n".*")*)', entry, flags=re.M)
        assert msgstrs, entry
        for first, rest in msgstrs:
            assert first or rest.strip('\n"'), entry


def test_wait_messages_in_both_languages() -> None:
    with translation.override("ru"):
        assert wait_text(5) == "Слишком много неудачных попыток. Повторите через 5 секунд."
        assert wait_text(61) == "Слишком много неудачных попыток. Повторите через 2 минуты."
        assert "1 минуту" in wait_text(60)
    with translation.override("en"):
        assert wait_text(1) == "Too many failed attempts. Try again in 1 second."
        assert wait_text(900) == "Too many failed attempts. Try again in 15 minutes."
