import io
import re

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from agreements.models import Agreement, AgreementType, Participation, Photo, StatusChange
from registry.models import FocusArea, FocusAreaGroup, Institution
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionAliasFactory,
    InstitutionFactory,
    LabAgreementFactory,
    LabFactory,
    LabHostFactory,
    ParticipationFactory,
    PartyFactory,
    PersonAliasFactory,
    PersonFactory,
    PhotoFactory,
    RelationFactory,
    SignedAgreementFactory,
    SourceFactory,
    two_companies_with_branches,
)

pytestmark = pytest.mark.django_db


def add_agreement_url():
    return reverse("admin:agreements_agreement_add")


def agreements_url():
    return reverse("admin:agreements_agreement_changelist")


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def form_data(response):
    """What submitting the admin form on this page unchanged would send, including the empty
    row each inline keeps for "Add another" (as a browser does)."""
    assert response.status_code == 200
    all_forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        all_forms += [formset.management_form, *formset.forms, formset.empty_form]
    data = {}
    for form in all_forms:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.FileField) or value is None or value is False:
                continue  # as a browser sends no file, and nothing for an unticked box
            data[field.html_name] = value
    return data


def undescribed(page):
    """The ids that a field of `page` (HTML) is described by (its help text, its errors) and
    that no element of the page has: a screen reader then reads the field without them."""
    described = re.findall(r'aria-describedby="([^"]+)"', page)
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    return sorted({name for names in described for name in names.split()} - ids)


def set_row(data, prefix, index, **fields):
    """Fill row `index` of an inline; a new row starts as a copy of the empty one."""
    total = f"{prefix}-TOTAL_FORMS"
    if index >= int(data[total]):
        data[total] = index + 1
        for key, value in list(data.items()):
            if key.startswith(f"{prefix}-__prefix__-"):
                data[key.replace("__prefix__", str(index))] = value
    data.update({f"{prefix}-{index}-{name}": value for name, value in fields.items()})


def new_agreement_data(client, **fields):
    data = form_data(client.get(add_agreement_url()))
    data.update(
        title="Strategic cooperation on 5G",
        slug="strategic-cooperation-on-5g",
        agreement_type=AgreementType.objects.get(slug="strategic-cooperation").pk,
    )
    data.update(fields)
    return data


def assert_saved(response):
    assert response.status_code == 302, errors(response)


def errors(response):
    """Every error message shown on an admin form page that did not save."""
    assert response.status_code == 200, "the form was saved"
    messages = []
    for item in response.context["errors"]:
        messages += item if isinstance(item, list) else [item]
    return messages


def image_file(image_format="PNG", size=(64, 48), **save_options):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, image_format, **save_options)
    return buffer.getvalue()


def upload(name, content, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


# Publishing


def test_editor_cannot_publish_with_the_action(editor_client):
    agreement = AgreementFactory()
    response = editor_client.post(
        agreements_url(), {"action": "publish_selected", "_selected_action": [agreement.pk]}
    )
    assert response.status_code == 302  # back to the list: an editor has no such action
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_editor_sees_neither_the_publish_action_nor_the_publish_button(editor_client):
    agreement = AgreementFactory()
    changelist = editor_client.get(agreements_url())
    change_page = editor_client.get(change_url(agreement))
    actions = changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)
    assert not {"publish_selected", "withdraw_selected"} & set(actions)
    assert b"publish_selected" not in changelist.content
    assert b'name="_publish"' not in change_page.content
    assert b'name="_save"' in change_page.content


def test_editor_cannot_publish_with_the_change_page_button(editor_client):
    agreement = AgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    response = editor_client.post(change_url(agreement), {**data, "_publish": "Save and publish"})
    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_editor_cannot_publish_by_posting_a_status(editor_client):
    agreement = SignedAgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    response = editor_client.post(
        change_url(agreement), {**data, "status": "published", "title": "Changed title"}
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title == "Changed title"
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.published_at is None


def test_editor_cannot_withdraw_a_published_agreement(editor_client):
    agreement = AgreementFactory(status="published")
    response = editor_client.post(
        agreements_url(), {"action": "withdraw_selected", "_selected_action": [agreement.pk]}
    )
    data = form_data(editor_client.get(change_url(agreement)))
    button = editor_client.post(change_url(agreement), {**data, "_withdraw": "Withdraw"})
    assert response.status_code == 302  # back to the list: an editor has no such action
    assert button.status_code == 403
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.PUBLISHED


def test_publisher_publishes_with_the_action_recording_who_and_when(publisher, publisher_client):
    drafts = SignedAgreementFactory.create_batch(2)
    response = publisher_client.post(
        agreements_url(),
        {"action": "publish_selected", "_selected_action": [draft.pk for draft in drafts]},
    )
    assert response.status_code == 302
    for agreement in drafts:
        agreement.refresh_from_db()
        assert agreement.status == Agreement.Status.PUBLISHED
        assert agreement.published_by == publisher
        assert agreement.published_at is not None


def test_publisher_publishes_from_the_change_page(publisher, publisher_client):
    agreement = SignedAgreementFactory()
    page = publisher_client.get(change_url(agreement))
    assert b'name="_publish"' in page.content
    response = publisher_client.post(
        change_url(agreement), {**form_data(page), "_publish": "Save and publish"}
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.PUBLISHED
    assert agreement.published_by == publisher
    assert agreement.published_at is not None
    history = publisher_client.get(
        reverse("admin:agreements_agreement_history", args=[agreement.pk])
    )
    assert "Published." in history.content.decode()


def test_publisher_withdraws_to_draft_from_the_change_page_giving_a_reason(publisher_client):
    agreement = AgreementFactory(status="published")
    page = publisher_client.get(change_url(agreement))
    assert b'name="_publish"' not in page.content
    withdraw_url = reverse("admin:agreements_agreement_move", args=[agreement.pk, "withdraw"])
    assert withdraw_url in page.content.decode()
    response = publisher_client.post(withdraw_url, {"comment": "The source retracted it."})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT
    assert agreement.status_changes.get().comment == "The source retracted it."


def test_publisher_withdraws_with_the_action_giving_a_reason(publisher_client):
    agreement = AgreementFactory(status="published")
    selected = {"action": "withdraw_selected", "_selected_action": [agreement.pk]}
    asked = publisher_client.post(agreements_url(), selected)
    assert asked.status_code == 200  # the page asking why
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.PUBLISHED
    publisher_client.post(agreements_url(), {**selected, "apply": "1", "comment": "Retracted."})
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_publication_is_shown_read_only(publisher, publisher_client):
    agreement = SignedAgreementFactory()
    agreement.publish(by=publisher)
    page = publisher_client.get(change_url(agreement))
    form = page.context["adminform"].form
    assert not {"status", "published_at", "published_by"} & set(form.fields)
    assert publisher.username in page.content.decode()


def test_reverting_to_a_published_version_does_not_publish(publisher_client, publisher):
    agreement = SignedAgreementFactory()
    agreement.publish(by=publisher)
    agreement.withdraw(by=publisher, reason="Wrong date.")
    published_version = agreement.history.filter(status="published").latest("history_date")
    url = reverse(
        "admin:agreements_agreement_simple_history",
        args=[agreement.pk, published_version.history_id],
    )
    response = publisher_client.post(url, form_data(publisher_client.get(url)))
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT


def test_agreement_history_shows_who_changed_it_and_its_parts(editor, editor_client):
    agreement = SignedAgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "participations", 0, person=PersonFactory(name="Liu Gang").pk, role="witness")
    assert_saved(editor_client.post(change_url(agreement), {**data, "title": "A better title"}))

    history = editor_client.get(reverse("admin:agreements_agreement_history", args=[agreement.pk]))

    assert agreement.history.latest("history_date").history_user == editor
    page = history.content.decode()
    assert editor.username in page
    assert "A better title" in page
    assert "Added participation “Liu Gang (witness)”" in page


# An agreement and its parts, in one form


def test_editor_adds_an_agreement_with_parties_people_and_focus_areas(editor_client):
    university, company, government = InstitutionFactory.create_batch(3)
    signer, witness = PersonFactory.create_batch(2)
    area = FocusAreaFactory()
    data = new_agreement_data(editor_client, focus_areas=[area.pk])
    set_row(data, "parties", 0, institution=university.pk)
    set_row(data, "parties", 1, institution=company.pk)
    set_row(data, "participations", 0, person=signer.pk, role="signatory", title="President")
    data["participations-0-on_behalf_of"] = company.pk
    set_row(data, "participations", 1, person=witness.pk, role="witness")
    data["participations-1-organisation"] = government.pk
    set_row(data, "sources", 0, url="https://news.example.edu/1", title="Signed")

    response = editor_client.post(add_agreement_url(), data)

    assert response.status_code == 302
    agreement = Agreement.objects.get(slug="strategic-cooperation-on-5g")
    assert agreement.status == Agreement.Status.DRAFT
    assert [party.institution for party in agreement.parties.all()] == [university, company]
    signatory = agreement.participations.get(person=signer)
    assert signatory.party.institution == company
    assert signatory.title == "President"
    assert agreement.participations.get(person=witness).organisation == government
    assert list(agreement.focus_areas.all()) == [area]
    assert agreement.sources.get().title == "Signed"


def test_an_agreement_needs_a_party_to_be_saved(editor_client):
    no_party = ["An agreement needs at least one party: an institution that signed it."]
    data = new_agreement_data(editor_client, title="Signed by nobody")
    set_row(data, "sources", 0, url="https://news.example.edu/1", title="Signed")

    refused = editor_client.post(add_agreement_url(), data)

    assert errors(refused) == no_party
    assert "Signed by nobody" in refused.content.decode()  # what was typed is kept
    assert not Agreement.objects.exists()
    # Nor may its last party be taken away later.
    agreement = SignedAgreementFactory(title="Signed once")
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "parties", 0, DELETE="on")
    assert errors(editor_client.post(change_url(agreement), data)) == no_party
    assert agreement.parties.exists()


