# ruff: noqa: S608 - every statement here is built from the search migrations' own constants
"""Every writer of the search's tables (PostgreSQL) takes the writers' lock of 0008 before it
works out which agreements its write touched, and before it writes search documents too.

Two writers at once lost or refused each other's changes:

- The agreements a write touches were worked out before the lock was had, so from what was
  committed then: an institution's kind changed while a party naming it was being added
  missed the new party's agreement, whose links and totals kept the old kind for good.
- Search documents were written without the lock, deleted and inserted again: an
  institution renamed while an agreement naming it was saved found the document it meant
  to replace already replaced by the other, and was refused with a duplicate key (a 500);
  had it not been, the document would have kept one of the two changes.

The lock is held to the end of the transaction, so a writer that waited for it works out
and refreshes its agreements from everything the writers before it committed. A transaction
that puts the refresh off to its end (search_index.refreshed_once) takes it then.
"""

import importlib

from django.db import migrations

first = importlib.import_module("agreements.migrations.0008_search_index")
acted_for = importlib.import_module("agreements.migrations.0018_search_organisations_acted_for")
run = importlib.import_module("agreements.migrations.0009_deferred_search_refresh").run

LOCK = "PERFORM pg_advisory_xact_lock(5318008);"
LOCK_FIRST = f"""
        -- The writers' lock before the agreements touched are worked out (0021).
        IF current_setting('registry.search_deferred', true) IS DISTINCT FROM 'on' THEN
            {LOCK}
        END IF;"""


def trigger_functions(locked):
    """The functions of the triggers of 0008 as 0018 left them, with or without the lock."""
    sources = {**first.SOURCES, **acted_for.sources(organisations=True)}
    statements = []
    for table, (link_columns, document_columns, affected, events) in sources.items():
        for event in events:
            sql = first.trigger_sql(table, link_columns, document_columns, affected, event)
            function = sql.split("CREATE TRIGGER")[0]
            function = function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
            if locked:
                function = function.replace("BEGIN", "BEGIN" + LOCK_FIRST, 1)
            statements.append(function)
    return "\n".join(statements)


REFRESH_NOW = acted_for.refresh_now(organisations=True)
LINKS = "\n    IF links THEN\n"
assert REFRESH_NOW.count(LINKS) == 1
# The documents are written under the lock as the links are.
REFRESH_NOW_LOCKED = REFRESH_NOW.replace(LINKS, f"\n    {LOCK}{LINKS}")

FORWARD = REFRESH_NOW_LOCKED + "\n" + trigger_functions(locked=True)
BACKWARD = REFRESH_NOW + "\n" + trigger_functions(locked=False)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0020_feed_index")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
