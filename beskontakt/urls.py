"""The URL map: the agent workspace, the admin, the API and its schema."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("beskontakt.cases.urls")),
    path("accounts/", include("beskontakt.accounts.urls")),
    path("subscribers/", include("beskontakt.subscribers.urls")),
    path("inbox/", include("beskontakt.inbox.urls")),
    path("network/", include("beskontakt.network.urls")),
    path("my/", include("beskontakt.portal.urls")),
    path("diagnostics/", include("beskontakt.diagnostics.urls")),
    path("cpe/", include("beskontakt.cpe.urls")),
    path("api/", include("beskontakt.api.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler500 = "beskontakt.errors.server_error"
