"""The review workflow: draft → review → published, sent back or withdrawn with a reason."""

import datetime
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from agreements import admin as agreements_admin
from agreements.models import TRANSITIONS, Agreement, AgreementType, StatusChange
from backoffice.interchange import export_lines, import_lines
from backoffice.reports import REPORTS, run
from tests.factories import (
    AgreementFactory,
    InstitutionFactory,
    ParticipationFactory,
    PartyFactory,
    SignedAgreementFactory,
    UserFactory,
    logged_in,
)
from tests.test_admin import form_data, undescribed

pytestmark = pytest.mark.django_db


def change_url(agreement):
    return reverse("admin:agreements_agreement_change", args=[agreement.pk])


def move_url(agreement, name):
    return reverse("admin:agreements_agreement_move", args=[agreement.pk, name])


def awaiting_url():
    return reverse("admin:agreements_agreement_awaiting_review")


def status_of(agreement):
    agreement.refresh_from_db()
    return agreement.status


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


def in_review(**fields):
    agreement = AgreementFactory(**fields)
    PartyFactory(agreement=agreement)
    agreement.submit(by=UserFactory(group="Editors"))
    return agreement


# The moves themselves


def test_submit_publish_records_each_move_with_who_and_when(editor, publisher):
    agreement = SignedAgreementFactory()
    agreement.submit(by=editor, comment="Checked against both sources.")
    assert status_of(agreement) == Agreement.Status.REVIEW
    assert agreement.published_at is None

    agreement.publish(by=publisher)
    assert status_of(agreement) == Agreement.Status.PUBLISHED
    assert agreement.published_by == publisher
    moves = list(agreement.status_changes.order_by("at", "pk"))
    assert [(m.from_status, m.to_status, m.by) for m in moves] == [
        ("draft", "review", editor),
        ("review", "published", publisher),
    ]
    assert moves[0].comment == "Checked against both sources."
    # simple_history's record of each move names who made it.
    assert agreement.history.latest("history_date").history_user == publisher


def test_what_is_signed_after_today_waits_as_a_draft_until_it_is_signed(publisher):
    coming = datetime.date.today() + datetime.timedelta(days=40)
    agreement = SignedAgreementFactory(
        signed_on=coming, signed_on_precision="day", title="Signing next month"
    )
    with pytest.raises(ValidationError, match="which is to come: publish it once signed"):
        agreement.publish(by=publisher)
    assert status_of(agreement) == Agreement.Status.DRAFT

    # Nor is a published agreement's date moved to come.
    published = SignedAgreementFactory(status="published")
    client = logged_in(publisher)
    data = form_data(client.get(change_url(published)))
    response = client.post(change_url(published), {**data, "signed_on": coming.isoformat()})
    assert response.status_code == 200
    assert "A published agreement has been signed: this date is to come." in response.text
    published.refresh_from_db()
    assert published.signed_on != coming


def test_send_back_and_withdraw_need_a_comment(publisher):
    agreement = in_review()
    with pytest.raises(ValidationError, match="needs a comment"):
        agreement.send_back(by=publisher, comment="  ")
    assert status_of(agreement) == Agreement.Status.REVIEW

    agreement.send_back(by=publisher, comment="The date is wrong.")
    assert status_of(agreement) == Agreement.Status.DRAFT
    assert agreement.status_changes.first().comment == "The date is wrong."

    published = AgreementFactory(status="published")
    with pytest.raises(ValidationError, match="needs a comment"):
        published.withdraw(by=publisher, reason="")
    published.withdraw(by=publisher, reason="The source retracted it.")
    assert status_of(published) == Agreement.Status.DRAFT


@pytest.mark.parametrize(
    "status, move, message",
    [
        ("published", "submit", "is published: only a draft can be submitted for review."),
        ("review", "submit", "is in review: only a draft can be submitted for review."),
        ("published", "publish", "only a draft or an agreement in review can be published."),
        ("draft", "send_back", "is draft: only an agreement in review can be sent back."),
        ("review", "withdraw", "only a published agreement can be withdrawn."),
        ("draft", "withdraw", "only a published agreement can be withdrawn."),
    ],
)
def test_illegal_moves_are_refused_saying_why(publisher, status, move, message):
    agreement = AgreementFactory(status=status)
    with pytest.raises(ValidationError) as refused:
        agreement.move(move, by=publisher, comment="a comment")
    assert message in " ".join(refused.value.messages)
    assert status_of(agreement) == status
    assert not agreement.status_changes.exists()


