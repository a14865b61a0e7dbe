"""The subscriber's pages: the overview, declared restrictions, requests with photos, callbacks."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from beskontakt.cases import actions as case_actions
from beskontakt.cases.models import Attachment, Case, Category, Message
from beskontakt.cases.tests.files import EXE, HTML, JPEG, PNG, upload
from beskontakt.inbox.models import CallbackRequest
from beskontakt.subscribers.models import AccessRestriction, Equipment, Subscriber, SubscriberEvent

pytestmark = pytest.mark.django_db


def _token(page: Any) -> str:
    found = re.search(r'name="token" value="([0-9a-f]{32})"', page.content.decode())
    assert found
    return found.group(1)


# --- overview ---------------------------------------------------------------------------


def test_overview_shows_services_balance_equipment_and_restrictions(
    portal_client: Client, subscriber: Subscriber
) -> None:
    Subscriber.objects.filter(pk=subscriber.pk).update(balance=Decimal("-120.00"), billing_status="blocked_debt")
    Equipment.objects.create(
        subscriber=subscriber, kind="router", vendor="TP-Link", model="Archer C6", serial_number="SN1"
    )
    AccessRestriction.objects.create(subscriber=subscriber, kind="no_entry", reason="Пожилой абонент")
    page = portal_client.get("/my/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Домашний 500" in text
    assert 'data-balance="-120.00"' in text
    assert 'id="billing-status"' in text
    assert "Archer C6" in text
    assert 'data-kind="no_entry"' in text
    assert "Пожилой абонент" not in text  # the staff's reason is not shown to the subscriber
    assert "data-lift=" not in text  # staff-recorded: the subscriber cannot lift it


def test_overview_lists_own_cases_only(portal_client: Client, case: Case, other_subscriber: Subscriber) -> None:
    other = case_actions.open_case(subject="Чужое обращение", subscriber=other_subscriber, body="x")
    text = portal_client.get("/my/").content.decode()
    assert f'data-case="{case.pk}"' in text
    assert f'data-case="{other.pk}"' not in text
    assert "Чужое обращение" not in text


def test_overview_shows_outages_for_the_address(portal_client: Client, subscriber: Subscriber) -> None:
    from beskontakt.incidents.models import Outage, OutageBuilding
    from beskontakt.subscribers.models import District

    assert subscriber.address is not None
    now = timezone.now()
    here = Outage.objects.create(title="Авария на узле Хамовники", starts_at=now - timedelta(hours=1))
    here.districts.add(subscriber.address.district)
    building = Outage.objects.create(title="Работы в доме 16", starts_at=now + timedelta(days=1))
    OutageBuilding.objects.create(outage=building, street=subscriber.address.street, building="16")
    elsewhere = Outage.objects.create(title="Авария в Митино", starts_at=now)
    elsewhere.districts.add(District.objects.create(name="Митино"))
    Outage.objects.create(title="Прошедшая авария", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1))
    text = portal_client.get("/my/").content.decode()
    assert "Авария на узле Хамовники" in text
    assert "Работы в доме 16" in text
    assert "Авария в Митино" not in text
    assert "Прошедшая авария" not in text


# --- declared restrictions ---------------------------------------------------------------


def test_declaring_quarantine_contactless_only(portal_client: Client, subscriber: Subscriber) -> None:
    until = timezone.localdate() + timedelta(days=14)
    assert portal_client.get("/my/restrictions/new/").status_code == 200
    response = portal_client.post(
        "/my/restrictions/new/",
        {"kind": "quarantine", "valid_until": until.isoformat(), "contactless": "on", "note": "Звоните заранее"},
    )
    assert response.status_code == 302
    kinds = set(subscriber.restrictions.values_list("kind", flat=True))
    assert kinds == {"quarantine", "contactless_only"}
    quarantine = subscriber.restrictions.get(kind="quarantine")
    assert quarantine.valid_until == until
    assert quarantine.is_active_at()
    assert "Звоните заранее" in quarantine.reason
    assert SubscriberEvent.objects.filter(subscriber=subscriber, kind="restriction_recorded").count() == 2
    text = portal_client.get("/my/").content.decode()
    assert 'data-kind="quarantine"' in text and f'data-lift="{quarantine.pk}"' in text


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"kind": "quarantine", "valid_until": ""}, "Give the date your quarantine or self-isolation ends."),
        ({"kind": "quarantine", "valid_until": "2001-01-01"}, "The date is in the past"),
        ({"kind": "quarantine", "valid_until": "not-a-date"}, "Enter a date"),
        ({"kind": "vulnerable", "valid_until": ""}, "valid choice"),
    ],
)
def test_declaring_with_bad_input(portal_client: Client, subscriber: Subscriber, data: dict, text: str) -> None:
    response = portal_client.post("/my/restrictions/new/", data)
    assert response.status_code == 400
    assert not subscriber.restrictions.exists()
    page = response.content.decode()
    assert 'class="p-errors"' in page and text in page


def test_declaring_too_far_ahead(portal_client: Client, subscriber: Subscriber) -> None:
    until = timezone.localdate() + timedelta(days=400)
    response = portal_client.post("/my/restrictions/new/", {"kind": "self_isolation", "valid_until": until.isoformat()})
    assert response.status_code == 400
    assert not subscriber.restrictions.exists()


def test_lifting_own_declaration_but_not_staff_records(portal_client: Client, subscriber: Subscriber) -> None:
    portal_client.post("/my/restrictions/new/", {"kind": "contactless_only", "valid_until": ""})
    own = subscriber.restrictions.get()
    staff = AccessRestriction.objects.create(subscriber=subscriber, kind="no_entry", reason="Со слов соседа")
    assert portal_client.post(f"/my/restrictions/{own.pk}/lift/").status_code == 302
    own.refresh_from_db()
    assert own.lifted_at is not None
    response = portal_client.post(f"/my/restrictions/{staff.pk}/lift/")
    assert response.status_code == 400
    staff.refresh_from_db()
    assert staff.lifted_at is None


def test_cannot_lift_another_subscribers_restriction(portal_client: Client, other_subscriber: Subscriber) -> None:
    theirs = AccessRestriction.objects.create(
        subscriber=other_subscriber, kind="quarantine", reason="Заявлено абонентом в личном кабинете"
    )
    assert portal_client.post(f"/my/restrictions/{theirs.pk}/lift/").status_code == 400
    theirs.refresh_from_db()
    assert theirs.lifted_at is None


# --- requests ----------------------------------------------------------------------------


def test_opening_a_case_with_a_photo(portal_client: Client, subscriber: Subscriber, category: Category) -> None:
    page = portal_client.get("/my/cases/new/")
    assert page.status_code == 200
    assert ">No internet<" in page.content.decode()  # the category in the page's language
    assert ">Нет интернета<" in portal_client.get("/my/cases/new/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    token = _token(page)
    data = {
        "token": token,
        "category": category.pk,
        "description": "Роутер мигает красным\nПерезагружала — не помогло",
        "photos": [upload("роутер.jpg", JPEG, "image/jpeg"), upload("кабель.png", PNG, "image/png")],
    }
    response = portal_client.post("/my/cases/new/", data)
    assert response.status_code == 302
    case = Case.objects.get(subscriber=subscriber)
    assert response["Location"] == f"/my/cases/{case.pk}/"
    assert case.channel == "portal" and case.category == category and case.queue == category.default_queue
    message = case.messages.get()
    assert message.direction == "in" and message.channel == "portal"
    assert sorted(a.filename for a in message.attachments.all()) == ["кабель.png", "роутер.jpg"]
    # Sending the same form again (a double click) opens no second case.
    data["photos"] = [upload("роутер.jpg", JPEG, "image/jpeg")]
    assert portal_client.post("/my/cases/new/", data)["Location"] == f"/my/cases/{case.pk}/"
    assert Case.objects.filter(subscriber=subscriber).count() == 1
    page = portal_client.get(f"/my/cases/{case.pk}/").content.decode()
    assert "Роутер мигает красным" in page and "роутер.jpg" in page


def test_disguised_file_is_refused_with_a_message(portal_client: Client, subscriber: Subscriber) -> None:
    token = _token(portal_client.get("/my/cases/new/"))
    response = portal_client.post(
        "/my/cases/new/",
        {"token": token, "description": "Фото", "photos": [upload("photo.jpg", EXE, "image/jpeg")]},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "photo.jpg" in text
    assert not Case.objects.filter(subscriber=subscriber).exists()
    assert not Attachment.objects.exists()


def test_too_many_photos_refused(portal_client: Client, subscriber: Subscriber) -> None:
    token = _token(portal_client.get("/my/cases/new/"))
    photos = [upload(f"p{i}.jpg", JPEG, "image/jpeg") for i in range(6)]
    response = portal_client.post("/my/cases/new/", {"token": token, "description": "x", "photos": photos})
    assert response.status_code == 400
    assert not Case.objects.filter(subscriber=subscriber).exists()


def test_case_needs_a_description_and_a_form_token(portal_client: Client, subscriber: Subscriber) -> None:
    assert portal_client.post("/my/cases/new/", {"token": "a" * 32, "description": " "}).status_code == 400
    assert portal_client.post("/my/cases/new/", {"token": "bad", "description": "Нет сети"}).status_code == 400
    assert not Case.objects.filter(subscriber=subscriber).exists()


def test_case_page_shows_messages_not_internal_notes(portal_client: Client, case: Case, agent: Any) -> None:
    case_actions.add_note(case, by=agent, body="ВНУТРЕННЯЯ ЗАМЕТКА: абонент конфликтный")
    case_actions.reply(case, by=agent, body="Проверили линию, перезагрузите роутер.")
    page = portal_client.get(f"/my/cases/{case.pk}/")
    text = page.content.decode()
    assert "Проверили линию" in text
    assert "С утра не работает интернет" in text
    assert "ВНУТРЕННЯЯ ЗАМЕТКА" not in text
    # The page refreshes its message list through htmx.
    partial = portal_client.get(f"/my/cases/{case.pk}/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert "ВНУТРЕННЯЯ ЗАМЕТКА" not in partial.content.decode()


def test_replying_on_own_case(portal_client: Client, case: Case, subscriber: Subscriber) -> None:
    case_actions.change_status(case, to="resolved", by=None)
    token = _token(portal_client.get(f"/my/cases/{case.pk}/"))
    data = {"token": token, "body": "Опять не работает", "photos": [upload("led.gif", b"GIF89a" + b"\x00" * 20)]}
    response = portal_client.post(f"/my/cases/{case.pk}/message/", data)
    assert response.status_code == 302
    message = case.messages.filter(channel="portal").get()
    assert message.body == "Опять не работает" and message.attachments.count() == 1
    case.refresh_from_db()
    assert case.status == "open"  # the subscriber's message reopened it
    data["photos"] = []
    portal_client.post(f"/my/cases/{case.pk}/message/", data)
    assert case.messages.filter(channel="portal").count() == 1  # the same form twice: one message


def test_reply_errors(portal_client: Client, case: Case) -> None:
    token = _token(portal_client.get(f"/my/cases/{case.pk}/"))
    response = portal_client.post(f"/my/cases/{case.pk}/message/", {"token": token, "body": ""})
    assert response.status_code == 400
    response = portal_client.post(
        f"/my/cases/{case.pk}/message/", {"token": token, "body": "x", "photos": [upload("a.png", HTML, "image/png")]}
    )
    assert response.status_code == 400
    assert "a.png" in response.content.decode()
    assert case.messages.count() == 1


# --- callbacks ---------------------------------------------------------------------------


def _window(hours_ahead: float, minutes: int = 60) -> dict[str, str]:
    start = timezone.localtime() + timedelta(hours=hours_ahead)
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    if end.date() != start.date():  # keep the window inside one day
        start = (start + timedelta(days=1)).replace(hour=10, minute=0)
        end = start + timedelta(minutes=minutes)
    return {"day": start.date().isoformat(), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}


def test_callback_form_is_prefilled_and_creates_a_request(portal_client: Client, subscriber: Subscriber) -> None:
    page = portal_client.get("/my/callback/")
    assert page.status_code == 200
    assert "+7 (495) 123-45-67" in page.content.decode()
    response = portal_client.post("/my/callback/", {"phone": "+7 916 111-22-33", "topic": "Тариф", **_window(2)})
    assert response.status_code == 302
    callback = CallbackRequest.objects.get(subscriber=subscriber)
    assert callback.phone == "+79161112233"
    assert response["Location"] == f"/my/cases/{callback.case_id}/"
    assert callback.window_end - callback.window_start == timedelta(minutes=60)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({**_window(-3)}, "end"),  # already over
        ({**_window(2, minutes=15)}, "end"),  # shorter than 30 minutes
        ({**_window(24 * 9)}, "day"),  # more than 7 days ahead
        ({"start": "25:00"}, "start"),
        ({"day": "вчера"}, "day"),
    ],
)
def test_callback_form_validation(portal_client: Client, subscriber: Subscriber, change: dict, field: str) -> None:
    data = {"phone": "+7 916 111-22-33", **_window(2), **change}
    response = portal_client.post("/my/callback/", data)
    assert response.status_code == 400
    assert not CallbackRequest.objects.exists()
    text = response.content.decode()
    assert re.search(rf'<label for="id_{field}">.*?</label>.*?class="p-errors"', text, re.S), text[-3000:]


def test_end_before_start(portal_client: Client) -> None:
    data = {"phone": "+7 916 111-22-33", **_window(3)}
    data["start"], data["end"] = data["end"], data["start"]
    assert portal_client.post("/my/callback/", data).status_code == 400
    assert not Message.objects.exists()
