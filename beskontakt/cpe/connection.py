"""Connection requests from the web side: ask a device to open a session now (HTTP GET + Digest).

``request_now(device)`` is synchronous (``httpx.Client`` with ``httpx.DigestAuth``), bounded by
``timeout``, never raises for network trouble, and records when it was sent and what came of
it on the device. ``wake(device_pk)`` runs it in a background thread (after a commit).
The ACS process has its own async variant in ``cwmp/connection_request.py``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from django.db import connection as db_connection
from django.utils import timezone

if TYPE_CHECKING:
    from beskontakt.cpe.models import Device

log = logging.getLogger("beskontakt.cpe")


@dataclass(frozen=True)
class ConnectionResult:
    """Whether the device agreed to call in; ``reason`` is English for logs and the device page."""

    ok: bool
    reason: str
    status: int | None = None


def request_now(device: Device, *, timeout: float = 3.0) -> ConnectionResult:
    """Send one connection request to ``device`` and record the outcome on it."""
    from beskontakt.cpe.models import Device, DeviceCredentials

    url = device.connection_request_url
    try:
        creds = device.credentials
    except DeviceCredentials.DoesNotExist:
        creds = None
    if not url:
        result = ConnectionResult(False, "no connection request URL")
    elif creds is None or not creds.cr_username:
        result = ConnectionResult(False, "no connection request credentials")
    else:
        result = _send(url, creds.cr_username, creds.cr_password(), timeout)
    Device.objects.filter(pk=device.pk).update(
        last_connection_request_at=timezone.now(), last_connection_request_result=result.reason[:100]
    )
    if not result.ok:
        log.info("connection request to %s failed: %s", device.device_id, result.reason)
    return result


def _send(url: str, username: str, password: str, timeout: float) -> ConnectionResult:
    if not url.lower().startswith(("http://", "https://")):
        return ConnectionResult(False, "not an HTTP URL")
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.get(url, auth=httpx.DigestAuth(username, password))
    except httpx.TimeoutException:
        return ConnectionResult(False, "timed out")
    except (httpx.HTTPError, ValueError) as exc:
        return ConnectionResult(False, f"unreachable ({type(exc).__name__})")
    if response.status_code in (200, 204):
        return ConnectionResult(True, "accepted", response.status_code)
    if response.status_code in (401, 403):
        return ConnectionResult(False, "credentials refused", response.status_code)
    return ConnectionResult(False, f"HTTP {response.status_code}", response.status_code)


def wake(device_pk: int, *, timeout: float = 3.0) -> threading.Thread:
    """Send the connection request in a background thread (the caller does not wait)."""

    def run() -> None:
        from beskontakt.cpe.models import Device

        try:
            device = Device.objects.select_related("credentials").filter(pk=device_pk).first()
            if device is not None:
                request_now(device, timeout=timeout)
        except Exception:
            log.exception("connection request to device %s failed", device_pk)
        finally:
            db_connection.close()

    thread = threading.Thread(target=run, name=f"cr-{device_pk}", daemon=True)
    thread.start()
    return thread
