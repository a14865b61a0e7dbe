"""Oversized requests are refused with 413 before they are read."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/cases/new/"])
def test_oversized_request_gets_413_with_reason(client: Client, settings, path: str) -> None:
    settings.MAX_REQUEST_BYTES = 2 * 1024 * 1024
    response = client.post(path, data=b"x" * (2 * 1024 * 1024 + 1), content_type="application/octet-stream")
    assert response.status_code == 413
    assert " 2 " in response.content.decode()  # the limit is named: "… 2 MB …" / "… 2 МБ …"


def test_normal_request_passes(client: Client) -> None:
    assert client.get("/accounts/login/").status_code == 200
