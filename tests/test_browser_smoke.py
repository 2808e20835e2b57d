import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_login_page_renders(page):
    page.goto("/admin/login/")
    assert page.locator("#id_username").is_visible()
