import time

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection


class Command(BaseCommand):
    help = (
        "Wait until the database accepts connections: at start-up (bin/start) it may still be "
        "starting, or restarting."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout", type=int, default=60, help="seconds, 0 or more (default 60; 0: one try)"
        )

    def handle(self, *args, timeout, **options):
        if timeout < 0:
            # It was taken as 0 (one try), as if the operator had meant that.
            raise CommandError(f"--timeout {timeout}: give a number of seconds, 0 or more.")
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.ensure_connection()
                return
            except OperationalError as error:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"The database did not answer within {timeout} seconds: {error}"
                    ) from None
                self.stderr.write(f"Waiting for the database: {error}".strip())
                time.sleep(1)
