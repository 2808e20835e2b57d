"""How an import finds what a line names: institutions, people, types, focus areas and labs
(interchange.md, "Institution references")."""

import json

import pytest

from agreements.models import Agreement, Participation
from backoffice.interchange import export_lines, import_lines
from labs.models import Lab, LabAgreement
from people.models import Person
from registry.models import FocusArea, Institution, InstitutionKind
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionAliasFactory,
    InstitutionFactory,
    LabFactory,
    LabHostFactory,
    PartyFactory,
    PersonAliasFactory,
    PersonFactory,
    two_companies_with_branches,
)

pytestmark = pytest.mark.django_db

HUAWEI = {"name": "Huawei Technologies", "kind": "company"}


def line(*parties, **changes):
    record = {
        "key": "agreement-2020",
        "title": "A cooperation agreement",
        "agreement_type": "cooperation agreement",
        "parties": [{"institution": party} for party in parties or [HUAWEI]],
    }
    return json.dumps(record | changes, ensure_ascii=False)


def imported(*lines):
    report = import_lines(lines)
    assert report.errors == []
    return report


def party_institutions():
    return [party.institution for party in Agreement.objects.get().parties.all()]


def test_the_example_of_the_contract_imports_as_written():
    huawei = InstitutionFactory(name="Huawei Technologies", kind="company")
    AgreementFactory(slug="some-earlier-agreement")
    # As interchange.md shows it, only wrapped otherwise.
    example = """{"key": "ecnu-huawei-2019",
 "title": "ECNU and Huawei strategic partnership agreement",
 "agreement_type": "strategic partnership agreement",
 "status": "published",
 "signed_on": "2019-07-03",
 "place": "Huawei headquarters, Bantian, Longgang District, Shenzhen",
 "term": {"starts_on": null, "ends_on": null, "years": null},
 "summary": "Cooperation on research innovation, talent training, smart campus ...",
 "parties": [
   {"institution": {"name": "East China Normal University", "acronym": "ECNU",
                    "native_name": "华东师范大学", "kind": "university", "country": "CN"}},
   {"institution": "Huawei Technologies", "unit": {"name": "Huawei Shanghai", "kind": "company",
                             "country": "CN", "parent": "Huawei Technologies"}}],
 "participants": [
   {"person": {"name": "Sun Zhenrong"}, "role": "signatory", "title": "Vice President",
    "organisation": "ECNU", "on_behalf_of": "ECNU"},
   {"person": {"name": "Peng Bo"}, "role": "witness",
    "title": "Vice President, Public and Government Affairs",
    "organisation": "Huawei Technologies"}],
 "focus_areas": ["cloud computing", "artificial intelligence", "5G"],
 "labs": [{"name": "Smart Campus Innovation Lab", "status": "proposed", "established_on": null,
           "hosts": ["ECNU", "Huawei Technologies"], "focus_areas": ["cloud computing", "IoT"],
           "description": "..."}],
 "sources": [{"url": "https://example.edu/news/1",
              "title": "ECNU becomes a strategic partner of Huawei",
              "publisher": "East China Normal University", "published_on": null}],
 "photos": [{"caption": "The signing ceremony.", "image_url": null, "credit": null}],
 "relations": [{"type": "follows", "key": "some-earlier-agreement"}]}"""

    imported(" ".join(example.split("\n")))

    agreement = Agreement.objects.get(slug="ecnu-huawei-2019")
    assert agreement.parties.get(institution=huawei).unit.parent == huawei
    sun = agreement.participations.get(person__name="Sun Zhenrong")
    assert sun.party.institution.acronym == "ECNU"
    lab = LabAgreement.objects.get(agreement=agreement)
    assert (lab.lab.name, lab.outcome) == ("Smart Campus Innovation Lab", "proposed")


# Institutions


