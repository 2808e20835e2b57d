"""The agreement admin's "spreadsheet to import" export (backoffice.spreadsheet.export_xlsx and
export_csv): the spreadsheet importer's own columns, so that agreements exported, corrected in
a spreadsheet and uploaded to the import page change only where they were corrected."""

import csv
import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from agreements.models import Agreement, AgreementRelation
from backoffice import spreadsheet
from backoffice.interchange import export_lines, import_lines
from labs.models import Lab, LabAgreement
from registry.models import InstitutionKind
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionFactory,
    LabAgreementFactory,
    LabFactory,
    ParticipationFactory,
    PartyFactory,
    PersonFactory,
    SourceFactory,
    two_companies_with_branches,
)
from tests.test_admin_exports import CHANGELIST, export_url
from tests.test_admin_import import DEMO, confirm, preview
from tests.test_interchange import row_counts

pytestmark = pytest.mark.django_db

FORMATS = ["xlsx", "csv"]


def download(client, format):
    response = client.get(export_url(f"import.{format}"))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def sheet_rows(content, format):
    if format == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8"))))
    return [list(row) for row in load_workbook(io.BytesIO(content)).active.values]


def assert_round_trip_changes_nothing(client, format):
    """The export, uploaded as it is: every row previewed as unchanged, and confirming it
    leaves every agreement (and every row of the registry, history included) as it was."""
    before, counts = "".join(export_lines(Agreement.objects.all())), row_counts()
    content = download(client, format)

    shown = preview(client, SimpleUploadedFile(f"agreements.{format}", content))
    assert shown.context.get("problems") is None, shown.context.get("problems")
    outcomes = [line["outcome"] for line in shown.context["lines"]]
    assert outcomes == ["unchanged"] * Agreement.objects.count()
    assert confirm(client, shown).status_code == 302

    assert "".join(export_lines(Agreement.objects.all())) == before
    assert row_counts() == counts


@pytest.mark.parametrize("format", FORMATS)
def test_the_demo_exported_to_import_imports_back_unchanged(publisher_client, format):
    """Whole: its photos, a source's note and what an agreement did for a lab ("extended"), which
    no row says, are kept from what is stored (spreadsheet.with_stored)."""
    report = import_lines(DEMO.read_text(encoding="utf-8").splitlines())
    assert not report.errors, report.errors
    ecnu, tju = Agreement.objects.order_by("slug")
    AgreementRelation.objects.create(source=tju, target=ecnu, type="follows")
    assert ecnu.photos.exists()

    assert_round_trip_changes_nothing(publisher_client, format)


@pytest.mark.parametrize("format", FORMATS)
def test_units_and_organisations_of_one_name_import_back_unchanged(publisher_client, format):
    """Two companies' "Tianjin Branch": a party's unit is read within its institution, a
    person's organisation is written with its parent ("China Unicom / Tianjin Branch")."""
    telecom, unicom = two_companies_with_branches()
    for company in (telecom, unicom):
        agreement = AgreementFactory(slug=f"with-{company.slug}")
        branch = company.units.get()
        PartyFactory(agreement=agreement, institution=company, unit=branch)
        ParticipationFactory(agreement=agreement, role="witness", organisation=branch)

    assert_round_trip_changes_nothing(publisher_client, format)


