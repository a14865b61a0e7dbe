"""Profile preferences, API tokens (web and command), and the OTP-protected admin."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from beskontakt.accounts.models import AuditEntry, User
from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified

PROFILE = "/accounts/profile/"
TOKEN = "/accounts/api-token/"


def test_profile_requires_verified_staff(client: Client, users: dict[str, User]) -> None:
    assert client.get(PROFILE).status_code == 302
    login_verified(client, users[Role.SUBSCRIBER])
    assert client.get(PROFILE).status_code == 403


def test_profile_changes_language_and_availability(client: Client, supervisor: User) -> None:
    login_verified(client, supervisor)
    page = client.get(PROFILE)
    assert page.status_code == 200
    response = client.post(PROFILE, {"language": "en", "available": "on"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    supervisor.refresh_from_db()
    assert supervisor.language == "en"
    assert supervisor.available
    assert "My profile" in client.get(PROFILE).content.decode()

    client.post(PROFILE, {"language": "ru"})
    supervisor.refresh_from_db()
    assert not supervisor.available
    assert supervisor.language == "ru"


def test_profile_rejects_unknown_language(client: Client, agent: User) -> None:
    login_verified(client, agent)
    response = client.post(PROFILE, {"language": "xx"})
    assert response.status_code == 400
    assert "language" in response.context["form"].errors


def test_api_token_is_issued_shown_once_and_rotated(client: Client, agent: User) -> None:
    login_verified(client, agent)
    assert client.get(TOKEN).status_code == 405
    response = client.post(TOKEN)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    first = Token.objects.get(user=agent).key
    assert first in response.content.decode()
    assert first not in client.get(PROFILE).content.decode()

    client.post(TOKEN)
    second = Token.objects.get(user=agent).key
    assert second != first
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.TOKEN_ISSUED)
    assert entries.count() == 2
    dump = json.dumps([e.details for e in entries])
    assert first not in dump
    assert second not in dump


def test_api_token_needs_verified_session(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert client.post(TOKEN).status_code == 302
    assert not Token.objects.exists()


def test_api_token_needs_csrf(agent: User) -> None:
    client = Client(enforce_csrf_checks=True)
    login_verified(client, agent)
    assert client.post(TOKEN).status_code == 403
    assert not Token.objects.exists()


def test_issue_token_command(agent: User) -> None:
    out = io.StringIO()
    call_command("issue_token", agent.username, stdout=out)
    key = out.getvalue().strip()
    assert Token.objects.get(user=agent).key == key
    entry = AuditEntry.objects.get(action=AuditEntry.Action.TOKEN_ISSUED)
    assert entry.details["via"] == "command"


def test_issue_token_command_refuses_bad_users(users: dict[str, User]) -> None:
    with pytest.raises(CommandError, match="no user"):
        call_command("issue_token", "nobody")
    with pytest.raises(CommandError, match="subscriber"):
        call_command("issue_token", users[Role.SUBSCRIBER].username)


# --- admin ----------------------------------------------------------------------------


def test_admin_needs_otp_and_admin_role(client: Client, users: dict[str, User]) -> None:
    admin_user = users[Role.ADMIN]
    # Password-only session: sent to the staff sign-in.
    client.force_login(admin_user)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=")

    login_verified(client, admin_user)
    assert client.get("/admin/").status_code == 200
    for url in ("/admin/accounts/user/", "/admin/accounts/skill/", "/admin/accounts/auditentry/"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_admin_refuses_other_roles(client: Client, users: dict[str, User], role: str) -> None:
    user = users[role]
    user.is_staff = True
    user.save()
    login_verified(client, user)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403


def test_audit_log_is_read_only_in_admin(client: Client, users: dict[str, User]) -> None:
    login_verified(client, users[Role.ADMIN])
    entry = AuditEntry.objects.create(action=AuditEntry.Action.LOGIN, username="x")
    assert client.get("/admin/accounts/auditentry/add/").status_code == 403
    page = client.get(f"/admin/accounts/auditentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert b'name="username"' not in page.content
    client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_admin_logout_goes_through_audit(client: Client, users: dict[str, User], db: Any) -> None:
    login_verified(client, users[Role.ADMIN])
    client.post("/admin/logout/")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT).exists()
