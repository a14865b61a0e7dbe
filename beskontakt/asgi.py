"""ASGI entry point (served by uvicorn): HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beskontakt.settings")
# Django must be set up before the consumers (and their models) are imported.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from beskontakt.inbox.routing import websocket_urlpatterns  # noqa: E402
from beskontakt.inbox.telegram.asgi import with_webhook  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The Telegram webhook is answered in front of Django (store and acknowledge, nothing else);
        # every other request goes to Django unchanged.
        "http": with_webhook(django_application),
        # Session authentication, and only pages of our own hosts may open a socket.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
