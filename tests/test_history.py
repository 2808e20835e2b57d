"""Each record's history in the admin: what changed, field by field, who and when; publishers
(and only they) restore an earlier version, which never changes what the public sees."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, Participation
from labs.models import LabHost
from registry.models import Institution
from tests.factories import (
    FocusAreaFactory,
    InstitutionFactory,
    LabFactory,
    ParticipationFactory,
    PersonFactory,
    SignedAgreementFactory,
    SourceFactory,
    logged_in,
)
from tests.test_admin import form_data, set_row

pytestmark = pytest.mark.django_db


def history_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])


def version_url(obj, version):
    opts = obj._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history",
        args=[obj.pk, version.history_id],
    )


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def changes_listed(response):
    """The "field: old → new" items of the history page, as text."""
    html = response.content.decode()
    items = re.findall(r"<li>\s*<strong>(.*?):</strong>(.*?)&rarr;(.*?)</li>", html, re.S)
    return [
        tuple(" ".join(text.replace("&nbsp;", " ").split()) for text in (field, old, new))
        for field, old, new in items
    ]


def edit(client, obj, **fields):
    response = client.post(change_url(obj), {**form_data(client.get(change_url(obj))), **fields})
    assert response.status_code == 302, response.context and response.context["errors"]


def test_agreement_history_lists_each_field_changed_with_who_and_when(editor):
    agreement = SignedAgreementFactory(title="First title", place="Shanghai")
    client = logged_in(editor)
    edit(client, agreement, title="Second title", place="Shenzhen")

    response = client.get(history_url(agreement))

    assert ("Title", "First title", "Second title") in changes_listed(response)
    assert ("Place", "Shanghai", "Shenzhen") in changes_listed(response)
    assert not [change for change in changes_listed(response) if change[0] == "Updated at"]
    latest = agreement.history.latest("history_date")
    assert latest.history_user == editor
    assert editor.username in response.content.decode()


def test_a_move_of_the_workflow_shows_in_the_history_as_a_change_of_status(editor):
    agreement = SignedAgreementFactory()
    agreement.submit(by=editor)
    response = logged_in(editor).get(history_url(agreement))
    assert ("Status", "draft", "in review") in changes_listed(response)


def part_changes_listed(response):
    """The rows of the history page's table of changes to the record's parts, as text."""
    table = re.search(r'<div class="module" id="part-changes">(.*?)</table>', response.text, re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", table[1], re.S) if table else []
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ][2:]
        for row in rows[1:]
    ]


def test_agreement_history_lists_changes_to_its_people_sources_and_parties(editor):
    """They are edited in the agreement's form, each kept in its own model's history."""
    agreement = SignedAgreementFactory()
    ParticipationFactory(agreement=agreement, person__name="Sun Zhenrong", title="President")
    SourceFactory(agreement=agreement, title="Signed in Shanghai")
    client = logged_in(editor)
    data = form_data(client.get(change_url(agreement)))
    data["participations-0-title"] = "Vice President"
    data["sources-0-DELETE"] = "on"
    set_row(data, "parties", 1, institution=InstitutionFactory(name="Huawei").pk)
    assert client.post(change_url(agreement), data).status_code == 302

    listed = part_changes_listed(client.get(history_url(agreement)))

    assert [
        "Changed participation: Sun Zhenrong (witness)",
        "Title: President → Vice President",
    ] in listed
    assert ["Removed source: Signed in Shanghai", ""] in listed
    assert ["Added party: Huawei", ""] in listed


def test_the_history_of_parts_names_what_is_gone_and_says_what_it_does_not_know(editor):
    agreement = SignedAgreementFactory()
    # Written as an import writes, in bulk: no history of its own.
    (imported,) = Participation.objects.bulk_create(
        [Participation(agreement=agreement, person=PersonFactory(name="Liu Gang"), role="witness")]
    )
    SourceFactory(
        agreement=agreement,
        title="Signed",
        published_on=datetime.date(2019, 7, 1),
        published_on_precision="month",
    )
    gone = ParticipationFactory(agreement=agreement, person__name="Hao Guoqiang", role="signatory")
    client = logged_in(editor)
    data = form_data(client.get(change_url(agreement)))
    row = {data[f"participations-{n}-id"]: n for n in range(2)}
    data[f"participations-{row[imported.pk]}-title"] = "Mayor"
    data[f"participations-{row[gone.pk]}-DELETE"] = "on"
    data["sources-0-published_on"] = "2020"
    assert client.post(change_url(agreement), data).status_code == 302
    gone.person.delete()  # nothing names them any more

    listed = part_changes_listed(client.get(history_url(agreement)))

    assert ["Removed participation: Hao Guoqiang (signatory)", ""] in listed
    assert [
        "Changed participation: Liu Gang (witness)",
        "Its earlier values were not recorded: an import wrote it.",
    ] in listed
    assert ["Changed source: Signed", "Published on: 2019-07 → 2020"] in listed


def test_the_history_of_parts_takes_as_many_queries_however_many_changed(editor):
    agreement = SignedAgreementFactory()
    client = logged_in(editor)
    ParticipationFactory(agreement=agreement)
    with CaptureQueriesContext(connection) as few:
        client.get(history_url(agreement))
    ParticipationFactory.create_batch(5, agreement=agreement)
    SourceFactory.create_batch(3, agreement=agreement)
    with CaptureQueriesContext(connection) as many:
        response = client.get(history_url(agreement))
    assert len(part_changes_listed(response)) == 10
    assert len(many) == len(few)


def test_institution_history_lists_each_field_changed(editor):
    institution = InstitutionFactory(name="Old name", city="Tianjin")
    client = logged_in(editor)
    edit(client, institution, name="New name")
    assert ("Official name", "Old name", "New name") in changes_listed(
        client.get(history_url(institution))
    )


def test_publisher_restores_an_earlier_version_and_the_status_stays(publisher, editor):
    agreement = SignedAgreementFactory(title="The right title", summary="Right summary")
    edit(logged_in(editor), agreement, title="A wrong title", summary="Wrong summary")
    agreement.publish(by=publisher)
    earlier = agreement.history.filter(title="The right title").earliest("history_date")
    client = logged_in(publisher)

    page = client.get(version_url(agreement, earlier))
    assert b'name="_save"' in page.content  # simple_history's "Revert" button
    # Said before it is pressed: a publisher's restoring is their edit of the public record.
    assert "restoring this version changes its public page at once" in page.text
    response = client.post(version_url(agreement, earlier), form_data(page))

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.title, agreement.summary) == ("The right title", "Right summary")
    assert agreement.status == Agreement.Status.PUBLISHED  # restoring is no move
    assert agreement.history.latest("history_date").history_user == publisher


def test_restoring_a_published_version_of_a_draft_leaves_it_a_draft(publisher):
    agreement = SignedAgreementFactory(title="Published once")
    agreement.publish(by=publisher)
    agreement.withdraw(by=publisher, reason="Retracted.")
    published = agreement.history.filter(status="published").latest("history_date")
    client = logged_in(publisher)
    url = version_url(agreement, published)
    page = client.get(url)
    assert "public page at once" not in page.text  # a draft, whatever the version's status
    assert client.post(url, form_data(page)).status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT
    assert not Agreement.objects.published().exists()


def test_editor_sees_earlier_versions_but_cannot_restore_them(editor):
    agreement = SignedAgreementFactory(title="The right title")
    client = logged_in(editor)
    edit(client, agreement, title="Changed")
    earlier = agreement.history.earliest("history_date")

    page = client.get(version_url(agreement, earlier))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    response = client.post(version_url(agreement, earlier), {"title": "The right title"})

    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.title == "Changed"


def test_editor_cannot_restore_an_institution(editor):
    institution = InstitutionFactory(name="Right")
    client = logged_in(editor)
    edit(client, institution, name="Wrong")
    earlier = institution.history.earliest("history_date")
    url = version_url(institution, earlier)
    assert client.post(url, form_data(client.get(url))).status_code == 403
    institution.refresh_from_db()
    assert institution.name == "Wrong"


def test_the_history_of_parts_speaks_the_interfaces_language(editor):
    agreement = SignedAgreementFactory()
    ParticipationFactory(agreement=agreement, person__name="Sun Zhenrong", title="President")
    client = logged_in(editor)
    data = form_data(client.get(change_url(agreement)))
    data["participations-0-title"] = "Vice President"
    assert client.post(change_url(agreement), data).status_code == 302

    page = client.get(history_url(agreement), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert ["修改 参与记录: Sun Zhenrong (见证人)", "职务: President → Vice President"] in (
        part_changes_listed(page)
    )


def test_a_version_of_a_merged_away_institution_is_shown_and_cannot_be_restored(publisher):
    """Restoring it would save the duplicate anew beside its survivor, outside the merge."""
    from backoffice.merging import merge_institutions

    survivor = InstitutionFactory(name="Huawei")
    duplicate = InstitutionFactory(name="Huawei Technologies")
    key = duplicate.pk
    earlier = duplicate.history.earliest("history_date")
    merge_institutions(survivor=survivor, duplicate=duplicate, by=publisher)
    client = logged_in(publisher)
    url = reverse("admin:registry_institution_simple_history", args=[key, earlier.history_id])

    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    response = client.post(url, form_data(page), follow=True)

    assert "has been deleted" in response.content.decode()
    assert not Institution.objects.filter(pk=key).exists()


def test_restoring_a_version_whose_parent_is_gone_says_so(publisher):
    parent = InstitutionFactory(name="China Telecom")
    branch = InstitutionFactory(name="Tianjin Branch", parent=parent)
    client = logged_in(publisher)
    edit(client, branch, parent="")
    parent.delete()
    earlier = branch.history.earliest("history_date")
    url = version_url(branch, earlier)

    response = client.post(url, form_data(client.get(url)))

    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    branch.refresh_from_db()
    assert branch.parent is None


def test_restoring_a_version_that_takes_a_unit_out_of_what_it_signed_for_is_refused(publisher):
    # Entered as part of China Telecom, corrected to Huawei, then signed for Huawei: the
    # first version, restored, would strand that party as a move in the form would.
    telecom = InstitutionFactory(name="China Telecom")
    huawei = InstitutionFactory(name="Huawei")
    cloud = InstitutionFactory(name="Huawei Cloud", parent=telecom)
    client = logged_in(publisher)
    edit(client, cloud, parent=huawei.pk)
    signed = SignedAgreementFactory(title="Cloud for Tianjin", party__institution=huawei)
    signed.parties.update(unit=cloud)
    earlier = cloud.history.earliest("history_date")
    url = version_url(cloud, earlier)

    response = client.post(url, form_data(client.get(url)))

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["parent"]
    assert "Huawei Cloud signed for Huawei in" in error
    assert f'<a href="{change_url(signed)}">“Cloud for Tianjin”</a>' in error
    cloud.refresh_from_db()
    assert cloud.parent == huawei


def test_a_changed_date_shows_with_its_precision_in_both_languages(editor):
    agreement = SignedAgreementFactory(
        signed_on=datetime.date(2019, 7, 1), signed_on_precision="month", term_years=None
    )
    client = logged_in(editor)
    edit(client, agreement, signed_on="2019-07-09", signed_on_precision="day", term_years="5")

    listed = changes_listed(client.get(history_url(agreement)))
    assert ("Date signed", "2019-07", "2019-07-09") in listed
    assert ("Term in years", "—", "5") in listed
    assert not [change for change in listed if "Precision" in change[0]]
    listed = changes_listed(client.get(history_url(agreement), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert ("签约日期", "2019-07", "2019-07-09") in listed


def test_a_record_deleted_since_is_named_as_it_was_and_no_value_is_a_dash(publisher):
    parent = InstitutionFactory(name="China Telecom")
    branch = InstitutionFactory(name="Tianjin Branch", parent=parent)
    client = logged_in(publisher)
    edit(client, branch, parent="")
    parent.delete()

    listed = changes_listed(client.get(history_url(branch)))

    assert ("Part of", "China Telecom (deleted since)", "—") in listed


def test_lab_history_lists_changes_to_its_hosts_and_a_merge_of_one(publisher):
    from backoffice.merging import merge_institutions

    lab = LabFactory()
    huawei = InstitutionFactory(name="Huawei")
    duplicate = InstitutionFactory(name="Huawei Technologies")
    client = logged_in(publisher)
    data = form_data(client.get(change_url(lab)))
    set_row(data, "labhost_set", 0, institution=duplicate.pk)
    assert client.post(change_url(lab), data).status_code == 302
    merge_institutions(survivor=huawei, duplicate=duplicate, by=publisher)

    listed = part_changes_listed(client.get(history_url(lab)))

    assert ["Added lab host: Huawei Technologies", ""] in listed
    assert ["Changed lab host: Huawei", "Institution: Huawei Technologies → Huawei"] in listed
    moved = LabHost.history.latest("history_date")
    assert (moved.history_user, moved.history_type) == (publisher, "~")


def test_an_earlier_version_shows_and_restores_its_own_focus_areas(publisher):
    five_g, ai = FocusAreaFactory(name="5G"), FocusAreaFactory(name="AI")
    agreement = SignedAgreementFactory(title="Right")
    agreement.focus_areas.set([five_g])
    client = logged_in(publisher)
    edit(client, agreement, title="Wrong", focus_areas=[ai.pk])
    earlier = agreement.history.filter(title="Right").latest("history_date")

    page = client.get(version_url(agreement, earlier))
    assert page.context["adminform"].form.initial["focus_areas"] == [five_g.pk]
    assert client.post(version_url(agreement, earlier), form_data(page)).status_code == 302

    assert list(agreement.focus_areas.all()) == [five_g]
    assert agreement.history.latest("history_date").history_user == publisher


def test_restoring_a_draft_version_is_checked_as_the_published_agreement_it_would_change(
    publisher,
):
    """A draft may be entered ahead of its signing; a published agreement has been signed."""
    to_come = timezone.localdate() + datetime.timedelta(days=30)
    agreement = SignedAgreementFactory(title="Ahead", signed_on=to_come, signed_on_precision="day")
    client = logged_in(publisher)
    edit(client, agreement, signed_on="2019-07-03")
    agreement.refresh_from_db()
    agreement.publish(by=publisher)
    earlier = agreement.history.filter(signed_on=to_come).earliest("history_date")
    url = version_url(agreement, earlier)

    response = client.post(url, form_data(client.get(url)))

    assert response.status_code == 200
    assert "signed_on" in response.context["adminform"].form.errors
    agreement.refresh_from_db()
    assert agreement.signed_on == datetime.date(2019, 7, 3)


def test_a_deleted_agreements_history_says_who_deleted_it_and_its_parts(publisher):
    agreement = SignedAgreementFactory(title="Entered twice")
    ParticipationFactory(agreement=agreement, person__name="Sun Zhenrong")
    client = logged_in(publisher)
    delete_url = reverse("admin:agreements_agreement_delete", args=[agreement.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 302

    response = client.get(history_url(agreement))

    assert response.status_code == 200
    deleted = agreement.history.latest("history_date")
    assert (deleted.history_type, deleted.history_user) == ("-", publisher)
    assert ["Removed participation: Sun Zhenrong (witness)", ""] in part_changes_listed(response)


def test_the_oldest_version_of_a_page_of_history_lists_its_changes(editor, monkeypatch):
    from agreements.admin import AgreementAdmin

    monkeypatch.setattr(AgreementAdmin, "history_list_per_page", 2)
    agreement = SignedAgreementFactory(title="First")
    client = logged_in(editor)
    for title in ["Second", "Third", "Fourth"]:
        edit(client, agreement, title=title)

    first_page = changes_listed(client.get(history_url(agreement)))

    assert first_page == [("Title", "Third", "Fourth"), ("Title", "Second", "Third")]


def test_a_merges_record_links_to_the_history_of_the_record_merged_away(publisher):
    from backoffice.merging import merge_people

    survivor, duplicate = PersonFactory(name="Zhang Yong"), PersonFactory(name="Daniel Zhang")
    merge = merge_people(survivor=survivor, duplicate=duplicate, by=publisher)
    client = logged_in(publisher)

    page = client.get(reverse("admin:backoffice_merge_change", args=[merge.pk]))

    url = reverse("admin:people_person_history", args=[duplicate.pk])
    assert f'href="{url}"' in page.text
    history = client.get(url)
    assert history.status_code == 200
    assert "Daniel Zhang" in history.text
