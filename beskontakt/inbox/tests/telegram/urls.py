"""The webhook at the path the project routes it to (``/inbox/telegram/webhook/``)."""

from django.urls import path

from beskontakt.inbox.telegram import views

urlpatterns = [path("inbox/telegram/webhook/", views.webhook, name="telegram-webhook")]