@pytest.mark.parametrize(
    "signed_on, title, warned",
    [
        ("2020-09", "Strategic cooperation on 5G", True),  # the same parties, that month
        ("", "Strategic cooperation on 5G", True),  # a date not known may be any
        ("2021-03-02", "Strategic cooperation on 5G", False),  # the same parties, later
        ("2021-03-02", "TJU and Huawei  COOPERATION", True),  # the same title
    ],
)
def test_an_agreement_added_is_said_to_be_likely_one_entered_already(
    editor_client, signed_on, title, warned
):
    tju, huawei = InstitutionFactory(name="TJU"), InstitutionFactory(name="Huawei")
    existing = AgreementFactory(
        title="TJU and Huawei cooperation", signed_on="2020-09-24", signed_on_precision="day"
    )
    for institution in (tju, huawei):
        PartyFactory(agreement=existing, institution=institution)
    AgreementFactory(title="Another")  # nothing in common

    data = new_agreement_data(editor_client, signed_on=signed_on, title=title)
    set_row(data, "parties", 0, institution=huawei.pk)
    set_row(data, "parties", 1, institution=tju.pk)
    response = editor_client.post(add_agreement_url(), data)

    assert_saved(response)
    warnings = [str(m) for m in response.wsgi_request._messages if m.level_tag == "warning"]
    url = change_url(existing)
    expected = [
        f'“{title}” may be an agreement entered already: <a href="{url}">“TJU and Huawei '
        "cooperation”</a> (draft). If it is, ask a publisher to delete one of them."
    ]
    assert warnings == (expected if warned else [])


def test_a_publisher_is_told_to_delete_a_likely_copy_as_they_may(publisher_client):
    tju, huawei = InstitutionFactory(name="TJU"), InstitutionFactory(name="Huawei")
    existing = AgreementFactory(title="TJU and Huawei cooperation")
    for institution in (tju, huawei):
        PartyFactory(agreement=existing, institution=institution)

    data = new_agreement_data(publisher_client, signed_on="", title="TJU and Huawei cooperation")
    set_row(data, "parties", 0, institution=huawei.pk)
    set_row(data, "parties", 1, institution=tju.pk)
    response = publisher_client.post(add_agreement_url(), data)

    assert_saved(response)
    [warning] = [str(m) for m in response.wsgi_request._messages if m.level_tag == "warning"]
    assert warning.endswith("(draft). If it is, delete one of them.")


def test_a_date_in_words_is_refused_saying_how_to_write_it(editor_client):
    data = new_agreement_data(editor_client, signed_on="July 2019")
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)

    assert errors(editor_client.post(add_agreement_url(), data)) == [
        "Enter a date as 2019-07-03, or as 2019-07 or 2019 when only the month or the year is "
        "known."
    ]


def test_a_date_typed_as_a_month_or_a_year_is_known_to_that_precision(editor_client):
    data = new_agreement_data(editor_client, signed_on="2019-07", ends_on="2027")
    data["signed_on_precision"] = "day"  # what was typed decides
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)
    set_row(data, "sources", 0, url="https://news.example.edu/1", published_on="2020")

    assert_saved(editor_client.post(add_agreement_url(), data))

    agreement = Agreement.objects.get()
    assert (agreement.signed.isoformat(), agreement.ends.isoformat()) == ("2019-07", "2027")
    assert agreement.sources.get().published_on_precision == "year"
    # The form shows them again as typed, not as the first day of their period.
    page = editor_client.get(change_url(agreement))
    shown = dict(
        re.findall(r'name="([^"]*(?:signed|ends|published)_on)" value="([^"]*)"', page.text)
    )
    assert shown == {"signed_on": "2019-07", "ends_on": "2027", "sources-0-published_on": "2020"}
    assert_saved(editor_client.post(change_url(agreement), form_data(page)))
    assert LogEntry.objects.latest("pk").get_change_message() == "No fields changed."
    lab = LabFactory()
    data = form_data(editor_client.get(change_url(lab)))
    assert_saved(editor_client.post(change_url(lab), {**data, "established_on": "2018"}))
    lab.refresh_from_db()
    assert (lab.established_on.isoformat(), lab.established_on_precision) == ("2018-01-01", "year")


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("2019-7", ("2019-07", "month")),  # was stored as 1 July, known to the day
        ("2019/07", ("2019-07", "month")),
        ("2019年7月", ("2019-07", "month")),
        ("2019年", ("2019", "year")),
        ("2019年7月3日", ("2019-07-03", "day")),  # Django's Chinese format of a day fails
    ],
)
def test_a_date_is_read_as_editors_type_it_in_english_and_chinese(editor_client, typed, stored):
    data = new_agreement_data(editor_client, signed_on=typed)
    data["signed_on_precision"] = "day"  # what was typed decides
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)

    assert_saved(editor_client.post(add_agreement_url(), data))

    agreement = Agreement.objects.get()
    assert (agreement.signed.isoformat(), agreement.signed_on_precision) == stored


@pytest.mark.parametrize("years", ["0", "-5"])
def test_a_term_in_years_is_at_least_one_year(editor_client, years):
    data = new_agreement_data(editor_client, term_years=years)
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)

    assert errors(editor_client.post(add_agreement_url(), data)) == [
        "Ensure this value is greater than or equal to 1."
    ]


def test_signatory_on_behalf_of_a_signing_unit_signs_for_its_party(editor_client):
    company = InstitutionFactory()
    branch = InstitutionFactory(parent=company)
    data = new_agreement_data(editor_client)
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)
    set_row(data, "parties", 1, institution=company.pk, unit=branch.pk)
    set_row(data, "participations", 0, person=PersonFactory().pk, role="signatory")
    data["participations-0-on_behalf_of"] = branch.pk

    assert_saved(editor_client.post(add_agreement_url(), data))
    party = Participation.objects.get().party
    assert (party.institution, party.unit) == (company, branch)
    # Shown again as chosen, the unit, not its institution.
    again = form_data(editor_client.get(change_url(party.agreement)))
    assert again["participations-0-on_behalf_of"] == branch.pk


