"""The Django admin: two factors required, administrators only; users, skills and the audit log.

The admin does not have its own login form: ``/admin/login/`` sends people to the
staff sign-in (password, TOTP, rate limits, audit), and comes back afterwards.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.admin import OTPAdminSite

from .access import is_verified_staff_session
from .models import AuditEntry, Skill, User
from .roles import Role


class BeskontaktAdminSite(OTPAdminSite):
    """Admin site open only to verified sessions of administrators (role admin and ``is_staff``)."""

    site_header = gettext_lazy("Beskontakt administration")
    site_title = gettext_lazy("Beskontakt administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and getattr(request.user, "role", None) == Role.ADMIN

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if is_verified_staff_session(request):
            # Signed in with both factors, but not an administrator: no loop back to the login page.
            raise PermissionDenied(_("The administration site is for administrators only."))
        next_url = request.GET.get("next") or resolve_url("admin:index")
        return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from .views import logout_view

        return logout_view(request)


# The default site object is what ``admin.site.urls`` in the root URLconf serves.
admin.site.__class__ = BeskontaktAdminSite


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff and subscriber logins with role, skills and availability."""

    list_display = ("username", "first_name", "last_name", "role", "available", "is_active", "last_login")
    list_filter = ("role", "available", "is_active", "is_staff", "skills")
    search_fields = ("username", "first_name", "last_name", "email")
    filter_horizontal = ("skills", "groups", "user_permissions")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            gettext_lazy("Care desk"),
            {"fields": ("role", "skills", "available", "max_open_cases", "language")},
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (gettext_lazy("Care desk"), {"fields": ("role", "language")}),
    )


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    """What agents are trained for."""

    list_display = ("name", "code")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The security audit log: readable, never editable."""

    list_display = ("at", "action", "username", "actor", "ip")
    list_filter = ("action",)
    search_fields = ("username", "ip")
    date_hierarchy = "at"
    readonly_fields = ("at", "action", "actor", "username", "ip", "details")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
