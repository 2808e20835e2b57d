"""Security headers on every kind of response, no inline script or style for the Content
Security Policy to refuse, the limit on failed staff sign-ins, and least-privilege staff
groups. (The same headers over HTTP from gunicorn, in production: test_deployment.py.)"""

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from tests.factories import AgreementFactory, UserFactory, logged_in

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Rendered into a PDF file, never sent to a browser: the policy does not apply.
NOT_PAGES = {"backoffice/report_pdf.html"}
PASSWORD = "correct horse battery"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.mark.parametrize(
    "url", ["/", "/agreements/", "/agreements/a-draft/", "/api/agreements/", "/admin/login/"]
)
def test_every_response_carries_the_security_headers(client, url):
    AgreementFactory(slug="a-draft")  # not public: its page is a 404, with the same headers

    response = client.get(url)

    assert response.status_code == (404 if "draft" in url else 200)
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_template_has_inline_script_style_or_event_handler():
    """The policy allows scripts and styles from files only (the browser tests check the
    pages, these checks every template, the admin's overrides included)."""
    problems = []
    pages = (t for t in TEMPLATES.rglob("*.html") if str(t.relative_to(TEMPLATES)) not in NOT_PAGES)
    for template in sorted(pages):
        text = re.sub(r"{#.*?#}", "", template.read_text())  # comments are not sent
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son\w+="):
            problems += [
                f"{template.relative_to(TEMPLATES)}: {m}" for m in re.findall(pattern, text)
            ]
    assert problems == []


# The limit on failed sign-ins


def sign_in(client, username, password, **meta):
    return client.post(
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}, **meta
    )


def fail_until_refused(client, username, **meta):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert sign_in(client, username, "wrong", **meta).status_code == 200


def test_sign_in_is_refused_after_five_failures_even_with_the_right_password(client):
    user = UserFactory(group="Editors")
    fail_until_refused(client, user.username)

    response = sign_in(client, user.username, PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_limit_holds_per_account_and_address(client):
    user, colleague = UserFactory(group="Editors"), UserFactory(group="Editors")
    fail_until_refused(client, user.username, REMOTE_ADDR="203.0.113.7")

    # The same account from another address, and another account from the same address.
    assert sign_in(client, user.username, PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 302
    client.logout()
    assert (
        sign_in(client, colleague.username, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 302
    )
    client.logout()
    # Neither case nor look-alike letters, which the sign-in form reads as the same
    # (Unicode's NFKC: full-width ｐ, mathematical bold 𝐩), make another account.
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in user.username)
    for spelling in [user.username.upper(), full_width]:
        assert sign_in(client, spelling, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429


def test_one_address_guessing_at_many_accounts_is_refused_for_every_account(client, settings):
    """Password spraying: a few guesses at each of many names, never five at one."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    user = UserFactory(group="Editors")
    for number in range(12):
        response = sign_in(client, f"someone-{number}", "Spring2026!", REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 200

    refused = sign_in(client, user.username, PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert "whatever the account" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Only that address.
    assert sign_in(client, user.username, PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 302


def test_an_account_of_its_own_does_not_clear_an_address_s_failures(client, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    user = UserFactory(group="Editors")
    for number in range(5):
        sign_in(client, f"someone-{number}", "wrong", REMOTE_ADDR="203.0.113.7")
    assert sign_in(client, user.username, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 302
    client.logout()

    sign_in(client, "someone-else", "wrong", REMOTE_ADDR="203.0.113.7")
    assert sign_in(client, user.username, PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429


def test_the_lockout_ends_after_its_minutes(client, monkeypatch):
    user = UserFactory(group="Editors")
    fail_until_refused(client, user.username)
    later = time.time() + settings.LOGIN_LOCKOUT_MINUTES * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)

    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_signing_in_clears_the_failures(client):
    user = UserFactory(group="Editors")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_behind_proxies_the_address_is_the_one_the_nearest_trusted_proxy_saw(client, settings):
    """With two proxies (docker compose: the HTTPS proxy, then nginx), the client is the
    second address from the end; what the client wrote further left changes nothing."""
    settings.TRUSTED_PROXY_COUNT = 2
    user = UserFactory(group="Editors")
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        forged = f"10.0.0.{attempt}, 203.0.113.7, 172.18.0.5"
        sign_in(client, user.username, "wrong", HTTP_X_FORWARDED_FOR=forged)

    forged = "10.9.9.9, 203.0.113.7, 172.18.0.5"
    assert sign_in(client, user.username, PASSWORD, HTTP_X_FORWARDED_FOR=forged).status_code == 429
    other = "203.0.113.8, 172.18.0.5"
    assert sign_in(client, user.username, PASSWORD, HTTP_X_FORWARDED_FOR=other).status_code == 302


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client):
    user = UserFactory(group="Editors")
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(client, user.username, "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}")

    assert (
        sign_in(client, user.username, PASSWORD, HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 429
    )


# Staff groups


def permissions(group):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=group).permissions.select_related("content_type")
    }


def test_staff_groups_cannot_manage_accounts_or_the_admin_log():
    for group in ("Editors", "Publishers"):
        assert {p for p in permissions(group) if p.split(".")[0] in ("auth", "admin")} == set()


def test_editors_can_neither_publish_nor_delete_whole_records():
    editors, publishers = permissions("Editors"), permissions("Publishers")
    whole = {"agreements.delete_agreement", "registry.delete_institution", "people.delete_person"}
    assert "agreements.publish_agreement" not in editors
    assert editors.isdisjoint(whole)
    assert "agreements.publish_agreement" in publishers
    assert whole <= publishers


@pytest.mark.django_db
def test_view_on_site_sends_on_only_staff_who_may_see_the_record():
    draft = AgreementFactory(slug="zq-secret-merger-2027")
    kind = ContentType.objects.get_for_model(draft)
    address = f"/admin/r/{kind.pk}/{draft.pk}/"

    # Django's sent anyone signed in to the admin on to the draft's address: its title.
    response = logged_in(UserFactory()).get(address)  # staff, in no group
    assert response.status_code == 403
    assert "zq-secret-merger" not in response.get("Location", "")

    response = logged_in(UserFactory(group="Editors")).get(address)
    assert response.status_code == 302
    assert response["Location"].endswith(draft.get_absolute_url())
    editor = logged_in(UserFactory(group="Editors"))
    assert editor.get("/admin/r/999999/1/").status_code == 404
    gone = ContentType.objects.create(app_label="agreements", model="gone")
    assert editor.get(f"/admin/r/{gone.pk}/1/").status_code == 404


def test_a_users_page_says_what_each_group_may_do_and_warns_of_no_staff_status(admin_client):
    user = UserFactory(is_staff=False)
    page = admin_client.get(f"/admin/auth/user/{user.pk}/change/")
    assert "Editors: enter and correct agreements" in page.text
    assert "Publishers: also review: publish, send back, withdraw" in page.text
    data = {
        "username": user.username,
        "groups": [Group.objects.get(name="Editors").pk],
        "date_joined_0": "2026-12-07",
        "date_joined_1": "09:00:00",
        "is_active": "on",
    }

    response = admin_client.post(f"/admin/auth/user/{user.pk}/change/", data, follow=True)

    assert user.groups.filter(name="Editors").exists()
    assert (
        f"“{user.username}” cannot sign in to the back office until “Staff status” is ticked."
        in [str(message) for message in response.context["messages"]]
    )
