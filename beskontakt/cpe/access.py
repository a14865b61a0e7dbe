"""Who may see and act on managed devices.

Staff with ``device.view`` (agents, supervisors, technicians, NOC, admins) read device pages;
``device.operate`` (agents, supervisors, NOC, admins) queue remote fixes — from a case or the
device page; ``device.manage`` (NOC, admins) edit credentials, presets, files and links.
Subscribers never reach device pages (their portal shows a subscriber-safe diagnosis).
Anything not allowed is a 404, so existence does not leak.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from beskontakt.accounts.roles import user_can
from beskontakt.cpe.models import Device


def access_device(user: Any, pk: int | str) -> Device:
    """The device ``pk`` if ``user`` may see it (404 otherwise)."""
    if not user_can(user, "device.view"):
        raise Http404
    try:
        return Device.objects.select_related("equipment__subscriber").get(pk=int(pk))
    except (Device.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_operate(user: Any) -> bool:
    """Whether ``user`` may run remote operations (reboot, set values, diagnostics)."""
    return user_can(user, "device.operate")


def can_manage(user: Any) -> bool:
    """Whether ``user`` may edit credentials, presets, files and links."""
    return user_can(user, "device.manage")


def subscriber_devices(user: Any, subscriber: Any) -> list[Device]:
    """The managed devices of a subscriber's equipment that ``user`` may see."""
    if subscriber is None or not user_can(user, "device.view"):
        return []
    return list(Device.objects.filter(equipment__subscriber=subscriber).select_related("equipment"))