def test_signatory_on_behalf_of_an_institution_that_is_not_a_party_is_a_form_error(
    editor_client,
):
    outsider = InstitutionFactory(name="Municipal Government")
    data = new_agreement_data(editor_client)
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)
    set_row(data, "parties", 1, institution=InstitutionFactory().pk)
    set_row(data, "participations", 0, person=PersonFactory().pk, role="signatory")
    data["participations-0-on_behalf_of"] = outsider.pk

    response = editor_client.post(add_agreement_url(), data)

    assert any("Municipal Government is not a party" in message for message in errors(response))
    assert not Agreement.objects.exists()


def test_signatory_on_behalf_of_a_party_removed_in_the_same_form_is_a_form_error(editor_client):
    data = new_agreement_data(editor_client)
    removed = InstitutionFactory(name="Removed Party")
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)
    set_row(data, "parties", 1, institution=removed.pk, DELETE="on")
    set_row(data, "participations", 0, person=PersonFactory().pk, role="signatory")
    data["participations-0-on_behalf_of"] = removed.pk

    response = editor_client.post(add_agreement_url(), data)

    assert any("Removed Party is not a party" in message for message in errors(response))


def test_witness_on_behalf_of_a_party_is_a_form_error(editor_client):
    party = InstitutionFactory()
    data = new_agreement_data(editor_client)
    set_row(data, "parties", 0, institution=party.pk)
    set_row(data, "participations", 0, person=PersonFactory().pk, role="witness")
    data["participations-0-on_behalf_of"] = party.pk

    response = editor_client.post(add_agreement_url(), data)

    assert any("Only a signatory signs on behalf of a party" in m for m in errors(response))
    assert not Agreement.objects.exists()


def test_a_field_of_an_inline_row_tells_its_help_and_is_described_by_what_its_cell_shows(
    editor_client,
):
    """A row's help text is drawn once, in its column's heading: a field described by an
    "…_helptext" element no page has was read by a screen reader without its help."""
    data = new_agreement_data(editor_client)
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)
    set_row(data, "participations", 0, person=PersonFactory().pk, role="witness")
    data["participations-0-title"] = "x" * 301  # over its 300 characters

    refused = editor_client.post(add_agreement_url(), data).content.decode()
    blank = editor_client.get(add_agreement_url()).content.decode()

    for page in (refused, blank):
        assert undescribed(page) == []
        assert 'aria-description="The title the person held at the time."' in page
    assert 'aria-describedby="id_participations-0-title_error"' in refused
    assert 'id="id_participations-0-title_error"' in refused


def test_signatory_keeps_their_party_when_the_agreement_is_edited(editor_client):
    party = PartyFactory()
    signatory = ParticipationFactory(agreement=party.agreement, role="signatory", party=party)
    url = change_url(party.agreement)
    data = form_data(editor_client.get(url))
    assert data["participations-0-on_behalf_of"] == party.institution_id

    response = editor_client.post(url, {**data, "participations-0-title": "Chairman"})

    assert response.status_code == 302
    signatory.refresh_from_db()
    assert (signatory.title, signatory.party) == ("Chairman", party)


def test_signatory_who_becomes_a_witness_loses_their_party(editor_client):
    party = PartyFactory()
    signatory = ParticipationFactory(agreement=party.agreement, role="signatory", party=party)
    url = change_url(party.agreement)
    data = form_data(editor_client.get(url))
    data["participations-0-role"] = "witness"
    del data["participations-0-on_behalf_of"]

    assert_saved(editor_client.post(url, data))
    signatory.refresh_from_db()
    assert (signatory.role, signatory.party) == ("witness", None)


def test_party_with_a_signatory_cannot_be_removed_without_them(editor_client):
    party = PartyFactory()
    ParticipationFactory(agreement=party.agreement, role="signatory", party=party)
    url = change_url(party.agreement)
    data = {**form_data(editor_client.get(url)), "parties-0-DELETE": "on"}

    assert errors(editor_client.post(url, data))
    assert party.agreement.parties.exists()


def test_publisher_deletes_an_agreement_with_its_signatories(publisher_client):
    party = PartyFactory()
    ParticipationFactory(agreement=party.agreement, role="signatory", party=party)
    url = reverse("admin:agreements_agreement_delete", args=[party.agreement.pk])

    assert publisher_client.post(url, {"post": "yes"}).status_code == 302
    assert not Agreement.objects.exists()


def test_two_sources_at_one_address_are_a_form_error(editor_client):
    source = SourceFactory()
    url = change_url(source.agreement)
    data = form_data(editor_client.get(url))
    set_row(data, "sources", 1, url=source.url, title="The same article again")

    assert any("same address" in message for message in errors(editor_client.post(url, data)))


def test_agreement_related_to_itself_is_a_form_error(editor_client):
    agreement = AgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "relations", 0, type="renews", target=agreement.pk)

    response = editor_client.post(change_url(agreement), data)

    assert "An agreement cannot be related to itself." in errors(response)


def test_the_other_agreement_of_a_relation_is_named_by_title_date_and_key(editor_client):
    # A renewal often has the title of the agreement it renews: the title alone told neither.
    title = "ECNU and Huawei strategic cooperation agreement"
    day = {"signed_on_precision": "day"}
    SignedAgreementFactory(title=title, slug="ecnu-huawei-2019", signed_on="2019-07-03", **day)
    renewal = SignedAgreementFactory(
        title=title, slug="ecnu-huawei-2022", signed_on="2022-05-01", **day
    )
    RelationFactory(source=renewal, target=AgreementFactory(title=title, slug="ecnu-huawei-x"))
    address = "/admin/autocomplete/?app_label=agreements&model_name=agreementrelation"

    found = editor_client.get(f"{address}&field_name=target&term=strategic").json()["results"]

    assert [result["text"] for result in found] == [
        f"{title} (1 May 2022, ecnu-huawei-2022)",
        f"{title} (3 July 2019, ecnu-huawei-2019)",
        f"{title} (ecnu-huawei-x)",
    ]
    page = editor_client.get(change_url(renewal)).content.decode()
    assert f"selected>{title} (ecnu-huawei-x)</option>" in page


def test_a_relation_the_other_way_to_one_stored_is_a_form_error(editor_client):
    agreement, earlier = SignedAgreementFactory(), AgreementFactory(title="ECNU–Huawei 2022")
    PartyFactory(agreement=agreement)
    RelationFactory(source=earlier, target=agreement, type="supersedes")
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "relations", 0, type="renews", target=earlier.pk)

    response = editor_client.post(change_url(agreement), data)

    assert (
        "“ECNU–Huawei 2022” supersedes this agreement already: two agreements relate in one"
        " direction only." in errors(response)
    )
    assert agreement.relations.count() == 0


def test_agreement_lists_and_adds_the_labs_founded_under_it(editor_client):
    agreement = LabAgreementFactory(agreement=SignedAgreementFactory()).agreement
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "labagreement_set", 1, lab=LabFactory().pk, outcome="proposed")

    assert_saved(editor_client.post(change_url(agreement), data))
    assert agreement.labs.count() == 2


