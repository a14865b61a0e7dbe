"""Intake endpoints that channels call (the Telegram webhook) and the review page for supervisors."""

from django.urls import path

from . import views
from .telegram import views as telegram_views

app_name = "inbox"

urlpatterns = [
    path("refused/", views.refused, name="refused"),
    path("telegram/webhook/", telegram_views.webhook, name="telegram-webhook"),
]
