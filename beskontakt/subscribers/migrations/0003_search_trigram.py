"""Trigram indexes for subscriber search (PostgreSQL only).

On PostgreSQL this enables ``pg_trgm`` and adds GIN trigram indexes on
``Subscriber.search_text`` and ``ContactPoint.normalized`` so that
``LIKE '%word%'`` lookups stay fast with a million subscribers, plus a GIN
full-text index on ``to_tsvector('simple', search_text)`` for word-prefix
search with several words. On SQLite
nothing happens (the search still works, with a table scan). The existing
``search_text`` values are rebuilt with ``ё`` folded into ``е``.
"""

from django.db import migrations
from django.db.models import Value
from django.db.models.functions import Replace

INDEXES = [
    ("subscribers_subscriber", "search_text", "subscriber_search_trgm"),
    ("subscribers_contactpoint", "normalized", "contact_normalized_trgm"),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column, name in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")
    # Word-prefix search (several words ANDed) is much cheaper on a full-text index.
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS subscriber_search_fts ON subscribers_subscriber "
        "USING gin (to_tsvector('simple'::regconfig, search_text))"
    )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP INDEX IF EXISTS subscriber_search_fts")


def fold_yo(apps, schema_editor):
    Subscriber = apps.get_model("subscribers", "Subscriber")
    Subscriber.objects.filter(search_text__contains="ё").update(
        search_text=Replace("search_text", Value("ё"), Value("е"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0002_subscriber_event"),
    ]

    operations = [
        migrations.RunPython(fold_yo, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
