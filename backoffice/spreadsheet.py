"""Spreadsheets of agreements (CSV or XLSX, one row per agreement; docs/spreadsheet-import.md)
read into interchange lines, which the one importer (backoffice.interchange) then checks and
imports like any file. This module only translates: every rule about what an agreement may be
is the importer's, and its problems are told back in the spreadsheet's own terms, by row (as
the spreadsheet numbers it, the header being row 1) and column.
"""

import csv
import datetime
import io
import json
import re
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from agreements.exports import FORMULA_FIRST, csv_pieces, neutralise
from agreements.models import Agreement
from backoffice.interchange import AgreementRecords, export_records
from backoffice.interchange.exporting import CHUNK_SIZE

# (column, what it holds). Column names are what the header row must say (any case).
COLUMNS = [
    (
        "key",
        gettext_lazy(
            "A stable identifier, such as ecnu-huawei-2019. A row whose key is stored changes "
            "what its cells say of that agreement (an empty cell keeps the stored value); "
            "without a key the row adds a new agreement each time."
        ),
    ),
    ("title", gettext_lazy("Required.")),
    (
        "agreement_type",
        gettext_lazy(
            "Required: strategic partnership agreement, cooperation agreement, framework "
            "agreement, memorandum of understanding (or MoU), joint lab agreement … as in the "
            "admin's list of agreement types."
        ),
    ),
    (
        "status",
        gettext_lazy(
            "draft, review or published; when empty, draft for a new agreement, and unchanged "
            "for a stored one. Publishing needs the permission to publish."
        ),
    ),
    (
        "signed_on",
        gettext_lazy(
            "The date signed: 2019-07-03, or 2019-07 or 2019 when that is all that is known."
        ),
    ),
    ("place", gettext_lazy("Where it was signed.")),
    ("summary", gettext_lazy("What the agreement is about.")),
    ("term_starts_on", gettext_lazy("The start of its term, a date as signed_on.")),
    ("term_ends_on", gettext_lazy("The end of its term, a date as signed_on.")),
    ("term_years", gettext_lazy("The term in years, a whole number.")),
    (
        "parties",
        gettext_lazy(
            "Required. The institutions that signed, separated by ';'. Each is the name of a "
            "stored institution (any of its names, or its acronym), or a new one with its kind in "
            "brackets: Huawei Technologies [company] — kinds: university, company, government, "
            "research_institute, other; a country code may follow: [company, CN]. The unit that "
            "signed, if any, after ' / ': Huawei Technologies / Huawei Shanghai [company]."
        ),
    ),
    (
        "signatories",
        gettext_lazy(
            "Who signed, separated by ';', each as name | title | the party signed for: "
            "Sun Zhenrong | Vice President | East China Normal University."
        ),
    ),
    (
        "witnesses",
        gettext_lazy(
            "Who witnessed, separated by ';', each as name | title | organisation (an institution, "
            "as in parties)."
        ),
    ),
    ("attendees", gettext_lazy("Who else attended, as witnesses.")),
    (
        "focus_areas",
        gettext_lazy(
            "Technologies and fields, separated by ';': 5G; artificial intelligence. New ones are "
            "added."
        ),
    ),
    (
        "labs",
        gettext_lazy(
            "Joint labs the agreement founded or planned, by name, separated by ';'. A new name "
            "adds a proposed lab."
        ),
    ),
    ("source_url", gettext_lazy("The address of the article it is known from.")),
    ("source_title", gettext_lazy("That article's title.")),
    ("source_publisher", gettext_lazy("Who published it.")),
    ("source_published_on", gettext_lazy("When, a date as signed_on.")),
]
NAMES = [name for name, _help in COLUMNS]
REQUIRED = ["title", "agreement_type", "parties"]
# Where the importer's field paths are in a row: a path is told back by its column.
SIMPLE_PATHS = {
    "term.starts_on": "term_starts_on",
    "term.ends_on": "term_ends_on",
    "term.years": "term_years",
    "term": "term_years",
}
# A source's field, at whatever place the row's source has among a stored agreement's.
SOURCE_PATH = re.compile(r"^sources\[\d+\]\.(?P<field>url|title|publisher|published_on)$")
ROLES = {"signatories": "signatory", "witnesses": "witness", "attendees": "attendee"}
ROLE_COLUMNS = {role: column for column, role in ROLES.items()}
# The columns that say a key of an agreement's interchange record, where they are not named as
# it (what a row cannot say, such as photos, keeps its key's name).
COLUMNS_OF = {
    "term": "term_starts_on/term_ends_on/term_years",
    "participants": "signatories/witnesses/attendees",
    "sources": "source_url/source_title/source_publisher/source_published_on",
}
# The columns of one value each, named as the interchange's keys.
SCALARS = ("key", "title", "agreement_type", "status", "signed_on", "place", "summary")
# "Name [kind]" or "Name [kind, country]": an institution the row may add.
DESCRIBED = re.compile(
    r"^(?P<name>.*?)\s*\[\s*(?P<kind>[^,\]]*?)\s*(?:,\s*(?P<country>[^\]]*?)\s*)?\]$"
)
IMPORTER_ERROR = re.compile(r"^line (?P<line>\d+): (?P<path>\S+): (?P<message>.*)$", re.DOTALL)

