import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from agreements.models import Agreement
from tests.factories import FocusAreaFactory, InstitutionFactory, PersonFactory, UserFactory

# serialized_rollback: the staff groups and agreement types come from data migrations, which
# the flush after any other transactional test would have emptied.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct horse battery"
DEMO = Path(__file__).resolve().parent.parent / "demo" / "agreements.jsonl"


def log_in(page, user, next_url):
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")


def choose(page, field, text):
    """Pick `text` in the select2 autocomplete inside `field` (a locator of its cell)."""
    field.locator(".select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).click()


def test_editor_drafts_an_agreement_and_a_publisher_publishes_it(page):
    editor = UserFactory(group="Editors")
    publisher = UserFactory(group="Publishers")
    InstitutionFactory(name="East China Normal University")
    InstitutionFactory(name="China Telecom Shanghai")
    PersonFactory(name="Liu Gang")
    FocusAreaFactory(name="Artificial intelligence")

    log_in(page, editor, "/admin/agreements/agreement/add/")
    page.fill("#id_title", "Strategic cooperation on AI")
    page.select_option("#id_agreement_type", label="strategic cooperation agreement")
    choose(page, page.locator(".field-focus_areas"), "Artificial intelligence")
    choose(page, page.locator("#parties-0 .field-institution"), "East China Normal University")
    choose(page, page.locator("#parties-1 .field-institution"), "China Telecom Shanghai")
    choose(page, page.locator("#participations-0 .field-person"), "Liu Gang")
    page.select_option("#id_participations-0-role", "signatory")
    choose(page, page.locator("#participations-0 .field-on_behalf_of"), "China Telecom Shanghai")
    expect(page.locator("input[name=_publish]")).to_have_count(0)
    page.click("input[name=_save]")

    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator("select[name=action] option[value=publish_selected]")).to_have_count(0)
    agreement = Agreement.objects.get(title="Strategic cooperation on AI")
    assert agreement.slug == "strategic-cooperation-on-ai"  # filled in as the title was typed
    assert agreement.status == Agreement.Status.DRAFT
    assert [str(party) for party in agreement.parties.all()] == [
        "East China Normal University",
        "China Telecom Shanghai",
    ]
    signatory = agreement.participations.get()
    assert (signatory.person.name, signatory.role) == ("Liu Gang", "signatory")
    assert signatory.party.institution.name == "China Telecom Shanghai"
    assert [area.name for area in agreement.focus_areas.all()] == ["Artificial intelligence"]

    page.goto(f"/admin/agreements/agreement/{agreement.pk}/change/")
    expect(page.locator("input[name=_save]")).to_be_visible()
    expect(page.locator("input[name=_publish]")).to_have_count(0)
    page.click("#logout-form [type=submit]")
    expect(page.get_by_role("link", name="Log in again")).to_be_visible()

    log_in(page, publisher, f"/admin/agreements/agreement/{agreement.pk}/change/")
    page.click("input[name=_publish]")

    expect(page.locator(".messagelist .success").first).to_be_visible()
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.PUBLISHED
    assert agreement.published_by == publisher
    assert agreement.published_at is not None


def test_an_agreements_form_does_not_widen_the_page_past_the_window(page):
    """Its wide tables (people, photos) scroll in their own box: the fields beside them and
    the buttons under them stay in view, on a laptop's screen with the admin's sidebar."""
    width = 1280
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    # A publisher's: the demo's agreements are published, read-only (narrower) to an editor.
    log_in(page, UserFactory(group="Publishers"), "/admin/")
    page.set_viewport_size({"width": width, "height": 900})
    for agreement in Agreement.objects.all():
        page.goto(f"/admin/agreements/agreement/{agreement.pk}/change/")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, agreement.slug
        last_column = page.locator("#participations-group th").last  # Delete?
        last_column.scroll_into_view_if_needed()
        expect(last_column).to_be_in_viewport()


def test_an_agreements_people_fit_beside_the_sidebar_on_a_wide_laptop(page):
    """At 1,400 px, every column of the people's table (their party, position, Delete?) and
    the errors shown in them are in view without scrolling the table sideways."""
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    log_in(page, UserFactory(group="Publishers"), "/admin/")  # who may change them: widgets
    page.set_viewport_size({"width": 1400, "height": 900})
    for agreement in Agreement.objects.all():
        page.goto(f"/admin/agreements/agreement/{agreement.pk}/change/")
        widths = page.evaluate(
            "() => { const box = document.querySelector('#participations-group .tabular');"
            " return [box.scrollWidth, box.clientWidth]; }"
        )
        assert widths[0] <= widths[1], agreement.slug
