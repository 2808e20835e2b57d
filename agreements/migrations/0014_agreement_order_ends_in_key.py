"""Agreements of one date and title keep one order, their keys', newest first: pages of a
search never repeat or skip one. On PostgreSQL, 0006's index of the published agreements in
that order is made again ending in the key, so that a page is still read from it (0011's, of
every agreement, ends in the key already)."""

import importlib

from django.db import migrations, models

# 0009's runner: its SQL on PostgreSQL, nothing on SQLite.
run = importlib.import_module("agreements.migrations.0009_deferred_search_refresh").run


def published_order_index(*columns):
    return (
        "DROP INDEX IF EXISTS agreement_published_order_idx; "
        "CREATE INDEX agreement_published_order_idx ON agreements_agreement "
        f"({', '.join(columns)}) WHERE status = 'published'"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0013_term_end_known_to_the_day"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="agreement",
            options={
                "ordering": [
                    models.OrderBy(models.F("signed_on"), descending=True, nulls_last=True),
                    "title",
                    "-pk",
                ],
                "permissions": [("publish_agreement", "Can publish and withdraw agreements")],
            },
        ),
        migrations.RunPython(
            run(published_order_index("signed_on DESC NULLS LAST", "title", "id DESC")),
            run(published_order_index("signed_on DESC NULLS LAST", "title")),
        ),
    ]
