"""Case endpoints: cases, their messages, notes and events, and message intake.

Views are thin: they parse input with a serializer, find objects through
:func:`~beskontakt.cases.access.access_case` (404 for what the user may not
see) and call one action from :mod:`beskontakt.cases.actions` per change.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role, user_can
from beskontakt.api.fields import ID_REGEX
from beskontakt.api.permissions import Capabilities
from beskontakt.cases import actions
from beskontakt.cases.access import access_case, visible_cases
from beskontakt.cases.attachments import download_response
from beskontakt.cases.models import Attachment, Case, Event, Message
from beskontakt.subscribers.models import Channel, Subscriber

from .filters import CaseFilter
from .serializers import (
    PORTAL_EVENT_KINDS,
    CaseCreateSerializer,
    CaseSerializer,
    CaseUpdateSerializer,
    EventSerializer,
    InboundBatchRequestSerializer,
    InboundBatchResultSerializer,
    InboundBatchSerializer,
    InboundMessageSerializer,
    LinkSerializer,
    MergeSerializer,
    MessagePostSerializer,
    MessageSerializer,
    MessageUploadSerializer,
    NoteSerializer,
    PortalCaseSerializer,
    PortalEventSerializer,
    PortalMessageSerializer,
)

READ = ("case.view", "self.view")
REPLAYED_HEADER = "Idempotency-Replayed"
MAX_MERGE_HOPS = 20
ERRORS_400 = OpenApiResponse(description="What was wrong, keyed by field.")


def is_portal_user(user: Any) -> bool:
    """Whether ``user`` is a subscriber using their own login (not operator staff)."""
    return getattr(user, "role", None) == Role.SUBSCRIBER


def surviving_case(case: Case) -> Case:
    """The case that ``case`` was (transitively) merged into, or ``case`` itself."""
    hops = 0
    while case.merged_into_id is not None and hops < MAX_MERGE_HOPS:
        nxt = case.merged_into
        if nxt is None:
            break
        case, hops = nxt, hops + 1
    return case


@extend_schema_view(
    list=extend_schema(
        summary="List cases",
        description="Staff see all cases (technicians: their own), a subscriber sees their own cases.",
    ),
    retrieve=extend_schema(summary="One case"),
    create=extend_schema(
        summary="Open a case",
        request=CaseCreateSerializer,
        responses={201: CaseSerializer, 400: ERRORS_400},
    ),
    partial_update=extend_schema(
        summary="Change status, priority, category, queue, tags or assignee",
        description="Each field goes through its own action and is recorded as an event; all or nothing.",
        request=CaseUpdateSerializer,
        responses={200: CaseSerializer, 400: ERRORS_400},
    ),
)
class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Case],
):
    """Cases: read, open, change, take, merge, link; messages, notes and events below each case."""

    permission_classes = [Capabilities]
    capabilities = {
        "list": READ,
        "retrieve": READ,
        "events": READ,
        "messages": READ,
        "notes": READ,
        "create": ("case.open",),
        "partial_update": ("case.change_status", "case.assign"),
        "take": ("case.take",),
        "merge": ("case.merge",),
        "link": ("case.link",),
    }
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_class = CaseFilter
    ordering_fields = ["created_at", "updated_at", "priority", "next_due_at", "status", "id"]
    ordering = ["-created_at"]
    lookup_value_regex = ID_REGEX
    queryset = Case.objects.none()

    def get_queryset(self) -> QuerySet[Case]:
        return (
            visible_cases(self.request.user)
            .select_related("subscriber", "category", "queue", "assignee")
            .prefetch_related("tags", "related")
        )

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if is_portal_user(self.request.user):
            return PortalCaseSerializer
        return CaseSerializer

    def get_object(self) -> Case:
        return access_case(self.request.user, self.kwargs["pk"])

    def _case_response(self, case: Case, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().filter(pk=case.pk).first() or case
        return Response(self.get_serializer_class()(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CaseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        subscriber = None
        if values.get("subscriber") is not None:
            subscriber = Subscriber.objects.filter(pk=values["subscriber"]).first()
            if subscriber is None:
                raise ValidationError({"subscriber": [_("No subscriber with this id.")]})
        case = actions.open_case(
            subject=values["subject"],
            channel=values["channel"],
            subscriber=subscriber,
            body=values.get("body"),
            category=values.get("category"),
            priority=values.get("priority"),
            queue=values.get("queue"),
            by=request.user,
            external_id=values.get("external_id") if values.get("body") is not None else None,
            sender=values.get("sender") or "",
        )
        return self._case_response(case, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        data = CaseUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        with transaction.atomic():
            if "status" in values and values["status"] != case.status:
                case = actions.change_status(case, to=values["status"], by=user, reason=values.get("reason", ""))
            if "priority" in values and values["priority"] != case.priority:
                case = actions.set_priority(case, priority=values["priority"], by=user)
            if "category" in values:
                case = actions.set_category(case, category=values["category"], by=user)
            if "queue" in values:
                case = actions.move_to_queue(case, queue=values["queue"], by=user)
            if "tags" in values:
                case = actions.set_tags(case, names=values["tags"], by=user)
            if "assignee" in values and values["assignee"] != case.assignee_id:
                assignee = None
                if values["assignee"] is not None:
                    assignee = User.objects.filter(pk=values["assignee"]).first()
                    if assignee is None:
                        raise ValidationError({"assignee": [_("No person with this id.")]})
                case = actions.assign(case, to=assignee, by=user)
        return self._case_response(case)

    @extend_schema(summary="Take the case for yourself", request=None, responses={200: CaseSerializer, 400: ERRORS_400})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def take(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        return self._case_response(actions.take(case, by=request.user))

    def _other_case(self, value: int, field: str) -> Case:
        other = visible_cases(self.request.user).filter(pk=value).first()
        if other is None:
            raise ValidationError({field: [_("No case with this id.")]})
        return other

    @extend_schema(
        summary="Merge this case into another",
        description="Messages and notes move to the other case, which is returned; this case closes.",
        request=MergeSerializer,
        responses={200: CaseSerializer, 400: ERRORS_400},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def merge(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        into = self._other_case(data.validated_data["into"], "into")
        return self._case_response(actions.merge(case, into=into, by=request.user))

    @extend_schema(
        summary="Link this case to another (related, parent or child)",
        request=LinkSerializer,
        responses={200: CaseSerializer, 400: ERRORS_400},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def link(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        data = LinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        other = self._other_case(data.validated_data["other"], "other")
        return self._case_response(actions.link(case, other=other, kind=data.validated_data["kind"], by=request.user))

    # --- Below a case ----------------------------------------------------------------

    @extend_schema(methods=["GET"], summary="Messages of a case", responses=MessageSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        summary="Reply to the subscriber (staff) or write to your own case (subscriber)",
        description=(
            "Staff with the reply capability send an answer (queued for delivery). A subscriber's message is "
            "stored as an inbound portal message; `external_id` makes it idempotent: a repeat answers 200 with "
            f"the stored message and the header `{REPLAYED_HEADER}: true`.\n\n"
            "Files: send `multipart/form-data` with `body` and one `files` part per file (at most 5, 10 MB each; "
            "JPEG, PNG, GIF, WebP, PDF or UTF-8 text, recognised by content). A refused file answers 400 under "
            "`files`, naming the file; nothing is stored then."
        ),
        request={
            "application/json": MessagePostSerializer,
            "multipart/form-data": MessageUploadSerializer,
            "application/x-www-form-urlencoded": MessagePostSerializer,
        },
        responses={201: MessageSerializer, 200: MessageSerializer, 400: ERRORS_400},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        parser_classes=[JSONParser, MultiPartParser, FormParser],
    )
    def messages(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        portal = is_portal_user(request.user)
        serializer_class = PortalMessageSerializer if portal else MessageSerializer
        if request.method == "GET":
            rows = Message.objects.filter(case=case).prefetch_related("attachments").order_by("created_at", "id")
            page = self.paginate_queryset(rows)  # type: ignore[arg-type]
            return self.get_paginated_response(serializer_class(page, many=True).data)
        data = MessageUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if portal:
            return self._portal_message(case, values)
        if not user_can(request.user, "case.reply"):
            raise PermissionDenied()
        message = actions.reply(
            case,
            by=request.user,
            body=values["body"],
            channel=values.get("channel"),
            then_status=values.get("then_status"),
            attachments=values.get("files") or None,
        )
        return Response(serializer_class(message).data, status=status.HTTP_201_CREATED)

    def _portal_message(self, case: Case, values: dict[str, Any]) -> Response:
        user = self.request.user
        target = surviving_case(case)
        if target.subscriber_id is None or target.subscriber_id != case.subscriber_id:
            raise ValidationError({"case": [_("This case is closed for messages; open a new one.")]})
        key = values.get("external_id") or uuid.uuid4().hex
        # Keys are per login, so one subscriber's key can never reach another's message.
        external_id = f"user{user.pk}:{key}"
        message, created = actions.receive_message_with_attachments(
            attachments=values.get("files") or None,
            channel=Channel.PORTAL,
            external_id=external_id,
            body=values["body"],
            case=target,
            subscriber=target.subscriber,
            sender=_display(user),
            by=None,
        )
        return _inbound_response(user, message, created, PortalMessageSerializer)

    @extend_schema(
        methods=["GET"], summary="Internal notes of a case (staff only)", responses=NoteSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        summary="Add an internal note",
        request=NoteSerializer,
        responses={201: NoteSerializer, 400: ERRORS_400},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        if not user_can(request.user, "case.view"):
            raise Http404()  # notes do not exist for subscribers
        case = self.get_object()
        if request.method == "GET":
            notes = case.notes.select_related("author").order_by("created_at", "id")
            page = self.paginate_queryset(notes)  # type: ignore[arg-type]
            return self.get_paginated_response(NoteSerializer(page, many=True).data)
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = actions.add_note(case, by=request.user, body=data.validated_data["body"])
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="The case timeline", responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        rows = Event.objects.filter(case=case).select_related("actor").order_by("at", "id")
        serializer_class: type[BaseSerializer[Any]] = EventSerializer
        if is_portal_user(request.user):
            rows = rows.filter(kind__in=PORTAL_EVENT_KINDS)
            serializer_class = PortalEventSerializer
        page = self.paginate_queryset(rows)  # type: ignore[arg-type]
        return self.get_paginated_response(serializer_class(page, many=True).data)


def _display(user: Any) -> str:
    return user.display_name() if hasattr(user, "display_name") else str(user)


def _inbound_response(user: Any, message: Message, created: bool, serializer_class: Any) -> Response:
    """201 with the message, or 200 with the same body and the replay header for a repeat."""
    if not created and not visible_cases(user).filter(pk=message.case_id).exists():
        # The id is taken by a message this caller cannot see: say so without showing it.
        raise ValidationError({"external_id": [_("This id is already used by another message.")]})
    response = Response(serializer_class(message).data, status=status.HTTP_201_CREATED if created else 200)
    if not created:
        response[REPLAYED_HEADER] = "true"
    return response


class InboundContext:
    """Lookups shared by the items of one intake request (subscribers and cases by id)."""

    def __init__(self, user: Any, items: list[dict[str, Any]]) -> None:
        self.user = user
        ids = {i["subscriber"] for i in items if isinstance(i.get("subscriber"), int)}
        contracts = {i["subscriber"] for i in items if isinstance(i.get("subscriber"), str)}
        case_ids = {i["case"] for i in items if i.get("case") is not None}
        self.by_id = {s.pk: s for s in Subscriber.objects.filter(pk__in=ids)} if ids else {}
        self.by_contract = (
            {s.contract_number: s for s in Subscriber.objects.filter(contract_number__in=contracts)}
            if contracts
            else {}
        )
        self.cases = (
            {c.pk: c for c in visible_cases(user).filter(pk__in=case_ids).select_related("merged_into")}
            if case_ids
            else {}
        )

    def store(self, values: dict[str, Any]) -> tuple[Message, bool]:
        """Resolve the subscriber and case of one valid item and store it (raises ValidationError)."""
        subscriber = None
        ref = values.get("subscriber")
        if isinstance(ref, int):
            subscriber = self.by_id.get(ref)
            if subscriber is None:
                raise ValidationError({"subscriber": [_("No subscriber with this id.")]})
        elif isinstance(ref, str):
            subscriber = self.by_contract.get(ref)
            if subscriber is None:
                raise ValidationError({"subscriber": [_("No subscriber with this contract number.")]})
        case = None
        if values.get("case") is not None:
            case = self.cases.get(values["case"])
            if case is None:
                raise ValidationError({"case": [_("No case with this id.")]})
            case = surviving_case(case)
            if subscriber is not None and case.subscriber_id not in (None, subscriber.pk):
                raise ValidationError({"case": [_("This case belongs to another subscriber.")]})
            subscriber = subscriber or case.subscriber
        return actions.receive_message(
            channel=values["channel"],
            external_id=values["external_id"],
            body=values["body"],
            case=case,
            subscriber=subscriber,
            subject=values.get("subject") or None,
            sender=values.get("sender") or "",
            at=values.get("sent_at"),
            by=self.user,
        )


class InboundMessageView(APIView):
    """Intake of one message a channel received (Telegram bot, mail gateway, chat widget...); JSON only."""

    permission_classes = [Capabilities]
    parser_classes = [JSONParser]
    capabilities = {"post": ("message.ingest",)}

    @extend_schema(
        summary="Store one inbound message exactly once",
        description=(
            "Idempotent on (channel, external_id): the first call answers 201, a repeat answers 200 with the same "
            f"body and the header `{REPLAYED_HEADER}: true`, and stores nothing."
        ),
        request=InboundMessageSerializer,
        responses={201: MessageSerializer, 200: MessageSerializer, 400: ERRORS_400},
    )
    def post(self, request: Request) -> Response:
        data = InboundMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        context = InboundContext(request.user, [data.validated_data])
        message, created = context.store(data.validated_data)
        return _inbound_response(request.user, message, created, MessageSerializer)


class InboundBatchView(APIView):
    """Intake of up to 500 messages in one request; every item is stored (or refused) on its own. JSON only."""

    permission_classes = [Capabilities]
    parser_classes = [JSONParser]
    capabilities = {"post": ("message.ingest",)}

    @extend_schema(
        summary="Store up to 500 inbound messages",
        description=(
            "Each item is validated and stored in its own transaction; the answer lists, in request order, "
            "whether each was `created`, `replayed` (already stored) or an `error` with field messages."
        ),
        request=InboundBatchRequestSerializer,
        responses={200: InboundBatchResultSerializer, 400: ERRORS_400},
    )
    def post(self, request: Request) -> Response:
        envelope = InboundBatchSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        raw_items = envelope.validated_data["items"]
        parsed: list[dict[str, Any] | None] = []
        results: list[dict[str, Any]] = []
        for index, raw in enumerate(raw_items):
            item = InboundMessageSerializer(data=raw)
            if item.is_valid():
                parsed.append(dict(item.validated_data))
                results.append({"index": index, "status": None, "message": None, "case": None, "errors": None})
            else:
                parsed.append(None)
                errors = item.errors if isinstance(item.errors, dict) else {"detail": item.errors}
                results.append({"index": index, "status": "error", "message": None, "case": None, "errors": errors})
        context = InboundContext(request.user, [p for p in parsed if p is not None])
        visible_ids: set[int] | None = None
        for values, result in zip(parsed, results, strict=True):
            if values is None:
                continue
            try:
                message, created = context.store(values)
            except ValidationError as exc:
                result.update(status="error", errors=exc.detail)
                continue
            except DjangoValidationError as exc:
                detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
                result.update(status="error", errors=detail)
                continue
            if not created:
                if visible_ids is None:
                    visible_ids = set()
                if message.case_id not in visible_ids:
                    if not visible_cases(request.user).filter(pk=message.case_id).exists():
                        result.update(
                            status="error", errors={"external_id": [_("This id is already used by another message.")]}
                        )
                        continue
                    visible_ids.add(message.case_id)
            result.update(status="created" if created else "replayed", message=message.pk, case=message.case_id)
        body = {
            "created": sum(1 for r in results if r["status"] == "created"),
            "replayed": sum(1 for r in results if r["status"] == "replayed"),
            "errors": sum(1 for r in results if r["status"] == "error"),
            "results": results,
        }
        return Response(body)


@extend_schema_view(
    download=extend_schema(
        summary="Download a file of a message",
        description=(
            "The bytes of an attachment, with `Content-Disposition: attachment`, the type detected at upload and "
            "`X-Content-Type-Options: nosniff`. Answers 404 for a file on a case you cannot see."
        ),
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No such file, or not on a case you can see."),
        },
    )
)
class AttachmentViewSet(viewsets.GenericViewSet[Attachment]):
    """Files of messages, downloaded through the access check of their case."""

    permission_classes = [Capabilities]
    capabilities = {"download": READ}
    lookup_value_regex = ID_REGEX
    queryset = Attachment.objects.none()
    pagination_class = None
    filter_backends: list[Any] = []

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # A download accepts any Accept header; errors still render as JSON.
        return super().perform_content_negotiation(request, force=True)

    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        attachment = Attachment.objects.select_related("message").filter(pk=self.kwargs["pk"]).first()
        if attachment is None:
            raise Http404()
        access_case(request.user, attachment.message.case_id)
        return download_response(attachment)
