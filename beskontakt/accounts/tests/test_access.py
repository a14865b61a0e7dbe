"""``staff_required`` and ``StaffRequiredMixin`` for every role and capability."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from beskontakt.accounts.access import staff_required
from beskontakt.accounts.models import User
from beskontakt.accounts.roles import CAPABILITIES, STAFF_ROLES, Role, user_can
from beskontakt.accounts.testing import login_verified
from beskontakt.conftest import ALL_ROLES

pytestmark = pytest.mark.urls("beskontakt.accounts.tests.urls")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_capability_matrix(client: Client, users: dict[str, User], role: str) -> None:
    user = users[role]
    login_verified(client, user)
    response = client.get("/_t/staff/")
    assert response.status_code == (200 if role in STAFF_ROLES else 403)
    for capability in CAPABILITIES:
        response = client.get(f"/_t/cap/{capability}/")
        expected = 200 if role in STAFF_ROLES and user_can(user, capability) else 403
        assert response.status_code == expected, (role, capability)
    assert client.get("/_t/mixin/").status_code == (200 if role in {Role.SUPERVISOR, Role.ADMIN} else 403)


def test_refusal_page_is_the_403_template(client: Client, agent: User) -> None:
    login_verified(client, agent)
    response = client.get("/_t/cap/case.assign/")
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    assert agent.get_role_display() in response.content.decode()


@pytest.mark.parametrize("url", ["/_t/staff/", "/_t/cap/case.view/", "/_t/mixin/"])
def test_anonymous_is_sent_to_login(client: Client, db: Any, url: str) -> None:
    response = client.get(url + "?a=1")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + url.replace("/", "%2F") + "%3Fa%3D1"


def test_password_only_session_is_not_enough(client: Client, agent: User) -> None:
    client.force_login(agent)
    response = client.get("/_t/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_htmx_gets_hx_redirect(client: Client, db: Any) -> None:
    response = client.get("/_t/staff/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_unknown_capability_fails_at_import_time() -> None:
    with pytest.raises(KeyError):
        staff_required("case.fly")
