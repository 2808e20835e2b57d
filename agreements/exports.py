"""Downloads of a filtered set of agreements as CSV or XLSX: one row per agreement, written as
the rows are read, so memory stays flat however many there are."""

import io
import re
from collections import defaultdict
from itertools import islice
from urllib.parse import quote

from django.db import connection
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from agreements.models import Agreement, Participation, Party, Role, Source
from registry.addresses import route
from registry.dates import PartialDate

COLUMNS = [
    "key",
    "title",
    "type",
    "signed_on",
    "place",
    # Named as the spreadsheet import names them (backoffice/spreadsheet.py).
    "term_starts_on",
    "term_ends_on",
    "term_years",
    "parties",
    "units",
    "signatories",
    "witnesses",
    "focus_areas",
    "labs",
    "sources",
    # The longest text, where it hides no other column.
    "summary",
    "url",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)
# Agreements read (with what they reference) at a time: memory is bounded by this, not by
# the number exported.
CHUNK_SIZE = 500
# Bytes of CSV gathered before they are sent: one write per row cost more than the rows.
SEND_SIZE = 64 * 1024
# What makes a CSV cell quoted (as csv.writer's QUOTE_MINIMAL does it): the delimiter, the
# quote, a line break.
QUOTED = re.compile(r'[,"\r\n]')
# The most a spreadsheet cell holds, in UTF-16 code units (what Excel counts).
XLSX_CELL_UNITS = 32767
REFERENCED = ["parties", "units", "signatories", "witnesses", "focus_areas", "labs", "sources"]


def page_addresses(request):
    """slug -> the absolute address of the agreement's public page, for `rows`: the route is
    reversed once (registry.addresses), as reversing it for each of 100,000 rows cost a fifth
    of a download."""
    before, after = route("agreements:detail")
    before = request.build_absolute_uri(before)
    return lambda slug: f"{before}{quote(slug)}{after}"


def neutralise(value):
    """A cell a spreadsheet would run as a formula is prefixed so that it shows as text, and
    the control characters no spreadsheet holds (all but tab and line breaks: openpyxl
    refuses the cell) are left out."""
    text = "" if value is None else ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def rows(agreements, *, absolute_url, with_status=False):
    """Each agreement as a list of cells, neutralised; `absolute_url(slug)` makes a page
    address. Staff exports, which may hold drafts, end each row `with_status`.

    Plain values, never model instances, read a chunk at a time (`_read`), so the queries and
    the memory do not grow with rows."""
    fields = (
        "pk",
        "slug",
        "title",
        "agreement_type__name",
        "signed_on",
        "signed_on_precision",
        "place",
        *("starts_on", "starts_on_precision", "ends_on", "ends_on_precision", "term_years"),
        "summary",
        "status",
    )
    for (
        _pk,
        slug,
        title,
        kind,
        signed_on,
        signed_precision,
        place,
        starts_on,
        starts_precision,
        ends_on,
        ends_precision,
        years,
        summary,
        status,
        *related,
    ) in _read(agreements, fields):
        row = [
            slug,
            title,
            kind,
            iso(signed_on, signed_precision),
            place,
            iso(starts_on, starts_precision),
            iso(ends_on, ends_precision),
            "" if years is None else str(years),
            *related,
            summary,
            absolute_url(slug),
        ]
        if with_status:
            row.append(status)
        # neutralise(), written out: every cell is text, and a call per cell cost a tenth of
        # a download. (Control characters are rare: one search a row finds them.)
        if ILLEGAL_CHARACTERS_RE.search("".join(row)):
            row = [ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row]
        yield [f"'{cell}" if cell[:1] in FORMULA_FIRST else cell for cell in row]


def iso(date, precision):
    """A date as stored, to its precision (`2019`, `2019-07`, `2019-07-03`); "" if unknown."""
    partial = PartialDate.from_fields(date, precision)
    return partial.isoformat() if partial else ""


def _read(agreements, fields):
    """Each agreement's `fields` then its REFERENCED columns, names joined by "; ".

    PostgreSQL keeps those joined in the search document (migration 0008), so one streamed
    query reads everything; elsewhere a chunk of agreements is read, then what they reference
    in one query per kind."""
    if connection.vendor == "postgresql":
        joined = [f"search_document__{name}" for name in REFERENCED]
        found = agreements.values_list(*fields, *joined).iterator(chunk_size=CHUNK_SIZE)
        for values in found:
            yield [*values[: len(fields)], *(names or "" for names in values[len(fields) :])]
        return
    found = agreements.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(found, CHUNK_SIZE)):
        related = referenced([row[0] for row in chunk])
        for row in chunk:
            yield [*row, *("; ".join(related[name][row[0]]) for name in REFERENCED)]


