"""Merging duplicate institutions and people (backoffice/merging.py), finding likely duplicates
(backoffice/duplicates.py) and the admin pages for both (backoffice/merge_views.py)."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from agreements.models import Participation, Party
from backoffice.duplicates import (
    ACRONYM,
    NEAR_NAME,
    OTHER_NAME,
    SAME_NAME,
    SAME_NATIVE,
    SAME_WORDS,
    Record,
    find_pairs,
    likely_duplicates,
)
from backoffice.merging import (
    INSTITUTION_RELATIONS,
    PERSON_RELATIONS,
    MergeError,
    merge_institutions,
    merge_people,
    unhandled_relations,
)
from backoffice.models import Merge, NotDuplicate, RecordKind
from labs.models import LabHost
from people.models import Person
from registry.models import Institution
from tests.factories import (
    AgreementFactory,
    InstitutionAliasFactory,
    InstitutionFactory,
    LabFactory,
    LabHostFactory,
    ParticipationFactory,
    PartyFactory,
    PersonAliasFactory,
    PersonFactory,
    logged_in,
)
from tests.test_admin import undescribed

pytestmark = pytest.mark.django_db


def published(**kwargs):
    return AgreementFactory(status="published", **kwargs)


def signatory(agreement, party, **kwargs):
    return ParticipationFactory(agreement=agreement, role="signatory", party=party, **kwargs)


def merge_url(kind, survivor, duplicate):
    return reverse("duplicates:merge", args=[kind, survivor.pk, duplicate.pk])


# Institutions: every reference moves -------------------------------------------------------


def test_merging_institutions_in_different_agreements_moves_every_party_to_the_survivor(editor):
    huawei = InstitutionFactory(name="Huawei", slug="huawei", kind="company")
    copy = InstitutionFactory(name="HUAWEI Technologies", slug="huawei-2", kind="company")
    ecnu = InstitutionFactory(name="ECNU")
    first, second = published(), published()
    PartyFactory(agreement=first, institution=ecnu)
    PartyFactory(agreement=first, institution=huawei)
    PartyFactory(agreement=second, institution=ecnu)
    party = PartyFactory(agreement=second, institution=copy)
    signer = signatory(second, party, organisation=copy)

    merge_institutions(survivor=huawei, duplicate=copy, by=editor)

    assert not Institution.objects.filter(pk=copy.pk).exists()
    assert set(first.parties.values_list("institution", flat=True)) == {ecnu.pk, huawei.pk}
    assert set(second.parties.values_list("institution", flat=True)) == {ecnu.pk, huawei.pk}
    signer.refresh_from_db()
    assert signer.party_id == party.pk and signer.organisation_id == huawei.pk


def test_parties_of_one_agreement_become_one_and_every_signatory_stays(editor):
    survivor = InstitutionFactory(name="China Telecom", kind="company")
    duplicate = InstitutionFactory(name="China Telecom Corporation", kind="company")
    branch = InstitutionFactory(name="China Telecom Tianjin Branch", parent=duplicate)
    agreement = published()
    university = PartyFactory(agreement=agreement, institution=InstitutionFactory(), position=0)
    kept = PartyFactory(agreement=agreement, institution=survivor, position=1)
    folded = PartyFactory(agreement=agreement, institution=duplicate, unit=branch, position=2)
    first = signatory(agreement, kept, title="Chairman")
    second = signatory(agreement, folded, title="General Manager")
    witness = ParticipationFactory(agreement=agreement, role="witness", organisation=duplicate)

    record = merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    parties = list(agreement.parties.order_by("position"))
    assert [p.pk for p in parties] == [university.pk, kept.pk]
    kept.refresh_from_db()
    assert kept.institution == survivor and kept.unit == branch  # the unit it lacked
    # Still signed on behalf of a party of the same agreement (a trigger would refuse else).
    signatories = Participation.objects.filter(agreement=agreement, role="signatory")
    assert set(signatories.values_list("pk", "party")) == {
        (first.pk, kept.pk),
        (second.pk, kept.pk),
    }
    witness.refresh_from_db()
    assert witness.organisation == survivor
    assert record.moved["parties_folded"] == 1
    record.refresh_from_db()
    assert record.duplicate["references"]["parties_folded"] == [[folded.pk, kept.pk]]


def test_of_two_units_named_for_one_agreement_the_survivors_is_kept_and_noted(editor):
    survivor = InstitutionFactory(name="Huawei")
    duplicate = InstitutionFactory(name="Huawei Tech")
    own_unit = InstitutionFactory(name="Huawei Shanghai", parent=survivor)
    other_unit = InstitutionFactory(name="Huawei Beijing", parent=duplicate)
    agreement = AgreementFactory(title="Smart campus")
    kept = PartyFactory(agreement=agreement, institution=survivor, unit=own_unit)
    PartyFactory(agreement=agreement, institution=duplicate, unit=other_unit)

    record = merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    kept.refresh_from_db()
    assert kept.unit == own_unit
    assert agreement.parties.count() == 1
    assert any("Smart campus" in note for note in record.notes)


def test_units_of_the_duplicate_become_the_survivors(editor):
    survivor = InstitutionFactory(name="Tianjin University")
    duplicate = InstitutionFactory(name="Tianjin Univ.")
    college = InstitutionFactory(name="College of Intelligence", parent=duplicate)
    agreement = published()
    party = PartyFactory(agreement=agreement, institution=duplicate, unit=college)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    college.refresh_from_db()
    party.refresh_from_db()
    assert college.parent == survivor
    assert (party.institution, party.unit) == (survivor, college)
    party.full_clean()  # the unit is still part of the party it signed for


def test_a_survivor_inside_the_duplicate_takes_its_place_in_the_tree(editor):
    group = InstitutionFactory(name="Group")
    duplicate = InstitutionFactory(name="Huawei Co.", parent=group)
    middle = InstitutionFactory(name="Huawei Enterprise", parent=duplicate)
    survivor = InstitutionFactory(name="Huawei", parent=middle)
    sibling = InstitutionFactory(name="Huawei Consumer", parent=duplicate)
    agreement = AgreementFactory()
    party = PartyFactory(agreement=agreement, institution=survivor, unit=duplicate)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    survivor.refresh_from_db()
    middle.refresh_from_db()
    sibling.refresh_from_db()
    assert survivor.parent == group
    assert middle.parent == survivor and sibling.parent == survivor
    party.refresh_from_db()
    assert party.institution == survivor and party.unit is None  # never its own unit


def test_a_merge_that_would_cut_a_signing_unit_from_its_party_is_refused_and_writes_nothing(
    editor,
):
    china_telecom = InstitutionFactory(name="China Telecom")
    other_parent = InstitutionFactory(name="China Unicom")
    duplicate = InstitutionFactory(name="Tianjin Branch", parent=china_telecom)
    survivor = InstitutionFactory(name="Tianjin Branch (CT)", parent=other_parent)
    agreement = AgreementFactory(title="5G campus")
    party = PartyFactory(agreement=agreement, institution=china_telecom, unit=duplicate)

    with pytest.raises(MergeError, match="5G campus"):
        merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    assert Institution.objects.filter(pk=duplicate.pk).exists()
    party.refresh_from_db()
    assert party.unit == duplicate
    assert not Merge.objects.exists()


def test_lab_hosts_move_and_a_lab_both_host_keeps_one_host(editor):
    survivor, duplicate = InstitutionFactory(), InstitutionFactory()
    shared, own = LabFactory(), LabFactory()
    LabHostFactory(lab=shared, institution=survivor)
    LabHostFactory(lab=shared, institution=duplicate)
    LabHostFactory(lab=own, institution=duplicate)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    assert set(LabHost.objects.values_list("lab", "institution")) == {
        (shared.pk, survivor.pk),
        (own.pk, survivor.pk),
    }


def test_the_duplicates_names_become_aliases_and_fill_only_empty_fields(editor):
    survivor = InstitutionFactory(
        name="East China Normal University", acronym="ECNU", city="", website="", ror=""
    )
    InstitutionAliasFactory(institution=survivor, name="Huashi Da")
    duplicate = InstitutionFactory(
        name="ECNU Shanghai",
        native_name="华东师范大学",
        acronym="ecnu",  # the survivor's acronym in other case: not an alias
        city="Shanghai",
        website="https://www.ecnu.edu.cn",
        ror="02n96ep67",
    )
    InstitutionAliasFactory(institution=duplicate, name="huashi da")  # the same alias
    InstitutionAliasFactory(institution=duplicate, name="East China Normal Univ.")

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    survivor.refresh_from_db()
    assert set(survivor.aliases.values_list("name", flat=True)) == {
        "East China Normal Univ.",
        "ECNU Shanghai",
        "Huashi Da",
    }
    assert survivor.native_name == "华东师范大学"  # filled, so not an alias too
    assert survivor.acronym == "ECNU"
    assert (survivor.city, survivor.website, survivor.ror) == (
        "Shanghai",
        "https://www.ecnu.edu.cn",
        "02n96ep67",
    )


def test_filled_fields_never_overwrite_the_survivors(editor):
    survivor = InstitutionFactory(name="Huawei", city="Shenzhen", native_name="华为")
    duplicate = InstitutionFactory(name="Huawei Tech", city="Beijing", native_name="华为技术")

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    survivor.refresh_from_db()
    assert (survivor.city, survivor.native_name) == ("Shenzhen", "华为")
    assert set(survivor.aliases.values_list("name", flat=True)) == {"Huawei Tech", "华为技术"}


def test_every_relation_to_institutions_and_people_is_moved_by_the_merge():
    """A relation added to Institution or Person must be taught to backoffice/merging.py."""
    assert unhandled_relations(Institution, INSTITUTION_RELATIONS) == []
    assert unhandled_relations(Person, PERSON_RELATIONS) == []


def test_a_record_cannot_be_merged_into_itself(editor):
    institution = InstitutionFactory()
    with pytest.raises(ValidationError):
        merge_institutions(survivor=institution, duplicate=institution, by=editor)


# Institutions: the public side ---------------------------------------------------------------


def test_the_merged_away_name_finds_the_survivor_in_public_search(client, editor):
    survivor = InstitutionFactory(name="Huawei", slug="huawei", kind="company")
    duplicate = InstitutionFactory(name="Hua Wei Jishu", slug="hua-wei-jishu", kind="company")
    university = InstitutionFactory(name="Tianjin University", slug="tju")
    first, second = published(title="Smart city"), published(title="Cloud campus")
    for agreement, company in ((first, survivor), (second, duplicate)):
        PartyFactory(agreement=agreement, institution=university)
        PartyFactory(agreement=agreement, institution=company)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    # The old name is now the survivor's: it finds every agreement of the survivor.
    response = client.get(reverse("agreements:search"), {"q": "Hua Wei Jishu"})
    assert {a.pk for a in response.context["page"]} == {first.pk, second.pk}
    facet = next(f for f in response.context["facets"] if f.name == "institution")
    assert {(v.value, v.count) for v in facet.values} == {("huawei", 2), ("tju", 2)}
    response = client.get(reverse("agreements:search"), {"institution": "huawei"})
    assert {a.pk for a in response.context["page"]} == {first.pk, second.pk}
    html = client.get(reverse("agreements:institution-detail", args=["huawei"])).content.decode()
    assert "Cloud campus" in html and "Smart city" in html


def test_the_merged_away_address_redirects_for_good_to_the_survivor(client, editor):
    survivor = InstitutionFactory(slug="huawei")
    duplicate = InstitutionFactory(slug="huawei-technologies")
    PartyFactory(agreement=published(), institution=duplicate)
    person, copy = PersonFactory(slug="zhang-yong"), PersonFactory(slug="daniel-zhang")
    ParticipationFactory(agreement=published(), person=copy)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)
    merge_people(survivor=person, duplicate=copy, by=editor)

    response = client.get("/institutions/huawei-technologies/")
    assert response.status_code == 301
    assert response["Location"] == "/institutions/huawei/"
    response = client.get("/people/daniel-zhang/")
    assert response.status_code == 301
    assert response["Location"] == "/people/zhang-yong/"
    assert client.get("/institutions/never-was/").status_code == 404


def test_the_merged_away_page_of_people_redirects_to_the_survivors(client, editor):
    survivor = InstitutionFactory(slug="huawei")
    duplicate = InstitutionFactory(slug="huawei-technologies")
    party = PartyFactory(agreement=published(), institution=duplicate)
    ParticipationFactory(agreement=party.agreement, organisation=duplicate)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    response = client.get("/institutions/huawei-technologies/people/")
    assert response.status_code == 301
    assert response["Location"] == "/institutions/huawei/people/"
    assert client.get(response["Location"]).status_code == 200
    assert client.get("/institutions/never-was/people/").status_code == 404


def test_a_merged_away_address_keeps_its_query_string(client, editor):
    survivor = InstitutionFactory(slug="huawei")
    duplicate = InstitutionFactory(slug="huawei-technologies")
    party = PartyFactory(agreement=published(), institution=duplicate)
    ParticipationFactory(agreement=party.agreement, organisation=duplicate)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    response = client.get("/institutions/huawei-technologies/people/?page=1")
    assert response.status_code == 301
    assert response["Location"] == "/institutions/huawei/people/?page=1"
    response = client.get("/institutions/huawei-technologies/?people=1")
    assert response.status_code == 301
    assert response["Location"] == "/institutions/huawei/?people=1"


def test_a_second_merge_sends_the_first_address_on_to_the_last_survivor(client, editor):
    first, second, third = (InstitutionFactory(slug=s) for s in ("one", "two", "three"))
    PartyFactory(agreement=published(), institution=first)

    merge_institutions(survivor=second, duplicate=first, by=editor)
    merge_institutions(survivor=third, duplicate=second, by=editor)

    assert client.get("/institutions/one/")["Location"] == "/institutions/three/"
    assert Merge.objects.get(duplicate_slug="one").survivor == third


def test_a_drafts_party_stays_private_after_the_merge(client, editor):
    survivor = InstitutionFactory(name="Huawei", slug="huawei")
    duplicate = InstitutionFactory(name="Huawei Secret Unit", slug="huawei-secret")
    PartyFactory(agreement=published(title="Public agreement"), institution=survivor)
    draft = AgreementFactory(title="DRAFT_ONLY plan")
    PartyFactory(agreement=draft, institution=duplicate)
    ParticipationFactory(agreement=draft, person=PersonFactory(name="DRAFT_PERSON"))

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    page = client.get("/institutions/huawei/").content.decode()
    assert "Public agreement" in page and "DRAFT_ONLY" not in page and "DRAFT_PERSON" not in page
    response = client.get(reverse("agreements:search"), {"q": "Huawei"})
    assert [a.title for a in response.context["page"]] == ["Public agreement"]
    facet = next(f for f in response.context["facets"] if f.name == "institution")
    assert {(v.value, v.count) for v in facet.values} == {("huawei", 1)}
    assert (
        client.get(reverse("agreements:search"), {"q": "DRAFT_ONLY"})
        .context["page"]
        .paginator.count
        == 0
    )


def test_the_old_address_does_not_lead_to_a_survivor_the_public_cannot_see(client, editor):
    survivor = InstitutionFactory(slug="hidden")
    duplicate = InstitutionFactory(slug="hidden-copy")
    PartyFactory(agreement=AgreementFactory(), institution=survivor)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    response = client.get("/institutions/hidden-copy/")
    assert response.status_code == 404
    assert "hidden" not in response.get("Location", "")


# The record of a merge -------------------------------------------------------------------


def test_a_merge_is_recorded_with_a_copy_of_the_duplicate_and_in_the_survivors_history(
    editor, editor_client
):
    survivor = InstitutionFactory(name="Huawei")
    duplicate = InstitutionFactory(name="Huawei Tech", slug="huawei-tech", country="CN")
    InstitutionAliasFactory(institution=duplicate, name="HW")
    PartyFactory(agreement=published(), institution=duplicate)

    record = merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    record = Merge.objects.get(pk=record.pk)
    assert record.kind == RecordKind.INSTITUTION and record.merged_by == editor
    assert record.survivor == survivor and record.duplicate_slug == "huawei-tech"
    assert record.duplicate["fields"]["name"] == "Huawei Tech"
    assert record.duplicate["fields"]["country"] == "CN"
    assert record.duplicate["aliases"] == ["HW"]
    assert record.moved["parties"] == 1 and record.moved["aliases_added"] == 2
    latest = survivor.history.latest()
    assert latest.history_user == editor and "Huawei Tech" in latest.history_change_reason
    deleted = Institution.history.filter(id=duplicate.pk, history_type="-").get()
    assert deleted.history_user == editor

    changelist = editor_client.get(reverse("admin:backoffice_merge_changelist"))
    assert changelist.status_code == 200 and "Huawei Tech" in changelist.content.decode()
    page = editor_client.get(reverse("admin:backoffice_merge_change", args=[record.pk]))
    assert page.status_code == 200 and "huawei-tech" in page.content.decode()
    assert (
        editor_client.post(
            reverse("admin:backoffice_merge_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


# People --------------------------------------------------------------------------------------


def test_people_merge_keeps_one_participation_per_role_with_the_fuller_title(editor):
    zhang = PersonFactory(name="Zhang Yong", native_name="")
    daniel = PersonFactory(name="Daniel Zhang", native_name="张勇")
    PersonAliasFactory(person=daniel, name="Xiaoyao")
    organisation = InstitutionFactory()
    both, only_daniel = published(), published()
    kept = ParticipationFactory(agreement=both, person=zhang, role="witness", title="CEO")
    ParticipationFactory(
        agreement=both,
        person=daniel,
        role="witness",
        title="CEO of Alibaba Group",
        organisation=organisation,
    )
    attendee = ParticipationFactory(agreement=both, person=daniel, role="attendee")
    moved = ParticipationFactory(agreement=only_daniel, person=daniel, role="witness")

    record = merge_people(survivor=zhang, duplicate=daniel, by=editor)

    assert not Person.objects.filter(pk=daniel.pk).exists()
    assert set(Participation.objects.values_list("pk", "person")) == {
        (kept.pk, zhang.pk),
        (attendee.pk, zhang.pk),
        (moved.pk, zhang.pk),
    }
    kept.refresh_from_db()
    assert kept.title == "CEO of Alibaba Group" and kept.organisation == organisation
    zhang.refresh_from_db()
    assert zhang.native_name == "张勇"
    assert set(zhang.aliases.values_list("name", flat=True)) == {"Daniel Zhang", "Xiaoyao"}
    assert record.moved["participations_folded"] == 1 and record.moved["participations"] == 2


def test_people_merge_keeps_a_signatory_on_behalf_of_a_party_of_the_same_agreement(editor):
    survivor, duplicate = PersonFactory(), PersonFactory()
    agreement = published()
    party = PartyFactory(agreement=agreement)
    signer = signatory(agreement, party, person=duplicate)

    merge_people(survivor=survivor, duplicate=duplicate, by=editor)

    signer.refresh_from_db()
    assert (signer.person, signer.party) == (survivor, party)


# Detection ---------------------------------------------------------------------------------


def pairs_of(records):
    return {key: pair.reasons for key, pair in find_pairs(records).items()}


def test_detection_finds_one_name_written_differently_and_names_in_other_fields():
    records = [
        Record(1, "Huawei"),
        Record(2, "ＨＵＡＷＥＩ"),  # full-width
        Record(3, "East China Normal University", "华东师范大学", "ECNU"),
        Record(4, "华东师范大学"),  # the other's native-script name
        Record(5, "ECNU"),  # the other's acronym
        Record(6, "Tianjin University", aliases=["Peiyang University"]),
        Record(7, "Peiyang University"),  # the other's alias
        Record(8, "Huawei Technologies Co., Ltd."),
        Record(9, "Huawei Technologies Co Ltd"),  # punctuation
        Record(10, "Zhang Yong", "张勇"),
        Record(11, "Daniel Zhang", "张勇"),  # the same native-script name
        Record(12, "Yong Zhang"),  # word order
        Record(13, "Tsinghua University Shenzhen"),
        Record(14, "Tsinghua Univeristy Shenzhen"),  # a typo
    ]
    found = pairs_of(records)
    assert SAME_NAME in found[(1, 2)]
    assert OTHER_NAME in found[(3, 4)]
    assert ACRONYM in found[(3, 5)]
    assert OTHER_NAME in found[(6, 7)]
    assert SAME_WORDS in found[(8, 9)]
    assert SAME_NATIVE in found[(10, 11)]
    assert SAME_WORDS in found[(10, 12)]
    assert NEAR_NAME in found[(13, 14)]
    assert set(found) == {(1, 2), (3, 4), (3, 5), (6, 7), (8, 9), (10, 11), (10, 12), (13, 14)}


def test_detection_leaves_unrelated_and_numbered_names_alone():
    records = [
        Record(1, "China Telecom Tianjin Branch 1"),
        Record(2, "China Telecom Tianjin Branch 2"),
        Record(3, "Joint Lab of 5G 12"),
        Record(4, "Joint Lab of 5G 13"),
        Record(5, "Zhang Wei"),
        Record(6, "Zhang Wen"),
        Record(7, "Nanjing University"),
        Record(8, "Nankai University"),
        Record(9, "CAS", acronym="CAS"),
        Record(10, "Chinese Academy of Sciences", acronym="CAS"),  # a shared acronym alone
    ]
    assert pairs_of(records) == {(9, 10): {ACRONYM}}  # the acronym is 9's very name


def test_detection_in_a_large_block_still_finds_neighbours():
    records = [Record(n, f"Wang {chr(97 + n % 26)}{n:05d}x") for n in range(1, 400)]
    records += [Record(1000, "Wang Jianguo Zhongxin"), Record(1001, "Wang Jianguo Zhongxim")]
    assert (1000, 1001) in pairs_of(records)


def test_the_list_shows_likely_pairs_with_their_counts_and_hides_dismissed_ones(
    editor, editor_client, django_assert_max_num_queries
):
    huawei = InstitutionFactory(name="Huawei", kind="company")
    copy = InstitutionFactory(name="HUAWEI", kind="company")
    InstitutionFactory(name="Nankai University")
    PartyFactory(agreement=published(), institution=copy)
    for number in range(5):
        InstitutionFactory(name=f"Alpha Beta Gamma {number}")
        InstitutionFactory(name=f"alpha beta gamma {number}")
    url = reverse("duplicates:list", args=["institutions"])

    with django_assert_max_num_queries(20):
        response = editor_client.get(url)

    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 6
    first = next(row for row in rows if {row[1].pk, row[2].pk} == {huawei.pk, copy.pk})
    assert (
        dict(first[2].counts if first[2].pk == copy.pk else first[1].counts)[
            "agreements as a party"
        ]
        == 1
    )
    html = response.content.decode()
    assert merge_url("institutions", huawei, copy) in html
    assert merge_url("institutions", copy, huawei) in html
    assert "Nankai" not in html

    low, high = sorted([huawei.pk, copy.pk])
    response = editor_client.post(
        reverse("duplicates:not-duplicate", args=["institutions"]),
        {"first": high, "second": low},
    )
    assert response.status_code == 302
    assert NotDuplicate.objects.filter(kind="institution", first_pk=low, second_pk=high).exists()
    assert len(editor_client.get(url).context["rows"]) == 5
    dismiss = reverse("duplicates:not-duplicate", args=["institutions"])
    assert editor_client.get(dismiss).status_code == 405
    for second in ["", "x", "9" * 23]:  # only crafted requests send these
        refused = editor_client.post(dismiss, {"first": low, "second": second}, follow=True)
        assert [str(m) for m in refused.context["messages"]] == ["Choose two records."]


def test_a_merge_carries_the_duplicates_dismissed_pairs_over_to_the_survivor(editor):
    survivor, duplicate, other = (InstitutionFactory(name="Alpha Co") for _ in range(3))
    low, high = sorted([duplicate.pk, other.pk])
    NotDuplicate.objects.create(kind="institution", first_pk=low, second_pk=high)
    low, high = sorted([duplicate.pk, survivor.pk])
    NotDuplicate.objects.create(kind="institution", first_pk=low, second_pk=high)

    merge_institutions(survivor=survivor, duplicate=duplicate, by=editor)

    assert set(NotDuplicate.objects.values_list("first_pk", "second_pk")) == {
        tuple(sorted([survivor.pk, other.pk]))
    }
    assert likely_duplicates(RecordKind.INSTITUTION) == []


def test_people_list_shows_people_pairs(editor_client):
    PersonFactory(name="Zhang Yong", native_name="张勇")
    PersonFactory(name="Daniel Zhang", native_name="张勇")
    response = editor_client.get(reverse("duplicates:list", args=["people"]))
    assert response.status_code == 200
    assert len(response.context["rows"]) == 1
    assert "Daniel Zhang" in response.content.decode()


# The admin pages ---------------------------------------------------------------------------


def test_editor_merges_after_a_confirmation_page_that_changes_nothing(editor, editor_client):
    survivor = InstitutionFactory(name="Huawei")
    duplicate = InstitutionFactory(name="Huawei Tech")
    PartyFactory(agreement=published(title="Smart campus"), institution=duplicate)
    LabHostFactory(lab=LabFactory(name="Kunpeng Lab"), institution=duplicate)
    url = merge_url("institutions", survivor, duplicate)

    response = editor_client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Smart campus" in html and "Kunpeng Lab" in html and 'id="merge-form"' in html
    assert Institution.objects.filter(pk=duplicate.pk).exists()

    response = editor_client.post(url)

    assert response.status_code == 302
    assert not Institution.objects.filter(pk=duplicate.pk).exists()
    assert Merge.objects.get().merged_by == editor
    assert Party.objects.get().institution == survivor


def test_a_refused_merge_says_why_on_the_page(editor_client):
    parent = InstitutionFactory()
    duplicate = InstitutionFactory(parent=parent)
    survivor = InstitutionFactory(parent=InstitutionFactory())
    PartyFactory(agreement=AgreementFactory(title="Cut off"), institution=parent, unit=duplicate)
    url = merge_url("institutions", survivor, duplicate)

    assert 'id="merge-form"' not in editor_client.get(url).content.decode()
    response = editor_client.post(url)

    assert response.status_code == 400
    assert "Cut off" in response.content.decode()
    assert Institution.objects.filter(pk=duplicate.pk).exists()


def test_the_lists_of_institutions_and_people_link_to_their_likely_duplicates(editor):
    lists = {
        "institutions": reverse("admin:registry_institution_changelist"),
        "people": reverse("admin:people_person_changelist"),
    }
    client = logged_in(editor)
    for kind, address in lists.items():
        link = f'href="{reverse("duplicates:list", args=[kind])}"'
        assert link in client.get(address).text, kind
    # Not for staff who may not merge, whom it would lead to a 403.
    editor.groups.get().permissions.remove(Permission.objects.get(codename="merge_person"))
    client = logged_in(editor)
    assert reverse("duplicates:list", args=["people"]) not in client.get(lists["people"]).text
    assert (
        reverse("duplicates:list", args=["institutions"]) in client.get(lists["institutions"]).text
    )


def test_staff_without_the_merge_permission_get_403(editor):
    survivor, duplicate = InstitutionFactory(), InstitutionFactory()
    person, copy = PersonFactory(), PersonFactory()
    editor.groups.get().permissions.remove(
        Permission.objects.get(codename="merge_institution"),
        Permission.objects.get(codename="merge_person"),
    )
    client = logged_in(editor)
    for kind, one, other in (("institutions", survivor, duplicate), ("people", person, copy)):
        assert client.get(reverse("duplicates:list", args=[kind])).status_code == 403
        assert client.get(merge_url(kind, one, other)).status_code == 403
        assert client.post(merge_url(kind, one, other)).status_code == 403
        response = client.post(
            reverse("duplicates:not-duplicate", args=[kind]), {"first": one.pk, "second": other.pk}
        )
        assert response.status_code == 403
    assert client.get(reverse("duplicates:index")).status_code == 403
    assert client.get(reverse("admin:backoffice_merge_changelist")).status_code == 403
    assert Institution.objects.filter(pk=duplicate.pk).exists()
    assert Person.objects.filter(pk=copy.pk).exists()
    assert not NotDuplicate.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login(client):
    one, other = InstitutionFactory(), InstitutionFactory()
    response = client.post(merge_url("institutions", one, other))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Institution.objects.count() == 2


def test_the_merge_is_csrf_protected(editor):
    one, other = InstitutionFactory(), InstitutionFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(merge_url("institutions", one, other)).status_code == 403
    assert Institution.objects.count() == 2


def test_the_admin_home_and_lists_link_to_the_duplicates(editor_client):
    duplicates = reverse("duplicates:list", args=["institutions"])
    assert duplicates in editor_client.get(reverse("admin:index")).content.decode()
    changelist = editor_client.get(reverse("admin:registry_institution_changelist"))
    assert duplicates in changelist.content.decode()
    changelist = editor_client.get(reverse("admin:people_person_changelist"))
    assert reverse("duplicates:list", args=["people"]) in changelist.content.decode()


def test_two_records_found_by_slug_lead_to_the_confirmation_page(editor_client):
    one = InstitutionFactory(slug="one")
    other = InstitutionFactory(slug="other")
    response = editor_client.get(
        reverse("duplicates:choose", args=["institutions"]),
        {"survivor": "one", "duplicate": "other"},
    )
    assert response["Location"] == merge_url("institutions", one, other)


def test_a_slug_that_no_record_has_is_said_at_its_field_the_slugs_kept(editor_client):
    InstitutionFactory(slug="one")
    response = editor_client.get(
        reverse("duplicates:choose", args=["institutions"]),
        {"survivor": "one", "duplicate": "nobody"},
    )
    assert response.status_code == 200
    assert "<title>Error: Likely duplicate institutions" in response.text
    assert 'value="one"' in response.text
    typed = re.search(r'<input [^>]*value="nobody"[^>]*>', response.text).group()
    assert 'aria-describedby="merge-duplicate_error"' in typed
    assert "autofocus" in typed
    assert '<ul class="errorlist" id="merge-duplicate_error"><li>No record has that slug.' in (
        response.text
    )
    assert undescribed(response.text) == []


def test_a_merge_posted_as_another_merges_the_duplicate_away_is_told_so(editor_client, monkeypatch):
    """The page read both records; someone else's merge took the duplicate before this
    merge locked it (tests/test_concurrency.py runs the two at once on PostgreSQL)."""
    from backoffice import merge_views

    survivor, duplicate = InstitutionFactory(), InstitutionFactory()
    read = merge_views.get_object_or_404

    def read_then_merged_away(model, pk):
        record = read(model, pk=pk)
        if pk == duplicate.pk:
            model.objects.filter(pk=pk).delete()
        return record

    monkeypatch.setattr(merge_views, "get_object_or_404", read_then_merged_away)
    response = editor_client.post(merge_url("institutions", survivor, duplicate), follow=True)
    assert response.status_code == 200
    assert "merged or deleted by someone else" in response.content.decode()
    assert Institution.objects.filter(pk=survivor.pk).exists()
