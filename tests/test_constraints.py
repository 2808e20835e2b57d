"""The rules the forms, clean() and the importer enforce are the database's too: a row that
breaks one, written past them (an update(), bulk_create, raw SQL), is refused. Each case is a
valid record and an update() that breaks one rule (tests/test_models.py has the older ones)."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from agreements.models import Agreement, AgreementType, Source
from labs.models import Lab
from people.models import Person, PersonAlias
from registry.models import FocusArea, FocusAreaGroup, Institution, InstitutionAlias
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionAliasFactory,
    InstitutionFactory,
    LabFactory,
    PersonAliasFactory,
    PersonFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

MAY_17 = datetime.date(2020, 5, 17)


def group():
    return FocusAreaGroup.objects.create(name="Networks", slug="networks")


def agreement_type():
    return AgreementType.objects.create(name="Letter of intent", slug="letter-of-intent")


# (what is written past the forms, the model, how to make a valid one, the breaking update)
BROKEN = {
    "institution without a name": (Institution, InstitutionFactory, {"name": ""}),
    "institution named by spaces": (Institution, InstitutionFactory, {"name": "   "}),
    "institution without a slug": (Institution, InstitutionFactory, {"slug": ""}),
    "institution's native name of spaces": (Institution, InstitutionFactory, {"native_name": " "}),
    "institution's acronym of spaces": (Institution, InstitutionFactory, {"acronym": "  "}),
    "institution of no kind": (Institution, InstitutionFactory, {"kind": ""}),
    "institution of an unknown kind": (Institution, InstitutionFactory, {"kind": "bank"}),
    "institution's website not on the web": (
        Institution,
        InstitutionFactory,
        {"website": "javascript:alert(1)"},
    ),
    "institution alias without a name": (InstitutionAlias, InstitutionAliasFactory, {"name": ""}),
    "focus area without a name": (FocusArea, FocusAreaFactory, {"name": " "}),
    "focus area without a slug": (FocusArea, FocusAreaFactory, {"slug": ""}),
    "focus area group without a name": (FocusAreaGroup, group, {"name": ""}),
    "focus area group without a slug": (FocusAreaGroup, group, {"slug": ""}),
    "person without a name": (Person, PersonFactory, {"name": ""}),
    "person without a slug": (Person, PersonFactory, {"slug": ""}),
    "person's native name of spaces": (Person, PersonFactory, {"native_name": "  "}),
    "person alias without a name": (PersonAlias, PersonAliasFactory, {"name": " "}),
    "agreement type without a name": (AgreementType, agreement_type, {"name": ""}),
    "agreement type without a slug": (AgreementType, agreement_type, {"slug": ""}),
    "agreement type named as another in other case": (
        AgreementType,
        agreement_type,
        {"name": "COOPERATION AGREEMENT"},
    ),
    "agreement without a title": (Agreement, AgreementFactory, {"title": "  "}),
    "agreement without a key": (Agreement, AgreementFactory, {"slug": ""}),
    "signed in May stored on the 17th": (
        Agreement,
        AgreementFactory,
        {"signed_on": MAY_17, "signed_on_precision": "month"},
    ),
    "signed in 2020 stored in May": (
        Agreement,
        AgreementFactory,
        {"signed_on": datetime.date(2020, 5, 1), "signed_on_precision": "year"},
    ),
    "signed at an unknown precision": (
        Agreement,
        AgreementFactory,
        {"signed_on": MAY_17, "signed_on_precision": "week"},
    ),
    "term starting in May stored on the 17th": (
        Agreement,
        AgreementFactory,
        {"starts_on": MAY_17, "starts_on_precision": "month"},
    ),
    "term ending in May stored on the 17th": (
        Agreement,
        AgreementFactory,
        {"ends_on": MAY_17, "ends_on_precision": "month"},
    ),
    "term ending in a month before it starts": (
        Agreement,
        AgreementFactory,
        {
            "starts_on": MAY_17,
            "starts_on_precision": "day",
            "ends_on": datetime.date(2020, 4, 1),
            "ends_on_precision": "month",
        },
    ),
    "term ending in a year before it starts": (
        Agreement,
        AgreementFactory,
        {
            "starts_on": datetime.date(2020, 1, 1),
            "starts_on_precision": "year",
            "ends_on": datetime.date(2019, 1, 1),
            "ends_on_precision": "year",
        },
    ),
    "source published in May stored on the 17th": (
        Source,
        SourceFactory,
        {"published_on": MAY_17, "published_on_precision": "month"},
    ),
    "source's address not on the web": (Source, SourceFactory, {"url": "file:///etc/passwd"}),
    "lab without a name": (Lab, LabFactory, {"name": ""}),
    "lab without a slug": (Lab, LabFactory, {"slug": " "}),
    "lab established in 2020 stored in May": (
        Lab,
        LabFactory,
        {"established_on": datetime.date(2020, 5, 1), "established_on_precision": "year"},
    ),
}


@pytest.mark.parametrize("model, make, change", BROKEN.values(), ids=BROKEN.keys())
def test_the_database_refuses_a_row_the_forms_refuse(model, make, change):
    record = make()
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=record.pk).update(**change)


@pytest.mark.parametrize(
    "change",
    [
        {"signed_on": datetime.date(2020, 5, 1), "signed_on_precision": "month"},
        {"signed_on": datetime.date(2020, 1, 1), "signed_on_precision": "year"},
        {"signed_on": MAY_17, "signed_on_precision": "day"},
        # "From 17 May 2020 to some time in May 2020, or in 2020" may be true.
        {
            "starts_on": MAY_17,
            "starts_on_precision": "day",
            "ends_on": datetime.date(2020, 5, 1),
            "ends_on_precision": "month",
        },
        {
            "starts_on": MAY_17,
            "starts_on_precision": "day",
            "ends_on": datetime.date(2020, 1, 1),
            "ends_on_precision": "year",
        },
    ],
)
def test_the_database_takes_the_dates_the_forms_take(change):
    agreement = AgreementFactory()
    Agreement.objects.filter(pk=agreement.pk).update(**change)


@pytest.mark.parametrize(
    "change",
    [{"native_name": "", "acronym": "", "website": ""}, {"website": "HTTPS://example.org/"}],
)
def test_the_database_takes_the_optional_texts_the_forms_take(change):
    institution = InstitutionFactory()
    Institution.objects.filter(pk=institution.pk).update(**change)


def test_bulk_create_is_refused_too():
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.bulk_create([Person(name="Zhang Yong", slug="")])


def test_raw_sql_is_refused_too():
    agreement = AgreementFactory()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE agreements_agreement SET signed_on = %s, signed_on_precision = 'year' "
            "WHERE id = %s",
            [MAY_17, agreement.pk],
        )
