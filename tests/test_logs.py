"""What an operator reads in the logs (README, Logs): the security and data events, each one
line naming who and from where, Django's errors once with the user's id, and no secret."""

import io
import logging
import os
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import path, reverse

from backoffice.models import Merge
from tests.factories import (
    AgreementFactory,
    InstitutionFactory,
    PersonFactory,
    UserFactory,
    logged_in,
)
from tests.test_settings import manage, production, this_environment


def fails(request):
    request.user.has_perm("agreements.add_agreement")  # as every back-office page asks
    raise RuntimeError("a bug")


pytestmark = pytest.mark.django_db

urlpatterns = [path("fails/", fails)]


def console():
    """The handler that writes the log (settings.LOGGING), as it is set up under pytest."""
    return next(h for h in logging.getLogger().handlers if h.get_name() == "console")


def printed(records):
    """`records` as the console wrote them (its filter has been through them already)."""
    return "\n".join(map(console().format, records))


def lines(caplog, logger, level=logging.INFO):
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == level]


# The configuration, as a process started with it prints.


def test_the_apps_info_lines_are_shown_by_default_in_production():
    code = "import logging; logging.getLogger('backoffice.x').info('Imported a file')"
    result = manage(production(), "shell", "--no-imports", "-c", code)
    assert "[INFO] backoffice.x: Imported a file" in result.stderr, result.stderr


def test_djangos_lines_are_printed_once_with_debug():
    code = "import logging; logging.getLogger('django.request').error('Internal Server Error: /x/')"
    result = manage(this_environment() | {"DEBUG": "1"}, "shell", "--no-imports", "-c", code)
    assert result.stderr.count("Internal Server Error: /x/") == 1, result.stderr


def test_log_level_quietens_djangos_lines_too():
    code = "import logging; logging.getLogger('django.request').warning('Not Found: /x/')"
    result = manage(production(LOG_LEVEL="ERROR"), "shell", "--no-imports", "-c", code)
    assert "Not Found" not in result.stderr, result.stderr


# Django's own lines of a request.


@pytest.mark.urls("tests.test_logs")
def test_a_server_error_is_logged_once_with_the_user_and_without_what_was_posted(caplog):
    user = UserFactory()
    client = logged_in(user)
    client.raise_request_exception = False
    response = client.post("/fails/", {"password": "hunter2-secret", "note": "private words"})

    assert response.status_code == 500
    assert b"Traceback" not in response.content and b"a bug" not in response.content
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    text = printed(errors)
    assert f"Internal Server Error: /fails/ (user #{user.pk})" in text
    assert "RuntimeError: a bug" in text  # the traceback, for the operator
    for secret in ("hunter2-secret", "private words", client.session.session_key):
        assert secret not in text


@pytest.mark.urls("tests.test_logs")
def test_a_server_error_of_an_anonymous_visitor_names_no_user(client, caplog):
    client.raise_request_exception = False
    client.get("/fails/")
    assert printed(caplog.records).count("Internal Server Error: /fails/\n") == 1


def test_a_back_office_page_refused_is_a_warning_with_the_user(editor_client, editor, caplog):
    assert editor_client.get("/admin/reports/").status_code == 403
    text = printed(r for r in caplog.records if r.levelno == logging.WARNING)
    # One line: no traceback of the PermissionDenied that refused.
    assert text.endswith(f"Forbidden (Permission denied): /admin/reports/ (user #{editor.pk})")


def test_a_failed_csrf_check_is_a_warning(caplog):
    """Guard: Django's own line, which reaches the console."""
    client = Client(enforce_csrf_checks=True)
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 403
    assert lines(caplog, "django.security.csrf", logging.WARNING) == [
        "Forbidden (CSRF cookie not set.): /admin/login/"
    ]


# Security events: sign-ins and password resets, with the client's address for fail2ban.


def test_a_failed_sign_in_names_the_account_the_address_and_the_count(client, caplog):
    user = UserFactory()
    client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    assert lines(caplog, "registry.login_limit", logging.WARNING)[-1] == (
        f"Sign-in failed: account={user.username} address=127.0.0.1 failures=2/5 "
        "address_failures=2/50"
    )


