"""Exports from the agreement admin (backoffice/admin.py): a selection or the filtered list, as
CSV, XLSX or JSON Lines, for staff with the export permission only."""

import csv
import io
import json
import tracemalloc

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from agreements import exports
from agreements.models import Agreement, AgreementType, Party
from tests.factories import AgreementFactory, InstitutionFactory, PartyFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:agreements_agreement_changelist"


def export_url(format):
    return reverse("admin:agreements_agreement_export", args=[format])


def csv_rows(response):
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_publishers_have_the_export_permission_and_editors_do_not():
    def codenames(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    assert "export_agreements" in codenames("Publishers")
    assert "export_agreements" not in codenames("Editors")


def test_staff_without_the_permission_see_no_export_and_get_403(editor_client):
    agreement = AgreementFactory()
    changelist = editor_client.get(reverse(CHANGELIST))
    actions = changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)
    assert not {"export_csv", "export_xlsx", "export_jsonl"} & set(actions)
    assert b"export_csv" not in changelist.content
    assert b"export-link" not in changelist.content
    for format in ("csv", "xlsx", "jsonl"):
        assert editor_client.get(export_url(format)).status_code == 403
        posted = editor_client.post(
            reverse(CHANGELIST), {"action": f"export_{format}", "_selected_action": [agreement.pk]}
        )
        # No such action for them: back to the changelist (editors have other actions, so
        # Django redirects with "no action selected"), and no file.
        assert posted.status_code == 302
        assert posted["Location"].startswith(reverse(CHANGELIST))
        assert "attachment" not in posted.get("Content-Disposition", "")


