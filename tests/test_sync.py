"""What a mirror of the registry relies on: every change to what the public sees of an
agreement moves its `updated_at` (and nothing else does), the API lists what changed since a
time in a stable order, and the keys withdrawn from the public record since a time."""

import datetime
import json
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from agreements.models import Agreement
from backoffice.interchange import export_lines, import_lines
from backoffice.interchange.exporting import utc
from labs.models import Lab
from tests.factories import (
    AgreementFactory,
    LabAgreementFactory,
    PartyFactory,
    RelationFactory,
    SignedAgreementFactory,
    UserFactory,
)
from tests.test_admin import assert_saved, change_url, errors, form_data, set_row
from tests.test_interchange import agreement as line

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.datetime(2021, 5, 3, 8, 0, tzinfo=datetime.UTC)


def dated_long_ago(*agreements):
    Agreement.objects.filter(pk__in=[a.pk for a in agreements]).update(updated_at=LONG_AGO)


def updated_at(agreement):
    return Agreement.objects.values_list("updated_at", flat=True).get(pk=agreement.pk)


# Imports


def imported(*keys):
    lines = [
        line(key=key, status="published", sources=[{"url": f"https://example.com/{key}"}])
        for key in keys
    ]
    assert import_lines(lines).errors == []
    return [Agreement.objects.get(slug=key) for key in keys]


def exported(agreement):
    return json.loads("".join(export_lines(Agreement.objects.filter(pk=agreement.pk))))


def exported_all():
    return [json.loads(record) for record in export_lines(Agreement.objects.all())]


@pytest.mark.parametrize(
    "change",
    [
        lambda record: record["sources"][0].update(title="The signing, reported"),
        lambda record: record["parties"].pop(),
        lambda record: record["participants"].append(
            {"person": {"name": "Zhang Yong"}, "role": "witness"}
        ),
        lambda record: record["focus_areas"].append("5G"),
        lambda record: record["photos"].append({"image_url": "https://example.com/a.jpg"}),
        lambda record: record["labs"].append({"name": "Joint 5G Lab"}),
    ],
    ids=["source", "party", "participant", "focus area", "photo", "lab"],
)
def test_an_import_that_changes_only_an_agreements_parts_dates_it(change):
    (stored,) = imported("tju-huawei-2020")
    dated_long_ago(stored)
    record = exported(stored)
    change(record)

    report = import_lines([json.dumps(record, ensure_ascii=False)])

    assert report.errors == [] and report.counts("agreements") == {"updated": 1}
    assert updated_at(stored) > LONG_AGO


def test_an_import_dates_the_agreements_whose_parts_it_changed_in_one_update():
    stored = imported(*(f"agreement-{number}" for number in range(5)))
    dated_long_ago(*stored)
    records = [exported(agreement) for agreement in stored]
    for record in records[:3]:
        record["sources"][0]["title"] = "The signing, reported"

    with CaptureQueriesContext(connection) as queries:
        report = import_lines([json.dumps(record) for record in records])

    assert report.counts("agreements") == {"updated": 3, "unchanged": 2}
    assert [updated_at(agreement) > LONG_AGO for agreement in stored] == [True] * 3 + [False] * 2
    dating = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('UPDATE "agreements_agreement" SET "updated_at"')
    ]
    assert len(dating) == 1


def test_an_import_that_renames_an_institution_does_not_date_its_agreements():
    # Guard: the institution's name is its own record's update (README, record dates).
    (stored,) = imported("tju-huawei-2020")
    dated_long_ago(stored)
    record = exported(stored)
    record["parties"][0]["institution"]["city"] = "Tianjin"

    assert import_lines([json.dumps(record)]).errors == []

    assert updated_at(stored) == LONG_AGO


# A lab's page


def published(**fields):
    agreement = SignedAgreementFactory(**fields)
    PartyFactory(agreement=agreement)
    agreement.publish(by=None)
    return agreement


def saved_lab(client, lab, row, **fields):
    data = form_data(client.get(change_url(lab)))
    set_row(data, "labagreement_set", row, **fields)
    assert_saved(client.post(change_url(lab), data))


