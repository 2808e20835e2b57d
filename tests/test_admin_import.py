"""Importing agreements in the admin: an interchange file or a spreadsheet (CSV, XLSX), a
preview that is a dry run of the one importer, then confirmation (backoffice/import_views.py,
backoffice/spreadsheet.py)."""

import csv
import datetime
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook
from pytest_django.asserts import assertContains

from agreements.models import Agreement, AgreementRelation, Participation, StatusChange
from backoffice import import_views, spreadsheet
from backoffice.interchange import export_lines, import_lines
from people.models import Person
from registry.models import Institution, InstitutionKind
from tests.factories import (
    AgreementFactory,
    InstitutionFactory,
    UserFactory,
    two_companies_with_branches,
)
from tests.test_admin import undescribed
from tests.test_interchange import agreement, row_counts

pytestmark = pytest.mark.django_db

UPLOAD = reverse("agreement_import:upload")
CONFIRM = reverse("agreement_import:confirm")
DEMO = Path(settings.BASE_DIR) / "demo" / "agreements.jsonl"


def row(**values):
    """A spreadsheet row: the template's example, changed as the test says."""
    return {**spreadsheet.EXAMPLE, **values}


def csv_file(rows, name="agreements.csv", header=spreadsheet.NAMES):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(name, "") for name in header])
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"))