def test_a_failed_sign_in_with_no_such_account_keeps_what_was_typed_out_of_the_log(client, caplog):
    """What was typed may be a password in the wrong box: a digest tells attempts apart."""
    for typed in ("correct horse battery", "correct horse battery", "another"):
        client.post("/admin/login/", {"username": typed, "password": "x"})
    logged = lines(caplog, "registry.login_limit", logging.WARNING)
    assert "correct horse" not in "".join(logged) and "another" not in "".join(logged)
    accounts = [re.search(r"account=(\S+)", line)[1] for line in logged]
    assert accounts[0] == accounts[1] != accounts[2]
    assert re.fullmatch(r"unknown:[0-9a-f]{8}", accounts[0])


def test_a_locked_out_sign_in_is_a_warning_each_time(client, caplog, settings):
    user = UserFactory()
    settings.LOGIN_FAILURE_LIMIT = 1
    client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    refused = client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    assert refused.status_code == 429
    assert lines(caplog, "registry.login_limit", logging.WARNING)[-1] == (
        f"Sign-in refused, locked out: account={user.username} address=127.0.0.1"
    )


def test_a_sign_in_names_the_account_and_the_address_behind_the_proxies(settings, caplog):
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    Client().post(
        "/admin/login/",
        {"username": user.username, "password": "correct horse battery"},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert lines(caplog, "registry.login_limit") == [
        f"Signed in: account={user.username}#{user.pk} address=203.0.113.9"
    ]


def test_a_password_reset_names_the_account_never_the_token(client, caplog):
    user = UserFactory(email="wang.li@example.edu")
    client.post("/admin/password_reset/", {"email": "wang.li@example.edu"})
    link = re.search(r"(/admin/password_reset/\S+/\S+/)", mail.outbox[0].body)[1]
    form = client.get(link, follow=True)
    new = "a long new passphrase 42"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})

    assert lines(caplog, "registry.password_reset") == [
        f"Password reset asked: accounts={user.username}#{user.pk} address=127.0.0.1",
        f"Password reset done: account={user.username}#{user.pk} address=127.0.0.1",
    ]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in printed(caplog.records) and new not in printed(caplog.records)


def test_a_password_reset_for_an_unknown_address_keeps_the_address_out_of_the_log(client, caplog):
    client.post("/admin/password_reset/", {"email": "Someone.Else@example.com"})
    client.post("/admin/password_reset/", {"email": "someone.else@example.com"})
    logged = lines(caplog, "registry.password_reset")
    assert "someone" not in "".join(logged).casefold()
    assert logged[0] == logged[1]
    assert re.fullmatch(
        r"Password reset asked: accounts=none email=[0-9a-f]{8} address=127\.0\.0\.1", logged[0]
    )


def test_too_many_password_resets_are_a_warning(client, caplog, settings):
    settings.PASSWORD_RESET_MAIL_LIMIT = 1
    client.post("/admin/password_reset/", {"email": "wang.li@example.edu"})
    assert (
        client.post("/admin/password_reset/", {"email": "wang.li@example.edu"}).status_code == 429
    )
    assert lines(caplog, "registry.password_reset", logging.WARNING) == [
        "Password reset refused, too many: address=127.0.0.1"
    ]


# Data events: imports, exports, merges, and the commands' work.


def test_an_import_in_the_admin_is_logged_previewed_then_done(editor_client, editor, caplog):
    from tests.test_admin_import import confirm, csv_file, preview, row

    shown = preview(editor_client, csv_file([row(key="a-1"), row(key="a-2")], name="mou.csv"))
    confirm(editor_client, shown)

    who = f"{editor.username}#{editor.pk}"
    counts = "agreements created=2 updated=0 unchanged=0 withdrawn=0"
    assert lines(caplog, "backoffice.import_views") == [
        f"Import (dry run) of 'mou.csv' by {who}: {counts}",
        f"Import of 'mou.csv' by {who}: {counts}",
    ]


def test_an_import_refused_in_the_admin_is_logged_with_why(editor_client, editor, caplog):
    from tests.test_admin_import import csv_file, preview, row

    preview(editor_client, csv_file([row(key="a-1", signed_on="2019-13-40")], name="bad.csv"))
    assert lines(caplog, "backoffice.import_views") == [
        f"Import (dry run) of 'bad.csv' by {editor.username}#{editor.pk}: refused, "
        "1 problem(s), the first: line 1: signed_on: '2019-13-40' is not a real date: month "
        "must be in 1..12"
    ]


