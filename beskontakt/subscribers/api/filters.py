"""Filters of the subscriber list."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from beskontakt.subscribers.models import Subscriber, Tariff

try:  # the search helper of the subscribers app
    from beskontakt.subscribers.search import search_subscribers
except ImportError:  # pragma: no cover - search arrives with the subscribers app
    search_subscribers = None  # type: ignore[assignment]

SEARCH_LIMIT = 200


class SubscriberFilter(filters.FilterSet):
    """Exact contract number, segment, billing status and a free search box ``q``."""

    contract_number = filters.CharFilter(max_length=32, help_text=_("Exact contract number."))
    segment = filters.ChoiceFilter(choices=Subscriber.Segment.choices)
    billing_status = filters.ChoiceFilter(choices=Subscriber.BillingStatus.choices)
    q = filters.CharFilter(
        method="search",
        max_length=200,
        help_text=_("Contract number, phone, name or address; at most 200 best matches."),
    )

    class Meta:
        model = Subscriber
        fields = ["contract_number", "segment", "billing_status", "q"]

    def search(self, queryset: QuerySet[Subscriber], name: str, value: str) -> QuerySet[Subscriber]:
        if not value.strip():
            return queryset
        if search_subscribers is None:  # pragma: no cover
            return queryset.filter(search_text__contains=value.lower())
        ids = [s.pk for s in search_subscribers(value, limit=SEARCH_LIMIT)]
        return queryset.filter(pk__in=ids)


class TariffFilter(filters.FilterSet):
    """Kind of tariff and whether it is on sale."""

    kind = filters.ChoiceFilter(choices=Tariff.Kind.choices)
    active = filters.BooleanFilter()

    class Meta:
        model = Tariff
        fields = ["kind", "active"]
