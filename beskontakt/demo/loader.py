"""Loading a generated operator into the database (used by ``manage.py load_demo``).

The configuration and the demo logins go through the ORM; the bulk of the
rows (subscribers and their history) come from ``OperatorGenerator`` and are
written table by table, chunk by chunk, with COPY on PostgreSQL or
``bulk_create`` elsewhere. Nothing goes through the actions modules: this is a
data load, not a sequence of business operations, and it must be fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from beskontakt.accounts.models import Skill, User
from beskontakt.accounts.roles import Role
from beskontakt.cases.models import (
    Attachment,
    BusinessCalendar,
    CalendarDay,
    Case,
    Category,
    Event,
    Macro,
    Message,
    Note,
    Queue,
    SlaClock,
    SlaPolicy,
    Tag,
    WorkingHours,
)
from beskontakt.subscribers.models import (
    AccessRestriction,
    Address,
    ContactPoint,
    District,
    Equipment,
    Subscriber,
    Subscription,
    Tariff,
)

from .config import build_config
from .generator import SIZES, TABLES, OperatorGenerator, Size, Staff
from .models import DemoLoad
from .people import draw_person
from .users import DEMO_STAFF, SUBSCRIBER_USERNAME, ensure_demo_users
from .writers import make_writer

MODELS: dict[str, type[models.Model]] = {
    "address": Address,
    "subscriber": Subscriber,
    "contact": ContactPoint,
    "subscription": Subscription,
    "equipment": Equipment,
    "restriction": AccessRestriction,
    "case": Case,
    "message": Message,
    "event": Event,
    "clock": SlaClock,
}
EXTRA_AGENT_PREFIX = "demo-agent-"
SUBSCRIBERS_PER_EXTRA_AGENT = 2500

Progress = Callable[[str], None]


class LoadRefused(Exception):
    """The database holds other data the load would collide with (use ``--reset``)."""


def size_for(name: str, subscribers: int | None = None) -> Size:
    """The named size, optionally scaled to ``subscribers`` (cases and messages scale along)."""
    size = SIZES[name]
    if subscribers is not None:
        chunk = min(size.chunk, max(100, subscribers // 4))
        size = dataclasses.replace(size, subscribers=subscribers, chunk=chunk)
    return size


def existing_load() -> DemoLoad | None:
    """The dataset recorded in this database, if any."""
    return DemoLoad.objects.order_by("-pk").first()


def reset_domain_data() -> None:
    """Remove every subscriber, case and configuration row, the demo logins and the load record."""
    domain: list[type[models.Model]] = [
        *MODELS.values(),
        Attachment,
        Note,
        Case.tags.through,
        Case.related.through,
        Tariff.includes.through,
        Tariff,
        District,
        Macro,
        SlaPolicy,
        Category,
        Queue,
        CalendarDay,
        WorkingHours,
        BusinessCalendar,
        Tag,
        DemoLoad,
    ]
    tables = [m._meta.db_table for m in domain]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # Deferred foreign-key checks still pending in this transaction would make TRUNCATE fail.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True, allow_cascade=True)
    connection.ops.execute_sql_flush(statements)
    usernames = [u.username for u in DEMO_STAFF] + [SUBSCRIBER_USERNAME]
    User.objects.filter(username__in=usernames).delete()
    User.objects.filter(username__startswith=EXTRA_AGENT_PREFIX).delete()


def _start_ids() -> dict[str, int]:
    return {table: (model._default_manager.aggregate(m=Max("pk"))["m"] or 0) + 1 for table, model in MODELS.items()}


def _extra_agents(generator: OperatorGenerator, count: int, skill_ids: dict[str, int]) -> list[User]:
    """More agents for bigger sizes (named like everyone else; they cannot log in)."""
    if count <= 0:
        return []
    existing = User.objects.filter(username__startswith=EXTRA_AGENT_PREFIX).order_by("username")
    if existing.exists():
        return list(existing)
    users = []
    for i in range(count):
        person = draw_person(generator.rng)
        users.append(
            User(
                username=f"{EXTRA_AGENT_PREFIX}{i + 1:04d}",
                first_name=person.first_name,
                last_name=person.last_name,
                role=Role.AGENT,
                available=True,
                presence="online",  # synthetic staff: treated as at the workspace
                password=make_password(None),
            )
        )
    User.objects.bulk_create(users)
    created = list(User.objects.filter(username__startswith=EXTRA_AGENT_PREFIX).order_by("username"))
    through = User.skills.through
    links = [through(user_id=u.pk, skill_id=skill_ids[code]) for u in created for code in ("tech", "billing", "tv")]
    through.objects.bulk_create(links)
    return created


BULK_MODE_SUBSCRIBERS = 20_000


def _drop_secondary_indexes() -> list[tuple[str, str]]:
    """Drop the big tables' indexes that back no constraint; returns (name, definition) to re-create."""
    tables = [MODELS[t]._meta.db_table for t in TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
              )
            ORDER BY i.indexname
            """,
            [tables],
        )
        indexes = [(name, definition) for name, definition in cursor.fetchall()]
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    return indexes


def _create_indexes(indexes: list[tuple[str, str]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)


@contextlib.contextmanager
def _fast_session(postgres: bool) -> Iterator[None]:
    """On PostgreSQL: no waiting for WAL flush per chunk and, for a superuser, no
    foreign-key triggers (the generator only writes keys it created)."""
    if not postgres:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = bool(cursor.fetchone()[0])
        if superuser:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
            if superuser:
                cursor.execute("RESET session_replication_role")


def load(
    size: Size,
    *,
    size_name: str,
    seed: int,
    anchor: datetime | None = None,
    progress: Progress | None = None,
) -> DemoLoad:
    """Generate and write a whole operator; returns the finished ``DemoLoad`` record."""
    say = progress or (lambda _msg: None)
    anchor = anchor or timezone.now().replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    postgres = connection.vendor == "postgresql"

    with transaction.atomic():
        config = build_config()
        users = ensure_demo_users(config.skills)
        record = DemoLoad.objects.create(size=size_name, seed=seed, subscribers=size.subscribers, anchor=anchor)
        generator = OperatorGenerator(
            seed=seed, size=size, config=config, staff=Staff([], []), anchor=anchor, start_ids=_start_ids()
        )
        extra = _extra_agents(generator, size.subscribers // SUBSCRIBERS_PER_EXTRA_AGENT, config.skills)
    demo_agents = [users["agent"], users["agent2"]]
    agents = demo_agents * max(1, len(extra) // 4) + extra + [users["supervisor"]]
    generator.staff = Staff(
        agents=[u.pk for u in agents],
        recorders=[users["agent"].pk, users["agent2"].pk, users["technician"].pk],
        names={u.pk: u.display_name() for u in (*agents, users["technician"])},
    )
    say(f"configuration and users: {time.perf_counter() - started:.1f} s")

    writer = make_writer()
    bulk_mode = postgres and size.subscribers >= BULK_MODE_SUBSCRIBERS
    indexes: list[tuple[str, str]] = []
    if bulk_mode:
        indexes = _drop_secondary_indexes()
        say(f"dropped {len(indexes)} secondary indexes for the load")
    generation = 0.0
    done = 0
    # SQLite: one transaction for the whole load; PostgreSQL: one per chunk, so
    # deferred foreign-key checks and the WAL stay bounded at any size.
    outer = contextlib.nullcontext() if postgres else transaction.atomic()
    with outer, _fast_session(postgres):
        chunks = generator.chunks()
        while True:
            t0 = time.perf_counter()
            chunk = next(chunks, None)
            generation += time.perf_counter() - t0
            if chunk is None:
                break
            with transaction.atomic():
                for table in TABLES:
                    writer.write(table, MODELS[table], chunk[table])
            done += len(chunk["subscriber"])
            if postgres or done == size.subscribers:
                elapsed = time.perf_counter() - started
                say(f"{done:>9} / {size.subscribers} subscribers, {elapsed:7.1f} s")

    if indexes:
        t0 = time.perf_counter()
        _create_indexes(indexes)
        say(f"re-created {len(indexes)} indexes: {time.perf_counter() - t0:.1f} s")
    with transaction.atomic():
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(MODELS.values())):
                cursor.execute(statement)
        portal = users[SUBSCRIBER_USERNAME]
        if not Subscriber.objects.filter(portal_user=portal).exists():
            first = (
                Subscriber.objects.filter(kind=Subscriber.Kind.PERSON, portal_user__isnull=True).order_by("pk").first()
            )
            if first is not None:
                Subscriber.objects.filter(pk=first.pk).update(portal_user=portal)
                User.objects.filter(pk=portal.pk).update(first_name=first.first_name, last_name=first.last_name)
        # Cases were written in bulk, not through the actions: count each person's load once.
        from beskontakt.cases import workload

        workload.recount()
        record.finished_at = timezone.now()
        record.seconds = round(time.perf_counter() - started, 2)
        record.counts = {
            "tables": dict(writer.rows),
            "write_seconds": {k: round(v, 2) for k, v in writer.seconds.items()},
            "generation_seconds": round(generation, 2),
        }
        record.save()
    if postgres:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            for model in MODELS.values():
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        say(f"ANALYZE: {time.perf_counter() - t0:.1f} s")
    return record


def fingerprint() -> str:
    """A SHA-256 over the key fields of the generated rows (ids left out), to compare two loads."""
    digest = hashlib.sha256()
    queries: list[Any] = [
        Subscriber.objects.order_by("contract_number").values_list(
            "contract_number",
            "last_name",
            "first_name",
            "middle_name",
            "company_name",
            "segment",
            "balance",
            "search_text",
            "address__street",
            "address__building",
            "address__apartment",
        ),
        ContactPoint.objects.order_by("subscriber__contract_number", "pk").values_list(
            "subscriber__contract_number", "channel", "value", "normalized"
        ),
        Equipment.objects.order_by("pk").values_list(
            "subscriber__contract_number", "model", "serial_number", "mac_address"
        ),
        AccessRestriction.objects.order_by("pk").values_list(
            "subscriber__contract_number", "kind", "valid_from", "valid_until", "reason"
        ),
        Case.objects.order_by("pk").values_list(
            "subscriber__contract_number",
            "subject",
            "status",
            "priority",
            "category__code",
            "channel",
            "created_at",
            "first_response_at",
            "resolved_at",
            "sla_state",
            "next_due_at",
        ),
        Message.objects.order_by("pk").values_list(
            "case__subscriber__contract_number", "direction", "body", "created_at"
        ),
        Event.objects.order_by("pk").values_list("case__subscriber__contract_number", "kind", "at"),
        SlaClock.objects.order_by("pk").values_list("case__subscriber__contract_number", "kind", "state", "due_at"),
    ]
    for query in queries:
        for row in query.iterator(chunk_size=5000):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def skill_ids() -> dict[str, int]:
    """Skill code -> id (for re-creating demo users when the data is already there)."""
    return dict(Skill.objects.values_list("code", "pk"))
