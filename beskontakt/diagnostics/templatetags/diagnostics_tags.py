"""Template tags: ``{% diagnosis_panel subscriber case %}`` and the timeline text of diagnosis events."""

from __future__ import annotations

from typing import Any

from django import template

from .. import display
from ..panel import panel_context

register = template.Library()


@register.inclusion_tag("diagnostics/_panel.html", takes_context=True)
def diagnosis_panel(context: template.Context, subscriber: Any, case: Any = None) -> dict[str, Any]:
    """The "Diagnose" button, the latest result and (on a case, for those allowed) the remote fixes."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    data = panel_context(user, subscriber, case or None)
    data["request"] = request
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.simple_tag
def diagnosis_event_text(event: Any) -> str:
    """A DIAGNOSIS or REMOTE_FIX case event as one line of the timeline."""
    return display.event_text(event)
