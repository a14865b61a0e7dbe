"""Signing in to the portal with a contract number or phone and a one-time code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from beskontakt.accounts.models import AuditEntry, User
from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified
from beskontakt.conftest import make_user
from beskontakt.inbox.models import OneTimeCode, OutboundMessage
from beskontakt.subscribers.models import Subscriber

from .conftest import last_code, portal_login

pytestmark = pytest.mark.django_db


def test_code_by_sms_signs_in_and_creates_the_portal_user(client: Client, subscriber: Subscriber) -> None:
    assert subscriber.portal_user is None
    response = client.post("/my/login/", {"identifier": "77001234"})
    assert response.status_code == 302 and response["Location"] == "/my/login/code/"
    item = OutboundMessage.objects.get(subscriber=subscriber, kind="code")
    assert item.channel == "sms" and item.address == "+7 (495) 123-45-67"

    page = client.get("/my/login/code/")
    text = page.content.decode()
    assert "+7 *** ***-45-67" in text
    assert "123-45-67" not in text

    session_before = client.cookies["sessionid"].value
    response = client.post("/my/login/code/", {"code": last_code(subscriber)})
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert client.cookies["sessionid"].value != session_before  # the session key was rotated

    subscriber.refresh_from_db()
    user = subscriber.portal_user
    assert user is not None and user.role == Role.SUBSCRIBER and not user.has_usable_password()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN, actor=user).exists()
    assert client.get("/my/").status_code == 200


def test_code_by_email_is_shown_masked(client: Client, email_subscriber: Subscriber) -> None:
    client.post("/my/login/", {"identifier": "77001234"})
    page = client.get("/my/login/code/").content.decode()
    assert "i***@mail.ru" in page
    assert "ivanova.m@mail.ru" not in page


def test_phone_number_works_as_identifier(client: Client, subscriber: Subscriber, users: Any) -> None:
    portal_login(client, subscriber, identifier="8 495 123 45 67")
    assert client.get("/my/").status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.portal_user == users[Role.SUBSCRIBER]  # the existing login is reused


def test_unknown_contract_gets_a_clear_message(client: Client, subscriber: Subscriber) -> None:
    response = client.post("/my/login/", {"identifier": "00000000"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "could not find this contract number" in text
    assert not OutboundMessage.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED, username="00000000").exists()


def test_empty_identifier_is_refused(client: Client, db: Any) -> None:
    assert client.post("/my/login/", {"identifier": ""}).status_code == 400


def test_wrong_code(client: Client, subscriber: Subscriber) -> None:
    client.post("/my/login/", {"identifier": "77001234"})
    good = last_code(subscriber)
    wrong = "000000" if good != "000000" else "111111"
    response = client.post("/my/login/code/", {"code": wrong})
    assert response.status_code == 400
    assert "Wrong code. Attempts left: 4." in response.content.decode()
    assert client.get("/my/").status_code == 302  # still not signed in
    # The right code still works after one wrong guess.
    assert client.post("/my/login/code/", {"code": good}).status_code == 302


def test_malformed_code_is_refused_without_counting(client: Client, subscriber: Subscriber) -> None:
    client.post("/my/login/", {"identifier": "77001234"})
    response = client.post("/my/login/code/", {"code": "12ab"})
    assert response.status_code == 400
    assert OneTimeCode.objects.get(subscriber=subscriber).attempts == 0


def test_expired_code(client: Client, subscriber: Subscriber) -> None:
    client.post("/my/login/", {"identifier": "77001234"})
    code = last_code(subscriber)
    OneTimeCode.objects.filter(subscriber=subscriber).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post("/my/login/code/", {"code": code})
    assert response.status_code == 400
    assert "The code has expired" in response.content.decode()
    assert client.get("/my/").status_code == 302


def test_reused_code(client: Client, subscriber: Subscriber) -> None:
    portal_login(client, subscriber)
    code = last_code(subscriber)
    other = Client()
    other.post("/my/login/", {"identifier": "77001234"})
    # The first code was used; another sign-in gets a fresh code and the old one is dead.
    response = other.post("/my/login/code/", {"code": code})
    assert response.status_code == 400
    assert other.get("/my/").status_code == 302


def test_code_used_twice_in_the_same_sign_in_is_refused(client: Client, subscriber: Subscriber) -> None:
    client.post("/my/login/", {"identifier": "77001234"})
    code = last_code(subscriber)
    OneTimeCode.objects.filter(subscriber=subscriber).update(used_at=timezone.now())
    response = client.post("/my/login/code/", {"code": code})
    assert response.status_code == 400
    assert "no longer valid" in response.content.decode()


def test_too_many_wrong_codes(client: Client, subscriber: Subscriber, settings: Any) -> None:
    client.post("/my/login/", {"identifier": "77001234"})
    good = last_code(subscriber)
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(settings.ONE_TIME_CODE_ATTEMPTS):
        assert client.post("/my/login/code/", {"code": wrong}).status_code == 400
    response = client.post("/my/login/code/", {"code": good})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Too many wrong codes" in text
    assert client.get("/my/").status_code == 302


def test_identifier_rate_limit(client: Client, subscriber: Subscriber, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 3
    settings.ONE_TIME_CODES_PER_HOUR = 100
    for _ in range(3):
        assert client.post("/my/login/", {"identifier": "77001234"}).status_code == 302
    response = client.post("/my/login/", {"identifier": "77 00 1234".replace(" ", "")})
    assert response.status_code == 429
    assert response["Retry-After"]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_LOCKED).exists()
    # Another client address asking for the same number is refused too (the limit is per identifier).
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post("/my/login/", {"identifier": "77001234"}).status_code == 429


def test_address_rate_limit_on_unknown_numbers(client: Client, subscriber: Subscriber, settings: Any) -> None:
    settings.LOGIN_IP_RATE_LIMIT = 4
    for n in range(4):
        assert client.post("/my/login/", {"identifier": f"9900{n:04d}"}).status_code == 400
    response = client.post("/my/login/", {"identifier": "77001234"})
    assert response.status_code == 429
    assert not OutboundMessage.objects.exists()
    # Another address is not affected.
    assert Client(REMOTE_ADDR="10.0.0.9").post("/my/login/", {"identifier": "77001234"}).status_code == 302


def test_codes_per_hour_limit(client: Client, subscriber: Subscriber, settings: Any) -> None:
    settings.ONE_TIME_CODES_PER_HOUR = 2
    settings.LOGIN_RATE_LIMIT = 100
    assert client.post("/my/login/", {"identifier": "77001234"}).status_code == 302
    assert client.post("/my/login/resend/").status_code == 302
    response = client.post("/my/login/", {"identifier": "77001234"})
    assert response.status_code == 429
    assert OneTimeCode.objects.filter(subscriber=subscriber).count() == 2


def test_resend_invalidates_the_old_code(client: Client, subscriber: Subscriber) -> None:
    client.post("/my/login/", {"identifier": "77001234"})
    first = last_code(subscriber)
    assert client.post("/my/login/resend/").status_code == 302
    second = last_code(subscriber)
    if first != second:
        assert client.post("/my/login/code/", {"code": first}).status_code == 400
    assert client.post("/my/login/code/", {"code": second}).status_code == 302


def test_code_page_without_step_one_goes_back(client: Client, db: Any) -> None:
    response = client.get("/my/login/code/")
    assert response.status_code == 302 and response["Location"] == "/my/login/"


def test_subscriber_without_any_channel(client: Client, subscriber: Subscriber) -> None:
    subscriber.contacts.update(consent=False)
    response = client.post("/my/login/", {"identifier": "77001234"})
    assert response.status_code == 400
    assert "no e-mail or phone number" in response.content.decode()


def test_staff_linked_as_portal_login_is_refused(client: Client, subscriber: Subscriber) -> None:
    agent = make_user(Role.AGENT, username="agent-x")
    Subscriber.objects.filter(pk=subscriber.pk).update(portal_user=agent)
    client.post("/my/login/", {"identifier": "77001234"})
    response = client.post("/my/login/code/", {"code": last_code(subscriber)})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_staff_session_is_refused_by_the_portal(client: Client, users: dict[str, User]) -> None:
    login_verified(client, users[Role.AGENT])
    response = client.get("/my/")
    assert response.status_code == 403
    assert 'id="portal-refused"' in response.content.decode()


def test_subscriber_cannot_reach_the_staff_workspace(portal_client: Client) -> None:
    # A portal session has no second factor: the workspace sends it to the staff sign-in.
    for url in ("/", "/subscribers/", "/accounts/profile/"):
        response = portal_client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")


def test_logout(portal_client: Client) -> None:
    assert portal_client.get("/my/logout/").status_code == 405
    response = portal_client.post("/my/logout/")
    assert response.status_code == 302
    assert portal_client.get("/my/").status_code == 302
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT).exists()


def test_forms_need_csrf(subscriber: Subscriber) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/my/login/", {"identifier": "77001234"}).status_code == 403
    page = strict.get("/my/login/")
    token = page.cookies["csrftoken"].value
    assert strict.post("/my/login/", {"identifier": "77001234", "csrfmiddlewaretoken": token}).status_code == 302


def test_next_only_goes_to_portal_pages(client: Client, subscriber: Subscriber) -> None:
    client.post("/my/login/?next=https://evil.example/", {"identifier": "77001234", "next": "https://evil.example/"})
    response = client.post("/my/login/code/", {"code": last_code(subscriber)})
    assert response["Location"] == "/my/"


def test_next_back_to_the_page_asked_for(client: Client, subscriber: Subscriber) -> None:
    response = client.get("/my/callback/")
    assert response.status_code == 302 and response["Location"].startswith("/my/login/?next=")
    client.post("/my/login/", {"identifier": "77001234", "next": "/my/callback/"})
    response = client.post("/my/login/code/", {"code": last_code(subscriber)})
    assert response["Location"] == "/my/callback/"
