"""Every write of the accounts app: audit entries, second-factor devices, preferences, API tokens.

Views only parse input and call these. Nothing here ever stores or logs a
password, a one-time code or a TOTP secret.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from .models import AuditEntry, User


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the server saw it.

    Behind a reverse proxy, run uvicorn with ``--proxy-headers`` and
    ``--forwarded-allow-ips`` so this is the real client, not the proxy.
    """
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_audit(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor: User | None = None,
    username: str = "",
    **details: Any,
) -> AuditEntry:
    """Write one security audit entry (who, from where, what happened).

    ``details`` must never hold secrets; callers pass reasons and scopes only.
    """
    if actor is not None and not username:
        username = actor.get_username()
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        username=username[:150],
        ip=client_ip(request),
        details=details,
    )


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device a user is enrolling, created on first use.

    A reload of the enrolment page shows the same secret, so a phone that
    already scanned it keeps working.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device


def confirm_totp_device(device: TOTPDevice, *, request: HttpRequest | None = None) -> TOTPDevice:
    """Mark an enrolled device confirmed (its code was just verified) and audit the enrolment.

    Other unconfirmed devices of the user are removed: a user keeps one authenticator.
    """
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=device.user_id, confirmed=False).exclude(pk=device.pk).delete()
        record_audit(AuditEntry.Action.OTP_ENROLLED, request=request, actor=device.user, device=device.persistent_id)
    return device


def update_preferences(user: User, *, language: str, available: bool) -> User:
    """Change a staff member's interface language and whether auto-assignment may pick them."""
    user.language = language
    user.available = available
    user.save(update_fields=["language", "available"])
    return user


def issue_api_token(user: User, *, request: HttpRequest | None = None, via: str = "web") -> str:
    """Create a new REST API token for ``user``, replacing any previous one, and audit it.

    Returns the token key; it is shown once and never logged.
    """
    with transaction.atomic():
        replaced = Token.objects.filter(user=user).delete()[0] > 0
        token = Token.objects.create(user=user)
        record_audit(AuditEntry.Action.TOKEN_ISSUED, request=request, actor=user, via=via, replaced=replaced)
    return token.key
