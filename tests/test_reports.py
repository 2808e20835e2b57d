"""The back office's reports (backoffice/reports.py): their numbers on the demo data, worked out
by hand from the two demo agreements; their files; and who may see them."""

import csv
import datetime
import io
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from agreements.models import Agreement
from backoffice.report_files import CHART_COLOUR
from backoffice.reports import REPORTS, run
from labs.models import Lab
from registry.dates import PartialDate
from registry.models import Institution, InstitutionKind
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionFactory,
    LabAgreementFactory,
    ParticipationFactory,
    PartyFactory,
)

pytestmark = pytest.mark.django_db

DEMO = Path(settings.BASE_DIR) / "demo" / "agreements.jsonl"


@pytest.fixture
def demo():
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())


def rows(slug, **data):
    result = run(REPORTS[slug], data)
    assert not result.errors
    return [
        tuple(str(cell) if not isinstance(cell, int) else cell for cell in row)
        for row in result.rows
    ]


def download(client, slug, format, **query):
    response = client.get(reverse("reports:download", args=[slug, format]), query)
    assert response.status_code == 200, response.content[:300]
    return response


# The numbers, on the demo data: ECNU (university) and Huawei (company) signed on 2019-07-03;
# Tianjin University, China Telecom and Huawei (company, company) on 2020-09-24, all in China.


def test_agreements_per_year_by_kind_of_partner(demo):
    assert rows("per-year-by-kind") == [
        (2019, "university", 1),
        (2019, "company", 1),
        (2020, "university", 1),
        (2020, "company", 1),
    ]


def test_agreements_and_labs_per_company(demo):
    # Huawei: both agreements, with three labs under the first and one under the second;
    # China Telecom: the second, with its one lab. The signing units are not parties.
    assert rows("companies") == [("Huawei Technologies", 2, 4), ("China Telecom", 1, 1)]


def test_agreements_per_focus_area_over_time(demo):
    expected = Counter()
    for line in DEMO.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        year = int(record["signed_on"][:4])
        expected.update((area, year) for area in record["focus_areas"])
    assert len(expected) == 23  # 14 areas in 2019, 9 in 2020
    assert rows("focus-areas") == sorted(
        ((area, year, n) for (area, year), n in expected.items()),
        key=lambda row: (row[0].casefold(), row[1]),
    )
    assert ("artificial intelligence", 2019, 1) in rows("focus-areas")
    assert ("artificial intelligence", 2020, 1) in rows("focus-areas")


def test_agreements_per_country(demo):
    assert rows("countries") == [("China", "CN", 2)]


def test_labs_by_status(demo):
    # Proposed: the Smart Campus and Trustworthy Innovation labs; established: the talent
    # centre (extended) and the Tianjin smart-city lab (founded).
    assert rows("labs-by-status") == [("proposed", 2), ("established", 2), ("closed", 0)]
    # A span that ends before it starts is refused, naming its end.
    backwards = run(
        REPORTS["labs-by-status"], {"signed_after": "2021-01-01", "signed_before": "2020-12-31"}
    )
    assert "The span ends before it starts" in str(backwards.errors["signed_before"])
    # None at all: no rows, as every report with nothing to count.
    assert rows("labs-by-status", signed_from=1990, signed_to=1991) == []


def test_most_active_people_by_role(demo):
    everyone = rows("people")
    assert Counter(role for role, _name, _n in everyone) == {
        "signatory": 5,
        "witness": 5,
        "attendee": 6,
    }
    assert {n for _role, _name, n in everyone} == {1}
    # Everyone has one agreement, so the top two of each role are the first two by name.
    assert rows("people", top=2) == [
        ("signatory", "Hao Guoqiang", 1),
        ("signatory", "Hu Qinghua", 1),
        ("witness", "Peng Bo", 1),
        ("witness", "Qian Xuhong", 1),
        ("attendee", "Cheng Jing", 1),
        ("attendee", "He Jifeng", 1),
    ]


def ending(day, **fields):
    return AgreementFactory(ends_on=day, ends_on_precision="day", **fields)


