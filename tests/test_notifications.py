"""Mail of the review workflow: publishers learn what awaits their review, an editor what became
of what they submitted; to active staff with an address alone, once the move is committed."""

import logging
import smtplib

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import RequestFactory
from django.utils import translation

from agreements.admin import AgreementAdmin
from agreements.models import TRANSITIONS, Agreement
from agreements.notifications import move_mails
from tests.factories import AgreementFactory, PartyFactory, UserFactory, logged_in
from tests.test_review import change_url, hidden_fields, messages_of, move_url, status_of

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/agreements/agreement/"


@pytest.fixture(autouse=True)
def review_mail(settings):
    settings.REVIEW_MAIL = True


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what a request leaves to run once its transaction commits, as a server does (the
    test's own transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def staff(group, name):
    return UserFactory(group=group, username=name, email=f"{name}@example.org")


def draft(**fields):
    agreement = AgreementFactory(**fields)
    PartyFactory(agreement=agreement)
    return agreement


def submitted(by, **fields):
    agreement = draft(**fields)
    agreement.submit(by=by)
    return agreement


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


def admin_link(agreement):
    return f"http://testserver{change_url(agreement)}"


# Submitted: to the publishers


def test_a_submitted_draft_is_mailed_to_every_publisher_but_the_submitter(committed):
    editor = staff("Editors", "erin")
    staff("Publishers", "paula")
    staff("Publishers", "peter")
    submitting_publisher = staff("Publishers", "pia")
    UserFactory(username="root", email="root@example.org", is_superuser=True)
    staff("Editors", "other-editor")  # not a publisher
    agreement = draft(title="ECNU and Huawei")

    with committed():
        response = logged_in(editor).post(
            move_url(agreement, "submit"), {"comment": "Dates checked."}
        )

    assert status_of(agreement) == Agreement.Status.REVIEW
    assert response.status_code == 302
    assert recipients() == [
        "paula@example.org",
        "peter@example.org",
        "pia@example.org",
        "root@example.org",
    ]
    message = mail.outbox[0]
    assert message.subject == (
        "Partnership Registry: erin submitted 1 agreement for review / erin 提交了 1 项协议待审核"
    )
    assert "erin submitted 1 agreement for review.\nComment: Dates checked." in message.body
    assert f"- ECNU and Huawei\n  {admin_link(agreement)}\n" in message.body

    mail.outbox.clear()
    with committed():
        logged_in(submitting_publisher).post(move_url(draft(), "submit"), {"comment": ""})
    assert "pia@example.org" not in recipients()  # not told of their own move
    assert len(mail.outbox) == 3


def test_publishers_without_an_address_inactive_or_off_staff_are_not_mailed(committed):
    editor = staff("Editors", "erin")
    UserFactory(group="Publishers", username="no-address")
    UserFactory(group="Publishers", username="gone", email="g@example.org", is_active=False)
    UserFactory(group="Publishers", username="outsider", email="o@example.org", is_staff=False)
    staff("Publishers", "paula")

    with committed():
        logged_in(editor).post(move_url(draft(), "submit"), {"comment": ""})

    assert recipients() == ["paula@example.org"]


def test_a_user_given_the_publish_permission_alone_is_mailed_as_a_publisher(committed):
    editor = staff("Editors", "erin")
    reviewer = staff(None, "rita")
    reviewer.user_permissions.add(Permission.objects.get(codename="publish_agreement"))

    with committed():
        logged_in(editor).post(move_url(draft(), "submit"), {"comment": ""})

    assert recipients() == ["rita@example.org"]


def test_drafts_submitted_together_are_one_mail_per_publisher(committed):
    editor = staff("Editors", "erin")
    staff("Publishers", "paula")
    drafts = [draft(title=f"Agreement {n}") for n in range(3)]

    with committed():
        logged_in(editor).post(
            CHANGELIST,
            {"action": "submit_selected", "_selected_action": [a.pk for a in drafts]},
        )

    assert recipients() == ["paula@example.org"]
    body = mail.outbox[0].body
    assert "erin submitted 3 agreements for review." in body
    assert all(f"- {a.title}\n  {admin_link(a)}" in body for a in drafts)


def test_save_and_submit_mails_the_publishers_once_the_save_is_committed(committed):
    from tests.test_admin import form_data

    editor = staff("Editors", "erin")
    staff("Publishers", "paula")
    agreement = draft()
    client = logged_in(editor)
    page = client.get(change_url(agreement))

    with committed():
        client.post(change_url(agreement), {**form_data(page), "title": "New", "_submit": "1"})

    assert status_of(agreement) == Agreement.Status.REVIEW
    assert recipients() == ["paula@example.org"]
    assert "- New\n" in mail.outbox[0].body


# Published, sent back, withdrawn: to the editor who submitted it


def test_the_submitter_is_told_their_agreement_is_published_with_its_public_page(committed):
    editor, publisher = staff("Editors", "erin"), staff("Publishers", "paula")
    agreement = submitted(editor, title="ECNU and Huawei")

    with committed():
        logged_in(publisher).post(move_url(agreement, "publish"), {"comment": "Fine."})

    assert status_of(agreement) == Agreement.Status.PUBLISHED
    assert recipients() == ["erin@example.org"]
    message = mail.outbox[0]
    assert message.subject == (
        "Partnership Registry: paula published 1 agreement you submitted"
        " / paula 发布了您提交的 1 项协议"
    )
    assert "Comment: Fine." in message.body
    public = f"http://testserver{agreement.get_absolute_url()}"
    assert f"- ECNU and Huawei\n  {admin_link(agreement)}\n  {public}\n" in message.body


def test_the_submitter_reads_why_their_agreement_was_sent_back(committed):
    editor, publisher = staff("Editors", "erin"), staff("Publishers", "paula")
    agreement = submitted(editor)

    with committed():
        logged_in(publisher).post(move_url(agreement, "send_back"), {"comment": "Add a source."})

    assert status_of(agreement) == Agreement.Status.DRAFT
    assert recipients() == ["erin@example.org"]
    body = mail.outbox[0].body
    assert "paula sent 1 agreement you submitted back to draft.\nComment: Add a source." in body
    assert admin_link(agreement) in body
    assert agreement.get_absolute_url() not in body  # no public page: it is a draft


def test_the_submitter_reads_why_their_agreement_was_withdrawn(committed):
    editor, publisher = staff("Editors", "erin"), staff("Publishers", "paula")
    agreement = submitted(editor)
    agreement.publish(by=publisher)

    with committed():
        logged_in(publisher).post(move_url(agreement, "withdraw"), {"comment": "Never signed."})

    assert status_of(agreement) == Agreement.Status.DRAFT
    assert recipients() == ["erin@example.org"]
    assert (
        "paula withdrew 1 agreement you submitted to draft: it is no longer public.\n"
        "Reason: Never signed."
    ) in mail.outbox[0].body


def test_the_latest_submitter_is_told_and_nobody_of_their_own_move(committed):
    first, second = staff("Editors", "erin"), staff("Editors", "eric")
    publisher = staff("Publishers", "paula")
    agreement = submitted(first)
    agreement.send_back(by=publisher, comment="No.")
    agreement.submit(by=second)

    with committed():
        logged_in(publisher).post(move_url(agreement, "publish"), {"comment": ""})
    assert recipients() == ["eric@example.org"]

    mail.outbox.clear()
    own = submitted(publisher)
    with committed():
        logged_in(publisher).post(move_url(own, "publish"), {"comment": ""})
    assert mail.outbox == []


def test_a_taken_back_or_never_submitted_agreement_is_mailed_to_nobody(committed):
    editor, publisher = staff("Editors", "erin"), staff("Publishers", "paula")
    agreement = submitted(editor)

    with committed():
        logged_in(editor).post(move_url(agreement, "take_back"), {"comment": "Too soon."})
        logged_in(publisher).post(move_url(draft(), "publish"), {"comment": ""})

    assert mail.outbox == []


def test_a_submitter_no_longer_staff_or_active_is_not_mailed(committed):
    leaver, inactive = staff("Editors", "erin"), staff("Editors", "eric")
    publisher = staff("Publishers", "paula")
    agreements = [submitted(leaver), submitted(inactive)]
    leaver.is_staff = False
    leaver.save()
    inactive.is_active = False
    inactive.save()

    with committed():
        logged_in(publisher).post(
            CHANGELIST,
            {"action": "publish_selected", "_selected_action": [a.pk for a in agreements]},
        )

    assert {status_of(a) for a in agreements} == {Agreement.Status.PUBLISHED}
    assert mail.outbox == []


def test_agreements_sent_back_together_are_one_mail_per_submitter(
    committed, django_assert_max_num_queries
):
    erin, eric = staff("Editors", "erin"), staff("Editors", "eric")
    publisher = staff("Publishers", "paula")
    erins = [submitted(erin, title=f"Erin's {n}") for n in range(3)]
    erics = [submitted(eric, title="Eric's")]
    client = logged_in(publisher)
    selected = {"action": "send_back_selected", "_selected_action": [a.pk for a in erins + erics]}
    asked = client.post(CHANGELIST, selected)

    with committed():
        done = client.post(CHANGELIST, {**hidden_fields(asked), "comment": "Sources missing."})

    assert messages_of(done) == ["Send back to draft: 4 agreements."]
    assert recipients() == ["eric@example.org", "erin@example.org"]
    to_erin = next(message for message in mail.outbox if message.to == ["erin@example.org"])
    assert "paula sent 3 agreements you submitted back to draft." in to_erin.body
    assert "Comment: Sources missing." in to_erin.body
    assert all(admin_link(a) in to_erin.body for a in erins)
    assert "Eric's" not in to_erin.body

    # Who is told of what: in as many queries for 4 agreements as for 40.
    with django_assert_max_num_queries(3):
        move_mails(
            name="publish",
            agreements=erins + erics,
            by=publisher,
            comment="",
            absolute_url=lambda path: path,
        )


# What the mail server does, and when


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class UnreachableBackend(BaseEmailBackend):
    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, messages):  # pragma: no cover - never reached
        raise AssertionError("sent without a connection")


