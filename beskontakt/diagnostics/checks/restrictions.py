"""Access restrictions (quarantine, no entry, contactless only): they decide whether a visit is possible."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beskontakt.subscribers.models import AccessRestriction

from . import Check
from .base import CheckContext, Finding, Status

# Restrictions under which nobody enters the home: the next step takes the contactless path.
NO_VISIT = {
    AccessRestriction.Kind.QUARANTINE,
    AccessRestriction.Kind.SELF_ISOLATION,
    AccessRestriction.Kind.NO_ENTRY,
    AccessRestriction.Kind.CONTACTLESS_ONLY,
}


def run(ctx: CheckContext) -> Finding:
    """Warning while a restriction is in force (the verdict then avoids a visit if it forbids entry)."""
    restrictions = ctx.facts.restrictions
    kinds = [r.kind for r in restrictions]
    until = [r.valid_until.isoformat() for r in restrictions if r.valid_until is not None]
    summary = {"kinds": kinds, "until": max(until) if until else None, "no_visit": any(k in NO_VISIT for k in kinds)}
    return Finding(Status.WARNING if kinds else Status.OK, summary, {"restrictions": [vars(r) for r in restrictions]})


def describe(status: str, summary: dict[str, Any]) -> str:
    """The finding in words for the agent."""
    kinds = summary.get("kinds") or []
    if not kinds:
        return _("No access restrictions")
    names = ", ".join(_label(kind) for kind in kinds)
    if summary.get("no_visit"):
        return _("%(kinds)s — no visits to the home, contactless only") % {"kinds": names}
    return str(names)


def _label(value: str) -> str:
    try:
        return str(AccessRestriction.Kind(value).label)
    except ValueError:
        return value


CHECK = Check("restrictions", gettext_lazy("Access restrictions"), run, describe)