@pytest.mark.parametrize("status", ["review", "published"])
def test_from_a_labs_page_an_editor_changes_what_drafts_did_for_it_only(
    editor_client, publisher_client, status
):
    linked = LabAgreementFactory(agreement=AgreementFactory(status=status), outcome="founded")
    lab, reviewed = linked.lab, linked.agreement
    draft = AgreementFactory()

    def saved(client, **fields):
        data = form_data(client.get(change_url(lab)))
        set_row(data, "labagreement_set", fields.pop("row", 1), **fields)
        response = client.post(change_url(lab), data)
        return response.status_code == 302 or errors(response)

    label = reviewed.get_status_display()
    refusal = [f"“{reviewed}” is {label}: only a publisher may change what it did for this lab."]
    assert saved(editor_client, row=0, outcome="extended") == refusal
    assert saved(editor_client, row=0, DELETE="on") == refusal
    another = AgreementFactory(status=status)
    assert saved(editor_client, agreement=another.pk, outcome="founded") == [
        f"“{another}” is {label}: only a publisher may change what it did for this lab."
    ]
    assert saved(editor_client, agreement=draft.pk, outcome="proposed") is True
    assert set(lab.agreements.all()) == {reviewed, draft}
    assert lab.labagreement_set.get(agreement=reviewed).outcome == "founded"

    assert saved(publisher_client, row=0, DELETE="on") is True
    assert set(lab.agreements.all()) == {draft}


def test_on_behalf_of_autocomplete_finds_institutions_by_alias(editor_client):
    alias = InstitutionAliasFactory(name="Huawei Technologies")
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "agreements",
            "model_name": "participation",
            "field_name": "organisation",
            "term": "Technologies",
        },
    )
    assert [result["id"] for result in response.json()["results"]] == [str(alias.institution_id)]


# Images


def test_photo_upload_stores_a_re_encoded_image_and_its_thumbnail(editor_client, settings):
    agreement = SignedAgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    hidden = b"<script>alert('hidden after the image data')</script>"
    set_row(
        data,
        "photos",
        0,
        image=upload("ceremony.png", image_file("PNG", size=(800, 600)) + hidden),
        caption="The signing ceremony",
    )

    assert_saved(editor_client.post(change_url(agreement), data))

    photo = Photo.objects.get()
    assert photo.image.name.startswith("photos/") and "ceremony" not in photo.image.name
    stored = photo.image.read()
    assert stored.startswith(b"\x89PNG") and hidden not in stored
    with Image.open(photo.thumbnail.path) as thumbnail:
        assert max(thumbnail.size) == settings.THUMBNAIL_SIDE
    page = editor_client.get(change_url(agreement))
    assert photo.thumbnail.url in page.content.decode()


def test_a_form_refused_with_a_chosen_photo_says_to_choose_it_again(editor_client):
    """A browser does not let a page fill a file box in again: corrected and saved, the form
    went without the photos chosen before, and nothing said so."""
    agreement = SignedAgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "photos", 0, image=upload("ceremony.png", image_file("PNG")), caption="Signing")
    data["title"] = ""  # refused

    refused = editor_client.post(change_url(agreement), data)
    assert errors(refused)
    said = [str(message) for message in refused.context["messages"]]
    assert said == ["The form was not saved, so the files chosen in it were not kept either:"
                    " choose them again before saving."]  # fmt: skip
    # Nothing said where no file was chosen.
    data = form_data(editor_client.get(change_url(agreement)))
    data["title"] = ""
    assert list(editor_client.post(change_url(agreement), data).context["messages"]) == []


def test_a_refused_form_shows_the_thumbnail_stored_not_one_of_the_unsaved_upload(editor_client):
    """A photo's row refused with the rest of the form showed, as its thumbnail, a file made
    from the new upload and never stored: a broken image (its address was not found); a
    replacement hid the photo the row still holds."""
    agreement = SignedAgreementFactory()
    stored = PhotoFactory(agreement=agreement)
    stored.thumbnail.save("stored.png", ContentFile(image_file("PNG")))
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "photos", 0, image=upload("replacement.png", image_file("PNG")))
    set_row(data, "photos", 1, image=upload("ceremony.png", image_file("PNG")), caption="Signing")
    data["title"] = ""  # refused

    refused = editor_client.post(change_url(agreement), data)

    shown = re.findall(r'<img src="(/media/[^"]+)"', refused.content.decode())
    assert shown == [stored.thumbnail.url]


def test_a_refused_form_says_beside_each_chosen_file_that_it_must_be_chosen_again(
    editor_client,
):
    """The message at the top of the page named no file: a photo among several rows (or a
    row scrolled past) was easy to miss, and then saved without its image."""
    data = new_agreement_data(editor_client, title="")  # refused
    set_row(data, "photos", 0, image=upload("ceremony.png", image_file("PNG")), caption="Signing")
    set_row(data, "photos", 1, caption="No file chosen")
    set_row(data, "photos", 2, image=upload("notes.txt", b"not an image", "text/plain"))

    refused = editor_client.post(add_agreement_url(), data)

    rows = refused.context["inline_admin_formsets"][3].formset.forms
    assert rows[0].errors == {
        "image": ["“ceremony.png” was not kept, as the form was not saved: choose it again."]
    }
    assert rows[1].errors == {}
    # Refused for itself: what is wrong with it is said, not that it is to be chosen again.
    assert "was not kept" not in str(rows[2].errors)


def test_photo_upload_strips_exif(editor_client):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x0110] = "Camera model"
    jpeg = image_file("JPEG", exif=exif)
    with Image.open(io.BytesIO(jpeg)) as original:
        assert original.getexif()
    agreement = SignedAgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "photos", 0, image=upload("visit.jpg", jpeg, "image/jpeg"))

    assert_saved(editor_client.post(change_url(agreement), data))

    photo = Photo.objects.get()
    for stored in (photo.image, photo.thumbnail):
        with Image.open(stored.path) as image:
            assert image.format == "JPEG"
            assert not image.getexif()
            assert "exif" not in image.info


def test_svg_disguised_as_png_is_refused(editor_client):
    agreement = AgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    set_row(data, "photos", 0, image=upload("photo.png", svg))

    response = editor_client.post(change_url(agreement), data)

    assert any("Upload a valid image" in message for message in errors(response))
    assert not Photo.objects.exists()


def test_image_over_the_pixel_limit_is_refused(editor_client, settings):
    settings.IMAGE_MAX_PIXELS = 100
    agreement = AgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    set_row(data, "photos", 0, image=upload("big.png", image_file("PNG", size=(20, 20))))

    response = editor_client.post(change_url(agreement), data)

    assert "The image has 400 pixels; the limit is 100." in errors(response)
    assert not Photo.objects.exists()


def test_institution_logo_is_processed_and_shown_in_the_list(editor_client):
    institution = InstitutionFactory()
    data = form_data(editor_client.get(change_url(institution)))
    data["logo"] = upload("logo.webp", image_file("WEBP", size=(500, 200)), "image/webp")

    assert_saved(editor_client.post(change_url(institution), data))

    institution.refresh_from_db()
    assert institution.logo.name.endswith(".webp")
    assert institution.logo_thumbnail.name.startswith("logos/thumbnails/")
    listing = editor_client.get(reverse("admin:registry_institution_changelist"))
    assert institution.logo_thumbnail.url in listing.content.decode()


def test_institution_page_lists_its_units_and_saves_with_them(editor_client):
    unit = InstitutionFactory(
        name="College of Intelligence and Computing", parent=InstitutionFactory()
    )
    page = editor_client.get(change_url(unit.parent))
    assert unit.name in page.content.decode()

    assert_saved(
        editor_client.post(change_url(unit.parent), {**form_data(page), "city": "Tianjin"})
    )

    unit.refresh_from_db()
    assert (unit.parent.city, unit.name) == ("Tianjin", "College of Intelligence and Computing")


def test_an_institution_s_ror_and_wikidata_ids_are_checked(editor_client):
    institution = InstitutionFactory()
    data = form_data(editor_client.get(change_url(institution)))

    refused = editor_client.post(
        change_url(institution), {**data, "ror": "not-a-ror", "wikidata": "Q"}
    )
    assert errors(refused) == [
        "A ROR id is nine characters, as 02n96ep67 in https://ror.org/02n96ep67.",
        "A Wikidata id is Q and a number, as Q1194369.",
    ]
    assert_saved(
        editor_client.post(
            change_url(institution), {**data, "ror": "012tb2g32", "wikidata": "Q1194369"}
        )
    )


