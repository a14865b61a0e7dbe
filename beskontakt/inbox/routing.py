"""WebSocket routes (see ``consumers``): ``/ws/agent/`` for staff pages, ``/ws/chat/`` for the portal chat."""

from __future__ import annotations

from typing import Any

from django.urls import path

from .consumers import AgentConsumer, ChatConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/agent/", AgentConsumer.as_asgi(), name="ws-agent"),
    path("ws/chat/", ChatConsumer.as_asgi(), name="ws-chat"),
]
