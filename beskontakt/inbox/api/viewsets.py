"""Callback requests over the API: an IVR, a website or the subscriber's own login can ask to be called back."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from beskontakt.accounts.roles import Role, user_can
from beskontakt.api.permissions import Capabilities
from beskontakt.cases.access import visible_cases
from beskontakt.inbox import callbacks
from beskontakt.inbox.models import CallbackRequest
from beskontakt.subscribers.actions import access_subscriber
from beskontakt.subscribers.models import Subscriber

from .serializers import CallbackCreateSerializer, CallbackOutcomeSerializer, CallbackSerializer


class CallbackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[CallbackRequest]):
    """Callback requests the user may see (staff: all; a subscriber: their own)."""

    serializer_class = CallbackSerializer
    permission_classes = [Capabilities]
    capabilities = {
        "list": ("case.view", "self.view"),
        "retrieve": ("case.view", "self.view"),
        "create": ("case.open", "self.view"),
        "outcome": ("case.reply",),
    }
    ordering_fields = ["window_start", "created_at"]
    ordering = ["window_start"]

    def get_queryset(self) -> QuerySet[CallbackRequest]:
        cases = visible_cases(self.request.user).values("pk")
        return CallbackRequest.objects.filter(case__in=cases).order_by("window_start", "pk")

    def get_object(self) -> CallbackRequest:
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError):
            raise Http404 from None
        found = self.get_queryset().filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def _subscriber(self, data: dict[str, Any]) -> Subscriber | None:
        user = self.request.user
        if getattr(user, "role", None) == Role.SUBSCRIBER:
            own = Subscriber.objects.filter(portal_user=user.pk).first()
            if own is None or data.get("subscriber") not in (None, own.pk):
                raise PermissionDenied("A subscriber may only ask for a callback for their own contract.")
            return own
        if data.get("subscriber") is None:
            return None
        return access_subscriber(user, data["subscriber"])

    @extend_schema(request=CallbackCreateSerializer, responses={201: CallbackSerializer})
    def create(self, request: Request) -> Response:
        """Ask for a callback; opens a case in the callback queue."""
        incoming = CallbackCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        callback = callbacks.request_callback(
            self._subscriber(data),
            phone=data["phone"],
            window_start=data["window_start"],
            window_end=data["window_end"],
            topic=data["topic"],
            by=request.user if user_can(request.user, "case.open") else None,
        )
        return Response(CallbackSerializer(callback).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CallbackOutcomeSerializer, responses={200: CallbackSerializer})
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk: str | None = None) -> Response:
        """Record one call: reached, or no answer (a follow-up is planned)."""
        callback = self.get_object()
        incoming = CallbackOutcomeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        done = callbacks.record_outcome(
            callback, reached=incoming.validated_data["reached"], by=request.user, note=incoming.validated_data["note"]
        )
        return Response(CallbackSerializer(done).data)
