"""Serializer and filter fields shared by the API apps."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Primary keys are 64-bit; anything larger cannot exist (and would overflow SQLite).
MAX_ID = 2**63 - 1
# How a primary key looks in a URL: digits only, so junk is a 404 before any query.
ID_REGEX = r"[0-9]{1,18}"


class IdField(serializers.IntegerField):
    """An object id in a request body: a positive 64-bit integer."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdFilter(filters.Filter):
    """Filter by an object id without checking that the object exists (no existence oracle)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, converted to UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(_("Enter a moment between the years 1 and 9999."), code="invalid") from None


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    """Filter by a moment given in ISO 8601 with any offset."""

    field_class = UtcIsoDateTimeField


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 32}]})
class SubscriberRefField(serializers.Field):
    """A subscriber given as its id (a JSON number) or its contract number (a JSON string)."""

    default_error_messages = {
        "invalid": _("Send the subscriber's id as a number or the contract number as a string."),
    }

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if not 1 <= data <= MAX_ID:
                self.fail("invalid")
            return data
        if isinstance(data, str):
            text = data.strip()
            if not text or len(text) > 32 or "\x00" in text:
                self.fail("invalid")
            return text
        self.fail("invalid")
        raise AssertionError("unreachable")

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(OpenApiTypes.OBJECT)
class DetailsField(serializers.JSONField):
    """Free-form details of an event (before/after values)."""
