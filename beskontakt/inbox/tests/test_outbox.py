"""The transactional outbox: written with the change, delivered with retries, outcome shown on the case."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from beskontakt.cases import actions
from beskontakt.cases.models import Case, Event, Message
from beskontakt.inbox import outbox
from beskontakt.inbox.models import OutboundMessage
from beskontakt.inbox.notifiers import notifier_for
from beskontakt.subscribers.actions import add_contact, set_contact_consent
from beskontakt.subscribers.models import Subscriber

Status = OutboundMessage.Status


class Gateway(ThreadingHTTPServer):
    """A local SMS gateway speaking the JSON contract of ``notifiers/sms.py``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), GatewayHandler)
        self.requests: list[dict[str, Any]] = []
        self.by_key: dict[str, str] = {}
        self.fail_with: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/send"


class GatewayHandler(BaseHTTPRequestHandler):
    server: Gateway

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers.get("Idempotency-Key", "")
        self.server.requests.append({"body": body, "key": key, "auth": self.headers.get("Authorization")})
        if self.server.fail_with:
            status = self.server.fail_with.pop(0)
            self._answer(status, {"error": "refused"})
            return
        message_id = self.server.by_key.setdefault(key, f"sms-{len(self.server.by_key) + 1}")
        self._answer(202, {"id": message_id})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway(settings: Any) -> Iterator[Gateway]:
    server = Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_GATEWAY_URL = server.url
    settings.SMS_GATEWAY_TOKEN = "secret-token"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def phone_case(case: Case, subscriber: Subscriber) -> Case:
    add_contact(subscriber, channel="sms", value="+7 916 555-11-22")
    Case.objects.filter(pk=case.pk).update(channel="sms")
    case.refresh_from_db()
    return case


def test_reply_is_written_to_the_outbox_in_the_same_transaction(phone_case: Case, agent: Any) -> None:
    message = actions.reply(phone_case, by=agent, body="Проверили линию, всё в порядке.")
    item = OutboundMessage.objects.get(message=message)
    assert item.status == Status.PENDING
    assert item.address == "+7 916 555-11-22"
    assert item.kind == OutboundMessage.Kind.REPLY


def test_a_rolled_back_reply_leaves_nothing_in_the_outbox(phone_case: Case, agent: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.reply(phone_case, by=agent, body="Ответ, который не уйдёт")
        raise RuntimeError("the change failed")
    assert not OutboundMessage.objects.exists()
    assert not Message.objects.filter(direction="out").exists()


def test_delivery_marks_the_item_and_the_case_message(phone_case: Case, agent: Any, gateway: Gateway) -> None:
    message = actions.reply(phone_case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=message)
    assert outbox.deliver(item.pk) == Status.DELIVERED
    item.refresh_from_db()
    message.refresh_from_db()
    assert item.provider_id == "sms-1" and item.delivered_at is not None
    assert message.delivery == Message.Delivery.DELIVERED
    sent = gateway.requests[0]
    assert sent["key"] == item.key and sent["auth"] == "Bearer secret-token"
    assert sent["body"] == {"to": "+79165551122", "text": "Ответ", "client_ref": item.key}
    # Delivering again is a no-op: nothing is due.
    assert outbox.deliver(item.pk) is None
    assert len(gateway.requests) == 1


def test_temporary_failures_back_off_then_succeed(phone_case: Case, agent: Any, gateway: Gateway) -> None:
    gateway.fail_with = [503, 429]
    message = actions.reply(phone_case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=message)
    assert outbox.deliver(item.pk) == Status.PENDING
    item.refresh_from_db()
    assert item.attempts == 1 and "503" in item.last_error
    assert item.next_attempt_at > timezone.now() + timedelta(seconds=10)
    assert outbox.deliver(item.pk) is None  # not due yet
    OutboundMessage.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    assert outbox.deliver(item.pk) == Status.PENDING
    OutboundMessage.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
    assert outbox.deliver(item.pk) == Status.DELIVERED
    item.refresh_from_db()
    assert item.attempts == 3


def test_a_permanent_failure_is_shown_on_the_case(phone_case: Case, agent: Any, gateway: Gateway) -> None:
    gateway.fail_with = [400]
    message = actions.reply(phone_case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=message)
    assert outbox.deliver(item.pk) == Status.FAILED
    message.refresh_from_db()
    assert message.delivery == Message.Delivery.FAILED
    assert "400" in message.delivery_error
    event = Event.objects.get(case=phone_case, kind=Event.Kind.DELIVERY_FAILED)
    assert "400" in event.data["reason"]


def test_giving_up_after_the_last_attempt(phone_case: Case, agent: Any, gateway: Gateway) -> None:
    gateway.fail_with = [500] * outbox.MAX_ATTEMPTS
    message = actions.reply(phone_case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=message)
    for _ in range(outbox.MAX_ATTEMPTS):
        OutboundMessage.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now())
        status = outbox.deliver(item.pk)
    assert status == Status.FAILED
    item.refresh_from_db()
    assert "Gave up" in item.last_error or "Отказались" in item.last_error or item.attempts == outbox.MAX_ATTEMPTS


def test_a_dead_workers_item_comes_back_after_its_lease(phone_case: Case, agent: Any, gateway: Gateway) -> None:
    message = actions.reply(phone_case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=message)
    # A worker claimed it and died before recording the outcome.
    OutboundMessage.objects.filter(pk=item.pk).update(
        status=Status.SENDING, attempts=1, next_attempt_at=timezone.now() + outbox.lease()
    )
    assert item.pk not in outbox.due_ids()
    OutboundMessage.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.due_ids() == [item.pk]
    assert outbox.deliver(item.pk) == Status.DELIVERED


