import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# CI sets REQUIRE_BROWSER=1: there a missing Chromium is a failure, never a silent skip.
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files of a test go to a folder of its own, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: no sign-in failures counted by another test."""
    from django.core.cache import cache

    cache.clear()


# Staff of the two groups the migrations make, and clients signed in as them: what most
# tests of the back office start from.


@pytest.fixture
def editor(db):
    from tests.factories import UserFactory

    return UserFactory(group="Editors")


@pytest.fixture
def publisher(db):
    from tests.factories import UserFactory

    return UserFactory(group="Publishers")


@pytest.fixture
def editor_client(editor):
    from tests.factories import logged_in

    return logged_in(editor)


@pytest.fixture
def publisher_client(publisher):
    from tests.factories import logged_in

    return logged_in(publisher)


@pytest.fixture
def seeds(db):
    """The seed agreements and a draft that must never show (tests/search_data.py)."""
    from tests.search_data import build

    return build()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"browser tests need Chromium at {CHROMIUM} (Debian: apt install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the Django ORM calls made by
    # the test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Under Playwright's sync API, Django hands out new connection objects; those lack the
    # database contents saved at set-up, which serialized_rollback restores between tests.
    saved = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    with sync_playwright() as playwright:
        for alias, contents in saved.items():
            connections[alias]._test_serialized_contents = contents
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def pytest_report_header(config):
    if not shutil.which(CHROMIUM):
        return f"Chromium not found at {CHROMIUM}: browser tests will be skipped"
    return None


def pytest_collection_modifyitems(config, items):
    config.browser_skips = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("browser"):
        item.config.browser_skips.append(item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    skipped = getattr(session.config, "browser_skips", [])
    if REQUIRE_BROWSER and skipped:
        print(f"\nREQUIRE_BROWSER=1 but {len(skipped)} browser test(s) were skipped:")
        for nodeid in skipped:
            print(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
