"""Permission matrix of the portal: every portal URL against anonymous, every staff role and the subscriber.

anonymous -> redirect to the portal login; operator staff (verified workspace
session) -> 403; the subscriber -> 200 for pages, 302 for a successful action.
The sign-in pages themselves are open to everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified
from beskontakt.cases import actions as case_actions
from beskontakt.cases.tests.files import JPEG, upload
from beskontakt.portal import urls
from beskontakt.subscribers.models import AccessRestriction, Subscriber

from .conftest import portal_login

pytestmark = pytest.mark.django_db

STAFF = [Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN]
World = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """One portal URL (by its URL name) with a valid request and the subscriber's expected answer."""

    name: str
    method: str
    url: Callable[[World], str]
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    ok: int = 200


def _tomorrow_window(w: World) -> dict[str, str]:
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    return {"phone": "+7 916 111-22-33", "day": day, "start": "10:00", "end": "11:00"}


ENDPOINTS = [
    Endpoint("home", "GET", lambda w: "/my/"),
    Endpoint("restriction-new", "GET", lambda w: "/my/restrictions/new/"),
    Endpoint(
        "restriction-new",
        "POST",
        lambda w: "/my/restrictions/new/",
        lambda w: {"kind": "contactless_only", "valid_until": ""},
        ok=302,
    ),
    Endpoint("restriction-lift", "POST", lambda w: f"/my/restrictions/{w['restriction'].pk}/lift/", ok=302),
    Endpoint("case-new", "GET", lambda w: "/my/cases/new/"),
    Endpoint(
        "case-new", "POST", lambda w: "/my/cases/new/", lambda w: {"token": "b" * 32, "description": "Нет ТВ"}, ok=302
    ),
    Endpoint("case", "GET", lambda w: f"/my/cases/{w['case'].pk}/"),
    Endpoint(
        "case-message",
        "POST",
        lambda w: f"/my/cases/{w['case'].pk}/message/",
        lambda w: {"token": "c" * 32, "body": "Спасибо"},
        ok=302,
    ),
    Endpoint("file", "GET", lambda w: f"/my/files/{w['attachment'].pk}/"),
    Endpoint("callback", "GET", lambda w: "/my/callback/"),
    Endpoint("chat", "GET", lambda w: "/my/chat/"),
    Endpoint("callback", "POST", lambda w: "/my/callback/", _tomorrow_window, ok=302),
    # POST runs a diagnosis: covered in beskontakt/diagnostics/tests/test_views.py.
    Endpoint("check", "GET", lambda w: "/my/check/"),
]
# Open to anyone (the sign-in steps).
PUBLIC = {"login", "code", "resend", "logout"}


@pytest.fixture
def world(users: dict[str, User], subscriber: Subscriber) -> World:
    message, _created = case_actions.receive_message_with_attachments(
        attachments=[upload("фото.jpg", JPEG, "image/jpeg")],
        channel="portal",
        external_id="matrix-1",
        body="Нет интернета",
        subscriber=subscriber,
    )
    restriction = AccessRestriction.objects.create(
        subscriber=subscriber, kind="quarantine", reason="Заявлено абонентом в личном кабинете"
    )
    return {
        "users": users,
        "case": message.case,
        "attachment": message.attachments.get(),
        "restriction": restriction,
    }


def _call(client: Client, endpoint: Endpoint, w: World) -> Any:
    if endpoint.method == "GET":
        return client.get(endpoint.url(w))
    return client.post(endpoint.url(w), endpoint.data(w))


def test_every_portal_url_is_in_the_matrix() -> None:
    names = {p.name for p in urls.urlpatterns}
    covered = {e.name for e in ENDPOINTS} | PUBLIC
    assert names == covered, names ^ covered


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method}-{e.name}")
def test_anonymous_is_sent_to_the_portal_login(client: Client, world: World, endpoint: Endpoint) -> None:
    response = _call(client, endpoint, world)
    assert response.status_code == 302
    assert response["Location"].startswith("/my/login/?next=")


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method}-{e.name}")
def test_staff_are_refused(client: Client, world: World, endpoint: Endpoint, role: str) -> None:
    login_verified(client, world["users"][role])
    response = _call(client, endpoint, world)
    assert response.status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method}-{e.name}")
def test_subscriber_is_served(client: Client, world: World, subscriber: Subscriber, endpoint: Endpoint) -> None:
    portal_login(client, subscriber)
    response = _call(client, endpoint, world)
    assert response.status_code == endpoint.ok, response.content.decode()[:3000]


@pytest.mark.parametrize(
    ("url", "status"),
    [("/my/login/", 200), ("/my/login/code/", 302), ("/my/login/resend/", 405), ("/my/logout/", 405)],
)
def test_sign_in_pages_are_open(client: Client, db: Any, url: str, status: int) -> None:
    # The code step without step one goes back to step one; resend and logout take POST only.
    assert client.get(url).status_code == status