@pytest.mark.parametrize("move", ["submit", "publish"])
def test_an_agreement_without_a_party_is_neither_submitted_nor_published(publisher, move):
    agreement = AgreementFactory(title="Signed by nobody")  # saved otherwise than in the admin
    with pytest.raises(ValidationError) as refused:
        agreement.move(move, by=publisher)
    assert refused.value.messages == [
        "“Signed by nobody” has no party: add the institutions that signed it first."
    ]
    assert status_of(agreement) == Agreement.Status.DRAFT
    # From the list, the others go ahead and it is named.
    other = SignedAgreementFactory()
    response = logged_in(publisher).post(
        reverse("admin:agreements_agreement_changelist"),
        {"action": f"{move}_selected", "_selected_action": [agreement.pk, other.pk]},
        follow=True,
    )
    assert "“Signed by nobody” has no party" in " ".join(messages_of(response))
    assert status_of(agreement) == Agreement.Status.DRAFT
    assert status_of(other) == TRANSITIONS[move].target


def test_a_move_reads_the_stored_status_not_a_stale_copy(publisher):
    agreement = in_review()
    stale = Agreement.objects.get(pk=agreement.pk)
    agreement.publish(by=publisher)
    with pytest.raises(ValidationError, match="is published"):
        stale.send_back(by=publisher, comment="Too late.")
    assert status_of(agreement) == Agreement.Status.PUBLISHED


def test_the_database_accepts_the_three_statuses_only():
    AgreementFactory(status="review")
    for status in ("withdrawn", "archived"):
        with pytest.raises(IntegrityError), transaction.atomic():
            AgreementFactory(status=status)