def agreements_saying_all_a_spreadsheet_can():
    """Units, all three roles with and without titles and organisations, a term, dates of
    each precision, several focus areas, labs, a source; a draft saying almost nothing."""
    university = InstitutionFactory(name="Tianjin University", acronym="TJU")
    college = InstitutionFactory(name="College of Intelligence and Computing", parent=university)
    telecom = InstitutionFactory(name="China Telecom", kind=InstitutionKind.COMPANY)
    branch = InstitutionFactory(name="China Telecom Tianjin Branch", parent=telecom)
    city = InstitutionFactory(name="Tianjin Municipal Government", kind=InstitutionKind.GOVERNMENT)
    rich = AgreementFactory(
        slug="tju-telecom-2020",
        title="TJU and China Telecom strategic cooperation",
        status="published",
        signed_on=datetime.date(2020, 5, 1),
        signed_on_precision="month",
        place="Tianjin",
        summary='Cooperation on 5G; a "smart campus" | and\nits network.',
        starts_on=datetime.date(2020, 1, 1),
        starts_on_precision="year",
        ends_on=datetime.date(2025, 5, 31),
        ends_on_precision="day",
        term_years=5,
    )
    tju = PartyFactory(agreement=rich, institution=university, unit=college, position=0)
    PartyFactory(agreement=rich, institution=telecom, unit=branch, position=1)
    people = [
        ("signatory", "Wang Shuxin", "Vice Dean", college, tju),
        ("witness", "Li Ming", "Deputy Mayor", city, None),
        ("witness", "Zhao Lei", "", None, None),
        ("attendee", "Chen Jing", "Professor; Dean of the School", None, None),
        ("attendee", "Liu Yang", "", university, None),
    ]
    for position, (role, name, title, organisation, party) in enumerate(people):
        ParticipationFactory(
            agreement=rich,
            person=PersonFactory(name=name),
            role=role,
            title=title,
            organisation=organisation,
            party=party,
            position=position,
        )
    rich.focus_areas.set(
        [FocusAreaFactory(name=name) for name in ("5G", "artificial intelligence", "big data")]
    )
    established = LabFactory(name="5G Joint Lab", status=Lab.Status.ESTABLISHED)
    LabAgreementFactory(lab=established, agreement=rich, outcome=LabAgreement.Outcome.FOUNDED)
    planned = LabFactory(name="Smart City Lab", status=Lab.Status.PROPOSED)
    LabAgreementFactory(lab=planned, agreement=rich, outcome=LabAgreement.Outcome.PROPOSED)
    SourceFactory(
        agreement=rich,
        title="TJU signs with China Telecom",
        publisher="Tianjin University",
        published_on=datetime.date(2020, 1, 1),
        published_on_precision="year",
    )
    PartyFactory(agreement=AgreementFactory(slug="a-draft", title="A draft"), institution=telecom)


@pytest.mark.parametrize("format", FORMATS)
def test_agreements_saying_all_a_spreadsheet_can_import_back_unchanged(publisher_client, format):
    agreements_saying_all_a_spreadsheet_can()

    header, *rows = sheet_rows(download(publisher_client, format), format)
    assert header == spreadsheet.NAMES
    draft, rich = (dict(zip(header, row, strict=True)) for row in rows)  # ordered by key
    assert rich == {
        "key": "tju-telecom-2020",
        "title": "TJU and China Telecom strategic cooperation",
        "agreement_type": "cooperation agreement",
        "status": "published",
        "signed_on": "2020-05",
        "place": "Tianjin",
        "summary": 'Cooperation on 5G; a "smart campus" | and\nits network.',
        "term_starts_on": "2020",
        "term_ends_on": "2025-05-31",
        "term_years": "5" if format == "csv" else 5,
        "parties": "Tianjin University / College of Intelligence and Computing; "
        "China Telecom / China Telecom Tianjin Branch",
        "signatories": "Wang Shuxin | Vice Dean | Tianjin University / College of Intelligence "
        "and Computing",
        "witnesses": "Li Ming | Deputy Mayor | Tianjin Municipal Government; Zhao Lei",
        # A ; in an item: one item a line.
        "attendees": "Chen Jing | Professor; Dean of the School\nLiu Yang |  | Tianjin University",
        "focus_areas": "5G; artificial intelligence; big data",
        "labs": "5G Joint Lab; Smart City Lab",
        "source_url": rich["source_url"],
        "source_title": "TJU signs with China Telecom",
        "source_publisher": "Tianjin University",
        "source_published_on": "2020",
    }
    assert rich["source_url"].startswith("https://")
    empty = "" if format == "csv" else None
    assert (draft["status"], draft["parties"], draft["signed_on"]) == (
        "draft",
        "China Telecom",
        empty,
    )

    assert_round_trip_changes_nothing(publisher_client, format)


