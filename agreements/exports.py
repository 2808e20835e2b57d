"""Downloads of a filtered set of agreements as CSV or XLSX: one row per agreement, written as
the rows are read, so memory stays flat however many there are."""

import csv
import io

from django.db.models import Prefetch
from openpyxl import Workbook

from agreements.models import Participation, Party, Role

COLUMNS = [
    "key",
    "title",
    "type",
    "signed_on",
    "place",
    "parties",
    "units",
    "signatories",
    "witnesses",
    "focus_areas",
    "labs",
    "sources",
    "url",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Agreements read (with what they reference) at a time: memory is bounded by this, not by
# the number exported.
CHUNK_SIZE = 500


def neutralise(value):
    """A cell a spreadsheet would run as a formula is prefixed so that it shows as text."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def export_queryset(agreements):
    return agreements.select_related("agreement_type").prefetch_related(
        Prefetch("parties", Party.objects.select_related("institution", "unit")),
        Prefetch("participations", Participation.objects.select_related("person")),
        "focus_areas",
        "labs",
        "sources",
    )


def rows(agreements, *, absolute_url, with_status=False):
    """Each agreement as a list of cells, neutralised; `absolute_url` makes a page address.
    Staff exports, which may hold drafts, end each row `with_status`."""
    for agreement in export_queryset(agreements).iterator(chunk_size=CHUNK_SIZE):
        people = agreement.participations.all()
        row = [
            agreement.slug,
            agreement.title,
            agreement.agreement_type.name,
            agreement.signed.isoformat() if agreement.signed else "",
            agreement.place,
            "; ".join(party.institution.name for party in agreement.parties.all()),
            "; ".join(party.unit.name for party in agreement.parties.all() if party.unit),
            "; ".join(p.person.name for p in people if p.role == Role.SIGNATORY),
            "; ".join(p.person.name for p in people if p.role == Role.WITNESS),
            "; ".join(sorted(area.name for area in agreement.focus_areas.all())),
            "; ".join(sorted(lab.name for lab in agreement.labs.all())),
            "; ".join(source.url for source in agreement.sources.all() if source.url),
            absolute_url(agreement),
        ]
        if with_status:
            row.append(agreement.status)
        # Each prefetched list points back to its agreement, a cycle that only the garbage
        # collector frees, many chunks later; dropping it frees a chunk once it is written.
        agreement._prefetched_objects_cache.clear()
        yield [neutralise(cell) for cell in row]


def columns(with_status):
    return [*COLUMNS, "status"] if with_status else COLUMNS


def csv_lines(agreements, *, absolute_url, with_status=False):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns(with_status))
    yield buffer.getvalue()
    for row in rows(agreements, absolute_url=absolute_url, with_status=with_status):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def xlsx_bytes(agreements, *, absolute_url, with_status=False):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("agreements")
    sheet.append(columns(with_status))
    for row in rows(agreements, absolute_url=absolute_url, with_status=with_status):
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
