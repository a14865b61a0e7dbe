"""A simulated CPE's parameter tree: a shared static schema plus a small per-device overlay.

A ``Schema`` (one per data model, built once from the tables in ``trees.py``) knows every
parameter's type and writability and every object's shape by *template* path
(``Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.SignalStrength``). A schema's
``base`` is the default tree of concrete paths → values, shared by every device of that
model. A ``DataModel`` is one device: it reads through its own small ``own`` overlay
(identity, scenario values, what the ACS wrote) onto the shared base, so ten thousand
devices cost ten thousand small dicts, not ten thousand trees.

Object paths end with ``.`` and carry the value ``None``. Errors are ``CpeFault``s with the
TR-069 fault code the RPC layer answers with.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from .errors import INVALID_ARGUMENTS, INVALID_NAME, INVALID_TYPE, INVALID_VALUE, NON_WRITABLE, CpeFault

STRING = "string"
INT = "int"
UNSIGNED = "unsignedInt"
BOOLEAN = "boolean"
DATETIME = "dateTime"
TYPES = {STRING, INT, UNSIGNED, BOOLEAN, DATETIME}

_INSTANCE = re.compile(r"\.\d+(?=\.)")
_DELETED = object()  # a tombstone in the overlay


@lru_cache(maxsize=65536)
def template_of(path: str) -> str:
    """A concrete path's template: ``Device.WiFi.AccessPoint.1.Enable`` → ``Device.WiFi.AccessPoint.{i}.Enable``."""
    return _INSTANCE.sub(".{i}", path)


def parent_of(path: str) -> str:
    """The object a parameter or object path sits in (``A.B.C`` → ``A.B.``, ``A.B.`` → ``A.``)."""
    trimmed = path[:-1] if path.endswith(".") else path
    cut = trimmed.rfind(".")
    return trimmed[: cut + 1] if cut >= 0 else ""


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """Static facts of one parameter: xsd type, writability, allowed values (None: any)."""

    xsd_type: str
    writable: bool
    allowed: frozenset[str] | None = None


@dataclass
class Schema:
    """The static part of one data model, shared by all devices that speak it."""

    data_model: str
    root: str
    params: dict[str, ParamSpec] = field(default_factory=dict)  # template → spec
    objects: dict[str, bool] = field(default_factory=dict)  # object template → writable (Add/Delete)
    tables: set[str] = field(default_factory=set)  # templates of multi-instance objects ("X.{i}.")
    counts: dict[str, str] = field(default_factory=dict)  # table prefix template "X." → count param template
    base: dict[str, str | None] = field(default_factory=dict)  # concrete path → default value
    _leaves: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict, repr=False)

    def spec(self, path: str) -> ParamSpec | None:
        """The spec of a concrete parameter path (None: no such parameter in the model)."""
        return self.params.get(template_of(path))

    def instance_leaves(self, table_prefix: str) -> list[tuple[str, str | None]]:
        """Relative paths and defaults of a new instance under ``table_prefix`` (``X.Y.``)."""
        instance_template = template_of(table_prefix) + "{i}."
        cached = self._leaves.get(instance_template)
        if cached is None:
            cached = self._leaves[instance_template] = self._instance_leaves(instance_template)
        return cached

    def _instance_leaves(self, instance_template: str) -> list[tuple[str, str | None]]:
        leaves: list[tuple[str, str | None]] = []
        for template, spec in self.params.items():
            if template.startswith(instance_template):
                rel = template[len(instance_template) :]
                if "{i}" not in rel:
                    leaves.append((rel, _default_for(spec)))
        for template in self.objects:
            if template.startswith(instance_template) and template != instance_template:
                rel = template[len(instance_template) :]
                if "{i}" not in rel:
                    leaves.append((rel, None))
        leaves.sort(key=lambda item: item[0].count("."))
        return leaves


def _default_for(spec: ParamSpec) -> str:
    if spec.xsd_type in (INT, UNSIGNED):
        return "0"
    if spec.xsd_type == BOOLEAN:
        return "false"
    if spec.xsd_type == DATETIME:
        return "0001-01-01T00:00:00Z"
    return ""


