"""Django's `migrate`, one run at a time on PostgreSQL. Each app server's bin/start migrates
(README, "Running several app servers"): started together, on a new database or after an
upgrade, they would apply the same migration at once, and all but one stop on a table or type
that the other has just made, or run a data migration twice."""

import contextlib

from django.core.management.commands import migrate
from django.db import connections

from registry import locks

# A session-level advisory lock: held by one run, others wait for it, then find nothing left
# to apply.
MIGRATIONS_LOCK = locks.MIGRATIONS


@contextlib.contextmanager
def one_at_a_time(connection):
    if connection.vendor != "postgresql":  # SQLite: one file, one server
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATIONS_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATIONS_LOCK])


class Command(migrate.Command):
    def handle(self, *args, **options):
        with one_at_a_time(connections[options["database"]]):
            return super().handle(*args, **options)
