"""Fill a django-helpdesk database with N tickets (and optionally follow-ups) for the peer benchmark.

Run inside ``.venv-helpdesk`` from ``bench/peer_helpdesk`` (``setup.sh`` prints the exact command)::

    ../../.venv-helpdesk/bin/python load.py --tickets 3000000 --followups

What it does, deterministically from ``--seed``:

* creates the database ``$HELPDESK_DB`` if missing and applies django-helpdesk's migrations;
* with ``--reset`` (default when tickets already exist) empties the ticket tables;
* creates queues (a Russian broadband/IPTV operator's lines of support), one benchmark staff user
  (``bench`` / ``bench-pass``, used by ``measure.py``) and a few dozen other agents, through the ORM;
* streams the tickets (and follow-ups) into PostgreSQL with ``COPY`` and resets the identity sequences.

The shape mirrors Beskontakt's own generated operator: 7 % of the cases are active (opened in the
last 72 hours, open or reopened), the rest closed or resolved over the last 18 months; with
``--followups`` a ticket has on average 3.33 follow-ups (10 M messages for 3 M cases), the first being
the "ticket opened" follow-up that django-helpdesk itself writes.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdproject.settings")

BENCH_USER = "bench"
BENCH_PASSWORD = "bench-pass"  # noqa: S105 - throwaway benchmark account on a local database

QUEUES = [
    ("Нет интернета", "no-internet"),
    ("Низкая скорость", "slow-speed"),
    ("Телевидение (IPTV)", "iptv"),
    ("Оплата и баланс", "billing"),
    ("Подключение", "connection"),
    ("Оборудование", "equipment"),
    ("Бизнес-клиенты", "business"),
    ("Выезд монтажника", "field"),
]

TITLE_PARTS = [
    [
        "Нет интернета",
        "Пропадает связь",
        "Низкая скорость",
        "Не работает Wi-Fi",
        "Не показывает ТВ",
        "Рассыпается картинка IPTV",
        "Не проходит оплата",
        "Списали лишние деньги",
        "Не работает роутер",
        "Горит красным индикатор PON",
        "Не открываются сайты",
        "Высокий пинг в играх",
        "Не работает приставка",
        "Просьба сменить тариф",
        "Заявка на подключение",
        "Перенос подключения",
        "Блокировка за долг",
        "Не приходит счёт",
        "Не работает онлайн-кинотеатр",
        "Обрыв кабеля в подъезде",
    ],
    [
        "",
        " с утра",
        " по вечерам",
        " третий день",
        " после оплаты",
        " после грозы",
        " после замены роутера",
        " на всех устройствах",
        " только по Wi-Fi",
        " на каналах HD",
    ],
    [
        "",
        "",
        "",
        " — срочно",
        " (повторно)",
        ", ул. Профсоюзная",
        ", Ленинский пр-т",
        ", Химки",
        ", ул. Академика Янгеля",
        ", Зеленоград",
    ],
]

SENTENCES = [
    "Здравствуйте!",
    "Добрый день.",
    "С утра не работает интернет, роутер перезагружал несколько раз.",
    "Скорость по тесту не больше 10 Мбит/с, а по тарифу 500.",
    "На приставке пишет «Нет сигнала», каналы не переключаются.",
    "Индикатор LOS на терминале мигает красным.",
    "Оплатил через приложение банка, деньги списались, а услуга так и заблокирована.",
    "Прошу проверить линию, соседи тоже жалуются.",
    "Договор оформлен на маму, я звоню по её просьбе.",
    "Wi-Fi ловит только в одной комнате, в остальных сигнал пропадает.",
    "Картинка на каналах HD рассыпается на квадраты, звук отстаёт.",
    "Хочу перейти на тариф с онлайн-кинотеатром.",
    "Прошу перенести подключение на новый адрес с первого числа.",
    "Мастер не пришёл в назначенное время, никто не позвонил.",
    "В подъезде меняли щиток, после этого связь пропала.",
    "Пинг до игровых серверов скачет до 300 мс.",
    "Списали абонентскую плату дважды за один месяц.",
    "Удобно перезвонить после 18:00.",
    "Номер договора указан в профиле.",
    "Спасибо заранее!",
]

REPLIES = [
    "Добрый день! Проверили линию: на порту коммутатора были ошибки, порт перезапущен. Проверьте, пожалуйста.",
    "Здравствуйте! Авария на участке сети устранена, услуга восстановлена.",
    "Платёж найден и зачислен, блокировка снята. Приносим извинения за неудобства.",
    "Оформили выезд монтажника на завтра с 10:00 до 14:00, мастер позвонит за час.",
    "Перезагрузили профиль приставки удалённо. Если каналы не появятся, выключите её из розетки на минуту.",
    "Тариф будет изменён с первого числа следующего месяца.",
    "Уточните, пожалуйста, горят ли индикаторы на терминале и какого они цвета.",
    "Двойное списание подтверждено, сумма возвращена на лицевой счёт.",
    "Сигнал на терминале в норме, проблема в настройках Wi-Fi. Сменили канал на 36, проверьте.",
    "Спасибо, всё заработало.",
    "Нет, проблема сохраняется, скорость всё так же низкая.",
    "Мастер приходил, заменил коннектор, интернет работает.",
]

FIRST_NAMES = [
    "ivan",
    "anna",
    "sergey",
    "olga",
    "dmitry",
    "elena",
    "alexey",
    "maria",
    "nikolay",
    "tatiana",
    "pavel",
    "irina",
    "andrey",
    "natalia",
    "mikhail",
    "svetlana",
    "vladimir",
    "ekaterina",
]
LAST_NAMES = [
    "ivanov",
    "petrova",
    "smirnov",
    "kuznetsova",
    "popov",
    "vasilieva",
    "sokolov",
    "mikhailova",
    "novikov",
    "fedorova",
    "morozov",
    "volkova",
    "alekseev",
    "lebedeva",
    "semenov",
    "egorova",
]
DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "inbox.ru", "rambler.ru"]

HISTORY_DAYS = 548
NULL = "\\N"  # COPY text-format NULL
ACTIVE_WINDOW_HOURS = 72


def _esc(text: str) -> str:
    """Escape a value for PostgreSQL COPY text format."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _pools(rng: random.Random) -> tuple[list[str], list[str], list[str], list[str]]:
    """Pre-escaped pools of titles, descriptions, replies and e-mails, so the row loop only picks."""
    titles = [_esc(a + b + c) for a in TITLE_PARTS[0] for b in TITLE_PARTS[1] for c in TITLE_PARTS[2]]
    descriptions = []
    for _ in range(4000):
        k = rng.randint(2, 6)
        body = " ".join(rng.sample(SENTENCES, k))
        descriptions.append(_esc(body + "\n\n" + rng.choice(SENTENCES[-3:])))
    replies = [_esc(r) for r in REPLIES]
    emails = [
        f"{f}.{last}{n}@{d}"
        for f in FIRST_NAMES
        for last in LAST_NAMES
        for n in ("", "77", "1985", "_msk")
        for d in DOMAINS[:4]
    ]
    return titles, descriptions, replies, emails