def check_value(spec: ParamSpec, value: str) -> str:
    """The canonical string of ``value`` for ``spec``; CpeFault 9007 when it does not fit."""
    text = value.strip() if spec.xsd_type != STRING else value
    if spec.xsd_type == BOOLEAN:
        lowered = text.lower()
        if lowered in ("1", "true"):
            text = "true"
        elif lowered in ("0", "false"):
            text = "false"
        else:
            raise CpeFault(INVALID_VALUE, f"not a boolean: {value!r}")
    elif spec.xsd_type in (INT, UNSIGNED):
        try:
            number = int(text)
        except ValueError:
            raise CpeFault(INVALID_VALUE, f"not an integer: {value!r}") from None
        if spec.xsd_type == UNSIGNED and not 0 <= number <= 0xFFFFFFFF:
            raise CpeFault(INVALID_VALUE, f"out of range: {value!r}")
        if spec.xsd_type == INT and not -(2**31) <= number < 2**31:
            raise CpeFault(INVALID_VALUE, f"out of range: {value!r}")
        text = str(number)
    elif spec.xsd_type == DATETIME:
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CpeFault(INVALID_VALUE, f"not a dateTime: {value!r}") from None
    elif len(text) > 256:
        raise CpeFault(INVALID_VALUE, "string longer than 256 characters")
    if spec.allowed is not None and text not in spec.allowed:
        raise CpeFault(INVALID_VALUE, f"value not allowed: {value!r}")
    return text


