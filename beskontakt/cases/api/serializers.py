"""How cases, messages, notes and events look in the API, and what to send to change them.

Staff and portal users (role ``subscriber``) get different shapes: a subscriber
never sees assignment, queues, tags, SLA figures, links to other cases or
internal event details.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from beskontakt.api.fields import DetailsField, IdField, SubscriberRefField
from beskontakt.cases.actions import LINK_KINDS, MAX_BODY
from beskontakt.cases.attachments import MAX_FILES
from beskontakt.cases.models import Attachment, Case, CaseStatus, Category, Event, Message, Note, Priority, Queue, Tag
from beskontakt.subscribers.models import Channel

MAX_TAGS = 50
# How far the channel's own timestamp may be from now.
MAX_CLOCK_SKEW = timedelta(minutes=10)
MAX_BACKDATE = timedelta(days=366)
BATCH_LIMIT = 500


def _name(user: Any) -> str:
    if user is None:
        return ""
    return user.display_name() if hasattr(user, "display_name") else str(user)


class CaseSerializer(serializers.ModelSerializer[Case]):
    """A case as the care desk sees it."""

    reference = serializers.CharField(read_only=True)
    subscriber_contract = serializers.CharField(source="subscriber.contract_number", read_only=True, allow_null=True)
    category: serializers.SlugRelatedField[Category] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    queue: serializers.SlugRelatedField[Queue] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assignee_name = serializers.SerializerMethodField()
    tags: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "subject",
            "subscriber",
            "subscriber_contract",
            "status",
            "priority",
            "category",
            "queue",
            "channel",
            "assignee",
            "assignee_name",
            "tags",
            "parent",
            "merged_into",
            "related",
            "sla_state",
            "next_due_at",
            "created_at",
            "updated_at",
            "first_response_at",
            "last_inbound_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_assignee_name(self, obj: Case) -> str:
        return _name(obj.assignee)


class PortalCaseSerializer(serializers.ModelSerializer[Case]):
    """A case as its subscriber sees it."""

    reference = serializers.CharField(read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "subject",
            "subscriber",
            "status",
            "channel",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields


class CaseCreateSerializer(serializers.Serializer[Any]):
    """Open a case (staff): subject, optional subscriber, first message and classification."""

    subject = serializers.CharField(max_length=200)
    subscriber = IdField(required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.PHONE)
    body = serializers.CharField(max_length=MAX_BODY, required=False, allow_null=True)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.all(), required=False, allow_null=True
    )
    queue = serializers.SlugRelatedField(
        slug_field="code", queryset=Queue.objects.all(), required=False, allow_null=True
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True)
    external_id = serializers.CharField(max_length=255, required=False, allow_null=True)
    sender = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CaseUpdateSerializer(serializers.Serializer[Any]):
    """Change a case: every field is optional and each goes through its own action."""

    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.all(), required=False, allow_null=True
    )
    queue = serializers.SlugRelatedField(
        slug_field="code", queryset=Queue.objects.all(), required=False, allow_null=True
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=MAX_TAGS, required=False, allow_empty=True
    )
    assignee = IdField(required=False, allow_null=True)


class MergeSerializer(serializers.Serializer[Any]):
    """Merge this case into another one (the other survives)."""

    into = IdField(help_text=_("Id of the case that survives."))


class LinkSerializer(serializers.Serializer[Any]):
    """Link this case to another one."""

    other = IdField(help_text=_("Id of the other case."))
    kind = serializers.ChoiceField(choices=[(k, k) for k in LINK_KINDS], default="related")


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    """A file of a message: its cleaned original name, the type detected from its content, its size and where to
    download it (the download checks access to the case again)."""

    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "download_url"]
        read_only_fields = fields

    def get_download_url(self, obj: Attachment) -> str:
        return reverse("v1:attachment-download", kwargs={"pk": obj.pk})


class MessageSerializer(serializers.ModelSerializer[Message]):
    """A message to or from the subscriber."""

    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "case",
            "direction",
            "channel",
            "external_id",
            "author",
            "sender",
            "body",
            "delivery",
            "delivery_error",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields


class PortalMessageSerializer(serializers.ModelSerializer[Message]):
    """A message as the subscriber sees it."""

    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "case", "direction", "channel", "sender", "body", "delivery", "created_at", "attachments"]
        read_only_fields = fields


class MessagePostSerializer(serializers.Serializer[Any]):
    """A message on a case: an agent's reply, or (for a subscriber) a new message from them.

    ``channel`` and ``then_status`` apply to agent replies; ``external_id`` is the
    subscriber's idempotency key (a repeat with the same key stores nothing new).
    """

    body = serializers.CharField(max_length=MAX_BODY)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_null=True)
    then_status = serializers.ChoiceField(choices=CaseStatus.choices, required=False, allow_null=True)
    external_id = serializers.CharField(max_length=200, required=False, allow_null=True)


class MessageUploadSerializer(MessagePostSerializer):
    """A message with files, sent as ``multipart/form-data``: repeat the ``files`` part once per file.

    At most 5 files of at most 10 MB each; accepted are JPEG, PNG, GIF, WebP, PDF and plain UTF-8 text,
    recognised by their content (not their name).
    """

    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        allow_empty=True,
        max_length=MAX_FILES,
        help_text=_("Up to 5 files of at most 10 MB each; the type is read from each file's content."),
    )


class NoteSerializer(serializers.ModelSerializer[Note]):
    """An internal note (staff only)."""

    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "case", "author", "author_name", "body", "created_at"]
        read_only_fields = ["id", "case", "author", "author_name", "created_at"]
        extra_kwargs = {"body": {"max_length": MAX_BODY}}

    def get_author_name(self, obj: Note) -> str:
        return _name(obj.author)


class EventSerializer(serializers.ModelSerializer[Event]):
    """One entry of the case timeline."""

    actor_name = serializers.SerializerMethodField()
    data = DetailsField(read_only=True)  # type: ignore[assignment]

    class Meta:
        model = Event
        fields = ["id", "case", "at", "kind", "actor", "actor_name", "data"]
        read_only_fields = fields

    def get_actor_name(self, obj: Event) -> str:
        return _name(obj.actor)


# What of the timeline a subscriber sees, and which details of it.
PORTAL_EVENT_KINDS = (
    Event.Kind.OPENED,
    Event.Kind.MESSAGE_IN,
    Event.Kind.MESSAGE_OUT,
    Event.Kind.STATUS,
    Event.Kind.MERGED,
    Event.Kind.MERGED_INTO,
)
PORTAL_EVENT_KEYS = frozenset({"old", "new", "channel", "message", "subject"})


class PortalEventSerializer(serializers.ModelSerializer[Event]):
    """A timeline entry as the subscriber sees it (no internal details)."""

    actor_name = serializers.SerializerMethodField()
    data = serializers.SerializerMethodField()  # type: ignore[assignment]

    class Meta:
        model = Event
        fields = ["id", "case", "at", "kind", "actor_name", "data"]
        read_only_fields = fields

    def get_actor_name(self, obj: Event) -> str:
        return _name(obj.actor)

    @extend_schema_field(DetailsField())
    def get_data(self, obj: Event) -> dict[str, Any]:
        return {k: v for k, v in (obj.data or {}).items() if k in PORTAL_EVENT_KEYS}


class InboundMessageSerializer(serializers.Serializer[Any]):
    """A message a channel received from a subscriber, to be stored exactly once."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    external_id = serializers.CharField(max_length=255, help_text=_("The channel's own id of the message."))
    body = serializers.CharField(max_length=MAX_BODY)
    subscriber = SubscriberRefField(
        required=False, allow_null=True, help_text=_("Subscriber id (number) or contract number (string).")
    )
    case = IdField(required=False, allow_null=True, help_text=_("Case to add the message to."))
    subject = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    sender = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    sent_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate_sent_at(self, value: Any) -> Any:
        if value is None:
            return value
        now = timezone.now()
        if value > now + MAX_CLOCK_SKEW:
            raise serializers.ValidationError(_("The time is in the future; send the moment the channel received it."))
        if value < now - MAX_BACKDATE:
            raise serializers.ValidationError(_("The time is more than a year ago."))
        return value


class InboundBatchSerializer(serializers.Serializer[Any]):
    """Up to 500 inbound messages; each item is checked and stored on its own."""

    items = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=BATCH_LIMIT, help_text=_("Inbound messages.")
    )


class InboundBatchRequestSerializer(serializers.Serializer[Any]):
    """The documented shape of a batch (items are validated one by one)."""

    items = InboundMessageSerializer(many=True, min_length=1, max_length=BATCH_LIMIT)  # type: ignore[call-arg]


class InboundItemResultSerializer(serializers.Serializer[Any]):
    """What happened to one item of a batch."""

    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[("created", "created"), ("replayed", "replayed"), ("error", "error")])
    message = serializers.IntegerField(allow_null=True)
    case = serializers.IntegerField(allow_null=True)
    errors = DetailsField(allow_null=True)  # type: ignore[assignment]


class InboundBatchResultSerializer(serializers.Serializer[Any]):
    """Per-item results in the order of the request, and totals."""

    created = serializers.IntegerField()
    replayed = serializers.IntegerField()
    errors = serializers.IntegerField()  # type: ignore[assignment]
    results = InboundItemResultSerializer(many=True)
