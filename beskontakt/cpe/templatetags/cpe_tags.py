"""Template tags: ``{% subscriber_devices subscriber %}`` — the subscriber's managed devices, compactly."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from beskontakt.cpe.access import subscriber_devices as visible_devices
from beskontakt.cpe.display import summary

register = template.Library()


@register.inclusion_tag("cpe/_subscriber_devices.html", takes_context=True)
def subscriber_devices(context: template.Context, subscriber: Any) -> dict[str, Any]:
    """The subscriber's devices with online state and last inform (nothing for those not allowed)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    now = timezone.now()
    return {"devices": [summary(device, now) for device in visible_devices(user, subscriber)], "subscriber": subscriber}
