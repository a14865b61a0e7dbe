"""Intake endpoints that channels call (the Telegram webhook) and the review page for supervisors."""

from django.urls import path

from . import views

app_name = "inbox"

urlpatterns = [
    path("refused/", views.refused, name="refused"),
]
