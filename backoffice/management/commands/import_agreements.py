import logging
from pathlib import Path

from django.core.management.base import CommandError

from backoffice.interchange import import_lines
from backoffice.management.output import BaseCommand

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Import agreements from an interchange file (JSON Lines, one agreement per line). "
        "All or nothing: a file with any problem changes nothing, and every problem is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the .jsonl file to import")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and say what would be created or updated, changing nothing",
        )

    def handle(self, *args, file, dry_run, **options):
        try:
            with file.open("rb") as lines:
                # Photos given as relative paths are found next to the file.
                report = import_lines(lines, dry_run=dry_run, base_dir=file.resolve().parent)
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        logger.info(
            "Import%s of %r: %s", " (dry run)" if dry_run else "", str(file), report.logged()
        )
        if report.errors:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(report.errors)} problem(s) in {file}; nothing was imported.")
        self.stdout.write(report.summary())
