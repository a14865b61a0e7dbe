"""Walk the URL resolver for every route of the versioned API (used by coverage tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
GROUP_RE = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    """One API route: its regex-free template (``api/v1/cases/{pk}/``) and the methods it serves."""

    template: str
    params: tuple[str, ...]
    methods: frozenset[str]

    def url(self, **values: Any) -> str:
        path = self.template
        for name in self.params:
            path = path.replace("{" + name + "}", str(values[name]))
        return "/" + path

    @property
    def openapi_path(self) -> str:
        """The path as drf-spectacular writes it (``pk`` becomes ``id``)."""
        return "/" + self.template.replace("{pk}", "{id}")


def _text(pattern: Any) -> str:
    text = str(pattern.pattern)
    return text.removeprefix("^").removesuffix("$")


def _methods(callback: Any) -> frozenset[str]:
    actions = getattr(callback, "actions", None)
    if actions:  # DRF adds "head" to this mapping once the view has served a request
        return frozenset(m.upper() for m in actions if m in HTTP_METHODS)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    names = {m for m in HTTP_METHODS if view_class and hasattr(view_class, m)}
    return frozenset(m.upper() for m in names)


def _walk(patterns: list[Any], prefix: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _walk(pattern.url_patterns, prefix + _text(pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + _text(pattern), pattern.callback))
    return found


def api_routes() -> list[Route]:
    """Every route under /api/v1/ in the project's URL map, merged by template."""
    merged: dict[str, set[str]] = {}
    params: dict[str, tuple[str, ...]] = {}
    for raw, callback in _walk(get_resolver().url_patterns, ""):
        if not raw.startswith(API_PREFIX):
            continue
        names = tuple(m.group("name") for m in GROUP_RE.finditer(raw))
        template = GROUP_RE.sub(lambda m: "{" + m.group("name") + "}", raw)
        merged.setdefault(template, set()).update(_methods(callback))
        params[template] = names
    return [Route(t, params[t], frozenset(m)) for t, m in sorted(merged.items())]
