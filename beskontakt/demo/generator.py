"""The streaming generator of a demo operator's subscribers, cases and messages.

Every random decision comes from one ``random.Random(seed)`` and the rows are
produced in a fixed order, so the same seed, size and anchor give the same
rows on any database. Primary keys are assigned here (from the ``start_ids``
the loader found free), which lets the loader write each table with COPY or
``bulk_create`` without reading anything back.

Rows are plain dicts keyed by model attribute names (``subscriber_id``), in
chunks of a few thousand subscribers with everything that belongs to them, so
memory stays bounded at any size.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from beskontakt.subscribers.models import Address, ContactPoint, Subscriber

from .config import CategoryInfo, DemoConfig
from .people import (
    Person,
    WeightedChoice,
    company_email,
    draw_building,
    draw_company,
    draw_email,
    draw_landline,
    draw_mobile,
    draw_person,
    draw_telegram,
)
from .words import catalogue, places, texts

Row = dict[str, Any]
Chunk = dict[str, list[Row]]

# Write order: a table only refers to tables before it.
TABLES = (
    "address",
    "subscriber",
    "contact",
    "subscription",
    "equipment",
    "restriction",
    "case",
    "message",
    "event",
    "clock",
)

MOSCOW = ZoneInfo("Europe/Moscow")
HISTORY_DAYS = 548  # cases spread over the last 18 months
ACTIVE_WINDOW_HOURS = 72  # active cases were opened in the last three days


@dataclass(frozen=True)
class Size:
    """How much to generate: subscribers and the mean cases and messages per case."""

    subscribers: int
    cases_per_subscriber: float
    messages_per_case: float
    full_events: bool
    chunk: int = 2000
    active_share: float = 0.07


SIZES = {
    "demo": Size(5000, 1.6, 3.15, full_events=True, chunk=1000),
    "operator": Size(1_000_000, 3.0, 3.34, full_events=False, chunk=5000),
}


@dataclass
class Staff:
    """User ids the generator attributes work to."""

    agents: list[int]  # assignees and authors of replies
    recorders: list[int]  # who records access restrictions
    names: dict[int, str] = field(default_factory=dict)  # id -> display name


def draw_count(rng: random.Random, mean: float, minimum: int = 0) -> int:
    """A whole number with the given mean and some spread (mean kept exactly in expectation)."""
    base = int(mean)
    spread = min(base - minimum, 2)
    jitter = rng.randint(-spread, spread) if spread > 0 else 0
    return base + jitter + (1 if rng.random() < mean - base else 0)


def bijective_hex(index: int, digits: int) -> str:
    """A random-looking but unique hex string for ``index`` (multiplication by an odd constant)."""
    modulus = 16**digits
    return f"{(index * 0x9E3779B1 + 0x5BD1E995) % modulus:0{digits}X}"


class OperatorGenerator:
    """Generates subscribers and their history in chunks (see module docstring)."""

    def __init__(
        self,
        *,
        seed: int,
        size: Size,
        config: DemoConfig,
        staff: Staff,
        anchor: datetime,
        start_ids: dict[str, int],
    ) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.config = config
        self.staff = staff
        self.anchor = anchor
        self.today = anchor.astimezone(MOSCOW).date()
        self.next_id = dict(start_ids)
        self.equipment_serial = start_ids.get("equipment", 1)
        self.contract_base = 10_000_000
        self.tariffs = config.tariffs
        self._districts = config.districts
        self._category = WeightedChoice([(c, c.weight) for c in config.categories])
        self._categories_by_code = {c.code: c for c in config.categories}
        self._channel = WeightedChoice(
            [("phone", 30), ("chat", 14), ("portal", 14), ("telegram", 18), ("email", 18), ("sms", 6)]
        )
        self._preferred = WeightedChoice(
            [("phone", 35), ("telegram", 20), ("email", 15), ("portal", 15), ("chat", 10), ("sms", 5)]
        )
        self._internet = WeightedChoice([("inet-100", 18), ("inet-300", 30), ("inet-500", 32), ("inet-1000", 20)])
        self._tv = WeightedChoice([("tv-basic", 55), ("tv-extended", 30), ("tv-premium", 15)])
        self._cinema = WeightedChoice([("cinema", 60), ("cinema-premiere", 25), ("cinema-kids", 15)])
        self._restriction = WeightedChoice(
            [("quarantine", 35), ("self_isolation", 15), ("no_entry", 15), ("contactless_only", 20), ("vulnerable", 15)]
        )
        self._active_status = WeightedChoice(
            [("new", 30), ("open", 40), ("waiting_subscriber", 20), ("waiting_field", 10)]
        )
        self._equipment = {
            kind: WeightedChoice([(m, m[4]) for m in models]) for kind, models in catalogue.EQUIPMENT.items()
        }

    # -- helpers -------------------------------------------------------------
    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def chunks(self) -> Iterator[Chunk]:
        """Yield the rows of every table, ``size.chunk`` subscribers at a time."""
        total = self.size.subscribers
        for start in range(0, total, self.size.chunk):
            chunk: Chunk = {table: [] for table in TABLES}
            for index in range(start, min(start + self.size.chunk, total)):
                self._subscriber(index, chunk)
            yield chunk

    @staticmethod
    def _search_text(sub: Row, address: Row) -> str:
        """What ``Subscriber.save()`` would store in ``search_text`` (computed by the model itself)."""
        instance = Subscriber(**sub)
        instance.address = Address(**address)
        return instance.build_search_text()

    # -- subscribers ----------------------------------------------------------
    def _subscriber(self, index: int, chunk: Chunk) -> None:
        rng = self.rng
        person = draw_person(rng)
        is_company = rng.random() < 0.045
        company = draw_company(rng, person) if is_company else ""
        segment = "business" if is_company else ("vip" if rng.random() < 0.02 else "mass")

        address = self._address(rng, is_company)
        chunk["address"].append(address)
        created = self.anchor - timedelta(days=rng.uniform(30, 4200))
        sub_id = self._id("subscriber")
        balance = (
            Decimal(rng.randint(-80000, 350000)) / 100 if rng.random() < 0.06 else Decimal(rng.randint(0, 300000)) / 100
        )
        if balance < 0:
            billing = "blocked_debt"
        else:
            roll = rng.random()
            billing = "suspended" if roll < 0.01 else ("terminated" if roll < 0.015 else "active")
        sub: Row = {
            "id": sub_id,
            "contract_number": f"{self.contract_base + index + 1:08d}",
            "kind": "company" if is_company else "person",
            "last_name": person.last_name,
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "company_name": company,
            "address_id": address["id"],
            "segment": segment,
            "preferred_language": "en" if rng.random() < 0.02 else "ru",
            "preferred_channel": self._preferred(rng),
            "balance": balance,
            "billing_status": billing,
            "portal_user_id": None,
            "created_at": created,
            "updated_at": created,
        }
        sub["search_text"] = self._search_text(sub, address)
        chunk["subscriber"].append(sub)
        self._contacts(rng, sub, person, company, chunk)
        tariff_codes = self._subscriptions(rng, sub, chunk)
        self._equipment_rows(rng, sub, tariff_codes, chunk)
        if rng.random() < 0.035:
            self._restriction_row(rng, sub_id, chunk)
        n_cases = draw_count(rng, self.size.cases_per_subscriber)
        for _ in range(n_cases):
            self._case(rng, sub, person, tariff_codes, chunk)

    def _address(self, rng: random.Random, is_company: bool) -> Row:
        district_id, okrug = rng.choice(self._districts)
        street = rng.choice(places.STREETS[okrug])
        building = draw_building(rng)
        if is_company:
            return {
                "id": self._id("address"),
                "district_id": district_id,
                "street": street,
                "building": building,
                "entrance": "",
                "floor": rng.randint(1, 4),
                "apartment": f"оф. {rng.randint(1, 40)}" if rng.random() < 0.7 else "",
            }
        floors = rng.choice((5, 9, 9, 12, 14, 17, 17, 22, 25))
        entrance = rng.randint(1, 8)
        floor = rng.randint(1, floors)
        apartment = (entrance - 1) * floors * 4 + (floor - 1) * 4 + rng.randint(1, 4)
        return {
            "id": self._id("address"),
            "district_id": district_id,
            "street": street,
            "building": building,
            "entrance": str(entrance),
            "floor": floor,
            "apartment": str(apartment),
        }

    def _contacts(self, rng: random.Random, sub: Row, person: Person, company: str, chunk: Chunk) -> None:
        created = sub["created_at"]
        preferred = sub["preferred_channel"]
        values: list[tuple[str, str]] = [("phone", draw_mobile(rng))]
        if company or rng.random() < 0.2:
            values.append(("phone", draw_landline(rng)))
        if company:
            values.append(("email", company_email(company, sub["id"])))
        elif rng.random() < 0.65:
            values.append(("email", draw_email(rng, person, sub["id"] % 10000)))
        if not company and rng.random() < 0.3:
            values.append(("telegram", draw_telegram(rng, person, sub["id"])))
        seen_preferred = False
        for channel, value in values:
            is_preferred = not seen_preferred and (
                channel == preferred or (channel == "phone" and preferred in ("sms", "portal", "chat"))
            )
            seen_preferred = seen_preferred or is_preferred
            chunk["contact"].append(
                {
                    "id": self._id("contact"),
                    "subscriber_id": sub["id"],
                    "channel": channel,
                    "value": value,
                    "normalized": ContactPoint.normalize(channel, value),
                    "consent": rng.random() < 0.93,
                    "consent_changed_at": created,
                    "preferred": is_preferred,
                }
            )

    def _subscriptions(self, rng: random.Random, sub: Row, chunk: Chunk) -> list[str]:
        started: date = sub["created_at"].astimezone(MOSCOW).date()
        codes: list[str] = []
        if sub["segment"] == "business":
            codes.append("biz-500" if rng.random() < 0.35 else "biz-100")
        elif rng.random() < 0.22:
            codes.append("bundle-1000-all" if rng.random() < 0.35 else "bundle-500-tv")
        else:
            codes.append(self._internet(rng))
            if rng.random() < 0.4:
                codes.append(self._tv(rng))
        if sub["segment"] != "business" and rng.random() < 0.15 and codes[0] != "bundle-1000-all":
            codes.append(self._cinema(rng))
        status = {"active": "active", "blocked_debt": "suspended", "suspended": "suspended"}.get(
            sub["billing_status"], "ended"
        )
        if rng.random() < 0.12 and codes[0].startswith("inet-") and codes[0] != "inet-100":
            # An earlier, slower plan the subscriber moved up from.
            switched = started + timedelta(days=rng.randint(30, max(31, (self.today - started).days - 1)))
            chunk["subscription"].append(
                {
                    "id": self._id("subscription"),
                    "subscriber_id": sub["id"],
                    "tariff_id": self.tariffs["inet-100"][0],
                    "status": "ended",
                    "started_on": started,
                    "ended_on": min(switched, self.today),
                }
            )
            started = min(switched, self.today)
        for code in codes:
            chunk["subscription"].append(
                {
                    "id": self._id("subscription"),
                    "subscriber_id": sub["id"],
                    "tariff_id": self.tariffs[code][0],
                    "status": status,
                    "started_on": started,
                    "ended_on": self.today if status == "ended" else None,
                }
            )
        return codes

    def _equipment_rows(self, rng: random.Random, sub: Row, codes: list[str], chunk: Chunk) -> None:
        installed = sub["created_at"].astimezone(MOSCOW).date()
        kinds = ["ont"] if rng.random() < 0.45 else ["router"]
        if kinds == ["ont"] and rng.random() < 0.3:
            kinds.append("router")
        tv = any(c.startswith(("tv-", "bundle-")) for c in codes)
        if tv:
            kinds.extend(["stb"] * (2 if rng.random() < 0.2 else 1))
        for kind in kinds:
            vendor, model, prefix, oui, _ = self._equipment[kind](rng)
            serial_index = self.equipment_serial
            self.equipment_serial += 1
            mac_tail = bijective_hex(serial_index, 6)
            chunk["equipment"].append(
                {
                    "id": self._id("equipment"),
                    "subscriber_id": sub["id"],
                    "kind": kind,
                    "vendor": vendor,
                    "model": model,
                    "serial_number": f"{prefix}{bijective_hex(serial_index, 8)}",
                    "mac_address": f"{oui}:{mac_tail[0:2]}:{mac_tail[2:4]}:{mac_tail[4:6]}",
                    "installed_on": installed,
                }
            )

    def _restriction_row(self, rng: random.Random, sub_id: int, chunk: Chunk) -> None:
        kind = self._restriction(rng)
        today = self.today
        until: date | None
        if kind == "quarantine":
            start = today - timedelta(days=rng.randint(0, 10))
            until = start + timedelta(days=14)
            if rng.random() < 0.25:  # an old quarantine, long over
                start -= timedelta(days=rng.randint(60, 400))
                until = start + timedelta(days=14)
        elif kind == "self_isolation":
            start = today - timedelta(days=rng.randint(0, 60))
            until = start + timedelta(days=rng.randint(14, 90)) if rng.random() < 0.7 else None
        else:
            start = today - timedelta(days=rng.randint(0, 700))
            until = None if rng.random() < 0.8 else start + timedelta(days=rng.randint(30, 365))
        recorded = datetime(start.year, start.month, start.day, 10, tzinfo=MOSCOW) + timedelta(
            minutes=rng.randint(0, 600)
        )
        lifted = None
        lifted_by = None
        if until is None and rng.random() < 0.08:
            lifted = min(recorded + timedelta(days=rng.randint(5, 120)), self.anchor)
            lifted_by = rng.choice(self.staff.recorders) if self.staff.recorders else None
        chunk["restriction"].append(
            {
                "id": self._id("restriction"),
                "subscriber_id": sub_id,
                "kind": kind,
                "valid_from": start,
                "valid_until": until,
                "reason": rng.choice(texts.RESTRICTION_REASONS[kind]),
                "recorded_by_id": rng.choice(self.staff.recorders) if self.staff.recorders else None,
                "recorded_at": recorded,
                "lifted_at": lifted,
                "lifted_by_id": lifted_by,
            }
        )

    # -- cases ----------------------------------------------------------------
    def _case(self, rng: random.Random, sub: Row, person: Person, codes: list[str], chunk: Chunk) -> None:
        category: CategoryInfo = self._category(rng)
        if category.code == "remote-workplace" and sub["segment"] != "business" and rng.random() < 0.5:
            category = self._categories_by_code["equipment-setup"]
        queue_id = self.config.queues["business"] if sub["segment"] == "business" else category.queue_id
        priority = category.priority
        roll = rng.random()
        if roll < 0.08:
            priority = min(4, priority + 1)
        elif roll < 0.16:
            priority = max(1, priority - 1)
        if sub["segment"] in ("business", "vip") and priority < 4 and rng.random() < 0.3:
            priority += 1
        channel = self._channel(rng)
        case_id = self._id("case")
        active = rng.random() < self.size.active_share
        if active:
            created = self.anchor - timedelta(minutes=10, hours=ACTIVE_WINDOW_HOURS * rng.random() ** 1.5)
            status = self._active_status(rng)
        else:
            created = self.anchor - timedelta(days=rng.uniform(3, HISTORY_DAYS))
            status = "done"
        policy = self.config.policy_for(priority, sub["segment"])
        assignee = (
            rng.choice(self.staff.agents) if self.staff.agents and (status != "new" or rng.random() < 0.3) else None
        )

        # Message plan: directions alternate from the subscriber's first message.
        n = draw_count(rng, self.size.messages_per_case, minimum=1)
        if status == "new":
            n = min(n, 2)
            directions = ["in"] * n
        else:
            n = max(n, 2)
            directions = ["in" if i % 2 == 0 else "out" for i in range(n)]
            if status in ("waiting_subscriber", "waiting_field") and directions[-1] == "in":
                directions.append("out")
        available = max((self.anchor - created).total_seconds() - 60, 60.0)
        gaps = [0.0] + [
            rng.uniform(120, 3 * 3600) if i == 1 else rng.uniform(600, 20 * 3600) for i in range(1, len(directions))
        ]
        total = sum(gaps)
        if total > available * 0.95:
            scale = available * 0.95 / total
            gaps = [g * scale for g in gaps]
        times: list[datetime] = []
        moment = created
        for gap in gaps:
            moment += timedelta(seconds=gap)
            times.append(moment)

        first_response_at = times[directions.index("out")] if "out" in directions else None
        last_out = max((t for t, d in zip(times, directions, strict=True) if d == "out"), default=None)
        resolved_at = closed_at = None
        final_status = status
        if status == "done":
            # The resolution is the last reply; a final subscriber message is their thanks.
            resolved_at = last_out
            assert resolved_at is not None
            if self.anchor - resolved_at > timedelta(days=5):
                final_status = "closed"
                closed_at = resolved_at + timedelta(days=rng.uniform(3, 5))
            else:
                final_status = "resolved"

        names = self.staff.names
        agent_name = names.get(assignee, "") if assignee else ""
        is_company = sub["kind"] == "company"
        greeting = f"Здравствуйте, {person.polite}!" if not is_company or rng.random() < 0.5 else "Добрый день!"
        subject = rng.choice(texts.SUBJECTS[category.code])
        ref = f"#{case_id}"
        fill = {
            "greeting": greeting,
            "agent": agent_name or "служба поддержки",
            "tariff": self.tariffs[codes[0]][1],
            "contract": sub["contract_number"],
            "balance": f"{sub['balance']:.2f}".replace(".", ","),
            "case": ref,
        }
        sender_in = self._sender(channel, sub, chunk)
        messages = chunk["message"]
        last_inbound = created
        message_ids: list[tuple[int, str, datetime]] = []
        for i, (direction, at) in enumerate(zip(directions, times, strict=True)):
            msg_id = self._id("message")
            if direction == "in":
                if i == 0:
                    body = rng.choice(texts.FIRST_MESSAGES[category.code])
                elif final_status in ("resolved", "closed") and i == len(directions) - 1:
                    body = rng.choice(texts.THANKS)
                else:
                    body = rng.choice(texts.FOLLOW_UPS)
                last_inbound = at
                row = {
                    "id": msg_id,
                    "case_id": case_id,
                    "direction": "in",
                    "channel": channel,
                    "external_id": None if channel == "phone" else f"demo-{case_id}-{i}",
                    "author_id": None,
                    "sender": sender_in,
                    "body": body,
                    "delivery": "received",
                    "delivery_error": "",
                    "created_at": at,
                }
            else:
                if at == first_response_at:
                    template = rng.choice(texts.FIRST_REPLIES[category.code])
                elif at == resolved_at:
                    template = rng.choice(texts.RESOLUTIONS)
                else:
                    template = rng.choice(texts.AGENT_FOLLOW_UPS)
                failed = channel in ("email", "sms") and rng.random() < 0.01
                row = {
                    "id": msg_id,
                    "case_id": case_id,
                    "direction": "out",
                    "channel": channel,
                    "external_id": None,
                    "author_id": assignee,
                    "sender": agent_name,
                    "body": template.format(**fill),
                    "delivery": "failed" if failed else "delivered",
                    "delivery_error": "550 mailbox unavailable" if failed else "",
                    "created_at": at,
                }
            messages.append(row)
            message_ids.append((msg_id, direction, at))

        last_activity = max(times[-1], closed_at or times[-1])
        case: Row = {
            "id": case_id,
            "subject": subject,
            "subscriber_id": sub["id"],
            "status": final_status,
            "priority": priority,
            "category_id": category.id,
            "channel": channel,
            "queue_id": queue_id,
            "assignee_id": assignee,
            "parent_id": None,
            "merged_into_id": None,
            "sla_policy_id": policy.id if policy else None,
            "sla_state": "none",
            "next_due_at": None,
            "created_at": created,
            "updated_at": last_activity,
            "first_response_at": first_response_at,
            "last_inbound_at": last_inbound,
            "resolved_at": resolved_at,
            "closed_at": closed_at,
        }
        if policy is not None:
            if final_status in ("resolved", "closed"):
                met = first_response_at is not None and (first_response_at - created).total_seconds() <= (
                    policy.first_response_minutes * 60
                )
                case["sla_state"] = "met" if met else "breached"
            else:
                self._clocks(case, policy, times[-1], chunk)
        chunk["case"].append(case)
        self._events(rng, case, message_ids, assignee, chunk)

    def _sender(self, channel: str, sub: Row, chunk: Chunk) -> str:
        """The subscriber's address on the case channel (their contact, or their name)."""
        wanted = {"sms": "phone", "phone": "phone", "email": "email", "telegram": "telegram"}.get(channel)
        if wanted:
            for contact in reversed(chunk["contact"]):
                if contact["subscriber_id"] != sub["id"]:
                    break
                if contact["channel"] == wanted:
                    return str(contact["value"])
        return sub["company_name"] or f"{sub['last_name']} {sub['first_name']}"

    def _clocks(self, case: Row, policy: Any, last_message_at: datetime, chunk: Chunk) -> None:
        """SLA clocks of an active case, consistent with its status and messages."""
        created: datetime = case["created_at"]
        clocks = chunk["clock"]
        running_due: list[tuple[datetime, datetime]] = []

        def clock(kind: str, target_minutes: int) -> Row:
            target = target_minutes * 60
            due = created + timedelta(seconds=target)
            warn = created + timedelta(seconds=target * policy.warning_percent / 100)
            return {
                "id": self._id("clock"),
                "case_id": case["id"],
                "kind": kind,
                "state": "running",
                "target_seconds": target,
                "consumed_seconds": 0,
                "started_at": created,
                "resumed_at": created,
                "due_at": due,
                "warn_at": warn,
                "warned_at": warn if warn <= self.anchor else None,
                "breached_at": due if due <= self.anchor else None,
                "stopped_at": None,
            }

        first = clock("first_response", policy.first_response_minutes)
        if case["first_response_at"] is not None:
            first.update(state="met", stopped_at=case["first_response_at"], resumed_at=None)
            first.update(warned_at=first["warn_at"] if first["warn_at"] <= case["first_response_at"] else None)
            first.update(breached_at=first["due_at"] if first["due_at"] <= case["first_response_at"] else None)
        else:
            running_due.append((first["due_at"], first["warn_at"]))
        clocks.append(first)
        resolution = clock("resolution", policy.resolution_minutes)
        if case["status"] in ("waiting_subscriber", "waiting_field"):
            paused_at = last_message_at
            consumed = int((paused_at - created).total_seconds())
            resolution.update(
                state="paused",
                consumed_seconds=consumed,
                resumed_at=None,
                due_at=None,
                warn_at=None,
                warned_at=None,
                breached_at=None,
            )
        else:
            running_due.append((resolution["due_at"], resolution["warn_at"]))
        clocks.append(resolution)

        if not running_due:
            case["sla_state"] = "paused"
            return
        case["next_due_at"] = min(due for due, _ in running_due)
        if any(due <= self.anchor for due, _ in running_due):
            case["sla_state"] = "breached"
        elif any(warn <= self.anchor for _, warn in running_due):
            case["sla_state"] = "warning"
        else:
            case["sla_state"] = "ok"

    def _events(
        self,
        rng: random.Random,
        case: Row,
        messages: list[tuple[int, str, datetime]],
        assignee: int | None,
        chunk: Chunk,
    ) -> None:
        """The case timeline: opened always; with full events also messages, assignment and status changes."""
        events = chunk["event"]
        created: datetime = case["created_at"]
        opened = {
            "channel": case["channel"],
            "category": case["category_id"],
            "priority": case["priority"],
            "queue": case["queue_id"],
        }
        timeline: list[tuple[datetime, int, str, int | None, dict[str, Any]]] = [(created, 0, "opened", None, opened)]
        if self.size.full_events:
            order = 1
            for msg_id, direction, at in messages:
                kind = "message_in" if direction == "in" else "message_out"
                timeline.append((at, order, kind, assignee if direction == "out" else None, {"message": msg_id}))
                order += 1
            first = case["first_response_at"]
            if assignee is not None:
                at = first - timedelta(seconds=30) if first else created + timedelta(seconds=5)
                timeline.append((at, -1, "assigned", assignee, {"old": None, "new": assignee}))
            if first is not None:
                timeline.append((first, -1, "status", assignee, {"old": "new", "new": "open"}))
            status = case["status"]
            last = messages[-1][2]
            if status in ("waiting_subscriber", "waiting_field"):
                timeline.append((last, 999, "status", assignee, {"old": "open", "new": status}))
            if case["resolved_at"] is not None:
                timeline.append((case["resolved_at"], 999, "status", assignee, {"old": "open", "new": "resolved"}))
            if case["closed_at"] is not None:
                timeline.append((case["closed_at"], 1000, "status", None, {"old": "resolved", "new": "closed"}))
        timeline.sort(key=lambda item: (item[0], item[1]))
        for at, _, kind, actor, data in timeline:
            events.append(
                {
                    "id": self._id("event"),
                    "case_id": case["id"],
                    "at": at,
                    "actor_id": actor,
                    "kind": kind,
                    "data": data,
                }
            )
