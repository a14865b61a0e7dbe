"""Django admin for the subscriber base.

Built to stay fast with a million subscribers: foreign keys to subscribers and
addresses use raw-id or autocomplete widgets (never a select box listing every
row), list pages select related rows in the same query, and the subscriber
search goes through the indexed ``search_text`` and contract number.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    AccessRestriction,
    Address,
    ContactPoint,
    District,
    Equipment,
    Subscriber,
    SubscriberEvent,
    Subscription,
    Tariff,
    fold_search_text,
)
from .search import search_subscribers


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "okrug")
    list_filter = ("okrug",)
    search_fields = ("name", "okrug")


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("__str__", "district")
    list_filter = ("district",)
    list_select_related = ("district",)
    search_fields = ("street", "building")
    autocomplete_fields = ("district",)
    show_full_result_count = False


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "monthly_price", "download_mbps", "tv_channels", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    filter_horizontal = ("includes",)


class ContactInline(admin.TabularInline):
    model = ContactPoint
    extra = 0
    fields = ("channel", "value", "normalized", "consent", "consent_changed_at", "preferred")
    readonly_fields = ("normalized",)


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    autocomplete_fields = ("tariff",)


class EquipmentInline(admin.TabularInline):
    model = Equipment
    extra = 0


class RestrictionInline(admin.TabularInline):
    """Restrictions are history: they are added here but lifted, never deleted."""

    model = AccessRestriction
    extra = 0
    fields = ("kind", "valid_from", "valid_until", "reason", "recorded_by", "recorded_at", "lifted_at", "lifted_by")
    readonly_fields = ("recorded_by", "recorded_at", "lifted_at", "lifted_by")
    can_delete = False


class EventInline(admin.TabularInline):
    model = SubscriberEvent
    extra = 0
    fields = ("at", "kind", "actor", "data")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("contract_number", "display_name", "address", "segment", "billing_status", "balance")
    list_filter = ("segment", "billing_status", "kind", "preferred_channel")
    list_select_related = ("address",)
    search_fields = ("contract_number", "search_text")
    raw_id_fields = ("address", "portal_user")
    readonly_fields = ("created_at", "updated_at")
    inlines = (ContactInline, SubscriptionInline, EquipmentInline, RestrictionInline, EventInline)
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Subscriber], search_term: str
    ) -> tuple[QuerySet[Subscriber], bool]:
        """Use the subscriber search (contract, phone, name in any order, address)."""
        search_term = search_term.strip()
        if not search_term:
            return queryset, False
        ids = [s.pk for s in search_subscribers(search_term, limit=200)]
        return queryset.filter(pk__in=ids), False

    def save_model(self, request: HttpRequest, obj: Subscriber, form: Any, change: bool) -> None:
        obj.search_text = fold_search_text(obj.build_search_text())
        super().save_model(request, obj, form, change)


@admin.register(AccessRestriction)
class AccessRestrictionAdmin(admin.ModelAdmin):
    list_display = ("subscriber", "kind", "valid_from", "valid_until", "recorded_at", "lifted_at")
    list_filter = ("kind", "valid_until")
    list_select_related = ("subscriber",)
    raw_id_fields = ("subscriber", "recorded_by", "lifted_by")
    search_fields = ("subscriber__contract_number", "reason")
    show_full_result_count = False


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ("serial_number", "kind", "vendor", "model", "mac_address", "subscriber")
    list_filter = ("kind", "vendor")
    list_select_related = ("subscriber",)
    raw_id_fields = ("subscriber",)
    search_fields = ("=serial_number", "=mac_address")
    show_full_result_count = False
