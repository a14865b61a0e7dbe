"""Fixtures shared by every app's tests: people in each role, a subscriber, a case."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import time
from decimal import Decimal
from typing import Any

import pytest

from beskontakt.accounts.models import Skill, User
from beskontakt.accounts.roles import Role
from beskontakt.cases import actions
from beskontakt.cases.calendars import forget_calendars
from beskontakt.cases.models import BusinessCalendar, Case, Category, Macro, Queue, SlaPolicy, WorkingHours
from beskontakt.subscribers.models import (
    Address,
    Channel,
    ContactPoint,
    District,
    Subscriber,
    Subscription,
    Tariff,
)

PASSWORD = "correct-horse-battery-staple"
STAFF_ROLES = [Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN]
ALL_ROLES = [*STAFF_ROLES, Role.SUBSCRIBER]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> Any:
    forget_calendars()
    yield
    forget_calendars()


def make_user(role: str, username: str | None = None, **extra: Any) -> User:
    """A user in ``role`` with the test password."""
    user = User.objects.create_user(
        username=username or f"{role}-user",
        password=PASSWORD,
        role=role,
        first_name=extra.pop("first_name", role.title()),
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
        **extra,
    )
    return user


@pytest.fixture
def skill(db: Any) -> Skill:
    return Skill.objects.create(code="internet", name="Интернет")


@pytest.fixture
def calendar(db: Any) -> BusinessCalendar:
    """Moscow working days 09:00–21:00 Mon–Fri, 10:00–18:00 Sat, Russian holidays off."""
    cal = BusinessCalendar.objects.create(name="Москва", timezone="Europe/Moscow")
    for weekday in range(5):
        WorkingHours.objects.create(calendar=cal, weekday=weekday, start=time(9), end=time(21))
    WorkingHours.objects.create(calendar=cal, weekday=5, start=time(10), end=time(18))
    return cal


@pytest.fixture
def queue(db: Any, skill: Skill) -> Queue:
    """A 24/7 technical support queue (no calendar: clocks run around the clock)."""
    return Queue.objects.create(code="support", name="Техническая поддержка", skill=skill)


@pytest.fixture
def category(db: Any, queue: Queue) -> Category:
    return Category.objects.create(
        code="no-internet", name_ru="Нет интернета", name_en="No internet", default_queue=queue
    )


@pytest.fixture
def policy(db: Any) -> SlaPolicy:
    """First response 30 min, next 60 min, resolution 8 h, around the clock."""
    return SlaPolicy.objects.create(
        name="Стандарт", first_response_minutes=30, next_response_minutes=60, resolution_minutes=480
    )


@pytest.fixture
def tariff(db: Any) -> Tariff:
    return Tariff.objects.create(
        code="net-500", name="Домашний 500", kind=Tariff.Kind.INTERNET, download_mbps=500, monthly_price=Decimal("650")
    )


def make_subscriber(contract: str, last_name: str = "Иванова", first_name: str = "Мария", **extra: Any) -> Subscriber:
    district, _ = District.objects.get_or_create(name="Хамовники", defaults={"okrug": "ЦАО"})
    address = Address.objects.create(district=district, street="ул. Льва Толстого", building="16", apartment="12")
    subscriber = Subscriber.objects.create(
        contract_number=contract,
        last_name=last_name,
        first_name=first_name,
        middle_name=extra.pop("middle_name", "Петровна"),
        address=address,
        balance=extra.pop("balance", Decimal("320.50")),
        **extra,
    )
    ContactPoint.objects.create(
        subscriber=subscriber, channel=Channel.PHONE, value="+7 (495) 123-45-67", preferred=True
    )
    return subscriber


@pytest.fixture
def subscriber(db: Any, tariff: Tariff) -> Subscriber:
    sub = make_subscriber("77001234")
    Subscription.objects.create(subscriber=sub, tariff=tariff)
    return sub


@pytest.fixture
def other_subscriber(db: Any) -> Subscriber:
    return make_subscriber("77009999", last_name="Смирнов", first_name="Олег", middle_name="Ильич")


@pytest.fixture
def users(db: Any, skill: Skill, subscriber: Subscriber) -> dict[str, User]:
    """One user per role; the agent is available with the queue's skill; the
    subscriber user is the portal login of ``subscriber``."""
    made: dict[str, User] = {role: make_user(role) for role in ALL_ROLES}
    made[Role.AGENT].skills.add(skill)
    made[Role.AGENT].available = True
    made[Role.AGENT].presence = "online"
    made[Role.AGENT].save()
    subscriber.portal_user = made[Role.SUBSCRIBER]
    subscriber.save()
    return made


@pytest.fixture
def agent(users: dict[str, User]) -> User:
    return users[Role.AGENT]


@pytest.fixture
def supervisor(users: dict[str, User]) -> User:
    return users[Role.SUPERVISOR]


@pytest.fixture
def case(users: dict[str, User], subscriber: Subscriber, category: Category, policy: SlaPolicy) -> Case:
    """A new case by phone about no internet, with SLA clocks running."""
    return actions.open_case(
        subject="Нет интернета с утра",
        body="Здравствуйте! С утра не работает интернет, роутер мигает красным.",
        subscriber=subscriber,
        channel=Channel.PHONE,
        category=category,
        external_id="call-1",
    )


@pytest.fixture
def macro(db: Any) -> Macro:
    return Macro.objects.create(
        name="Приветствие",
        body_ru="Здравствуйте, {name}! Вижу ваш тариф «{tariff}». Обращение {case}. {agent}",
        body_en="Hello, {name}! I can see your plan “{tariff}”. Case {case}. {agent}",
    )


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (browsers cannot be downloaded here)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Before the test database is dropped: close the PostgreSQL pools (servers the tests ran
    in threads share them) and end any session a test's thread left open, so the drop succeeds."""
    yield
    from django.db import connection, connections

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        for conn in connections.all():
            close_pool = getattr(conn, "close_pool", None)
            if close_pool is not None:
                close_pool()
