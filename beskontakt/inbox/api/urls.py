"""Routes of the intake API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .viewsets import CallbackViewSet

router = SimpleRouter()
router.register("callbacks", CallbackViewSet, basename="callback")

urlpatterns = router.urls