def referenced(ids):
    """{column: {agreement id: [names in order]}} for the columns that list related rows."""
    queries = {
        "parties": Party.objects.filter(agreement__any_of=ids).values_list(
            "agreement_id", "institution__name"
        ),
        "units": Party.objects.filter(agreement__any_of=ids, unit__isnull=False).values_list(
            "agreement_id", "unit__name"
        ),
        "signatories": Participation.objects.filter(
            agreement__any_of=ids, role=Role.SIGNATORY
        ).values_list("agreement_id", "person__name"),
        "witnesses": Participation.objects.filter(
            agreement__any_of=ids, role=Role.WITNESS
        ).values_list("agreement_id", "person__name"),
        "focus_areas": Agreement.focus_areas.through.objects.filter(
            agreement__any_of=ids
        ).values_list("agreement_id", "focusarea__name"),
        "labs": Agreement.labs.through.objects.filter(agreement__any_of=ids).values_list(
            "agreement_id", "lab__name"
        ),
        "sources": Source.objects.filter(agreement__any_of=ids)
        .exclude(url="")
        .values_list("agreement_id", "url"),
    }
    # Parties, people and sources keep their models' order (position, then entry); focus
    # areas and labs, which have none, are sorted here, the same on every database.
    related = {}
    for name in REFERENCED:
        related[name] = defaultdict(list)
        for agreement_id, value in queries[name]:
            related[name][agreement_id].append(value)
    for name in ("focus_areas", "labs"):
        for names in related[name].values():
            names.sort()
    return related


def columns(with_status):
    return [*COLUMNS, "status"] if with_status else COLUMNS


def csv_lines(agreements, *, absolute_url, with_status=False):
    """The CSV text, in pieces of whole lines of about SEND_SIZE characters."""
    found = rows(agreements, absolute_url=absolute_url, with_status=with_status)
    return csv_pieces(columns(with_status), found)


def csv_pieces(header, cells):
    """A header and rows of text cells as CSV text, in pieces of whole lines of about
    SEND_SIZE characters."""
    buffer = io.StringIO()
    buffer.write(csv_line(header))
    for row in cells:
        buffer.write(csv_line(row))
        if buffer.tell() >= SEND_SIZE:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_line(cells):
    """A row of text cells as csv.writer writes it (RFC 4180, lines ending CRLF). Not by the
    writer, as it copies a cell a character at a time: a summary of 800 characters cost five
    times the rest of its row, where this finds no character to quote at the speed of a
    search."""
    quoted = [
        '"' + cell.replace('"', '""') + '"' if QUOTED.search(cell) else cell for cell in cells
    ]
    return ",".join(quoted) + "\r\n"


def xlsx_bytes(agreements, *, absolute_url, with_status=False):
    """The workbook: the CSV's cells, but a number of years is a number, and a cell longer
    than a spreadsheet holds is cut (xlsx_cell)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("agreements")
    sheet.append(columns(with_status))
    years = COLUMNS.index("term_years")
    for row in rows(agreements, absolute_url=absolute_url, with_status=with_status):
        if max(map(len, row)) > XLSX_CELL_UNITS // 2:
            row = [xlsx_cell(cell) for cell in row]
        if row[years]:
            row[years] = int(row[years])
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def xlsx_cell(text):
    """`text`, or as much of it as fits in a cell, ending in "…": a summary has no limit,
    and Excel opens a file with a cell of more than 32,767 UTF-16 code units only after
    offering to "repair" it. The whole text is on the agreement's page and in the CSV."""
    if len(text) <= XLSX_CELL_UNITS // 2:  # two code units a character at most
        return text
    units = text.encode("utf-16-le")
    if len(units) <= 2 * XLSX_CELL_UNITS:
        return text
    # A pair of surrogates cut in two leaves half a character, which decoding drops.
    kept = units[: 2 * (XLSX_CELL_UNITS - 1)].decode("utf-16-le", errors="ignore")
    return f"{kept}…"
