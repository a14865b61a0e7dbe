"""Fixtures for API tests: token clients per role and a small world of two subscribers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role
from beskontakt.cases import actions
from beskontakt.cases import attachments as case_files
from beskontakt.cases.models import Attachment, Case, Category, Note
from beskontakt.cases.tests.files import PDF, TEXT, upload
from beskontakt.inbox import callbacks
from beskontakt.inbox.models import CallbackRequest
from beskontakt.subscribers import actions as subscriber_actions
from beskontakt.subscribers.models import AccessRestriction, Channel, Equipment, Subscriber


def token_client(user: User) -> APIClient:
    """An API client that authenticates as ``user`` with a token header."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    """Uploaded files of a test go to its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client_for(db: Any) -> Callable[[User], APIClient]:
    return token_client


@dataclass
class World:
    """Two subscribers with a case each, notes, restrictions and equipment; one user per role."""

    users: dict[str, User]
    subscriber: Subscriber
    other_subscriber: Subscriber
    case: Case
    other_case: Case
    technician_case: Case
    note: Note
    other_note: Note
    restriction: AccessRestriction
    other_restriction: AccessRestriction
    attachment: Attachment
    other_attachment: Attachment
    callback: CallbackRequest
    other_callback: CallbackRequest

    def client(self, role: str) -> APIClient:
        return token_client(self.users[role])


@pytest.fixture
def world(
    users: dict[str, User], subscriber: Subscriber, other_subscriber: Subscriber, case: Case, category: Category
) -> World:
    admin = users[Role.ADMIN]
    other_case = actions.open_case(
        subject="Не показывает ТВ",
        body="Секретный текст другого абонента",
        subscriber=other_subscriber,
        channel=Channel.TELEGRAM,
        category=category,
        external_id="tg-other-1",
    )
    actions.reply(other_case, by=users[Role.AGENT], body="Ответ другому абоненту")
    technician_case = actions.open_case(subject="Выезд", subscriber=subscriber, channel=Channel.PHONE)
    actions.assign(technician_case, to=users[Role.AGENT], by=admin)
    # A technician works only cases assigned to them; assign() accepts only desk agents, so set it directly.
    Case.objects.filter(pk=technician_case.pk).update(assignee=users[Role.TECHNICIAN])
    technician_case.refresh_from_db()
    note = actions.add_note(case, by=users[Role.AGENT], body="Внутренняя заметка")
    other_note = actions.add_note(other_case, by=users[Role.AGENT], body="Заметка о другом")
    restriction = subscriber_actions.record_restriction(
        subscriber, AccessRestriction.Kind.QUARANTINE, "Карантин до конца месяца", by=admin
    )
    other_restriction = subscriber_actions.record_restriction(
        other_subscriber, AccessRestriction.Kind.NO_ENTRY, "Не входить в квартиру", by=admin
    )
    Equipment.objects.create(
        subscriber=other_subscriber, kind=Equipment.Kind.ROUTER, model="Keenetic", serial_number="SECRET-SN-1"
    )
    # A file on each subscriber's first message (added without new messages or events).
    (attachment,) = case_files.store(case.messages.get(), case_files.check_files([upload("router.txt", TEXT)]))
    (other_attachment,) = case_files.store(
        other_case.messages.first(),  # type: ignore[arg-type]
        case_files.check_files([upload("Секретный-скан-паспорта.pdf", PDF)]),
    )
    start = timezone.now() + timedelta(minutes=30)
    callback = callbacks.request_callback(
        subscriber, phone="+79161112233", window_start=start, window_end=start + timedelta(hours=1)
    )
    other_callback = callbacks.request_callback(
        other_subscriber, phone="+79160009999", window_start=start, window_end=start + timedelta(hours=1)
    )
    return World(
        callback=callback,
        other_callback=other_callback,
        users=users,
        subscriber=subscriber,
        other_subscriber=other_subscriber,
        case=case,
        other_case=other_case,
        technician_case=technician_case,
        note=note,
        other_note=other_note,
        restriction=restriction,
        other_restriction=other_restriction,
        attachment=attachment,
        other_attachment=other_attachment,
    )