class DataModel:
    """One device's tree: reads go through ``own`` onto the schema's shared ``base``."""

    __slots__ = ("_next_instance", "attributes", "own", "schema")

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.own: dict[str, object] = {}
        self.attributes: dict[str, int] = {}  # path → Notification (0 off, 1 passive, 2 active)
        self._next_instance: dict[str, int] | None = None

    # --- reading ---------------------------------------------------------------
    def get(self, path: str) -> str | None:
        """The value of a parameter (KeyError when absent; None for objects)."""
        value: object
        if path in self.own:
            value = self.own[path]
        elif path in self.schema.base:
            value = self.schema.base[path]
        else:
            raise KeyError(path)
        if value is _DELETED:
            raise KeyError(path)
        return value  # type: ignore[return-value]

    def value(self, path: str, default: str = "") -> str:
        """A parameter's value, or ``default`` when the device lacks it."""
        try:
            found = self.get(path)
        except KeyError:
            return default
        return default if found is None else found

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path in self.own:
            return self.own[path] is not _DELETED
        return path in self.schema.base

    def paths(self) -> Iterator[str]:
        """Every existing path (objects and parameters), base order first, then added ones."""
        own = self.own
        for path in self.schema.base:
            if path not in own or own[path] is not _DELETED:
                yield path
        for path, value in own.items():
            if value is not _DELETED and path not in self.schema.base:
                yield path

    def is_object(self, path: str) -> bool:
        """Whether ``path`` names an existing object."""
        return path.endswith(".") and path in self

    def below(self, prefix: str) -> list[str]:
        """Parameters (not objects) at or under ``prefix`` (a partial path, or a full one)."""
        if not prefix.endswith("."):
            if prefix in self and not prefix.endswith("."):
                return [prefix]
            raise CpeFault(INVALID_NAME, f"no such parameter: {prefix}")
        if prefix and prefix not in self:
            raise CpeFault(INVALID_NAME, f"no such object: {prefix}")
        return [path for path in self.paths() if path.startswith(prefix) and not path.endswith(".")]

    def values_under(self, names: list[str]) -> list[tuple[str, str, str]]:
        """GetParameterValues: (path, value, xsd type) for full and partial names (9005 if unknown)."""
        result: list[tuple[str, str, str]] = []
        for name in names:
            for path in self.below(name):
                spec = self.schema.spec(path)
                result.append((path, self.value(path), spec.xsd_type if spec else STRING))
        return result

    def names(self, path: str, next_level: bool) -> list[tuple[str, bool]]:
        """GetParameterNames: (name, writable) for ``path`` (TR-069 A.3.2.3 semantics)."""
        if path and not path.endswith("."):
            if path not in self:
                raise CpeFault(INVALID_NAME, f"no such parameter: {path}")
            if next_level:
                raise CpeFault(INVALID_ARGUMENTS, "NextLevel must be false for a parameter name")
            return [(path, self._writable(path))]
        if path and path not in self:
            raise CpeFault(INVALID_NAME, f"no such object: {path}")
        found: list[tuple[str, bool]] = []
        for candidate in self.paths():
            if not candidate.startswith(path):
                continue
            if next_level:
                if candidate == path:
                    continue
                if parent_of(candidate) != path:
                    continue
            found.append((candidate, self._writable(candidate)))
        if not path and next_level:
            found = [(self.schema.root, False)]
        return found

    def _writable(self, path: str) -> bool:
        if path.endswith("."):
            template = template_of(path)
            # A table instance is deletable; a table (X.Y.) accepts AddObject.
            return self.schema.objects.get(template, False) or (
                (template + "{i}.") in self.schema.tables and (self.schema.objects.get(template + "{i}.", False))
            )
        spec = self.schema.spec(path)
        return bool(spec and spec.writable)

    # --- writing ---------------------------------------------------------------
    def set(self, path: str, value: str) -> None:
        """Write a value without any check (the device itself, scenarios)."""
        self.own[path] = value

    def validate_set(self, path: str, value: str) -> str:
        """Check one SetParameterValues item as the ACS sent it; the canonical value or CpeFault."""
        if path.endswith(".") or path not in self:
            raise CpeFault(INVALID_NAME, f"no such parameter: {path}")
        spec = self.schema.spec(path)
        if spec is None:
            raise CpeFault(INVALID_NAME, f"no such parameter: {path}")
        if not spec.writable:
            raise CpeFault(NON_WRITABLE, f"not writable: {path}")
        canonical = check_value(spec, value)
        if path.endswith(".Channel"):
            possible = self.value(path[: -len("Channel")] + "PossibleChannels")
            if possible and int(canonical) not in channel_list(possible):
                raise CpeFault(INVALID_VALUE, f"channel {canonical} not in {possible}")
        return canonical

    def check_type(self, path: str, xsd_type: str) -> None:
        """9006 when the ACS declared a type that cannot be the parameter's (string is always tolerated)."""
        spec = self.schema.spec(path)
        if spec is None or not xsd_type or xsd_type == STRING or xsd_type == spec.xsd_type:
            return
        compatible = {INT: {UNSIGNED}, UNSIGNED: {INT}}.get(xsd_type, set())
        if spec.xsd_type not in compatible:
            raise CpeFault(INVALID_TYPE, f"{path} is {spec.xsd_type}, not {xsd_type}")

    def add_instance(self, table: str, *, force: bool = False) -> int:
        """AddObject on ``table`` (``X.Y.``): the new instance number (9005 when not a writable table)."""
        if not table.endswith(".") or table not in self:
            raise CpeFault(INVALID_NAME, f"no such object: {table}")
        instance_template = template_of(table) + "{i}."
        if instance_template not in self.schema.tables or not (force or self.schema.objects.get(instance_template)):
            raise CpeFault(INVALID_NAME, f"not a writable table: {table}")
        if self._next_instance is None:
            self._next_instance = {}
        numbers = [int(p[len(table) :].split(".", 1)[0]) for p in self.paths() if _is_instance_of(p, table)]
        number = max([self._next_instance.get(table, 0), *numbers]) + 1
        self._next_instance[table] = number
        instance = sys.intern(f"{table}{number}.")
        self.own[instance] = None
        for rel, default in self.schema.instance_leaves(table):
            self.own[sys.intern(instance + rel)] = default
        self._update_count(table)
        return number

    def delete_instance(self, instance: str, *, force: bool = False) -> None:
        """DeleteObject of ``X.Y.3.`` (9005 when it is no deletable instance)."""
        template = template_of(instance)
        if (
            not instance.endswith(".")
            or instance not in self
            or template not in self.schema.tables
            or not (force or self.schema.objects.get(template))
        ):
            raise CpeFault(INVALID_NAME, f"no such instance: {instance}")
        for path in [p for p in self.paths() if p.startswith(instance)]:
            if path in self.schema.base:
                self.own[path] = _DELETED
            else:
                del self.own[path]
        self._update_count(parent_of(instance))

    def instances(self, table: str) -> list[int]:
        """Instance numbers under ``table`` (``X.Y.``), ascending."""
        return sorted(int(p[len(table) :].split(".", 1)[0]) for p in self.paths() if _is_instance_of(p, table))

    def _update_count(self, table: str) -> None:
        count_template = self.schema.counts.get(template_of(table))
        if count_template is None:
            return
        count_path = _fill(count_template, table)
        if count_path in self:
            self.own[count_path] = str(len(self.instances(table)))

    def reset(self) -> None:
        """Back to the defaults (FactoryReset): the overlay and attributes are dropped."""
        self.own.clear()
        self.attributes.clear()
        self._next_instance = None


def channel_list(text: str) -> set[int]:
    """``1-13`` or ``1,6,11`` or ``36-48,52`` → the set of channel numbers."""
    found: set[int] = set()
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if low.isdigit():
            found.update(range(int(low), int(high) + 1) if high.isdigit() else [int(low)])
    return found


def _is_instance_of(path: str, table: str) -> bool:
    if not path.startswith(table):
        return False
    rest = path[len(table) :]
    head, dot, tail = rest.partition(".")
    return head.isdigit() and dot == "." and tail == ""


def _fill(template: str, concrete: str) -> str:
    """Put the instance numbers of ``concrete`` into ``template``'s ``{i}`` slots, in order."""
    numbers = re.findall(r"\.(\d+)(?=\.)", concrete)
    out = template
    for number in numbers:
        if "{i}" not in out:
            break
        out = out.replace("{i}", number, 1)
    return out