@pytest.mark.parametrize(
    "row, fields",
    [(0, {"outcome": "extended"}), (0, {"DELETE": "on"}), (1, {"outcome": "proposed"})],
    ids=["changed", "removed", "added"],
)
def test_a_labs_link_changed_from_its_page_dates_the_agreement(publisher_client, row, fields):
    linked = LabAgreementFactory(agreement=published(), outcome="founded")
    agreement = linked.agreement if row == 0 else published()
    other = published()  # shows the lab too, its link untouched
    LabAgreementFactory(lab=linked.lab, agreement=other, outcome="founded")
    dated_long_ago(linked.agreement, agreement, other)
    if row == 1:
        fields["agreement"] = agreement.pk
        row = 2

    saved_lab(publisher_client, linked.lab, row, **fields)

    assert updated_at(agreement) > LONG_AGO
    assert updated_at(other) == LONG_AGO


def test_a_link_moved_to_another_agreement_dates_both(publisher_client):
    linked = LabAgreementFactory(agreement=published(), outcome="founded")
    other = published()
    dated_long_ago(linked.agreement, other)

    saved_lab(publisher_client, linked.lab, 0, agreement=other.pk)

    assert updated_at(linked.agreement) > LONG_AGO and updated_at(other) > LONG_AGO


def test_a_labs_own_change_is_its_own_update_not_its_agreements(publisher_client):
    # Guard: as an institution's name is its own record's update (README, record dates).
    linked = LabAgreementFactory(agreement=published(), outcome="founded")
    dated_long_ago(linked.agreement)

    data = form_data(publisher_client.get(change_url(linked.lab)))
    data.update(name="The renamed joint lab", status="closed")
    assert_saved(publisher_client.post(change_url(linked.lab), data))

    assert updated_at(linked.agreement) == LONG_AGO


def test_a_deleted_lab_dates_the_agreements_that_showed_it(admin_client):
    linked = LabAgreementFactory(agreement=published(), outcome="founded")
    dated_long_ago(linked.agreement)

    admin_client.post(change_url(linked.lab).replace("/change/", "/delete/"), {"post": "yes"})

    assert not Lab.objects.exists()
    assert updated_at(linked.agreement) > LONG_AGO


# An agreement's page


def test_an_agreement_saved_as_it_was_opened_keeps_its_last_update(publisher_client):
    agreement = published()
    dated_long_ago(agreement)
    versions = agreement.history.count()

    assert_saved(
        publisher_client.post(
            change_url(agreement), form_data(publisher_client.get(change_url(agreement)))
        )
    )

    assert updated_at(agreement) == LONG_AGO
    assert agreement.history.count() == versions


def test_an_agreement_whose_parts_alone_changed_is_dated(publisher_client):
    # Guard: a part edited in its form is its update (README, record dates).
    agreement = published()
    dated_long_ago(agreement)
    versions = agreement.history.count()
    data = form_data(publisher_client.get(change_url(agreement)))
    set_row(data, "sources", 0, url="https://example.com/signing", title="The signing")

    assert_saved(publisher_client.post(change_url(agreement), data))

    assert updated_at(agreement) > LONG_AGO
    assert agreement.history.count() == versions + 1


def test_a_save_of_nothing_is_no_edit_conflict_for_another_publisher(publisher_client):
    agreement = published(title="ECNU and Huawei")
    dated_long_ago(agreement)
    opened = form_data(publisher_client.get(change_url(agreement)))
    another = Client()
    another.force_login(UserFactory(group="Publishers"))

    assert_saved(another.post(change_url(agreement), form_data(another.get(change_url(agreement)))))
    opened["title"] = "ECNU and Huawei strategic partnership"
    assert_saved(publisher_client.post(change_url(agreement), opened))

    assert Agreement.objects.get(pk=agreement.pk).title == opened["title"]


def test_a_page_opened_before_anothers_change_is_refused_even_saved_as_opened(publisher_client):
    # Guard: the edit-conflict check runs before the save it may skip.
    agreement = published(title="ECNU and Huawei")
    opened = form_data(publisher_client.get(change_url(agreement)))
    data = form_data(publisher_client.get(change_url(agreement)))
    data["title"] = "ECNU and Huawei strategic partnership"
    assert_saved(publisher_client.post(change_url(agreement), data))

    response = publisher_client.post(change_url(agreement), opened)

    assert any("Someone else saved this agreement" in error for error in errors(response))


# Related agreements


def related_by_public_records():
    """A published agreement that names a draft, one the draft names, and a draft that names
    it: while it is a draft, neither public record names it."""
    draft = AgreementFactory(slug="ecnu-huawei-2022")
    PartyFactory(agreement=draft)
    naming = published(slug="ecnu-huawei-2019-addendum")
    named = published(slug="ecnu-huawei-2019")
    RelationFactory(source=naming, target=draft, type="implements")
    RelationFactory(source=draft, target=named, type="supersedes")
    RelationFactory(source=AgreementFactory(), target=draft)
    dated_long_ago(naming, named)
    return draft, naming, named


