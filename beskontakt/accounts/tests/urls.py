"""Test URLconf: the real URL map plus tiny views guarded by ``staff_required`` and ``StaffRequiredMixin``."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views import View

from beskontakt.accounts.access import StaffRequiredMixin, staff_required
from beskontakt.accounts.roles import CAPABILITIES
from beskontakt.urls import urlpatterns as real_urlpatterns


def _ok(request: HttpRequest, capability: str = "") -> HttpResponse:
    return HttpResponse(f"ok {capability}")


class MixinView(StaffRequiredMixin, View):
    capability = "case.assign"

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("mixin ok")


urlpatterns = [
    path("_t/staff/", staff_required(_ok), name="t-staff"),
    path("_t/mixin/", MixinView.as_view(), name="t-mixin"),
    *(path(f"_t/cap/{cap}/", staff_required(cap)(_ok), {"capability": cap}) for cap in CAPABILITIES),
    *real_urlpatterns,
]