@pytest.mark.parametrize(
    "reference",
    [" huawei technologies ", "ＨＵＡＷＥＩ", "华为技术有限公司", "hw", "Huawéi Téchnologies"],
    ids=["case and spaces", "full-width alias", "native name", "acronym", "accents"],
)
def test_a_name_finds_an_institution_by_any_of_its_names(reference):
    huawei = InstitutionFactory(
        name="Huawei Technologies", native_name="华为技术有限公司", acronym="HW"
    )
    InstitutionAliasFactory(institution=huawei, name="Huawei")

    imported(line(reference))

    assert party_institutions() == [huawei]
    assert Institution.objects.count() == 1


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry run", "import"])
def test_a_later_line_names_what_an_earlier_line_of_the_file_introduced(dry_run):
    introduced = {"name": "Zeta University", "acronym": "ZU", "kind": "university"}
    first = line(introduced, HUAWEI)
    later = line("ＺＵ", "huawei technologies", key="later-2021", title="A later agreement")

    report = import_lines([first, later], dry_run=dry_run)

    assert report.errors == []
    assert report.counts("institutions") == {"created": 2}
    assert Institution.objects.count() == (0 if dry_run else 2)


def test_an_object_is_not_matched_by_its_acronym_which_institutions_share():
    ecnu = InstitutionFactory(name="East China Normal University", acronym="ECNU")
    nautical = {"name": "East China Nautical University", "acronym": "ECNU", "kind": "university"}

    imported(line(nautical))

    (created,) = party_institutions()
    assert created != ecnu and created.acronym == "ECNU"


def test_an_object_gives_a_stored_institution_the_names_it_lacks_and_overwrites_nothing():
    tju = InstitutionFactory(name="Tianjin University", city="Tianjin")
    reference = {
        "name": "tianjin university",
        "native_name": "天津大学",
        "acronym": "TJU",
        "aliases": ["Peiyang University", "Tianjin University"],
        "kind": "company",
        "city": "Beijing",
        "website": "https://www.tju.edu.cn/",
    }

    report = imported(line(reference))

    tju.refresh_from_db()
    assert (tju.native_name, tju.acronym, tju.website) == (
        "天津大学",
        "TJU",
        "https://www.tju.edu.cn/",
    )
    assert (tju.kind, tju.city) == ("university", "Tianjin")
    assert [alias.name for alias in tju.aliases.all()] == ["Peiyang University"]
    assert report.counts("institutions") == {"updated": 1}


def test_names_for_slots_already_filled_become_aliases():
    tju = InstitutionFactory(name="Tianjin University", native_name="天津大学", acronym="TJU")

    imported(line({"name": "Tianjin University", "native_name": "天津大學", "acronym": "TU"}))

    tju.refresh_from_db()
    assert (tju.native_name, tju.acronym) == ("天津大学", "TJU")
    assert sorted(alias.name for alias in tju.aliases.all()) == ["TU", "天津大學"]


def test_a_ror_id_finds_an_institution_before_its_names_do():
    tju = InstitutionFactory(name="Tianjin University", ror="012tb2g32")
    InstitutionFactory(name="Peiyang University")

    imported(line({"name": "Peiyang University", "ror": "012tb2g32"}))

    assert party_institutions() == [tju]
    assert [alias.name for alias in tju.aliases.all()] == ["Peiyang University"]


def test_a_ror_or_wikidata_id_not_of_their_form_is_a_problem_of_the_line():
    university = {"name": "Tianjin University", "kind": "university"}
    lines = [
        line({**university, "ror": "https://ror.org/012tb2g32"}),
        line({**university, "wikidata": "1194369"}, key="other"),
    ]

    assert import_lines(lines).errors == [
        "line 1: parties[0].institution.ror: A ROR id is nine characters, as 02n96ep67 in "
        "https://ror.org/02n96ep67.",
        "line 2: parties[0].institution.wikidata: A Wikidata id is Q and a number, as Q1194369.",
    ]


