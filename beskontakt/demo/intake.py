"""Demo data for the contactless channels: outage notices and waiting callback requests.

Written through the actions after the bulk load (a handful of rows), so the
portal shows an outage at the demo subscriber's address and the callback
queue has work in it when the demo starts.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction

from beskontakt.inbox import callbacks
from beskontakt.incidents.models import Outage, OutageBuilding
from beskontakt.subscribers.models import ContactPoint, Subscriber

TOPICS = (
    "Не работает интернет после грозы",
    "Настроить Wi-Fi на новом роутере",
    "Вопрос по счёту за ноябрь",
    "Подключить онлайн-кинотеатр",
    "Пропали каналы на приставке",
    "Перенести подключение в другую комнату",
)


def seed_intake(now: datetime, seed: int, portal_subscriber: Subscriber | None) -> dict[str, int]:
    """Write the demo outages and callback requests; returns how many of each."""
    rng = random.Random(seed)
    with transaction.atomic():
        outages = 0
        if portal_subscriber is not None and portal_subscriber.address is not None:
            address = portal_subscriber.address
            works = Outage.objects.create(
                title="Плановые работы на узле связи",
                body="Заменяем оборудование в доме. Интернет может пропадать на 10–15 минут, "
                "телевидение работает. Приходить к вам домой не нужно.",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=3),
            )
            OutageBuilding.objects.create(outage=works, street=address.street, building=address.building)
            district = Outage.objects.create(
                title="Авария на магистральном кабеле",
                body="Бригада уже на месте. Ориентировочное время восстановления — 2 часа.",
                starts_at=now - timedelta(minutes=40),
            )
            district.districts.add(address.district_id)
            outages = 2
        phones = list(
            ContactPoint.objects.filter(channel="phone", consent=True)
            .select_related("subscriber")
            .order_by("subscriber_id")[:200]
        )
        made = 0
        for contact in rng.sample(phones, min(6, len(phones))):
            start = now + timedelta(minutes=rng.choice((15, 45, 90, 180)))
            callbacks.request_callback(
                contact.subscriber,
                phone=contact.value,
                window_start=start,
                window_end=start + timedelta(hours=rng.choice((1, 2))),
                topic=rng.choice(TOPICS),
            )
            made += 1
    return {"outages": outages, "callbacks": made}
