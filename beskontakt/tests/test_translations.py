"""Russian first: every user-facing string has a Russian translation.

For each catalogue (the project's and each app's) the messages are extracted
afresh from the code and templates with ``makemessages`` in a scratch copy,
then compared with the committed ``ru`` catalogue: a string missing from it,
left untranslated or marked fuzzy fails the test and is named.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parent.parent
APP_ROOTS = sorted(p.parent for p in PACKAGE.glob("*/locale") if p.parent != PACKAGE)
ROOTS = [PACKAGE, *APP_ROOTS]


def _extract(root: Path, scratch: Path) -> set[str]:
    """The msgids ``makemessages`` finds under ``root`` (apps with their own catalogue excluded)."""
    copy = scratch / root.name
    ignore = shutil.ignore_patterns("locale", "__pycache__", "tests", "migrations", "*.pyc", "static")
    if root == PACKAGE:
        app_names = {p.name for p in APP_ROOTS}
        base_ignore = ignore

        def ignore(directory: str, names: list[str]) -> set[str]:
            skipped = set(base_ignore(directory, names))
            if Path(directory) == PACKAGE:
                skipped |= app_names & set(names)
            return skipped

    shutil.copytree(root, copy, ignore=ignore)
    (copy / "locale").mkdir()
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            str(Path(sys.executable).parent / "django-admin"),
            "makemessages",
            "-l",
            "ru",
            "--no-obsolete",
            "--no-location",
            "-v",
            "0",
        ],
        cwd=copy,
        check=True,
        env={
            "DJANGO_SETTINGS_MODULE": "beskontakt.settings",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PACKAGE.parent),
        },
    )
    po = copy / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    if not po.exists():
        return set()
    return {e.msgid for e in polib.pofile(str(po)) if e.msgid}


@pytest.mark.parametrize("root", ROOTS, ids=[p.name for p in ROOTS])
def test_every_string_has_a_russian_translation(root: Path, tmp_path: Path) -> None:
    wanted = _extract(root, tmp_path)
    catalogue = root / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    if not wanted:
        return
    assert catalogue.exists(), f"{catalogue} is missing: run makemessages -l ru in {root} and translate"
    entries = {e.msgid: e for e in polib.pofile(str(catalogue)) if not e.obsolete}
    missing = sorted(wanted - entries.keys())
    untranslated = sorted(
        msgid
        for msgid in wanted & entries.keys()
        if "fuzzy" in entries[msgid].flags or not (entries[msgid].msgstr or all(entries[msgid].msgstr_plural.values()))
    )
    assert not missing, f"{len(missing)} strings are not in {catalogue}: {missing[:20]}"
    assert not untranslated, (
        f"{len(untranslated)} strings have no Russian translation in {catalogue}: {untranslated[:20]}"
    )
