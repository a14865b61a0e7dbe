"""Django admin for outage notices."""

from __future__ import annotations

from django.contrib import admin

from .models import Outage, OutageBuilding


class OutageBuildingInline(admin.TabularInline):
    model = OutageBuilding
    extra = 1


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "ends_at")
    list_filter = ("districts",)
    search_fields = ("title", "body", "buildings__street")
    filter_horizontal = ("districts",)
    date_hierarchy = "starts_at"
    inlines = [OutageBuildingInline]
