import logging

from agreements.models import Agreement
from backoffice.interchange import export_lines
from backoffice.management.output import STANDARD_OUTPUT, BaseCommand, written_whole

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Export every agreement, drafts included, as an interchange file (JSON Lines, UTF-8, "
        "one agreement per line, ordered by key) that imports into an empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", help="the file to write (default, or -: standard output)"
        )

    def handle(self, *args, output, **options):
        if output == STANDARD_OUTPUT:
            output = None
        lines = export_lines(Agreement.objects.all())
        if output is None:
            for line in lines:
                self.stdout.write(line, ending="")
        else:
            with written_whole(output, encoding="utf-8", newline="\n") as file:
                file.writelines(lines)
        logger.info(
            "Export of every agreement, drafts included, to %r: agreements=%d",
            output or "standard output",
            Agreement.objects.count(),
        )
