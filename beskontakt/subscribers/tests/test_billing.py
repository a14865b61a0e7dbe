"""The billing import: real CSV and JSON files, idempotency, updates and rejections."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from beskontakt.accounts.models import AuditEntry
from beskontakt.subscribers.billing import Billing, BillingFileError, ImportReport
from beskontakt.subscribers.models import Address, ContactPoint, Equipment, Subscriber, Subscription, Tariff
from beskontakt.subscribers.search import search_subscribers

pytestmark = pytest.mark.django_db

TARIFFS_CSV = """code,name,kind,monthly_price,download_mbps,upload_mbps,tv_channels,active,includes
net-100,Домашний 100,internet,450.00,100,100,,1,
tv-base,Базовое ТВ,tv,"199,00",,,120,да,
combo,Комбо 100 + ТВ,bundle,590,100,100,120,1,net-100;tv-base
"""

SUBSCRIBERS_HEADER = (
    "contract_number,kind,last_name,first_name,middle_name,company_name,segment,billing_status,balance,"
    "district,okrug,street,building,entrance,floor,apartment,phones,emails,telegram,subscriptions,equipment"
)
ROW_IVANOV = (
    '77000001,person,Иванов,Пётр,Сергеевич,,mass,active,"-150,50",Тверской,ЦАО,ул. Тверская,12,2,5,45,'
    '"+7 (495) 123-45-67; 8 916 000-11-22",petr@example.ru,,net-100:2020-03-01;tv-base:01.04.2020:suspended,'
    "router|TP-Link|Archer C6|SN-0001|aa-bb-cc-dd-ee-01|2020-03-01;stb|Eltex|NV-501|SN-0002||"
)
ROW_COMPANY = (
    "Ю-2002,company,,,,ООО «Ромашка»,business,active,10000,Арбат,ЦАО,Арбат,1,,,,84951112233,,@romashka_office,"
    "combo:2021-01-15,ont|Huawei|HG8245H|SN-0003|AABB.CCDD.EE03|"
)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def tariffs_file(tmp_path: Path) -> Path:
    return write(tmp_path, "tariffs.csv", TARIFFS_CSV)


@pytest.fixture
def catalogue(tariffs_file: Path) -> None:
    Billing().import_file(tariffs_file)


def run(path: Path, **kwargs: Any) -> ImportReport:
    with translation.override("en"):
        return Billing().import_file(path, **kwargs)


def reasons(report: ImportReport) -> list[tuple[int, str]]:
    return [(r.row, r.field) for r in report.rejected]


# -- tariffs -------------------------------------------------------------------


def test_tariffs_create_then_idempotent_then_update(tariffs_file: Path, tmp_path: Path) -> None:
    report = run(tariffs_file)
    assert sorted(report.created) == ["combo", "net-100", "tv-base"] and report.ok
    combo = Tariff.objects.get(code="combo")
    assert sorted(t.code for t in combo.includes.all()) == ["net-100", "tv-base"]
    assert Tariff.objects.get(code="tv-base").monthly_price == Decimal("199.00")

    again = run(tariffs_file)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0}

    changed = write(tmp_path, "t2.csv", TARIFFS_CSV.replace("450.00", "499.90").replace("net-100;tv-base", "net-100"))
    report = run(changed)
    assert sorted(report.updated) == ["combo", "net-100"] and report.unchanged == ["tv-base"]
    assert Tariff.objects.get(code="net-100").monthly_price == Decimal("499.90")
    assert [t.code for t in Tariff.objects.get(code="combo").includes.all()] == ["net-100"]


def test_tariff_rejections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        "code,name,kind,monthly_price,includes\n"
        "ok-1,Хороший,internet,100,\n"
        "bad code!,Плохой,internet,100,\n"
        "bad-price,Плохой,internet,12.345,\n"
        "bad-kind,Плохой,radio,100,\n"
        "bad-incl,Плохой,bundle,100,nope\n"
        "ok-1,Повтор,internet,100,\n",
    )
    report = run(path)
    assert report.created == ["ok-1"]
    assert reasons(report) == [(3, "code"), (4, "monthly_price"), (5, "kind"), (7, "code"), (6, "includes")]
    assert "nope" in report.rejected[-1].message


# -- subscribers (CSV) ---------------------------------------------------------------


def test_subscribers_csv_create_idempotent_update(catalogue: None, tmp_path: Path) -> None:
    path = write(tmp_path, "subs.csv", "\n".join([SUBSCRIBERS_HEADER, ROW_IVANOV, ROW_COMPANY]) + "\n")
    report = run(path)
    assert report.ok, str(report)
    assert sorted(report.created) == ["77000001", "Ю-2002"]

    petr = Subscriber.objects.get(contract_number="77000001")
    assert petr.balance == Decimal("-150.50") and petr.address is not None
    assert (petr.address.street, petr.address.building, petr.address.floor) == ("ул. Тверская", "12", 5)
    assert petr.search_text == petr.build_search_text() and "петр" in petr.search_text
    assert set(petr.contacts.values_list("channel", "normalized")) == {
        ("phone", "74951234567"),
        ("phone", "79160001122"),
        ("email", "petr@example.ru"),
    }
    subs = {(s.tariff.code, s.status) for s in petr.subscriptions.select_related("tariff")}
    assert subs == {("net-100", "active"), ("tv-base", "suspended")}
    router = Equipment.objects.get(serial_number="SN-0001")
    assert router.mac_address == "AA:BB:CC:DD:EE:01" and router.subscriber == petr
    assert Equipment.objects.get(serial_number="SN-0003").mac_address == "AA:BB:CC:DD:EE:03"
    company = Subscriber.objects.get(contract_number="Ю-2002")
    assert company.contacts.get(channel="telegram").value == "@romashka_office"
    # search finds imported people (search_text was set by bulk_create)
    assert [s.contract_number for s in search_subscribers("иванов петр")] == ["77000001"]
    assert [s.contract_number for s in search_subscribers("+7 916 000 11 22")] == ["77000001"]

    counts = (Address.objects.count(), ContactPoint.objects.count(), Subscription.objects.count())
    again = run(path)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert (Address.objects.count(), ContactPoint.objects.count(), Subscription.objects.count()) == counts

    changed_row = (
        ROW_IVANOV.replace('"-150,50"', "0")
        .replace("ул. Тверская,12,2,5,45", "ул. Тверская,12,2,5,46")
        .replace("tv-base:01.04.2020:suspended", "tv-base:01.04.2020:ended:2020-06-01")
        .replace("SN-0002||", "SN-0002|aa:bb:cc:dd:ee:02|")
    )
    changed = write(tmp_path, "subs2.csv", "\n".join([SUBSCRIBERS_HEADER, changed_row, ROW_COMPANY]) + "\n")
    report = run(changed)
    assert report.updated == ["77000001"] and report.unchanged == ["Ю-2002"]
    petr.refresh_from_db()
    assert petr.balance == Decimal("0") and petr.address is not None and petr.address.apartment == "46"
    assert "46" in petr.search_text
    ended = petr.subscriptions.get(tariff__code="tv-base")
    assert ended.status == "ended" and str(ended.ended_on) == "2020-06-01"
    assert Equipment.objects.get(serial_number="SN-0002").mac_address == "AA:BB:CC:DD:EE:02"
    assert Subscription.objects.count() == counts[2]


def test_subscriber_rejections_with_reasons(catalogue: None, tmp_path: Path) -> None:
    bad_rows = [
        ROW_IVANOV,  # line 2: good
        ROW_IVANOV.replace("77000001", "77 000 02"),  # 3: bad contract
        ROW_IVANOV.replace("77000001", "77000003").replace("net-100:", "net-999:").replace("SN-000", "X3-"),  # 4
        ROW_IVANOV.replace("77000001", "77000004").replace('"-150,50"', "12.3.4").replace("SN-000", "X4-"),  # 5
        ROW_IVANOV.replace("77000001", "77000005").replace("2020-03-01;", "2020-02-30;").replace("SN-000", "X5-"),
        ROW_IVANOV.replace("77000001", "77000006").replace("aa-bb-cc-dd-ee-01", "aa-bb-cc").replace("SN-000", "X6-"),
        ROW_IVANOV.replace("77000001", "77000007"),  # 8: serial numbers repeat line 2
        ROW_IVANOV,  # 9: repeated contract
        ROW_COMPANY,  # 10: good
        ROW_COMPANY.replace("Ю-2002", "Ю-2003").replace("84951112233", "12345").replace("SN-0003", "X11"),
        "77000012,person,Too,Few",
    ]
    path = write(tmp_path, "mixed.csv", "\n".join([SUBSCRIBERS_HEADER, *bad_rows]) + "\n")
    report = run(path)
    assert sorted(report.created) == ["77000001", "Ю-2002"]
    assert reasons(report) == [
        (3, "contract_number"),
        (4, "subscriptions[1].tariff"),
        (5, "balance"),
        (6, "subscriptions[1].started_on"),
        (7, "equipment[1].mac_address"),
        (8, "equipment[1].serial_number"),
        (9, "contract_number"),
        (11, "contacts[1].value"),
        (12, "*"),
    ]
    by_row = {r.row: r for r in report.rejected}
    assert "net-999" in by_row[4].message
    assert "12.3.4" not in by_row[5].message or "amount" in by_row[5].message
    assert "2020-02-30" in by_row[6].message
    assert "aa-bb-cc" in by_row[7].message
    assert "repeats row 2" in by_row[9].message
    assert by_row[4].key == "77000003"
    with translation.override("en"):
        text = str(report)
    assert "rejected: 9" in text and "row 4 [77000003]" in text
    assert Subscriber.objects.count() == 2


def test_wrong_csv_header(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "contract,surname\n1,Иванов\n")
    with translation.override("en"), pytest.raises(BillingFileError) as exc:
        Billing().import_file(path, kind="subscribers")
    assert "contract" in str(exc.value) and "contract_number" in str(exc.value)


def test_semicolon_csv_with_bom(catalogue: None, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffcontract_number;last_name;balance\r\n88000001;Петров;1 000,00\r\n".encode())
    report = run(path)
    assert report.created == ["88000001"]
    assert Subscriber.objects.get().balance == Decimal("1000.00")


# -- subscribers (JSON) --------------------------------------------------------------


def subscriber_json(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "contract_number": "99000001",
        "last_name": "Кузнецова",
        "first_name": "Алёна",
        "address": {"district": "Арбат", "street": "Арбат", "building": "10", "apartment": "7", "floor": 2},
        "contacts": [{"channel": "phone", "value": "+7 903 111-22-33", "preferred": True, "consent": False}],
        "subscriptions": [{"tariff": "net-100", "started_on": "2022-02-01"}],
        "equipment": [
            {"kind": "router", "vendor": "Keenetic", "model": "Viva", "serial_number": "KN-1", "mac_address": ""}
        ],
    }
    record.update(changes)
    return record


def test_subscribers_json(catalogue: None, tmp_path: Path) -> None:
    doc = {
        "kind": "subscribers",
        "records": [
            subscriber_json(),
            subscriber_json(contract_number="99000002", equipment=[], balance="bad"),
            "not an object",
            subscriber_json(contract_number="99000003", equipment=[], hobby="fishing"),
        ],
    }
    path = write(tmp_path, "subs.json", json.dumps(doc, ensure_ascii=False))
    report = run(path)
    assert report.created == ["99000001"]
    assert reasons(report) == [(2, "balance"), (3, "*"), (4, "hobby")]
    contact = ContactPoint.objects.get()
    assert contact.consent is False and contact.preferred and contact.normalized == "79031112233"
    assert run(path).counts == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 3}
    # moving a device to another contract updates both sides
    doc["records"] = [subscriber_json(contract_number="99000004")]
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert run(path).created == ["99000004"]
    assert Equipment.objects.get(serial_number="KN-1").subscriber.contract_number == "99000004"


def test_malformed_json(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.json", '{"kind": "subscribers", "records": [{"contract_number": "1",]}')
    with translation.override("en"), pytest.raises(BillingFileError) as exc:
        Billing().import_file(path)
    assert "line 1" in str(exc.value) and "column" in str(exc.value)
    path = write(tmp_path, "nokind.json", "[]")
    with pytest.raises(BillingFileError):
        Billing().import_file(path)
    path = write(tmp_path, "wrongkind.json", '{"kind": "tariffs", "records": []}')
    with pytest.raises(BillingFileError):
        Billing().import_file(path, kind="balances")


# -- balances ------------------------------------------------------------------------


def test_balances(subscriber: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "balances.csv",
        "contract_number,balance,billing_status\n77001234,-99.90,blocked_debt\n00000000,10,\n77001234,5,\n,5,\n",
    )
    report = run(path)
    assert report.updated == ["77001234"]
    assert reasons(report) == [(4, "contract_number"), (5, "contract_number"), (3, "contract_number")]
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("-99.90") and subscriber.billing_status == "blocked_debt"
    assert run(path).unchanged == ["77001234"]
    json_path = write(tmp_path, "balances.json", json.dumps([{"contract_number": "77001234", "balance": 12.5}]))
    report = run(json_path, kind="balances")
    assert report.updated == ["77001234"]
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("12.50") and subscriber.billing_status == "blocked_debt"


# -- the command -----------------------------------------------------------------------


def test_command_dry_run_and_audit(catalogue: None, tmp_path: Path, capsys: Any) -> None:
    path = write(tmp_path, "subs.csv", "\n".join([SUBSCRIBERS_HEADER, ROW_IVANOV]) + "\n")
    with translation.override("en"):
        call_command("import_billing", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "created: 1" in out and "dry run" in out
    assert not Subscriber.objects.exists()
    with translation.override("en"):
        call_command("import_billing", str(path), "--format", "csv", "--kind", "subscribers")
    assert Subscriber.objects.count() == 1
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.BILLING_IMPORT).first()
    assert entry is not None and entry.details["created"] == 1 and entry.details["dry_run"] is False
    assert entry.details["file"] == "subs.csv"


def test_command_reports_file_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "x.json", "{nope")
    with pytest.raises(CommandError):
        call_command("import_billing", str(path))
    with pytest.raises(CommandError):
        call_command("import_billing", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError):
        call_command("import_billing", str(write(tmp_path, "x.txt", "")))


def test_batches_are_independent_of_size(catalogue: None, tmp_path: Path) -> None:
    rows = [
        f"7{n:07d},person,Фамилия{n},Имя,,,mass,active,{n},Арбат,,Арбат,{n % 7},,,{n},"
        f"+7 900 {n:07d},,,net-100:2020-01-01,router|V|M|S-{n}||"
        for n in range(1, 251)
    ]
    path = write(tmp_path, "many.csv", "\n".join([SUBSCRIBERS_HEADER, *rows]) + "\n")
    with translation.override("en"):
        report = Billing(batch_size=64).import_file(path)
    assert len(report.created) == 250 and report.ok
    assert Address.objects.count() == 250 and Equipment.objects.count() == 250
    with translation.override("en"):
        assert Billing(batch_size=1000).import_file(path).counts["unchanged"] == 250