def test_a_new_institution_is_created_with_its_parent_and_details():
    telecom = {"name": "China Telecom", "native_name": "中国电信", "kind": "company"}
    branch = {
        "name": "China Telecom Tianjin Branch",
        "kind": "company",
        "country": "CN",
        "city": "Tianjin",
        "parent": "中国电信",
    }
    record = {**json.loads(line()), "parties": [{"institution": telecom, "unit": branch}]}

    report = imported(json.dumps(record))

    created = Institution.objects.get(name="China Telecom Tianjin Branch")
    assert (created.parent.native_name, created.kind, created.country.code, created.city) == (
        "中国电信",
        InstitutionKind.COMPANY,
        "CN",
        "Tianjin",
    )
    assert report.counts("institutions") == {"created": 2}


def test_an_object_without_kind_does_not_create_an_institution():
    report = import_lines([line({"name": "Nowhere Institute"})])

    assert report.errors == [
        "line 1: parties[0].institution.kind: is required to add the institution "
        "'Nowhere Institute'"
    ]


def test_a_unit_that_is_part_of_nothing_becomes_part_of_its_party():
    huawei = InstitutionFactory(name="Huawei Technologies")
    shanghai = InstitutionFactory(name="Huawei Shanghai")

    imported(
        json.dumps(
            {
                **json.loads(line()),
                "parties": [{"institution": "Huawei Technologies", "unit": "Huawei Shanghai"}],
            }
        )
    )

    shanghai.refresh_from_db()
    assert shanghai.parent == huawei


def test_a_unit_of_another_institution_is_an_error():
    InstitutionFactory(name="Huawei Technologies")
    InstitutionFactory(name="Huawei Shanghai", parent=InstitutionFactory(name="China Telecom"))
    record = {
        **json.loads(line()),
        "parties": [{"institution": "Huawei", "unit": "Huawei Shanghai"}],
    }
    InstitutionAliasFactory(
        institution=Institution.objects.get(name="Huawei Technologies"), name="Huawei"
    )

    report = import_lines([json.dumps(record)])

    assert report.errors == [
        "line 1: parties[0].unit: Huawei Shanghai is not part of Huawei Technologies"
    ]


def branches_of_two_companies():
    """Two agreements with the same-named unit of two companies, as exported."""
    telecom, unicom = two_companies_with_branches()
    for company in (telecom, unicom):
        agreement = AgreementFactory(slug=f"with-{company.slug}")
        PartyFactory(agreement=agreement, institution=company, unit=company.units.get())
    return list(export_lines(Agreement.objects.all()))


def test_units_of_one_name_are_told_apart_by_their_parent_when_imported_again():
    """The export named both "Tianjin Branch" with its parent, and the import refused each as
    a name that matches two institutions."""
    exported = branches_of_two_companies()

    report = import_lines(exported)

    assert report.errors == []
    assert report.counts("agreements") == {"unchanged": 2}


def test_units_of_one_name_round_trip_through_an_empty_database():
    """Into an empty database, the second company's branch was taken for the first's (one of
    that name was known by then), and refused as not part of it."""
    exported = branches_of_two_companies()
    Agreement.objects.all().delete()
    while Institution.objects.exists():  # units first: their parents are protected
        Institution.objects.filter(units__isnull=True).delete()

    imported(*exported)

    assert list(export_lines(Agreement.objects.all())) == exported
    branches = Institution.objects.filter(name="Tianjin Branch").values_list("parent__name")
    assert sorted(branches) == [("China Telecom",), ("China Unicom",)]


def test_a_partys_unit_named_alone_is_found_within_the_partys_institution():
    telecom, unicom = two_companies_with_branches()
    record = {
        **json.loads(line()),
        "parties": [{"institution": "China Unicom", "unit": "Tianjin Branch"}],
    }

    imported(json.dumps(record))

    assert Agreement.objects.get().parties.get().unit == unicom.units.get()


