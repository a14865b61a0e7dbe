"""SMS through an HTTP gateway, over the JSON contract in ``docs/apps/inbox.md``.

``POST {SMS_GATEWAY_URL}`` with ``{"to": "+7…", "text": "…", "client_ref": key}``,
``Authorization: Bearer <token>`` and ``Idempotency-Key: <key>``. The gateway
answers 200/201/202 with ``{"id": "…"}``; a repeated key returns the first
message's id without sending again. 408, 429 and 5xx are worth retrying;
other 4xx are not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from django.conf import settings

from beskontakt.subscribers.models import normalize_phone

from . import PermanentFailure, TemporaryFailure

if TYPE_CHECKING:
    from beskontakt.inbox.models import OutboundMessage

RETRYABLE = frozenset({408, 425, 429})
TEXT_LIMIT = 1000


class SmsGatewayNotifier:
    """Sends text messages through the configured HTTP SMS gateway."""

    def send(self, item: OutboundMessage) -> str:
        """Post one message to the gateway; returns the gateway's message id."""
        if not settings.SMS_GATEWAY_URL:
            raise PermanentFailure("SMS gateway is not configured (BESKONTAKT_SMS_GATEWAY_URL)")
        phone = normalize_phone(item.address)
        if len(phone) != 11:
            raise PermanentFailure(f"not a phone number: {item.address!r}")
        headers = {"Idempotency-Key": item.key}
        if settings.SMS_GATEWAY_TOKEN:
            headers["Authorization"] = f"Bearer {settings.SMS_GATEWAY_TOKEN}"
        body = {"to": f"+{phone}", "text": item.body[:TEXT_LIMIT], "client_ref": item.key}
        try:
            response = httpx.post(settings.SMS_GATEWAY_URL, json=body, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"SMS gateway unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code in RETRYABLE:
            raise TemporaryFailure(f"SMS gateway answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentFailure(f"SMS gateway refused the message ({response.status_code}): {response.text[:200]}")
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TemporaryFailure("SMS gateway answered without a message id") from exc
