"""The OpenAPI description matches the real routes, validates, and its UI works offline."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import modify_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from .routes import api_routes

SIDECAR = {"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_route_is_in_the_schema_and_back() -> None:
    schema = _schema()
    documented = {p for p in schema["paths"] if p.startswith("/api/v1/")}
    routes = {r.openapi_path: r for r in api_routes()}
    assert routes, "no API routes found"
    assert set(routes) - documented == set(), "routes missing from the schema"
    assert documented - set(routes) == set(), "schema paths with no route"
    for path, route in routes.items():
        methods = {m.upper() for m in schema["paths"][path] if m in {"get", "post", "put", "patch", "delete"}}
        assert methods == set(route.methods), path


def test_schema_validates() -> None:
    validate_schema(_schema())


def test_inbound_documents_created_and_replayed() -> None:
    responses = _schema()["paths"]["/api/v1/messages/inbound/"]["post"]["responses"]
    assert {"200", "201", "400"} <= set(responses)


@pytest.mark.django_db
def test_schema_endpoint_serves_openapi() -> None:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.django_db
@modify_settings(INSTALLED_APPS={"append": "drf_spectacular_sidecar"})
def test_swagger_ui_needs_no_cdn() -> None:
    with patched_settings(SIDECAR):
        for url in ("/api/docs/", "/api/redoc/"):
            response = APIClient().get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert "cdn." not in html and "jsdelivr" not in html and "unpkg" not in html, url
            assert "drf_spectacular_sidecar" in html, url