def test_the_import_command_logs_what_it_did(tmp_path, caplog):
    from tests.test_interchange import agreement

    good = tmp_path / "good.jsonl"
    good.write_text(agreement() + "\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{\n")
    call_command("import_agreements", good, "--dry-run", stdout=io.StringIO())
    call_command("import_agreements", good, stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_agreements", bad, stdout=io.StringIO(), stderr=io.StringIO())

    logged = lines(caplog, "backoffice.management.commands.import_agreements")
    assert logged[:2] == [
        f"Import (dry run) of '{good}': agreements created=1 updated=0 unchanged=0 withdrawn=0",
        f"Import of '{good}': agreements created=1 updated=0 unchanged=0 withdrawn=0",
    ]
    assert logged[2].startswith(f"Import of '{bad}': refused, 1 problem(s), the first: line 1")


def test_an_export_from_the_admin_says_who_took_how_many_drafts_in_which_format(
    publisher_client, publisher, caplog
):
    draft = AgreementFactory()
    published = AgreementFactory(status="published")
    publisher_client.post(
        reverse("admin:agreements_agreement_changelist"),
        {"action": "export_xlsx", "_selected_action": [draft.pk, published.pk]},
    )
    publisher_client.get(reverse("admin:agreements_agreement_export", args=["jsonl"]))
    publisher_client.get(reverse("admin:agreements_agreement_export", args=["import.xlsx"]))

    who = f"{publisher.username}#{publisher.pk}"
    assert lines(caplog, "backoffice.admin") == [
        f"Export of agreements as xlsx by {who}: agreements=2 unpublished=1",
        f"Export of agreements as jsonl by {who}: agreements=2 unpublished=1",
        f"Export of agreements as import.xlsx by {who}: agreements=2 unpublished=1",
    ]


def test_a_report_download_says_who_took_which_report_made_with_what(
    publisher_client, publisher, caplog
):
    AgreementFactory()
    publisher_client.get("/admin/reports/countries/download.csv?status=all")
    assert lines(caplog, "backoffice.views") == [
        f"Report countries downloaded as csv by {publisher.username}#{publisher.pk}: status=all"
    ]


def test_a_merge_says_who_merged_which_records_by_id(editor, editor_client, caplog):
    survivor, duplicate = InstitutionFactory(name="Huawei"), InstitutionFactory(name="Huawei T")
    editor_client.post(
        reverse("duplicates:merge", args=["institutions", survivor.pk, duplicate.pk])
    )
    merge = Merge.objects.get()
    assert lines(caplog, "backoffice.merge_views") == [
        f"Merge of institutions by {editor.username}#{editor.pk}: #{duplicate.pk} into "
        f"#{survivor.pk} (merge #{merge.pk})"
    ]


def test_erasing_a_person_is_logged_by_id_without_their_name(caplog):
    person = PersonFactory(name="Zhang Yong", slug="zhang-yong")
    call_command("erase_person", "zhang-yong", stdout=io.StringIO())  # says, does nothing
    call_command("erase_person", "zhang-yong", "--yes", stdout=io.StringIO())
    [line] = lines(caplog, "backoffice.management.commands.erase_person")
    assert line.startswith(f"Erased person #{person.pk} (")
    assert "Zhang" not in printed(caplog.records)


def test_the_unused_media_command_logs_what_it_removed(settings, caplog):
    left = settings.MEDIA_ROOT / "photos" / "left.jpg"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"old")
    os.utime(left, (0, 0))  # older than a day: unused, not an upload being saved
    call_command("unused_media", stdout=io.StringIO())
    call_command("unused_media", "--delete", stdout=io.StringIO())
    assert lines(caplog, "backoffice.management.commands.unused_media") == [
        "Unused media: removed=0 left=1",
        "Unused media: removed=1 left=0",
    ]


def test_the_export_and_report_commands_log_what_left(tmp_path, caplog):
    AgreementFactory()
    AgreementFactory(status="published")
    call_command("export_agreements", "-o", tmp_path / "all.jsonl")
    call_command("report", "countries", "-o", tmp_path / "c.csv", stdout=io.StringIO())
    assert lines(caplog, "backoffice.management.commands.export_agreements") == [
        f"Export of every agreement, drafts included, to '{tmp_path / 'all.jsonl'}': agreements=2"
    ]
    assert lines(caplog, "backoffice.management.commands.report") == [
        f"Report countries written to '{tmp_path / 'c.csv'}': rows=0 status=published"
    ]


def test_generating_data_is_logged(caplog):
    call_command("generate_data", "--agreements", "2", stdout=io.StringIO())
    assert lines(caplog, "backoffice.management.commands.generate_data") == [
        "Generated synthetic data: agreements=2 seed=5"
    ]
