import time

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection


class Command(BaseCommand):
    help = (
        "Wait until the database accepts connections: at start-up (bin/start) it may still be "
        "starting, or restarting."
    )

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=int, default=60, help="seconds (default 60)")

    def handle(self, *args, timeout, **options):
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