def test_opt_out_suppresses_with_the_reason(phone_case: Case, agent: Any, subscriber: Subscriber) -> None:
    for contact in subscriber.contacts.filter(channel__in=["sms", "phone"]):
        set_contact_consent(contact, False)
    message = actions.reply(phone_case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=message)
    assert item.status == Status.SUPPRESSED
    message.refresh_from_db()
    assert message.delivery == Message.Delivery.FAILED
    assert message.delivery_error == item.last_error != ""


def test_no_address_is_a_visible_suppression(case: Case, agent: Any) -> None:
    Case.objects.filter(pk=case.pk).update(channel="email")
    case.refresh_from_db()
    message = actions.reply(case, by=agent, body="Ответ")
    item = OutboundMessage.objects.get(message=message)
    assert item.status == Status.SUPPRESSED and item.address == ""


def test_unknown_sender_is_answered_where_they_wrote_from(db: Any, agent: Any) -> None:
    message, _created = actions.receive_message(
        channel="email", external_id="<x1@example.org>", body="Нет интернета", sender="neznakomec@example.org"
    )
    reply = actions.reply(message.case, by=agent, body="Назовите номер договора")
    assert OutboundMessage.objects.get(message=reply).address == "neznakomec@example.org"


def test_same_key_is_one_item(subscriber: Subscriber) -> None:
    with transaction.atomic():
        first = outbox.notify(subscriber, body="Плановые работы", key="outage:1", channel="portal")
        again = outbox.notify(subscriber, body="Плановые работы", key="outage:1", channel="portal")
    assert first.pk == again.pk
    assert OutboundMessage.objects.count() == 1


def test_notices_follow_preferences_and_consent(subscriber: Subscriber) -> None:
    Subscriber.objects.filter(pk=subscriber.pk).update(preferred_channel="")
    subscriber.refresh_from_db()
    assert outbox.preferred_channel(subscriber) == "sms"  # the fixture has a phone number
    subscriber.contacts.all().delete()
    assert outbox.preferred_channel(subscriber) == "portal"
    add_contact(subscriber, channel="email", value="maria@example.org")
    assert outbox.preferred_channel(subscriber) == "email"
    telegram = add_contact(subscriber, channel="telegram", value="100200300")
    assert outbox.preferred_channel(subscriber) == "telegram"
    set_contact_consent(telegram, False)
    assert outbox.preferred_channel(subscriber) == "email"
    Subscriber.objects.filter(pk=subscriber.pk).update(preferred_channel="portal")
    subscriber.refresh_from_db()
    assert outbox.preferred_channel(subscriber) == "portal"


def test_portal_delivery_needs_no_provider(case: Case, agent: Any) -> None:
    Case.objects.filter(pk=case.pk).update(channel="chat")
    case.refresh_from_db()
    message = actions.reply(case, by=agent, body="Здравствуйте!")
    item = OutboundMessage.objects.get(message=message)
    assert item.address == f"subscriber:{case.subscriber_id}"
    assert outbox.deliver(item.pk) == Status.DELIVERED


def test_demo_writes_unconfigured_channels_to_files(settings: Any, tmp_path: Any, subscriber: Subscriber) -> None:
    settings.OUTBOX_FILE_DIR = str(tmp_path)
    settings.EMAIL_HOST = ""
    add_contact(subscriber, channel="email", value="maria@example.org")
    item = outbox.notify(subscriber, body="Код: 123456", key="code:demo", channel="email")
    assert type(notifier_for("email")).__name__ == "FileNotifier"
    assert outbox.deliver(item.pk) == Status.DELIVERED
    written = json.loads((tmp_path / "code_demo.json").read_text())
    assert written["to"] == "maria@example.org" and written["text"] == "Код: 123456"


def test_unconfigured_sms_fails_clearly(settings: Any, subscriber: Subscriber) -> None:
    settings.SMS_GATEWAY_URL = ""
    settings.OUTBOX_FILE_DIR = ""
    add_contact(subscriber, channel="sms", value="+79165551122")
    item = outbox.notify(subscriber, body="Текст", key="n:1", channel="sms")
    assert outbox.deliver(item.pk) == Status.FAILED
    item.refresh_from_db()
    assert "not configured" in item.last_error


def test_the_case_page_shows_why_a_delivery_failed(phone_case: Case, agent: Any, gateway: Gateway, client: Any) -> None:
    from beskontakt.accounts.testing import login_verified

    gateway.fail_with = [400]
    message = actions.reply(phone_case, by=agent, body="Ответ")
    outbox.deliver(OutboundMessage.objects.get(message=message).pk)
    login_verified(client, agent)
    page = client.get(f"/cases/{phone_case.pk}/").content.decode()
    assert 'data-delivery="failed"' in page and 'class="delivery-error"' in page and "400" in page


def test_a_refusing_address_withdraws_consent(subscriber: Subscriber, monkeypatch: Any) -> None:
    from beskontakt.inbox import notifiers

    class Blocked:
        def send(self, item: OutboundMessage) -> str:
            raise notifiers.AddressRefused("Forbidden: bot was blocked by the user")

    contact = add_contact(subscriber, channel="telegram", value="100200300")
    monkeypatch.setattr(outbox, "notifier_for", lambda channel: Blocked())
    item = outbox.notify(subscriber, body="Авария устранена", key="n:blocked", channel="telegram")
    assert outbox.deliver(item.pk) == Status.FAILED
    contact.refresh_from_db()
    assert contact.consent is False
    assert outbox.preferred_channel(subscriber) != "telegram"
