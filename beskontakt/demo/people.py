"""Drawing Russian people, companies, addresses and contacts from one random source."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .words import people, places

T = TypeVar("T")


class WeightedChoice(Generic[T]):
    """A reusable weighted choice (cumulative weights computed once)."""

    def __init__(self, pairs: Sequence[tuple[T, int]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = float(self.cum[-1])
        self.hi = len(self.cum) - 1

    def __call__(self, rng: random.Random) -> T:
        # The same draw as ``rng.choices(values, cum_weights=cum)[0]``, without its overhead.
        return self.values[bisect.bisect(self.cum, rng.random() * self.total, 0, self.hi)]


@dataclass(frozen=True)
class Person:
    """A generated person's name."""

    last_name: str
    first_name: str
    middle_name: str
    female: bool

    @property
    def polite(self) -> str:
        """How an agent addresses them: first name and patronymic."""
        return f"{self.first_name} {self.middle_name}"


def draw_person(rng: random.Random) -> Person:
    """A person with consistent male or female name, patronymic and surname."""
    female = rng.random() < 0.54
    surname = rng.choice(people.SURNAMES)
    male_patronymic, female_patronymic = rng.choice(people.PATRONYMICS)
    if female:
        return Person(people.feminine_surname(surname), rng.choice(people.FEMALE_FIRST_NAMES), female_patronymic, True)
    return Person(surname, rng.choice(people.MALE_FIRST_NAMES), male_patronymic, False)


_company_form = WeightedChoice(people.COMPANY_FORMS)


def draw_company(rng: random.Random, owner: Person) -> str:
    """A company name: ООО «Гранитсервис», АО «Меридиан-Групп», ИП Смирнова А. В."""
    form = _company_form(rng)
    if form == "ИП":
        return f"ИП {owner.last_name} {owner.first_name[0]}. {owner.middle_name[0]}."
    first, second = rng.choice(people.COMPANY_FIRST), rng.choice(people.COMPANY_SECOND)
    name = f"{first}{second.lower()}" if rng.random() < 0.6 else f"{first}-{second}"
    return f"{form} «{name}»"


_MOBILE_CODES = ("903", "905", "909", "910", "915", "916", "917", "925", "926", "929", "965", "977", "985", "999")


def draw_mobile(rng: random.Random) -> str:
    """A Moscow mobile number written the way people write it: +7 (916) 123-45-67."""
    n = rng.randrange(10_000_000)
    return f"+7 ({rng.choice(_MOBILE_CODES)}) {n // 10000:03d}-{n // 100 % 100:02d}-{n % 100:02d}"


def draw_landline(rng: random.Random) -> str:
    """A Moscow landline in 495 or 499: 8 (495) 123-45-67."""
    n = rng.randrange(1_000_000, 10_000_000)
    return f"8 ({rng.choice(('495', '499'))}) {n // 10000:03d}-{n // 100 % 100:02d}-{n % 100:02d}"


_email_domain = WeightedChoice(people.EMAIL_DOMAINS)


def draw_email(rng: random.Random, person: Person, serial: int) -> str:
    """A personal e-mail: ivanov.a.p@mail.ru, elena.sokolova1984@yandex.ru (``serial`` keeps it unique)."""
    last, first = people.translit(person.last_name), people.translit(person.first_name)
    style = rng.randrange(3)
    if style == 0:
        local = f"{last}.{first[0]}"
    elif style == 1:
        local = f"{first}.{last}"
    else:
        local = f"{first[0]}{last}"
    return f"{local}{serial}@{_email_domain(rng)}"


def company_email(company: str, serial: int) -> str:
    """A company mailbox: info@granitservis-123.ru."""
    name = company.split("«")[-1].rstrip("»") if "«" in company else company
    slug = people.translit(name.replace("-", "")) or "office"
    return f"info@{slug}-{serial}.ru"


def draw_telegram(rng: random.Random, person: Person, serial: int) -> str:
    """A Telegram handle: @elena_sokolova_msk12."""
    first, last = people.translit(person.first_name), people.translit(person.last_name)
    return f"@{first}_{last}_{rng.choice(people.TELEGRAM_WORDS)}{serial % 1000}"


_building_form = WeightedChoice(places.BUILDING_FORMS)


def draw_building(rng: random.Random) -> str:
    """A building number as Moscow writes it: 12, 12к2, 7с1, 34/2."""
    number = rng.randint(1, 160)
    form = _building_form(rng)
    if form == "korpus":
        return f"{number}к{rng.randint(1, 5)}"
    if form == "stroenie":
        return f"{number}с{rng.randint(1, 3)}"
    if form == "fraction":
        return f"{number}/{rng.randint(1, 30)}"
    return str(number)
