"""Connection requests from the web side: ask a device to open a session now (HTTP GET + Digest).

``request_now(device)`` sends it with ``cwmp/connection_request.py`` (synchronously, bounded by
``timeout``, never raising for network trouble) and records when it was sent and what came of
it on the device. ``wake(device_pk)`` runs it in a background thread (after a commit).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from django.db import connection as db_connection
from django.utils import timezone

from beskontakt.cpe.cwmp.connection_request import ConnectionRequestResult, send_connection_request_sync

if TYPE_CHECKING:
    from beskontakt.cpe.models import Device

log = logging.getLogger("beskontakt.cpe")


def request_now(device: Device, *, timeout: float = 3.0) -> ConnectionRequestResult:
    """Send one connection request to ``device`` and record the outcome on it."""
    from beskontakt.cpe.models import Device, DeviceCredentials

    url = device.connection_request_url
    try:
        creds = device.credentials
    except DeviceCredentials.DoesNotExist:
        creds = None
    if not url:
        result = ConnectionRequestResult(False, None, "no connection request URL")
    elif creds is None or not creds.cr_username:
        result = ConnectionRequestResult(False, None, "no connection request credentials")
    else:
        result = send_connection_request_sync(url, creds.cr_username, creds.cr_password(), timeout=timeout)
    Device.objects.filter(pk=device.pk).update(
        last_connection_request_at=timezone.now(), last_connection_request_result=result.reason[:100]
    )
    if not result.ok:
        log.info("connection request to %s failed: %s", device.device_id, result.reason)
    return result


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
