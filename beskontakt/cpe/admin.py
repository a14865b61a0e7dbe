"""Django admin for the ACS's registry. Credentials show only masked; passwords are set in forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .crypto import encrypt, mask
from .models import CpeFile, Device, DeviceCredentials, DeviceEvent, DeviceParameter, DeviceSession, DeviceTask, Preset


class CredentialsForm(forms.ModelForm):
    """Credentials with write-only password fields (empty: unchanged)."""

    acs_password = forms.CharField(label=_("New ACS password"), required=False, widget=forms.PasswordInput)
    cr_password = forms.CharField(
        label=_("New connection request password"), required=False, widget=forms.PasswordInput
    )

    class Meta:
        model = DeviceCredentials
        fields = ("device", "acs_username", "cr_username")

    def save(self, commit: bool = True) -> DeviceCredentials:
        """Encrypt the passwords given."""
        creds = super().save(commit=False)
        if self.cleaned_data.get("acs_password"):
            creds.acs_password_encrypted = encrypt(self.cleaned_data["acs_password"])
        if self.cleaned_data.get("cr_password"):
            creds.cr_password_encrypted = encrypt(self.cleaned_data["cr_password"])
        if commit:
            creds.save()
        return creds


@admin.register(DeviceCredentials)
class DeviceCredentialsAdmin(admin.ModelAdmin):
    form = CredentialsForm
    list_display = ("device", "acs_username", "cr_username", "acs_password_shown", "updated_at")
    search_fields = ("device__device_id", "acs_username")
    raw_id_fields = ("device",)

    @admin.display(description=_("ACS password"))
    def acs_password_shown(self, obj: DeviceCredentials) -> str:
        return mask(obj.acs_password())


class ParameterInline(admin.TabularInline):
    model = DeviceParameter
    extra = 0
    readonly_fields = ("path", "value", "xsd_type", "writable", "updated_at")
    can_delete = False
    max_num = 0


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("device_id", "manufacturer", "product_class", "data_model", "last_inform_at", "status")
    list_filter = ("data_model", "status", "product_class")
    search_fields = ("device_id", "serial_number")
    raw_id_fields = ("equipment",)
    readonly_fields = ("first_seen_at", "last_inform_at", "last_boot_at", "ip")
    inlines = [ParameterInline]


@admin.register(DeviceTask)
class DeviceTaskAdmin(admin.ModelAdmin):
    list_display = ("device", "rpc", "status", "created_at", "finished_at", "fault_code", "attempts")
    list_filter = ("status", "rpc")
    search_fields = ("device__device_id",)
    raw_id_fields = ("device", "case", "created_by")
    readonly_fields = ("arguments",)


@admin.register(DeviceSession)
class DeviceSessionAdmin(admin.ModelAdmin):
    list_display = ("device", "started_at", "ended_at", "outcome", "rpc_count", "remote_addr")
    list_filter = ("outcome",)
    search_fields = ("device__device_id",)
    raw_id_fields = ("device",)


@admin.register(DeviceEvent)
class DeviceEventAdmin(admin.ModelAdmin):
    list_display = ("at", "device", "kind", "actor")
    list_filter = ("kind",)
    raw_id_fields = ("device", "actor")


class PresetForm(forms.ModelForm):
    """A preset with its actions checked as ``actions.save_preset`` checks them."""

    class Meta:
        model = Preset
        fields = ("name", "events", "product_class", "data_model", "oui", "actions", "enabled", "precedence")

    def clean_actions(self) -> Any:
        """Refuse malformed actions with the reason."""
        from .presets import validate_actions

        actions = self.cleaned_data["actions"]
        problems = validate_actions(actions)
        if problems:
            raise forms.ValidationError("; ".join(problems))
        return actions


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    form = PresetForm
    list_display = ("name", "events", "product_class", "data_model", "enabled", "precedence")
    list_filter = ("enabled", "data_model")


@admin.register(CpeFile)
class CpeFileAdmin(admin.ModelAdmin):
    list_display = ("name", "file_type", "size", "sha256", "version", "created_at")
    readonly_fields = ("size", "sha256")
