"""The case lifecycle through its actions: validation, events, SLA, assignment, merging."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from beskontakt.accounts.roles import Role
from beskontakt.cases import actions
from beskontakt.cases.models import Case, CaseStatus, Event, Message, SlaClock
from beskontakt.conftest import make_user
from beskontakt.subscribers.models import Channel

pytestmark = pytest.mark.django_db


def kinds(case: Case) -> list[str]:
    return list(case.events.values_list("kind", flat=True))


def test_open_case_starts_clocks_records_events_and_auto_assigns(case: Case, agent) -> None:
    assert case.status == CaseStatus.NEW
    assert case.sla_policy is not None
    assert set(case.clocks.values_list("kind", flat=True)) == {"first_response", "resolution"}
    assert case.next_due_at is not None
    assert case.sla_state == Case.SlaState.OK
    assert case.assignee == agent  # the only available agent with the skill
    assert kinds(case)[:2] == [Event.Kind.OPENED, Event.Kind.SLA_STARTED]
    assert Event.Kind.MESSAGE_IN in kinds(case)
    assert Event.Kind.ASSIGNED in kinds(case)


def test_reply_stops_first_response_clock_and_opens_case(case: Case, agent) -> None:
    message = actions.reply(case, by=agent, body="Здравствуйте! Проверяю линию.")
    case.refresh_from_db()
    assert message.direction == Message.Direction.OUTBOUND
    assert case.status == CaseStatus.OPEN
    assert case.first_response_at is not None
    clock = case.clocks.get(kind="first_response")
    assert clock.state == SlaClock.State.MET
    assert Event.Kind.SLA_MET in kinds(case)


def test_waiting_for_subscriber_pauses_and_their_message_resumes(case: Case, agent) -> None:
    actions.reply(case, by=agent, body="Перезагрузите, пожалуйста, роутер.", then_status=CaseStatus.WAITING_SUBSCRIBER)
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_SUBSCRIBER
    assert case.clocks.get(kind="resolution").state == SlaClock.State.PAUSED
    assert case.sla_state == Case.SlaState.PAUSED
    actions.receive_message(channel=Channel.PHONE, external_id="call-2", body="Перезагрузила, не помогло", case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.clocks.get(kind="resolution").state == SlaClock.State.RUNNING
    assert case.clocks.get(kind="next_response").state == SlaClock.State.RUNNING


def test_repeated_inbound_message_changes_nothing(case: Case) -> None:
    before_events = case.events.count()
    first, created = actions.receive_message(channel=Channel.PHONE, external_id="call-9", body="Алло", case=case)
    assert created
    again, created_again = actions.receive_message(channel=Channel.PHONE, external_id="call-9", body="Алло", case=case)
    assert not created_again
    assert again.pk == first.pk
    assert Message.objects.filter(external_id="call-9").count() == 1
    assert case.events.count() == before_events + 1  # one message_in, not two
    # The very first message of the case is idempotent too.
    _, created_first = actions.receive_message(channel=Channel.PHONE, external_id="call-1", body="x", case=case)
    assert not created_first


def test_inbound_without_case_threads_into_active_case_or_opens_one(subscriber, policy) -> None:
    message, created = actions.receive_message(
        channel=Channel.EMAIL, external_id="<a@b>", body="Не работает ТВ\nподробности", subscriber=subscriber
    )
    assert created
    assert message.case.subject == "Не работает ТВ"
    second, _ = actions.receive_message(channel=Channel.EMAIL, external_id="<c@d>", body="Ещё", subscriber=subscriber)
    assert second.case_id == message.case_id


def test_bad_input_names_the_field(case: Case, agent) -> None:
    with pytest.raises(ValidationError) as err:
        actions.reply(case, by=agent, body="   ")
    assert "body" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.open_case(subject="", channel=Channel.PHONE)
    assert "subject" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.open_case(subject="x", channel="pigeon")
    assert "channel" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.change_status(case, to="resolved-ish", by=agent)
    assert "status" in err.value.message_dict


def test_forbidden_transitions_and_reopen(case: Case, agent) -> None:
    actions.resolve(case, by=agent)
    case.refresh_from_db()
    assert case.resolved_at is not None
    assert case.clocks.get(kind="resolution").state in (SlaClock.State.MET, SlaClock.State.BREACHED)
    with pytest.raises(ValidationError):
        actions.change_status(case, to=CaseStatus.WAITING_FIELD, by=agent)
    actions.reopen(case, by=agent, reason="не помогло")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.resolved_at is None
    assert case.clocks.get(kind="resolution").state == SlaClock.State.RUNNING
    actions.change_status(case, to=CaseStatus.CLOSED, by=agent)
    case.refresh_from_db()
    assert case.closed_at is not None and case.next_due_at is None


def test_permissions_are_checked_in_actions(case: Case, users) -> None:
    with pytest.raises(PermissionDenied):
        actions.reply(case, by=users[Role.TECHNICIAN], body="Привет")
    with pytest.raises(PermissionDenied):
        actions.assign(case, to=users[Role.AGENT], by=users[Role.AGENT])
    with pytest.raises(PermissionDenied):
        actions.reply(case, by=users[Role.SUBSCRIBER], body="Привет")


def test_auto_assign_picks_least_loaded_agent_with_skill(case: Case, agent, skill, queue, subscriber, category) -> None:
    second = make_user(Role.AGENT, "agent-two", available=True, presence="online")
    second.skills.add(skill)
    unskilled = make_user(Role.AGENT, "agent-unskilled", available=True, presence="online")
    # agent already has `case`; the next one goes to the idle skilled agent.
    other = actions.open_case(subject="Медленно", subscriber=subscriber, category=category)
    assert other.assignee == second
    third = actions.open_case(subject="Опять медленно", subscriber=subscriber, category=category)
    assert third.assignee in (agent, second)
    assert unskilled.assigned_cases.count() == 0


def test_take_and_assign(case: Case, agent, supervisor) -> None:
    actions.assign(case, to=None, by=supervisor)
    case.refresh_from_db()
    assert case.assignee is None
    actions.take(case, by=agent)
    case.refresh_from_db()
    assert case.assignee == agent
    with pytest.raises(ValidationError):
        actions.take(case, by=supervisor)


def test_merge_moves_messages_and_closes_source(case: Case, subscriber, supervisor, agent) -> None:
    dup = actions.open_case(subject="Дубль", subscriber=subscriber, body="То же самое", external_id="call-dup")
    merged = actions.merge(dup, into=case, by=supervisor)
    dup.refresh_from_db()
    assert merged.pk == case.pk
    assert dup.merged_into_id == case.pk and dup.status == CaseStatus.CLOSED
    assert case.messages.count() == 2
    assert Event.Kind.MERGED in kinds(case) and Event.Kind.MERGED_INTO in kinds(dup)
    with pytest.raises(ValidationError):
        actions.merge(case, into=case, by=supervisor)
    with pytest.raises(ValidationError):
        actions.reply(dup, by=agent, body="сюда нельзя")


def test_merge_refuses_cases_of_different_subscribers(case: Case, other_subscriber, supervisor) -> None:
    foreign = actions.open_case(subject="Чужое", subscriber=other_subscriber)
    with pytest.raises(ValidationError):
        actions.merge(foreign, into=case, by=supervisor)


def test_link_parent_child_and_cycles(case: Case, subscriber, agent) -> None:
    child = actions.open_case(subject="Дом без связи", subscriber=subscriber)
    actions.link(child, other=case, kind="parent", by=agent)
    child.refresh_from_db()
    assert child.parent_id == case.pk
    with pytest.raises(ValidationError):
        actions.link(case, other=child, kind="parent", by=agent)
    actions.link(case, other=child, kind="related", by=agent)
    assert child in case.related.all()


def test_tags_priority_category_queue_changes_are_events(case: Case, agent, queue) -> None:
    actions.set_tags(case, names=["авария", " Хамовники "], by=agent)
    actions.set_priority(case, priority=4, by=agent)
    actions.move_to_queue(case, queue=None, by=agent)
    case.refresh_from_db()
    assert sorted(case.tags.values_list("name", flat=True)) == ["Хамовники", "авария"]
    assert case.priority == 4
    for kind in (Event.Kind.TAGS, Event.Kind.PRIORITY, Event.Kind.QUEUE):
        assert kind in kinds(case)
    with pytest.raises(ValidationError):
        actions.set_priority(case, priority=9, by=agent)


def test_macro_fills_placeholders_in_subscriber_language(case: Case, agent, macro) -> None:
    text = actions.apply_macro(case, macro=macro, by=agent)
    assert "Мария Петровна" in text and "Домашний 500" in text and case.reference in text
    case.subscriber.preferred_language = "en"
    case.subscriber.save()
    assert actions.apply_macro(case, macro=macro, by=agent).startswith("Hello, Мария Петровна!")


def test_workload_counter_follows_assignment_status_and_merge(case: Case, agent, supervisor, subscriber) -> None:
    from beskontakt.cases import workload

    def load(user) -> int:
        user.refresh_from_db()
        return user.open_cases

    assert load(agent) == 1  # auto-assigned on opening
    actions.resolve(case, by=agent)
    assert load(agent) == 0
    actions.reopen(case, by=agent)
    assert load(agent) == 1
    actions.assign(case, to=supervisor, by=supervisor)
    assert (load(agent), load(supervisor)) == (0, 1)
    dup = actions.open_case(subject="Дубль", subscriber=subscriber)
    actions.assign(dup, to=supervisor, by=supervisor)
    assert load(supervisor) == 2
    actions.merge(dup, into=case, by=supervisor)
    assert load(supervisor) == 1
    # The recount agrees with what the actions kept.
    assert workload.recount() == 0
    type(agent).objects.filter(pk=agent.pk).update(open_cases=7)
    assert workload.recount() == 1 and load(agent) == 0
