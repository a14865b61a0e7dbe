"""Writing generated rows: PostgreSQL COPY, or a prepared multi-row INSERT elsewhere.

``bulk_create`` is kept as the portable reference writer (and used by tests to
check the fast writers agree with it); the loader picks COPY on PostgreSQL and
``executemany`` on other databases, which skips building model instances and
is several times faster on SQLite.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

from .generator import Row

# Field types whose Python values need converting before the database driver sees them.
_PREPARED_TYPES = (models.DateTimeField, models.DateField, models.DecimalField, models.JSONField)


class TableWriter:
    """Writes lists of row dicts into a model's table and keeps per-table timing and counts."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.rows: dict[str, int] = defaultdict(int)

    def write(self, label: str, model: type[models.Model], rows: Sequence[Row]) -> None:
        """Insert ``rows`` (dicts keyed by attribute name) into ``model``'s table."""
        if not rows:
            return
        started = time.perf_counter()
        self._write(model, rows)
        self.seconds[label] += time.perf_counter() - started
        self.rows[label] += len(rows)

    def _write(self, model: type[models.Model], rows: Sequence[Row]) -> None:
        raise NotImplementedError


def _columns(model: type[models.Model]) -> tuple[list[models.Field[Any, Any]], list[str], list[Any]]:
    """Concrete fields, their attribute names, and the value for a row that leaves a field out."""
    fields = list(model._meta.concrete_fields)
    now = timezone.now()
    defaults: list[Any] = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults.append(now)
        elif f.has_default():
            defaults.append(f.get_default())
        else:
            defaults.append(None)
    return fields, [f.attname for f in fields], defaults


class BulkCreateWriter(TableWriter):
    """``bulk_create`` in batches: the portable reference."""

    batch_size = 2000

    def _write(self, model: type[models.Model], rows: Sequence[Row]) -> None:
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=self.batch_size)


class ExecuteManyWriter(TableWriter):
    """One prepared INSERT run for many rows; values converted with each field's own database preparation."""

    def _write(self, model: type[models.Model], rows: Sequence[Row]) -> None:
        fields, names, defaults = _columns(model)
        qn = connection.ops.quote_name
        statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names come from model metadata
            qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields), ", ".join(["%s"] * len(fields))
        )
        preps: list[tuple[int, Callable[[Any], Any]]] = []
        for i, f in enumerate(fields):
            if isinstance(f, _PREPARED_TYPES):
                preps.append((i, lambda value, f=f: f.get_db_prep_save(value, connection)))  # type: ignore[misc]
        params = []
        for row in rows:
            values = [row.get(name, default) for name, default in zip(names, defaults, strict=True)]
            for i, prep in preps:
                if values[i] is not None:
                    values[i] = prep(values[i])
            params.append(values)
        with connection.cursor() as cursor:
            cursor.executemany(statement, params)


class CopyWriter(TableWriter):
    """PostgreSQL ``COPY ... FROM STDIN`` through psycopg 3: the fastest way to load rows."""

    def _write(self, model: type[models.Model], rows: Sequence[Row]) -> None:
        from psycopg import sql

        fields, names, defaults = _columns(model)
        json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
        )
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [row.get(name, default) for name, default in zip(names, defaults, strict=True)]
                for i in json_columns:
                    values[i] = json.dumps(values[i], ensure_ascii=False)
                copy.write_row(values)


def make_writer() -> TableWriter:
    """COPY on PostgreSQL, ``executemany`` elsewhere."""
    return CopyWriter() if connection.vendor == "postgresql" else ExecuteManyWriter()
