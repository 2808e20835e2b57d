"""Django's `createcachetable`, one run at a time on PostgreSQL, as `migrate` (bin/start runs
both on every app server): it looks for the table, then makes it, and two servers started
together would both make it."""

from django.core.management.commands import createcachetable
from django.db import connections

from registry.management.commands.migrate import one_at_a_time


class Command(createcachetable.Command):
    def handle(self, *args, **options):
        with one_at_a_time(connections[options["database"]]):
            return super().handle(*args, **options)
