"""Permission classes of the API: each endpoint names the capabilities it needs.

Capabilities come from :mod:`beskontakt.accounts.roles`; object-level access
(which case, which subscriber) is decided by the access helpers, which answer
404 for objects the user may not see, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from beskontakt.accounts.roles import user_can


class Capabilities(BasePermission):
    """Allow a view action when the user holds any capability listed for it.

    The view declares ``capabilities = {"list": (...), "create": (...), "*": (...)}``;
    ``"*"`` applies to actions not listed. An action mapped to an empty tuple is open to
    any authenticated user; an action with no entry at all is refused.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        table: dict[str, tuple[str, ...]] = getattr(view, "capabilities", {})
        action = getattr(view, "action", None) or (request.method or "").lower()
        needed = table.get(action, table.get("*"))
        if needed is None:
            return False
        if not needed:
            return True
        return any(user_can(user, capability) for capability in needed)