def test_terms_ending_within_the_chosen_days(demo):
    assert rows("terms-ending") == []  # neither demo agreement records the end of its term
    today = datetime.date(2030, 1, 1)
    soon = ending(datetime.date(2030, 1, 21), title="Ends soon", status="published")
    PartyFactory(agreement=soon, institution=InstitutionFactory(name="Soon University"))
    ending(datetime.date(2030, 6, 1), status="published")  # in 151 days
    ending(datetime.date(2029, 12, 31), status="published")  # ended
    ending(datetime.date(2030, 1, 5), title="Draft ending")
    result = run(REPORTS["terms-ending"], {"days": 30}, today=today)
    assert [(r[0], r[3], r[4], r[5]) for r in result.rows] == [
        ("Ends soon", "2030-01-21", "Soon University", 20)
    ]
    everything = run(REPORTS["terms-ending"], {"days": 200, "status": "all"}, today=today)
    assert [(r[0], r[5]) for r in everything.rows][:2] == [("Draft ending", 4), ("Ends soon", 20)]
    assert len(everything.rows) == 3


def test_a_term_ending_in_a_month_or_year_counts_until_that_period_is_over(demo):
    today = datetime.date(2026, 12, 7)

    def ending_in(text, title):
        end = PartialDate.parse(text)
        AgreementFactory(
            ends_on=end.date, ends_on_precision=end.precision, title=title, status="published"
        )

    ending_in("2026-11", "Ended last month")
    ending_in("2025", "Ended last year")
    ending_in("2026-12", "Ends this month")
    ending_in("2026", "Ends this year")
    ending_in("2027", "Ends next year")
    ending_in("2027-02", "Ends in February")

    result = run(REPORTS["terms-ending"], {"days": 60}, today=today)

    assert [(r[0], r[3], r[5]) for r in result.rows] == [
        ("Ends this year", "2026", 0),
        ("Ends this month", "2026-12", 0),
        ("Ends next year", "2027", 25),
        ("Ends in February", "2027-02", 56),
    ]


# Filters: the public search's, a date range and the scope.


def test_reports_take_the_search_filters_and_a_date_range(demo):
    assert rows("companies", signed_after="2020-01-01") == [  # a tie, in order of name
        ("China Telecom", 1, 1),
        ("Huawei Technologies", 1, 1),
    ]
    assert rows("companies", signed_before="2019-12-31") == [("Huawei Technologies", 1, 3)]
    assert rows("countries", institution=["east-china-normal-university"]) == [("China", "CN", 1)]
    assert rows("per-year-by-kind", q="Tianjin") == [(2020, "university", 1), (2020, "company", 1)]
    assert rows("per-year-by-kind", kind=[InstitutionKind.GOVERNMENT]) == []  # only a witness
    assert rows("labs-by-status", signed_from=2020, signed_to=2020) == [
        ("proposed", 0),
        ("established", 1),
        ("closed", 0),
    ]


def test_reports_count_published_agreements_unless_told_to_count_drafts(demo):
    Agreement.objects.get(slug="ecnu-huawei-2019").withdraw(
        by=None, reason="Retracted by the source."
    )
    assert rows("countries") == [("China", "CN", 1)]
    assert rows("countries", status="all") == [("China", "CN", 2)]
    assert rows("companies", status="draft") == [("Huawei Technologies", 1, 3)]
    assert str(run(REPORTS["countries"], {}).scope) == "published agreements only"
    assert str(run(REPORTS["countries"], {"status": "all"}).scope) == (
        "published agreements, drafts and those in review"
    )


def test_drafts_are_counted_by_what_only_drafts_name(demo):
    """The search's filters choose among public institutions and technologies; a report that
    counts drafts may choose those only drafts name."""
    draft = Agreement.objects.get(slug="ecnu-huawei-2019")
    draft.withdraw(by=None, reason="Retracted by the source.")
    startup = InstitutionFactory(name="Draft-only Robotics", kind=InstitutionKind.COMPANY)
    PartyFactory(agreement=draft, institution=startup)
    draft.focus_areas.add(FocusAreaFactory(slug="soft-robotics"))

    assert rows("companies", status="draft", institution=[startup.slug]) == [
        ("Draft-only Robotics", 1, 3),
        ("Huawei Technologies", 1, 3),
    ]
    assert rows("countries", status="all", focus_area=["soft-robotics"]) == [("China", "CN", 1)]
    # Counting published agreements only, it counts none.
    assert rows("countries", institution=[startup.slug]) == []


