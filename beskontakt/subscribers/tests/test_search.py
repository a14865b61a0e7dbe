"""Subscriber search by contract, phone, name in any order and address (on both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from beskontakt.conftest import make_subscriber
from beskontakt.subscribers.models import Address, Channel, ContactPoint, District, Subscriber
from beskontakt.subscribers.search import search_subscribers

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db: Any) -> dict[str, Subscriber]:
    petr = make_subscriber("77001234", last_name="Иванов", first_name="Пётр", middle_name="Сергеевич")
    district = District.objects.create(name="Тверской", okrug="ЦАО")
    petr.address = Address.objects.create(district=district, street="ул. Тверская", building="12", apartment="5")
    petr.save()
    anna = make_subscriber("77005678", last_name="Смирнова", first_name="Анна", middle_name="Ивановна")
    ContactPoint.objects.filter(subscriber=anna).update(value="+7 916 555-44-33", normalized="79165554433")
    company = Subscriber.objects.create(contract_number="Ю-1001", kind="company", company_name="ООО «Ёлка»")
    ContactPoint.objects.create(subscriber=company, channel=Channel.PHONE, value="84951112233")
    return {"petr": petr, "anna": anna, "company": company}


def contracts(query: str, **kwargs: Any) -> list[str]:
    return [s.contract_number for s in search_subscribers(query, **kwargs)]


def test_contract_exact_and_prefix(people: Any) -> None:
    assert contracts("77001234") == ["77001234"]
    assert contracts("7700") == ["77001234", "77005678"]
    assert contracts("Ю-1001") == ["Ю-1001"]


@pytest.mark.parametrize("query", ["+7 (916) 555-44-33", "89165554433", "9165554433", "79165554433", "555-44-33"])
def test_phone_any_format(people: Any, query: str) -> None:
    assert contracts(query) == ["77005678"]


def test_phone_shared_number(people: Any) -> None:
    # make_subscriber gives Пётр the phone +7 (495) 123-45-67.
    assert contracts("8 495 123 45 67") == ["77001234"]
    assert contracts("+7 495 111-22-33") == ["Ю-1001"]


@pytest.mark.parametrize("query", ["иванов пётр", "Пётр Иванов", "ПЕТР иванов", "иванов петр сергеевич"])
def test_name_any_order_and_yo(people: Any, query: str) -> None:
    assert contracts(query) == ["77001234"]


def test_address(people: Any) -> None:
    assert contracts("тверская 12") == ["77001234"]
    assert contracts("Тверская, 12") == ["77001234"]
    assert contracts("тверская 99") == []
    assert contracts("тверск 12") == ["77001234"]  # word beginnings
    assert contracts("верская") == ["77001234"]  # mid-word, one word


def test_company_with_yo(people: Any) -> None:
    assert contracts("елка") == ["Ю-1001"]
    assert contracts("ёлка") == ["Ю-1001"]


def test_search_text_is_folded(people: Any) -> None:
    people["petr"].refresh_from_db()
    assert "петр" in people["petr"].search_text and "ё" not in people["petr"].search_text


def test_empty_and_limit(people: Any) -> None:
    assert contracts("") == [] and contracts("   ") == []
    assert len(contracts("7700", limit=1)) == 1
    # a word in both Анна's patronymic (Ивановна) and Пётр's surname (Иванов)
    assert set(contracts("иванов")) == {"77001234", "77005678"}


def test_wildcards_are_literal(people: Any) -> None:
    assert contracts("%") == []
    assert contracts("_") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only")
def test_trigram_indexes_exist() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname IN ('subscriber_search_trgm', 'contact_normalized_trgm')"
        )
        assert {row[0] for row in cursor.fetchall()} == {"subscriber_search_trgm", "contact_normalized_trgm"}


@pytest.mark.django_db
def test_building_number_is_matched_whole_not_as_contract_prefix() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("word-start matching is the PostgreSQL full-text path; SQLite matches substrings")
    wrong = make_subscriber("10555555", last_name="Орлова")
    right = make_subscriber("20777777", last_name="Зайцева")
    Address.objects.filter(pk=wrong.address_id).update(street="ул. Тверская", building="7")
    Address.objects.filter(pk=right.address_id).update(street="ул. Тверская", building="10")
    for s in (wrong, right):
        s.refresh_from_db()
        s.save()  # rebuild search_text from the new address
    found = search_subscribers("ул. Тверская 10")
    assert right in found and wrong not in found
