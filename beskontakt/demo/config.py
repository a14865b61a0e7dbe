"""The demo operator's business configuration: districts, catalogue, skills,
queues, calendars, categories, SLA policies, macros and tags.

These are a few hundred rows, written through the ORM and keyed by their
natural codes, so running it again updates rather than duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal

from beskontakt.accounts.models import Skill
from beskontakt.cases.models import (
    BusinessCalendar,
    Category,
    Macro,
    Queue,
    SlaPolicy,
    Tag,
    WorkingHours,
)
from beskontakt.subscribers.models import District, Tariff

from .words import catalogue, places


@dataclass(frozen=True)
class PolicyInfo:
    """What the generator needs of an SLA policy to start clocks."""

    id: int
    priority: int | None
    segment: str
    first_response_minutes: int
    resolution_minutes: int
    warning_percent: int


@dataclass(frozen=True)
class CategoryInfo:
    """What the generator needs of a category."""

    id: int
    code: str
    queue_id: int | None
    priority: int
    weight: int


@dataclass
class DemoConfig:
    """Ids of the configuration rows, for the generator to refer to."""

    districts: list[tuple[int, str]] = field(default_factory=list)  # (id, okrug)
    tariffs: dict[str, tuple[int, str]] = field(default_factory=dict)  # code -> (id, name)
    skills: dict[str, int] = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)
    categories: list[CategoryInfo] = field(default_factory=list)
    policies: list[PolicyInfo] = field(default_factory=list)
    _policy_cache: dict[tuple[int, str], PolicyInfo | None] = field(default_factory=dict)

    def policy_for(self, priority: int, segment: str) -> PolicyInfo | None:
        """The most specific policy matching a case (segment and priority beat one of them, then rank)."""
        key = (priority, segment)
        if key not in self._policy_cache:
            self._policy_cache[key] = self._match_policy(priority, segment)
        return self._policy_cache[key]

    def _match_policy(self, priority: int, segment: str) -> PolicyInfo | None:
        best: tuple[int, int, PolicyInfo] | None = None
        for rank, policy in enumerate(self.policies):
            if policy.priority is not None and policy.priority != priority:
                continue
            if policy.segment and policy.segment != segment:
                continue
            specificity = (policy.priority is not None) + bool(policy.segment)
            key = (-specificity, rank)
            if best is None or key < best[:2]:
                best = (key[0], key[1], policy)
        return best[2] if best else None


def build_config() -> DemoConfig:
    """Create (or refresh) the configuration rows and return their ids."""
    config = DemoConfig()

    for okrug, names in places.DISTRICTS.items():
        for name in names:
            district, _ = District.objects.update_or_create(name=name, defaults={"okrug": okrug})
            config.districts.append((district.pk, okrug))

    by_code: dict[str, Tariff] = {}
    for code, name, kind, down, up, channels, price, includes in catalogue.TARIFFS:
        tariff, _ = Tariff.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "download_mbps": down,
                "upload_mbps": up,
                "tv_channels": channels,
                "monthly_price": Decimal(price),
                "active": True,
            },
        )
        by_code[code] = tariff
        config.tariffs[code] = (tariff.pk, name)
        if includes:
            tariff.includes.set([by_code[c] for c in includes])

    for code, name in catalogue.SKILLS:
        skill, _ = Skill.objects.update_or_create(code=code, defaults={"name": name})
        config.skills[code] = skill.pk

    workdays, _ = BusinessCalendar.objects.update_or_create(
        name=catalogue.CALENDAR_WORKDAYS,
        defaults={"timezone": "Europe/Moscow", "always_open": False, "use_russian_holidays": True},
    )
    if not workdays.hours.exists():
        WorkingHours.objects.bulk_create(
            [WorkingHours(calendar=workdays, weekday=day, start=time(9), end=time(21)) for day in range(5)]
            + [WorkingHours(calendar=workdays, weekday=5, start=time(10), end=time(18))]
        )
    always, _ = BusinessCalendar.objects.update_or_create(
        name=catalogue.CALENDAR_ALWAYS,
        defaults={"timezone": "Europe/Moscow", "always_open": True, "use_russian_holidays": False},
    )
    calendars = {workdays.name: workdays, always.name: always}

    for code, name, skill_code, calendar, auto in catalogue.QUEUES:
        queue, _ = Queue.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "skill_id": config.skills[skill_code],
                "calendar": calendars[calendar],
                "auto_assign": auto,
            },
        )
        config.queues[code] = queue.pk

    categories: dict[str, Category] = {}
    for code, name_ru, name_en, queue_code, priority, weight in catalogue.CATEGORIES:
        category, _ = Category.objects.update_or_create(
            code=code,
            defaults={
                "name_ru": name_ru,
                "name_en": name_en,
                "default_queue_id": config.queues[queue_code],
                "default_priority": priority,
            },
        )
        categories[code] = category
        config.categories.append(CategoryInfo(category.pk, code, config.queues[queue_code], priority, weight))

    for name, policy_priority, segment, first, nxt, resolution, calendar, rank in catalogue.SLA_POLICIES:
        policy, _ = SlaPolicy.objects.update_or_create(
            name=name,
            defaults={
                "priority": policy_priority,
                "segment": segment,
                "first_response_minutes": first,
                "next_response_minutes": nxt,
                "resolution_minutes": resolution,
                "calendar": calendars[calendar],
                "rank": rank,
                "active": True,
            },
        )
        config.policies.append(
            PolicyInfo(policy.pk, policy_priority, segment, first, resolution, policy.warning_percent)
        )

    for name, category_code, body_ru, body_en in catalogue.MACROS:
        Macro.objects.update_or_create(
            name=name,
            defaults={
                "category": categories[category_code] if category_code else None,
                "body_ru": body_ru,
                "body_en": body_en,
                "active": True,
            },
        )
    for tag in catalogue.DEMO_TAGS:
        Tag.objects.get_or_create(name=tag)
    return config
