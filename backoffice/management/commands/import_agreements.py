import contextlib
import logging
import sys
from pathlib import Path

from django.core.management.base import CommandError

from backoffice.interchange import import_lines
from backoffice.management.output import BaseCommand

logger = logging.getLogger(__name__)

# A file of 100,000 lines takes minutes (README, "Performance and scaling"): the operator is
# told how far it has read, on standard error, every so many lines.
PROGRESS_LINES = 10_000


class Command(BaseCommand):
    help = (
        "Import agreements from an interchange file (JSON Lines, one agreement per line). "
        "All or nothing: a file with any problem changes nothing, and every problem is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", type=Path, help="the .jsonl file to import; - reads standard input"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and say what would be created or updated, changing nothing",
        )

    def handle(self, *args, file, dry_run, **options):
        if str(file) == "-":  # standard input, as for cat
            # Kept open after: it is the process's. Relative photo paths are the folder's it
            # runs in.
            lines, base_dir = contextlib.nullcontext(sys.stdin.buffer), Path.cwd()
            file = "standard input"
        else:
            try:
                lines = file.open("rb")
            except OSError as error:
                raise CommandError(f"cannot read {file}: {error.strerror}") from None
            base_dir = file.resolve().parent  # relative photo paths are the file's neighbours
        with lines as read:
            try:
                report = import_lines(
                    self.told(read, options["verbosity"]), dry_run=dry_run, base_dir=base_dir
                )
            except OSError as error:
                # Storing a photo (in MEDIA_ROOT), or reading the file further: rolled back.
                where = f"import {file}: {error.filename}" if error.filename else f"read {file}"
                raise CommandError(
                    f"cannot {where}: {error.strerror or error}; nothing was imported."
                ) from None
        logger.info(
            "Import%s of %r: %s", " (dry run)" if dry_run else "", str(file), report.logged()
        )
        if report.errors:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(report.errors)} problem(s) in {file}; nothing was imported.")
        self.stdout.write(report.summary())

    def told(self, lines, verbosity):
        """The file's lines, saying every PROGRESS_LINES how many were read."""
        for number, line in enumerate(lines, start=1):
            if verbosity and number % PROGRESS_LINES == 0:
                self.stderr.write(f"{number:,} lines read")
            yield line
