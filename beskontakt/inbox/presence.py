"""Staff presence (the realtime helper completes this module)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from beskontakt.accounts.models import Presence, User


def expire() -> int:
    """Mark offline every person not heard from within ``PRESENCE_TIMEOUT_SECONDS``."""
    cutoff = timezone.now() - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)
    return (
        User.objects.exclude(presence=Presence.OFFLINE)
        .filter(presence_seen_at__lt=cutoff)
        .update(presence=Presence.OFFLINE)
    )