def test_a_publication_dates_the_published_agreements_whose_public_record_it_changes(
    client, publisher
):
    # A mirror reads only what changed: it learns "implements ecnu-huawei-2022" from the
    # record of the agreement that says it, and its page now says "superseded by".
    draft, naming, named = related_by_public_records()

    draft.publish(by=publisher)

    since = urlencode({"updated_since": draft.published_at.isoformat()})
    page = api(client, f"/api/agreements/?{since}")
    assert sorted(keys(page)) == ["ecnu-huawei-2019", "ecnu-huawei-2019-addendum", draft.slug]
    (record,) = [record for record in page["results"] if record["key"] == naming.slug]
    assert record["relations"] == [{"type": "implements", "key": "ecnu-huawei-2022"}]


def test_a_withdrawal_dates_the_published_agreements_that_named_it(publisher):
    draft, naming, named = related_by_public_records()
    draft.publish(by=publisher)
    dated_long_ago(naming, named)

    draft.withdraw(by=publisher, reason="Not signed after all")

    assert updated_at(naming) > LONG_AGO and updated_at(named) > LONG_AGO


def test_an_import_that_publishes_an_agreement_dates_those_related_to_it():
    draft, naming, named = related_by_public_records()
    record = exported(draft)
    record["status"] = "published"

    assert import_lines([json.dumps(record)]).errors == []

    assert updated_at(naming) > LONG_AGO and updated_at(named) > LONG_AGO


# The API


def api(client, address, status=200):
    response = client.get(address)
    assert response.status_code == status, response.content
    return response.json()


def keys(page):
    return [record["key"] for record in page["results"]]


def dated(agreement, moment):
    Agreement.objects.filter(pk=agreement.pk).update(updated_at=moment)


@pytest.mark.parametrize(
    "since, listed",
    [
        ("2021-05-03T08:00:00Z", ["old", "new"]),  # at or after
        ("2021-05-03T08:00:01Z", ["new"]),
        ("2021-05-03T08:00:00", ["old", "new"]),  # without an offset, UTC
        ("2021-05-03T16:00:00%2B08:00", ["old", "new"]),  # 08:00 UTC
        ("2021-05-03T16:00:01%2B08:00", ["new"]),
        ("2021-05-03", ["old", "new"]),  # a date: its midnight
        ("2026-01-01T00:00:00Z", []),
    ],
)
def test_the_api_lists_the_agreements_updated_since_a_time(client, since, listed):
    old, new = published(slug="old"), published(slug="new")
    AgreementFactory(slug="draft")  # updated since, never public
    dated(old, LONG_AGO)
    dated(new, LONG_AGO + datetime.timedelta(days=365))

    page = api(client, f"/api/agreements/?updated_since={since}&sort=updated")

    assert keys(page) == listed and page["count"] == len(listed)


@pytest.mark.parametrize(
    "since", ["yesterday", "2021-13-01T00:00:00Z", "2021-05-03T16:00:00 08:00", "1620028800"]
)
def test_a_bad_updated_since_is_a_400_naming_it(client, since):
    errors = api(client, f"/api/agreements/?updated_since={since}", status=400)["errors"]
    assert list(errors) == ["updated_since"]
    assert "ISO 8601, such as 2021-05-03T08:00:00Z" in errors["updated_since"][0]


def test_updated_since_combines_with_the_search_parameters(client):
    huawei = published(title="Huawei 5G agreement")
    published(title="Alibaba cloud agreement")
    dated(huawei, LONG_AGO)

    page = api(client, "/api/agreements/?q=Huawei&updated_since=2021-01-01T00:00:00Z")

    assert keys(page) == [huawei.slug]


def test_the_api_sorts_by_last_update_the_key_breaking_ties(client):
    for key, moment in [("c", LONG_AGO), ("b", LONG_AGO), ("a", LONG_AGO.replace(year=2022))]:
        dated(published(slug=key), moment)

    assert keys(api(client, "/api/agreements/?sort=updated")) == ["b", "c", "a"]


