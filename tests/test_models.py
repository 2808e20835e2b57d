"""The rules of DESIGN.md that the database itself enforces, and the real cases the model
must hold without hacks."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, RestrictedError

from agreements.models import Agreement, AgreementType, Participation, Party
from registry.dates import PartialDate
from registry.models import Institution
from registry.text import FILE_WORDS_LENGTH, file_name, normalise_name
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
    RelationFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def refused(callable_, error=IntegrityError):
    with pytest.raises(error), transaction.atomic():
        callable_()


@pytest.mark.parametrize(
    "factory",
    [InstitutionFactory, PersonFactory, AgreementFactory, FocusAreaFactory, LabFactory],
)
def test_slugs_are_unique(factory):
    factory(slug="same")
    refused(lambda: factory(slug="same"))


def test_focus_area_names_are_unique_ignoring_case():
    FocusAreaFactory(name="Big Data")
    refused(lambda: FocusAreaFactory(name="big data"))


def test_ror_is_unique_but_may_be_empty_for_many():
    InstitutionFactory(ror="")
    InstitutionFactory(ror="")
    InstitutionFactory(ror="02n96ep67")
    refused(lambda: InstitutionFactory(ror="02n96ep67"))


def test_institution_cannot_be_its_own_parent():
    institution = InstitutionFactory()
    institution.parent = institution
    refused(institution.save)


def test_the_database_refuses_an_institution_within_one_of_its_own_units():
    group = InstitutionFactory(name="China Telecom")
    branch = InstitutionFactory(name="Tianjin Branch", parent=group)
    office = InstitutionFactory(name="Binhai Office", parent=branch)
    # Written past the forms and the importer, which refuse it too.
    refused(lambda: Institution.objects.filter(pk=group.pk).update(parent=office))
    refused(lambda: Institution.objects.filter(pk=branch.pk).update(parent=office))
    group.refresh_from_db()
    assert group.parent is None
    # Moving within the tree, or out of it, is no loop.
    Institution.objects.filter(pk=office.pk).update(parent=group)
    Institution.objects.filter(pk=branch.pk).update(parent=office)
    Institution.objects.filter(pk=branch.pk).update(parent=None)


def test_one_participation_per_person_role_and_agreement():
    first = ParticipationFactory(role="witness")
    refused(lambda: ParticipationFactory(agreement=first.agreement, person=first.person))
    # The same person may hold another role in the same agreement.
    ParticipationFactory(agreement=first.agreement, person=first.person, role="attendee")


def test_signatory_party_must_belong_to_the_same_agreement():
    party_elsewhere = PartyFactory()
    agreement = AgreementFactory()
    refused(
        lambda: ParticipationFactory(agreement=agreement, role="signatory", party=party_elsewhere)
    )


def test_signatory_cannot_be_moved_to_a_party_of_another_agreement():
    own_party = PartyFactory()
    signatory = ParticipationFactory(
        agreement=own_party.agreement, role="signatory", party=own_party
    )
    signatory.party = PartyFactory()
    refused(signatory.save)


def test_party_with_signatories_cannot_move_to_another_agreement():
    party = PartyFactory()
    ParticipationFactory(agreement=party.agreement, role="signatory", party=party)
    party.agreement = AgreementFactory()
    refused(party.save)


def test_only_signatories_sign_for_a_party():
    party = PartyFactory()
    refused(lambda: ParticipationFactory(agreement=party.agreement, role="witness", party=party))


def test_an_institution_is_a_party_once_per_agreement():
    party = PartyFactory()
    refused(lambda: PartyFactory(agreement=party.agreement, institution=party.institution))


def test_a_party_unit_is_not_the_institution_itself():
    institution = InstitutionFactory()
    refused(lambda: PartyFactory(institution=institution, unit=institution))


def test_term_cannot_end_before_it_starts():
    refused(
        lambda: AgreementFactory(
            starts_on=datetime.date(2020, 1, 1),
            starts_on_precision="day",
            ends_on=datetime.date(2019, 1, 1),
            ends_on_precision="day",
        )
    )


def term(starts, ends):
    starts, ends = PartialDate.parse(starts), PartialDate.parse(ends)
    return Agreement(
        title="A term",
        slug="a-term",
        agreement_type=AgreementType.objects.first(),
        starts_on=starts.date,
        starts_on_precision=starts.precision,
        ends_on=ends.date,
        ends_on_precision=ends.precision,
    )


@pytest.mark.parametrize(
    "starts, ends",
    [
        ("2020-05", "2020"),
        ("2020-05-15", "2020-05"),
        ("2020-05-31", "2020-05"),  # "some time in May" runs to its last day
        ("2020-12-31", "2020"),
        ("2020-05-15", "2020-05-15"),
        ("2020", "2020"),
    ],
)
def test_a_term_known_to_the_month_or_year_may_end_in_the_period_it_starts(starts, ends):
    agreement = term(starts, ends)
    agreement.full_clean()  # "from May 2020 to some time in 2020" may be true
    agreement.save()


@pytest.mark.parametrize(
    "starts, ends", [("2020-05", "2019"), ("2020-05-15", "2020-04"), ("2020", "2019-12-31")]
)
def test_a_term_that_ends_before_it_starts_is_refused_at_any_precision(starts, ends):
    with pytest.raises(ValidationError, match="The term cannot end before it starts."):
        term(starts, ends).full_clean()


def test_term_in_years_is_positive():
    refused(lambda: AgreementFactory(term_years=0))


def test_a_date_needs_its_precision():
    refused(lambda: AgreementFactory(signed_on=datetime.date(2019, 7, 1), signed_on_precision=""))
    refused(lambda: AgreementFactory(signed_on=None, signed_on_precision="month"))


def test_a_published_agreement_records_when():
    refused(lambda: AgreementFactory(status="published", published_at=None))


def test_status_must_be_draft_or_published():
    refused(lambda: AgreementFactory(status="archived"))


def test_an_agreement_does_not_relate_to_itself():
    agreement = AgreementFactory()
    refused(lambda: RelationFactory(source=agreement, target=agreement))


# Every way a row may refer to an institution.
REFERENCES_TO_AN_INSTITUTION = pytest.mark.parametrize(
    "reference",
    [
        lambda institution: PartyFactory(institution=institution),
        lambda institution: PartyFactory(unit=institution, institution=InstitutionFactory()),
        lambda institution: ParticipationFactory(organisation=institution),
        lambda institution: InstitutionFactory(parent=institution),
        lambda institution: LabHostFactory(institution=institution),
    ],
    ids=["party", "unit", "organisation", "parent", "lab-host"],
)


@REFERENCES_TO_AN_INSTITUTION
def test_deleting_a_referenced_institution_is_refused(reference):
    institution = InstitutionFactory()
    reference(institution)
    refused(institution.delete, ProtectedError)


def test_deleting_a_referenced_person_is_refused():
    participation = ParticipationFactory()
    refused(participation.person.delete, ProtectedError)


def deleted_in_sql(record):
    """Delete `record` as a script could, past Django's PROTECT, and check the deferred
    foreign keys as a commit would."""
    table = connection.ops.quote_name(record._meta.db_table)  # a model's, not a user's
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [record.pk])  # noqa: S608
    connection.check_constraints()


@REFERENCES_TO_AN_INSTITUTION
def test_the_database_itself_refuses_to_delete_a_referenced_institution(reference):
    institution = InstitutionFactory()
    reference(institution)
    refused(lambda: deleted_in_sql(institution))


def test_the_database_itself_refuses_to_delete_a_referenced_person():
    participation = ParticipationFactory()
    refused(lambda: deleted_in_sql(participation.person))


def test_deleting_a_party_a_signatory_signed_for_is_refused():
    party = PartyFactory()
    ParticipationFactory(agreement=party.agreement, role="signatory", party=party)
    refused(party.delete, RestrictedError)


def test_deleting_an_agreement_takes_its_parties_and_signatories():
    party = PartyFactory()
    ParticipationFactory(agreement=party.agreement, role="signatory", party=party)
    party.agreement.delete()
    assert not Party.objects.exists() and not Participation.objects.exists()


def test_published_hides_drafts():
    published = AgreementFactory(status="published")
    AgreementFactory(status="draft")
    assert list(Agreement.objects.published()) == [published]


def test_the_model_holds_the_real_cases():
    """Each case from the issue, built the plain way: no field is bent to fit."""
    huawei = InstitutionFactory(name="Huawei Technologies", native_name="华为技术有限公司")
    InstitutionAliasFactory(institution=huawei, name="华为")
    ecnu = InstitutionFactory(
        name="East China Normal University", native_name="华东师范大学", acronym="ECNU"
    )
    InstitutionAliasFactory(institution=ecnu, name="Huadong Shifan Daxue")
    telecom = InstitutionFactory(name="China Telecom", kind="company")
    branch = InstitutionFactory(name="China Telecom Tianjin Branch", parent=telecom)
    government = InstitutionFactory(name="Tianjin Municipal Government", kind="government")

    # Known to the month only; ten-year term; three parties, one signing through a unit.
    first = AgreementFactory(
        signed_on=datetime.date(2019, 7, 1), signed_on_precision="month", term_years=10
    )
    ecnu_party = PartyFactory(agreement=first, institution=ecnu)
    PartyFactory(agreement=first, institution=huawei)
    telecom_party = PartyFactory(agreement=first, institution=telecom, unit=branch)
    # Two signatories for one party; a witness from an institution that is not a party.
    for person in PersonFactory.create_batch(2):
        ParticipationFactory(agreement=first, person=person, role="signatory", party=ecnu_party)
    ParticipationFactory(agreement=first, role="witness", organisation=government)
    # A person whose title differs between two agreements, known by two names.
    person = PersonFactory(name="Zhang Yong")
    PersonAliasFactory(person=person, name="Daniel Zhang")
    second = AgreementFactory(signed_on=datetime.date(2021, 1, 1), signed_on_precision="year")
    ParticipationFactory(agreement=first, person=person, title="Vice President")
    ParticipationFactory(agreement=second, person=person, title="President")
    # The "2.0" agreement follows the first; two sources disagree about it.
    RelationFactory(source=second, target=first, type="follows")
    SourceFactory(agreement=second, note="Dates the signing to 2021.")
    SourceFactory(agreement=second, note="Dates the signing to December 2020.")
    # A lab only proposed, one founded, one that existed and was extended.
    for outcome in ("proposed", "founded", "extended"):
        LabAgreementFactory(agreement=first, outcome=outcome)

    assert str(first.signed) == "July 2019"
    assert second.signed.isoformat() == "2021"
    assert first.parties.count() == 3
    assert telecom_party.unit.parent == telecom
    assert ecnu_party.signatories.count() == 2
    assert sorted(Participation.objects.filter(person=person).values_list("title", flat=True)) == [
        "President",
        "Vice President",
    ]
    assert set(person.all_names()) == {"Zhang Yong", "Daniel Zhang"}
    assert (ecnu.native_name, ecnu.acronym) == ("华东师范大学", "ECNU")
    assert list(ecnu.aliases.values_list("name", flat=True)) == ["Huadong Shifan Daxue"]
    assert second.relations.get().target == first
    assert second.sources.count() == 2
    assert sorted(first.labs.values_list("labagreement__outcome", flat=True)) == [
        "extended",
        "founded",
        "proposed",
    ]


@pytest.mark.parametrize(
    ("text", "iso", "shown"),
    [
        ("2019-07-03", "2019-07-03", "3 July 2019"),
        ("2019-07", "2019-07", "July 2019"),
        ("2019", "2019", "2019"),
    ],
)
def test_partial_dates_keep_their_precision(text, iso, shown):
    date = PartialDate.parse(text)
    assert (date.isoformat(), str(date)) == (iso, shown)


@pytest.mark.parametrize("text", ["2019-13", "2019-02-30", "19", "July 2019", "2019-7-3"])
def test_partial_dates_refuse_what_is_not_a_date(text):
    with pytest.raises(ValueError, match="date"):
        PartialDate.parse(text)


def test_names_match_across_case_accents_and_widths():
    assert normalise_name("  Ｈｕａｗｅｉ  Technologies ") == normalise_name("huawei technologies")
    assert normalise_name("Zürich") == normalise_name("ZURICH")
    assert normalise_name("华东师范大学") == "华东师范大学"
    assert normalise_name("が") != normalise_name("か")


def test_partial_dates_read_naturally_in_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        shown = [str(PartialDate.parse(text)) for text in ("2019-07-03", "2019-07", "2019")]
    assert shown == ["2019年7月3日", "2019年7月", "2019年"]


def test_any_of_selects_what_in_selects_by_keys_and_foreign_keys():
    agreements = [AgreementFactory() for _ in range(3)]
    parties = [PartyFactory(agreement=agreement) for agreement in agreements]
    wanted = {agreements[0].pk, agreements[2].pk, None}

    def keys(queryset):
        return sorted(queryset.values_list("pk", flat=True))

    assert keys(Agreement.objects.filter(pk__any_of=wanted)) == sorted(wanted - {None})
    assert keys(Party.objects.filter(agreement__any_of=list(wanted))) == keys(
        Party.objects.filter(agreement__in=wanted - {None})
    )
    assert keys(Party.objects.filter(agreement__any_of=[parties[1].agreement_id])) == [
        parties[1].pk
    ]
    assert not Agreement.objects.filter(pk__any_of=[]).exists()
    assert not Agreement.objects.filter(pk__any_of=[None]).exists()


def test_any_of_sends_the_keys_as_one_parameter():
    sql, params = Agreement.objects.filter(pk__any_of=[1, 2, 3]).query.sql_with_params()
    assert params == (([1, 2, 3],) if connection.vendor == "postgresql" else ("[1, 2, 3]",))


def test_no_two_agreement_types_share_a_name_as_an_importer_compares_them():
    cooperation = AgreementType.objects.get(name="cooperation agreement")
    cooperation.full_clean()  # its own names are its own

    with pytest.raises(ValidationError) as same_name:
        AgreementType(name="Cooperation  AGREEMENT", slug="other").full_clean()
    with pytest.raises(ValidationError) as same_synonym:
        AgreementType(name="Pact", slug="pact", synonyms="treaty, Alliance").full_clean()

    assert "already names the type “cooperation agreement”" in same_name.value.messages[0]
    assert same_synonym.value.message_dict["synonyms"] == [
        "“Alliance” already names the type “alliance” (names are compared without case, "
        "accents or extra spaces)."
    ]


def test_a_long_file_name_is_cut_after_the_last_whole_word_that_fits():
    # 80 characters of whole words, then more: all of them kept, not the last one dropped.
    fits = "-".join(["abcdefghi"] * 8)  # 79 characters
    assert file_name(fits + "x", "more", extension="csv") == f"{fits}x.csv"
    assert len(fits + "x") == FILE_WORDS_LENGTH
    # A word across the limit goes; a single word longer than the limit is cut in it.
    assert file_name(fits, "overflowing", extension="csv") == f"{fits}.csv"
    assert file_name("a" * 100, extension="csv") == "a" * FILE_WORDS_LENGTH + ".csv"