def test_the_database_refuses_a_move_to_draft_without_a_comment_or_to_the_same_status():
    agreement = AgreementFactory()
    for fields in (
        {"from_status": "review", "to_status": "draft", "comment": ""},
        {"from_status": "draft", "to_status": "draft", "comment": "x"},
        {"from_status": "draft", "to_status": "withdrawn", "comment": "x"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            StatusChange.objects.create(agreement=agreement, **fields)


# The admin: who may make which move


def test_editor_submits_a_draft_with_the_button_beside_save(editor):
    client = logged_in(editor)
    agreement = SignedAgreementFactory()
    page = client.get(change_url(agreement))
    assert b'name="_submit"' in page.content
    assert b'name="_publish"' not in page.content
    response = client.post(
        change_url(agreement), {**form_data(page), "title": "Better title", "_submit": "1"}
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.title, agreement.status) == ("Better title", Agreement.Status.REVIEW)
    assert agreement.status_changes.get().by == editor


def test_editor_submits_from_the_move_page(editor):
    client = logged_in(editor)
    agreement = SignedAgreementFactory()
    assert move_url(agreement, "submit") in client.get(change_url(agreement)).content.decode()
    assert client.get(move_url(agreement, "submit")).status_code == 200
    response = client.post(move_url(agreement, "submit"), {"comment": ""})
    assert response.status_code == 302
    assert status_of(agreement) == Agreement.Status.REVIEW


@pytest.mark.parametrize("move", ["publish", "send_back"])
def test_editor_cannot_publish_or_send_back(editor, move):
    agreement = in_review()
    response = logged_in(editor).post(move_url(agreement, move), {"comment": "Fine."})
    assert response.status_code == 403
    assert status_of(agreement) == Agreement.Status.REVIEW


def test_editor_cannot_withdraw(editor):
    agreement = AgreementFactory(status="published")
    response = logged_in(editor).post(move_url(agreement, "withdraw"), {"comment": "No."})
    assert response.status_code == 403
    assert status_of(agreement) == Agreement.Status.PUBLISHED


def test_an_editor_reads_for_whom_each_signatory_signed_where_the_form_is_read_only(editor):
    agreement = in_review()
    party = agreement.parties.get()
    party.unit = InstitutionFactory(parent=party.institution, name="School of Software")
    party.save()
    ParticipationFactory(agreement=agreement, role="signatory", party=party)
    ParticipationFactory(agreement=agreement, role="witness")

    page = logged_in(editor).get(change_url(agreement)).content.decode()
    table = page[page.index('id="participations-group"') :]
    table = table[: table.index("</table>")]
    assert "Signed on behalf of" in table
    cells = re.findall(r'<td class="field-on_behalf_of">\s*<p>(.*?)</p>', table, re.S)
    assert [cell.strip() for cell in cells] == ["School of Software", "-"]


@pytest.mark.parametrize("status", ["review", "published"])
def test_editor_sees_but_cannot_change_an_agreement_in_review_or_published(editor, status):
    agreement = AgreementFactory(status=status, title="As reviewed")
    PartyFactory(agreement=agreement)
    client = logged_in(editor)
    page = client.get(change_url(agreement))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert b'name="_save"' not in page.content
    assert all(
        not inline.has_change_permission and not inline.has_add_permission
        for inline in page.context["inline_admin_formsets"]
    )
    response = client.post(change_url(agreement), {"title": "Changed behind the review"})
    assert response.status_code == 403
    agreement.refresh_from_db()
    assert (agreement.title, agreement.status) == ("As reviewed", status)


@pytest.mark.parametrize("version", [" ", "2000-01-01T00:00:00+00:00", "not a time"])
def test_an_editor_cannot_change_a_published_agreement_by_sending_another_version(editor, version):
    agreement = AgreementFactory(status="published", title="As published")
    PartyFactory(agreement=agreement)
    client = logged_in(editor)
    data = form_data(client.get(change_url(agreement)))

    # The page an editor opened on a draft may be saved to be told of the conflict; a forged
    # version of when it was opened gets no further than that.
    response = client.post(
        change_url(agreement), {**data, "title": "Changed by hand", "loaded_version": version}
    )

    assert "Someone else saved this agreement" in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.title == "As published"


def test_an_editor_whose_draft_moved_on_while_they_edited_it_keeps_what_they_typed(editor):
    client = logged_in(editor)
    agreement = AgreementFactory(title="As first entered")
    PartyFactory(agreement=agreement)
    data = form_data(client.get(change_url(agreement)))
    agreement.submit(by=UserFactory(group="Editors"))  # from another page, meanwhile

    response = client.post(change_url(agreement), {**data, "title": "The editor's new title"})

    # Refused as any save over a later one is, on the page, with the input to copy; not a 403.
    assert response.status_code == 200
    assert "Someone else saved this agreement" in response.content.decode()
    assert "The editor&#x27;s new title" in response.content.decode()
    agreement.refresh_from_db()
    assert (agreement.title, agreement.status) == ("As first entered", Agreement.Status.REVIEW)


def test_a_draft_submitted_twice_is_told_so_the_second_time(editor):
    client = logged_in(editor)
    agreement = AgreementFactory()
    PartyFactory(agreement=agreement)
    client.post(move_url(agreement, "submit"), {"comment": ""})

    again = client.post(move_url(agreement, "submit"), {"comment": ""})

    assert again.status_code == 302
    assert messages_of(again)[-1].endswith(
        "is in review: only a draft can be submitted for review."
    )
    assert status_of(agreement) == Agreement.Status.REVIEW


def test_publisher_publishes_from_the_move_page(publisher):
    agreement = in_review()
    client = logged_in(publisher)
    page = client.get(change_url(agreement)).content.decode()
    assert move_url(agreement, "publish") in page
    assert move_url(agreement, "send_back") in page
    assert move_url(agreement, "withdraw") not in page
    response = client.post(move_url(agreement, "publish"), {"comment": ""})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.PUBLISHED
    assert agreement.published_by == publisher


def test_send_back_without_a_comment_is_a_form_error_and_changes_nothing(publisher):
    agreement = in_review()
    response = logged_in(publisher).post(move_url(agreement, "send_back"), {"comment": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["comment"] == ["This field is required."]
    assert status_of(agreement) == Agreement.Status.REVIEW

    response = logged_in(publisher).post(
        move_url(agreement, "send_back"), {"comment": "Add the second source."}
    )
    assert response.status_code == 302
    assert status_of(agreement) == Agreement.Status.DRAFT


def test_a_moves_comment_is_read_with_its_help_and_its_error(publisher):
    """A screen reader reads the comment's field with what it is for ("Required: it is kept
    with the agreement's history") and, once sent empty, with its error."""
    agreement = in_review()
    client = logged_in(publisher)
    for response in [
        client.get(move_url(agreement, "send_back")),
        client.post(move_url(agreement, "send_back"), {"comment": ""}),
        client.post(
            reverse("admin:agreements_agreement_changelist"),
            {"action": "send_back_selected", "_selected_action": [agreement.pk]},
        ),
    ]:
        assert 'aria-describedby="id_comment_helptext' in response.text
        assert undescribed(response.text) == []


def test_an_illegal_move_in_the_admin_is_refused_with_a_message(publisher):
    agreement = AgreementFactory(title="Still a draft")
    response = logged_in(publisher).post(move_url(agreement, "withdraw"), {"comment": "Why not"})
    assert response.status_code == 302
    assert messages_of(response) == [
        "“Still a draft” is draft: only a published agreement can be withdrawn."
    ]
    assert status_of(agreement) == Agreement.Status.DRAFT


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_who_may_not_see_agreements_learn_nothing_of_one_from_its_moves(method):
    agreement = AgreementFactory(title="Zq secret draft")
    client = logged_in(UserFactory())  # staff, in no group

    response = getattr(client, method)(move_url(agreement, "withdraw"), {"comment": "Why"})

    # Refused before the illegal move was told, naming the draft.
    assert response.status_code == 403
    assert messages_of(response) == []
    assert status_of(agreement) == Agreement.Status.DRAFT


def test_an_unknown_move_is_404(publisher):
    response = logged_in(publisher).post(move_url(AgreementFactory(), "archive"))
    assert response.status_code == 404


def hidden_fields(page):
    """What the page's form sends besides what is typed in it."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    fields = {}
    for name, value in found:
        fields.setdefault(name, []).append(value)
    return fields


def test_publisher_sends_back_several_with_one_comment(publisher):
    waiting = [in_review(), in_review()]
    draft = AgreementFactory()
    selected = {
        "action": "send_back_selected",
        "_selected_action": [agreement.pk for agreement in [*waiting, draft]],
    }
    client = logged_in(publisher)
    asked = client.post(reverse("admin:agreements_agreement_changelist"), selected)
    assert asked.status_code == 200
    assert asked.context["count"] == 2  # the draft cannot be sent back
    assert "1 agreement will be left as it is: only an agreement in review" in asked.text
    done = client.post(
        reverse("admin:agreements_agreement_changelist"),
        {**hidden_fields(asked), "comment": "No."},
    )
    assert done.status_code == 302
    assert [status_of(agreement) for agreement in waiting] == ["draft", "draft"]
    assert status_of(draft) == "draft"
    assert StatusChange.objects.filter(to_status="draft", comment="No.").count() == 2
    assert messages_of(done) == [
        "Send back to draft: 2 agreements.",
        "1 agreement was left as it is: only an agreement in review can be sent back.",
    ]


def test_publisher_withdraws_every_agreement_a_filter_selects(publisher, settings):
    """Select all of a filtered list, with a reason: the form asking for it carries the
    selection as the list does, not one field per agreement, which the server refuses past
    its limit of fields (DATA_UPLOAD_MAX_NUMBER_FIELDS: 1,000)."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 12
    published = AgreementFactory.create_batch(15, status="published")
    other_type = AgreementType.objects.exclude(pk=published[0].agreement_type_id).first()
    kept = AgreementFactory(status="published", agreement_type=other_type)
    changelist = reverse("admin:agreements_agreement_changelist")
    chosen = f"{changelist}?agreement_type__id__exact={published[0].agreement_type_id}"
    client = logged_in(publisher)
    asked = client.post(
        chosen,
        {
            "action": "withdraw_selected",
            "select_across": "1",
            "_selected_action": [a.pk for a in published[:3]],  # the boxes of its first page
        },
    )
    assert asked.context["count"] == 15

    done = client.post(chosen, {**hidden_fields(asked), "comment": "Wrongly published."})

    assert done.status_code == 302
    assert messages_of(done) == ["Withdraw: 15 agreements."]
    assert {status_of(agreement) for agreement in published} == {"draft"}
    assert status_of(kept) == "published"


def test_a_move_of_more_agreements_than_a_page_has_time_for_is_refused(publisher, monkeypatch):
    """Each move is checked, recorded and logged (some 40 ms): a thousand took longer than
    the server gives a page, which then failed part of the way through."""
    monkeypatch.setattr(agreements_admin, "MAX_MOVES", 2)
    drafts = SignedAgreementFactory.create_batch(3)

    response = logged_in(publisher).post(
        reverse("admin:agreements_agreement_changelist"),
        {"action": "publish_selected", "_selected_action": [a.pk for a in drafts], "index": 0},
    )

    assert response.status_code == 302
    assert messages_of(response) == [
        "3 agreements are selected; a move takes at most 2 at a time. Choose fewer, or narrow"
        " the list with its filters first."
    ]
    assert {status_of(agreement) for agreement in drafts} == {"draft"}


def test_editor_submits_several_with_the_action_and_is_told_of_the_others(editor):
    drafts = SignedAgreementFactory.create_batch(2)
    published = AgreementFactory(status="published")
    response = logged_in(editor).post(
        reverse("admin:agreements_agreement_changelist"),
        {
            "action": "submit_selected",
            "_selected_action": [a.pk for a in [*drafts, published]],
            "index": 0,
        },
    )
    assert response.status_code == 302
    assert [status_of(a) for a in drafts] == ["review", "review"]
    assert status_of(published) == "published"
    assert messages_of(response)[-1].startswith("1 agreement was left as it is")


def test_an_editor_reads_why_their_draft_was_sent_back_above_its_form(editor, publisher):
    agreement = in_review()
    agreement.send_back(by=publisher, comment="The date is wrong: see the source.")
    page = logged_in(editor).get(change_url(agreement)).content.decode()
    above = page[page.index('id="last-move"') : page.index("<fieldset")]
    assert "from in review to draft by " + publisher.username in above
    assert "The date is wrong: see the source." in above


def test_a_move_without_a_comment_is_not_shown_above_the_form(editor):
    agreement = SignedAgreementFactory()
    agreement.submit(by=editor)
    assert 'id="last-move"' not in logged_in(editor).get(change_url(agreement)).content.decode()


# Taking back a submission


def test_an_editor_takes_back_what_awaits_review_changes_it_and_submits_it_again(editor):
    agreement = in_review(title="Submitted too soon")
    client = logged_in(editor)
    page = client.get(change_url(agreement)).content.decode()
    assert move_url(agreement, "take_back") in page
    assert move_url(agreement, "send_back") not in page

    assert client.get(move_url(agreement, "take_back")).status_code == 200
    response = client.post(move_url(agreement, "take_back"), {"comment": ""})
    assert response.status_code == 200  # the form again: a move back to draft says why
    assert status_of(agreement) == Agreement.Status.REVIEW
    response = client.post(move_url(agreement, "take_back"), {"comment": "The date is wrong."})

    assert response.status_code == 302
    assert status_of(agreement) == Agreement.Status.DRAFT
    move = agreement.status_changes.first()
    assert (move.from_status, move.to_status, move.by, move.comment) == (
        "review",
        "draft",
        editor,
        "The date is wrong.",
    )
    assert "Taken back to draft." in messages_of(response)[-1]
    page = client.get(change_url(agreement))
    assert page.context["has_change_permission"]
    response = client.post(
        change_url(agreement), {**form_data(page), "title": "Ready now", "_submit": "1"}
    )
    agreement.refresh_from_db()
    assert (agreement.title, agreement.status) == ("Ready now", Agreement.Status.REVIEW)


def test_a_publisher_sends_back_with_a_comment_rather_than_taking_back(publisher):
    agreement = in_review()
    client = logged_in(publisher)
    assert (
        move_url(agreement, "take_back") not in client.get(change_url(agreement)).content.decode()
    )
    assert client.post(move_url(agreement, "take_back"), {"comment": "Why."}).status_code == 403
    assert status_of(agreement) == Agreement.Status.REVIEW
    changelist = client.get(reverse("admin:agreements_agreement_changelist"))
    assert "take_back_selected" not in changelist.content.decode()


@pytest.mark.parametrize("status", ["draft", "published"])
def test_only_what_awaits_review_can_be_taken_back(editor, status):
    agreement = AgreementFactory(status=status)
    PartyFactory(agreement=agreement)
    response = logged_in(editor).post(move_url(agreement, "take_back"), {"comment": "Why."})
    assert response.status_code == 302
    assert status_of(agreement) == status
    assert "only an agreement in review can be taken back" in messages_of(response)[-1]


def test_an_editor_takes_back_several_with_the_action(editor):
    waiting = [in_review(), in_review()]
    published = AgreementFactory(status="published")
    response = logged_in(editor).post(
        reverse("admin:agreements_agreement_changelist"),
        {
            "action": "take_back_selected",
            "_selected_action": [a.pk for a in [*waiting, published]],
            "index": 0,
            "apply": "1",
            "comment": "Their dates are wrong.",
        },
    )
    assert response.status_code == 302
    assert [status_of(a) for a in waiting] == ["draft", "draft"]
    assert status_of(published) == "published"
    assert messages_of(response)[-1].startswith("1 agreement was left as it is")


# What awaits review; the list's state column


def test_awaiting_review_lists_agreements_in_review_longest_waiting_first(publisher):
    first = in_review(title="Waiting longest")
    first.status_changes.update(at=datetime.datetime(2026, 7, 3, 14, 30, tzinfo=datetime.UTC))
    second = in_review(title="Waiting since later")
    AgreementFactory(title="Only a draft")
    AgreementFactory(title="Already public", status="published")
    client = logged_in(publisher)

    index = client.get(reverse("admin:index")).content.decode()
    assert awaiting_url() in index
    assert "Awaiting review: 2 agreements" in index
    page = client.get(awaiting_url())

    assert [a.title for a in page.context["page"].object_list] == [first.title, second.title]
    html = page.content.decode()
    assert change_url(first) in html
    assert first.status_changes.get().by.username in html
    assert "July 3, 2026, 2:30 p.m." in html  # not 07/03/2026, which reads as 7 March
    assert "Only a draft" not in html and "Already public" not in html


def test_editors_have_no_awaiting_review_page(editor):
    client = logged_in(editor)
    assert client.get(awaiting_url()).status_code == 403
    assert awaiting_url() not in client.get(reverse("admin:index")).content.decode()


def test_changelist_shows_state_and_who_moved_it_in_a_fixed_number_of_queries(
    publisher, django_assert_max_num_queries
):
    client = logged_in(publisher)
    url = reverse("admin:agreements_agreement_changelist")
    for _ in range(3):
        in_review()
    client.get(url)  # warm: content types, sessions
    with django_assert_max_num_queries(20) as captured:
        client.get(url)
    few = len(captured)
    for _ in range(6):
        in_review()
    with django_assert_max_num_queries(few):
        response = client.get(url)
    submitter = StatusChange.objects.first().by.username
    assert f"in review — {submitter}," in response.content.decode()


def test_changelist_shows_why_a_draft_was_sent_back_to_whoever_may_correct_it(publisher, editor):
    agreement = in_review()
    agreement.send_back(by=publisher, comment="Add the second source, from Huawei's site.")

    response = logged_in(editor).get(reverse("admin:agreements_agreement_changelist"))

    assert f"draft — {publisher.username}," in response.text
    assert "“Add the second source, from Huawei&#x27;s site.”" in response.text


def test_changelist_filters_by_who_last_moved(publisher, editor):
    mine, theirs = SignedAgreementFactory(), SignedAgreementFactory()
    mine.submit(by=editor)
    theirs.submit(by=publisher)
    response = logged_in(publisher).get(
        reverse("admin:agreements_agreement_changelist"), {"moved_by": editor.username}
    )
    assert list(response.context["cl"].result_list) == [mine]


# Nothing in review, sent back or withdrawn is public


@pytest.fixture
def unpublished(publisher):
    """An agreement in review, one sent back and one withdrawn, each with its own party."""
    waiting = in_review(title="Zebrafish waiting review")
    sent_back = in_review(title="Zebrafish sent back")
    sent_back.send_back(by=publisher, comment="Not yet.")
    withdrawn = AgreementFactory(title="Zebrafish withdrawn", status="published")
    PartyFactory(agreement=withdrawn)
    withdrawn.withdraw(by=publisher, reason="Retracted.")
    return [waiting, sent_back, withdrawn]


def test_nothing_unpublished_is_public(client, unpublished):
    assert not Agreement.objects.published().exists()
    assert "Zebrafish" not in client.get("/agreements/?q=zebrafish").content.decode()
    assert json.loads(client.get("/api/agreements/?q=zebrafish").content)["count"] == 0
    # Never public: not found. Withdrawn: gone, and said to be so, nothing of it more.
    for agreement, status in zip(unpublished, (404, 404, 410), strict=True):
        page = client.get(agreement.get_absolute_url())
        record = client.get(f"/api/agreements/{agreement.slug}/")
        assert (page.status_code, record.status_code) == (status, status)
        assert "Zebrafish" not in page.text + record.text
    for export in ("csv", "jsonl"):
        response = client.get(f"/agreements/export.{export}")
        assert b"Zebrafish" not in b"".join(response.streaming_content)
    for section in ["", "-agreements", "-institutions", "-people", "-labs", "-technologies"]:
        response = client.get(f"/sitemap{section}.xml")
        assert response.status_code in (200, 404)  # 404: a section with nothing public
        assert b"zebrafish" not in response.content.lower()


def test_published_after_review_is_public(client, publisher):
    agreement = in_review(title="Zebrafish published")
    agreement.publish(by=publisher)
    assert "Zebrafish published" in client.get("/agreements/?q=zebrafish").content.decode()
    assert client.get(agreement.get_absolute_url()).status_code == 200


# Interchange and reports


def test_an_agreement_in_review_exports_as_review_and_imports_back_as_it_was():
    agreement = in_review()
    line = "".join(export_lines(Agreement.objects.filter(pk=agreement.pk)))
    assert json.loads(line)["status"] == "review"
    agreement.delete()

    report = import_lines([line])
    assert not report.errors
    imported = Agreement.objects.get(slug=agreement.slug)
    assert imported.status == Agreement.Status.REVIEW
    assert "".join(export_lines(Agreement.objects.filter(pk=imported.pk))) == line
    move = imported.status_changes.get()
    assert (move.from_status, move.to_status, move.by) == ("draft", "review", None)


def test_an_import_that_withdraws_records_the_move():
    agreement = AgreementFactory(status="published")
    PartyFactory(agreement=agreement)
    line = json.loads("".join(export_lines(Agreement.objects.filter(pk=agreement.pk))))
    report = import_lines([json.dumps({**line, "status": "draft"})])
    assert not report.errors
    assert status_of(agreement) == Agreement.Status.DRAFT
    move = agreement.status_changes.get()
    assert (move.from_status, move.to_status, move.comment) == (
        "published",
        "draft",
        "Set by an import.",
    )


def exported(agreement, **changes):
    line = json.loads("".join(export_lines(Agreement.objects.filter(pk=agreement.pk))))
    return json.dumps({**line, **changes}, ensure_ascii=False)


@pytest.mark.parametrize(
    "status, changes",
    [
        ("published", {"title": "Changed by a file"}),
        ("review", {"title": "Changed by a file"}),
        ("review", {"status": "draft"}),  # sent back: a publisher's move
    ],
)
def test_an_editor_may_not_change_by_importing_what_is_past_draft(editor, status, changes):
    agreement = AgreementFactory(status=status, title="As reviewed")
    PartyFactory(agreement=agreement)

    report = import_lines([exported(agreement, **changes)], user=editor)

    label = Agreement.Status(status).label
    assert report.errors == [
        f"line 1: key: {agreement.slug!r} is {label}; only a publisher may change it"
    ]
    agreement.refresh_from_db()
    assert (agreement.title, agreement.status) == ("As reviewed", status)
    assert not agreement.status_changes.exists()


def test_an_editor_may_import_a_file_that_repeats_what_is_past_draft_as_it_is(editor):
    published = AgreementFactory(status="published")
    PartyFactory(agreement=published)
    draft = AgreementFactory(title="As drafted")
    PartyFactory(agreement=draft)

    report = import_lines(
        [exported(published), exported(draft, title="Redrafted", status="review")], user=editor
    )

    assert not report.errors
    draft.refresh_from_db()
    assert (draft.title, draft.status) == ("Redrafted", Agreement.Status.REVIEW)


def test_a_publisher_may_change_by_importing_what_is_published(publisher):
    agreement = AgreementFactory(status="published")
    PartyFactory(agreement=agreement)

    report = import_lines([exported(agreement, title="Corrected")], user=publisher)

    assert not report.errors
    agreement.refresh_from_db()
    assert agreement.title == "Corrected"


def test_reports_count_agreements_in_review_as_unpublished():
    in_review()  # with one party
    PartyFactory(agreement=AgreementFactory(status="published"))
    counted = {
        scope: sum(row[2] for row in run(REPORTS["countries"], {"status": scope}).rows)
        for scope in ("published", "draft", "all")
    }
    assert counted == {"published": 1, "draft": 1, "all": 2}


# Deleting: a published agreement leaves the public record by a withdrawal first


def published_one(**fields):
    agreement = SignedAgreementFactory(**fields)
    PartyFactory(agreement=agreement)
    agreement.publish(by=None)
    return agreement


def delete_url(agreement):
    return reverse("admin:agreements_agreement_delete", args=[agreement.pk])


@pytest.mark.parametrize("who", ["publisher_client", "admin_client"])
def test_a_published_agreement_is_not_deleted_but_withdrawn_first(request, who):
    client = request.getfixturevalue(who)
    agreement = published_one(title="ECNU and Huawei")

    page = client.get(change_url(agreement)).content.decode()
    assert delete_url(agreement) not in page and move_url(agreement, "withdraw") in page
    for method, data in (("get", {}), ("post", {"post": "yes"})):  # asked, and confirmed
        response = getattr(client, method)(delete_url(agreement), data)
        assert response.status_code == 302 and response.url == change_url(agreement)
        assert messages_of(client.get(response.url)) == [
            "“ECNU and Huawei” is published: withdraw it first, saying why, then delete it."
        ]
    assert status_of(agreement) == Agreement.Status.PUBLISHED

    agreement.withdraw(by=None, reason="Entered twice")
    assert client.post(delete_url(agreement), {"post": "yes"}).status_code == 302
    assert not Agreement.objects.exists()


def test_delete_selected_deletes_nothing_of_a_selection_with_a_published_agreement(
    publisher_client,
):
    public, draft = published_one(), AgreementFactory()
    action = {"action": "delete_selected", "_selected_action": [public.pk, draft.pk]}

    for data in (action, {**action, "post": "yes"}):  # asked, and confirmed
        response = publisher_client.post(reverse("admin:agreements_agreement_changelist"), data)
        assert response.status_code == 302
        assert messages_of(publisher_client.get(response.url)) == [
            "1 of the selected agreements is published: withdraw it first, saying why, then "
            "delete it. Nothing was deleted."
        ]
    assert Agreement.objects.count() == 2

    action["_selected_action"] = [draft.pk]
    asked = publisher_client.post(reverse("admin:agreements_agreement_changelist"), action)
    assert asked.status_code == 200 and "Are you sure you want" in asked.content.decode()
    publisher_client.post(
        reverse("admin:agreements_agreement_changelist"), {**action, "post": "yes"}
    )
    assert list(Agreement.objects.all()) == [public]