def test_a_name_that_shows_nothing_is_refused_and_any_script_or_emoji_is_kept(editor_client):
    # Zero-width spaces pass Django's strip() and "required": the record's name was a link
    # with nothing to click wherever it was named.
    institution = InstitutionFactory()
    data = form_data(editor_client.get(change_url(institution)))
    shows_nothing = (
        "Give a name that shows: this holds no letter, digit or symbol, only spaces, "
        "invisible characters or combining marks."
    )
    for name in ["\u200b\u200b", "\u2060\u00a0\u200d", "\u0301\u0308", "\u202e"]:
        refused = editor_client.post(change_url(institution), {**data, "name": name})
        assert errors(refused) == [shows_nothing], repr(name)
    for name in ["جامعة القاهرة", "e\u0301cole 🤖", "华东师范大学", "\u200bHuawei"]:
        data = form_data(editor_client.get(change_url(institution)))  # each save a new version
        assert_saved(editor_client.post(change_url(institution), {**data, "name": name}))
        institution.refresh_from_db()
        assert institution.name == name


def test_an_institution_cannot_be_made_part_of_its_own_unit(editor_client):
    # A part of B part of A, 20 levels apart, through the admin.
    top = InstitutionFactory()
    bottom = top
    for _ in range(20):
        bottom = InstitutionFactory(parent=bottom)
    data = form_data(editor_client.get(change_url(top)))
    refused = editor_client.post(change_url(top), {**data, "parent": bottom.pk})
    assert errors(refused) == ["An institution cannot be part of itself."]
    top.refresh_from_db()
    assert top.parent is None


def stranded(unit, institution, *agreements, more=""):
    """The form's error for a move that would take `unit` out of the `institution` it signed
    for in `agreements`."""
    links = ", ".join(f'<a href="{change_url(a)}">“{a.title}”</a>' for a in agreements)
    return (
        f"{unit.name} signed for {institution.name} in {links}{more}, and would no longer be part "
        "of it. Correct the unit of those parties first (another one, or none)."
    )


def test_a_unit_that_signed_for_its_institution_is_not_moved_out_of_it(editor_client):
    # Huawei Cloud signed for Huawei: made part of China Telecom (or of nothing), its agreement
    # counted towards China Telecom on the public pages and its party failed its own check.
    huawei = InstitutionFactory(name="Huawei", kind="company")
    cloud = InstitutionFactory(name="Huawei Cloud", kind="company", parent=huawei)
    telecom = InstitutionFactory(name="China Telecom", kind="company")
    signed = [AgreementFactory(title=title) for title in ["Smart port", "Cloud for Tianjin"]]
    for agreement in signed:
        PartyFactory(agreement=agreement, institution=huawei, unit=cloud)
    PartyFactory(institution=telecom, unit=InstitutionFactory(parent=telecom))  # not moved
    data = form_data(editor_client.get(change_url(cloud)))

    for parent in [telecom.pk, ""]:
        refused = editor_client.post(change_url(cloud), {**data, "parent": parent})
        assert errors(refused) == [stranded(cloud, huawei, *reversed(signed))]
        assert f'<a href="{change_url(signed[0])}">“Smart port”</a>' in refused.text  # a link
    cloud.refresh_from_db()
    assert cloud.parent == huawei

    # Moved deeper within Huawei, it is still part of what it signed for.
    consumer = InstitutionFactory(name="Huawei Consumer Business Group", parent=huawei)
    assert_saved(editor_client.post(change_url(cloud), {**data, "parent": consumer.pk}))
    # And Huawei itself may be made part of a group: its units stay within it.
    group = InstitutionFactory(name="Huawei Investment & Holding")
    data = form_data(editor_client.get(change_url(huawei)))
    assert_saved(editor_client.post(change_url(huawei), {**data, "parent": group.pk}))


def test_a_unit_is_not_moved_out_of_what_a_unit_of_it_signed_for(editor_client):
    tju = InstitutionFactory(name="Tianjin University")
    college = InstitutionFactory(name="College of Intelligence and Computing", parent=tju)
    lab = InstitutionFactory(name="Brain-inspired Computing Lab", parent=college)
    ecnu = InstitutionFactory(name="ECNU")
    for_college = AgreementFactory(title="Signed for the college")
    PartyFactory(agreement=for_college, institution=college, unit=lab)
    data = form_data(editor_client.get(change_url(college)))
    # The lab signed for the college, which it stays part of wherever the college goes.
    assert_saved(editor_client.post(change_url(college), {**data, "parent": ecnu.pk}))

    data = form_data(editor_client.get(change_url(college)))
    assert_saved(editor_client.post(change_url(college), {**data, "parent": tju.pk}))
    for_tju = [AgreementFactory(title=f"Signed for the university {n:02}") for n in range(12)]
    for agreement in for_tju:
        PartyFactory(agreement=agreement, institution=tju, unit=lab)
    data = form_data(editor_client.get(change_url(college)))
    refused = editor_client.post(change_url(college), {**data, "parent": ecnu.pk})
    # The first ten named, as a list of agreements is, and how many more.
    assert errors(refused) == [stranded(lab, tju, *for_tju[:10], more=" and 2 more")]
    college.refresh_from_db()
    assert college.parent == tju


def test_clearing_a_logo_clears_its_thumbnail(editor_client):
    institution = InstitutionFactory()
    data = form_data(editor_client.get(change_url(institution)))
    data["logo"] = upload("logo.png", image_file())
    editor_client.post(change_url(institution), data)

    data = form_data(editor_client.get(change_url(institution)))
    editor_client.post(change_url(institution), {**data, "logo-clear": "on"})

    institution.refresh_from_db()
    assert not institution.logo and not institution.logo_thumbnail


# Lists: search, and a fixed number of queries whatever the number of rows


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def agreement_with_parts():
    agreement = AgreementFactory()
    company = InstitutionFactory()
    PartyFactory(agreement=agreement)
    PartyFactory(agreement=agreement, institution=company, unit=InstitutionFactory(parent=company))
    agreement.focus_areas.add(*FocusAreaFactory.create_batch(2))


def institution_with_parts():
    institution = InstitutionFactory(parent=InstitutionFactory())
    InstitutionAliasFactory(institution=institution)
    PartyFactory(institution=institution)


def person_with_parts():
    person = PersonFactory()
    PersonAliasFactory(person=person)
    ParticipationFactory(person=person)


def lab_with_parts():
    lab = LabFactory()
    LabHostFactory(lab=lab)
    LabAgreementFactory(lab=lab)


@pytest.mark.parametrize(
    ("changelist", "make_row"),
    [
        ("admin:agreements_agreement_changelist", agreement_with_parts),
        ("admin:registry_institution_changelist", institution_with_parts),
        ("admin:people_person_changelist", person_with_parts),
        ("admin:labs_lab_changelist", lab_with_parts),
    ],
)
def test_changelist_queries_do_not_grow_with_the_rows(editor_client, changelist, make_row):
    url = reverse(changelist)
    for _ in range(3):
        make_row()
    with_3_rows = queries_for(editor_client, url)
    for _ in range(27):
        make_row()
    assert queries_for(editor_client, url) == with_3_rows


def add_parts(agreement, lab):
    """A party signed for by a unit, with its signatory; a witness; a lab; a relation."""
    company = InstitutionFactory()
    party = PartyFactory(
        agreement=agreement, institution=company, unit=InstitutionFactory(parent=company)
    )
    ParticipationFactory(
        agreement=agreement, role="signatory", party=party, organisation=party.unit
    )
    ParticipationFactory(agreement=agreement, organisation=InstitutionFactory())
    LabAgreementFactory(agreement=agreement)
    RelationFactory(source=agreement)
    LabHostFactory(lab=lab)
    LabAgreementFactory(lab=lab)


def test_change_pages_queries_do_not_grow_with_the_parts(editor_client):
    # Each autocomplete of each row looked up the record it shows: an agreement of 50 parties
    # and 200 people took 922 queries to show.
    agreement, lab = AgreementFactory(), LabFactory()
    urls = [change_url(agreement), change_url(lab)]
    add_parts(agreement, lab)
    [queries_for(editor_client, url) for url in urls]  # content types cached by the first
    with_1 = [queries_for(editor_client, url) for url in urls]
    for _ in range(9):
        add_parts(agreement, lab)
    assert [queries_for(editor_client, url) for url in urls] == with_1
    # Every row still shows what it holds.
    html = editor_client.get(change_url(agreement)).content.decode()
    named = admin.site.get_model_admin(Institution).choice_label  # with a unit's parent
    for participation in agreement.participations.select_related("person", "organisation"):
        assert f'<option value="{participation.person.pk}" selected>{participation.person}<' in html
        organisation = participation.organisation
        assert f'<option value="{organisation.pk}" selected>{named(organisation)}<' in html
    for party in agreement.parties.select_related("institution", "unit"):
        for record in (party.institution, party.unit):
            assert f'<option value="{record.pk}" selected>{named(record)}</option>' in html
        # the signatory's "on behalf of", as its unit
        assert html.count(f'<option value="{party.unit.pk}" selected>{named(party.unit)}<') == 3


def test_institutions_are_found_by_native_name_acronym_and_alias(editor_client):
    ecnu = InstitutionFactory(
        name="East China Normal University", native_name="华东师范大学", acronym="ECNU"
    )
    InstitutionAliasFactory(institution=ecnu, name="East China Normal College")
    InstitutionFactory(name="Tianjin University")
    url = reverse("admin:registry_institution_changelist")
    for term in ("华东师范", "ECNU", "Normal College"):
        response = editor_client.get(url, {"q": term})
        assert list(response.context["cl"].result_list) == [ecnu], term


def test_people_are_found_by_native_name_and_alias(editor_client):
    zhang = PersonFactory(name="Zhang Yong", native_name="张勇")
    PersonAliasFactory(person=zhang, name="Daniel Zhang")
    PersonFactory(name="Ma Yun")
    url = reverse("admin:people_person_changelist")
    for term in ("张勇", "Daniel"):
        response = editor_client.get(url, {"q": term})
        assert list(response.context["cl"].result_list) == [zhang], term


def test_agreements_are_found_by_party_and_filtered_by_status(editor_client):
    wanted = PartyFactory(institution=InstitutionFactory(acronym="ECNU")).agreement
    AgreementFactory(status="published")
    by_party = editor_client.get(agreements_url(), {"q": "ECNU"})
    drafts = editor_client.get(agreements_url(), {"status__exact": "draft"})
    assert list(by_party.context["cl"].result_list) == [wanted]
    assert list(drafts.context["cl"].result_list) == [wanted]


def test_agreements_are_found_where_the_public_search_finds_them(editor_client):
    """Through the search document, drafts included: their summaries, labs, technologies and
    the other names of their people, which the admin's own search did not read; and by
    slug, as the public address has it."""
    wanted = AgreementFactory(
        slug="ecnu-lenovo-2020", summary="A smart city platform for Shanghai's districts."
    )
    wanted.focus_areas.add(FocusAreaFactory(name="Quantum sensing"))
    LabAgreementFactory(agreement=wanted, lab=LabFactory(name="Joint Lab of Urban Computing"))
    alias = PersonAliasFactory(name="Daniel Zhang")
    ParticipationFactory(agreement=wanted, person=alias.person)
    other = AgreementFactory(summary="A city of smart people.")
    for term, found in [
        ("smart city", {wanted, other}),  # each word, anywhere
        ('"smart city"', {wanted}),  # the words together
        ("quantum", {wanted}),
        ("urban computing", {wanted}),
        ("daniel", {wanted}),
        ("ecnu-lenovo-2020", {wanted}),
        ("ecnu-lenovo", set()),  # a slug is found whole
        ("smart nowhere", set()),
        # The words as the public search reads them.
        ("“smart city”", {wanted}),
        ("ｑｕａｎｔｕｍ，urban", {wanted}),
        ("Urban- Computing", {wanted}),
    ]:
        response = editor_client.get(agreements_url(), {"q": term})
        assert set(response.context["cl"].result_list) == found, term


def test_list_counts_are_those_of_each_row(editor_client):
    company = InstitutionFactory(name="Lenovo", country="CN")
    idle = InstitutionFactory(name="Idle Institute")
    InstitutionAliasFactory(institution=company, name="Legend Holdings")
    InstitutionAliasFactory(institution=company, name="Legend Computers")
    first, second = AgreementFactory(), AgreementFactory(status="published")
    PartyFactory(agreement=first, institution=company)
    PartyFactory(agreement=second, institution=company)
    zhang = PersonFactory(name="Zhang Yong")
    ParticipationFactory(agreement=first, person=zhang, role="signatory")
    ParticipationFactory(agreement=first, person=zhang, role="witness")
    ParticipationFactory(agreement=second, person=zhang)

    institutions = editor_client.get(reverse("admin:registry_institution_changelist"))
    counts = {i: i.agreement_count for i in institutions.context["cl"].result_list}
    assert counts[company] == 2 and counts[idle] == 0
    assert '<td class="field-country_name">China</td>' in institutions.content.decode()
    # Found through two of its aliases, it is listed once, with its own count.
    legend = editor_client.get(reverse("admin:registry_institution_changelist"), {"q": "legend"})
    assert [(i, i.agreement_count) for i in legend.context["cl"].result_list] == [(company, 2)]
    people = editor_client.get(reverse("admin:people_person_changelist"), {"q": "zhang"})
    assert [(p, p.agreement_count) for p in people.context["cl"].result_list] == [(zhang, 2)]
    # Filtered through their many roles: each once, in order, with their own counts.
    ParticipationFactory(agreement=second, person=PersonFactory(name="Ma Yun"), role="witness")
    ParticipationFactory(agreement=second, person=PersonFactory(name="Li Na"), role="signatory")
    signatories = editor_client.get(
        reverse("admin:people_person_changelist"), {"participations__role": "signatory"}
    )
    listed = [(p.name, p.agreement_count) for p in signatories.context["cl"].result_list]
    assert listed == [("Li Na", 1), ("Zhang Yong", 2)]
    assert signatories.context["cl"].result_count == 2


def test_an_autocomplete_lists_each_match_once(editor_client):
    company = InstitutionFactory(name="Lenovo")
    InstitutionAliasFactory(institution=company, name="Legend Holdings")
    InstitutionAliasFactory(institution=company, name="Legend Computers")
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "agreements",
            "model_name": "party",
            "field_name": "institution",
            "term": "legend",
        },
    )
    assert [row["id"] for row in response.json()["results"]] == [str(company.pk)]


def offered(client, model_name, field_name, **asked):
    """The names an agreement's form's autocomplete for a field of `model_name` offers, as
    asked (`within`, `term`)."""
    fields = {"app_label": "agreements", "model_name": model_name, "field_name": field_name}
    response = client.get(reverse("admin:autocomplete"), {**fields, **asked})
    assert response.status_code == 200, response.content
    return [row["text"] for row in response.json()["results"]]


def unit_choices(client, **asked):
    """The names a party's signing unit's autocomplete offers."""
    return offered(client, "party", "unit", **asked)


@pytest.fixture
def two_companies_branches():
    return two_companies_with_branches()


def test_a_partys_unit_is_offered_among_the_units_of_its_rows_institution(
    editor_client, two_companies_branches
):
    # Offered every institution, an editor picked the Tianjin Branch of the wrong company and
    # learnt of it only when the whole form was refused.
    telecom, unicom = two_companies_branches

    assert unit_choices(editor_client, within=telecom.pk) == [
        "Binhai Office (Tianjin Branch)",
        "Tianjin Branch (China Telecom)",
    ]
    assert unit_choices(editor_client, within=unicom.pk, term="tianjin") == [
        "Tianjin Branch (China Unicom)"
    ]
    # No institution chosen yet: every unit of something, as only a unit may sign for one.
    assert sorted(unit_choices(editor_client)) == [
        "Binhai Office (Tianjin Branch)",
        "Tianjin Branch (China Telecom)",
        "Tianjin Branch (China Unicom)",
    ]
    assert unit_choices(editor_client, within="") == unit_choices(editor_client)
    # An institution of no units has none to offer.
    assert (
        unit_choices(editor_client, within=Institution.objects.get(name="Binhai Office").pk) == []
    )


