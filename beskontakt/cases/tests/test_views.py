"""The agent workspace through the Django test client: pages, htmx fragments, actions, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from beskontakt.accounts.models import User
from beskontakt.accounts.roles import Role
from beskontakt.accounts.testing import login_verified
from beskontakt.cases import actions
from beskontakt.cases.models import Case, CaseStatus, Event, Message, Note, Queue, SlaClock
from beskontakt.conftest import make_subscriber
from beskontakt.subscribers.models import AccessRestriction, Channel, Subscriber

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def agent_client(client: Client, agent: User) -> Client:
    login_verified(client, agent)
    return client


@pytest.fixture
def supervisor_client(client: Client, supervisor: User) -> Client:
    login_verified(client, supervisor)
    return client


def _html(response: Any) -> str:
    return response.content.decode()


# --- Queue -----------------------------------------------------------------------------


def test_queue_page_lists_unassigned_case(agent_client: Client, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(assignee=None)
    response = agent_client.get("/", {"tab": "unassigned"})
    assert response.status_code == 200
    html = _html(response)
    assert case.subject in html
    assert 'id="case-table"' in html
    assert 'hx-trigger="every 15s"' in html
    assert "<html" in html


def test_queue_htmx_returns_only_the_table(agent_client: Client, case: Case) -> None:
    response = agent_client.get("/", {"tab": "all"}, **HTMX)
    assert response.status_code == 200
    html = _html(response)
    assert html.lstrip().startswith('<div id="case-table"')
    assert "<html" not in html
    assert case.subject in html


def test_queue_mine_tab_shows_only_own_cases(
    agent_client: Client, agent: User, case: Case, subscriber: Subscriber
) -> None:
    other = actions.open_case(subject="Чужое обращение", subscriber=subscriber)
    Case.objects.filter(pk=other.pk).update(assignee=None)
    Case.objects.filter(pk=case.pk).update(assignee=agent)
    html = _html(agent_client.get("/", {"tab": "mine"}))
    assert case.subject in html
    assert "Чужое обращение" not in html


def test_queue_breaching_tab(agent_client: Client, case: Case, subscriber: Subscriber) -> None:
    later = actions.open_case(subject="Не срочно", subscriber=subscriber)
    Case.objects.filter(pk=later.pk).update(next_due_at=timezone.now() + timedelta(days=2), sla_state="ok")
    Case.objects.filter(pk=case.pk).update(next_due_at=timezone.now() + timedelta(minutes=20))
    html = _html(agent_client.get("/", {"tab": "breaching"}))
    assert case.subject in html
    assert "Не срочно" not in html


def test_queue_filters_and_sorts(agent_client: Client, case: Case, subscriber: Subscriber) -> None:
    actions.open_case(subject="Телевидение рябит", subscriber=subscriber, channel=Channel.EMAIL, priority=4)
    html = _html(agent_client.get("/", {"tab": "all", "q": "рябит", "sort": "priority"}))
    assert "Телевидение рябит" in html
    assert case.subject not in html
    html = _html(agent_client.get("/", {"tab": "all", "channel": "email"}))
    assert "Телевидение рябит" in html
    assert case.subject not in html
    html = _html(agent_client.get("/", {"tab": "all", "priority": "4", "sort": "created"}))
    assert "Телевидение рябит" in html


def test_queue_by_queue_tab_needs_a_queue(agent_client: Client, case: Case, queue: Queue) -> None:
    html = _html(agent_client.get("/", {"tab": "queue"}))
    assert case.subject not in html
    html = _html(agent_client.get("/", {"tab": "queue", "queue": queue.pk}))
    assert case.subject in html


def test_queue_bad_filter_is_a_form_error(agent_client: Client, case: Case) -> None:
    response = agent_client.get("/", {"tab": "all", "priority": "99", "sort": "sideways", "page": "x"})
    assert response.status_code == 400
    assert "errorlist" in _html(response) or "form-errors" in _html(response)


def test_queue_pages_without_counting(agent_client: Client, subscriber: Subscriber) -> None:
    for i in range(27):
        Case.objects.create(subject=f"Обращение {i:02d}", subscriber=subscriber, status=CaseStatus.OPEN)
    first = _html(agent_client.get("/", {"tab": "all", "sort": "created"}))
    assert "page=2" in first
    second = _html(agent_client.get("/", {"tab": "all", "sort": "created", "page": "2"}))
    assert "Обращение 00" in second and "Обращение 01" in second
    assert "page=3" not in second


def test_queue_flags_restricted_subscriber(agent_client: Client, case: Case, subscriber: Subscriber) -> None:
    AccessRestriction.objects.create(subscriber=subscriber, kind="quarantine", reason="Карантин до 15-го")
    html = _html(agent_client.get("/", {"tab": "all"}))
    assert "restriction-flag" in html


def test_queue_query_count_does_not_grow(
    agent_client: Client, subscriber: Subscriber, django_assert_max_num_queries: Any
) -> None:
    for i in range(25):
        Case.objects.create(subject=f"c{i}", subscriber=subscriber, status=CaseStatus.OPEN)
    with django_assert_max_num_queries(12):
        agent_client.get("/", {"tab": "all"})


# --- Case page -------------------------------------------------------------------------


def test_case_page_shows_everything(agent_client: Client, agent: User, case: Case, subscriber: Subscriber) -> None:
    AccessRestriction.objects.create(subscriber=subscriber, kind="no_entry", reason="Пожилой человек")
    actions.add_note(case, by=agent, body="Проверить порт")
    actions.set_priority(case, priority=3, by=agent)
    response = agent_client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    html = _html(response)
    assert case.subject in html
    assert "роутер мигает красным" in html  # the inbound message
    assert "Проверить порт" in html  # the note
    assert 'class="restriction"' in html
    assert subscriber.contract_number in html
    assert "Домашний 500" in html  # tariff
    assert 'data-clock="first_response"' in html
    assert 'data-kind="priority"' in html


def test_sla_fragment(agent_client: Client, case: Case) -> None:
    response = agent_client.get(reverse("cases:sla", args=[case.pk]), **HTMX)
    assert response.status_code == 200
    html = _html(response)
    assert html.lstrip().startswith('<div id="sla-clocks"')
    assert 'data-state="running"' in html


def test_macro_fills_reply(agent_client: Client, case: Case, macro: Any) -> None:
    response = agent_client.get(reverse("cases:macro", args=[case.pk]), {"macro": macro.pk}, **HTMX)
    assert response.status_code == 200
    html = _html(response)
    assert "Здравствуйте, Мария Петровна!" in html
    assert "Домашний 500" in html
    bad = agent_client.get(reverse("cases:macro", args=[case.pk]), {"macro": "999999"})
    assert bad.status_code == 400
    assert "errorlist" in _html(bad)


def test_reply_stops_first_response_clock(agent_client: Client, case: Case) -> None:
    response = agent_client.post(reverse("cases:reply", args=[case.pk]), {"body": "Проверяем линию."})
    assert response.status_code == 302
    assert Message.objects.filter(case=case, direction="out", body="Проверяем линию.").exists()
    assert SlaClock.objects.get(case=case, kind="first_response").state == SlaClock.State.MET
    html = _html(agent_client.get(reverse("cases:detail", args=[case.pk])))
    assert 'data-clock="first_response" data-state="met"' in html


def test_reply_and_wait(agent_client: Client, case: Case) -> None:
    agent_client.post(reverse("cases:reply", args=[case.pk]), {"body": "Перезагрузите роутер.", "wait": "on"})
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_SUBSCRIBER


def test_empty_reply_is_a_form_error(agent_client: Client, case: Case) -> None:
    response = agent_client.post(reverse("cases:reply", args=[case.pk]), {"body": "   "})
    assert response.status_code == 400
    assert 'data-field="body"' in _html(response)


def test_two_agents_reply_both_kept(client: Client, agent: User, supervisor: User, case: Case) -> None:
    other = Client()
    login_verified(client, agent)
    login_verified(other, supervisor)
    client.post(reverse("cases:reply", args=[case.pk]), {"body": "Первый ответ"})
    other.post(reverse("cases:reply", args=[case.pk]), {"body": "Второй ответ"})
    assert Message.objects.filter(case=case, direction="out").count() == 2


def test_note_take_status_priority_category_queue_tags(
    agent_client: Client, agent: User, case: Case, queue: Queue
) -> None:
    Case.objects.filter(pk=case.pk).update(assignee=None)
    url = lambda name: reverse(f"cases:{name}", args=[case.pk])  # noqa: E731
    assert agent_client.post(url("take")).status_code == 302
    assert agent_client.post(url("note"), {"body": "Внутренняя заметка"}).status_code == 302
    assert agent_client.post(url("status"), {"status": "waiting_field"}).status_code == 302
    assert agent_client.post(url("priority"), {"priority": "4"}).status_code == 302
    assert agent_client.post(url("category"), {"category": ""}).status_code == 302
    billing = Queue.objects.create(code="billing", name="Биллинг")
    assert agent_client.post(url("move"), {"queue": billing.pk}).status_code == 302
    assert agent_client.post(url("tags"), {"tags": "авария, Хамовники"}).status_code == 302
    case.refresh_from_db()
    assert case.assignee == agent
    assert case.status == CaseStatus.WAITING_FIELD
    assert case.priority == 4
    assert case.category is None
    assert case.queue == billing
    assert sorted(case.tags.values_list("name", flat=True)) == ["Хамовники", "авария"]
    assert Note.objects.filter(case=case, body="Внутренняя заметка").exists()
    html = _html(agent_client.get(url("detail")))
    assert "Хамовники" in html
    assert "Внутренняя заметка" in html


def test_bad_status_transition_is_a_form_error(agent_client: Client, case: Case) -> None:
    url = reverse("cases:status", args=[case.pk])
    agent_client.post(url, {"status": "closed"})
    response = agent_client.post(url, {"status": "waiting_field"})
    assert response.status_code == 400
    assert 'data-field="status"' in _html(response)
    assert agent_client.post(url, {"status": "nonsense"}).status_code == 400
    assert agent_client.post(url, {"status": "open"}).status_code == 302  # reopen


def test_take_someone_elses_case_is_an_error(agent_client: Client, supervisor: User, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(assignee=supervisor)
    response = agent_client.post(reverse("cases:take", args=[case.pk]))
    assert response.status_code == 400
    assert "nonfield" in _html(response)


def test_bad_priority_is_a_form_error(agent_client: Client, case: Case) -> None:
    response = agent_client.post(reverse("cases:priority", args=[case.pk]), {"priority": "9"})
    assert response.status_code == 400
    assert 'data-field="priority"' in _html(response)


def test_assign_by_supervisor(supervisor_client: Client, agent: User, users: dict[str, User], case: Case) -> None:
    url = reverse("cases:assign", args=[case.pk])
    assert supervisor_client.post(url, {"assignee": agent.pk}).status_code == 302
    case.refresh_from_db()
    assert case.assignee == agent
    response = supervisor_client.post(url, {"assignee": users[Role.TECHNICIAN].pk})
    assert response.status_code == 400
    assert 'data-field="assignee"' in _html(response)
    assert supervisor_client.post(url, {"assignee": ""}).status_code == 302
    case.refresh_from_db()
    assert case.assignee is None


def test_merge_and_link(
    supervisor_client: Client, case: Case, subscriber: Subscriber, other_subscriber: Subscriber
) -> None:
    duplicate = actions.open_case(subject="Повтор", subscriber=subscriber, body="Опять нет интернета")
    response = supervisor_client.post(reverse("cases:merge", args=[duplicate.pk]), {"into": f"#{case.pk}"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    duplicate.refresh_from_db()
    assert duplicate.merged_into == case
    assert Message.objects.filter(case=case, body="Опять нет интернета").exists()
    # Errors: itself, unknown, other subscriber's case, garbage.
    url = reverse("cases:merge", args=[case.pk])
    foreign = actions.open_case(subject="Чужой", subscriber=other_subscriber)
    for value in (str(case.pk), "999999", str(foreign.pk), "abc"):
        response = supervisor_client.post(url, {"into": value})
        assert response.status_code == 400, value
        assert 'data-field="into"' in _html(response), value
    link = reverse("cases:link", args=[case.pk])
    assert supervisor_client.post(link, {"other": foreign.pk, "kind": "child"}).status_code == 302
    foreign.refresh_from_db()
    assert foreign.parent == case
    response = supervisor_client.post(link, {"other": case.pk, "kind": "related"})
    assert response.status_code == 400
    html = _html(supervisor_client.get(reverse("cases:detail", args=[case.pk])))
    assert 'data-kind="merged"' in html and 'data-kind="linked"' in html
    merged_page = supervisor_client.get(reverse("cases:detail", args=[duplicate.pk]))
    assert merged_page.status_code == 200


def test_unknown_case_is_404(agent_client: Client) -> None:
    assert agent_client.get(reverse("cases:detail", args=[999999])).status_code == 404
    assert agent_client.post(reverse("cases:reply", args=[999999]), {"body": "x"}).status_code == 404


def test_timeline_events_in_words(agent_client: Client, agent: User, case: Case) -> None:
    actions.take(case, by=agent)
    actions.change_status(case, to=CaseStatus.WAITING_FIELD, by=agent, reason="ждём монтажника")
    html = _html(agent_client.get(reverse("cases:detail", args=[case.pk])))
    assert "ждём монтажника" in html
    assert Event.objects.filter(case=case, kind="status").exists()


# --- Opening a case ------------------------------------------------------------------------


def test_open_case_form(agent_client: Client, subscriber: Subscriber, category: Any) -> None:
    url = reverse("cases:new")
    page = agent_client.get(url, {"subscriber": subscriber.pk})
    assert page.status_code == 200
    assert subscriber.contract_number in _html(page)
    response = agent_client.post(
        url,
        {
            "subscriber": subscriber.pk,
            "subject": "Звонок: медленно",
            "body": "Скорость 5 Мбит",
            "channel": "phone",
            "category": category.pk,
        },
    )
    assert response.status_code == 302
    opened = Case.objects.get(subject="Звонок: медленно")
    assert opened.subscriber == subscriber
    assert opened.queue == category.default_queue


def test_open_case_bad_input(agent_client: Client) -> None:
    url = reverse("cases:new")
    response = agent_client.post(url, {"subject": "", "channel": "pigeon", "subscriber": "12345678"})
    assert response.status_code == 400
    html = _html(response)
    assert 'data-field="subject"' in html and 'data-field="channel"' in html
    response = agent_client.post(url, {"subject": "Тема", "channel": "phone", "subscriber": "12345678"})
    assert response.status_code == 400
    assert 'data-field="subscriber"' in _html(response)
    assert agent_client.get(url, {"subscriber": "nope"}).status_code == 200


# --- Subscriber pages ---------------------------------------------------------------------


def test_subscriber_search_and_card(agent_client: Client, subscriber: Subscriber, case: Case) -> None:
    response = agent_client.get(reverse("subscribers:search"), {"q": "77001234"})
    assert response.status_code == 200
    assert reverse("subscribers:detail", args=[subscriber.pk]) in _html(response)
    by_phone = agent_client.get(reverse("subscribers:search"), {"q": "8 495 123 45 67"})
    assert subscriber.contract_number in _html(by_phone)
    empty = agent_client.get(reverse("subscribers:search"))
    assert empty.status_code == 200
    card = agent_client.get(reverse("subscribers:detail", args=[subscriber.pk]))
    assert card.status_code == 200
    html = _html(card)
    assert case.subject in html
    assert "restriction-form" in html
    assert agent_client.get(reverse("subscribers:detail", args=[999999])).status_code == 404


def test_record_and_lift_restriction(agent_client: Client, subscriber: Subscriber) -> None:
    url = reverse("subscribers:restrict", args=[subscriber.pk])
    response = agent_client.post(url, {"kind": "quarantine", "reason": "Карантин", "valid_until": "2099-01-01"})
    assert response.status_code == 302
    restriction = AccessRestriction.objects.get(subscriber=subscriber)
    assert 'class="restriction"' in _html(agent_client.get(reverse("subscribers:detail", args=[subscriber.pk])))
    bad = agent_client.post(
        url, {"kind": "quarantine", "reason": "x", "valid_from": "2030-05-01", "valid_until": "2030-01-01"}
    )
    assert bad.status_code == 400
    assert 'data-field="valid_until"' in _html(bad)
    bad = agent_client.post(url, {"kind": "teleport", "reason": ""})
    assert bad.status_code == 400
    lift = reverse("subscribers:lift", args=[subscriber.pk, restriction.pk])
    assert agent_client.post(lift).status_code == 302
    restriction.refresh_from_db()
    assert restriction.lifted_at is not None
    assert agent_client.post(lift).status_code == 302  # already lifted: a message, not a 500
    other = make_subscriber("77005555")
    wrong = reverse("subscribers:lift", args=[other.pk, restriction.pk])
    assert agent_client.post(wrong).status_code == 404


def test_english_labels(agent_client: Client, case: Case) -> None:
    html = _html(agent_client.get("/", {"tab": "all"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Unassigned" in html
