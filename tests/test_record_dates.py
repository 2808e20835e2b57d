"""When a public record was published and last updated, and how to cite it: its page, the
API and the feed give the same dates, and nothing of a draft period."""

import datetime

import pytest
from django.apps import apps

from agreements.models import Agreement, StatusChange
from tests.factories import AgreementFactory, PartyFactory, UserFactory
from tests.test_feed import ATOM, feed

pytestmark = pytest.mark.django_db

FIRST = datetime.datetime(2021, 5, 3, 8, 0, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2026, 12, 7, 9, 30, tzinfo=datetime.UTC)


def republished(publisher, **fields):
    """An agreement published, withdrawn, edited as a draft and published again: dated as if
    first published on 3 May 2021 and last changed on 7 December 2026."""
    agreement = AgreementFactory(title="ECNU and Huawei strategic partnership", **fields)
    PartyFactory(agreement=agreement)
    agreement.publish(by=publisher)
    agreement.withdraw(by=publisher, reason="Secret reason: the wrong university")
    agreement.title = "ECNU and Huawei strategic partnership agreement"
    agreement.save()
    agreement.publish(by=publisher)
    Agreement.objects.filter(pk=agreement.pk).update(
        first_published_at=FIRST, published_at=LATEST, updated_at=LATEST
    )
    agreement.refresh_from_db()
    return agreement


def test_publishing_again_after_a_withdrawal_keeps_the_first_publication(publisher):
    agreement = AgreementFactory()
    PartyFactory(agreement=agreement)
    agreement.publish(by=publisher)
    first = agreement.first_published_at
    assert first == agreement.published_at

    agreement.withdraw(by=publisher, reason="A party is missing")
    agreement.publish(by=publisher)

    agreement.refresh_from_db()
    assert agreement.first_published_at == first
    assert agreement.published_at > first


def test_an_agreement_never_published_has_no_first_publication():
    assert AgreementFactory().first_published_at is None


def test_the_page_says_when_the_record_was_first_published_and_last_updated(client, publisher):
    agreement = republished(publisher)

    html = client.get(agreement.get_absolute_url()).content.decode()

    assert (
        'Published in the registry on <time datetime="2021-05-03T08:00:00+00:00">3 May 2021</time>'
        ' · Last updated <time datetime="2026-12-07T09:30:00+00:00">7 December 2026</time>'
    ) in html
    # Nothing of the draft period between: not its reason, not who withdrew it.
    assert "Secret reason" not in html and publisher.username not in html


def test_the_page_gives_a_citation_with_its_canonical_address_and_last_update(client, publisher):
    agreement = republished(publisher, slug="ecnu-huawei-2019")

    html = client.get(agreement.get_absolute_url()).content.decode()

    assert "Cite this record" in html
    assert (
        "Partnership Registry, “ECNU and Huawei strategic partnership agreement”, "
        "http://testserver/agreements/ecnu-huawei-2019/ (last updated 7 December 2026)."
    ) in html


def test_the_record_dates_are_in_the_visitors_language(client, publisher):
    agreement = republished(publisher)

    html = client.get(agreement.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content
    html = html.decode()

    assert ">2021年5月3日</time>" in html and ">2026年12月7日</time>" in html


@pytest.mark.parametrize("withdrawn", [False, True])
def test_a_staff_preview_shows_no_publication_or_citation(client, publisher, withdrawn):
    agreement = AgreementFactory()
    PartyFactory(agreement=agreement)
    if withdrawn:
        agreement.publish(by=publisher)
        agreement.withdraw(by=publisher, reason="A party is missing")
    client.force_login(UserFactory(group="Editors"))

    html = client.get(agreement.get_absolute_url()).content.decode()

    assert "A preview for staff" in html
    assert "Published in the registry" not in html and "Cite this record" not in html


def test_the_api_gives_when_each_agreement_was_published_and_last_updated(client, publisher):
    agreement = republished(publisher)

    (listed,) = client.get("/api/agreements/").json()["results"]
    alone = client.get(f"/api/agreements/{agreement.slug}/").json()

    for record in (listed, alone):
        assert record["published_at"] == "2021-05-03T08:00:00Z"
        assert record["updated_at"] == "2026-12-07T09:30:00Z"


def test_the_openapi_description_names_the_dates(client):
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["Agreement"]
    assert {"published_at", "updated_at"} <= set(schema["properties"])


def test_the_download_keeps_the_interchange_format_without_dates(client, publisher):
    republished(publisher)
    line = b"".join(client.get("/agreements/export.jsonl").streaming_content).decode()
    assert '"published_at"' not in line and '"updated_at"' not in line


def test_the_feed_dates_an_entry_as_its_page_does(client, publisher):
    republished(publisher)

    (entry,) = feed(client).iter(f"{ATOM}entry")

    assert entry.findtext(f"{ATOM}published") == "2021-05-03T08:00:00+00:00"
    assert entry.findtext(f"{ATOM}updated") == "2026-12-07T09:30:00+00:00"


def test_the_migration_dates_each_agreement_by_its_first_move_to_published(publisher):
    migration = __import__(
        "agreements.migrations.0024_first_published_at", fromlist=["first_publications"]
    )
    agreement = AgreementFactory()
    PartyFactory(agreement=agreement)
    agreement.publish(by=publisher)
    agreement.withdraw(by=publisher, reason="A party is missing")
    agreement.publish(by=publisher)
    moves = StatusChange.objects.filter(agreement=agreement, to_status="published")
    StatusChange.objects.filter(pk=moves.order_by("at", "pk").first().pk).update(at=FIRST)
    # As stored before the migration: only the latest publication known.
    Agreement.objects.filter(pk=agreement.pk).update(first_published_at=LATEST, published_at=LATEST)
    created_published = AgreementFactory(status="published", published_at=LATEST)

    migration.first_publications(apps, None)

    agreement.refresh_from_db()
    created_published.refresh_from_db()
    assert agreement.first_published_at == FIRST
    assert created_published.first_published_at == LATEST
