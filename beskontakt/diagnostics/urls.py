"""URLs of the diagnostics pages (staff)."""

from django.urls import path

from . import views

app_name = "diagnostics"
urlpatterns = [
    path("subscribers/<int:subscriber_id>/diagnose/", views.diagnose, name="diagnose"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("cases/<int:case_id>/fix/<str:fix>/", views.remote_fix, name="fix"),
]