# The longest spreadsheet read: beyond it, the command line (manage.py import_agreements).
MAX_ROWS = 5000
# What the cells of an XLSX file may add up to once unpacked (a small file may unpack huge).
MAX_UNPACKED_BYTES = 50 * 1024 * 1024

# The templates' example row: a real agreement (the demo's), under a key of its own, so that
# a template uploaded as it is adds an example rather than changing the real one.
EXAMPLE = {
    "key": "example-ecnu-huawei-2019",
    "title": "ECNU and Huawei strategic partnership agreement",
    "agreement_type": "strategic partnership agreement",
    "status": "draft",
    "signed_on": "2019-07-03",
    "place": "Huawei headquarters, Bantian, Longgang District, Shenzhen",
    "summary": "Cooperation on research innovation, talent training and a smart campus.",
    "parties": "East China Normal University [university, CN]; "
    "Huawei Technologies [company, CN] / Huawei Shanghai [company, CN]",
    "signatories": "Sun Zhenrong | Vice President | East China Normal University; "
    "Hao Guoqiang | General Manager | Huawei Shanghai",
    "witnesses": "Peng Bo | Vice President, Public and Government Affairs | Huawei Technologies",
    "attendees": "He Jifeng | Academician | East China Normal University",
    "focus_areas": "artificial intelligence; big data; cloud computing",
    "labs": "Smart Campus Innovation Lab",
    "source_title": "ECNU becomes a strategic partner of Huawei",
    "source_publisher": "East China Normal University",
}


class SpreadsheetError(Exception):
    """A file that cannot be read as a spreadsheet at all."""


@dataclass
class Sheet:
    """A spreadsheet read into interchange lines, and where each line came from."""

    lines: list = field(default_factory=list)
    rows: list = field(default_factory=list)  # the spreadsheet row of each line
    participant_columns: list = field(default_factory=list)  # per line, per participant
    errors: list = field(default_factory=list)  # "row R, column C: what is wrong"

    def tell(self, error):
        """An importer's "line N: path: message" in the spreadsheet's terms."""
        match = IMPORTER_ERROR.match(error)
        if not match:
            return error
        index = int(match["line"]) - 1
        row, path = self.rows[index], match["path"]
        column, message = column_of(path, self.participant_columns[index]), match["message"]
        if message == _("is required") and "." in path and path not in SIMPLE_PATHS:
            # A part of a cell, such as a party's name in "[company]". (The importer's message
            # was made in the active language, as this one is.)
            message = _("%(name)s is required") % {"name": re.findall(r"[a-z_]+", path)[-1]}
        if column is None:
            return _("row %(row)s: %(message)s") % {"row": row, "message": message}
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": row,
            "column": column,
            "message": message,
        }