def ensure_database(name: str) -> None:
    """Create the benchmark database if it does not exist."""
    import psycopg

    with psycopg.connect(
        host=os.environ.get("HELPDESK_DB_HOST", "127.0.0.1"),
        port=os.environ.get("HELPDESK_DB_PORT", "5432"),
        user=os.environ.get("HELPDESK_DB_USER", "postgres"),
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}", file=sys.stderr)


def setup_reference_data(agents: int) -> tuple[list[int], list[int], int]:
    """Queues, the benchmark staff user and other agents via the ORM; returns (queue ids, agent ids, bench id)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sites.models import Site
    from helpdesk.models import Queue

    Site.objects.update_or_create(id=1, defaults={"domain": "127.0.0.1:8100", "name": "helpdesk bench"})
    queue_ids = []
    for title, slug in QUEUES:
        q, _ = Queue.objects.get_or_create(
            slug=slug,
            defaults={"title": title, "allow_public_submission": True, "allow_email_submission": False},
        )
        queue_ids.append(q.id)
    user_model = get_user_model()
    bench, _ = user_model.objects.get_or_create(
        username=BENCH_USER, defaults={"is_staff": True, "email": "bench@example.invalid", "first_name": "Бенч"}
    )
    bench.is_staff = True
    bench.is_active = True
    bench.set_password(BENCH_PASSWORD)
    bench.save()
    hashed = make_password("agent-not-used")  # one hash reused: no need to pay PBKDF2 per agent
    agent_ids = [bench.id]
    first = ["Анна", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей", "Мария", "Николай"]
    last = ["Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Новикова", "Морозов"]
    for i in range(agents):
        u, _ = user_model.objects.get_or_create(
            username=f"agent{i:03d}",
            defaults={
                "is_staff": True,
                "password": hashed,
                "first_name": first[i % len(first)],
                "last_name": last[(i // len(first)) % len(last)],
                "email": f"agent{i:03d}@example.invalid",
            },
        )
        agent_ids.append(u.id)
    return queue_ids, agent_ids, bench.id


def generate(args: argparse.Namespace, queue_ids: list[int], agent_ids: list[int]) -> tuple[int, int]:
    """Stream tickets and follow-ups into PostgreSQL with COPY; returns (tickets, follow-ups) written."""
    from django.db import connection

    rng = random.Random(args.seed)
    titles, descriptions, replies, emails = _pools(rng)
    anchor = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    anchor_ts = anchor.timestamp()
    connection.ensure_connection()
    raw = connection.connection  # psycopg 3 connection
    mean_fu = args.followups_per_ticket
    fu_id = 0
    n_fu = 0
    chunk = 50_000
    t0 = time.monotonic()

    def ts(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).isoformat(sep=" ")

    with raw.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        deferred = _drop_secondary(cur, ("helpdesk_ticket", "helpdesk_followup"))
        raw.commit()
        start = 1
        while start <= args.tickets:
            end = min(args.tickets, start + chunk - 1)
            trows: list[str] = []
            frows: list[str] = []
            for tid in range(start, end + 1):
                active = rng.random() < args.active_share
                if active:
                    created = anchor_ts - 600 - ACTIVE_WINDOW_HOURS * 3600 * rng.random() ** 1.5
                    status = 1 if rng.random() < 0.9 else 2
                else:
                    created = anchor_ts - 86400 * rng.uniform(3, HISTORY_DAYS)
                    status = 4 if rng.random() < 0.8 else 3
                assigned = NULL if (active and rng.random() < 0.3) else str(rng.choice(agent_ids))
                priority = rng.choice((1, 2, 3, 3, 3, 3, 4, 5))
                title = rng.choice(titles)
                desc = rng.choice(descriptions)
                email = rng.choice(emails)
                # django-helpdesk's secret_key is a UUID4 string
                key = f"{rng.getrandbits(128):032x}"
                key = f"{key[:8]}-{key[8:12]}-4{key[13:16]}-a{key[17:20]}-{key[20:]}"
                # follow-ups: first one is the "ticket opened" entry helpdesk writes itself
                nf = 0
                modified = created
                if args.followups:
                    nf = 1 + int(rng.expovariate(1.0 / max(mean_fu - 1.0, 0.01)) + 0.5) if mean_fu > 1 else 1
                    nf = min(nf, 40)
                    when = created
                    for i in range(nf):
                        fu_id += 1
                        if i == 0:
                            frows.append(f"{fu_id}\t{ts(when)}\tТикет открыт\t{desc}\tt\t1\t{tid}\t{NULL}\n")
                        else:
                            when += rng.uniform(300, 86400 if not active else 3600)
                            last = i == nf - 1 and status in (3, 4)
                            frows.append(
                                f"{fu_id}\t{ts(when)}\t{'Закрыт' if last else 'Комментарий'}\t"
                                f"{rng.choice(replies)}\tt\t{status if last else NULL}\t{tid}\t{assigned}\n"
                            )
                    modified = when
                    n_fu += nf
                elif status in (3, 4):
                    modified = created + rng.uniform(3600, 5 * 86400)
                trows.append(
                    f"{tid}\t{title}\t{ts(created)}\t{ts(modified)}\t{email}\t{status}\tf\t{desc}\t"
                    f"{'Проблема устранена.' if status in (3, 4) else NULL}\t{priority}\t{assigned}\t"
                    f"{rng.choice(queue_ids)}\t{key}\n"
                )
            with cur.copy(
                "COPY helpdesk_ticket (id, title, created, modified, submitter_email, status, on_hold, "
                "description, resolution, priority, assigned_to_id, queue_id, secret_key) FROM STDIN"
            ) as cp:
                cp.write("".join(trows))
            if frows:
                with cur.copy(
                    "COPY helpdesk_followup (id, date, title, comment, public, new_status, ticket_id, user_id) "
                    "FROM STDIN"
                ) as cp:
                    cp.write("".join(frows))
            raw.commit()
            elapsed = time.monotonic() - t0
            if end % 500_000 == 0 or end == args.tickets or end <= chunk:
                print(
                    f"  {end:>10,} tickets, {n_fu:>11,} follow-ups  {elapsed:7.1f} s  ({end / elapsed:,.0f} tickets/s)",
                    file=sys.stderr,
                    flush=True,
                )
            start = end + 1
        for table in ("helpdesk_ticket", "helpdesk_followup"):  # fixed names, not input
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
            )
        raw.commit()
        t_idx = time.monotonic()
        for ddl in deferred:
            cur.execute(ddl)
            raw.commit()
        print(f"  indexes and foreign keys rebuilt in {time.monotonic() - t_idx:.1f} s", file=sys.stderr)
    return args.tickets, n_fu


def _drop_secondary(cur, tables: tuple[str, ...]) -> list[str]:
    """Drop non-PK indexes and outgoing FKs of ``tables`` for the bulk load; return DDL that recreates them.

    The recreated objects are the same ones django-helpdesk's migrations made (same names and
    definitions, read from the catalogue), so the schema measured is the shipped schema.
    """
    fks = cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
        (list(tables),),
    ).fetchall()
    idx = cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (list(tables),),
    ).fetchall()
    recreate = [ddl for _, ddl in idx]
    recreate += [f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {ddl}' for t, name, ddl in fks]
    for t, name, _ in fks:
        cur.execute(f'ALTER TABLE {t} DROP CONSTRAINT "{name}"')
    for name, _ in idx:
        cur.execute(f"DROP INDEX {name}")
    return recreate


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse options, prepare the database, load, print timings."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=3_000_000, help="number of tickets (default 3,000,000)")
    p.add_argument("--followups", action="store_true", help="also write follow-ups (about 3.33 per ticket)")
    p.add_argument("--followups-per-ticket", type=float, default=10 / 3, help="mean follow-ups per ticket")
    p.add_argument("--active-share", type=float, default=0.07, help="share of open/reopened tickets (0.07)")
    p.add_argument("--agents", type=int, default=40, help="staff agents besides the bench user")
    p.add_argument("--seed", type=int, default=20261120)
    p.add_argument("--keep", action="store_true", help="do not empty existing tickets first")
    args = p.parse_args(argv)

    db = os.environ.get("HELPDESK_DB", "helpdesk_bench")
    t_start = time.monotonic()
    ensure_database(db)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    if not args.keep:
        with connection.cursor() as cur:
            cur.execute(
                "TRUNCATE helpdesk_ticketchange, helpdesk_followupattachment, helpdesk_followup, "
                "helpdesk_ticketcc, helpdesk_ticketcustomfieldvalue, helpdesk_ticketdependency, "
                "helpdesk_checklisttask, helpdesk_checklist, helpdesk_ticket RESTART IDENTITY CASCADE"
            )
    queue_ids, agent_ids, _ = setup_reference_data(args.agents)
    print(
        f"loading {args.tickets:,} tickets{' with follow-ups' if args.followups else ''} into {db} (seed {args.seed})",
        file=sys.stderr,
    )
    t_copy = time.monotonic()
    tickets, followups = generate(args, queue_ids, agent_ids)
    t_analyze = time.monotonic()
    with connection.cursor() as cur:
        cur.execute("ANALYZE helpdesk_ticket")
        cur.execute("ANALYZE helpdesk_followup")
    t_end = time.monotonic()
    print(
        f"done: {tickets:,} tickets, {followups:,} follow-ups in {db}; copy {t_analyze - t_copy:.1f} s, "
        f"analyze {t_end - t_analyze:.1f} s, total elapsed {t_end - t_start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