def test_a_bad_filter_gives_errors_and_no_rows(demo):
    result = run(REPORTS["terms-ending"], {"signed_from": "soon", "days": 0})
    assert set(result.errors) == {"signed_from", "days"}
    assert result.rows == []


@pytest.mark.parametrize("slug", sorted(REPORTS))
def test_each_report_runs_a_fixed_number_of_queries(demo, slug):
    def queries():
        with CaptureQueriesContext(connection) as context:
            run(REPORTS[slug], {"status": "all", "days": 3650}, today=datetime.date(2030, 1, 1))
        return len(context)

    def add_agreements(count):
        for _ in range(count):
            agreement = ending(
                datetime.date(2030, 2, 1),
                signed_on=datetime.date(2021, 5, 1),
                signed_on_precision="day",
            )
            PartyFactory(agreement=agreement, institution=InstitutionFactory(kind="company"))
            ParticipationFactory(agreement=agreement)
            LabAgreementFactory(agreement=agreement)
            agreement.focus_areas.add(FocusAreaFactory())

    add_agreements(1)
    before = queries()
    add_agreements(5)
    assert queries() == before <= 3


# Files


def test_csv_download_is_the_table(demo, publisher_client):
    response = download(publisher_client, "companies", "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["company", "agreements", "labs"],
        ["Huawei Technologies", "2", "4"],
        ["China Telecom", "1", "1"],
    ]


def test_a_download_is_named_by_its_report_day_and_what_it_was_made_with(demo, publisher_client):
    today = datetime.date.today().isoformat()

    def name(**query):
        return download(publisher_client, "countries", "csv", **query)["Content-Disposition"]

    assert name() == f'attachment; filename="countries-{today}.csv"'
    assert name(institution=["east-china-normal-university"], status="all") == (
        f'attachment; filename="countries-{today}-all-east-china-normal-university.csv"'
    )
    assert name(institution=["huawei-technologies"], signed_from="2019") != name(
        institution=["tianjin-university"], signed_from="2019"
    )
    # Chinese as Chinese, sent as RFC 6266 says.
    assert (
        name(q="华为") == f"attachment; filename*=utf-8''countries-{today}-%E5%8D%8E%E4%B8%BA.csv"
    )
    # A long selection is cut at a word: after "word07", not within "word08". (Words of one
    # length, all alike, could not tell where it was cut.)
    words = [f"word{n:02d}" for n in range(20)]
    long = name(q=" ".join(words))
    assert long == f'attachment; filename="countries-{today}-{"-".join(words[:8])}.csv"'


def test_xlsx_download_has_the_table_and_the_filters(demo, publisher_client):
    response = download(publisher_client, "companies", "xlsx", kind="company", status="all")
    workbook = load_workbook(io.BytesIO(response.content))
    table, about = workbook.worksheets
    assert list(table.values) == [
        ("company", "agreements", "labs"),
        ("Huawei Technologies", 2, 4),
        ("China Telecom", 1, 1),
    ]
    assert dict(about.values) == {
        "report": "Agreements and labs per company",
        "made on": datetime.date.today().isoformat(),
        "counts": "published agreements, drafts and those in review",
        "Kind of partner": "company",
    }


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_download_has_its_title_filters_and_table(demo, publisher_client):
    response = download(publisher_client, "companies", "pdf", kind="company", signed_from=2019)
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    for expected in (
        "Agreements and labs per company",
        "Counts: published agreements only",
        "Kind of partner",
        "Signed from (year)",
        "2019",
        "Huawei Technologies",
        "China Telecom",
    ):
        assert expected in text


