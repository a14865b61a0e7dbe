"""Subscriber endpoints: the subscriber 360 (read), access restrictions and the tariff catalogue."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from beskontakt.accounts.roles import Role, user_can
from beskontakt.api.fields import ID_REGEX
from beskontakt.api.permissions import Capabilities
from beskontakt.subscribers import actions
from beskontakt.subscribers.models import AccessRestriction, Subscriber, Subscription, Tariff

from .filters import SubscriberFilter, TariffFilter
from .serializers import (
    RestrictionCreateSerializer,
    RestrictionSerializer,
    SubscriberDetailSerializer,
    SubscriberListSerializer,
    TariffSerializer,
)

READ = ("subscriber.view", "self.view")


def visible_subscribers(user: Any) -> QuerySet[Subscriber]:
    """Subscribers ``user`` may see: all for staff with ``subscriber.view``, their own record for a portal user."""
    if user_can(user, "subscriber.view"):
        return Subscriber.objects.all()
    if getattr(user, "role", None) == Role.SUBSCRIBER and user.is_active:
        return Subscriber.objects.filter(portal_user=user)
    return Subscriber.objects.none()


@extend_schema_view(
    list=extend_schema(summary="List subscribers", description="Staff see every subscriber; a portal user only self."),
    retrieve=extend_schema(summary="A subscriber with contacts, tariffs, equipment and active restrictions"),
)
class SubscriberViewSet(viewsets.ReadOnlyModelViewSet[Subscriber]):
    """Subscribers (read only; restrictions are recorded and lifted through their own routes)."""

    permission_classes = [Capabilities]
    capabilities = {"list": READ, "retrieve": READ, "restrictions": READ, "lift_restriction": READ}
    filterset_class = SubscriberFilter
    ordering_fields = ["contract_number", "created_at", "balance", "last_name"]
    ordering = ["contract_number"]
    lookup_value_regex = ID_REGEX
    queryset = Subscriber.objects.none()

    def get_queryset(self) -> QuerySet[Subscriber]:
        queryset = visible_subscribers(self.request.user).select_related("address__district")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "contacts",
                "equipment",
                "restrictions",
                Prefetch("subscriptions", queryset=Subscription.objects.select_related("tariff")),
                "subscriptions__tariff__includes",
            )
        return queryset

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "retrieve":
            return SubscriberDetailSerializer
        return SubscriberListSerializer

    def get_object(self) -> Subscriber:
        subscriber = actions.access_subscriber(self.request.user, self.kwargs["pk"])
        # Re-read with the nested data prefetched (access already decided).
        return self.get_queryset().get(pk=subscriber.pk)

    @extend_schema(
        methods=["GET"],
        summary="Access restrictions of a subscriber (active and past)",
        responses=RestrictionSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Record an access restriction",
        request=RestrictionCreateSerializer,
        responses={201: RestrictionSerializer, 400: OpenApiResponse(description="Field errors")},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def restrictions(self, request: Request, pk: str | None = None) -> Response:
        subscriber = actions.access_subscriber(request.user, pk or "")
        if request.method == "GET":
            rows = subscriber.restrictions.all()
            return Response(RestrictionSerializer(rows, many=True).data)
        if not user_can(request.user, "restriction.record"):
            raise PermissionDenied()
        data = RestrictionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        restriction = actions.record_restriction(
            subscriber,
            data.validated_data["kind"],
            data.validated_data["reason"],
            valid_until=data.validated_data.get("valid_until"),
            valid_from=data.validated_data.get("valid_from"),
            by=request.user,  # type: ignore[arg-type]
        )
        return Response(RestrictionSerializer(restriction).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Lift an access restriction now",
        request=None,
        parameters=[OpenApiParameter("restriction_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: RestrictionSerializer, 400: OpenApiResponse(description="Already lifted")},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"restrictions/(?P<restriction_id>{ID_REGEX})/lift",
        filter_backends=[],
        pagination_class=None,
    )
    def lift_restriction(self, request: Request, pk: str | None = None, restriction_id: str | None = None) -> Response:
        subscriber = actions.access_subscriber(request.user, pk or "")
        restriction = AccessRestriction.objects.filter(subscriber=subscriber, pk=int(restriction_id or 0)).first()
        if restriction is None:
            raise Http404("no such restriction")
        if not user_can(request.user, "restriction.record"):
            raise PermissionDenied()
        lifted = actions.lift_restriction(restriction, by=request.user)  # type: ignore[arg-type]
        return Response(RestrictionSerializer(lifted).data)


@extend_schema_view(
    list=extend_schema(summary="The tariff catalogue"),
    retrieve=extend_schema(summary="One tariff"),
)
class TariffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Tariff]):
    """Tariffs, TV packages, add-ons and bundles (read only; any signed-in user)."""

    permission_classes = [Capabilities]
    capabilities: dict[str, tuple[str, ...]] = {"list": (), "retrieve": ()}
    serializer_class = TariffSerializer
    filterset_class = TariffFilter
    ordering_fields = ["monthly_price", "code", "name"]
    lookup_value_regex = ID_REGEX
    queryset = Tariff.objects.prefetch_related("includes")
