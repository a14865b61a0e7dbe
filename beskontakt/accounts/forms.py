"""Forms of the staff sign-in, two-factor and profile pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    """First step: username and password."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class OtpCodeForm(forms.Form):
    """Second step (and enrolment confirmation): the six digits the authenticator app shows."""

    code = forms.CharField(
        label=_("Code from the authenticator app"),
        min_length=6,
        max_length=6,
        validators=[RegexValidator(r"^\d{6}$", _("Enter the 6 digits shown by your authenticator app."))],
        error_messages={
            "required": _("Enter the 6 digits shown by your authenticator app."),
            "min_length": _("Enter the 6 digits shown by your authenticator app."),
            "max_length": _("Enter the 6 digits shown by your authenticator app."),
        },
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
            }
        ),
    )


class ProfileForm(forms.Form):
    """A staff member's own preferences."""

    language = forms.ChoiceField(label=_("Interface language"), choices=settings.LANGUAGES)
    available = forms.BooleanField(
        label=_("Available for assignment"),
        required=False,
        help_text=_("When on, new cases from your queues may be assigned to you automatically."),
    )
