"""Inbound e-mail over IMAP into cases: messages/s drained by ``poller.poll_once()``.

    .venv/bin/python bench/email_intake.py [--db bk_mail_bench] [--count 2000] [--replies 0.4] [--subscribers 500]

Starts a private dovecot on loopback (as the e-mail tests do), creates a fresh
PostgreSQL database ``--db`` (dropped first) and migrates it, makes
``--subscribers`` subscribers with e-mail contacts, then appends ``--count``
realistic Russian e-mails to the mailbox over IMAP: new threads from known and
unknown senders, and replies (``In-Reply-To``/``References`` to an earlier
e-mail); a few auto-replies, HTML-only and
Windows-1251 ones. Then it times ``poll_once()`` draining the folder into
cases (one process, one connection, as the Celery task does) and checks every
e-mail became exactly one case message or one refusal, and that replies
landed in their thread's case. Target (issue 3): ≥ 100 messages/s into cases.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from common import ROOT, setup_django

sys.path.insert(0, str(ROOT))

FIRST_NAMES = ["Мария", "Иван", "Ольга", "Сергей", "Анна", "Дмитрий", "Елена", "Алексей", "Наталья", "Павел"]
LAST_NAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков"]
SUBJECTS = [
    "Не работает интернет",
    "Нет сигнала на телевизоре",
    "Низкая скорость вечером",
    "Вопрос по счёту за ноябрь",
    "Подключить онлайн-кинотеатр",
    "Настроить удалённый доступ к рабочему компьютеру",
    "Роутер постоянно перезагружается",
    "Перенос подключения на другой адрес",
]
BODIES = [
    "Здравствуйте!\n\nСо вчерашнего вечера не работает интернет, роутер мигает красным. Перезагружала — не помогло.\n"
    "Я на карантине до 15-го, мастера впустить не могу.\n\nС уважением, {name}\nДоговор {contract}",
    "Добрый день. Телевизор пишет «нет сигнала» на всех каналах, кабель проверил.\n\n{name}",
    "Скорость по тарифу 500 Мбит/с, а вечером едва 5. Работаю из дома, очень нужно починить.\n\n-- \n{name}",
    "Прошу пересчитать абонентскую плату: три дня не было услуги.\n\n{name}, тел. +7 (495) 123-45-67",
    "Подскажите, как подключить онлайн-кинотеатр к моему тарифу? Есть ли скидка для абонентов?\n\n{name}",
]
REPLIES = [
    "Спасибо, перезагрузил, но не помогло. Что ещё можно сделать?",
    "Кабель привезли, подключил по телефону со специалистом — всё работает! Спасибо!",
    "Сегодня после 18:00 удобно, я дома.",
    "Прилагаю фото роутера, горит только одна лампочка.",
]
USER = "care"


def build(i: int, rng: random.Random, threads: list[tuple[str, str, str]], contacts: list[str]) -> bytes:
    """E-mail number ``i``: a reply to an earlier thread (40%) or a new one."""
    msg = EmailMessage(policy=SMTP)
    message_id = f"<bench-{i}-{rng.randrange(10**9)}@mail.example.ru>"
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    reply_to = threads[rng.randrange(len(threads))] if threads and rng.random() < ARGS.replies else None
    if reply_to is not None:
        parent_id, subject, sender = reply_to
        msg["Subject"] = f"Re: {subject}"
        msg["In-Reply-To"] = parent_id
        msg["References"] = parent_id
        body = rng.choice(REPLIES)
    else:
        sender = rng.choice(contacts) if rng.random() < 0.7 else f"guest{i}@example.org"
        subject = rng.choice(SUBJECTS)
        msg["Subject"] = subject
        body = rng.choice(BODIES).format(name=name, contract=f"7700{rng.randrange(10**4):04d}")
        threads.append((message_id, subject, sender))
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = "care@beskontakt.local"
    msg["Date"] = format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = message_id
    if i % 50 == 7:
        msg["Auto-Submitted"] = "auto-replied"
        msg.replace_header("Subject", f"Автоответ: {msg['Subject']}")
    if i % 10 == 3:
        msg.set_content(body, charset="windows-1251", cte="quoted-printable")
    elif i % 10 == 5:
        html = "".join(f"<p>{line}</p>" for line in body.split("\n") if line)
        msg.set_content(f"<html><body>{html}</body></html>", subtype="html")
    else:
        msg.set_content(body)
    return msg.as_bytes()


def fresh_database(name: str) -> None:
    """Drop and create ``name`` on the local PostgreSQL."""
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def make_subscribers(count: int) -> list[str]:
    """``count`` subscribers with e-mail contacts; returns their addresses."""
    from beskontakt.subscribers.models import Address, Channel, ContactPoint, District, Subscriber

    district = District.objects.create(name="Хамовники", okrug="ЦАО")
    addresses = Address.objects.bulk_create(
        [
            Address(district=district, street="ул. Льва Толстого", building=str(i % 40 + 1), apartment=str(i))
            for i in range(count)
        ]
    )
    subscribers = Subscriber.objects.bulk_create(
        [
            Subscriber(
                contract_number=f"7710{i:04d}",
                last_name=LAST_NAMES[i % len(LAST_NAMES)],
                first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                address=address,
            )
            for i, address in enumerate(addresses)
        ]
    )
    emails = [f"abonent{i}@mail.example.ru" for i in range(count)]
    ContactPoint.objects.bulk_create(
        [
            ContactPoint(subscriber=s, channel=Channel.EMAIL, value=e, normalized=e, consent=True)
            for s, e in zip(subscribers, emails, strict=True)
        ]
    )
    return emails


def main() -> int:
    from beskontakt.inbox.tests.email.servers import Dovecot

    fresh_database(ARGS.db)
    setup_django(ARGS.db)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from beskontakt.cases.models import Case, Message
    from beskontakt.inbox.email import poller
    from beskontakt.inbox.models import RejectedInbound

    contacts = make_subscribers(ARGS.subscribers)
    rng = random.Random(ARGS.seed)
    dovecot = Dovecot().start()
    try:
        settings.IMAP_HOST, settings.IMAP_PORT, settings.IMAP_SSL = "127.0.0.1", dovecot.port, False
        settings.IMAP_USER, settings.IMAP_PASSWORD, settings.IMAP_FOLDER = dovecot.user, dovecot.password, "INBOX"
        if ARGS.threads:
            settings.EMAIL_INTAKE_THREADS = ARGS.threads
        threads: list[tuple[str, str, str]] = []
        mails = [build(i, rng, threads, contacts) for i in range(ARGS.count)]
        client = dovecot.client()
        started = time.perf_counter()
        for raw in mails:
            client.append("INBOX", raw)
        client.logout()
        print(f"appended {len(mails)} e-mails over IMAP in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        cpu_started = time.process_time()
        if ARGS.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            read = profiler.runcall(poller.poll_once)
            elapsed = time.perf_counter() - started
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(45)
            stats.print_callees("receive_message")
        else:
            read = poller.poll_once()
            elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        messages = Message.objects.filter(channel="email", direction="in").count()
        refused = RejectedInbound.objects.filter(channel="email").count()
        cases = Case.objects.filter(channel="email").count()
        print(f"intake threads: {poller.workers()}")
        print(f"poll_once: {read} e-mails in {elapsed:.2f} s = {read / elapsed:.0f} messages/s")
        print(f"  CPU of this process {cpu:.2f} s ({cpu / elapsed:.0%} of the wall time)")
        print(f"  case messages {messages}, new cases {cases}, refused (auto-replies) {refused}")
        assert read == ARGS.count, (read, ARGS.count)
        assert messages + refused == ARGS.count, "every e-mail must be one message or one refusal"
        # Every reply must sit in the case of its thread's first e-mail.
        by_id = dict(Message.objects.filter(channel="email").values_list("external_id", "case_id"))
        misplaced = 0
        for raw in mails[:: max(1, ARGS.count // 300)]:
            text = raw.decode("utf-8", "replace")
            if "In-Reply-To:" in text and "Auto-Submitted" not in text:
                parent = text.split("In-Reply-To:", 1)[1].split()[0]
                own = text.split("Message-ID:", 1)[1].split()[0]
                if parent in by_id and by_id.get(own) != by_id[parent]:
                    misplaced += 1
        print(f"  replies checked in their thread's case: misplaced {misplaced}")
        again = poller.poll_once()
        print(f"  second poll: {again} new, messages still {Message.objects.filter(channel='email').count()}")
        target = "OK" if read / elapsed >= 100 else "BELOW TARGET"
        print(f"target ≥ 100 messages/s: {target}")
        return 0 if read / elapsed >= 100 and misplaced == 0 else 1
    finally:
        dovecot.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bk_mail_bench")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--replies", type=float, default=0.4, help="share of e-mails that answer an earlier one")
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="EMAIL_INTAKE_THREADS (default: the poller's)")
    parser.add_argument("--profile", action="store_true", help="print where poll_once spends its time")
    ARGS = parser.parse_args()
    sys.exit(main())
