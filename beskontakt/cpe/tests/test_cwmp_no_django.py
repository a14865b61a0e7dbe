"""The CWMP protocol package stays plain Python: no Django, no other Beskontakt app."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cwmp"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_django_imports_in_source() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        for name in imported_modules(path):
            assert name.split(".")[0] != "django", f"{path.name} imports {name}"
            assert name.split(".")[0] not in ("rest_framework", "channels", "celery"), f"{path.name} imports {name}"
            if name.startswith("beskontakt"):
                assert name.startswith("beskontakt.cpe.cwmp"), f"{path.name} imports {name}"


# ``beskontakt/__init__.py`` loads the Celery app (and with it Django), so the check stands
# the two parent packages up as bare namespaces and imports only the protocol modules.
LOADER = """
import sys, types
root = {root!r}
for name, path in (("beskontakt", root), ("beskontakt.cpe", root + "/cpe")):
    module = types.ModuleType(name)
    module.__path__ = [path]
    sys.modules[name] = module
import importlib
for stem in {stems!r}:
    importlib.import_module("beskontakt.cpe.cwmp." + stem)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("django", "celery"))
assert not loaded, loaded
"""


def test_importing_the_package_loads_no_django() -> None:
    stems = [path.stem for path in sorted(PACKAGE.glob("*.py"))]
    code = LOADER.format(root=str(PACKAGE.parents[1]), stems=stems)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr
