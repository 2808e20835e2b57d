"""In a real browser: exports are offered in the agreement changelist to staff with the
export permission only."""

import pytest
from playwright.sync_api import expect

from tests.factories import AgreementFactory, ParticipationFactory, UserFactory

# serialized_rollback: the staff groups and the export permission come from data migrations,
# which the flush after any other transactional test would have emptied.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct horse battery"


def open_changelist(page, user):
    page.goto("/admin/login/?next=/admin/agreements/agreement/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    expect(page.locator("#changelist")).to_be_visible()


def test_staff_without_the_export_permission_see_no_export(page):
    AgreementFactory(title="A draft to keep")
    open_changelist(page, UserFactory(group="Editors"))
    expect(page.get_by_text("A draft to keep")).to_be_visible()
    expect(page.locator("select[name=action] option[value^=export_]")).to_have_count(0)
    expect(page.locator("a.export-link")).to_have_count(0)
    page.goto("/admin/")
    expect(page.locator("#reports-module")).to_have_count(0)


def test_publishers_see_the_exports_and_download_the_list(page):
    draft = AgreementFactory(title="A draft to export")
    ParticipationFactory(agreement=draft, person__name="Liu Gang", role="signatory")
    open_changelist(page, UserFactory(group="Publishers"))
    expect(page.locator("select[name=action] option[value^=export_]")).to_have_count(5)
    expect(page.locator("a.export-link")).to_have_count(5)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export list as CSV").click()
    assert "A draft to export" in download.value.path().read_text()

    page.goto("/admin/")
    page.locator("#reports-module").get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="Most active people by role").click()
    page.select_option("#id_status", "all")
    page.click("input[type=submit]")
    expect(page.locator(".report-scope")).to_contain_text(
        "published agreements, drafts and those in review"
    )
    expect(page.locator("svg.report-chart rect")).to_have_count(1)
    expect(page.locator("table.report-table")).to_contain_text("Liu Gang")


@pytest.mark.parametrize("width", [1280, 420])
def test_the_lists_buttons_cover_neither_its_heading_nor_one_another(page, width):
    """Seven buttons (add, import, five exports) wrapped onto a second line, floated up beside
    the heading as Django places them, and covered it."""
    page.set_viewport_size({"width": width, "height": 800})
    open_changelist(page, UserFactory(group="Publishers"))
    heading = page.locator("#content h1").bounding_box()
    buttons = [item.bounding_box() for item in page.locator(".object-tools li").all()]

    assert len(buttons) == 7
    for index, box in enumerate(buttons):
        assert not overlap(box, heading)
        assert not any(overlap(box, other) for other in buttons[index + 1 :])


def overlap(one, other):
    return (
        one["x"] < other["x"] + other["width"]
        and other["x"] < one["x"] + one["width"]
        and one["y"] < other["y"] + other["height"]
        and other["y"] < one["y"] + one["height"]
    )
