"""The demo generator: determinism, consistency, idempotent loading and demo logins."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Min

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role
from beskontakt.cases.models import Case, Event, Message, SlaClock
from beskontakt.cases.models.case import ACTIVE_STATUSES
from beskontakt.demo import loader
from beskontakt.demo.models import DemoLoad
from beskontakt.demo.words.people import feminine_surname, translit
from beskontakt.subscribers.models import AccessRestriction, ContactPoint, Equipment, Subscriber

ANCHOR = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def _load(subscribers: int = 150, seed: int = 7, size: str = "demo") -> DemoLoad:
    return loader.load(loader.size_for(size, subscribers), size_name=size, seed=seed, anchor=ANCHOR)


def test_same_seed_gives_identical_rows() -> None:
    _load(seed=3)
    first = loader.fingerprint()
    loader.reset_domain_data()
    _load(seed=3)
    assert loader.fingerprint() == first
    loader.reset_domain_data()
    _load(seed=4)
    assert loader.fingerprint() != first


def test_operator_size_scaled_down_loads_with_minimal_events() -> None:
    record = _load(subscribers=200, size="operator")
    cases = Case.objects.count()
    assert 450 <= cases <= 750  # about 3 per subscriber
    assert 1500 <= Message.objects.count() <= 2600  # about 10 per subscriber
    assert Event.objects.filter(kind=Event.Kind.OPENED).count() == cases
    assert record.counts["tables"]["subscriber"] == 200


def test_generated_data_is_consistent() -> None:
    _load(subscribers=300)
    assert Subscriber.objects.values("contract_number").distinct().count() == 300
    assert Equipment.objects.values("serial_number").distinct().count() == Equipment.objects.count()

    for sub in Subscriber.objects.select_related("address")[:50]:
        assert sub.search_text == sub.build_search_text()
    for contact in ContactPoint.objects.all()[:200]:
        assert contact.normalized == ContactPoint.normalize(contact.channel, contact.value)
        if contact.channel == "phone":
            assert re.fullmatch(r"7(495|499|9\d\d)\d{7}", contact.normalized)

    for r in AccessRestriction.objects.all():
        assert r.valid_until is None or r.valid_until >= r.valid_from
        assert r.reason
        assert r.lifted_at is None or r.lifted_at >= r.recorded_at

    # Messages never precede their case; the first one is the subscriber's.
    assert not Message.objects.filter(created_at__lt=F("case__created_at")).exists()
    first_dirs = Message.objects.values("case").annotate(first=Min("id"))
    first_ids = [row["first"] for row in first_dirs]
    assert set(Message.objects.filter(id__in=first_ids).values_list("direction", flat=True)) == {"in"}
    assert not Case.objects.filter(first_response_at__lt=F("created_at")).exists()
    assert not Case.objects.filter(resolved_at__lt=F("first_response_at")).exists()

    # Events match the messages: one message event per message.
    assert Event.objects.filter(kind__in=["message_in", "message_out"]).count() == Message.objects.count()
    assert Event.objects.filter(kind="opened").count() == Case.objects.count()

    # Every active case has its clocks; running ones give the case its next deadline.
    active = Case.objects.filter(status__in=ACTIVE_STATUSES)
    assert active.exists()
    assert not active.annotate(n=Count("clocks")).filter(n__lt=2).exists()
    for case in active.prefetch_related("clocks"):
        running = [c for c in case.clocks.all() if c.state == SlaClock.State.RUNNING]
        if case.status in ("new", "open"):
            assert running
            assert case.next_due_at == min(c.due_at for c in running)
            assert case.sla_state in ("ok", "warning", "breached")
        else:
            assert case.sla_state == "paused" and case.next_due_at is None
    assert set(active.values_list("sla_state", flat=True)) >= {"ok", "breached"}
    done = Case.objects.exclude(status__in=ACTIVE_STATUSES)
    assert not SlaClock.objects.filter(case__in=done).exists()
    assert set(done.values_list("status", flat=True)) == {"resolved", "closed"}


def test_command_is_idempotent_and_prints_logins() -> None:
    out = StringIO()
    call_command("load_demo", "--size", "demo", "--subscribers", "120", "--seed", "2", stdout=out)
    counts = (Subscriber.objects.count(), Case.objects.count(), Message.objects.count())
    out = StringIO()
    call_command("load_demo", "--size", "demo", "--subscribers", "120", "--seed", "2", stdout=out)
    assert (Subscriber.objects.count(), Case.objects.count(), Message.objects.count()) == counts
    text = out.getvalue()
    for username in ("agent", "agent2", "supervisor", "technician", "noc", "admin", "subscriber"):
        assert username in text
    assert "TOTP" in text
    with pytest.raises(CommandError):
        call_command("load_demo", "--size", "demo", "--subscribers", "120", "--seed", "3", stdout=StringIO())
    call_command("load_demo", "--size", "demo", "--subscribers", "120", "--seed", "3", "--reset", stdout=StringIO())
    assert DemoLoad.objects.get().seed == 3


def test_command_rejects_bad_arguments() -> None:
    with pytest.raises(CommandError, match="subscribers"):
        call_command("load_demo", "--subscribers", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="anchor"):
        call_command("load_demo", "--anchor", "yesterday", stdout=StringIO())


def test_demo_users_exist_for_every_role() -> None:
    _load(subscribers=100)
    roles = set(
        User.objects.filter(username__in=["agent", "agent2", "supervisor", "technician", "noc", "admin"]).values_list(
            "role", flat=True
        )
    )
    assert roles == {Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN}
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password("beskontakt-demo")
    agent = User.objects.get(username="agent")
    assert agent.available and agent.skills.exists()
    portal = User.objects.get(username="subscriber")
    assert portal.role == Role.SUBSCRIBER
    assert Subscriber.objects.get(portal_user=portal).kind == Subscriber.Kind.PERSON


def test_name_helpers() -> None:
    assert feminine_surname("Иванов") == "Иванова"
    assert feminine_surname("Троицкий") == "Троицкая"
    assert feminine_surname("Толстой") == "Толстая"
    assert feminine_surname("Шевченко") == "Шевченко"
    assert translit("Щукин Ёжик") == "shchukinezhik"


def test_names_agree_in_gender() -> None:
    _load(subscribers=200)
    for sub in Subscriber.objects.filter(kind="person"):
        female = sub.middle_name.endswith(("вна", "чна"))
        assert female == (sub.middle_name[-1] == "а")
        if sub.last_name.endswith(("ов", "ев", "ин")):
            assert not female
        if sub.last_name.endswith(("ова", "ева", "ина", "ская")):
            assert female
