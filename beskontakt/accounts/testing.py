"""Test helpers other apps import: log a test client in as a fully verified staff member.

Staff views require a session that passed the TOTP step. ``login_verified`` gives
a test client such a session without going through the login pages, so tests of
other apps stay short::

    from beskontakt.accounts.testing import login_verified

    def test_queue(client, agent):
        login_verified(client, agent)
        assert client.get("/").status_code == 200
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

if TYPE_CHECKING:
    from django.test import Client

    from .models import User


def confirmed_device(user: User) -> TOTPDevice:
    """The user's confirmed TOTP device, created when missing."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return device


def totp_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The current six-digit code of ``device``, computed independently with pyotp."""
    import pyotp  # dev dependency: only tests call this

    secret = base64.b32encode(device.bin_key).decode("ascii")
    totp = pyotp.TOTP(secret, digits=device.digits, interval=device.step)
    import time

    return totp.at(int(time.time()) + offset_steps * device.step)


def login_verified(client: Client, user: User) -> None:
    """Log ``client`` in as ``user`` with the second factor already verified.

    Creates a confirmed TOTP device for the user when they have none.
    """
    device = confirmed_device(user)
    client.force_login(user)
    session: Any = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def sign_in_in_browser(
    page: Any, base_url: str, username: str, password: str, device: Any, next_url: str = "/"
) -> None:
    """Sign a staff member in through the real login pages (password, then the TOTP code)
    in a Playwright ``page``; returns once the queue is shown."""
    page.goto(f"{base_url}/accounts/login/?{urlencode({'next': next_url})}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form.stack button[type=submit]")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", totp_code(device))
    page.click("main form.stack button[type=submit]")
    page.wait_for_selector("#case-table")
