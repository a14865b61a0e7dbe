"""ASGI entry point (served by uvicorn, like Beskontakt)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdproject.settings")
application = get_asgi_application()
