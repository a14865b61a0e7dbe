"""Serializers of the callback API."""

from __future__ import annotations

from rest_framework import serializers

from beskontakt.inbox.models import CallbackRequest


class CallbackSerializer(serializers.ModelSerializer[CallbackRequest]):
    """A callback request as the API shows it."""

    class Meta:
        model = CallbackRequest
        fields = [
            "id",
            "subscriber",
            "case",
            "phone",
            "window_start",
            "window_end",
            "topic",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
        ]
        read_only_fields = fields


class CallbackCreateSerializer(serializers.Serializer[dict]):
    """Ask to be called back: a number and a time window (with a time zone), optionally a topic.

    Staff name the subscriber (id); a subscriber's own login may leave it out.
    """

    subscriber = serializers.IntegerField(required=False, min_value=1)
    phone = serializers.CharField(max_length=32)
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    topic = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CallbackOutcomeSerializer(serializers.Serializer[dict]):
    """The result of one call: reached or not, and a note."""

    reached = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