def chart_pixels(pdf, tmp_path):
    """How many pixels of page 1, rendered by pdftoppm, have the chart's colour."""
    pdftoppm = shutil.which("pdftoppm")
    if not pdftoppm:
        pytest.skip("rendering a PDF page needs pdftoppm (Debian: apt install poppler-utils)")
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(  # noqa: S603 - our own file and a fixed program
        [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", "report.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    image = Image.open(tmp_path / "page.png").convert("RGB")
    colour = tuple(int(CHART_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    return sum(
        count
        for count, pixel in image.getcolors(image.width * image.height)
        if all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True))
    )


def test_pdf_shows_its_chart_on_the_first_page(demo, publisher_client, tmp_path):
    """Page 1 rendered to an image has bars in the chart's colour, more for more rows: the
    chart is drawn, not only named. Without rows there is no chart, and no such pixels."""
    two_bars = chart_pixels(download(publisher_client, "companies", "pdf").content, tmp_path)
    one_bar = chart_pixels(
        download(publisher_client, "companies", "pdf", signed_before="2019-12-31").content,
        tmp_path,
    )
    none = download(publisher_client, "companies", "pdf", kind="government").content
    assert one_bar > 50
    assert two_bars > one_bar
    assert chart_pixels(none, tmp_path) == 0
    assert "Nothing to draw" in pdf_text(none)


def test_pdf_writes_chinese_names_with_a_cjk_font(demo, publisher_client):
    """Helvetica has no Chinese glyphs: a name in Chinese would come out as black boxes. The
    PDF's text, as a reader extracts it, holds the name in the table and in the chart."""
    company = InstitutionFactory(name="中国移动", kind=InstitutionKind.COMPANY)
    PartyFactory(agreement=AgreementFactory(status="published"), institution=company)
    text = pdf_text(download(publisher_client, "companies", "pdf").content)
    assert text.count("中国移动") == 2
    assert "Huawei Technologies" in text


def test_pdf_in_the_chinese_interface_is_readable(demo, publisher_client):
    publisher_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    with translation.override(None):  # the request leaves Chinese active for the next test
        text = pdf_text(download(publisher_client, "companies", "pdf").content)
    assert "Huawei Technologies" in text
    assert "■" not in text


def test_pdf_in_chinese_wraps_its_lines_and_fits_its_chart_labels(demo, publisher_client):
    """Chinese has no spaces to break a line at: a long description or name ran off the page,
    and a chart's label was cut at its start."""
    name = "中国电信股份有限公司天津分公司智慧城市与数字政府创新研究院"
    company = InstitutionFactory(name=name, kind=InstitutionKind.COMPANY)
    PartyFactory(agreement=AgreementFactory(status="published"), institution=company)
    publisher_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    with translation.override(None):
        companies = pdf_text(download(publisher_client, "companies", "pdf").content)
        per_year = pdf_text(download(publisher_client, "per-year-by-kind", "pdf").content)
    with translation.override("zh-hans"):
        description = str(REPORTS["per-year-by-kind"].description)

    def unwrapped(text):
        return re.sub(r"\s", "", text)

    assert unwrapped(description) in unwrapped(per_year)
    assert "2019,高校" in unwrapped(per_year)  # the chart's year and kind, and what joins them
    assert name in unwrapped(companies)  # the table's cell, on two lines
    # The chart's label, from its start, cut short where it would be wider than its room.
    assert re.search(r"^中国电信股份有限公司\w+…$", companies, re.MULTILINE)


def test_report_command_writes_the_files_the_admin_downloads(demo, publisher_client, tmp_path):
    query = {"kind": "company", "status": "all"}
    for format in ("csv", "xlsx", "pdf"):
        path = tmp_path / f"companies.{format}"
        call_command(
            "report",
            "companies",
            format=format,
            output=path,
            kind=["company"],
            status="all",
            stdout=io.StringIO(),
        )
        downloaded = download(publisher_client, "companies", format, **query).content
        written = path.read_bytes()
        if format == "csv":
            assert written == downloaded
        elif format == "xlsx":  # the files differ only in the time they were made
            books = [load_workbook(io.BytesIO(content)) for content in (written, downloaded)]
            assert [[list(s.values) for s in book.worksheets] for book in books][0] == [
                [list(s.values) for s in book.worksheets] for book in books
            ][1]
        else:
            assert pdf_text(written) == pdf_text(downloaded)
            assert "Huawei Technologies" in pdf_text(written)


def test_report_command_refuses_bad_filters(demo, tmp_path):
    with pytest.raises(CommandError, match="^--signed-from: "):
        call_command("report", "countries", signed_from="soon", output=tmp_path / "x.csv")


def test_report_command_says_each_bad_filter_in_a_sentence(demo, tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command(
            "report", "countries", kind=["x"], signed_from="soon", output=tmp_path / "x.csv"
        )

    assert str(refused.value) == (
        "--kind: Select a valid choice. x is not one of the available choices. "
        "--signed-from: Enter a whole number."
    )


def test_formula_like_cells_are_neutralised_in_csv_and_xlsx(publisher_client):
    agreement = AgreementFactory(title="=cmd|' /C calc'!A0", status="published")
    PartyFactory(
        agreement=agreement,
        institution=InstitutionFactory(name='=HYPERLINK("https://evil.example")', kind="company"),
    )
    sheet_cells = load_workbook(
        io.BytesIO(download(publisher_client, "companies", "xlsx", q="=cmd").content)
    )
    table, about = sheet_cells.worksheets
    assert list(table.values)[1] == ('\'=HYPERLINK("https://evil.example")', 1, 0)
    assert dict(about.values)["Search"] == "'=cmd"
    csv_rows = list(
        csv.reader(io.StringIO(download(publisher_client, "companies", "csv").content.decode()))
    )
    assert csv_rows[1] == ['\'=HYPERLINK("https://evil.example")', "1", "0"]


# The admin pages


def test_report_pages_show_the_chart_table_scope_and_downloads(demo, publisher_client):
    index = publisher_client.get(reverse("reports:index"))
    assert index.status_code == 200
    for slug in REPORTS:
        assert reverse("reports:report", args=[slug]) in index.content.decode()
        page = publisher_client.get(reverse("reports:report", args=[slug]), {"status": "all"})
        content = page.content.decode()
        assert page.status_code == 200
        assert "published agreements, drafts and those in review" in content
        for format in ("csv", "xlsx", "pdf"):
            assert reverse("reports:download", args=[slug, format]) + "?status=all" in content
        if slug != "terms-ending":
            assert 'class="report-chart"' in content and CHART_COLOUR in content
    assert publisher_client.get(reverse("reports:report", args=["nonsense"])).status_code == 404


def test_a_report_s_chart_tells_a_screen_reader_its_largest_bar_and_where_the_numbers_are(
    demo, publisher_client
):
    page = publisher_client.get(reverse("reports:report", args=["companies"]), {"status": "all"})
    label = re.search(r'class="report-chart"[^>]*aria-label="([^"]*)"', page.text)[1]
    assert label == (
        "Agreements and labs per company; the most agreements, 2: Huawei Technologies."
        " The table below has every number."
    )


def test_a_report_s_institutions_are_chosen_by_autocomplete_not_from_a_list_of_all(
    demo, publisher_client
):
    """Thousands of institutions were written into every report page as options."""
    page = publisher_client.get(
        reverse("reports:report", args=["countries"]), {"institution": "huawei-technologies"}
    )
    field = re.search(r'<select name="institution".*?</select>', page.text, re.S)[0]
    assert re.findall(r"<option[^>]*>([^<]*)</option>", field) == ["Huawei Technologies"]
    assert 'value="huawei-technologies" selected' in field
    assert f'data-ajax--url="{reverse("reports:institutions")}"' in field
    assert "admin/js/autocomplete" in page.text  # its script, on the page

    found = publisher_client.get(reverse("reports:institutions"), {"term": "huawei tech"})
    assert found.json() == {
        "results": [{"id": "huawei-technologies", "text": "Huawei Technologies"}],
        "pagination": {"more": False},
    }
    first = publisher_client.get(reverse("reports:institutions")).json()
    assert len(first["results"]) == min(Institution.objects.count(), 20)
    assert first["pagination"]["more"] == (Institution.objects.count() > 20)


def test_only_those_who_may_see_reports_may_ask_for_its_institutions(demo, editor_client):
    assert editor_client.get(reverse("reports:institutions")).status_code == 403
    assert Client().get(reverse("reports:institutions")).status_code == 302  # to sign in


def test_a_report_page_with_a_bad_filter_says_so(demo, publisher_client):
    page = publisher_client.get(reverse("reports:report", args=["countries"]), {"signed_to": "x"})
    assert page.status_code == 200
    assert b"errornote" in page.content
    assert b"report-chart" not in page.content
    # The page's title, the first thing a screen reader says of it, says so too.
    assert "<title>Error: Agreements per country" in page.text
    bad = publisher_client.get(
        reverse("reports:download", args=["terms-ending", "csv"]), {"days": 0}
    )
    assert bad.status_code == 400


def test_the_admin_index_links_to_the_reports_for_those_who_may_see_them(
    publisher_client, editor_client
):
    link = reverse("reports:index").encode()
    assert link in publisher_client.get(reverse("admin:index")).content
    assert link not in editor_client.get(reverse("admin:index")).content


def test_reports_need_the_export_permission(demo, editor_client):
    urls = [
        reverse("reports:index"),
        reverse("reports:report", args=["companies"]),
        reverse("reports:download", args=["companies", "csv"]),
    ]
    for url in urls:
        assert editor_client.get(url).status_code == 403
        assert Client().get(url).status_code == 302  # to the admin's login


def test_labs_without_agreements_are_left_out(demo):
    Lab.objects.create(name="Orphan lab", slug="orphan-lab", status="closed")
    assert ("closed", 0) in rows("labs-by-status")


def test_an_empty_filter_value_asks_for_nothing_as_on_the_search(demo, publisher_client):
    """`?kind=` was refused ("  is not one of the available choices"), where the search, whose
    filters the reports take, reads it as no filter (agreements.filters.search_query)."""
    assert rows("countries", kind=[""], country=["CN", ""]) == rows("countries", country="CN")
    page = publisher_client.get(
        reverse("reports:report", args=["countries"]), {"kind": "", "focus_area": " "}
    )
    assert b"errornote" not in page.content
    assert "China" in page.text
    download(publisher_client, "countries", "csv", kind="", institution="")


def test_a_report_ignores_the_search_s_order_which_it_does_not_show(demo, publisher_client):
    """A report's form leaves the search's `sort` out, so an order it could not read was an
    error the page could not show: "Please correct the filters above", and no field said
    which."""
    page = publisher_client.get(reverse("reports:report", args=["countries"]), {"sort": "x"})
    assert b"errornote" not in page.content
    assert download(publisher_client, "countries", "csv", sort="x").content == (
        download(publisher_client, "countries", "csv").content
    )


def test_a_chart_s_summary_names_the_largest_bar_it_draws(publisher_client):
    """A chart draws its first 40 rows (the table has the rest); its summary named the
    largest of all rows, a bar the picture does not have."""
    for year in range(1980, 2021):  # 41 years, the last the busiest
        for _ in range(2 if year == 2020 else 1):
            agreement = AgreementFactory(
                status="published", signed_on=datetime.date(year, 5, 1), signed_on_precision="day"
            )
            PartyFactory(agreement=agreement)
    page = publisher_client.get(reverse("reports:report", args=["per-year-by-kind"]))
    assert "The chart leaves out 1 more row" in page.text
    summary = re.search(r'class="report-chart"[^>]*aria-label="([^"]*)"', page.text)[1]
    assert summary.startswith("Agreements per year by kind of partner; the most agreements, 1: ")
    assert "1980, university" in summary


def test_a_report_reads_only_its_own_options(demo, publisher_client):
    """`top` belongs to the people report, `days` to the terms ending: another report's page
    does not show them, so a value of them it could not read was an error that no field
    showed ("Please correct the filters above")."""
    for slug, other in [("countries", {"top": "0"}), ("people", {"days": "x"})]:
        page = publisher_client.get(reverse("reports:report", args=[slug]), other)
        assert b"errornote" not in page.content
        assert download(publisher_client, slug, "csv", **other).content == (
            download(publisher_client, slug, "csv").content
        )
    page = publisher_client.get(reverse("reports:report", args=["people"]), {"top": "0"})
    assert 'id="id_top_error"' in page.text
