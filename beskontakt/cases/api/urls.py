"""Routes of the cases API (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .intake import InboundQueueView
from .viewsets import AttachmentViewSet, CaseViewSet, InboundBatchView, InboundMessageView

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("attachments", AttachmentViewSet, basename="attachment")

urlpatterns = [
    path("messages/inbound/", InboundMessageView.as_view(), name="message-inbound"),
    path("messages/inbound/batch/", InboundBatchView.as_view(), name="message-inbound-batch"),
    path("messages/inbound/queue/", InboundQueueView.as_view(), name="message-inbound-queue"),
    *router.urls,
]