def test_a_formula_looking_value_is_text_in_the_file_and_imports_back_as_it_was(publisher_client):
    title = '=HYPERLINK("https://evil.example","click")'
    agreement = AgreementFactory(title=title, place="+1-2", summary="-5 years")
    PartyFactory(agreement=agreement, institution=InstitutionFactory(name="@Home University"))

    xlsx = download(publisher_client, "xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")  # no formula at all
    cells = next(load_workbook(io.BytesIO(xlsx), read_only=True).active.iter_rows(min_row=2))
    by_column = dict(zip(spreadsheet.NAMES, cells, strict=False))
    assert (by_column["title"].value, by_column["title"].data_type) == (title, "s")
    # In CSV, which has no types, a spreadsheet program would run it: it is prefixed.
    _header, row = sheet_rows(download(publisher_client, "csv"), "csv")
    assert row[spreadsheet.NAMES.index("title")] == f"'{title}"
    assert row[spreadsheet.NAMES.index("parties")] == "'@Home University"

    for format in FORMATS:
        assert_round_trip_changes_nothing(publisher_client, format)
        assert Agreement.objects.get().title == title


def queries_of_export(client, format):
    with CaptureQueriesContext(connection) as captured:
        download(client, format)
    return len(captured.captured_queries)


def add_agreements(count):
    """A published agreement saying all a row can, and a draft, each time under new names."""
    for _ in range(count):
        unit = InstitutionFactory(parent=InstitutionFactory())
        agreement = AgreementFactory(status="published", term_years=3)
        party = PartyFactory(agreement=agreement, institution=unit.parent, unit=unit)
        for role in ("signatory", "witness", "attendee"):
            ParticipationFactory(
                agreement=agreement,
                role=role,
                title="Dean",
                organisation=unit,
                party=party if role == "signatory" else None,
            )
        agreement.focus_areas.set([FocusAreaFactory(), FocusAreaFactory()])
        LabAgreementFactory(agreement=agreement)
        SourceFactory(agreement=agreement)
        PartyFactory(agreement=AgreementFactory())


@pytest.mark.parametrize("format", FORMATS)
def test_the_export_runs_as_many_queries_for_many_agreements_as_for_few(publisher_client, format):
    add_agreements(1)
    few = queries_of_export(publisher_client, format)
    add_agreements(20)

    assert queries_of_export(publisher_client, format) == few
    assert len(sheet_rows(download(publisher_client, format), format)) == 1 + 21 * 2


def test_staff_without_the_export_permission_cannot_export_to_import(editor_client):
    agreement = AgreementFactory()
    for format in FORMATS:
        assert editor_client.get(export_url(f"import.{format}")).status_code == 403
        posted = editor_client.post(
            reverse(CHANGELIST),
            {"action": f"export_import_{format}", "_selected_action": [agreement.pk]},
        )
        assert "attachment" not in posted.get("Content-Disposition", "")


@pytest.mark.parametrize("format", FORMATS)
def test_a_selection_exports_to_import_under_a_name_that_says_so(publisher_client, format):
    chosen = AgreementFactory(title="Chosen")
    AgreementFactory(title="Not chosen")
    response = publisher_client.post(
        reverse(CHANGELIST), {"action": f"export_import_{format}", "_selected_action": [chosen.pk]}
    )
    assert response.status_code == 200
    assert "agreements-to-import-" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith(f'.{format}"')
    content = b"".join(response.streaming_content) if response.streaming else response.content
    _header, *rows = sheet_rows(content, format)
    assert [row[spreadsheet.NAMES.index("title")] for row in rows] == ["Chosen"]


def test_the_list_links_to_the_export_to_import(publisher_client):
    changelist = publisher_client.get(reverse(CHANGELIST), {"status__exact": "draft"})
    content = changelist.content.decode()
    for format in FORMATS:
        assert f'{export_url(f"import.{format}")}?status__exact=draft"' in content
    assert "Export list as spreadsheet to import (XLSX)" in content


def test_the_import_page_tells_how_to_correct_stored_agreements(editor_client):
    page = editor_client.get(reverse("agreement_import:upload")).content.decode()
    assert "spreadsheet to import" in page
    assert reverse(CHANGELIST) in page