def column_of(path, participant_columns):
    if path in SIMPLE_PATHS:
        return SIMPLE_PATHS[path]
    if source := SOURCE_PATH.match(path):
        return f"source_{source['field']}"
    head = re.match(r"^[a-z_]+", path)
    head = head.group(0) if head else ""
    if head == "participants":
        index = re.match(r"^participants\[(\d+)\]", path)
        return participant_columns[int(index.group(1))] if index else "signatories"
    if head in NAMES:
        return head
    return None  # the whole row: "agreement"


def read_csv(content):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError(
            _("The CSV file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
        ) from None
    if "\x00" in text:
        raise SpreadsheetError(_("This is not a CSV file."))
    try:
        rows = [
            [unneutralised(cell) for cell in row]
            for row in csv.reader(io.StringIO(text, newline=""))
        ]
    except csv.Error as error:  # a cell of more than 131,072 characters, say
        message = _("This CSV file cannot be read: %(error)s") % {"error": error}
        raise SpreadsheetError(message) from None
    return translate(enumerate(rows, start=1))


def unneutralised(cell):
    """A CSV cell as it was before a download prefixed it with ' so that a spreadsheet would not
    run it as a formula (agreements.exports.neutralise): a CSV this registry exported imports
    back as it was, whether the spreadsheet program kept the ' or hid it."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_FIRST else cell


def read_xlsx(content):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise SpreadsheetError(_("This is not an XLSX file.")) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise SpreadsheetError(
            _("This XLSX file unpacks to more than %(size)d MB; split it.")
            % {"size": MAX_UNPACKED_BYTES // 1024 // 1024}
        )
    try:
        # read_only streams the rows; data_only=False shows formulas as formulas, to refuse.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        message = _("This XLSX file cannot be read: %(error)s") % {"error": error}
        raise SpreadsheetError(message) from None
    try:
        # Read whole (its size is bounded above): a damaged sheet shows only as it is read.
        rows = [
            (number, [xlsx_value(cell) for cell in row])
            for number, row in enumerate(workbook.worksheets[0].iter_rows(), start=1)
        ]
        others = [sheet.title for sheet in workbook.worksheets[1:] if names_agreements(sheet)]
    except Exception as error:  # as for load_workbook
        message = _("This XLSX file cannot be read: %(error)s") % {"error": error}
        raise SpreadsheetError(message) from None
    finally:
        workbook.close()
    if others:
        # Only the first sheet is read (the template's second explains the columns): rows of
        # agreements on another would be left out without a word.
        raise SpreadsheetError(
            _(
                "Agreements are on more than one sheet (also on “%(sheet)s”), and only the "
                "first is read: put them all on the first sheet."
            )
            % {"sheet": others[0]}
        )
    return translate(rows)


def names_agreements(sheet):
    """Whether a sheet's first row names the columns every agreement needs."""
    first = next(sheet.iter_rows(max_row=1, values_only=True), ())
    header = {str(value).strip().lower() for value in first if not is_empty(value)}
    return set(REQUIRED) <= header


class Formula(str):
    """A cell holding a formula: refused, as its value is only known to a spreadsheet program."""


class ErrorValue(str):
    """A cell showing a spreadsheet's error (#N/A, #REF!): refused, not taken as text."""


def xlsx_value(cell):
    kind = getattr(cell, "data_type", None)
    if kind == "f":
        return Formula(cell.value)
    if kind == "e":
        return ErrorValue(cell.value)
    return cell.value


def translate(numbered_rows):
    """(row number, [cell values]) into a Sheet; the first row is the header."""
    sheet = Sheet()
    header = None
    records = []  # (record, the column of each of its participants), a row's each
    for number, cells in numbered_rows:
        if header is None:
            header = read_header(cells, sheet)
            if sheet.errors:
                return sheet
            continue
        if all(is_empty(value) for value in cells):
            continue
        if len(records) >= MAX_ROWS:
            sheet.errors.append(
                _(
                    "More than %(rows)d rows: split the file, or import it with "
                    "manage.py import_agreements."
                )
                % {"rows": MAX_ROWS}
            )
            return sheet
        values = {}
        for index, value in enumerate(cells):
            column = header[index] if index < len(header) else None
            if is_empty(value):
                continue
            if column is None:
                sheet.errors.append(
                    _("row %(row)s: a value in a column without a header") % {"row": number}
                )
            elif isinstance(value, Formula):
                sheet.errors.append(
                    _("row %(row)s, column %(column)s: is a formula; enter its value instead")
                    % {"row": number, "column": column}
                )
            elif isinstance(value, ErrorValue):
                sheet.errors.append(
                    _("row %(row)s, column %(column)s: shows the error %(error)s; enter a value")
                    % {"row": number, "column": column, "error": value}
                )
            else:
                values[column] = value
        for column in ROLES:
            for item in items(values.get(column, "")):
                if item.count("|") > 2:  # nothing of it may be left out without a word
                    message = _(
                        "row %(row)s, column %(column)s: “%(item)s” has more parts than "
                        "name | title | organisation"
                    )
                    sheet.errors.append(message % {"row": number, "column": column, "item": item})
        records.append(to_record(values))
        sheet.rows.append(number)
    if header is None:
        sheet.errors.append(_("The file is empty: the first row must name the columns."))
    elif not records and not sheet.errors:
        sheet.errors.append(_("The file has a header row but no agreements."))
    for record, participant_columns in with_stored(records):
        sheet.lines.append(json.dumps(record, ensure_ascii=False))
        sheet.participant_columns.append(participant_columns)
    return sheet


def read_header(cells, sheet):
    header, seen = [], set()
    for value in cells:
        name = "" if is_empty(value) else str(value).strip().lower()
        if name and name not in NAMES:
            sheet.errors.append(
                _("row 1, column %(column)s: unknown column; the columns are: %(names)s")
                % {"column": value, "names": ", ".join(NAMES)}
            )
        elif name in seen:
            sheet.errors.append(_("row 1, column %(column)s: given twice") % {"column": name})
        seen.add(name)
        header.append(name or None)
    for name in REQUIRED:
        if name not in seen:
            sheet.errors.append(_("row 1: the column %(column)s is missing") % {"column": name})
    return header


def is_empty(value):
    return value is None or (isinstance(value, str) and not value.strip())


def text(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def whole_number(value):
    """A number of years as the importer wants it; anything else as written, for the importer
    to refuse in its words."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    value = text(value)
    # Nine digits at most: int() refuses thousands, and no term lasts a billion years.
    return int(value) if value.isdecimal() and len(value) < 10 else value


def items(value):
    """A cell's list: separated by ;, or one item a line, when a ; is part of an item (a title
    such as "Academician; Head of the School"). A ; ending a line separates nothing more."""
    value = text(value)
    parts = value.splitlines() if "\n" in value else value.split(";")
    return [item for part in parts if (item := part.strip().removesuffix(";").strip())]


def institution(reference):
    """ "Name" (a stored institution) or "Name [kind, country]" (one the row may add)."""
    match = DESCRIBED.match(reference)
    if not match:
        return reference
    described = {"name": match["name"], "kind": match["kind"]}
    if match["country"]:
        described["country"] = match["country"].upper()
    return described


def organisation(reference):
    """An institution as in parties, "Name" or "Name [kind]", or a unit of one after " / ":
    "China Unicom / Tianjin Branch", which tells apart units of one name."""
    parent, _slash, unit = reference.partition(" / ")
    if not unit.strip():
        return institution(reference)
    unit = institution(unit.strip())
    return {
        **(unit if isinstance(unit, dict) else {"name": unit}),
        "parent": institution(parent.strip()),
    }


def name_of(reference):
    return reference["name"] if isinstance(reference, dict) else reference


def to_record(values):
    """One row's values (by column) as an interchange record, and the column each participant
    came from."""
    record = {}
    for name in SCALARS:
        if name in values:
            record[name] = text(values[name])
    term = {}
    for column, key in (("term_starts_on", "starts_on"), ("term_ends_on", "ends_on")):
        if column in values:
            term[key] = text(values[column])
    if "term_years" in values:
        term["years"] = whole_number(values["term_years"])
    if term:
        record["term"] = term
    parties = []  # given only when the cell is: a stored agreement keeps its own otherwise
    for item in items(values.get("parties", "")):
        institution_part, _slash, unit_part = item.partition(" / ")
        party = {"institution": institution(institution_part.strip())}
        if unit_part.strip():
            party["unit"] = institution(unit_part.strip())
        parties.append(party)
    if parties:
        record["parties"] = parties
    participants, columns = [], []
    for column, role in ROLES.items():
        for item in items(values.get(column, "")):
            name, title, other = ([part.strip() for part in item.split("|")] + ["", ""])[:3]
            participant = {"person": {"name": name}, "role": role}
            if title:
                participant["title"] = title
            if other:
                # An organisation may be new (a witness from a municipal government); the party
                # signed for is one of the row's parties, by name.
                participant["organisation"] = organisation(other)
                if role == "signatory":
                    participant["on_behalf_of"] = name_of(participant["organisation"])
            participants.append(participant)
            columns.append(column)
    if participants:
        record["participants"] = participants
    if "focus_areas" in values:
        record["focus_areas"] = items(values["focus_areas"])
    if "labs" in values:
        record["labs"] = [{"name": name} for name in items(values["labs"])]
    source = {
        key: text(values[f"source_{key}"])
        for key in ("url", "title", "publisher", "published_on")
        if f"source_{key}" in values
    }
    if source:
        record["sources"] = [source]
    return record, columns


def with_stored(records):
    """Each (record, participant columns) of a row, that of a row whose key is a stored
    agreement's completed from what is stored: a row changes what its cells say, and an empty
    cell, a column the file lacks or what no spreadsheet can say (photos, relations, other
    sources, a lab's outcome) keeps the stored value. Otherwise the importer, which takes a
    line for the whole agreement, would clear all of that for a row correcting a title."""
    keys = {record["key"] for record, _columns in records if record.get("key")}
    pks = list(Agreement.objects.filter(slug__in=keys).values_list("pk", flat=True))
    stored = {}
    exporter = AgreementRecords()
    for start in range(0, len(pks), CHUNK_SIZE):
        for found in exporter.read(pks[start : start + CHUNK_SIZE]):
            stored[found["key"]] = found
    for record, columns in records:
        if record.get("key") in stored:
            yield updated(stored[record["key"]], record, columns)
        else:
            yield record, columns


def updated(stored, record, columns):
    """The stored agreement's `stored` record changed by a row's `record` (what its cells
    said), and the column of each participant of the result."""
    merged = {**stored, **{key: value for key, value in record.items() if key in SCALARS}}
    merged["term"] = {**stored["term"], **record.get("term", {})}
    merged["parties"] = record.get("parties", stored["parties"])
    # A role's cell lists all of that role, in place of the stored ones; the other roles stay.
    given = record.get("participants", [])
    roles = {participant["role"] for participant in given}
    participants, placed = [], set()
    for participant in stored["participants"]:
        role = participant["role"]
        if role not in roles:
            participants.append(participant)
        elif role not in placed:
            participants += [other for other in given if other["role"] == role]
            placed.add(role)
    participants += [other for other in given if other["role"] not in placed]
    merged["participants"] = participants
    if "focus_areas" in record:
        merged["focus_areas"] = record["focus_areas"]
    if "labs" in record:
        # A lab named again keeps what the agreement says of it (its outcome).
        linked = {lab["name"].casefold(): lab for lab in stored["labs"]}
        merged["labs"] = [linked.get(lab["name"].casefold(), lab) for lab in record["labs"]]
    if "sources" in record:
        merged["sources"] = with_source(stored["sources"], record["sources"][0])
    return merged, [ROLE_COLUMNS[participant["role"]] for participant in participants]


def with_source(sources, source):
    """A stored agreement's sources with the row's: the one of its address (or, the row giving
    none, of its title; giving neither, the first) takes the row's values, else it is added."""
    for index, stored in enumerate(sources):
        if source.get("url"):
            same = stored["url"] == source["url"]
        else:
            same = "title" not in source or stored["title"] == source["title"]
        if same:
            return [*sources[:index], {**stored, **source}, *sources[index + 1 :]]
    return [*sources, source]


def template_csv():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(NAMES)
    writer.writerow([EXAMPLE.get(name, "") for name in NAMES])
    return buffer.getvalue().encode("utf-8")


def template_xlsx():
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "agreements"
    sheet.append(NAMES)
    sheet.append([EXAMPLE.get(name, "") for name in NAMES])
    help_sheet = workbook.create_sheet("columns")
    help_sheet.append(["column", "what it holds"])
    for name, description in COLUMNS:
        help_sheet.append([name, str(description)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def exported_rows(agreements):
    """Each agreement as a row of the columns (NAMES), as `to_record` reads it back: exported,
    corrected and imported, a row changes only what was corrected. Written from the
    interchange records (backoffice.interchange), a chunk at a time. What a row cannot say
    (docs/spreadsheet-import.md) is left out."""
    for record in export_records(agreements):
        term, source = record["term"], (record["sources"] or [{}])[0]
        values = {
            **{name: record[name] for name in ("key", "title", "agreement_type", "status")},
            **{name: record[name] for name in ("signed_on", "place", "summary")},
            "term_starts_on": term["starts_on"],
            "term_ends_on": term["ends_on"],
            "term_years": term["years"],
            "parties": listed(
                " / ".join(part["name"] for part in (party["institution"], party["unit"]) if part)
                for party in record["parties"]
            ),
            **{
                column: listed(
                    participant_cell(participant)
                    for participant in record["participants"]
                    if participant["role"] == role
                )
                for column, role in ROLES.items()
            },
            "focus_areas": listed(record["focus_areas"]),
            "labs": listed(lab["name"] for lab in record["labs"]),
            **{
                f"source_{key}": source.get(key)
                for key in ("url", "title", "publisher", "published_on")
            },
        }
        yield [values[name] for name in NAMES]


def listed(items):
    """A list as `items` reads it back: one item a line when an item holds a ;."""
    items = list(items)
    return ("\n" if any(";" in item for item in items) else "; ").join(items)


def participant_cell(participant):
    """name | title | organisation, without the empty parts at its end. A signatory's
    organisation is also the party signed for, as the row is read (to_record). A unit is
    named with its parent, "China Unicom / Tianjin Branch", as units may share a name."""
    organisation = participant["organisation"]
    if organisation and organisation["parent"]:
        organisation = f"{organisation['parent']['name']} / {organisation['name']}"
    elif organisation:
        organisation = organisation["name"]
    parts = [
        participant["person"]["name"],
        participant["title"] or "",
        organisation or participant["on_behalf_of"] or "",
    ]
    while not parts[-1]:
        parts.pop()
    return " | ".join(parts)


def export_csv(agreements):
    """The rows as CSV text, in pieces of about SEND_SIZE characters. A cell that would run as
    a formula is prefixed with ', which read_csv takes off again."""
    return csv_pieces(
        NAMES, ([neutralise(value) for value in row] for row in exported_rows(agreements))
    )


def export_xlsx(agreements):
    """The rows as an XLSX workbook. Every text is a string cell, which no spreadsheet runs as
    a formula (openpyxl would make a formula of a text starting with =): so nothing is prefixed,
    and read_xlsx reads back exactly what was written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("agreements")
    sheet.append(NAMES)
    for row in exported_rows(agreements):
        sheet.append([string_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def string_cell(sheet, value):
    if not isinstance(value, str) or not value:
        return value or None  # a number of years, or nothing
    # The control characters no spreadsheet holds (openpyxl refuses the cell) are left out.
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell
