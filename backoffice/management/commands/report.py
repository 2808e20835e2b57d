import logging
from pathlib import Path

from django.core.management.base import CommandError

from backoffice.management.output import STANDARD_OUTPUT, BaseCommand, written_whole
from backoffice.report_files import FORMATS, report_file, report_words
from backoffice.reports import DEFAULT_SCOPE, REPORTS, SCOPES, run
from registry.models import InstitutionKind
from registry.text import file_name

logger = logging.getLogger(__name__)

# Options that name the search's parameters; those that may repeat OR their values.
REPEATABLE = ["institution", "kind", "country", "focus_area", "type"]
SINGLE = ["q", "signed_from", "signed_to", "has_lab", "signed_after", "signed_before"]
# What each means, as in the public search (README, "The public site and the API").
MEANING = {
    "q": "words, read as the public search reads them",
    "signed_from": "a year: signed in it or after",
    "signed_to": "a year: signed in it or before",
    "has_lab": "true or false: with a joint lab, or without",
    "signed_after": "a date, YYYY-MM-DD: signed on it or after",
    "signed_before": "a date, YYYY-MM-DD: signed on it or before",
    "institution": "an institution's slug, its units included",
    "kind": "a party's kind: " + ", ".join(InstitutionKind.values),
    "country": "a party's country, its ISO 3166-1 code (CN)",
    "focus_area": "a technology's slug",
    "type": "an agreement type's slug",
}


def sentence(text):
    text = str(text).strip()
    return text if text.endswith((".", "?", "!", "。")) else f"{text}."


class Command(BaseCommand):
    help = (
        "Write a back-office report as CSV, XLSX or PDF: the same file as its download in the "
        "admin, made with the same filters (the public search's, a date range, and which "
        "agreements to count: published ones unless --status says otherwise)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(REPORTS), help="the report")
        parser.add_argument("--format", choices=list(FORMATS), default="csv", help="default csv")
        parser.add_argument(
            "--output",
            "-o",
            help="the file to write (default: NAME-DATE.FORMAT; -: standard output, for an XLSX "
            "or a PDF only into a pipe or a file, not a terminal)",
        )
        parser.add_argument(
            "--status",
            choices=[value for value, _ in SCOPES],
            help="the agreements counted: published (the default), all, or draft (drafts and "
            "those in review)",
        )
        for name in SINGLE:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=MEANING[name])
        for name in REPEATABLE:
            parser.add_argument(
                f"--{name.replace('_', '-')}",
                dest=name,
                action="append",
                help=f"{MEANING[name]}; repeatable: any of them",
            )
        parser.add_argument("--days", help="terms-ending: the days ahead (default 90)")
        parser.add_argument("--top", help="people: people per role (default 10)")

    def handle(self, *args, name, format, output, **options):
        for option in ("days", "top"):
            # Another report's option was silently left out: the file seemed made with it.
            if options[option] is not None and option not in REPORTS[name].options:
                takers = ", ".join(
                    slug for slug, report in REPORTS.items() if option in report.options
                )
                raise CommandError(f"--{option} is an option of {takers}, not of {name}.")
        fields = ["status", "days", "top", *SINGLE, *REPEATABLE]
        result = run(REPORTS[name], {field: options[field] for field in fields})
        if result.errors:
            # Named as the operator typed them: --signed-from, not the form's signed_from.
            named = {field: f"--{field.replace('_', '-')}" for field in fields}
            # Django's messages are sentences, with their full stop: joined by "; " they read
            # "...choices.; --signed-after: ...".
            problems = [
                f"{named.get(field, field)}: {' '.join(map(sentence, errors))}"
                for field, errors in result.errors.items()
            ]
            raise CommandError(" ".join(problems))
        content = report_file(result, format)
        if output == STANDARD_OUTPUT:  # as a string: `-o ./-` is a file so named
            if format != "csv" and self.stdout.isatty():
                # Bytes that make no sense to read, and may upset the terminal.
                raise CommandError(
                    f"--format {format} is not written to a terminal: give --output FILE, "
                    "or redirect standard output (> FILE, | COMMAND)."
                )
            self.stdout.flush()
            self.stdout.buffer.write(content)
            output = "standard output"
            # Said on standard output, it would be the end of the file written there.
            said = self.stderr
        else:
            output = output or Path(file_name(*report_words(result), extension=format))
            with written_whole(output, "wb") as file:
                file.write(content)
            said = self.stdout
        said.write(f"Wrote {output} ({len(result.rows)} rows).")
        logger.info(
            "Report %s written to %r: rows=%d status=%s",
            name,
            str(output),
            len(result.rows),
            options["status"] or DEFAULT_SCOPE,
        )
