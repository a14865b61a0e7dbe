"""Permission matrix: every role (and anonymous) against every workspace URL.

The expected status is derived from ``accounts.roles.CAPABILITIES``:
anonymous -> 302 to the login page; a subscriber or staff without the
capability -> 403; staff who may act but cannot see the case (a technician
on a case not assigned to them) -> 404; otherwise 200 for pages and 302
(back to the page) for successful actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import CAPABILITIES, Role
from beskontakt.accounts.testing import login_verified
from beskontakt.cases import actions
from beskontakt.cases import attachments as case_files
from beskontakt.cases.models import Case, Macro
from beskontakt.inbox import callbacks
from beskontakt.subscribers.models import AccessRestriction, Subscriber

from .files import TEXT, upload

pytestmark = pytest.mark.django_db

ROLES: list[str | None] = [
    Role.AGENT,
    Role.SUPERVISOR,
    Role.TECHNICIAN,
    Role.NOC,
    Role.ADMIN,
    Role.SUBSCRIBER,
    None,  # anonymous
]


@dataclass(frozen=True)
class Endpoint:
    """One workspace URL with the capability it needs and a valid request."""

    name: str
    method: str
    capability: str
    url: Callable[[dict[str, Any]], str]
    data: Callable[[dict[str, Any]], dict[str, Any]] = lambda w: {}
    on_case: bool = False


def _case_url(action: str) -> Callable[[dict[str, Any]], str]:
    return lambda w: f"/cases/{w['case'].pk}/{action}/" if action else f"/cases/{w['case'].pk}/"


ENDPOINTS = [
    Endpoint("queue", "GET", "case.view", lambda w: "/?tab=all"),
    Endpoint("queue-partial", "GET", "case.view", lambda w: "/?tab=unassigned"),
    Endpoint("new-form", "GET", "case.open", lambda w: "/cases/new/"),
    Endpoint(
        "new-post", "POST", "case.open", lambda w: "/cases/new/", lambda w: {"subject": "Звонок", "channel": "phone"}
    ),
    Endpoint("detail", "GET", "case.view", _case_url(""), on_case=True),
    Endpoint("sla", "GET", "case.view", _case_url("sla"), on_case=True),
    Endpoint(
        "macro", "GET", "case.reply", lambda w: f"/cases/{w['case'].pk}/macro/?macro={w['macro'].pk}", on_case=True
    ),
    Endpoint("reply", "POST", "case.reply", _case_url("reply"), lambda w: {"body": "Ответ"}, on_case=True),
    Endpoint("note", "POST", "case.note", _case_url("note"), lambda w: {"body": "Заметка"}, on_case=True),
    Endpoint("take", "POST", "case.take", _case_url("take"), on_case=True),
    Endpoint("assign", "POST", "case.assign", _case_url("assign"), lambda w: {"assignee": w["agent"].pk}, on_case=True),
    Endpoint(
        "status", "POST", "case.change_status", _case_url("status"), lambda w: {"status": "waiting_field"}, on_case=True
    ),
    Endpoint("priority", "POST", "case.change_status", _case_url("priority"), lambda w: {"priority": 4}, on_case=True),
    Endpoint("category", "POST", "case.change_status", _case_url("category"), lambda w: {"category": ""}, on_case=True),
    Endpoint("queue-move", "POST", "case.change_status", _case_url("queue"), lambda w: {"queue": ""}, on_case=True),
    Endpoint("tags", "POST", "case.change_status", _case_url("tags"), lambda w: {"tags": "авария"}, on_case=True),
    Endpoint("merge", "POST", "case.merge", _case_url("merge"), lambda w: {"into": w["other"].pk}, on_case=True),
    Endpoint(
        "link",
        "POST",
        "case.link",
        _case_url("link"),
        lambda w: {"other": w["other"].pk, "kind": "related"},
        on_case=True,
    ),
    Endpoint(
        "callback",
        "POST",
        "case.reply",
        lambda w: f"/cases/{w['callback'].case_id}/callback/",
        lambda w: {"reached": "0", "note": "Не ответили"},
        on_case=True,
    ),
    Endpoint("attachment", "GET", "case.view", lambda w: f"/cases/attachments/{w['attachment'].pk}/", on_case=True),
    Endpoint("subscriber-search", "GET", "subscriber.view", lambda w: "/subscribers/?q=7700"),
    Endpoint("subscriber-detail", "GET", "subscriber.view", lambda w: f"/subscribers/{w['subscriber'].pk}/"),
    Endpoint(
        "restrict",
        "POST",
        "restriction.record",
        lambda w: f"/subscribers/{w['subscriber'].pk}/restrictions/",
        lambda w: {"kind": "quarantine", "reason": "Карантин"},
    ),
    Endpoint(
        "lift",
        "POST",
        "restriction.record",
        lambda w: f"/subscribers/{w['subscriber'].pk}/restrictions/{w['restriction'].pk}/lift/",
    ),
]


def expected_status(role: str | None, endpoint: Endpoint) -> int:
    """What the role must get, read from the capability table."""
    if role is None:
        return 302
    if role == Role.SUBSCRIBER or role not in CAPABILITIES[endpoint.capability]:
        return 403
    if endpoint.on_case and role not in CAPABILITIES["case.view_all"]:
        return 404  # the case is not assigned to them: it does not exist for them
    return 200 if endpoint.method == "GET" else 302


@pytest.fixture
def world(users: dict[str, User], case: Case, subscriber: Subscriber, macro: Macro) -> dict[str, Any]:
    Case.objects.filter(pk=case.pk).update(assignee=None)
    other = actions.open_case(subject="Второе обращение", subscriber=subscriber)
    restriction = AccessRestriction.objects.create(subscriber=subscriber, kind="no_entry", reason="Не входить")
    start = timezone.now() + timedelta(minutes=5)
    callback = callbacks.request_callback(
        subscriber, phone="+79165551122", window_start=start, window_end=start + timedelta(hours=1)
    )
    Case.objects.filter(pk=callback.case_id).update(assignee=None)
    (attachment,) = case_files.store(case.messages.get(), case_files.check_files([upload("router.txt", TEXT)]))
    return {
        "attachment": attachment,
        "callback": callback,
        "case": case,
        "other": other,
        "subscriber": subscriber,
        "macro": macro,
        "agent": users[Role.AGENT],
        "restriction": restriction,
        "users": users,
    }


class _Rollback(Exception):
    """Raised to undo what one request changed before the next endpoint is tried."""


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_permission_matrix(client: Client, world: dict[str, Any], role: str | None) -> None:
    if role is not None:
        login_verified(client, world["users"][role])
    wrong = []
    for endpoint in ENDPOINTS:
        url = endpoint.url(world)
        extra = {"HTTP_HX_REQUEST": "true"} if endpoint.name == "queue-partial" else {}
        try:
            # Each endpoint starts from the same data: what the request wrote is rolled back.
            with transaction.atomic():
                if endpoint.method == "GET":
                    response = client.get(url, **extra)
                else:
                    response = client.post(url, endpoint.data(world))
                raise _Rollback
        except _Rollback:
            pass
        expected = expected_status(role, endpoint)
        if role is None and extra:
            # htmx asks for a fragment: the answer tells htmx to move the whole page to the login.
            got_login = response.status_code == 200 and "/accounts/login/" in response.get("HX-Redirect", "")
            if not got_login:
                wrong.append((endpoint.name, "HX-Redirect", response.status_code))
            continue
        if response.status_code != expected:
            wrong.append((endpoint.name, expected, response.status_code))
        elif role is None and "/accounts/login/" not in response["Location"]:
            wrong.append((endpoint.name, "login redirect", response["Location"]))
    assert wrong == [], f"{role}: (endpoint, expected, got) {wrong}"


def test_every_workspace_url_is_in_the_matrix() -> None:
    from beskontakt.cases.urls import urlpatterns as case_urls
    from beskontakt.subscribers.urls import urlpatterns as subscriber_urls

    names = {p.name for p in [*case_urls, *subscriber_urls]}
    covered = {
        "queue", "new", "detail", "sla", "macro", "reply", "note", "take", "assign", "status", "priority",
        "category", "move", "tags", "merge", "link", "callback", "attachment", "search", "restrict", "lift",
    }  # fmt: skip
    assert names == covered
    assert len(ENDPOINTS) >= len(covered)


def test_technician_sees_only_own_cases(client: Client, world: dict[str, Any]) -> None:
    technician = world["users"][Role.TECHNICIAN]
    Case.objects.filter(pk=world["other"].pk).update(assignee=technician)
    login_verified(client, technician)
    queue = client.get("/?tab=all").content.decode()
    assert "Второе обращение" in queue
    assert world["case"].subject not in queue
    assert client.get(f"/cases/{world['other'].pk}/").status_code == 200
    assert client.post(f"/cases/{world['other'].pk}/note/", {"body": "Был на адресе"}).status_code == 302
    assert client.post(f"/cases/{world['other'].pk}/reply/", {"body": "x"}).status_code == 403


def test_unverified_staff_session_is_sent_to_login(client: Client, world: dict[str, Any]) -> None:
    client.force_login(world["agent"])
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