def test_the_search_page_reads_neither_updated_since_nor_the_sort_by_update(client):
    published(title="Huawei 5G agreement")
    plain = client.get("/agreements/")

    page = client.get("/agreements/?updated_since=2030-01-01T00:00:00Z")

    assert page.status_code == 200
    assert page.context["page"].paginator.count == plain.context["page"].paginator.count == 1
    (canonical,) = [tag for tag in page.text.split("<link") if 'rel="canonical"' in tag]
    assert "updated_since" not in canonical
    assert "updated" not in page.context["sorts"]


def test_the_openapi_description_names_updated_since_and_the_withdrawn_list(client):
    document = api(client, "/api/openapi.json")
    parameters = document["paths"]["/api/agreements/"]["get"]["parameters"]
    (since,) = [p for p in parameters if p["name"] == "updated_since"]
    assert since["schema"] == {"type": "string", "format": "date-time"}
    (sort,) = [p for p in parameters if p["name"] == "sort"]
    assert "updated" in sort["schema"]["enum"]
    detail = document["paths"]["/api/agreements/{slug}/"]["get"]["responses"]
    assert {"200", "301", "404", "410"} <= set(detail)
    withdrawn = document["paths"]["/api/withdrawn/"]["get"]
    assert [p["name"] for p in withdrawn["parameters"]] == ["since", "page"]
    assert set(document["components"]["schemas"]["Withdrawal"]["properties"]) == {
        "key",
        "withdrawn_at",
    }


# Withdrawn


def back_to(moment, agreement_id):
    """The agreement's versions since `moment` dated `moment`: as if what made them had been
    done then (their order kept by their ids)."""
    Agreement.history.filter(id=agreement_id, history_date__gt=moment).update(history_date=moment)


def withdraw(agreement, publisher, moment):
    agreement.withdraw(by=publisher, reason="Secret reason: the wrong university")
    latest = agreement.status_changes.order_by("-pk").first()
    type(latest).objects.filter(pk=latest.pk).update(at=moment)
    back_to(moment, agreement.pk)


def test_the_api_lists_the_keys_withdrawn_from_the_public_record(client, publisher):
    withdrawn = published(slug="withdrawn")
    withdraw(withdrawn, publisher, LONG_AGO)
    again = published(slug="published-again")
    withdraw(again, publisher, LONG_AGO)
    again.publish(by=publisher)
    twice = published(slug="withdrawn-twice")
    withdraw(twice, publisher, LONG_AGO)
    twice.publish(by=publisher)
    withdraw(twice, publisher, LONG_AGO.replace(year=2022))
    AgreementFactory(slug="never-published")
    in_review = AgreementFactory(slug="in-review")
    PartyFactory(agreement=in_review)
    in_review.submit(by=publisher)
    published(slug="public")

    page = api(client, "/api/withdrawn/")

    assert page["results"] == [
        {"key": "withdrawn", "withdrawn_at": "2021-05-03T08:00:00Z"},
        {"key": "withdrawn-twice", "withdrawn_at": "2022-05-03T08:00:00Z"},
    ]
    assert page["count"] == 2 and "Secret reason" not in json.dumps(page)


def test_the_withdrawn_list_gives_the_key_last_public_not_one_given_in_a_draft_since(
    client, publisher
):
    agreement = published(slug="ecnu-huawei-2019")
    agreement.slug = "ecnu-huawei-2019-renewed"  # changed while public: both were public
    agreement.save()
    withdraw(agreement, publisher, LONG_AGO)
    agreement.slug = "ecnu-tencent-2027"  # a draft's, never public
    agreement.save()

    page = api(client, "/api/withdrawn/")

    assert keys(page) == ["ecnu-huawei-2019", "ecnu-huawei-2019-renewed"]
    assert "tencent" not in json.dumps(page)


def test_the_withdrawn_list_says_what_left_since_a_time(client, publisher):
    withdraw(published(slug="long-ago"), publisher, LONG_AGO)
    withdraw(published(slug="lately"), publisher, LONG_AGO.replace(year=2022))

    assert keys(api(client, "/api/withdrawn/?since=2022-01-01T00:00:00Z")) == ["lately"]
    assert keys(api(client, "/api/withdrawn/?since=2021-05-03T08:00:00Z")) == ["long-ago", "lately"]
    assert keys(api(client, "/api/withdrawn/?since=")) == ["long-ago", "lately"]


def test_a_bad_since_is_a_400_naming_it(client):
    errors = api(client, "/api/withdrawn/?since=last+week", status=400)["errors"]
    assert list(errors) == ["since"]


