"""The registry's PostgreSQL advisory locks, each key in one place, so that no two of them are
ever the same lock. (SQLite writes one transaction at a time: nothing to queue for there.)"""

from django.db import connection

# Writers of the search's links, totals and documents (agreements/search_index.py). The
# triggers of migrations 0008 and 0021 take it by this number, written out in their SQL.
SEARCH_WRITERS = 5318008
# `migrate`, one run at a time (registry/management/commands/migrate.py); held by a session.
MIGRATIONS = 5318009
# Imports, one at a time (backoffice/interchange/importing.py).
IMPORTS = 5318010
# The first of two keys: a unique value being added, the second key its hash (forms).
UNIQUE_VALUE = 5318011
# Institutions given another parent, one transaction at a time, so that two moves at once
# cannot close a loop neither saw (registry 0009's trigger, Institution.clean).
INSTITUTION_TREE = 5318012


def held_until_commit(key, text=None):
    """Wait for the advisory lock of `key` (and of `text`, hashed, when given), then hold it
    to the end of this transaction."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if text is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [key, text])
