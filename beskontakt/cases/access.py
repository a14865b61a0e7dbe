"""Who may see which case: the one place that decides it."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from beskontakt.accounts.roles import Role, user_can

from .models import Case


def visible_cases(user: Any) -> QuerySet[Case]:
    """Cases ``user`` may see: all for desk staff, own assignments for technicians,
    the subscriber's own cases for a subscriber, nothing for anyone else."""
    if user_can(user, "case.view_all"):
        return Case.objects.all()
    if user_can(user, "case.view"):
        return Case.objects.filter(assignee=user)
    if user_can(user, "self.view"):
        return Case.objects.filter(subscriber__portal_user=user)
    return Case.objects.none()


def access_case(user: Any, case_id: Any, *, for_update: bool = False) -> Case:
    """The case with ``case_id`` if ``user`` may see it; 404 otherwise (no existence leak)."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise Http404("no such case") from None
    queryset = visible_cases(user)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    case = queryset.filter(Q(pk=pk)).select_related("subscriber", "queue", "category", "assignee", "sla_policy").first()
    if case is None:
        raise Http404("no such case")
    return case


def is_subscriber_user(user: Any) -> bool:
    return getattr(user, "role", None) == Role.SUBSCRIBER
