"""Indexes for the search at 100,000 agreements (see README, "Performance"), on PostgreSQL only.

The search page's default order (Agreement.Meta.ordering) over published agreements: a page
of 20 is read from an index rather than by sorting every published agreement. SQLite cannot
index NULLS LAST.

Trigram (pg_trgm) GIN indexes serve the search's `icontains`, which Django writes
as `UPPER(column::text) LIKE UPPER(%s)`: each index is on that very expression. SQLite has no
such index and reads the (much smaller) tables it is used with; the results are the same."""

from django.db import migrations

TRIGRAM_INDEXES = {
    "agreement_title_trgm_idx": ("agreements_agreement", "title"),
    "agreement_summary_trgm_idx": ("agreements_agreement", "summary"),
    "agreement_place_trgm_idx": ("agreements_agreement", "place"),
    "person_name_trgm_idx": ("people_person", "name"),
    "person_native_name_trgm_idx": ("people_person", "native_name"),
    "person_alias_name_trgm_idx": ("people_personalias", "name"),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS agreement_published_order_idx ON agreements_agreement "
        "(signed_on DESC NULLS LAST, title) WHERE status = 'published'"
    )
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ["agreement_published_order_idx", *TRIGRAM_INDEXES]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0005_constraint_messages"),
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
