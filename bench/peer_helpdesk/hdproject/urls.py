"""URL configuration: django-helpdesk mounted at /helpdesk/, admin at /admin/."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("helpdesk/", include("helpdesk.urls", namespace="helpdesk")),
    path("", RedirectView.as_view(url="/helpdesk/", permanent=False)),
]
