"""Subscriber actions: validation, history events and the access helper."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from beskontakt.accounts.roles import Role
from beskontakt.conftest import make_user
from beskontakt.subscribers import actions
from beskontakt.subscribers.models import AccessRestriction, Channel, ContactPoint, SubscriberEvent

pytestmark = pytest.mark.django_db


def test_record_restriction_with_dates(subscriber: Any, agent: Any) -> None:
    today = timezone.localdate()
    r = actions.record_restriction(
        subscriber, "quarantine", " На карантине ", valid_until=today + dt.timedelta(days=14), by=agent
    )
    assert r.pk and r.reason == "На карантине" and r.valid_from == today and r.recorded_by == agent
    assert r.is_active_at()
    event = SubscriberEvent.objects.get(subscriber=subscriber)
    assert event.kind == SubscriberEvent.Kind.RESTRICTION_RECORDED and event.actor == agent
    assert event.data["valid_until"] == (today + dt.timedelta(days=14)).isoformat()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "quarantine", "reason": "  "}, "reason"),
        ({"kind": "holiday", "reason": "x"}, "kind"),
        ({"kind": "no_entry", "reason": "x", "valid_from": "2020-05-10", "valid_until": "2020-05-01"}, "valid_until"),
        ({"kind": "no_entry", "reason": "x", "valid_until": "01/05/2020"}, "valid_until"),
    ],
)
def test_record_restriction_rejects_bad_input(subscriber: Any, agent: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        actions.record_restriction(subscriber, by=agent, **kwargs)
    assert field in exc.value.message_dict
    assert not AccessRestriction.objects.exists()


def test_record_restriction_needs_capability(subscriber: Any, users: Any) -> None:
    with pytest.raises(PermissionDenied):
        actions.record_restriction(subscriber, "no_entry", "x", by=users[Role.NOC])


def test_lift_restriction_keeps_history(subscriber: Any, agent: Any) -> None:
    r = actions.record_restriction(subscriber, "no_entry", "Просили не приходить", by=agent)
    actions.lift_restriction(r, by=agent)
    r.refresh_from_db()
    assert r.lifted_at is not None and r.lifted_by == agent and not r.is_active_at()
    assert subscriber.active_restrictions() == []
    with pytest.raises(ValidationError) as exc:
        actions.lift_restriction(r, by=agent)
    assert "restriction" in exc.value.message_dict
    kinds = list(SubscriberEvent.objects.values_list("kind", flat=True))
    assert kinds == ["restriction_recorded", "restriction_lifted"]


def test_add_contact_normalises_and_refuses_duplicates(subscriber: Any, agent: Any) -> None:
    c = actions.add_contact(subscriber, Channel.PHONE, "8 (916) 000-11-22", preferred=True, by=agent)
    assert c.normalized == "79160001122" and c.preferred
    assert subscriber.contacts.filter(preferred=True).count() == 1
    with pytest.raises(ValidationError) as exc:
        actions.add_contact(subscriber, Channel.PHONE, "+79160001122", by=agent)
    assert "value" in exc.value.message_dict


@pytest.mark.parametrize(
    ("channel", "value", "field"),
    [
        ("phone", "12345", "value"),
        ("email", "not-an-email", "value"),
        ("telegram", "hello world", "value"),
        ("pigeon", "x", "channel"),
        ("email", "", "value"),
    ],
)
def test_add_contact_rejects_bad_values(subscriber: Any, agent: Any, channel: str, value: str, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        actions.add_contact(subscriber, channel, value, by=agent)
    assert field in exc.value.message_dict


def test_portal_user_may_add_own_contact_only(subscriber: Any, other_subscriber: Any, users: Any) -> None:
    me = users[Role.SUBSCRIBER]
    actions.add_contact(subscriber, Channel.EMAIL, "Maria@Example.ru", by=me)
    assert subscriber.contacts.get(channel="email").normalized == "maria@example.ru"
    with pytest.raises(PermissionDenied):
        actions.add_contact(other_subscriber, Channel.EMAIL, "x@example.ru", by=me)


def test_set_contact_consent(subscriber: Any, agent: Any) -> None:
    contact = ContactPoint.objects.get(subscriber=subscriber)
    actions.set_contact_consent(contact, False, by=agent)
    contact.refresh_from_db()
    assert contact.consent is False
    actions.set_contact_consent(contact, False, by=agent)  # no change, no event
    assert SubscriberEvent.objects.filter(kind="consent_changed").count() == 1
    with pytest.raises(ValidationError) as exc:
        actions.set_contact_consent(contact, "no", by=agent)  # type: ignore[arg-type]
    assert "consent" in exc.value.message_dict


def test_update_balance(subscriber: Any, agent: Any) -> None:
    actions.update_balance(subscriber, "-1 234,5", billing_status="blocked_debt", by=agent)
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("-1234.50") and subscriber.billing_status == "blocked_debt"
    event = SubscriberEvent.objects.get(kind="balance_updated")
    assert event.data["before"]["balance"] == "320.50" and event.data["after"]["balance"] == "-1234.50"
    for bad, field in [("abc", "balance"), ("1.234", "balance"), ("1e20", "balance")]:
        with pytest.raises(ValidationError) as exc:
            actions.update_balance(subscriber, bad, by=agent)
        assert field in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        actions.update_balance(subscriber, "1", billing_status="gone", by=agent)
    assert "billing_status" in exc.value.message_dict


def test_access_subscriber(subscriber: Any, other_subscriber: Any, users: Any) -> None:
    for role in (Role.AGENT, Role.SUPERVISOR, Role.TECHNICIAN, Role.NOC, Role.ADMIN):
        assert actions.access_subscriber(users[role], other_subscriber.pk) == other_subscriber
    me = users[Role.SUBSCRIBER]
    assert actions.access_subscriber(me, subscriber.pk) == subscriber
    with pytest.raises(Http404):
        actions.access_subscriber(me, other_subscriber.pk)
    with pytest.raises(Http404):
        actions.access_subscriber(users[Role.AGENT], 10**9)
    with pytest.raises(Http404):
        actions.access_subscriber(users[Role.AGENT], "abc")
    stranger = make_user(Role.SUBSCRIBER, username="stranger")
    with pytest.raises(Http404):
        actions.access_subscriber(stranger, subscriber.pk)
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        actions.access_subscriber(AnonymousUser(), subscriber.pk)
