"""The review page of refused and undelivered items: supervisors and admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from beskontakt.accounts.roles import CAPABILITIES, Role
from beskontakt.accounts.testing import login_verified
from beskontakt.inbox.models import OutboundMessage, RejectedInbound

URL = "/inbox/refused/"


@pytest.mark.parametrize("role", [*Role.values, None])
def test_review_page_permissions(client: Client, users: dict[str, Any], role: str | None) -> None:
    if role is not None:
        login_verified(client, users[role])
    response = client.get(URL)
    if role is None:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in CAPABILITIES["inbox.review"]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_review_page_lists_refused_and_failed(client: Client, users: dict[str, Any], case: Any) -> None:
    RejectedInbound.objects.create(channel="email", reason="bounce", sender="mailer-daemon@example.org", detail="550")
    RejectedInbound.objects.create(channel="telegram", reason="flood", sender="42")
    OutboundMessage.objects.create(
        key="k1", channel="sms", body="x", status="failed", last_error="gateway refused", case=case
    )
    login_verified(client, users[Role.SUPERVISOR])
    page = client.get(URL, {"channel": "email"}).content.decode()
    assert "mailer-daemon@example.org" in page and 'data-reason="flood"' not in page
    assert "gateway refused" not in page  # filtered to e-mail
    page = client.get(URL, {"reason": "flood", "channel": "bogus", "page": "x"}).content.decode()
    assert 'data-reason="flood"' in page and "gateway refused" in page
