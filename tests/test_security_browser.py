"""The site works in a browser under its Content Security Policy: the public pages with their
live (htmx) search and charts, and the admin's sign-in, lists and forms, with not one thing
refused by the policy."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import UserFactory

# serialized_rollback: agreement types and staff groups come from data migrations, which a
# transactional test would otherwise flush away.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO = Path(__file__).resolve().parent.parent / "demo" / "agreements.jsonl"
PASSWORD = "correct horse battery"
# Records what the policy refuses, in every page the test opens (Playwright's init scripts
# are not themselves subject to the page's policy).
WATCH = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", event => {
  window.__refused.push(`${event.effectiveDirective} refused ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def watched(page):
    page.add_init_script(WATCH)
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def refused():
        return page.evaluate("window.__refused") + console

    page.refused = refused
    return page


def test_public_pages_and_live_search_work_under_the_policy(watched, live_server):
    page = watched
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())

    page.goto("/")
    assert page.locator("svg").count() > 0  # the chart of agreements per year
    assert page.refused() == []

    page.goto("/agreements/")
    assert page.evaluate("typeof htmx") == "object"
    page.fill("#id_q", "Tianjin")
    page.wait_for_url("**q=Tianjin**")  # htmx filtered the list and pushed the address
    assert page.locator(".results .card").count() == 1
    assert page.refused() == []

    page.locator(".results .card h3 a").first.click()
    page.wait_for_url("**/agreements/*/")
    assert page.refused() == []


def test_the_admin_works_under_the_policy(watched, live_server):
    page = watched
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())
    user = UserFactory(group="Publishers")

    page.goto("/admin/login/?next=/admin/agreements/agreement/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/admin/agreements/agreement/")
    assert page.locator("#result_list tbody tr").count() == 2
    assert page.refused() == []

    # The changelist's scripts run: ticking a row shows the action counter.
    page.locator("#result_list tbody input.action-select").first.check()
    assert "1 of 2 selected" in page.locator(".action-counter").inner_text()

    page.locator("#result_list tbody th a").first.click()
    page.wait_for_url("**/change/")
    page.locator("#agreement_form").wait_for()
    assert page.refused() == []
