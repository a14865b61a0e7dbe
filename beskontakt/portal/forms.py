"""The portal's forms: sign-in steps, a declared restriction, a new case, a message, a callback."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beskontakt.cases import attachments as case_files
from beskontakt.cases.models import Category
from beskontakt.inbox import callbacks
from beskontakt.subscribers.models import AccessRestriction

from .actions import DECLARABLE_KINDS


def new_token() -> str:
    """A fresh id for one form: sending the same form twice stores one message."""
    return secrets.token_hex(16)


class IdentifierForm(forms.Form):
    """Step one of signing in: who are you."""

    identifier = forms.CharField(
        label=_("Contract number or phone number"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "text", "autofocus": True}),
        help_text=_("The contract number is on your contract and your bills; the phone is the one you gave us."),
    )


class CodeForm(forms.Form):
    """Step two of signing in: the code we sent."""

    code = forms.RegexField(
        label=_("Code"),
        regex=r"^\s*(\d\s*){6}$",
        max_length=20,
        error_messages={"invalid": _("Enter the six digits of the code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": r"[0-9 ]*", "autofocus": True}
        ),
    )


class RestrictionForm(forms.Form):
    """ "I am in quarantine until …, contactless only."""

    kind = forms.ChoiceField(
        label=_("What applies to you"),
        choices=[(k.value, k.label) for k in DECLARABLE_KINDS],
        initial=AccessRestriction.Kind.QUARANTINE,
    )
    valid_until = forms.DateField(
        label=_("Until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, for example 2026-12-31.")},
    )
    contactless = forms.BooleanField(label=_("Contactless service only"), required=False, initial=True)
    note = forms.CharField(
        label=_("Anything our staff should know (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MultipleFileInput(forms.FileInput):
    """A file input that lets the browser pick several files."""

    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to ``MAX_FILES`` photos; type and size are checked by the cases app (from the bytes, not the name)."""

    widget = MultipleFileInput(
        attrs={
            "accept": "image/jpeg,image/png,image/gif,image/webp",
            "multiple": True,
            # Texts the preview script shows before anything is sent.
            "data-too-many": _("Too many files: at most 5."),
            "data-too-big": _("Too large (at most 10 MB):"),
            "data-wrong-type": _("Not a photo (JPEG, PNG, GIF or WebP):"),
        }
    )

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        try:
            case_files.check_files(files)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get(case_files.FIELD, exc.messages)) from None
        return files


class CategoryField(forms.ModelChoiceField):
    """A case category, shown by its name in the interface language."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class CaseForm(forms.Form):
    """A new request: category, what happened, photos of the equipment."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=32)
    category = CategoryField(
        label=_("Topic"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("Other / not sure"),
    )
    description = forms.CharField(
        label=_("What happened"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("For example: since this morning there is no internet, the router's lamp blinks red."),
    )
    photos = PhotosField(
        label=_("Photos of the equipment (optional)"),
        required=False,
        help_text=_("Up to 5 photos, at most 10 MB each: JPEG, PNG, GIF or WebP."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = public_categories()


def public_categories() -> Any:
    """Categories a subscriber may choose (the callback category is the callback form's own)."""
    return Category.objects.exclude(code=callbacks.CATEGORY_CODE).order_by("name_ru")


class MessageForm(forms.Form):
    """A message on one of the subscriber's cases."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=32)
    body = forms.CharField(label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photos (optional)"), required=False)


class CallbackForm(forms.Form):
    """ "Call me back on this number between these times"."""

    phone = forms.CharField(
        label=_("Phone number"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    day = forms.DateField(
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, for example 2026-12-31.")},
    )
    start = forms.TimeField(
        label=_("From"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Enter a time, for example 14:30.")},
    )
    end = forms.TimeField(
        label=_("To"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Enter a time, for example 15:00.")},
    )
    topic = forms.CharField(label=_("What is it about (optional)"), required=False, max_length=300)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, start, end = data.get("day"), data.get("start"), data.get("end")
        if day is None or start is None or end is None:
            return data
        zone = timezone.get_current_timezone()
        window_start = timezone.make_aware(dt.datetime.combine(day, start), zone)
        window_end = timezone.make_aware(dt.datetime.combine(day, end), zone)
        now = timezone.now()
        if window_end <= window_start:
            self.add_error("end", _("The end of the window must be after its start."))
        elif window_end <= now:
            self.add_error("end", _("This time has already passed: choose a time in the future."))
        elif window_end - window_start < callbacks.MIN_WINDOW:
            self.add_error("end", _("Give us a window of at least 30 minutes."))
        elif window_start > now + callbacks.MAX_AHEAD:
            self.add_error("day", _("We take callback requests for the next 7 days only."))
        data["window_start"], data["window_end"] = window_start, window_end
        return data
