"""Rendering select boxes without Django's per-option widget templates.

Django renders every ``<option>`` through a template include; the queue page's
filter row has some hundred options and redraws every 15 seconds, so its
selects are built here directly (same markup, properly escaped).
"""

from __future__ import annotations

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def fast_widget(field: forms.BoundField) -> SafeString:
    """A bound field's widget; single selects are rendered in Python, others as usual."""
    widget = field.field.widget
    if type(widget) is not forms.Select:
        return SafeString(str(field))
    current = field.value()
    selected = "" if current is None else str(current)
    choices = getattr(field.field, "choices", ())
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, SafeString(" selected") if str(value) == selected else "", label)
            for value, label in ((str(v), str(lbl)) for v, lbl in choices)
        ),
    )
    return format_html('<select name="{}" id="{}">{}</select>', field.html_name, field.id_for_label, options)