def test_the_api_index_links_the_withdrawn_list(client):
    assert api(client, "/api/")["withdrawn"] == "http://testserver/api/withdrawn/"


# Gone by another way than a withdrawal: deleted, or given another key while published. A
# mirror holds their keys as it holds a withdrawn one's.


def test_a_published_agreement_deleted_is_in_the_withdrawn_list(client):
    deleted = published(slug="deleted-while-public")
    pk = deleted.pk
    deleted.delete()

    (gone,) = api(client, "/api/withdrawn/")["results"]

    last = Agreement.history.filter(id=pk).order_by("-history_id").first()
    assert last.history_type == "-"
    assert gone == {"key": "deleted-while-public", "withdrawn_at": utc(last.history_date)}


def test_a_withdrawn_agreement_deleted_since_stays_in_the_withdrawn_list(client, publisher):
    # Its withdrawal went with it (its moves are deleted with it): a mirror that had not read
    # the list since kept the key for good.
    agreement = published(slug="withdrawn-then-deleted")
    withdraw(agreement, publisher, LONG_AGO)
    agreement.delete()

    page = api(client, "/api/withdrawn/")

    assert page["results"] == [
        {"key": "withdrawn-then-deleted", "withdrawn_at": "2021-05-03T08:00:00Z"}
    ]
    # Not again since: it left the public record at its withdrawal, which a mirror that read
    # the list since has read.
    assert keys(api(client, "/api/withdrawn/?since=2022-01-01T00:00:00Z")) == []


def test_a_key_changed_while_published_is_in_the_withdrawn_list(client):
    agreement = published(slug="ecnu-huawei-2019")
    agreement.slug = "ecnu-huawei-2019-strategic"
    agreement.save()
    back_to(LONG_AGO, agreement.pk)

    assert api(client, "/api/withdrawn/")["results"] == [
        {"key": "ecnu-huawei-2019", "withdrawn_at": "2021-05-03T08:00:00Z"}
    ]
    assert keys(api(client, "/api/agreements/")) == ["ecnu-huawei-2019-strategic"]
    assert keys(api(client, "/api/withdrawn/?since=2022-01-01T00:00:00Z")) == []


def test_a_key_published_again_after_a_deletion_or_a_change_is_not_withdrawn(client, publisher):
    published(slug="taken-over").delete()
    renamed = published(slug="handed-on")
    renamed.slug = "handed-on-2"
    renamed.save()
    withdrawn = published(slug="withdrawn-and-replaced")
    withdraw(withdrawn, publisher, LONG_AGO)
    withdrawn.slug = "withdrawn-and-replaced-old"  # a draft's, never public
    withdrawn.save()
    for key in ("taken-over", "handed-on", "withdrawn-and-replaced"):
        published(slug=key)

    assert keys(api(client, "/api/withdrawn/")) == []


def test_a_draft_deleted_or_given_another_key_was_never_public_so_is_not_listed(client):
    draft = AgreementFactory(slug="ecnu-tencent-2027")
    PartyFactory(agreement=draft)
    draft.slug = "ecnu-tencent-2028"
    draft.save()
    draft.delete()
    in_review = AgreementFactory(slug="in-review-deleted")
    PartyFactory(agreement=in_review)
    in_review.submit(by=None)
    in_review.delete()

    page = api(client, "/api/withdrawn/")

    assert page == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("gone", [1, 12])
def test_the_withdrawn_list_reads_the_history_in_a_fixed_number_of_queries(
    client, publisher, gone, django_assert_num_queries
):
    for number in range(gone):
        agreement = published(slug=f"gone-{number}")
        if number % 3 == 0:
            withdraw(agreement, publisher, LONG_AGO)
        elif number % 3 == 1:
            agreement.delete()
        else:
            agreement.slug = f"renamed-{number}"
            agreement.save()

    with django_assert_num_queries(2):  # counted, then the page
        page = api(client, "/api/withdrawn/?since=2021-01-01T00:00:00Z")

    assert page["count"] == gone


# The old address of an agreement, for those who cited it


def test_a_key_changed_while_published_sends_its_visitors_on_for_good(client):
    agreement = published(slug="ecnu-huawei-2019", title="ECNU and Huawei")
    for key in ("ecnu-huawei-2019-strategic", "ecnu-huawei-2019-5g"):
        agreement.slug = key
        agreement.save()

    for old in ("ecnu-huawei-2019", "ecnu-huawei-2019-strategic"):
        response = client.get(f"/agreements/{old}/")
        assert response.status_code == 301 and response.url == "/agreements/ecnu-huawei-2019-5g/"
    assert "ECNU and Huawei" in client.get("/agreements/ecnu-huawei-2019-5g/").content.decode()


