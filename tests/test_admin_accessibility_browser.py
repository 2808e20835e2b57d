"""The back office's own pages (moves, import, reports, duplicates, the agreement's form) as
staff who use a keyboard and a screen reader, or a laptop's screen at 200% zoom, find them:
in headless Chromium, checked with axe-core."""

import io
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from agreements.models import Agreement, Participation, Party
from backoffice.reports import REPORTS
from registry.models import Institution
from tests.factories import AgreementFactory, InstitutionFactory, PartyFactory, UserFactory
from tests.test_admin_browser import log_in

# serialized_rollback: the staff groups and agreement types come from data migrations.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO = Path(__file__).resolve().parent.parent / "demo" / "agreements.jsonl"
LANGUAGES = ["en", "zh-hans"]


def in_review():
    agreement = AgreementFactory(title="Quantum networking cooperation")
    PartyFactory(agreement=agreement)
    agreement.submit(by=UserFactory(group="Editors"))
    return agreement


def send_without_checking(page, form):
    """Submit `form` as a browser that does not check `required` would: the server's error."""
    page.locator(form).evaluate("form => { form.noValidate = true; }")
    page.locator(f"{form} [type=submit]").first.click()


def test_a_moves_comment_is_focused_on_arrival_and_after_an_error(page):
    agreement = in_review()
    log_in(page, UserFactory(group="Publishers"), f"/admin/agreements/agreement/{agreement.pk}/")
    page.click("#move-send_back")
    expect(page.locator("#id_comment")).to_be_focused()

    send_without_checking(page, "#move-form")
    expect(page).to_have_title(
        "Error: Send back to draft: Quantum networking cooperation | Partnership Registry"
    )
    expect(page.locator("#id_comment")).to_be_focused()
    expect(page.locator("#id_comment")).to_have_accessible_description(
        "Required: it is kept with the agreement's history and shown to its editors. "
        "This field is required."
    )


def test_an_imports_problems_are_focused_and_read_with_the_file_field(page, tmp_path):
    broken = tmp_path / "agreements.jsonl"
    broken.write_text('{"key": "x", broken\n')
    log_in(page, UserFactory(group="Editors"), "/admin/import/")

    page.set_input_files("#id_file", broken)
    page.click("#import-form [type=submit]")
    expect(page).to_have_title("Error: Import agreements | Partnership Registry")
    expect(page.locator("#import-problems")).to_be_focused()
    expect(page.locator("#id_file")).to_have_accessible_description(
        "An interchange file (.jsonl), or a spreadsheet (.csv or .xlsx) with one row per "
        "agreement. At most 5 MB. The file has 1 problem; nothing was imported. line 1: "
        "agreement: not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 14 (char 13)"
    )

    other = tmp_path / "agreements.pdf"
    other.write_bytes(b"%PDF-1.4")
    page.set_input_files("#id_file", other)
    page.click("#import-form [type=submit]")
    expect(page.locator("#id_file")).to_be_focused()
    expect(page.locator("#id_file")).to_have_attribute("aria-invalid", "true")