def test_a_unit_of_another_parent_is_another_institution_of_the_same_name():
    """An object giving a parent names a unit of that parent: one of its name elsewhere is
    another institution (both are "Tianjin Branch"). The preview lists it as created."""
    telecom = InstitutionFactory(name="China Telecom")
    InstitutionFactory(name="Tianjin Branch", parent=telecom)
    InstitutionFactory(name="China Unicom")
    unit = {"name": "Tianjin Branch", "kind": "company", "parent": "China Unicom"}
    record = {
        **json.loads(line()),
        "parties": [{"institution": "China Unicom", "unit": unit}],
    }

    report = imported(json.dumps(record))

    assert report.counts("institutions")["created"] == 1
    party = Agreement.objects.get().parties.get()
    assert (party.unit.name, party.unit.parent.name) == ("Tianjin Branch", "China Unicom")


def test_a_parent_that_would_make_a_cycle_is_an_error():
    # Stored: Huawei Shanghai is part of Huawei Technologies, itself 20 levels below a root.
    top = InstitutionFactory(name="Root 0")
    for level in range(1, 20):
        top = InstitutionFactory(name=f"Root {level}", parent=top)
    huawei = InstitutionFactory(name="Huawei Technologies", parent=top)
    InstitutionFactory(name="Huawei Shanghai", parent=huawei)
    root = Institution.objects.get(name="Root 0")
    record = {
        **json.loads(line()),
        "parties": [
            {"institution": {"name": "Root 0", "kind": "company", "parent": "Huawei Shanghai"}}
        ],
    }

    report = import_lines([json.dumps(record)])

    assert report.errors == [
        "line 1: parties[0].institution.parent: Huawei Shanghai is itself part of Root 0"
    ]
    root.refresh_from_db()
    assert root.parent is None


def test_a_signatory_may_sign_for_a_party_named_by_its_unit():
    huawei = InstitutionFactory(name="Huawei Technologies")
    InstitutionFactory(name="Huawei Shanghai", parent=huawei)
    signatory = {
        "person": {"name": "Hao Guoqiang"},
        "role": "signatory",
        "on_behalf_of": "Huawei Shanghai",
    }
    record = {
        **json.loads(line()),
        "parties": [{"institution": "Huawei Technologies", "unit": "Huawei Shanghai"}],
        "participants": [signatory],
    }

    imported(json.dumps(record))

    assert Participation.objects.get().party.institution == huawei


def test_only_a_signatory_signs_on_behalf_of_a_party():
    witness = {"person": {"name": "Peng Bo"}, "role": "witness", "on_behalf_of": "Huawei"}

    report = import_lines([line(participants=[witness])])

    assert report.errors == [
        "line 1: participants[0].on_behalf_of: only a signatory signs on behalf of a party"
    ]


# People


def test_a_person_is_found_by_name_native_name_or_alias_and_given_what_they_lack():
    zhang = PersonFactory(name="Zhang Yong")
    PersonAliasFactory(person=zhang, name="Daniel Zhang")
    participants = [{"person": {"name": "DANIEL ZHANG", "native_name": "张勇"}, "role": "witness"}]

    report = imported(line(participants=participants))

    zhang.refresh_from_db()
    assert Person.objects.count() == 1
    assert zhang.native_name == "张勇"
    assert sorted(alias.name for alias in zhang.aliases.all()) == ["Daniel Zhang"]
    assert report.counts("people") == {"updated": 1}


def test_a_key_tells_apart_two_people_who_share_a_name():
    PersonFactory(name="Wang Yan", slug="wang-yan")
    other = PersonFactory(name="Wang Yan", slug="wang-yan-2")
    participants = [{"person": {"key": "wang-yan-2", "name": "Wang Yan"}, "role": "attendee"}]

    imported(line(participants=participants))

    assert Participation.objects.get().person == other


def test_a_name_shared_by_two_people_without_a_key_is_an_error():
    PersonFactory(name="Wang Yan", slug="wang-yan")
    PersonFactory(name="Wang Yan", slug="wang-yan-2")

    report = import_lines(
        [line(participants=[{"person": {"name": "Wang Yan"}, "role": "attendee"}])]
    )

    assert report.errors == [
        "line 1: participants[0].person: 'Wang Yan' matches more than one person: "
        "Wang Yan (wang-yan), Wang Yan (wang-yan-2); give the key of the one you mean"
    ]


