"""The ASGI application of ``beskontakt acs``: A's ``AcsApp`` around the ``DjangoBackend``.

``uvicorn beskontakt.cpe.acs.app:application --port 7547``. Digest nonces are signed with a
key derived from SECRET_KEY, so every ACS worker process accepts every other's nonces.
Authentication: ``BESKONTAKT_ACS_AUTH`` = digest (default), basic, any or none.
"""

from __future__ import annotations

import hashlib
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beskontakt.settings")
django.setup()

from django.conf import settings  # noqa: E402

from beskontakt.cpe.acs.backend import DjangoBackend  # noqa: E402
from beskontakt.cpe.cwmp.server import AcsApp  # noqa: E402


def make_app(backend: DjangoBackend | None = None, **options: object) -> AcsApp:
    """An ``AcsApp`` over ``backend`` (a new ``DjangoBackend`` by default)."""
    secret = hashlib.sha256(b"beskontakt-acs-nonce:" + settings.SECRET_KEY.encode()).digest()
    config: dict[str, object] = {
        "auth": os.environ.get("BESKONTAKT_ACS_AUTH", "digest"),
        "secret": secret,
        "max_sessions": settings.ACS_MAX_SESSIONS,
    }
    config.update(options)
    return AcsApp(backend or DjangoBackend(max_open_sessions=settings.ACS_MAX_SESSIONS), **config)  # type: ignore[arg-type]


application = make_app()
