"""The queue page's tabs, filters and sort orders, declared once.

Every tab starts from a condition that one of the case indexes serves:
(assignee, status, next_due_at) for "Mine", (queue, status, next_due_at) for
"By queue" and (status, next_due_at) for the others.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beskontakt.subscribers.models import Channel

from .models import Case, CaseStatus, Category, Priority, Queue
from .models.case import ACTIVE_STATUSES

BREACHING_WINDOW = timedelta(hours=1)

TAB_MINE = "mine"
TAB_UNASSIGNED = "unassigned"
TAB_BREACHING = "breaching"
TAB_ALL = "all"
TAB_QUEUE = "queue"
TABS = [
    (TAB_MINE, _("Mine")),
    (TAB_UNASSIGNED, _("Unassigned")),
    (TAB_BREACHING, _("Breaching soon")),
    (TAB_ALL, _("All open")),
    (TAB_QUEUE, _("By queue")),
]
SORTS = [
    ("due", _("Due date")),
    ("priority", _("Priority")),
    ("created", _("Created")),
    ("updated", _("Updated")),
]
ORDERINGS: dict[str, list[Any]] = {
    "due": [F("next_due_at").asc(nulls_last=True), "-priority", "pk"],
    "priority": ["-priority", F("next_due_at").asc(nulls_last=True), "pk"],
    "created": ["-created_at", "-pk"],
    "updated": ["-updated_at", "-pk"],
}


class CaseQueueFilter(django_filters.FilterSet):
    """Tabs, filters and sorting of the agent's queue page."""

    tab = django_filters.ChoiceFilter(label=_("Tab"), choices=TABS, method="filter_tab", empty_label=None)
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=CaseStatus.choices, method="filter_status", empty_label=_("Any open")
    )
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices, empty_label=_("Any"))
    category = django_filters.ModelChoiceFilter(
        label=_("Category"), queryset=Category.objects.all(), empty_label=_("Any")
    )
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices, empty_label=_("Any"))
    queue = django_filters.ModelChoiceFilter(label=_("Queue"), queryset=Queue.objects.all(), empty_label=_("Any"))
    q = django_filters.CharFilter(
        label=_("Subject contains"), field_name="subject", lookup_expr="icontains", max_length=100
    )
    sort = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORTS, method="filter_sort", empty_label=None)

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        data = data.copy() if data is not None else {}
        data.setdefault("tab", TAB_MINE)
        data.setdefault("sort", "due")
        super().__init__(data, *args, **kwargs)

    @property
    def current_tab(self) -> str:
        value = self.form.cleaned_data.get("tab") if self.form.is_valid() else self.data.get("tab")
        return value if value in dict(TABS) else TAB_MINE

    def filter_queryset(self, queryset: QuerySet[Case]) -> QuerySet[Case]:
        cleaned = self.form.cleaned_data
        if not cleaned.get("status"):
            queryset = queryset.filter(status__in=ACTIVE_STATUSES)
        if "tab" not in cleaned:
            queryset = self.filter_tab(queryset, "tab", TAB_MINE)
        if "sort" not in cleaned:
            queryset = self.filter_sort(queryset, "sort", "due")
        return super().filter_queryset(queryset)

    def filter_status(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.filter(status=value) if value else queryset

    def filter_tab(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        user = getattr(self.request, "user", None)
        if value == TAB_MINE:
            return queryset.filter(assignee=user)
        if value == TAB_UNASSIGNED:
            return queryset.filter(assignee__isnull=True)
        if value == TAB_BREACHING:
            soon = timezone.now() + BREACHING_WINDOW
            return queryset.filter(
                Q(sla_state__in=[Case.SlaState.WARNING, Case.SlaState.BREACHED]) | Q(next_due_at__lte=soon)
            )
        if value == TAB_QUEUE and not self.form.cleaned_data.get("queue"):
            return queryset.none()
        return queryset

    def filter_sort(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.order_by(*ORDERINGS.get(value, ORDERINGS["due"]))
