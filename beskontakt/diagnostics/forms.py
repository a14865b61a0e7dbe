"""The inputs of the diagnostics pages: which case a diagnosis is for, and the remote fixes' values."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class DiagnoseForm(forms.Form):
    """The "Diagnose" button: optionally the case the run belongs to."""

    case = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class WifiChannelForm(forms.Form):
    """The channel to put the router's Wi-Fi on (prefixed: the case page has a reply ``channel`` too)."""

    prefix = "wifi"
    channel = forms.IntegerField(label=_("Wi-Fi channel"), min_value=1, max_value=196)


class WifiPasswordForm(forms.Form):
    """A new Wi-Fi password (never shown back, never stored)."""

    prefix = "wifi"
    password = forms.CharField(
        label=_("New Wi-Fi password"),
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class ConfirmForm(forms.Form):
    """A remote fix without values (reboot, re-provision, speed test)."""
