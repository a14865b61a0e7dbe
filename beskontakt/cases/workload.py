"""How many active cases each person has: the counter automatic assignment reads.

``User.open_cases`` is changed by the case actions in the same transaction as
the assignment or status change that moves it; ``recount`` rebuilds every
counter from the cases (after a bulk load, and hourly from Celery beat, so a
change made outside the actions cannot leave it wrong for long).
"""

from __future__ import annotations

from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest

from beskontakt.accounts.models import User

from .models import Case
from .models.case import ACTIVE_STATUSES


def adjust(user_id: int | None, delta: int) -> None:
    """Add ``delta`` to one person's active-case counter (never below zero)."""
    if user_id is None or delta == 0:
        return
    User.objects.filter(pk=user_id).update(open_cases=Greatest(F("open_cases") + delta, 0))


def on_change(old_assignee: int | None, old_active: bool, new_assignee: int | None, new_active: bool) -> None:
    """Move counters for a case whose assignee and/or active state changed."""
    if old_assignee == new_assignee and old_active == new_active:
        return
    if old_active:
        adjust(old_assignee, -1)
    if new_active:
        adjust(new_assignee, +1)


def recount() -> int:
    """Rebuild every counter from the cases; returns how many people changed."""
    active = (
        Case.objects.filter(assignee=OuterRef("pk"), status__in=ACTIVE_STATUSES)
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    fresh = Coalesce(Subquery(active), 0)
    return User.objects.exclude(open_cases=fresh).update(open_cases=fresh)
