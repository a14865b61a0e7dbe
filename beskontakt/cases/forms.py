"""Forms of the agent workspace: they parse input; the actions validate and write."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import CAPABILITIES
from beskontakt.subscribers.models import Channel

from .actions import LINK_KINDS, MAX_BODY
from .models import CaseStatus, Category, Macro, Priority, Queue

CASE_NUMBER_RE = re.compile(r"^#?\s*(\d{1,18})$")


def apply_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Put the messages of an action's ``ValidationError`` on the form's fields.

    Messages keyed by a field the form lacks become non-field errors, so
    nothing the action said is lost.
    """
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        name = aliases.get(field, field)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class CaseNumberField(forms.Field):
    """A case number as agents type it: ``123`` or ``#123``."""

    widget = forms.TextInput
    default_error_messages = {"invalid": _("Enter a case number, for example 123 or #123.")}

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip()
        if not text:
            return None
        match = CASE_NUMBER_RE.match(text[:30])
        if match is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(match.group(1))


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that lets the agent pick several files."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more uploaded files; their content is checked by the action (``cases/attachments.py``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ReplyForm(forms.Form):
    """An answer to the subscriber, optionally started from a macro."""

    macro = forms.ModelChoiceField(
        label=_("Macro"), queryset=Macro.objects.filter(active=True), required=False, empty_label=_("— no macro —")
    )
    body = forms.CharField(
        label=_("Reply"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6, "id": "reply-body"}),
    )
    wait = forms.BooleanField(label=_("Reply and wait for the subscriber"), required=False)
    attachments = MultipleFileField(label=_("Files"))
    # Empty: the channel the case came in on. The page offers the subscriber's reachable channels.
    channel = forms.ChoiceField(label=_("Send via"), choices=[("", "—"), *Channel.choices], required=False)


class CallbackOutcomeForm(forms.Form):
    """The result of calling a subscriber back."""

    reached = forms.TypedChoiceField(
        label=_("Outcome"),
        choices=[("1", _("Reached the subscriber")), ("0", _("No answer"))],
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class NoteForm(forms.Form):
    """An internal note."""

    body = forms.CharField(
        label=_("Internal note"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 3, "id": "note-body"})
    )


def assignable_users() -> Any:
    """Active people who may work cases (the choices of the assign form)."""
    return User.objects.filter(is_active=True, role__in=sorted(CAPABILITIES["case.reply"])).order_by(
        "last_name", "first_name", "username"
    )


def _user_label(user: Any) -> str:
    return str(user.display_name())


class AssignForm(forms.Form):
    """Give the case to someone (empty: back to the queue)."""

    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=_("— nobody (queue) —")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = assignable_users()
        field.label_from_instance = _user_label  # type: ignore[method-assign,assignment]


class StatusForm(forms.Form):
    """Move the case to another status."""

    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class PriorityForm(forms.Form):
    """Change the priority."""

    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)


class CategoryForm(forms.Form):
    """Change what the case is about."""

    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False, empty_label=_("— none —")
    )


class QueueForm(forms.Form):
    """Move the case to another queue."""

    queue = forms.ModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.all(), required=False, empty_label=_("— none —")
    )


class TagsForm(forms.Form):
    """Replace the tags (comma-separated)."""

    tags = forms.CharField(label=_("Tags, comma-separated"), max_length=1000, required=False)

    def clean_tags(self) -> list[str]:
        names = [n.strip() for n in self.cleaned_data["tags"].split(",")]
        names = [n for n in names if n]
        for name in names:
            if len(name) > 50:
                raise ValidationError(_("A tag may have at most 50 characters: “%(tag)s”.") % {"tag": name[:60]})
        return names


class MergeForm(forms.Form):
    """Fold this case into another one."""

    into = CaseNumberField(label=_("Merge into case number"))


LINK_LABELS = {"related": _("Related"), "parent": _("Parent of this case"), "child": _("Child of this case")}


class LinkForm(forms.Form):
    """Link this case to another one."""

    other = CaseNumberField(label=_("Case number"))
    kind = forms.ChoiceField(label=_("Link"), choices=[(k, LINK_LABELS[k]) for k in LINK_KINDS])


class OpenCaseForm(forms.Form):
    """Open a case by hand (a call, a visit to the office)."""

    subscriber = forms.IntegerField(widget=forms.HiddenInput, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("What the subscriber said"),
        max_length=MAX_BODY,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False, empty_label=_("— none —")
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("— from the category —")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    queue = forms.ModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.all(), required=False, empty_label=_("— from the category —")
    )
