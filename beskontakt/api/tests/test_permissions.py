"""Who may do what through the API: every role against every kind of request."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from beskontakt.accounts.roles import Role
from beskontakt.cases import actions
from beskontakt.subscribers.models import Channel

from .conftest import World

pytestmark = pytest.mark.django_db

A, S, T, N, AD, SUB = Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN, Role.SUBSCRIBER
ALL = (A, S, T, N, AD, SUB)


def expect(default: int, **by_role: int) -> dict[str, int]:
    return {role: by_role.get(str(role), default) for role in ALL}


def unassigned_case(world: World) -> Any:
    return actions.open_case(subject="Без исполнителя", subscriber=world.subscriber, channel=Channel.PHONE)


Request = tuple[str, Callable[[World], str], Callable[[World], dict[str, Any]] | None]

# name -> (method, url, body), expected status per role
MATRIX: dict[str, tuple[Request, dict[str, int]]] = {
    "subscribers.list": (("GET", lambda w: "/api/v1/subscribers/", None), expect(200)),
    "subscribers.own": (("GET", lambda w: f"/api/v1/subscribers/{w.subscriber.pk}/", None), expect(200)),
    "subscribers.other": (
        ("GET", lambda w: f"/api/v1/subscribers/{w.other_subscriber.pk}/", None),
        expect(200, subscriber=404),
    ),
    "restrictions.list": (("GET", lambda w: f"/api/v1/subscribers/{w.subscriber.pk}/restrictions/", None), expect(200)),
    "restrictions.create": (
        (
            "POST",
            lambda w: f"/api/v1/subscribers/{w.subscriber.pk}/restrictions/",
            lambda w: {"kind": "contactless_only", "reason": "Просили без визита"},
        ),
        expect(201, noc=403, subscriber=403),
    ),
    "restrictions.lift": (
        ("POST", lambda w: f"/api/v1/subscribers/{w.subscriber.pk}/restrictions/{w.restriction.pk}/lift/", None),
        expect(200, noc=403, subscriber=403),
    ),
    "tariffs.list": (("GET", lambda w: "/api/v1/tariffs/", None), expect(200)),
    "cases.list": (("GET", lambda w: "/api/v1/cases/", None), expect(200)),
    "cases.detail": (("GET", lambda w: f"/api/v1/cases/{w.case.pk}/", None), expect(200, technician=404)),
    "cases.technician_case": (("GET", lambda w: f"/api/v1/cases/{w.technician_case.pk}/", None), expect(200)),
    "cases.other": (
        ("GET", lambda w: f"/api/v1/cases/{w.other_case.pk}/", None),
        expect(200, technician=404, subscriber=404),
    ),
    "cases.create": (
        ("POST", lambda w: "/api/v1/cases/", lambda w: {"subject": "Новое", "subscriber": w.subscriber.pk}),
        expect(201, technician=403, subscriber=403),
    ),
    "cases.patch": (
        ("PATCH", lambda w: f"/api/v1/cases/{w.case.pk}/", lambda w: {"priority": 3}),
        expect(200, technician=403, noc=403, subscriber=403),
    ),
    "cases.take": (
        ("POST", lambda w: f"/api/v1/cases/{unassigned_case(w).pk}/take/", None),
        expect(200, technician=403, noc=403, subscriber=403),
    ),
    "cases.merge": (
        ("POST", lambda w: f"/api/v1/cases/{unassigned_case(w).pk}/merge/", lambda w: {"into": w.case.pk}),
        expect(403, supervisor=200, admin=200),
    ),
    "cases.link": (
        ("POST", lambda w: f"/api/v1/cases/{w.case.pk}/link/", lambda w: {"other": w.other_case.pk}),
        expect(200, technician=403, subscriber=403),
    ),
    "messages.list": (("GET", lambda w: f"/api/v1/cases/{w.case.pk}/messages/", None), expect(200, technician=404)),
    "messages.post": (
        ("POST", lambda w: f"/api/v1/cases/{w.case.pk}/messages/", lambda w: {"body": "Здравствуйте!"}),
        expect(201, technician=404, noc=403),
    ),
    "messages.post_technician_case": (
        ("POST", lambda w: f"/api/v1/cases/{w.technician_case.pk}/messages/", lambda w: {"body": "Еду"}),
        expect(201, technician=403, noc=403),
    ),
    "notes.list": (
        ("GET", lambda w: f"/api/v1/cases/{w.case.pk}/notes/", None),
        expect(200, technician=404, subscriber=404),
    ),
    "notes.create_technician_case": (
        ("POST", lambda w: f"/api/v1/cases/{w.technician_case.pk}/notes/", lambda w: {"body": "Кабель заменён"}),
        expect(201, subscriber=404),
    ),
    "events.list": (("GET", lambda w: f"/api/v1/cases/{w.case.pk}/events/", None), expect(200, technician=404)),
    "callbacks.list": (("GET", lambda w: "/api/v1/callbacks/", None), expect(200)),
    "callbacks.own": (("GET", lambda w: f"/api/v1/callbacks/{w.callback.pk}/", None), expect(200, technician=404)),
    "callbacks.create": (
        (
            "POST",
            lambda w: "/api/v1/callbacks/",
            lambda w: {
                "subscriber": w.subscriber.pk,
                "phone": "+7 916 111-22-33",
                "window_start": (timezone.now() + timedelta(minutes=10)).isoformat(),
                "window_end": (timezone.now() + timedelta(minutes=70)).isoformat(),
            },
        ),
        expect(201, technician=403),
    ),
    "callbacks.outcome": (
        ("POST", lambda w: f"/api/v1/callbacks/{w.callback.pk}/outcome/", lambda w: {"reached": False}),
        expect(403, agent=200, supervisor=200, admin=200),
    ),
    "inbound": (
        (
            "POST",
            lambda w: "/api/v1/messages/inbound/",
            lambda w: {"channel": "telegram", "external_id": "perm-1", "body": "Привет", "subscriber": w.subscriber.pk},
        ),
        expect(201, technician=403, subscriber=403),
    ),
    "inbound.batch": (
        (
            "POST",
            lambda w: "/api/v1/messages/inbound/batch/",
            lambda w: {"items": [{"channel": "sms", "external_id": "perm-b1", "body": "Привет"}]},
        ),
        expect(200, technician=403, subscriber=403),
    ),
    "inbound.queue": (
        (
            "POST",
            lambda w: "/api/v1/messages/inbound/queue/",
            lambda w: {"items": [{"channel": "sms", "external_id": "perm-q1", "body": "Привет"}]},
        ),
        expect(202, technician=403, subscriber=403),
    ),
}


def run(world: World, client: APIClient, name: str) -> int:
    """Send the request of one matrix row inside a savepoint that is rolled back afterwards."""
    (method, url, body), _expected = MATRIX[name]
    with transaction.atomic():
        payload = body(world) if body else {}
        response = client.generic(method, url(world), data=json.dumps(payload), content_type="application/json")
        transaction.set_rollback(True)
    return response.status_code


@pytest.mark.parametrize("role", ALL)
def test_permission_matrix(world: World, role: str) -> None:
    client = world.client(role)
    wrong = {}
    for name, (_request, expected) in MATRIX.items():
        got = run(world, client, name)
        if got != expected[role]:
            wrong[name] = (expected[role], got)
    assert wrong == {}, f"role {role}: expected/got"


def test_anonymous_is_refused(world: World) -> None:
    for name in MATRIX:
        assert run(world, APIClient(), name) == 401, name


def test_inactive_user_is_refused(world: World) -> None:
    client = world.client(A)
    world.users[A].is_active = False
    world.users[A].save()
    assert client.get("/api/v1/cases/").status_code in (401, 403)