@pytest.mark.parametrize("backend", [FailingBackend, UnreachableBackend])
def test_a_mail_server_that_fails_neither_fails_nor_undoes_the_move(
    committed, settings, caplog, backend
):
    settings.EMAIL_BACKEND = f"{__name__}.{backend.__name__}"
    editor, publisher = staff("Editors", "erin"), staff("Publishers", "paula")
    agreement = submitted(editor)

    with committed(), caplog.at_level(logging.ERROR, logger="agreements.notifications"):
        response = logged_in(publisher).post(move_url(agreement, "publish"), {"comment": ""})

    assert response.status_code == 302
    assert status_of(agreement) == Agreement.Status.PUBLISHED
    assert agreement.status_changes.filter(to_status="published").exists()
    assert sorted(messages_of(response)) == [
        "Done, but 1 mail telling of it could not be sent: the error is in the log.",
        f"“{agreement.title}”: Published.",
    ]
    assert caplog.records and caplog.records[0].exc_info


def test_nothing_is_mailed_of_a_move_whose_transaction_rolls_back(committed):
    editor = staff("Editors", "erin")
    staff("Publishers", "paula")
    agreement = draft()
    request = RequestFactory().post(CHANGELIST)
    request.user, request.session = editor, {}
    request._messages = FallbackStorage(request)

    with committed() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        AgreementAdmin(Agreement, admin.site).move(request, [agreement], TRANSITIONS["submit"])
        raise RuntimeError("the save failed after the move")

    assert status_of(agreement) == Agreement.Status.DRAFT
    assert callbacks == []
    assert mail.outbox == []


def test_nothing_is_mailed_when_review_mail_is_off(committed, settings):
    settings.REVIEW_MAIL = False
    editor, publisher = staff("Editors", "erin"), staff("Publishers", "paula")
    agreement = draft()

    with committed():
        logged_in(editor).post(move_url(agreement, "submit"), {"comment": ""})
        logged_in(publisher).post(move_url(agreement, "publish"), {"comment": ""})

    assert status_of(agreement) == Agreement.Status.PUBLISHED
    assert mail.outbox == []


def test_the_mail_is_in_english_and_chinese_whatever_the_admin_s_language(committed):
    editor, publisher = staff("Editors", "erin"), staff("Publishers", "paula")
    agreement = submitted(editor)
    client = logged_in(publisher)
    client.cookies["django_language"] = "zh-hans"

    # The language the request activates ends with the test: later tests read English.
    with committed(), translation.override("en"):
        client.post(move_url(agreement, "send_back"), {"comment": "Add a source."})

    subject, body = mail.outbox[0].subject, mail.outbox[0].body
    assert subject.startswith("Partnership Registry: paula sent 1 agreement you submitted back")
    assert body.index("Comment: Add a source.") < body.index("说明: Add a source.")
