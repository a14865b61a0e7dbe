"""Filters of the case list."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from beskontakt.api.fields import IdFilter, UtcIsoDateTimeFilter
from beskontakt.cases.models import Case, CaseStatus, Priority
from beskontakt.subscribers.models import Channel


class CaseFilter(filters.FilterSet):
    """Status, priority, queue, category, channel, assignee, subscriber, SLA state, tag and creation time."""

    status = filters.MultipleChoiceFilter(choices=CaseStatus.choices, distinct=False)
    priority = filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    queue = filters.CharFilter(field_name="queue__code", max_length=50, help_text=_("Queue code."))
    category = filters.CharFilter(field_name="category__code", max_length=50, help_text=_("Category code."))
    channel = filters.MultipleChoiceFilter(choices=Channel.choices, distinct=False)
    assignee = IdFilter(field_name="assignee_id", help_text=_("Id of the assigned person."))
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", help_text=_("Only unassigned."))
    subscriber = IdFilter(field_name="subscriber_id", help_text=_("Subscriber id."))
    sla_state = filters.MultipleChoiceFilter(choices=Case.SlaState.choices, distinct=False)
    tag = filters.CharFilter(field_name="tags__name", max_length=50, distinct=True, help_text=_("Tag name."))
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields = [
            "status",
            "priority",
            "queue",
            "category",
            "channel",
            "assignee",
            "unassigned",
            "subscriber",
            "sla_state",
            "tag",
            "created_after",
            "created_before",
        ]