def test_the_address_of_an_agreement_withdrawn_or_deleted_is_gone(client, publisher):
    withdrawn = published(slug="withdrawn-pact", title="Secret title one")
    withdraw(withdrawn, publisher, LONG_AGO)
    renamed = published(slug="renamed-then-withdrawn", title="Secret title two")
    renamed.slug = "renamed-then-withdrawn-2"
    renamed.save()
    withdraw(renamed, publisher, LONG_AGO)
    renamed.slug = "ecnu-tencent-2027"  # a draft's, never public
    renamed.save()
    published(slug="deleted-pact", title="Secret title three").delete()

    for key in (
        "withdrawn-pact",
        "renamed-then-withdrawn",
        "renamed-then-withdrawn-2",
        "deleted-pact",
    ):
        response = client.get(f"/agreements/{key}/")
        assert response.status_code == 410, key
        assert "no longer public" in response.text and "Secret title" not in response.text
    assert client.get("/agreements/ecnu-tencent-2027/").status_code == 404


def test_the_address_of_an_agreement_never_public_is_not_found(client, publisher):
    draft = AgreementFactory(slug="ecnu-tencent-2027")
    PartyFactory(agreement=draft)
    draft.submit(by=None)
    draft.send_back(by=publisher, comment="Not signed yet")
    draft.slug = "ecnu-tencent-2028"
    draft.save()
    AgreementFactory(slug="deleted-draft").delete()

    for key in ("ecnu-tencent-2027", "ecnu-tencent-2028", "deleted-draft", "no-such-key"):
        response = client.get(f"/agreements/{key}/")
        assert response.status_code == 404, key


def test_a_key_changed_while_published_dates_the_published_agreements_naming_it(
    publisher_client,
):
    agreement = published(slug="ecnu-huawei-2019")
    naming = published(slug="ecnu-huawei-2019-addendum")
    named = published(slug="ecnu-huawei-2015")
    RelationFactory(source=naming, target=agreement, type="implements")
    RelationFactory(source=agreement, target=named, type="renews")
    dated_long_ago(naming, named)
    data = form_data(publisher_client.get(change_url(agreement)))
    data["slug"] = "ecnu-huawei-2019-strategic"

    assert_saved(publisher_client.post(change_url(agreement), data))

    assert updated_at(naming) > LONG_AGO and updated_at(named) > LONG_AGO
    (record,) = [r for r in exported_all() if r["key"] == naming.slug]
    assert record["relations"] == [{"type": "implements", "key": "ecnu-huawei-2019-strategic"}]


def test_a_draft_given_another_key_dates_no_published_agreement(publisher_client):
    # Guard: no public record names a draft.
    draft = AgreementFactory(slug="ecnu-tencent-2027")
    PartyFactory(agreement=draft)
    naming = published(slug="ecnu-tencent-2019")
    RelationFactory(source=naming, target=draft, type="implements")
    dated_long_ago(naming)
    data = form_data(publisher_client.get(change_url(draft)))
    data["slug"] = "ecnu-tencent-2028"

    assert_saved(publisher_client.post(change_url(draft), data))

    assert updated_at(naming) == LONG_AGO


def test_the_apis_record_at_an_old_key_is_sent_on_or_gone(client, publisher):
    renamed = published(slug="ecnu-huawei-2019")
    renamed.slug = "ecnu-huawei-2019-strategic"
    renamed.save()
    withdraw(published(slug="withdrawn-pact", title="Secret title"), publisher, LONG_AGO)
    draft = AgreementFactory(slug="ecnu-tencent-2027")
    draft.slug = "ecnu-tencent-2028"
    draft.save()

    response = client.get("/api/agreements/ecnu-huawei-2019/")
    assert response.status_code == 301
    assert response.url == "/api/agreements/ecnu-huawei-2019-strategic/"
    assert response["Access-Control-Allow-Origin"] == "*"
    gone = api(client, "/api/agreements/withdrawn-pact/", status=410)
    assert list(gone["errors"]) == ["slug"] and "Secret" not in json.dumps(gone)
    for key in ("ecnu-tencent-2027", "ecnu-tencent-2028", "no-such-key"):
        api(client, f"/api/agreements/{key}/", status=404)
