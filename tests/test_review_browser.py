"""The review workflow in a real browser: an editor submits a draft, a publisher finds it on
the page of what awaits review and publishes it, and the public search then finds it."""

import pytest
from playwright.sync_api import expect

from agreements.models import Agreement
from tests.factories import AgreementFactory, PartyFactory, UserFactory
from tests.test_admin_browser import log_in

# serialized_rollback: the staff groups and agreement types come from data migrations.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def log_out(page):
    page.click("#logout-form [type=submit]")
    expect(page.get_by_role("link", name="Log in again")).to_be_visible()


def test_editor_submits_a_draft_and_a_publisher_publishes_it_from_awaiting_review(page):
    editor = UserFactory(group="Editors")
    publisher = UserFactory(group="Publishers")
    draft = AgreementFactory(title="Quantum networking cooperation")
    PartyFactory(agreement=draft)
    change = f"/admin/agreements/agreement/{draft.pk}/change/"

    log_in(page, editor, change)
    expect(page.locator("#move-publish")).to_have_count(0)
    page.click("#move-submit")
    page.fill("#id_comment", "Both sources agree on the date.")
    page.click("input[name=_move]")
    expect(page.locator(".messagelist .success")).to_contain_text("Submitted for review.")
    expect(page.locator(".agreement-state")).to_contain_text("in review")
    expect(page.locator("input[name=_save]")).to_have_count(0)  # no longer the editor's to change
    draft.refresh_from_db()
    assert draft.status == Agreement.Status.REVIEW
    log_out(page)

    log_in(page, publisher, "/admin/")
    page.click("#awaiting-review-link")
    row = page.locator("#awaiting-review tbody tr", has_text="Quantum networking cooperation")
    expect(row).to_contain_text(editor.username)
    expect(row).to_contain_text("Both sources agree on the date.")
    row.get_by_role("link", name="Quantum networking cooperation").click()
    page.click("#move-publish")
    page.click("input[name=_move]")
    expect(page.locator(".messagelist .success")).to_contain_text("Published.")
    draft.refresh_from_db()
    assert draft.status == Agreement.Status.PUBLISHED
    assert draft.published_by == publisher

    page.goto("/agreements/?q=quantum")
    expect(page.get_by_role("link", name="Quantum networking cooperation")).to_be_visible()
