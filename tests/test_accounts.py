"""A staff account's life in the back office: its owner changes its password and stays signed
in; an administrator who ends someone's access does so at once (tests/test_roles.py, for
every page); and a staff member's name stays on what they did after they have left. The
forgotten password is in tests/test_password_reset.py."""

import io
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.test import Client

from tests.factories import SignedAgreementFactory, UserFactory, logged_in

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # UserFactory's
NEW_PASSWORD = "a long new passphrase 42"


def test_changing_ones_password_keeps_this_session_and_ends_the_others():
    user = UserFactory(group="Editors")
    here, elsewhere = logged_in(user), logged_in(user)

    response = here.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == "/admin/password_change/done/"
    assert here.get("/admin/").status_code == 200
    assert "/admin/login/" in elsewhere.get("/admin/")["Location"]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "This password is too short."),
        ("password123", "This password is too common."),
        ("83749201746", "This password is entirely numeric."),
    ],
)
def test_a_weak_password_is_refused_by_the_validators(admin_client, password, reason):
    """Guard: AUTH_PASSWORD_VALIDATORS are Django's four, for a change by its owner or by an
    administrator."""
    user = UserFactory(group="Editors")

    response = admin_client.post(
        f"/admin/auth/user/{user.pk}/password/", {"password1": password, "password2": password}
    )

    assert response.status_code == 200
    assert reason in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.fixture
def editor_with_work():
    editor = UserFactory(group="Editors", username="wang.li")
    agreement = SignedAgreementFactory()
    agreement._history_user = editor
    agreement.summary = "Corrected by Wang Li."
    agreement.save()
    LogEntry.objects.log_actions(
        user_id=editor.pk, queryset=[agreement], action_flag=2, change_message="Changed summary."
    )
    return editor, agreement


def test_a_staff_member_with_recorded_work_is_not_deleted_but_made_inactive(
    admin_client, editor_with_work
):
    editor, agreement = editor_with_work

    confirm = admin_client.get(f"/admin/auth/user/{editor.pk}/delete/")
    response = admin_client.post(f"/admin/auth/user/{editor.pk}/delete/", {"post": "yes"})

    assert "untick “Active”" in confirm.content.decode()
    assert response.status_code == 200
    assert User.objects.filter(pk=editor.pk).exists()
    # What they did still names them, in the history and in the admin's log.
    assert agreement.history.latest("history_date").history_user == editor
    assert LogEntry.objects.filter(user=editor).count() == 1
    history = admin_client.get(f"/admin/agreements/agreement/{agreement.pk}/history/")
    assert "wang.li" in history.content.decode()


def test_deleting_several_staff_at_once_is_refused_alike(admin_client, editor_with_work):
    editor, _ = editor_with_work
    unused = UserFactory(username="created-by-mistake")

    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [editor.pk, unused.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert "untick “Active”" in response.content.decode()
    assert User.objects.filter(pk__in=[editor.pk, unused.pk]).count() == 2


def test_an_account_that_did_nothing_may_be_deleted(admin_client):
    unused = UserFactory(username="created-by-mistake")

    response = admin_client.post(f"/admin/auth/user/{unused.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=unused.pk).exists()


def test_the_demo_accounts_can_try_the_forgotten_password(settings):
    settings.DEBUG = True
    call_command("demo_accounts", stdout=io.StringIO())

    for username in ["admin", "editor", "publisher"]:
        Client().post("/admin/password_reset/", {"email": f"{username}@example.org"})

    assert [message.to for message in mail.outbox] == [
        ["admin@example.org"],
        ["editor@example.org"],
        ["publisher@example.org"],
    ]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Signing in to this account from your address failed too often."),
        ("zh-hans", "从您的地址登录此账户失败次数过多。请在 15 分钟后重试。"),
    ],
)
def test_a_refused_sign_in_says_why_and_for_how_long_in_both_languages(client, language, message):
    """Guard: the sign-in limit's page (registry/login_limit.py) in the visitor's language."""
    user = UserFactory(group="Editors")
    for _attempt in range(5):
        client.post("/admin/login/", {"username": user.username, "password": "wrong"})

    refused = client.post(
        "/admin/login/",
        {"username": user.username, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert refused.status_code == 429
    assert message in refused.content.decode()


@pytest.mark.parametrize(("language", "heading"), [("en", "Log in"), ("zh-hans", "登录")])
def test_the_sign_in_page_has_its_heading_in_both_languages(client, language, heading):
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert re.findall(r"<h1[\s>].*?</h1>", page, re.S) == [f"<h1>{heading}</h1>"]
