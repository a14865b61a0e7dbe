"""Routes of the subscribers API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .viewsets import SubscriberViewSet, TariffViewSet

router = SimpleRouter()
router.register("subscribers", SubscriberViewSet, basename="subscriber")
router.register("tariffs", TariffViewSet, basename="tariff")

urlpatterns = router.urls
