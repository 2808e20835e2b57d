"""The back office's page of what needs attention (backoffice/attention.py): each problem's count,
the admin's list its link opens (exactly the records counted), who may see it, and its queries."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, Party, StatusChange
from backoffice.attention import DRAFT_IDLE_DAYS, PROBLEMS, REVIEW_WAITS_DAYS
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionFactory,
    ParticipationFactory,
    PartyFactory,
    SourceFactory,
    UserFactory,
    logged_in,
)

pytestmark = pytest.mark.django_db

PUBLISHED, REVIEW, DRAFT = (
    Agreement.Status.PUBLISHED,
    Agreement.Status.REVIEW,
    Agreement.Status.DRAFT,
)


def complete(status=PUBLISHED, **fields):
    """An agreement with all a published one should have, but what `fields` take away."""
    values = {
        "status": status,
        "signed_on": datetime.date(2020, 5, 1),
        "signed_on_precision": "day",
        "place": "Shanghai",
        **fields,
    }
    agreement = AgreementFactory(**values)
    PartyFactory(agreement=agreement)
    agreement.focus_areas.add(FocusAreaFactory())
    SourceFactory(agreement=agreement)
    return agreement


def days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


def make_registry():
    """{problem slug: the pks of the records that have it}, among records that have none, or
    have it only where it does not count (a draft, a recent move)."""
    expected = {slug: set() for slug in PROBLEMS}

    complete()
    # Drafts lack everything and count for none of the published agreements' problems.
    AgreementFactory(place="")

    no_source = complete()
    no_source.sources.all().delete()
    expected["no-source"].add(no_source.pk)
    expected["no-date"].add(complete(signed_on=None, signed_on_precision="").pk)
    no_area = complete()
    no_area.focus_areas.clear()
    expected["no-focus-area"].add(no_area.pk)
    expected["no-place"].add(complete(place="").pk)
    plain = complete()
    SourceFactory(agreement=plain, url="HTTP://news.example.com/1")
    SourceFactory(agreement=plain, url="http://news.example.com/2")  # one row for two
    expected["http-source"].add(plain.pk)

    # In review since a submission 20 days ago; since one 3 days ago (after an earlier one
    # long ago); entered in review 20 days ago, with no move recorded.
    old, recent, entered = (complete(REVIEW) for _ in range(3))
    Agreement.objects.filter(pk__in=[old.pk, recent.pk, entered.pk]).update(created_at=days_ago(30))
    Agreement.objects.filter(pk=entered.pk).update(created_at=days_ago(REVIEW_WAITS_DAYS + 6))
    for agreement, days in [(old, 20), (recent, 25), (recent, 3)]:
        StatusChange.objects.create(
            agreement=agreement, from_status=DRAFT, to_status=REVIEW, at=days_ago(days)
        )
    expected["waiting-review"] |= {old.pk, entered.pk}
    # A published one unchanged for long is no idle draft.
    idle, busy, long_published = complete(DRAFT), complete(DRAFT), complete()
    Agreement.objects.filter(pk__in=[idle.pk, long_published.pk]).update(
        updated_at=days_ago(DRAFT_IDLE_DAYS + 1)
    )
    Agreement.objects.filter(pk=busy.pk).update(updated_at=days_ago(DRAFT_IDLE_DAYS - 1))
    expected["idle-draft"].add(idle.pk)

    # Units within what they signed for, at any depth, or none; and units outside it: with
    # no parent, below another institution, above their own, or within it for one party and
    # not for another. In a draft too, whose form refuses to save as a published one's does.
    telecom = InstitutionFactory(name="China Telecom")
    branch = InstitutionFactory(name="China Telecom Tianjin Branch", parent=telecom)
    office = InstitutionFactory(name="Binhai Office", parent=branch)
    within = complete()
    PartyFactory(agreement=within, institution=telecom, unit=office)
    PartyFactory(agreement=within, institution=branch, unit=office)
    PartyFactory(agreement=complete(DRAFT), institution=telecom, unit=branch)
    for status, institution, unit in [
        (PUBLISHED, telecom, InstitutionFactory()),
        (DRAFT, telecom, InstitutionFactory(parent=InstitutionFactory())),
        (REVIEW, office, telecom),
        (PUBLISHED, InstitutionFactory(), branch),
    ]:
        stranded = complete(status)
        PartyFactory(agreement=stranded, institution=institution, unit=unit)
        expected["unit-outside"].add(stranded.pk)
    PartyFactory(agreement=stranded, institution=InstitutionFactory(), unit=office)  # once

    nowhere = InstitutionFactory(country="")
    PartyFactory(agreement=complete(), institution=nowhere)
    expected["party-no-country"].add(nowhere.pk)
    # A party to a draft only, and an organisation that is no party: not counted.
    PartyFactory(agreement=complete(DRAFT), institution=InstitutionFactory(country=""))
    ParticipationFactory(
        agreement=complete(), organisation=InstitutionFactory(country=""), title="Mayor"
    )

    untitled = ParticipationFactory(agreement=complete(), title="").person
    ParticipationFactory(agreement=complete(), person=untitled, title="", role="signatory")
    expected["no-title"].add(untitled.pk)
    titled_once = ParticipationFactory(agreement=complete(), title="").person
    ParticipationFactory(agreement=complete(), person=titled_once, title="President")
    ParticipationFactory(agreement=complete(DRAFT), title="")  # in a draft only
    return expected


def test_a_unit_outside_is_what_a_partys_own_check_refuses():
    # The query walks the tree in SQL; Party.clean, which the agreement's form runs, in Python.
    make_registry()
    refused = set()
    for party in Party.objects.select_related("unit"):
        try:
            party.clean()
        except ValidationError:
            refused.add(party.agreement_id)

    counted = PROBLEMS["unit-outside"].records(timezone.now())
    assert set(counted.values_list("pk", flat=True)) == refused != set()


@pytest.fixture
def publisher():
    return logged_in(UserFactory(group="Publishers"))


def page_counts(client):
    response = client.get(reverse("reports:attention"))
    assert response.status_code == 200
    return {problem.slug: count for problem, count in response.context["problems"]}


def listed(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get("Location")
    return {record.pk for record in response.context["cl"].queryset}


def test_each_problem_counts_its_records_and_links_to_exactly_them(publisher):
    expected = make_registry()

    counts = page_counts(publisher)

    assert counts == {slug: len(pks) for slug, pks in expected.items()}
    for slug, problem in PROBLEMS.items():
        assert listed(publisher, problem.url()) == expected[slug], slug


def test_the_page_shows_every_problem_with_its_link(publisher):
    no_place = complete(place="")

    page = publisher.get(reverse("reports:attention")).content.decode()

    assert "Published agreements without a place" in page
    url = PROBLEMS["no-place"].url().replace("&", "&amp;")
    assert f'<a href="{url}">1</a>' in page
    assert listed(publisher, PROBLEMS["no-place"].url()) == {no_place.pk}
    # A problem no record has is a plain 0, not a link to an empty list.
    no_source = PROBLEMS["no-source"].url().replace("&", "&amp;")
    assert no_source not in page
    assert re.search(r'id="attention-no-source">.*?<td>0</td>', page)


def test_a_problem_unknown_to_the_list_lists_nothing(publisher):
    # Not every agreement, as if all had the problem: the admin's "invalid filter" instead.
    complete(place="")
    changelist = reverse("admin:agreements_agreement_changelist")

    for value in ["no-such-problem", "no-title"]:  # another model's problem
        response = publisher.get(changelist, {"attention": value})

        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")


def test_the_admin_lists_filter_by_what_needs_attention(publisher):
    complete(place="")
    response = publisher.get(reverse("admin:agreements_agreement_changelist"))

    page = response.content.decode()
    assert "By needs attention" in page
    assert "?attention=no-place" in page
    people = publisher.get(reverse("admin:people_person_changelist")).content.decode()
    assert "?attention=no-title" in people
    assert "?attention=no-place" not in people


@pytest.mark.parametrize(("group", "status"), [("Editors", 403), (None, 403), ("Publishers", 200)])
def test_only_staff_who_see_reports_see_what_needs_attention(group, status):
    client = logged_in(UserFactory(group=group))

    assert client.get(reverse("reports:attention")).status_code == status
    index = client.get(reverse("admin:index")).content.decode()
    assert (reverse("reports:attention") in index) == (status == 200)


def queries_of_page(client):
    with CaptureQueriesContext(connection) as queries:
        page_counts(client)
    return len(queries)


def test_the_page_takes_as_many_queries_whatever_the_data(publisher):
    make_registry()
    few = queries_of_page(publisher)
    for _ in range(3):
        make_registry()

    many = queries_of_page(publisher)

    assert many == few
    # One count a problem, and the session and user's.
    assert few <= len(PROBLEMS) + 4
