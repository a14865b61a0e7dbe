"""Forms of the device pages: queue an operation on a device."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OperationForm(forms.Form):
    """A remote operation from the device page."""

    OPERATIONS = [
        ("refresh", _("Read the parameters again")),
        ("reboot", _("Reboot")),
        ("reprovision", _("Re-provision (apply presets)")),
        ("factory_reset", _("Factory reset")),
    ]
    operation = forms.ChoiceField(label=_("Operation"), choices=OPERATIONS)
