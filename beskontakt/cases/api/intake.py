"""The queued intake endpoint: accept up to 500 inbound messages durably, process them in workers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from beskontakt.api.permissions import Capabilities

from .. import intake
from .serializers import InboundBatchRequestSerializer, InboundBatchSerializer, InboundMessageSerializer
from .viewsets import ERRORS_400


class QueuedItemResultSerializer(serializers.Serializer[Any]):
    """What happened to one item of a queued batch."""

    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[("accepted", "accepted"), ("replayed", "replayed"), ("error", "error")])
    errors = serializers.DictField(allow_null=True)  # type: ignore[assignment]


class QueuedBatchResultSerializer(serializers.Serializer[Any]):
    """Per-item results in request order, and totals."""

    accepted = serializers.IntegerField()
    replayed = serializers.IntegerField()
    errors = serializers.IntegerField()  # type: ignore[assignment]
    results = QueuedItemResultSerializer(many=True)


class InboundQueueView(APIView):
    """Durable, fast intake for channel gateways under load (a mass outage): JSON only.

    Items are checked for shape and stored before anything else happens; the
    answer (202) says which were accepted and which were repeats. Workers then
    thread them into cases exactly as the synchronous endpoint would; an item
    that turns out impossible (an unknown subscriber) is kept with its reason.
    """

    permission_classes = [Capabilities]
    parser_classes = [JSONParser]
    capabilities = {"post": ("message.ingest",)}

    @extend_schema(
        summary="Accept up to 500 inbound messages for processing",
        description=(
            "Stores every well-formed item durably (idempotent on channel and external_id: a repeat is reported as "
            "`replayed` and ignored) and answers 202 at once; workers turn the items into case messages within "
            "seconds. Use this endpoint for bursts; the synchronous `messages/inbound/` answers with the case."
        ),
        request=InboundBatchRequestSerializer,
        responses={202: QueuedBatchResultSerializer, 400: ERRORS_400},
    )
    def post(self, request: Request) -> Response:
        envelope = InboundBatchSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        results: list[dict[str, Any]] = []
        valid: list[dict[str, Any]] = []
        for index, raw in enumerate(envelope.validated_data["items"]):
            item = InboundMessageSerializer(data=raw)
            if item.is_valid():
                valid.append(dict(item.validated_data))
                results.append({"index": index, "status": None, "errors": None})
            else:
                errors = item.errors if isinstance(item.errors, dict) else {"detail": item.errors}
                results.append({"index": index, "status": "error", "errors": errors})
        outcomes = iter(intake.accept(request.user, valid))
        for result in results:
            if result["status"] is None:
                result["status"] = next(outcomes)
        body = {
            "accepted": sum(1 for r in results if r["status"] == "accepted"),
            "replayed": sum(1 for r in results if r["status"] == "replayed"),
            "errors": sum(1 for r in results if r["status"] == "error"),
            "results": results,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)
