"""Django admin for the cases configuration (queues, categories, SLA, calendars, macros).

Cases themselves are worked in the workspace; their admin is read-mostly and
stays fast with millions of rows (raw id widgets, no full result count).
"""

from __future__ import annotations

from django.contrib import admin

from .models import (
    BusinessCalendar,
    CalendarDay,
    Case,
    Category,
    Event,
    Macro,
    Queue,
    SlaClock,
    SlaPolicy,
    Tag,
    WorkingHours,
)


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "skill", "calendar", "auto_assign")
    list_filter = ("auto_assign",)
    search_fields = ("code", "name")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ru", "name_en", "default_queue", "default_priority")
    list_filter = ("default_queue", "default_priority")
    search_fields = ("code", "name_ru", "name_en")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "always_open", "use_russian_holidays")
    inlines = [WorkingHoursInline, CalendarDayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "priority",
        "category",
        "segment",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "rank",
        "active",
    )
    list_filter = ("active", "priority", "segment")
    search_fields = ("name",)


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "active")
    list_filter = ("active", "category")
    search_fields = ("name", "body_ru", "body_en")


class SlaClockInline(admin.TabularInline):
    model = SlaClock
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in SlaClock._meta.fields if f.name != "id"]

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-mostly: changes to cases go through the workspace so they are recorded as events."""

    list_display = ("id", "subject", "status", "priority", "sla_state", "next_due_at", "assignee", "created_at")
    list_filter = ("status", "priority", "sla_state", "channel")
    list_select_related = ("assignee",)
    search_fields = ("=id", "subject")
    raw_id_fields = ("subscriber", "assignee", "parent", "merged_into", "category", "queue", "sla_policy")
    readonly_fields = [f.name for f in Case._meta.fields if f.name != "id"] + ["tags", "related"]
    show_full_result_count = False
    list_per_page = 50
    inlines = [SlaClockInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The audit trail of cases, read-only."""

    list_display = ("at", "case", "kind", "actor")
    list_filter = ("kind",)
    raw_id_fields = ("case", "actor")
    show_full_result_count = False
    search_fields = ("=case__id",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
