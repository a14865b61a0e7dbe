"""The billing adapter: an idempotent import of the operator's billing data.

Tariffs are keyed by code, subscribers by contract number, equipment by serial
number, addresses by all their parts, contacts by channel and normalised value,
subscriptions by tariff and start date. Importing the same file twice changes
nothing; a changed row updates what changed; a bad row is rejected with its
row number, the field and what is wrong, and every good row still imports.

Rows are handled in batches: one query per batch fetches what exists, and
``bulk_create``/``bulk_update`` write the differences, so 100,000 rows take a
few hundred queries rather than a few hundred thousand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..actions import validate_contact
from ..models import Address, Channel, ContactPoint, District, Equipment, Subscriber, Subscription, Tariff
from . import fields as f
from .formats import (
    ADDRESS_FIELDS,
    KINDS,
    SUBSCRIBER_FIELDS,
    TARIFF_COLUMNS,
    BillingFileError,
    Source,
    csv_subscriber_to_record,
    read_file,
)
from .report import ImportReport

if TYPE_CHECKING:
    from beskontakt.accounts.models import User

BATCH_SIZE = 1000
PRICE_LIMIT = Decimal("10") ** 8  # Tariff.monthly_price: max_digits=10
BALANCE_LIMIT = Decimal("10") ** 10  # Subscriber.balance: max_digits=12
SUBSCRIBER_SCALARS = tuple(k for k in SUBSCRIBER_FIELDS if k != "contract_number")
JSON_SUBSCRIBER_KEYS = {*SUBSCRIBER_FIELDS, "address", "contacts", "subscriptions", "equipment"}
BALANCE_KEYS = {"contract_number", "balance", "billing_status"}

AddressKey = tuple[int, str, str, str, int | None, str]


@dataclass
class AddressData:
    district: str
    okrug: str
    street: str
    building: str
    entrance: str
    floor: int | None
    apartment: str


@dataclass
class SubscriberRow:
    """A checked subscriber record: only the parts the file gave are set."""

    row: int
    contract: str
    values: dict[str, Any]
    address: AddressData | None = None
    address_given: bool = False
    contacts: list[tuple[str, str, str, bool, bool]] = field(default_factory=list)
    subscriptions: list[tuple[str, dt.date, str, dt.date | None]] = field(default_factory=list)
    equipment: list[dict[str, Any]] = field(default_factory=list)


def _object(value: Any, field_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise f.RowError(field_name, _("expected an object"))
    return value


def _list(value: Any, field_name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise f.RowError(field_name, _("expected a list"))
    return value


def _no_unknown_keys(record: dict[str, Any], allowed: set[str] | Sequence[str], prefix: str = "") -> None:
    for key in record:
        if key not in allowed:
            raise f.RowError(prefix + str(key), _("unknown field; allowed: %(keys)s") % {"keys": ", ".join(allowed)})


class Billing:
    """Imports tariffs, subscribers and balances from the operator's billing exports.

    Usage: ``Billing(actor=user).import_file("subscribers.csv")`` returns an
    :class:`ImportReport`. ``dry_run=True`` checks and counts everything, then
    rolls back. See ``docs/billing-import.md`` for the file formats.
    """

    def __init__(self, actor: User | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.actor = actor
        self.batch_size = batch_size

    # -- entry points ------------------------------------------------------

    def import_file(
        self,
        path: str | Path,
        *,
        format: str | None = None,
        kind: str | None = None,
        dry_run: bool = False,
        audit: bool = True,
    ) -> ImportReport:
        """Import one file and (unless ``audit=False``) write an audit entry with the counts.

        Raises :class:`BillingFileError` if the file as a whole is unusable.
        """
        source = read_file(path, format=format, kind=kind)
        report = self.import_source(source, dry_run=dry_run)
        if audit:
            self._audit(report, source)
        return report

    def import_source(self, source: Source, *, dry_run: bool = False) -> ImportReport:
        """Import already-read rows (all in one transaction; rolled back on ``dry_run``)."""
        if source.kind not in KINDS:
            raise BillingFileError(_("Unknown kind “%(kind)s”.") % {"kind": source.kind})
        report = ImportReport(kind=source.kind, source=source.name, dry_run=dry_run)
        handler = {
            "tariffs": self._import_tariffs,
            "subscribers": self._import_subscribers,
            "balances": self._import_balances,
        }[source.kind]
        with transaction.atomic():
            handler(source, report)
            if dry_run:
                transaction.set_rollback(True)
        return report

    def import_records(self, kind: str, records: Iterable[Any], *, dry_run: bool = False) -> ImportReport:
        """Import records shaped like the JSON format (rows are numbered from 1)."""
        source = Source(kind=kind, format="json", rows=list(enumerate(records, start=1)), name="records")
        return self.import_source(source, dry_run=dry_run)

    def _audit(self, report: ImportReport, source: Source) -> None:
        from beskontakt.accounts.models import AuditEntry

        AuditEntry.objects.create(
            actor=self.actor,
            action=AuditEntry.Action.BILLING_IMPORT,
            username=getattr(self.actor, "username", "") or "",
            details={
                "file": source.name,
                "kind": source.kind,
                "format": source.format,
                "dry_run": report.dry_run,
                **report.counts,
            },
        )

    # -- helpers -------------------------------------------------------------

    def _batches(self, rows: list[tuple[int, Any]]) -> Iterable[list[tuple[int, Any]]]:
        for start in range(0, len(rows), self.batch_size):
            yield rows[start : start + self.batch_size]

    @staticmethod
    def _raw_error(raw: Any) -> f.RowError | None:
        return raw if isinstance(raw, f.RowError) else None

    # -- tariffs -----------------------------------------------------------

    def _clean_tariff(self, raw: Any, fmt: str) -> dict[str, Any]:
        record = _object(raw, "*")
        _no_unknown_keys(record, TARIFF_COLUMNS)
        includes_raw = record.get("includes")
        if isinstance(includes_raw, str):
            includes = [c for c in includes_raw.replace(",", ";").replace(" ", ";").split(";") if c]
        else:
            includes = [str(c) for c in _list(includes_raw, "includes")]
        price = f.amount(record.get("monthly_price"), "monthly_price", PRICE_LIMIT)
        if price is None:
            raise f.RowError("monthly_price", _("this field is required"))
        return {
            "code": f.tariff_code(record.get("code"), "code"),
            "name": f.text(record.get("name"), "name", 150, required=True),
            "kind": f.choice(record.get("kind"), "kind", Tariff.Kind.values) or "",
            "monthly_price": price,
            "download_mbps": f.positive_int(record.get("download_mbps"), "download_mbps"),
            "upload_mbps": f.positive_int(record.get("upload_mbps"), "upload_mbps"),
            "tv_channels": f.positive_int(record.get("tv_channels"), "tv_channels"),
            "active": f.boolean(record.get("active"), "active", True),
            "includes": sorted({f.tariff_code(c, "includes") for c in includes}),
        }

    def _import_tariffs(self, source: Source, report: ImportReport) -> None:
        cleaned: list[tuple[int, dict[str, Any]]] = []
        seen: dict[str, int] = {}
        for row, raw in source.rows:
            try:
                if error := self._raw_error(raw):
                    raise error
                data = self._clean_tariff(raw, source.format)
                if not data["kind"]:
                    raise f.RowError("kind", _("this field is required"))
                if data["code"] in seen:
                    raise f.RowError("code", _("the code repeats row %(row)d") % {"row": seen[data["code"]]})
                seen[data["code"]] = row
                cleaned.append((row, data))
            except f.RowError as exc:
                report.reject(row, exc.field, exc.message, _key(raw, "code"))
        existing = {t.code: t for t in Tariff.objects.prefetch_related("includes")}
        known = set(existing) | set(seen)
        scalars = ("name", "kind", "monthly_price", "download_mbps", "upload_mbps", "tv_channels", "active")
        pending_includes: list[tuple[Tariff, list[str], bool]] = []
        for row, data in cleaned:
            unknown = [c for c in data["includes"] if c not in known]
            if unknown:
                report.reject(
                    row, "includes", _("unknown tariff codes: %(codes)s") % {"codes": ", ".join(unknown)}, data["code"]
                )
                continue
            tariff = existing.get(data["code"])
            created = tariff is None
            changed = False
            if tariff is None:
                tariff = Tariff(code=data["code"], **{k: data[k] for k in scalars})
                tariff.save()
                existing[tariff.code] = tariff
            else:
                diff = [k for k in scalars if getattr(tariff, k) != data[k]]
                if diff:
                    for k in diff:
                        setattr(tariff, k, data[k])
                    tariff.save(update_fields=diff)
                    changed = True
            pending_includes.append((tariff, data["includes"], created))
            (report.created if created else report.updated if changed else report.unchanged).append(tariff.code)
        # Bundles may name tariffs that come later in the file: link them last.
        for tariff, codes, created in pending_includes:
            current = sorted(t.code for t in tariff.includes.all()) if not created else []
            if current != codes:
                tariff.includes.set([existing[c] for c in codes])
                if not created and tariff.code in report.unchanged:
                    report.unchanged.remove(tariff.code)
                    report.updated.append(tariff.code)

    # -- subscribers -------------------------------------------------------

    def _clean_subscriber(self, row: int, raw: Any, fmt: str) -> SubscriberRow:
        if error := self._raw_error(raw):
            raise error
        record = csv_subscriber_to_record(raw) if fmt == "csv" else _object(raw, "*")
        _no_unknown_keys(record, JSON_SUBSCRIBER_KEYS)
        contract = f.contract(record.get("contract_number"))
        values: dict[str, Any] = {}
        text_limits = {"last_name": 100, "first_name": 100, "middle_name": 100, "company_name": 200}
        for key, limit in text_limits.items():
            if key in record:
                values[key] = f.text(record[key], key, limit)
        choices = {
            "kind": Subscriber.Kind.values,
            "segment": Subscriber.Segment.values,
            "preferred_language": [code for code, _label in settings.LANGUAGES],
            "preferred_channel": Channel.values,
            "billing_status": Subscriber.BillingStatus.values,
        }
        for key, allowed in choices.items():
            if key in record and (value := f.choice(record[key], key, allowed)) is not None:
                values[key] = value
        if "balance" in record and (balance := f.amount(record["balance"], "balance", BALANCE_LIMIT)) is not None:
            values["balance"] = balance
        result = SubscriberRow(row=row, contract=contract, values=values)
        if "address" in record:
            result.address_given = True
            result.address = self._clean_address(record["address"])
        if "contacts" in record:
            for n, item in enumerate(_list(record["contacts"], "contacts"), start=1):
                prefix = f"contacts[{n}]."
                item = _object(item, f"contacts[{n}]")
                _no_unknown_keys(item, ("channel", "value", "consent", "preferred"), prefix)
                channel = f.choice(item.get("channel"), prefix + "channel", Channel.values)
                if channel is None:
                    raise f.RowError(prefix + "channel", _("this field is required"))
                value = f.text(item.get("value"), prefix + "value", 200, required=True)
                try:
                    normalized = validate_contact(channel, value)
                except Exception as exc:  # ValidationError with a field-keyed message
                    message = getattr(exc, "message_dict", {}).get("value", [str(exc)])[0]
                    raise f.RowError(prefix + "value", f"“{value}”: {message}") from None
                consent = f.boolean(item.get("consent"), prefix + "consent", True)
                preferred = f.boolean(item.get("preferred"), prefix + "preferred", False)
                if all((channel, normalized) != (c[0], c[2]) for c in result.contacts):
                    result.contacts.append((channel, value, normalized, consent, preferred))
        if "subscriptions" in record:
            for n, item in enumerate(_list(record["subscriptions"], "subscriptions"), start=1):
                prefix = f"subscriptions[{n}]."
                item = _object(item, f"subscriptions[{n}]")
                _no_unknown_keys(item, ("tariff", "started_on", "status", "ended_on"), prefix)
                code = f.tariff_code(item.get("tariff"), prefix + "tariff")
                started = f.date(item.get("started_on"), prefix + "started_on")
                if started is None:
                    raise f.RowError(prefix + "started_on", _("this field is required"))
                status = f.choice(
                    item.get("status"), prefix + "status", Subscription.Status.values, Subscription.Status.ACTIVE
                )
                ended = f.date(item.get("ended_on"), prefix + "ended_on")
                if ended is not None and ended < started:
                    raise f.RowError(prefix + "ended_on", _("the end date is before the start date"))
                result.subscriptions.append((code, started, status or Subscription.Status.ACTIVE, ended))
        if "equipment" in record:
            for n, item in enumerate(_list(record["equipment"], "equipment"), start=1):
                prefix = f"equipment[{n}]."
                item = _object(item, f"equipment[{n}]")
                _no_unknown_keys(
                    item, ("kind", "vendor", "model", "serial_number", "mac_address", "installed_on"), prefix
                )
                kind = f.choice(item.get("kind"), prefix + "kind", Equipment.Kind.values)
                if kind is None:
                    raise f.RowError(prefix + "kind", _("this field is required"))
                result.equipment.append(
                    {
                        "kind": kind,
                        "vendor": f.text(item.get("vendor"), prefix + "vendor", 100),
                        "model": f.text(item.get("model"), prefix + "model", 100, required=True),
                        "serial_number": f.text(item.get("serial_number"), prefix + "serial_number", 64, required=True),
                        "mac_address": f.mac(item.get("mac_address"), prefix + "mac_address"),
                        "installed_on": f.date(item.get("installed_on"), prefix + "installed_on"),
                    }
                )
        return result

    @staticmethod
    def _clean_address(raw: Any) -> AddressData | None:
        if raw is None:
            return None
        data = _object(raw, "address")
        _no_unknown_keys(data, ADDRESS_FIELDS, "address.")
        street = f.text(data.get("street"), "street", 150)
        if not street:
            return None
        return AddressData(
            district=f.text(data.get("district"), "district", 100, required=True),
            okrug=f.text(data.get("okrug"), "okrug", 100),
            street=street,
            building=f.text(data.get("building"), "building", 20, required=True),
            entrance=f.text(data.get("entrance"), "entrance", 10),
            floor=f.small_int(data.get("floor"), "floor"),
            apartment=f.text(data.get("apartment"), "apartment", 10),
        )

    def _import_subscribers(self, source: Source, report: ImportReport) -> None:
        tariffs = dict(Tariff.objects.values_list("code", "id"))
        districts = {d.name: d for d in District.objects.all()}
        seen_contracts: dict[str, int] = {}
        seen_serials: dict[str, int] = {}
        for batch in self._batches(source.rows):
            rows: list[SubscriberRow] = []
            for row, raw in batch:
                try:
                    item = self._clean_subscriber(row, raw, source.format)
                    if item.contract in seen_contracts:
                        raise f.RowError(
                            "contract_number",
                            _("the contract number repeats row %(row)d") % {"row": seen_contracts[item.contract]},
                        )
                    for n, sub in enumerate(item.subscriptions, start=1):
                        if sub[0] not in tariffs:
                            raise f.RowError(
                                f"subscriptions[{n}].tariff", _("unknown tariff code “%(code)s”") % {"code": sub[0]}
                            )
                    for n, eq in enumerate(item.equipment, start=1):
                        other = seen_serials.get(eq["serial_number"])
                        if other is not None:
                            raise f.RowError(
                                f"equipment[{n}].serial_number",
                                _("serial number “%(serial)s” repeats row %(row)d")
                                % {"serial": eq["serial_number"], "row": other},
                            )
                except f.RowError as exc:
                    report.reject(row, exc.field, exc.message, _key(raw, "contract_number"))
                    continue
                seen_contracts[item.contract] = row
                for eq in item.equipment:
                    seen_serials[eq["serial_number"]] = row
                rows.append(item)
            if rows:
                self._save_subscriber_batch(rows, tariffs, districts, report)

    def _resolve_addresses(self, rows: list[SubscriberRow], districts: dict[str, District]) -> dict[int, Address]:
        """Find or create the address of every row that gives one; keyed by row number."""
        wanted = [r for r in rows if r.address is not None]
        if not wanted:
            return {}
        for r in wanted:
            assert r.address is not None
            district = districts.get(r.address.district)
            if district is None:
                district = District.objects.create(name=r.address.district, okrug=r.address.okrug)
                districts[district.name] = district
            elif r.address.okrug and district.okrug != r.address.okrug:
                district.okrug = r.address.okrug
                district.save(update_fields=["okrug"])

        def key_of(a: AddressData) -> AddressKey:
            return (districts[a.district].pk, a.street, a.building, a.entrance, a.floor, a.apartment)

        streets = {r.address.street for r in wanted if r.address}
        buildings = {r.address.building for r in wanted if r.address}
        found: dict[AddressKey, Address] = {}
        for address in Address.objects.filter(street__in=streets, building__in=buildings).order_by("-pk"):
            found[
                (
                    address.district_id,
                    address.street,
                    address.building,
                    address.entrance,
                    address.floor,
                    address.apartment,
                )
            ] = address
        new: dict[AddressKey, Address] = {}
        for r in wanted:
            assert r.address is not None
            key = key_of(r.address)
            if key not in found and key not in new:
                new[key] = Address(
                    district=districts[r.address.district],
                    street=r.address.street,
                    building=r.address.building,
                    entrance=r.address.entrance,
                    floor=r.address.floor,
                    apartment=r.address.apartment,
                )
        if new:
            Address.objects.bulk_create(list(new.values()), batch_size=self.batch_size)
            found.update(new)
        result = {}
        for r in wanted:
            assert r.address is not None
            address = found[key_of(r.address)]
            address.district = districts[r.address.district]
            result[r.row] = address
        return result

    def _save_subscriber_batch(
        self,
        rows: list[SubscriberRow],
        tariffs: dict[str, int],
        districts: dict[str, District],
        report: ImportReport,
    ) -> None:
        now = timezone.now()
        addresses = self._resolve_addresses(rows, districts)
        existing = {
            s.contract_number: s
            for s in Subscriber.objects.filter(contract_number__in=[r.contract for r in rows]).select_related(
                "address__district"
            )
        }
        to_create: list[Subscriber] = []
        to_update: list[Subscriber] = []
        changed: set[str] = set()
        subscribers: dict[str, Subscriber] = {}
        for r in rows:
            sub = existing.get(r.contract)
            if sub is None:
                sub = Subscriber(contract_number=r.contract, created_at=now, updated_at=now, **r.values)
                if r.address_given:
                    sub.address = addresses.get(r.row)
                sub.search_text = sub.build_search_text()
                to_create.append(sub)
            else:
                dirty = False
                for key, value in r.values.items():
                    if getattr(sub, key) != value:
                        setattr(sub, key, value)
                        dirty = True
                if r.address_given:
                    address = addresses.get(r.row)
                    if sub.address_id != (address.pk if address else None):
                        sub.address = address
                        dirty = True
                if dirty:
                    sub.updated_at = now
                    sub.search_text = sub.build_search_text()
                    to_update.append(sub)
                    changed.add(r.contract)
            subscribers[r.contract] = sub
        if to_create:
            Subscriber.objects.bulk_create(to_create, batch_size=self.batch_size)
        if to_update:
            Subscriber.objects.bulk_update(
                to_update,
                ["address", *SUBSCRIBER_SCALARS, "search_text", "updated_at"],
                batch_size=self.batch_size,
            )
        created_contracts = {s.contract_number for s in to_create}
        existing_ids = [s.pk for c, s in subscribers.items() if c not in created_contracts]
        changed |= self._sync_contacts(rows, subscribers, existing_ids)
        changed |= self._sync_subscriptions(rows, subscribers, existing_ids, tariffs)
        changed |= self._sync_equipment(rows, subscribers)
        for r in rows:
            if r.contract in created_contracts:
                report.created.append(r.contract)
            elif r.contract in changed:
                report.updated.append(r.contract)
            else:
                report.unchanged.append(r.contract)

    def _sync_contacts(
        self, rows: list[SubscriberRow], subscribers: dict[str, Subscriber], existing_ids: list[int]
    ) -> set[str]:
        """Add contacts the subscriber does not have yet (contacts are never removed or re-consented here)."""
        have = set(
            ContactPoint.objects.filter(subscriber_id__in=existing_ids).values_list(
                "subscriber_id", "channel", "normalized"
            )
        )
        preferred = set(
            ContactPoint.objects.filter(subscriber_id__in=existing_ids, preferred=True).values_list(
                "subscriber_id", flat=True
            )
        )
        new: list[ContactPoint] = []
        changed: set[str] = set()
        for r in rows:
            sub = subscribers[r.contract]
            for channel, value, normalized, consent, is_preferred in r.contacts:
                if (sub.pk, channel, normalized) in have:
                    continue
                take_preferred = is_preferred and sub.pk not in preferred
                if take_preferred:
                    preferred.add(sub.pk)
                new.append(
                    ContactPoint(
                        subscriber=sub,
                        channel=channel,
                        value=value,
                        normalized=ContactPoint.normalize(channel, value),
                        consent=consent,
                        preferred=take_preferred,
                    )
                )
                have.add((sub.pk, channel, normalized))
                changed.add(r.contract)
        if new:
            ContactPoint.objects.bulk_create(new, batch_size=self.batch_size)
        return changed

    def _sync_subscriptions(
        self,
        rows: list[SubscriberRow],
        subscribers: dict[str, Subscriber],
        existing_ids: list[int],
        tariffs: dict[str, int],
    ) -> set[str]:
        """Create subscriptions new to us; update status and end date of known ones."""
        have = {
            (s.subscriber_id, s.tariff_id, s.started_on): s
            for s in Subscription.objects.filter(subscriber_id__in=existing_ids)
        }
        new: list[Subscription] = []
        update: list[Subscription] = []
        changed: set[str] = set()
        for r in rows:
            sub = subscribers[r.contract]
            for code, started, status, ended in r.subscriptions:
                key = (sub.pk, tariffs[code], started)
                current = have.get(key)
                if current is None:
                    current = Subscription(
                        subscriber=sub, tariff_id=tariffs[code], started_on=started, status=status, ended_on=ended
                    )
                    new.append(current)
                    have[key] = current
                    changed.add(r.contract)
                elif (current.status, current.ended_on) != (status, ended):
                    current.status, current.ended_on = status, ended
                    if current.pk is not None:
                        update.append(current)
                    changed.add(r.contract)
        if new:
            Subscription.objects.bulk_create(new, batch_size=self.batch_size)
        if update:
            Subscription.objects.bulk_update(update, ["status", "ended_on"], batch_size=self.batch_size)
        return changed

    def _sync_equipment(self, rows: list[SubscriberRow], subscribers: dict[str, Subscriber]) -> set[str]:
        """Create equipment by serial number, or move/update a known serial to match the file."""
        serials = [eq["serial_number"] for r in rows for eq in r.equipment]
        if not serials:
            return set()
        have = {e.serial_number: e for e in Equipment.objects.filter(serial_number__in=serials)}
        new: list[Equipment] = []
        update: list[Equipment] = []
        changed: set[str] = set()
        columns = ("kind", "vendor", "model", "mac_address", "installed_on")
        for r in rows:
            sub = subscribers[r.contract]
            for eq in r.equipment:
                current = have.get(eq["serial_number"])
                if current is None:
                    new.append(Equipment(subscriber=sub, **eq))
                    changed.add(r.contract)
                    continue
                dirty = current.subscriber_id != sub.pk
                for key in columns:
                    if getattr(current, key) != eq[key]:
                        setattr(current, key, eq[key])
                        dirty = True
                if dirty:
                    current.subscriber = sub
                    update.append(current)
                    changed.add(r.contract)
        if new:
            Equipment.objects.bulk_create(new, batch_size=self.batch_size)
        if update:
            Equipment.objects.bulk_update(update, ["subscriber", *columns], batch_size=self.batch_size)
        return changed

    # -- balances ----------------------------------------------------------

    def _import_balances(self, source: Source, report: ImportReport) -> None:
        seen: dict[str, int] = {}
        now = timezone.now()
        for batch in self._batches(source.rows):
            cleaned: list[tuple[int, str, Decimal, str | None]] = []
            for row, raw in batch:
                try:
                    if error := self._raw_error(raw):
                        raise error
                    record = _object(raw, "*")
                    _no_unknown_keys(record, BALANCE_KEYS)
                    contract = f.contract(record.get("contract_number"))
                    balance = f.amount(record.get("balance"), "balance", BALANCE_LIMIT)
                    if balance is None:
                        raise f.RowError("balance", _("this field is required"))
                    status = f.choice(record.get("billing_status"), "billing_status", Subscriber.BillingStatus.values)
                    if contract in seen:
                        raise f.RowError(
                            "contract_number", _("the contract number repeats row %(row)d") % {"row": seen[contract]}
                        )
                    seen[contract] = row
                    cleaned.append((row, contract, balance, status))
                except f.RowError as exc:
                    report.reject(row, exc.field, exc.message, _key(raw, "contract_number"))
            existing = {
                s.contract_number: s
                for s in Subscriber.objects.filter(contract_number__in=[c[1] for c in cleaned]).only(
                    "id", "contract_number", "balance", "billing_status", "updated_at"
                )
            }
            update: list[Subscriber] = []
            for row, contract, balance, status in cleaned:
                sub = existing.get(contract)
                if sub is None:
                    report.reject(row, "contract_number", _("no subscriber has this contract number"), contract)
                    continue
                new_status = status or sub.billing_status
                if sub.balance == balance and sub.billing_status == new_status:
                    report.unchanged.append(contract)
                    continue
                sub.balance, sub.billing_status, sub.updated_at = balance, new_status, now
                update.append(sub)
                report.updated.append(contract)
            if update:
                Subscriber.objects.bulk_update(
                    update, ["balance", "billing_status", "updated_at"], batch_size=self.batch_size
                )


def _key(raw: Any, name: str) -> str:
    """The natural key of a raw row, for the report (empty if there is none)."""
    if isinstance(raw, dict):
        value = raw.get(name)
        if isinstance(value, str | int):
            return str(value).strip()[:40]
    return ""
