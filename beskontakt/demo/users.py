"""The demo logins: one staff user per role and one subscriber portal login."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role

DEFAULT_PASSWORD = "beskontakt-demo"  # noqa: S105 - the documented demo password
PASSWORD_ENV = "BESKONTAKT_DEMO_PASSWORD"  # noqa: S105 - the variable's name, not a password
SUBSCRIBER_USERNAME = "subscriber"


@dataclass(frozen=True)
class DemoUser:
    """A demo login: username, role, name and the skills an agent gets."""

    username: str
    role: str
    first_name: str
    last_name: str
    skills: tuple[str, ...] = ()


DEMO_STAFF = (
    DemoUser("agent", Role.AGENT, "Анна", "Смирнова", ("tech", "tv", "billing", "callback")),
    DemoUser("agent2", Role.AGENT, "Дмитрий", "Козлов", ("tech", "business", "billing", "english")),
    DemoUser("supervisor", Role.SUPERVISOR, "Елена", "Васильева", ("tech", "tv", "billing", "business", "callback")),
    DemoUser("technician", Role.TECHNICIAN, "Сергей", "Морозов"),
    DemoUser("noc", Role.NOC, "Алексей", "Новиков"),
    DemoUser("admin", Role.ADMIN, "Ольга", "Фёдорова"),
)
DEMO_SUBSCRIBER = DemoUser(SUBSCRIBER_USERNAME, Role.SUBSCRIBER, "", "")


def demo_password() -> str:
    """The demo password: ``BESKONTAKT_DEMO_PASSWORD`` or the documented default."""
    return os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD


def ensure_demo_users(skill_ids: dict[str, int]) -> dict[str, User]:
    """Create the demo logins that are missing (existing ones keep their password and 2FA).

    The password is hashed once and the hash shared, so creating seven users
    costs one hash rather than seven.
    """
    existing = {
        u.username: u for u in User.objects.filter(username__in=[d.username for d in (*DEMO_STAFF, DEMO_SUBSCRIBER)])
    }
    password_hash: str | None = None
    users: dict[str, User] = {}
    for spec in (*DEMO_STAFF, DEMO_SUBSCRIBER):
        user = existing.get(spec.username)
        if user is None:
            if password_hash is None:
                password_hash = make_password(demo_password())
            user = User(
                username=spec.username,
                role=spec.role,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@beskontakt.example",
                password=password_hash,
                available=spec.role == Role.AGENT,
                is_staff=spec.role == Role.ADMIN,
                is_superuser=spec.role == Role.ADMIN,
            )
            user.save()
            if spec.skills:
                user.skills.set([skill_ids[s] for s in spec.skills if s in skill_ids])
        users[spec.username] = user
    return users


def login_table() -> list[tuple[str, str, str]]:
    """(username, role label, full name) of every demo login, in role order."""
    rows = []
    for spec in (*DEMO_STAFF, DEMO_SUBSCRIBER):
        name = f"{spec.first_name} {spec.last_name}".strip()
        rows.append((spec.username, str(Role(spec.role).label), name))
    return rows
