"""Roles and what each may do.

A role is a named set of capabilities. Views, API endpoints and actions ask
``user_can(user, "case.reply")`` rather than checking a role by name, so a new
role or a changed duty is one edit here. The permission-matrix tests read
``CAPABILITIES`` to know what every role must and must not reach.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User


class Role(models.TextChoices):
    """The duty a person has in the operator (or ``subscriber`` for portal users)."""

    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    TECHNICIAN = "technician", _("Technician")
    NOC = "noc", _("NOC engineer")
    ADMIN = "admin", _("Administrator")
    SUBSCRIBER = "subscriber", _("Subscriber")


STAFF_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN})

# Capability -> roles that hold it.
CAPABILITIES: dict[str, frozenset[str]] = {
    # Reading the care desk.
    "case.view": frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN}),
    "case.view_all": frozenset({Role.AGENT, Role.SUPERVISOR, Role.NOC, Role.ADMIN}),
    "subscriber.view": frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN}),
    # Working cases.
    "case.open": frozenset({Role.AGENT, Role.SUPERVISOR, Role.NOC, Role.ADMIN}),
    "case.reply": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN}),
    "case.note": frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN}),
    "case.take": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN}),
    "case.assign": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # Who a case may be assigned to (technicians take field work, NOC engineers network faults).
    "case.be_assigned": frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN}),
    "case.change_status": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN}),
    "case.merge": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "case.link": frozenset({Role.AGENT, Role.SUPERVISOR, Role.NOC, Role.ADMIN}),
    "message.ingest": frozenset({Role.AGENT, Role.SUPERVISOR, Role.NOC, Role.ADMIN}),
    # Subscriber data.
    "subscriber.edit": frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN}),
    "restriction.record": frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.ADMIN}),
    "billing.import": frozenset({Role.ADMIN}),
    # Intake channels: refused inbound items and failed deliveries.
    "inbox.review": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # Remote diagnostics: the access network, subscriber devices (TR-069), diagnosis runs.
    "network.view": frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN}),
    "network.manage": frozenset({Role.NOC, Role.ADMIN}),
    "device.view": frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN}),
    # Remote fixes on a subscriber's device (reboot, Wi-Fi channel or password, re-provision, speed test).
    "device.operate": frozenset({Role.AGENT, Role.SUPERVISOR, Role.NOC, Role.ADMIN}),
    # Presets, files, credentials and the ACS's bootstrap policy.
    "device.manage": frozenset({Role.NOC, Role.ADMIN}),
    "diagnosis.run": frozenset({Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN}),
    # Configuration.
    "config.manage": frozenset({Role.ADMIN}),
    # The subscriber's own portal and API view of their data.
    "self.view": frozenset({Role.SUBSCRIBER}),
}


def user_can(user: User | AnonymousUser | None, capability: str) -> bool:
    """Whether ``user`` holds ``capability`` (unknown capabilities are refused)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    roles = CAPABILITIES.get(capability)
    if roles is None:
        raise KeyError(f"unknown capability {capability!r}")
    return getattr(user, "role", None) in roles