def test_within_narrows_a_partys_unit_only(editor_client, two_companies_branches):
    telecom, _unicom = two_companies_branches
    found = offered(editor_client, "party", "institution", term="china", within=telecom.pk)
    assert found == [
        "China Telecom",
        "China Unicom",
    ]


def test_the_units_of_a_partys_institution_are_found_in_a_fixed_number_of_queries(
    editor_client, two_companies_branches
):
    telecom, _unicom = two_companies_branches
    unit_choices(editor_client, within=telecom.pk)  # the session, the user: read once

    def queries():
        with CaptureQueriesContext(connection) as captured:
            found = unit_choices(editor_client, within=telecom.pk)
        return len(captured), len(found)

    few, shown = queries()
    assert shown == 2  # China Telecom's units
    parent = Institution.objects.get(name="Binhai Office")
    for _ in range(3):  # deeper, and wider
        parent = InstitutionFactory(parent=parent)
        InstitutionFactory(parent=telecom)
    assert queries() == (few, shown + 6)


@pytest.mark.parametrize("within", ["abc", "1.5", "-", str(2**63), "9" * 30])
def test_a_within_that_is_no_institutions_id_is_a_bad_request(editor_client, within):
    response = editor_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "agreements", "model_name": "party", "field_name": "unit", "within": within},
    )
    assert response.status_code == 400


def test_an_institution_is_named_with_its_parent_by_every_autocomplete(
    editor_client, publisher_client, two_companies_branches
):
    # Units of different companies often share a name: "Tianjin Branch" told neither.
    _telecom, unicom = two_companies_branches
    assert offered(editor_client, "participation", "organisation", term="tianjin") == [
        "Tianjin Branch (China Telecom)",
        "Tianjin Branch (China Unicom)",
        "Tianjin University",
    ]
    reports = publisher_client.get(reverse("reports:institutions"), {"term": "branch"})
    assert [row["text"] for row in reports.json()["results"]] == [
        "Tianjin Branch (China Telecom)",
        "Tianjin Branch (China Unicom)",
    ]
    # and the value chosen, as the form shows it
    unit = unicom.units.get()
    agreement = SignedAgreementFactory()
    PartyFactory(agreement=agreement, institution=unicom, unit=unit)
    page = editor_client.get(change_url(agreement)).content.decode()
    assert f'<option value="{unit.pk}" selected>Tianjin Branch (China Unicom)</option>' in page


def test_a_unit_not_below_the_partys_institution_is_still_refused_on_save(
    editor_client, two_companies_branches
):
    telecom, unicom = two_companies_branches
    data = new_agreement_data(editor_client, title="The wrong branch")
    set_row(data, "parties", 0, institution=telecom.pk, unit=unicom.units.get().pk)

    response = editor_client.post(add_agreement_url(), data)

    assert "Tianjin Branch is not part of China Telecom." in errors(response)
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("make", "model"),
    [(SignedAgreementFactory, StatusChange), (InstitutionFactory, Institution)],
)
def test_status_changes_and_units_are_shown_on_a_form_never_written_by_it(
    publisher_client, make, model
):
    # A move is made by the review workflow, which checks and records it; a unit names its
    # parent on its own page.
    response = publisher_client.get(change_url(make()))
    [rows] = [f for f in response.context["inline_admin_formsets"] if f.opts.model is model]
    assert rows.has_view_permission
    assert not (rows.has_add_permission or rows.has_change_permission)
    assert not rows.has_delete_permission


def test_every_admin_page_renders(client):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    lab_agreement = LabAgreementFactory()
    ParticipationFactory(agreement=lab_agreement.agreement)
    PartyFactory(agreement=lab_agreement.agreement)
    PhotoFactory(agreement=lab_agreement.agreement)
    RelationFactory(source=lab_agreement.agreement)
    SourceFactory(agreement=lab_agreement.agreement)
    LabHostFactory(lab=lab_agreement.lab)
    InstitutionAliasFactory(institution=InstitutionFactory(parent=InstitutionFactory()))
    PersonAliasFactory()
    FocusAreaFactory(group=FocusAreaGroup.objects.create(name="Networks", slug="networks"))
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200
        # Records only the back office writes (merges) have no add page, even for a superuser.
        addable = model_admin.has_add_permission(changelist.wsgi_request)
        add = client.get(reverse("admin:{}_{}_add".format(*info)))
        assert add.status_code == (200 if addable else 403)
        obj = model.objects.first()
        if obj is not None:
            assert client.get(change_url(obj)).status_code == 200
            history = reverse("admin:{}_{}_history".format(*info), args=[obj.pk])
            assert client.get(history).status_code == 200


@pytest.mark.parametrize("key", ["abc", "²", "99999999999999999999999"])
def test_a_history_address_with_no_such_key_is_not_found(publisher_client, key):
    agreement = AgreementFactory()
    history = reverse("admin:agreements_agreement_history", args=[agreement.pk])
    assert publisher_client.get(history.replace(str(agreement.pk), key, 1)).status_code == 404
    assert publisher_client.get(f"{history}{key}/").status_code == 404
    institution = reverse("admin:registry_institution_history", args=[InstitutionFactory().pk])
    assert publisher_client.get(f"{institution}{key}/").status_code == 404


@pytest.mark.parametrize("dates", ["signed_on__year=9999", "signed_on__year=" + "9" * 30])
def test_a_date_the_list_cannot_make_shows_the_list_without_it(publisher_client, dates):
    AgreementFactory()
    # Django's answer to any filter it cannot read: the list again, unfiltered, flagged e=1.
    response = publisher_client.get(f"{agreements_url()}?{dates}", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(f"{agreements_url()}?e=1", 302)]
    export = publisher_client.get(f"{agreements_url()}export.csv?{dates}")
    assert export.status_code == 400


@pytest.mark.parametrize(
    ("factory", "record", "field"),
    [
        (SignedAgreementFactory, "agreement", "title"),
        (InstitutionFactory, "institution", "name"),
        (PersonFactory, "person", "name"),
        (LabFactory, "lab", "name"),
    ],
)
def test_the_second_of_two_editors_saving_the_same_record_is_told_of_the_conflict(
    editor_client, publisher_client, factory, record, field
):
    # The second save would undo the first without a word.
    obj = factory(**{field: "As first entered"})
    first = form_data(editor_client.get(change_url(obj)))
    second = form_data(publisher_client.get(change_url(obj)))

    first[field] = "The first editor's words"
    assert_saved(editor_client.post(change_url(obj), first))
    second[field] = "The second editor's words"
    response = publisher_client.post(change_url(obj), second)

    assert f"Someone else saved this {record} after you opened it" in " ".join(errors(response))
    assert "The second editor&#x27;s words" in response.content.decode()  # kept, to copy
    obj.refresh_from_db()
    assert getattr(obj, field) == "The first editor's words"
    # Opened again, it saves.
    again = form_data(publisher_client.get(change_url(obj)))
    again[field] = "The second editor's words"
    assert_saved(publisher_client.post(change_url(obj), again))


def test_saving_again_after_reopening_works(editor_client):
    agreement = SignedAgreementFactory()
    data = form_data(editor_client.get(change_url(agreement)))
    assert_saved(editor_client.post(change_url(agreement), data))
    data = form_data(editor_client.get(change_url(agreement)))
    data["title"] = "Second save"
    assert_saved(editor_client.post(change_url(agreement), data))


