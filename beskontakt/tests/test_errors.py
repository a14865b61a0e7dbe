"""A database outage answers 503 with Retry-After (the client retries), not a bare 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path

from beskontakt import urls as root_urls


def _db_down(request: Any) -> Any:
    raise OperationalError("connection refused")


def _bug(request: Any) -> Any:
    raise ZeroDivisionError


urlpatterns = [
    path("api/v1/_down/", _db_down),
    path("page/_down/", _db_down),
    path("api/v1/_bug/", _bug),
]
handler500 = root_urls.handler500


@pytest.fixture
def raising_client(settings: Any) -> Client:
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def test_database_outage_on_the_api_is_a_503_with_retry_after(raising_client: Client) -> None:
    response = raising_client.get("/api/v1/_down/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["retry_after"] == 5 and response.json()["detail"]


def test_database_outage_on_a_page_is_a_plain_503(raising_client: Client) -> None:
    response = raising_client.get("/page/_down/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")


def test_other_errors_stay_500_without_details(raising_client: Client) -> None:
    response = raising_client.get("/api/v1/_bug/")
    assert response.status_code == 500
    assert "ZeroDivision" not in response.content.decode()