def reset_link(user):
    """The address of the link that a password reset mails to `user`."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/admin/password_reset/{uid}/{default_token_generator.make_token(user)}/"


@pytest.fixture
def back_office_pages(transactional_db):
    """The back office's own pages, on the demo's agreements, one of them in review, and a
    likely pair of institutions; what needs attention and the lists it links to; the
    forgotten password's pages."""
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    agreement = Agreement.objects.first()
    agreement.withdraw(by=UserFactory(group="Publishers"), reason="The date is wrong.")
    agreement.submit(by=UserFactory(group="Editors"), comment="Dated from the second source.")
    kept = Institution.objects.get(name="Huawei Technologies")
    duplicate = InstitutionFactory(name="Huawei Technologies.")
    return [
        "/admin/",
        "/admin/agreements/agreement/awaiting-review/",
        f"/admin/agreements/agreement/{agreement.pk}/move/send_back/",
        f"/admin/agreements/agreement/{agreement.pk}/move/publish/",
        f"/admin/agreements/agreement/{agreement.pk}/history/",
        "/admin/reports/",
        *[f"/admin/reports/{slug}/" for slug in REPORTS],
        "/admin/import/",
        "/admin/duplicates/institutions/",
        f"/admin/duplicates/institutions/merge/{kept.pk}/{duplicate.pk}/",
        "/admin/reports/needs-attention/",
        "/admin/agreements/agreement/?attention=no-source",
        "/admin/registry/institution/?attention=party-no-country",
        "/admin/people/person/?attention=no-title",
        "/admin/password_reset/",
        "/admin/password_reset/sent/",
        reset_link(UserFactory(group="Editors")),  # sent on to the form of a new password
        "/admin/password_reset/done/",
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_back_offices_own_pages_have_no_serious_accessibility_violations(
    page, back_office_pages, language
):
    page.set_extra_http_headers({"Accept-Language": language})
    log_in(page, UserFactory(group="Publishers"), "/admin/")
    axe = Axe()
    problems = []
    for address in back_office_pages:
        assert page.goto(address).status == 200, address
        problems += [
            f"{address}: {violation['id']} ({violation['impact']})"
            for violation in axe.run(page).response["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_back_offices_own_pages_fit_a_laptop_at_200_percent_zoom(
    page, back_office_pages, language
):
    """A 1,024 px screen at 200% zoom leaves 512 CSS pixels: a wide table scrolls in a box
    of its own, reachable by keyboard, a report's chart shrinks, the page never sideways.
    Django's styles for a narrow window are other ones, checked with axe too: there a list's
    "(2 total)" link, after a filter, was told from its grey text by its colour alone."""
    page.set_extra_http_headers({"Accept-Language": language})
    log_in(page, UserFactory(group="Publishers"), "/admin/")
    page.set_viewport_size({"width": 512, "height": 700})
    axe = Axe()
    too_wide, problems = [], []
    for address in back_office_pages:
        assert page.goto(address).status == 200, address
        if (width := page.evaluate("document.documentElement.scrollWidth")) > 512:
            too_wide.append(f"{address}: {width} px")
        for region in page.locator(".table-scroll").all():
            assert region.get_attribute("tabindex") == "0", address
        problems += [
            f"{address}: {violation['id']} ({violation['impact']})"
            for violation in axe.run(page).response["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
    assert too_wide == []
    assert problems == []


def test_every_field_of_an_agreements_form_has_a_name(page):
    """Its rows' fields were named only by their column's heading, to the eye: a screen
    reader read a party's institution, its unit and a person's organisation alike as
    "combo box", and a role, a title or Delete? without a word."""
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    agreement = Agreement.objects.get(slug="ecnu-huawei-2019")
    log_in(page, UserFactory(group="Publishers"), f"/admin/agreements/agreement/{agreement.pk}/")
    party = agreement.parties.order_by("pk").first()
    expect(
        page.locator("#id_parties-0-institution + .select2 [role=combobox]")
    ).to_have_accessible_name(f"Institution {party.institution.name}")
    expect(page.locator("#id_parties-0-DELETE")).to_have_accessible_name("Delete")
    expect(page.locator("#id_participations-0-role")).to_have_accessible_name("Role")

    page.locator("#participations-group .add-row a").click()
    added = page.locator("#participations-group tr.form-row.dynamic-participations").last
    expect(added.locator(".field-person [role=combobox]")).to_have_accessible_name("Person")

    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []


def test_an_autocompletes_help_is_read_with_the_box_it_draws(page):
    """select2 draws, for a screen reader, a box of its own over the field's <select>, which
    carries the field's help (aria-describedby in a form, aria-description in a row of an
    inline): a party's signing unit, a participant's organisation or an institution's parent
    was read without its help, in a row added with "Add another" too."""
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    agreement = Agreement.objects.get(slug="ecnu-huawei-2019")
    log_in(page, UserFactory(group="Publishers"), f"/admin/agreements/agreement/{agreement.pk}/")
    unit = str(Party._meta.get_field("unit").help_text)
    organisation = str(Participation._meta.get_field("organisation").help_text)
    parties = page.locator("#parties-group")
    expect(
        parties.locator("#id_parties-0-unit + .select2 [role=combobox]")
    ).to_have_accessible_description(unit)
    expect(
        page.locator("#id_participations-0-organisation + .select2 [role=combobox]")
    ).to_have_accessible_description(organisation)
    # A field without help is told none.
    expect(
        parties.locator("#id_parties-0-institution + .select2 [role=combobox]")
    ).to_have_accessible_description("")

    parties.locator(".add-row a").click()
    added = parties.locator("tr.form-row.dynamic-parties").last
    expect(added.locator(".field-unit [role=combobox]")).to_have_accessible_description(unit)

    institution = agreement.parties.order_by("pk").first().institution
    page.goto(f"/admin/registry/institution/{institution.pk}/change/")
    expect(page.locator("#id_parent + .select2 [role=combobox]")).to_have_accessible_description(
        str(Institution._meta.get_field("parent").help_text)
    )
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []


def test_an_autocompletes_error_is_told_with_the_box_it_draws(page):
    """Django marks the <select> of a field with an error aria-invalid; the box select2 draws
    over it, which a screen reader reads, was not: in a form, in a row of an inline and in a
    report's filters (a box of several values)."""
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    agreement = Agreement.objects.get(slug="ecnu-huawei-2019")
    institution = agreement.parties.order_by("pk").first().institution
    log_in(page, UserFactory(group="Publishers"), f"/admin/registry/institution/{institution.pk}/")
    box = page.locator("#id_parent + .select2 [role=combobox]")
    expect(box).not_to_have_attribute("aria-invalid", "true")
    # Itself as its parent: the form's error.
    page.locator("#id_parent").evaluate(
        "(select, [pk, name]) => django.jQuery(select).append(new Option(name, pk, true, true))"
        ".trigger('change')",
        [institution.pk, institution.name],
    )
    page.locator("[name=_continue]").click()
    expect(page.locator("#id_parent")).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_attribute("aria-invalid", "true")

    page.goto(f"/admin/agreements/agreement/{agreement.pk}/change/")
    row = page.locator("#id_parties-0-institution")
    row.evaluate("select => django.jQuery(select).val(null).trigger('change')")
    page.locator("[name=_continue]").click()
    expect(row).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_parties-0-institution + .select2 [role=combobox]")).to_have_attribute(
        "aria-invalid", "true"
    )
    # The other rows' boxes are not.
    other = page.locator("#id_parties-1-institution + .select2 [role=combobox]")
    expect(other).to_have_accessible_name(re.compile("^Institution ."))
    expect(other).not_to_have_attribute("aria-invalid", "true")

    page.goto("/admin/reports/countries/?institution=nowhere")
    expect(page.locator("#id_institution + .select2 .select2-search__field")).to_have_attribute(
        "aria-invalid", "true"
    )


def test_a_published_agreements_read_only_rows_scroll_by_keyboard_at_200_percent_zoom(page):
    """To an editor a published agreement's rows are text: its photos' table, wider than a
    laptop's window at 200% zoom, scrolls in its own box, which the keyboard must reach."""
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    agreement = Agreement.objects.get(slug="ecnu-huawei-2019")
    log_in(page, UserFactory(group="Editors"), f"/admin/agreements/agreement/{agreement.pk}/")
    page.set_viewport_size({"width": 512, "height": 700})
    page.reload()
    photos = page.locator("#photos-group .tabular")
    expect(photos).to_have_attribute("tabindex", "0")
    expect(photos).to_have_accessible_name("Photos")
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []


def test_a_reports_institution_is_found_by_typing_and_named_for_a_screen_reader(page):
    """Chosen from thousands by typing part of a name, as in the agreement's form."""
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    log_in(page, UserFactory(group="Publishers"), "/admin/reports/countries/")
    typed = page.locator("#id_institution + .select2 .select2-search__field")
    expect(typed).to_have_accessible_name("Institution")
    typed.focus()
    page.keyboard.type("Telecom")
    page.locator(".select2-results__option", has_text="China Telecom").first.click()
    page.locator(".report-filters [type=submit]").click()

    page.wait_for_url("**institution=china-telecom**")
    assert "China Telecom" in page.locator(".report-scope").inner_text()
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_passwords_rules_are_shown_and_read_with_its_box(page, language):
    """The link's form of a new password named the rules' help as the box's description
    (Django's aria-describedby) but did not show it: the rules were neither seen nor read
    out, and learnt one refusal at a time."""
    page.set_extra_http_headers({"Accept-Language": language})
    page.goto(reset_link(UserFactory(group="Editors")))
    with translation.override(language):
        rules = password_validators_help_texts()
    box = page.locator("#id_new_password1")
    expect(box).to_have_accessible_description(re.compile(re.escape(rules[0])))
    for rule in rules:
        expect(page.get_by_text(rule)).to_be_visible()