def test_demo_accounts_print_logins_that_work_at_the_address_served(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo_accounts", "--site", "http://127.0.0.1:8765", stdout=out)
    heading, *accounts = out.getvalue().splitlines()
    assert "http://127.0.0.1:8765/admin/" in heading
    assert [line.split()[0] for line in accounts] == ["admin", "editor", "publisher"]
    for line in accounts:
        username, password = line.split()[:2]
        assert Client().login(username=username, password=password)


def test_demo_accounts_without_their_groups_change_no_account(settings):
    settings.DEBUG = True
    Group.objects.filter(name="Publishers").delete()

    with pytest.raises(CommandError, match="^A staff group .* missing: Publishers .*no account"):
        call_command("demo_accounts", stdout=io.StringIO())

    assert not User.objects.filter(username__in=["admin", "editor", "publisher"]).exists()


def test_demo_accounts_reset_all_or_none(settings, monkeypatch):
    settings.DEBUG = True
    call_command("demo_accounts", stdout=io.StringIO())
    before = dict(User.objects.values_list("username", "password"))

    def fails_at_the_last(user, *args, **kwargs):
        if user.username == "publisher":
            raise DatabaseError("the database went away")
        saving(user, *args, **kwargs)

    saving = User.save
    monkeypatch.setattr(User, "save", fails_at_the_last)
    with pytest.raises(DatabaseError):
        call_command("demo_accounts", stdout=io.StringIO())

    assert dict(User.objects.values_list("username", "password")) == before


def test_demo_accounts_refuse_to_reset_passwords_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("demo_accounts")


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["abc", "1.5", "", "99999999999999999999999"])
@pytest.mark.parametrize(
    "address", ["/admin/agreements/agreement/", "/admin/registry/institution/", "/admin/auth/user/"]
)
def test_an_action_on_a_key_that_is_not_one_is_a_bad_request(admin_client, address, key):
    # Only a crafted request sends one: Django's lookup of the rows was a server error.
    institution = InstitutionFactory()
    response = admin_client.post(
        address, {"action": "delete_selected", "_selected_action": [str(institution.pk), key]}
    )
    assert response.status_code == 400
    assert "This request cannot be read" in response.content.decode()
    # A selection of keys is asked to be confirmed, as always.
    confirm = admin_client.post(
        "/admin/registry/institution/",
        {"action": "delete_selected", "_selected_action": [str(institution.pk)]},
    )
    assert confirm.status_code == 200
    assert "Are you sure you want to delete" in confirm.content.decode()


@pytest.mark.parametrize(
    "popup, message",
    [
        (
            True,
            "“Artificial Intelligence” is already in the list:"
            " close this window and choose it there.",
        ),
        (False, "There is already a focus area named “Artificial Intelligence”."),
    ],
)
def test_a_focus_area_added_again_names_the_one_to_choose(editor_client, popup, message):
    FocusAreaFactory(name="Artificial Intelligence", slug="artificial-intelligence")
    query = "?_to_field=id&_popup=1" if popup else ""
    data = {"name": "artificial intelligence", "slug": "artificial-intelligence"}
    if popup:
        data |= {"_popup": "1", "_to_field": "id"}

    response = editor_client.post(reverse("admin:registry_focusarea_add") + query, data)

    assert errors(response) == [message]
    assert FocusArea.objects.count() == 1


@pytest.mark.parametrize("popup", [True, False])
@pytest.mark.parametrize(
    "model, existing, typed",
    [
        ("registry_institution", "Tianjin University", {"kind": "university", "country": "CN"}),
        ("people_person", "Hao Guoqiang", {}),
    ],
)
def test_a_record_added_again_under_its_key_names_the_one_holding_it(
    editor_client, popup, model, existing, typed
):
    """Not Django's "Institution with this slug already exists.": which one, and what to do."""
    factory = InstitutionFactory if model == "registry_institution" else PersonFactory
    factory(name=existing, slug="taken")
    url = reverse(f"admin:{model}_add") + ("?_to_field=id&_popup=1" if popup else "")
    data = {**form_data(editor_client.get(url)), "name": existing.upper(), "slug": "taken", **typed}
    data |= {"_popup": "1", "_to_field": "id"} if popup else {}

    response = editor_client.post(url, data)

    way_out = (
        "if it is the one you mean, close this window and choose it there"
        if popup
        else "if it is the same, change that one instead"
    )
    assert errors(response) == [
        f"“{existing}” already has the key “taken”: {way_out}; if not, give this one another key."
    ]
    assert factory._meta.model.objects.count() == 1


@pytest.mark.parametrize(
    ("model", "factory"), [("agreements_agreement", AgreementFactory), ("labs_lab", LabFactory)]
)
def test_an_agreement_or_lab_added_under_a_key_taken_names_the_one_holding_it(
    editor_client, model, factory
):
    # As institutions and people do (KeyForm), rather than "Agreement with this key already
    # exists"; and, on PostgreSQL, two added at once under one key no longer end in a 500.
    holder = factory(slug="taken")
    url = reverse(f"admin:{model}_add")
    response = editor_client.post(url, {**form_data(editor_client.get(url)), "slug": "taken"})

    assert (
        f"“{holder}” already has the key “taken”: if it is the same, change that one instead; "
        "if not, give this one another key."
    ) in errors(response)


@pytest.mark.parametrize("popup", [True, False])
def test_an_institution_added_is_said_to_be_likely_the_same_as_one_there(editor_client, popup):
    existing = InstitutionFactory(name="Tianjin University", native_name="天津大学")
    InstitutionFactory(name="Tianjin Normal University", native_name="天津师范大学")
    url = reverse("admin:registry_institution_add") + ("?_to_field=id&_popup=1" if popup else "")
    data = form_data(editor_client.get(url))
    data |= {"name": "Tianjin Univ.", "slug": "tianjin-univ", "native_name": "天津大学"}
    data |= {"kind": "university", "country": "CN"}
    data |= {"_popup": "1", "_to_field": "id"} if popup else {}

    response = editor_client.post(url, data)

    added = Institution.objects.get(slug="tianjin-univ")
    warnings = [str(m) for m in response.wsgi_request._messages if m.level_tag == "warning"]
    merge_url = reverse("duplicates:merge", args=["institutions", existing.pk, added.pk])
    assert warnings == [
        "“Tianjin Univ.” may be the same as “Tianjin University” (the same native-script "
        f'name). <a href="{merge_url}">If it is, merge them.</a>'
    ]


def test_a_person_added_under_another_spelling_is_said_to_be_likely_the_same(editor_client):
    PersonFactory(name="Hao Guoqiang")
    url = reverse("admin:people_person_add")
    data = {**form_data(editor_client.get(url)), "name": "Hao Guo-qiang", "slug": "hao-guo-qiang"}

    response = editor_client.post(url, data, follow=True)

    assert "“Hao Guo-qiang” may be the same as “Hao Guoqiang” (nearly identical names)." in (
        response.text.replace("&ldquo;", "“").replace("&rdquo;", "”")
    )
    # Nothing to say of someone new.
    data = {**form_data(editor_client.get(url)), "name": "Li Yuanchao", "slug": "li-yuanchao"}
    response = editor_client.post(url, data)
    assert not [m for m in response.wsgi_request._messages if m.level_tag == "warning"]


@pytest.mark.parametrize(
    "field, message",
    [
        ("parties-0-institution", "Select a valid choice."),
        ("focus_areas", "“abc” is not a valid value."),
    ],
)
def test_a_value_no_record_can_have_in_an_autocomplete_is_a_form_error(
    editor_client, field, message
):
    """Only a hand-made request sends one; the form is shown again with its error."""
    data = new_agreement_data(editor_client, title="Typed by hand")
    set_row(data, "parties", 0, institution=InstitutionFactory().pk)
    data[field] = "abc"

    response = editor_client.post(add_agreement_url(), data)

    assert message in " ".join(str(error) for error in errors(response))
    assert "Typed by hand" in response.text
    assert not Agreement.objects.exists()