def test_the_export_address_sends_others_to_the_login():
    response = Client().get(export_url("csv"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_publishers_see_the_export_actions_and_links(publisher_client):
    changelist = publisher_client.get(reverse(CHANGELIST), {"status__exact": "draft"})
    actions = changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)
    assert {"export_csv", "export_xlsx", "export_jsonl"} <= set(actions)
    for format in ("csv", "xlsx", "jsonl"):
        assert f'{export_url(format)}?status__exact=draft"'.encode() in changelist.content


def test_a_selection_exports_as_csv_with_drafts_and_their_status(publisher_client):
    chosen = AgreementFactory(title="Chosen draft")
    published = AgreementFactory(title="Chosen published", status="published")
    AgreementFactory(title="Not chosen")
    response = publisher_client.post(
        reverse(CHANGELIST),
        {"action": "export_csv", "_selected_action": [chosen.pk, published.pk]},
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="agreements-{day}.csv"'
    rows = csv_rows(response)
    assert {(row["title"], row["status"]) for row in rows} == {
        ("Chosen draft", "draft"),
        ("Chosen published", "published"),
    }


def test_the_filtered_list_exports_as_the_changelist_shows_it(publisher_client):
    AgreementFactory(title="A draft")
    AgreementFactory(title="Another draft")
    AgreementFactory(title="A published one", status="published")
    rows = csv_rows(publisher_client.get(export_url("csv"), {"status__exact": "draft"}))
    assert sorted(row["title"] for row in rows) == ["A draft", "Another draft"]
    searched = csv_rows(publisher_client.get(export_url("csv"), {"q": "published"}))
    assert [row["title"] for row in searched] == ["A published one"]


def test_a_filter_the_changelist_does_not_know_is_a_bad_request(publisher_client):
    assert publisher_client.get(export_url("csv"), {"nonsense__in": "1"}).status_code == 400
    assert publisher_client.get(export_url("pdf")).status_code == 404


def test_the_admins_xlsx_export_ends_each_row_with_its_status(publisher_client):
    AgreementFactory(title="In the workbook")
    response = publisher_client.get(export_url("xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = sheet.values
    assert header[-1] == "status"
    assert [(row[1], row[-1]) for row in rows] == [("In the workbook", "draft")]


def test_json_lines_export_is_the_interchange_format(publisher_client):
    agreement = AgreementFactory(title="Interchanged")
    PartyFactory(agreement=agreement, institution=InstitutionFactory(name="Some University"))
    response = publisher_client.post(
        reverse(CHANGELIST), {"action": "export_jsonl", "_selected_action": [agreement.pk]}
    )
    assert response.streaming
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    (record,) = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert (record["key"], record["title"], record["status"]) == (
        agreement.slug,
        "Interchanged",
        "draft",
    )
    assert record["parties"][0]["institution"]["name"] == "Some University"


def test_formula_like_cells_are_neutralised_in_csv_and_xlsx_exports(publisher_client):
    AgreementFactory(
        title='=HYPERLINK("https://evil.example","click")', place="+1-2", summary="@SUM(A1)"
    )
    (row,) = csv_rows(publisher_client.get(export_url("csv")))
    assert row["title"] == '\'=HYPERLINK("https://evil.example","click")'
    assert row["place"] == "'+1-2"
    assert row["summary"] == "'@SUM(A1)"
    sheet = load_workbook(io.BytesIO(publisher_client.get(export_url("xlsx")).content)).active
    header, cells = sheet.values
    assert cells[1] == '\'=HYPERLINK("https://evil.example","click")'
    assert cells[4] == "'+1-2"
    assert cells[header.index("summary")] == "'@SUM(A1)"


def test_a_control_character_a_spreadsheet_cannot_hold_is_left_out_of_csv_and_xlsx(
    publisher_client,
):
    """Saved before the importer refused them, or typed in the admin: the download still
    works (openpyxl refuses such a cell, which made every XLSX holding it a server error)."""
    AgreementFactory(
        title="Strategic\u0007cooperation",
        place="Tianjin\u000b",
        summary="A lab\u001b.\nTwo\tcentres.",
    )
    (row,) = csv_rows(publisher_client.get(export_url("csv")))
    assert (row["title"], row["place"]) == ("Strategiccooperation", "Tianjin")
    # Line breaks and tabs are kept: a spreadsheet holds them.
    assert row["summary"] == "A lab.\nTwo\tcentres."
    response = publisher_client.get(export_url("xlsx"))
    assert response.status_code == 200
    header, cells = load_workbook(io.BytesIO(response.content)).active.values
    assert (cells[1], cells[4]) == ("Strategiccooperation", "Tianjin")
    assert cells[header.index("summary")] == "A lab.\nTwo\tcentres."


def make_agreements(start, stop):
    kind = AgreementType.objects.get(slug="cooperation")
    institution = InstitutionFactory()
    agreements = Agreement.objects.bulk_create(
        Agreement(slug=f"bulk-{i}", title=f"Bulk agreement {i}", agreement_type=kind)
        for i in range(start, stop)
    )
    Party.objects.bulk_create(Party(agreement=a, institution=institution) for a in agreements)


def peak_memory_of_csv_export(client):
    response = client.get(export_url("csv"))
    assert response.streaming
    tracemalloc.start()
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return lines, peak


def test_csv_export_streams_in_flat_memory(publisher_client, monkeypatch):
    """Memory is bounded by the chunk of agreements read at a time, not by how many are
    exported. Chunks of 100 agreements and pieces of 4 KB here (500 and 64 KB in use) so
    that 200 and 2,000 agreements both span several chunks and the test stays fast; reading
    them all at once would take about ten times the memory for ten times the agreements."""
    monkeypatch.setattr(exports, "CHUNK_SIZE", 100)
    monkeypatch.setattr(exports, "SEND_SIZE", 4096)  # several pieces sent at both sizes
    make_agreements(0, 200)
    peak_memory_of_csv_export(publisher_client)  # warm up: first-use caches are not rows
    lines, small = peak_memory_of_csv_export(publisher_client)
    assert lines == 201
    make_agreements(200, 2000)
    # Warmed up as the smaller one: the first export after new rows peaks some 50 KB above the
    # next ones, within the margin only while csv.writer made every peak 130 KB larger.
    peak_memory_of_csv_export(publisher_client)
    lines, large = peak_memory_of_csv_export(publisher_client)
    assert lines == 2001
    assert large < 1.5 * small, (small, large)
