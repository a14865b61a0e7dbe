"""Template context: what the current user may do, for menus and buttons."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .roles import CAPABILITIES, user_can


class _Can:
    """Lets templates write ``{% if can.case_reply %}``."""

    def __init__(self, request: HttpRequest) -> None:
        self._user = getattr(request, "user", None)

    def __getattr__(self, name: str) -> bool:
        capability = name.replace("_", ".", 1)
        if capability not in CAPABILITIES:
            raise AttributeError(name)
        return user_can(self._user, capability)


def role_context(request: HttpRequest) -> dict[str, Any]:
    return {"can": _Can(request)}
