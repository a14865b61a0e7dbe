"""The staff sign-in: password, TOTP code or enrolment, rate limits, audit, logout, CSRF, language."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pyotp
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from beskontakt.accounts.models import AuditEntry, User
from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import confirmed_device, login_verified, totp_code
from beskontakt.conftest import PASSWORD

LOGIN = "/accounts/login/"
OTP = "/accounts/otp/"
ENROLL = "/accounts/enroll/"
PROFILE = "/accounts/profile/"


def wrong_code(device: TOTPDevice) -> str:
    """A well-formed code that is valid in none of the accepted time steps."""
    valid = {totp_code(device, offset_steps=s) for s in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 999999, 7919)) if c not in valid)


def password_step(client: Client, user: User, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": user.username, "password": password}, **extra)


def is_verified_session(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session and "_auth_user_id" in client.session


def audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action))


# --- the happy paths -------------------------------------------------------------


def test_full_login_flow_with_real_totp_code(client: Client, agent: User) -> None:
    device = confirmed_device(agent)
    assert client.get(LOGIN).status_code == 200

    response = password_step(client, agent)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp")
    # The password alone opens no session.
    assert "_auth_user_id" not in client.session
    assert client.get(PROFILE).status_code == 302

    assert client.get(OTP).status_code == 200
    code = pyotp.TOTP(base64.b32encode(bytes.fromhex(device.key)).decode()).now()
    response = client.post(OTP, {"code": code})
    assert response.status_code == 302
    assert is_verified_session(client)
    assert client.get(PROFILE).status_code == 200

    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN)
    assert entry.actor == agent
    assert entry.ip == "127.0.0.1"


def test_wrong_code_is_refused(client: Client, agent: User) -> None:
    device = confirmed_device(agent)
    password_step(client, agent)
    response = client.post(OTP, {"code": wrong_code(device)})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    failed = audit(AuditEntry.Action.LOGIN_FAILED)
    assert [e.details.get("step") for e in failed] == ["otp"]
    # A correct code afterwards still works.
    assert client.post(OTP, {"code": totp_code(device)}).status_code == 302
    assert is_verified_session(client)


def test_malformed_code_names_the_field(client: Client, agent: User) -> None:
    confirmed_device(agent)
    password_step(client, agent)
    response = client.post(OTP, {"code": "12ab"})
    assert response.status_code == 400
    assert response.context["form"].errors["code"]
    assert not audit(AuditEntry.Action.LOGIN_FAILED)


def test_enrolment_on_first_login(client: Client, supervisor: User) -> None:
    response = password_step(client, supervisor)
    assert response["Location"] == reverse("accounts:enroll")
    page = client.get(ENROLL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    device = TOTPDevice.objects.get(user=supervisor)
    assert not device.confirmed
    secret = base64.b32encode(device.bin_key).decode()
    assert secret[:4] in html
    # Reloading shows the same secret.
    client.get(ENROLL)
    assert TOTPDevice.objects.filter(user=supervisor).count() == 1

    assert client.post(ENROLL, {"code": wrong_code(device)}).status_code == 400
    device.refresh_from_db()
    assert not device.confirmed

    response = client.post(ENROLL, {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert is_verified_session(client)
    (enrolled,) = audit(AuditEntry.Action.OTP_ENROLLED)
    assert secret not in json.dumps(enrolled.details)

    # Next time the code step is asked, not enrolment.
    client.post("/accounts/logout/")
    assert password_step(client, supervisor)["Location"] == reverse("accounts:otp")
    assert client.get(ENROLL)["Location"] == reverse("accounts:otp")


def test_steps_without_password_go_back_to_login(client: Client, agent: User) -> None:
    for url in (OTP, ENROLL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:login")


def test_pending_sign_in_expires(client: Client, agent: User, monkeypatch: pytest.MonkeyPatch) -> None:
    confirmed_device(agent)
    password_step(client, agent)
    session = client.session
    pending = session["accounts:pending"]
    pending["at"] -= 3600
    session["accounts:pending"] = pending
    session.save()
    assert client.get(OTP)["Location"] == reverse("accounts:login")


def test_next_is_followed_only_when_local(client: Client, agent: User) -> None:
    device = confirmed_device(agent)
    client.post(LOGIN, {"username": agent.username, "password": PASSWORD, "next": "/accounts/profile/?x=1"})
    assert client.post(OTP, {"code": totp_code(device)})["Location"] == "/accounts/profile/?x=1"

    other = Client()
    other.post(LOGIN, {"username": agent.username, "password": PASSWORD, "next": "https://evil.example/"})
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # allow the same code again
    location = other.post(OTP, {"code": totp_code(device)})["Location"]
    assert "evil" not in location


def test_verified_user_on_login_page_is_sent_on(client: Client, agent: User) -> None:
    login_verified(client, agent)
    response = client.get(LOGIN + "?next=/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"


def test_login_verified_helper(client: Client, agent: User) -> None:
    login_verified(client, agent)
    assert client.get(PROFILE).status_code == 200
    login_verified(client, agent)  # idempotent: reuses the device
    assert TOTPDevice.objects.filter(user=agent).count() == 1


# --- refusals --------------------------------------------------------------------


def test_wrong_password(client: Client, agent: User) -> None:
    response = password_step(client, agent, password="nope")
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    (entry,) = audit(AuditEntry.Action.LOGIN_FAILED)
    assert entry.username == agent.username
    assert entry.actor is None


def test_missing_fields_are_named(client: Client, db: Any) -> None:
    response = client.post(LOGIN, {"username": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"username", "password"}


def test_subscriber_cannot_sign_in_to_staff_workspace(client: Client, users: dict[str, User]) -> None:
    subscriber_user = users[Role.SUBSCRIBER]
    response = password_step(client, subscriber_user)
    assert response.status_code == 403
    assert "accounts:pending" not in client.session
    assert "_auth_user_id" not in client.session
    errors = " ".join(response.context["form"].non_field_errors())
    assert errors
    (entry,) = audit(AuditEntry.Action.LOGIN_FAILED)
    assert entry.details["reason"] == "not_staff"


def test_inactive_user_cannot_sign_in(client: Client, agent: User) -> None:
    agent.is_active = False
    agent.save()
    assert password_step(client, agent).status_code == 400


# --- rate limits -------------------------------------------------------------------


def test_password_rate_limit_per_username(client: Client, agent: User, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 3
    for _ in range(2):
        assert password_step(client, agent, password="bad").status_code == 400
    locked = password_step(client, agent, password="bad")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert locked.context["locked_message"]
    # Even the right password is refused now, from any address.
    again = password_step(Client(REMOTE_ADDR="10.0.0.9"), agent)
    assert again.status_code == 429
    assert "accounts:pending" not in client.session
    assert len(audit(AuditEntry.Action.LOGIN_LOCKED)) == 2
    # Other people are not locked out by it (from another address).
    other = User.objects.create_user("other-agent", password=PASSWORD, role=Role.AGENT)
    assert password_step(Client(REMOTE_ADDR="10.0.0.10"), other).status_code == 302


def test_password_rate_limit_per_address(agent: User, supervisor: User, settings: Any) -> None:
    settings.LOGIN_IP_RATE_LIMIT = 3
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(2):
        assert attacker.post(LOGIN, {"username": f"guess{n}", "password": "x"}).status_code == 400
    assert attacker.post(LOGIN, {"username": "guess3", "password": "x"}).status_code == 429
    assert password_step(attacker, supervisor).status_code == 429
    assert password_step(Client(REMOTE_ADDR="198.51.100.1"), supervisor).status_code == 302


def test_success_resets_username_counter(client: Client, agent: User, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 3
    password_step(Client(REMOTE_ADDR="10.1.1.1"), agent, password="bad")
    password_step(Client(REMOTE_ADDR="10.1.1.2"), agent, password="bad")
    assert password_step(Client(REMOTE_ADDR="10.1.1.3"), agent).status_code == 302
    assert password_step(Client(REMOTE_ADDR="10.1.1.4"), agent, password="bad").status_code == 400


def test_otp_rate_limit(client: Client, agent: User, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 3
    device = confirmed_device(agent)
    password_step(client, agent)
    for _ in range(2):
        assert client.post(OTP, {"code": wrong_code(device)}).status_code == 400
    locked = client.post(OTP, {"code": wrong_code(device)})
    assert locked.status_code == 429
    assert locked.context["locked_message"]
    assert client.post(OTP, {"code": totp_code(device)}).status_code == 429
    assert "_auth_user_id" not in client.session
    # Starting over with the password does not reset the code counter.
    fresh = Client(REMOTE_ADDR="10.2.2.2")
    password_step(fresh, agent)
    assert fresh.post(OTP, {"code": totp_code(device)}).status_code == 429
    assert any(e.details.get("step") == "otp" for e in audit(AuditEntry.Action.LOGIN_LOCKED))


def test_device_throttling_is_reported(client: Client, agent: User, settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = confirmed_device(agent)
    password_step(client, agent)
    assert client.post(OTP, {"code": wrong_code(device)}).status_code == 400
    response = client.post(OTP, {"code": totp_code(device)})
    assert response.status_code == 429
    assert response.context["locked_message"]


def test_audit_never_holds_secrets(client: Client, agent: User, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 2
    device = confirmed_device(agent)
    password_step(client, agent, password="wrong-secret-pw")
    password_step(client, agent)
    bad = wrong_code(device)
    client.post(OTP, {"code": bad})
    good = totp_code(device)
    client.post(OTP, {"code": good})
    dump = json.dumps([[e.username, e.details] for e in AuditEntry.objects.all()])
    for secret in ("wrong-secret-pw", PASSWORD, bad, good, device.key):
        assert secret not in dump


# --- logout and CSRF -----------------------------------------------------------------


def test_logout_is_post_only(client: Client, agent: User) -> None:
    login_verified(client, agent)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get(PROFILE).status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get(PROFILE).status_code == 302
    (entry,) = audit(AuditEntry.Action.LOGOUT)
    assert entry.actor == agent


def csrf_token_of(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_csrf_is_enforced(agent: User) -> None:
    device = confirmed_device(agent)
    client = Client(enforce_csrf_checks=True)
    assert password_step(client, agent).status_code == 403
    token = csrf_token_of(client, LOGIN)
    response = client.post(LOGIN, {"username": agent.username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert client.post(OTP, {"code": totp_code(device)}).status_code == 403
    token = csrf_token_of(client, OTP)
    assert client.post(OTP, {"code": totp_code(device), "csrfmiddlewaretoken": token}).status_code == 302
    # Logging out needs the token too.
    assert client.post("/accounts/logout/").status_code == 403
    token = csrf_token_of(client, PROFILE)
    assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302


# --- language ----------------------------------------------------------------------------


def test_login_activates_preferred_language(client: Client, agent: User) -> None:
    agent.language = "en"
    agent.save()
    device = confirmed_device(agent)
    password_step(client, agent)
    response = client.post(OTP, {"code": totp_code(device)})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(PROFILE)
    assert page.content.decode().count('<html lang="en">') == 1
    assert "My profile" in page.content.decode()


def test_language_switch_changes_page_language(client: Client, db: Any) -> None:
    page = client.get(LOGIN).content.decode()
    assert '<html lang="ru">' in page
    assert "Вход для сотрудников" in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": LOGIN})
    assert response.status_code == 302
    page = client.get(LOGIN).content.decode()
    assert '<html lang="en">' in page
    assert "Staff sign-in" in page
    client.post("/i18n/setlang/", {"language": "ru", "next": LOGIN})
    assert "Вход для сотрудников" in client.get(LOGIN).content.decode()