def xlsx_file(rows, name="agreements.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(spreadsheet.NAMES)
    for values in rows:
        sheet.append([values.get(name) for name in spreadsheet.NAMES])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def preview(client, file):
    return client.post(UPLOAD, {"file": file})


def confirm(client, response):
    return client.post(CONFIRM, {"token": response.context["token"]})


def problems(response):
    return list(response.context["problems"])


# The page and its entry point


def test_editors_see_the_import_link_and_page(editor_client):
    changelist = editor_client.get(reverse("admin:agreements_agreement_changelist"))

    assert UPLOAD in changelist.content.decode()
    page = editor_client.get(UPLOAD)
    assert page.status_code == 200
    assert "parties" in page.content.decode()


def test_staff_who_may_not_add_agreements_get_403():
    client = Client()
    client.force_login(UserFactory())  # staff, in no group

    assert client.get(UPLOAD).status_code == 403
    assert client.post(CONFIRM, {"token": "x"}).status_code == 403


def test_the_import_page_sends_others_to_the_login():
    response = Client().get(UPLOAD)

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_the_templates_have_the_columns_and_an_example_that_imports(editor_client, format):
    response = editor_client.get(reverse("agreement_import:template", args=[format]))

    assert response.status_code == 200
    content = response.content
    if format == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    else:
        rows = [list(r) for r in load_workbook(io.BytesIO(content)).active.values]
    assert rows[0] == spreadsheet.NAMES
    assert rows[1][spreadsheet.NAMES.index("key")] == "example-ecnu-huawei-2019"
    # The example row imports as it is, beside the real agreement it shows.
    real = AgreementFactory(slug="ecnu-huawei-2019", status="published")
    previewed = preview(editor_client, SimpleUploadedFile(f"template.{format}", content))
    assert previewed.context["lines"][0]["outcome"] == "created"
    confirm(editor_client, previewed)
    ecnu = Agreement.objects.get(slug="example-ecnu-huawei-2019")
    assert Agreement.objects.get(slug="ecnu-huawei-2019").title == real.title
    assert ecnu.parties.get(unit__name="Huawei Shanghai").institution.name == (
        "Huawei Technologies"
    )
    hao = ecnu.participations.get(person__name="Hao Guoqiang")
    assert (hao.role, hao.party.unit.name) == ("signatory", "Huawei Shanghai")


# Spreadsheets: the acceptance criteria


@pytest.mark.parametrize("make_file", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_a_spreadsheet_with_one_bad_row_is_rejected_whole_naming_row_and_column(
    editor_client, make_file
):
    before = row_counts()
    rows = [
        row(key="good-1"),
        row(key="good-2", signed_on="2019-13-40"),
        row(key="good-3"),
    ]

    response = preview(editor_client, make_file(rows))

    assert response.status_code == 200
    assert problems(response) == [
        "row 3, column signed_on: '2019-13-40' is not a real date: month must be in 1..12"
    ]
    assert row_counts() == before


@pytest.mark.parametrize("make_file", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_a_good_spreadsheet_imports_and_its_preview_matched_what_happened(editor_client, make_file):
    InstitutionFactory(name="East China Normal University", acronym="ECNU")
    rows = [
        row(),
        row(
            key="ecnu-tju-2020",
            title="ECNU and TJU cooperation agreement",
            agreement_type="MoU",
            parties="ECNU; Tianjin University [university, CN]",
            signatories="Sun Zhenrong | Vice President | ECNU",
            witnesses="",
            attendees="",
            term_years=5,
            labs="",
        ),
    ]

    shown = preview(editor_client, make_file(rows))
    lines = shown.context["lines"]
    assert [(line["place"], line["outcome"]) for line in lines] == [
        ("row 2", "created"),
        ("row 3", "created"),
    ]
    previewed = dict(line.split(": ", 1) for line in shown.context["summary"])
    assert previewed["agreements"] == "2 created, 0 updated, 0 unchanged"
    # ECNU is matched, not added again; Huawei, its Shanghai unit and Tianjin University are new.
    assert previewed["institutions"].startswith("3 created")
    assert ("institutions", "created", ["Tianjin University"]) in lines[1]["records"]
    assert not Agreement.objects.exists()

    done = confirm(editor_client, shown)

    assert done.status_code == 302
    assert Agreement.objects.count() == 2
    assert Institution.objects.count() == 4
    assert Person.objects.filter(name="Sun Zhenrong").count() == 1
    tju = Agreement.objects.get(slug="ecnu-tju-2020")
    assert (tju.agreement_type.name, tju.term_years) == ("memorandum of understanding", 5)
    assert tju.history.count() == 1


def test_confirming_imports_exactly_what_the_preview_counted(publisher_client):
    lines = DEMO.read_text(encoding="utf-8")  # published agreements: for a publisher
    shown = preview(publisher_client, SimpleUploadedFile("demo.jsonl", lines.encode()))
    expected = shown.context["summary"]

    confirm(publisher_client, shown)

    # Previewed again now, the same file would change nothing, and what it created is there.
    again = preview(publisher_client, SimpleUploadedFile("demo.jsonl", lines.encode()))
    counts = dict(line.split(": ", 1) for line in expected)
    created = {kind: int(value.split()[0]) for kind, value in counts.items()}
    assert Agreement.objects.count() == created["agreements"] == 2
    assert Institution.objects.count() == created["institutions"]
    assert Person.objects.count() == created["people"]
    assert {line["outcome"] for line in again.context["lines"]} == {"unchanged"}


@pytest.mark.parametrize(
    ("header", "values", "expected"),
    [
        (
            [*spreadsheet.NAMES, "colour"],
            row(),
            "row 1, column colour: unknown column; the columns are: key, title",
        ),
        (
            [name for name in spreadsheet.NAMES if name != "parties"],
            row(),
            "row 1: the column parties is missing",
        ),
        (spreadsheet.NAMES, row(parties="Nowhere Institute"), "row 2, column parties: no "),
        (
            spreadsheet.NAMES,
            row(parties="[company]"),
            "row 2, column parties: name is required",
        ),
        (spreadsheet.NAMES, row(title=""), "row 2, column title: is required"),
        (
            spreadsheet.NAMES,
            row(parties="Somewhere [castle]"),
            "row 2, column parties: 'castle' is not one of: university, company",
        ),
        (
            spreadsheet.NAMES,
            row(signatories="Li Peng | Dean | Tongji University [university]"),
            "row 2, column signatories: 'Tongji University' is not one of the parties",
        ),
        (
            spreadsheet.NAMES,
            row(term_years="ten"),
            "row 2, column term_years: expected a whole number of years",
        ),
        (spreadsheet.NAMES, row(agreement_type="treaty"), "row 2, column agreement_type: "),
        (
            spreadsheet.NAMES,
            row(term_years="²"),
            "row 2, column term_years: expected a whole number of years",
        ),
        (
            spreadsheet.NAMES,
            row(term_years="9" * 5000),
            "row 2, column term_years: expected a whole number of years",
        ),
        (
            spreadsheet.NAMES,
            row(witnesses="Li Peng | Dean | Tongji University | 2019"),
            "row 2, column witnesses: “Li Peng | Dean | Tongji University | 2019” has more"
            " parts than name | title | organisation",
        ),
    ],
    ids=[
        "unknown column",
        "missing column",
        "unknown institution",
        "a party without a name",
        "no title",
        "bad kind",
        "signatory for no party",
        "bad term",
        "unknown type",
        "a digit that is no number",
        "a number int() refuses",
        "a participant of four parts",
    ],
)
def test_problems_name_their_row_and_column(editor_client, header, values, expected):
    response = preview(editor_client, csv_file([values], header=header))

    assert problems(response)[0].startswith(expected)
    assert not Agreement.objects.exists()


def test_a_formula_cell_is_refused(editor_client):
    workbook = Workbook()
    workbook.active.append(spreadsheet.NAMES)
    workbook.active.append([row().get(name) for name in spreadsheet.NAMES])
    workbook.active["B2"] = '=CONCAT("a", "b")'
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = preview(editor_client, SimpleUploadedFile("f.xlsx", buffer.getvalue()))

    assert problems(response) == ["row 2, column title: is a formula; enter its value instead"]


def test_an_error_cell_is_refused_not_taken_as_text(editor_client):
    workbook = Workbook()
    workbook.active.append(spreadsheet.NAMES)
    workbook.active.append([row().get(name) for name in spreadsheet.NAMES])
    workbook.active["B2"] = "#N/A"  # openpyxl stores it as an error cell, as a program would
    assert workbook.active["B2"].data_type == "e"
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = preview(editor_client, SimpleUploadedFile("e.xlsx", buffer.getvalue()))

    assert problems(response) == ["row 2, column title: shows the error #N/A; enter a value"]


def test_dates_and_numbers_typed_as_such_in_xlsx_are_read(editor_client):
    rows = [row(signed_on=datetime.datetime(2019, 7, 3), term_years=3.0, status="")]

    confirm(editor_client, preview(editor_client, xlsx_file(rows)))

    stored = Agreement.objects.get()
    assert (stored.signed.isoformat(), stored.term_years, stored.status) == (
        "2019-07-03",
        3,
        "draft",
    )


# A row of a stored agreement's key: it changes what its cells say, and loses nothing else


def test_the_preview_says_what_each_line_changes_of_a_stored_agreement(
    publisher_client, in_english_afterwards
):
    """ "1 updated" told nothing of what a line would change: a summary emptied, people dropped."""
    assert not import_lines([agreement(status="published", summary="Old.")]).errors
    changed = agreement(status="published", summary="New.", place="Tianjin", signed_on="2020")
    same = agreement(status="published", summary="Old.")

    shown = preview(publisher_client, SimpleUploadedFile("a.jsonl", changed.encode()))
    kept = preview(publisher_client, SimpleUploadedFile("b.jsonl", same.encode()))

    assert shown.context["lines"][0]["changed"] == ["signed_on", "place", "summary"]
    assert "updated: signed_on, place, summary" in shown.text
    assert kept.context["lines"][0]["changed"] == []
    upload = SimpleUploadedFile("a.jsonl", changed.encode())
    shown = publisher_client.post(UPLOAD, {"file": upload}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "更新：signed_on、place、summary" in shown.text


def stored_demo():
    """The demo's agreements (photos, a source, labs with outcomes, people in three roles), one
    related to the other, as exported: [(key, record)]."""
    assert not import_lines(DEMO.read_text().splitlines(keepends=True)).errors
    ecnu, tju = Agreement.objects.order_by("slug")
    AgreementRelation.objects.create(source=tju, target=ecnu, type="follows")
    return exported()


def exported():
    return {json.loads(line)["key"]: json.loads(line) for line in export_lines(Agreement.objects)}


def imported(client, rows, header):
    shown = preview(client, csv_file(rows, header=header))
    assert "token" in shown.context, problems(shown)
    assert confirm(client, shown).status_code == 302
    return shown


@pytest.mark.parametrize(
    "header", [["key", "title", "agreement_type", "parties"], spreadsheet.NAMES]
)
def test_a_row_correcting_a_title_changes_the_title_alone(publisher_client, header):
    """A row was taken for the whole agreement: one correcting a title cleared the summary, the
    people, the labs, the source, the photos and the relations, and the preview said only "1
    updated". Columns the file lacks and empty cells now keep what is stored."""
    before = stored_demo()
    key = "tju-china-telecom-huawei-2020"

    shown = imported(publisher_client, [{"key": key, "title": "Corrected title"}], header)

    assert shown.context["lines"][0]["outcome"] == "updated"
    assert shown.context["lines"][0]["changed"] == ["title"]
    assert "updated: title" in shown.text
    assert shown.context["withdrawn"] == []  # an empty status keeps it published
    after = exported()
    assert after[key] == {**before[key], "title": "Corrected title"}
    assert after[key]["photos"] and after[key]["relations"] and after[key]["participants"]
    assert Agreement.objects.get(slug=key).photos.count() == 3


def test_a_row_saying_an_agreement_as_stored_changes_nothing(publisher_client):
    before = stored_demo()
    key = "ecnu-huawei-2019"
    record = before[key]
    same = {
        "key": key,
        "title": record["title"],
        "agreement_type": record["agreement_type"],
        "status": "published",
        "signed_on": record["signed_on"],
        "parties": "East China Normal University; Huawei Technologies / Huawei Shanghai",
        "focus_areas": "; ".join(record["focus_areas"]),
        "labs": "; ".join(lab["name"].upper() for lab in record["labs"]),  # any case
        "source_url": record["sources"][0]["url"],
    }
    counts = row_counts()

    shown = imported(publisher_client, [same], spreadsheet.NAMES)

    assert shown.context["lines"][0]["outcome"] == "unchanged"
    assert exported() == before
    assert row_counts() == counts


def test_a_role_given_replaces_that_role_alone_in_its_place(publisher_client):
    before = stored_demo()
    key = "ecnu-huawei-2019"

    shown = imported(
        publisher_client,
        [{"key": key, "witnesses": "Li Wei | Director | Huawei Technologies"}],
        spreadsheet.NAMES,
    )

    # Said in the sheet's terms: it has no column "participants".
    assert "updated: signatories/witnesses/attendees" in shown.text
    participants = exported()[key]["participants"]
    assert [(p["role"], p["person"]["name"]) for p in participants] == [
        *((p["role"], p["person"]["name"]) for p in before[key]["participants"][:2]),
        ("witness", "Li Wei"),
        *((p["role"], p["person"]["name"]) for p in before[key]["participants"][4:]),
    ]
    assert participants[:2] == before[key]["participants"][:2]
    assert participants[3:] == before[key]["participants"][4:]


def test_a_source_updates_the_stored_one_of_its_address_or_is_added(publisher_client):
    before = stored_demo()
    key = "ecnu-huawei-2019"
    stored = before[key]["sources"][0]

    imported(
        publisher_client,
        [{"key": key, "source_url": stored["url"], "source_publisher": "ECNU News"}],
        spreadsheet.NAMES,
    )
    assert exported()[key]["sources"] == [{**stored, "publisher": "ECNU News"}]

    imported(
        publisher_client,
        [{"key": key, "source_url": "https://example.org/more", "source_title": "More"}],
        spreadsheet.NAMES,
    )
    sources = exported()[key]["sources"]
    assert [source["url"] for source in sources] == [stored["url"], "https://example.org/more"]


def test_a_persons_organisation_may_be_a_unit_named_with_its_parent(editor_client):
    """ "Tianjin Branch" alone matches the branches of two companies; the columns of people
    said an organisation is "as in parties", where " / " names a unit, but took "China Unicom /
    Tianjin Branch" for one name, which no institution has."""
    telecom, unicom = two_companies_with_branches()
    people = {
        "witnesses": "Li Wei | Manager | China Unicom / Tianjin Branch",
        "attendees": "Wang Fang | Engineer | China Unicom / Beijing Branch [company, CN]",
    }

    sheet = row(parties="Tianjin University; China Telecom", signatories="", **people)
    imported(editor_client, [sheet], spreadsheet.NAMES)

    organisations = Participation.objects.order_by("role").values_list(
        "role", "organisation__name", "organisation__parent"
    )
    assert list(organisations) == [
        ("attendee", "Beijing Branch", unicom.pk),
        ("witness", "Tianjin Branch", unicom.pk),
    ]


def test_problems_of_a_kept_part_name_its_column(publisher_client):
    stored_demo()
    # The signatories are kept, and one signed for a party this row takes away.
    shown = preview(
        publisher_client,
        csv_file(
            [{"key": "ecnu-huawei-2019", "parties": "East China Normal University"}],
            header=["key", "title", "agreement_type", "parties"],
        ),
    )
    assert any(problem.startswith("row 2, column signatories:") for problem in problems(shown))


# Files that are not what they say


def damaged_xlsx():
    """A workbook whose sheet is cut off half-way: it opens, and fails as its rows are read."""
    good, damaged = io.BytesIO(xlsx_file([row()]).read()), io.BytesIO()
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(info, data)
    return damaged.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("agreements.xlsx", b"not a zip at all", "This is not an XLSX file."),
        ("agreements.csv", "naïve".encode("latin-1"), "The CSV file is not UTF-8 text."),
        ("agreements.csv", b"title,agreement_type,parties\n", "The file has a header row but no"),
        ("agreements.jsonl", b"{not json\n", "line 1: agreement: not valid JSON"),
        ("agreements.csv", b"PK\x03\x04\x14\x00\x00\x00", "This is not a CSV file."),
        (
            "agreements.csv",
            b"title,agreement_type,parties\n" + b"x" * 200_000 + b",MoU,ECNU\n",
            "This CSV file cannot be read: field larger than field limit",
        ),
        ("agreements.xlsx", damaged_xlsx(), "This XLSX file cannot be read:"),
        ("agreements.jsonl", b"\n  \r\n", "The file holds no agreements."),
    ],
    ids=[
        "garbage xlsx",
        "latin-1 csv",
        "no rows",
        "bad json",
        "binary csv",
        "huge csv cell",
        "damaged xlsx sheet",
        "empty interchange file",
    ],
)
def test_garbage_is_refused_with_a_message(editor_client, name, content, expected):
    response = preview(editor_client, SimpleUploadedFile(name, content))

    assert response.status_code == 200
    assert problems(response)[0].startswith(expected)
    assert not Agreement.objects.exists()


def test_a_file_of_another_type_empty_or_too_large_is_refused(editor_client, monkeypatch):
    wrong = preview(editor_client, SimpleUploadedFile("agreements.pdf", b"%PDF-1.4"))
    empty = preview(editor_client, SimpleUploadedFile("agreements.csv", b""))
    monkeypatch.setattr(import_views, "MAX_BYTES", 100)
    large = preview(editor_client, csv_file([row()]))

    assert "is not a .jsonl, .csv or .xlsx file" in wrong.context["form"].errors["file"][0]
    assert "at most" in large.context["form"].errors["file"][0]
    assert "empty" in empty.context["form"].errors["file"][0]


def test_the_file_field_is_read_with_its_help_and_its_error(editor_client):
    """A screen reader reads the field with the files it takes and, once refused, why."""
    for response in [
        editor_client.get(UPLOAD),
        preview(editor_client, SimpleUploadedFile("agreements.pdf", b"%PDF-1.4")),
    ]:
        assert 'aria-describedby="id_file_helptext' in response.text
        assert undescribed(response.text) == []


def test_agreements_on_a_second_sheet_are_not_left_out_without_a_word(editor_client):
    workbook = load_workbook(io.BytesIO(xlsx_file([row()]).read()))
    more = workbook.create_sheet("more")
    more.append(spreadsheet.NAMES)
    more.append([row(key="another").get(name) for name in spreadsheet.NAMES])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = preview(editor_client, SimpleUploadedFile("agreements.xlsx", buffer.getvalue()))

    assert problems(response) == [
        "Agreements are on more than one sheet (also on “more”), and only the first is read: "
        "put them all on the first sheet."
    ]
    # The template's second sheet, which explains the columns, is no such sheet.
    template = SimpleUploadedFile("agreements.xlsx", spreadsheet.template_xlsx())
    assert not preview(editor_client, template).context.get("problems")


def test_an_xlsx_that_unpacks_too_large_is_refused(editor_client, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_UNPACKED_BYTES", 1000)

    response = preview(editor_client, xlsx_file([row()]))

    assert problems(response)[0].startswith("This XLSX file unpacks to more than")


def test_too_many_rows_are_refused(editor_client, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 2)

    response = preview(editor_client, csv_file([row(key=f"k-{n}") for n in range(3)]))

    assert problems(response)[0].startswith("More than 2 rows")


def test_an_interchange_file_of_too_many_lines_is_refused(editor_client, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 2)
    lines = "\n".join(agreement(key=f"k-{n}") for n in range(3))

    response = preview(editor_client, SimpleUploadedFile("a.jsonl", lines.encode()))

    assert problems(response) == [
        "More than 2 lines: split the file, or import it with manage.py import_agreements."
    ]


def test_a_file_changing_more_stored_agreements_than_a_page_has_time_for_is_refused(
    publisher_client, monkeypatch
):
    """Each stored agreement a line names is compared before and after (some 35 ms): a few
    hundred took longer than the server gives a page, which then failed."""
    monkeypatch.setattr(import_views, "MAX_UPDATES", 2)
    for n in range(3):
        AgreementFactory(slug=f"k-{n}")
    three = "\n".join(agreement(key=f"k-{n}") for n in range(3))
    two_and_a_new_one = "\n".join(agreement(key=f"k-{n}") for n in (0, 1, 5))

    refused = preview(publisher_client, SimpleUploadedFile("a.jsonl", three.encode()))
    shown = preview(publisher_client, SimpleUploadedFile("b.jsonl", two_and_a_new_one.encode()))

    assert problems(refused) == [
        "The file changes 3 stored agreements; this page takes at most 2 at a time. Split the"
        " file, or import it with manage.py import_agreements."
    ]
    assert not shown.context.get("problems")
    assert shown.context["token"]  # its preview, to confirm


# Interchange files


def test_the_preview_warns_of_published_agreements_a_file_takes_off_the_site(publisher_client):
    """A line without a status is a draft: a publisher correcting a published agreement's
    summary with one would withdraw it, where only "1 updated" was said."""
    assert not import_lines([agreement(status="published")]).errors
    corrected = agreement(summary="Corrected.")  # no status

    shown = preview(publisher_client, SimpleUploadedFile("a.jsonl", corrected.encode()))
    kept = preview(
        publisher_client, SimpleUploadedFile("b.jsonl", agreement(status="published").encode())
    )

    assert shown.context["withdrawn"] == ["TJU and Huawei cooperation agreement (tju-huawei-2020)"]
    assert "This import takes 1 published agreement off the public site" in shown.text
    assert "taken off the public site (no longer published): 1" in shown.context["summary"][-1]
    assert kept.context["withdrawn"] == []
    assert "off the public site" not in kept.text


def test_the_preview_warns_of_lines_without_a_key_that_add_a_stored_agreement_again(editor_client):
    line = agreement(key=None, signed_on="2020-05") + "\n"
    assert not import_lines([line]).errors
    later = agreement(key=None, signed_on="2021-05", title="TJU and Huawei cooperation agreement")

    again = preview(editor_client, SimpleUploadedFile("a.jsonl", line.encode()))
    other_year = preview(editor_client, SimpleUploadedFile("b.jsonl", later.encode()))

    assert again.context["added_again"] == [
        "TJU and Huawei cooperation agreement (tju-and-huawei-cooperation-agreement-2), "
        "like tju-and-huawei-cooperation-agreement"
    ]
    assert "1 line has no key and would add an agreement the registry likely has" in again.text
    assert "added again without a key, though likely stored" in again.context["summary"][-1]
    # The same title, signed a year later: most likely another agreement (renewed, say).
    assert other_year.context["added_again"] == []
    assert "no key" not in other_year.text


def test_an_interchange_file_imports_after_its_preview(editor_client):
    shown = preview(editor_client, SimpleUploadedFile("a.jsonl", (agreement() + "\n").encode()))

    assert [line["place"] for line in shown.context["lines"]] == ["line 1"]
    assert not Agreement.objects.exists()
    confirm(editor_client, shown)
    assert Agreement.objects.get().slug == "tju-huawei-2020"


def test_an_interchange_file_with_a_bad_line_imports_nothing(editor_client):
    lines = [agreement(key="a"), agreement(key="b", agreement_type="treaty")]

    response = preview(editor_client, SimpleUploadedFile("a.jsonl", "\n".join(lines).encode()))

    assert problems(response)[0].startswith("line 2: agreement_type: unknown type 'treaty'")
    assert not Institution.objects.exists()


def test_problems_name_the_lines_of_the_file_blank_ones_counted(editor_client, tmp_path):
    text = "\n".join(["", "", agreement(key="a", agreement_type="treaty"), "", "{"]) + "\n"

    response = preview(editor_client, SimpleUploadedFile("a.jsonl", text.encode()))

    places = [problem.split(":")[0] for problem in problems(response)]
    assert places == ["line 3", "line 5"]
    # As the command line numbers them.
    (tmp_path / "a.jsonl").write_text(text)
    told = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_agreements", str(tmp_path / "a.jsonl"), stderr=told)
    assert [line.split(":")[0] for line in told.getvalue().splitlines()] == places


# Between preview and confirmation


def test_when_the_registry_changes_after_the_preview_nothing_is_imported_and_it_says_so(
    editor_client,
):
    shown = preview(editor_client, csv_file([row()]))
    # Meanwhile someone adds the agreement the file would add.
    AgreementFactory(slug=spreadsheet.EXAMPLE["key"], title="Added meanwhile")
    InstitutionFactory(name="East China Normal University", kind=InstitutionKind.UNIVERSITY)

    response = confirm(editor_client, shown)

    assert response.status_code == 200
    assert "has changed since the preview" in response.context["warning"]
    assert response.context["summary"][0] == "agreements: 0 created, 1 updated, 0 unchanged"
    assert [line["outcome"] for line in response.context["lines"]] == ["updated"]
    assert Agreement.objects.get().title == "Added meanwhile"
    # The new preview can be confirmed.
    confirm(editor_client, response)
    assert Agreement.objects.get().title == spreadsheet.EXAMPLE["title"]


def test_a_preview_is_confirmed_once(editor_client):
    shown = preview(editor_client, csv_file([row()]))
    confirm(editor_client, shown)

    again = confirm(editor_client, shown)

    assert again.status_code == 302 and again["Location"] == UPLOAD
    assert Agreement.objects.count() == 1


def test_the_upload_is_kept_in_the_session_not_in_media(editor_client, settings):
    preview(editor_client, csv_file([row()]))

    assert not list(Path(settings.MEDIA_ROOT).rglob("*"))
    assert len(editor_client.session[import_views.SESSION_KEY]) == 1


# Permissions of the lines


def test_an_editor_may_not_publish_by_importing(editor_client):
    response = preview(editor_client, csv_file([row(status="published")]))

    assert problems(response) == ["row 2, column status: you may not publish it; a publisher may"]
    assert not Agreement.objects.exists()


def test_a_publisher_may_and_the_move_names_them(publisher_client):
    shown = preview(publisher_client, csv_file([row(status="published")]))
    confirm(publisher_client, shown)

    stored = Agreement.objects.get()
    assert stored.status == Agreement.Status.PUBLISHED and stored.published_at
    move = StatusChange.objects.get(agreement=stored)
    assert move.by.groups.filter(name="Publishers").exists()
    assert stored.history.get().history_user == move.by == stored.published_by


def test_an_editor_may_not_withdraw_a_published_agreement_by_importing(editor_client):
    AgreementFactory(slug=spreadsheet.EXAMPLE["key"], status=Agreement.Status.PUBLISHED)

    response = preview(editor_client, csv_file([row(status="draft")]))

    assert problems(response) == ["row 2, column status: you may not withdraw it; a publisher may"]


def test_records_named_in_the_preview_are_listed_line_by_line(editor_client):
    InstitutionFactory(name="Tianjin University", kind=InstitutionKind.UNIVERSITY)
    lines = [agreement(key="x"), agreement(key="y")]

    shown = preview(editor_client, SimpleUploadedFile("a.jsonl", "\n".join(lines).encode()))

    first, second = (line["records"] for line in shown.context["lines"])
    assert ("institutions", "created", ["Huawei Technologies"]) in first
    assert ("institutions", "updated", ["Tianjin University"]) in first  # gains its acronym
    assert ("institutions", "matched", ["Huawei Technologies", "Tianjin University"]) in second


# In the language of the page


@pytest.fixture
def in_english_afterwards():
    yield
    translation.deactivate()  # a request in Chinese leaves Chinese active in this thread


def test_an_interchange_files_problems_are_told_in_the_language_of_the_page(
    editor_client, in_english_afterwards
):
    """Each problem is made while the request runs, in the language the browser asks for: what
    is wrong, by the importer, and the line and field it is at, by the page (the importer's
    "line N: path: " stays as the command prints it and the contract says)."""
    lines = [
        agreement(key="a", title="", status="archived"),
        agreement(key="b", parties=[{"institution": "Nowhere"}], signed_on="3 July 2019"),
        agreement(key="a"),
    ]
    upload = SimpleUploadedFile("a.jsonl", "\n".join(lines).encode())

    chinese = problems(editor_client.post(UPLOAD, {"file": upload}, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    upload.seek(0)
    english = problems(editor_client.post(UPLOAD, {"file": upload}, HTTP_ACCEPT_LANGUAGE="en"))

    assert english == [
        "line 1: title: is required",
        "line 1: status: 'archived' is not one of: draft, review, published",
        "line 2: signed_on: '3 July 2019' is not a date of the form YYYY-MM-DD, YYYY-MM or YYYY",
        "line 2: parties[0].institution: no institution is known as 'Nowhere'; to add one, give "
        "an object with name and kind",
        "line 3: key: 'a' is the key of line 1",
    ]
    assert chinese[0] == "第 1 行，title：为必填项"
    assert chinese[4] == "第 3 行，key：'a'已是第 1 行的标识"
    assert not [problem for problem in chinese if re.search(r"\b(is|the|line)\b", problem)]


def test_the_preview_tells_what_the_import_would_do_in_the_language_of_the_page(
    editor_client, in_english_afterwards
):
    upload = SimpleUploadedFile("a.jsonl", agreement().encode())

    shown = editor_client.post(UPLOAD, {"file": upload}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert shown.context["summary"][:2] == [
        "协议：新建 1 项，更新 0 项，0 项未变",
        "机构：新建 2 个，更新 0 个，匹配 0 个",
    ]
    (line,) = shown.context["lines"]
    assert line["outcome_shown"] == "新建"
    assertContains(shown, '<td class="import-outcome">新建</td>', html=True)
    # What is compared at confirmation is the importer's own words, whatever the language: a
    # preview seen in Chinese is confirmed from a page in English.
    assert line["outcome"] == "created"
    assert confirm(editor_client, shown).status_code == 302
    assert Agreement.objects.get().slug == "tju-huawei-2020"


def test_a_csv_cell_prefixed_against_formulas_is_read_without_the_prefix():
    """Whether the spreadsheet program kept the ' a download wrote or hid it, the import reads
    the value the registry exported; a ' before anything else is the text's own."""
    content = "title,agreement_type,parties,place,summary\n'=1+1,MoU,'-Uni,'Tianjin,=2\n"
    sheet = spreadsheet.read_csv(content.encode())
    record = json.loads(sheet.lines[0])
    assert (record["title"], record["parties"], record["place"], record["summary"]) == (
        "=1+1",
        [{"institution": "-Uni"}],
        "'Tianjin",
        "=2",
    )


def test_a_list_may_hold_one_item_a_line_so_that_an_item_may_hold_a_semicolon():
    content = (
        "title,agreement_type,parties,attendees\n"
        'Joint lab,MoU,"ECNU;\r\nHuawei","He Jifeng | Academician; Head of the School\n'
        'Wang Yan"\n'
    )
    record = json.loads(spreadsheet.read_csv(content.encode()).lines[0])
    assert record["parties"] == [{"institution": "ECNU"}, {"institution": "Huawei"}]
    assert [(p["person"]["name"], p.get("title")) for p in record["participants"]] == [
        ("He Jifeng", "Academician; Head of the School"),
        ("Wang Yan", None),
    ]