def test_a_person_with_an_unknown_key_is_added_under_that_key():
    PersonFactory(name="Wang Yan", slug="wang-yan")

    imported(
        line(
            participants=[{"person": {"key": "wang-yan-3", "name": "Wang Yan"}, "role": "attendee"}]
        )
    )

    assert Participation.objects.get().person.slug == "wang-yan-3"


def test_one_person_in_two_roles_of_one_agreement_is_fine_but_not_twice_in_one_role():
    twice = [{"person": {"name": "Peng Bo"}, "role": "witness"}] * 2

    report = import_lines([line(participants=twice)])

    assert report.errors == [
        "line 1: participants[1].person: Peng Bo is a witness of this agreement already"
    ]


# Vocabulary


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("MoU", "memorandum of understanding"),
        ("STRATEGIC Partnership Agreement ", "strategic partnership agreement"),
    ],
)
def test_agreement_types_are_matched_ignoring_case_and_by_synonyms(given, stored):
    imported(line(agreement_type=given))

    assert Agreement.objects.get().agreement_type.name == stored


# interchange.md, "Agreement types": what a new registry understands before anyone edits it.
CONTRACT_TYPES = [
    "strategic partnership agreement",
    "strategic cooperation agreement",
    "cooperation agreement",
    "framework agreement",
    "memorandum of understanding",
    "research partnership agreement",
    "joint lab agreement",
    "alliance",
    "other",
]


def test_a_new_registry_knows_the_types_of_the_contract_and_mou():
    for given in CONTRACT_TYPES:
        imported(line(agreement_type=given))
        assert Agreement.objects.get().agreement_type.name == given
    imported(line(agreement_type="mou"))
    assert Agreement.objects.get().agreement_type.name == "memorandum of understanding"


def test_focus_areas_are_matched_ignoring_case_and_unknown_ones_created():
    big_data = FocusAreaFactory(name="Big Data")

    report = imported(line(focus_areas=["big data", "Edge Intelligence", "edge intelligence"]))

    assert set(Agreement.objects.get().focus_areas.all()) == {
        big_data,
        FocusArea.objects.get(name="Edge Intelligence"),
    }
    assert report.counts("focus areas") == {"matched": 1, "created": 1}


def test_a_lab_is_found_by_name_and_given_what_it_lacks_but_keeps_its_status():
    tju = InstitutionFactory(name="Tianjin University")
    lab = LabFactory(name="Smart Campus Lab", status="proposed")
    LabHostFactory(lab=lab, institution=tju)
    named = {
        "name": "SMART campus lab",
        "status": "established",
        "established_on": "2021",
        "description": "Now open.",
        "hosts": ["Tianjin University", HUAWEI],
        "focus_areas": ["5G"],
    }

    report = imported(line(labs=[named]))

    lab.refresh_from_db()
    assert (lab.status, lab.established.isoformat(), lab.description) == (
        "proposed",
        "2021",
        "Now open.",
    )
    assert [host.institution.name for host in lab.labhost_set.all()] == [
        "Tianjin University",
        "Huawei Technologies",
    ]
    assert [area.name for area in lab.focus_areas.all()] == ["5G"]
    assert Lab.objects.count() == 1 and report.counts("labs") == {"updated": 1}
    # The line says the lab is established: this agreement founded it.
    assert LabAgreement.objects.get().outcome == "founded"


def test_a_lab_outcome_defaults_from_its_status():
    labs = [
        {"name": "Planned Lab"},
        {"name": "Open Lab", "status": "established"},
        {"name": "Old Lab", "outcome": "extended"},
    ]

    imported(line(labs=labs))

    assert dict(LabAgreement.objects.values_list("lab__name", "outcome")) == {
        "Planned Lab": "proposed",
        "Open Lab": "founded",
        "Old Lab": "extended",
    }
