"""The Atom feed of a search: what a feed reader following a company, a university or a
technology gets."""

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from agreements.feeds import SUMMARY_LENGTH
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionFactory,
    LabFactory,
    LabHostFactory,
    PartyFactory,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
NOW = timezone.now()


def published(title, *, days_ago, institution=None, **fields):
    if "signed_on" in fields:
        fields.setdefault("signed_on_precision", "day")
    agreement = AgreementFactory(
        title=title,
        status="published",
        published_at=NOW - datetime.timedelta(days=days_ago),
        **fields,
    )
    PartyFactory(agreement=agreement, institution=institution or InstitutionFactory())
    return agreement


def feed(client, query=""):
    response = client.get(f"/agreements/feed.atom{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.content)  # noqa: S314 (the registry's own answer)


def titles(client, query=""):
    return [entry.findtext(f"{ATOM}title") for entry in feed(client, query).iter(f"{ATOM}entry")]


def test_the_feed_lists_published_agreements_newest_published_first(client):
    published("Signed long ago, published today", days_ago=0, signed_on=datetime.date(2001, 1, 1))
    published("Published last week", days_ago=7, signed_on=datetime.date(2025, 1, 1))
    published("Published yesterday", days_ago=1)
    AgreementFactory(title="A draft")
    AgreementFactory(title="In review", status="review")
    # Withdrawn: back to draft, its date of publication kept.
    withdrawn = published("Withdrawn", days_ago=0)
    withdrawn.withdraw(by=None, reason="Signed by the wrong unit.")
    assert titles(client) == [
        "Signed long ago, published today",
        "Published yesterday",
        "Published last week",
    ]


def test_the_feed_holds_the_latest_fifty(client, monkeypatch):
    monkeypatch.setattr("agreements.feeds.FEED_SIZE", 2)
    for days in range(4):
        published(f"Agreement {days}", days_ago=days)
    assert titles(client) == ["Agreement 0", "Agreement 1"]


def test_the_feed_follows_the_searchs_filters(client):
    huawei = InstitutionFactory(name="Huawei Technologies", slug="huawei", kind="company")
    unit = InstitutionFactory(name="Huawei Shanghai", parent=huawei, kind="company")
    g5 = FocusAreaFactory(name="5G", slug="5g")
    published("Huawei and a university", days_ago=3, institution=huawei).focus_areas.add(g5)
    published("Its unit on smart city", days_ago=2, institution=unit, summary="A smart city.")
    published("Others", days_ago=1, summary="A smart city too.")
    assert titles(client, "?institution=huawei") == [
        "Its unit on smart city",
        "Huawei and a university",
    ]
    assert titles(client, "?focus_area=5g") == ["Huawei and a university"]
    assert titles(client, '?q="smart city"') == ["Others", "Its unit on smart city"]
    assert titles(client, '?q="smart city"&kind=company') == ["Its unit on smart city"]
    # Sorting and paging are the page's: a feed is always newest first, whole.
    assert titles(client, "?institution=huawei&sort=title&page=2") == [
        "Its unit on smart city",
        "Huawei and a university",
    ]


def test_an_entry_says_who_signed_when_where_and_on_what(client):
    ecnu = InstitutionFactory(name="East China Normal University", native_name="华东师范大学")
    huawei = InstitutionFactory(name="Huawei Technologies", kind="company")
    agreement = published(
        "ECNU and Huawei strategic partnership agreement",
        days_ago=1,
        institution=ecnu,
        slug="ecnu-huawei-2019",
        signed_on=datetime.date(2019, 4, 9),
        place="Bantian, Shenzhen",
        summary="Cooperation on research & the smart campus.",
    )
    PartyFactory(agreement=agreement, institution=huawei)
    agreement.focus_areas.add(FocusAreaFactory(name="cloud computing"))

    (entry,) = feed(client).iter(f"{ATOM}entry")
    link = entry.find(f"{ATOM}link").get("href")
    assert link == "http://testserver/agreements/ecnu-huawei-2019/"
    assert entry.findtext(f"{ATOM}published") == agreement.published_at.isoformat()
    summary = entry.findtext(f"{ATOM}summary")  # HTML, as text of the XML
    assert "signed 9 April 2019, Bantian, Shenzhen." in summary
    assert re.search(
        r"Between East China Normal University <span [^>]*lang=\"zh\"[^>]*>华东师范大学</span> "
        r"and Huawei Technologies\.",
        summary,
    )
    assert "Cooperation on research &amp; the smart campus." in summary
    assert [c.get("term") for c in entry.iter(f"{ATOM}category")] == ["cloud computing"]


def test_an_entry_gives_the_start_of_a_long_summary(client):
    published("Long", days_ago=1, summary="word " * 20_000)
    (entry,) = feed(client).iter(f"{ATOM}entry")
    summary = entry.findtext(f"{ATOM}summary")
    (text,) = re.findall(r"<p>(word.*?)</p>", summary)
    assert len(text) == SUMMARY_LENGTH and text.endswith("word…")


def test_the_feed_is_named_by_what_its_search_asks_and_links_to_it(client):
    huawei = InstitutionFactory(name="Huawei Technologies", slug="huawei")
    published("Any", days_ago=1, institution=huawei).focus_areas.add(
        FocusAreaFactory(name="5G", slug="5g")
    )
    everything = feed(client)
    assert everything.findtext(f"{ATOM}title") == "Partnership Registry: new agreements"
    # Atom asks for an author.
    assert everything.findtext(f"{ATOM}author/{ATOM}name") == "Partnership Registry"

    query = '?q="smart city"&institution=huawei&focus_area=5g&signed_from=2019'
    searched = feed(client, query)
    assert searched.findtext(f"{ATOM}title") == (
        'Partnership Registry: new agreements: Search: "smart city"; Institution: Huawei '
        "Technologies; Technology: 5G; Signed from (year): 2019"
    )
    links = {link.get("rel"): link.get("href") for link in searched.iter(f"{ATOM}link")}
    encoded = "?q=%22smart+city%22&institution=huawei&focus_area=5g&signed_from=2019"
    assert links == {
        "alternate": f"http://testserver/agreements/{encoded}",
        "self": f"http://testserver/agreements/feed.atom{encoded}",
    }
    choices = feed(client, "?kind=company&kind=government&country=CN&has_lab=false")
    assert choices.findtext(f"{ATOM}title").endswith(
        ": Kind of partner: company, government body; Country: China; Has a joint lab: no"
    )


def test_a_parameter_the_feed_cannot_read_is_a_400_naming_it(client):
    published("Any", days_ago=1)
    response = client.get("/agreements/feed.atom?institution=no-such-one")
    assert response.status_code == 400
    assert "institution: " in response.content.decode()
    assert "no-such-one" in response.content.decode()
    # An empty one asks for nothing, as on the page.
    assert titles(client, "?kind=&q=") == ["Any"]


def test_a_reader_holding_the_feed_already_is_told_so_until_it_changes(client):
    agreement = published("Any", days_ago=1)
    etag = client.get("/agreements/feed.atom")["ETag"]
    assert client.get("/agreements/feed.atom", HTTP_IF_NONE_MATCH=etag).status_code == 304
    agreement.withdraw(by=None, reason="Not yet signed.")
    assert client.get("/agreements/feed.atom", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_pages_name_the_feed_of_their_agreements(client):
    huawei = InstitutionFactory(name="Huawei Technologies", slug="huawei")
    g5 = FocusAreaFactory(name="5G", slug="5g")
    published("Any", days_ago=1, institution=huawei).focus_areas.add(g5)
    for page, query in [
        ("/", ""),
        ("/agreements/?q=5g&page=1", "?q=5g"),
        ("/institutions/huawei/", "?institution=huawei"),
        ("/technologies/5g/", "?focus_area=5g"),
    ]:
        html = client.get(page).content.decode()
        href = f'href="/agreements/feed.atom{query}"'
        # In the head, for browsers and feed readers, and on the page, for people.
        title = 'title="New agreements (Atom feed)"'
        assert f'<link rel="alternate" type="application/atom+xml" {title} {href}>' in html, page
        assert f'<a {href} type="application/atom+xml">' in html, page


def test_an_institution_without_agreements_names_no_feed(client):
    # Public as a lab's host only: the search does not know it, and a feed of it would be a
    # 400.
    host = InstitutionFactory(slug="host-only")
    lab = LabFactory()
    LabHostFactory(lab=lab, institution=host)
    lab.agreements.add(published("Any", days_ago=1), through_defaults={"outcome": "founded"})
    html = client.get("/institutions/host-only/").content.decode()
    assert "feed.atom" not in html


def test_a_chinese_feeds_title_is_punctuated_as_chinese(client):
    # Full-width colons and semicolons, and 、 between the values of one filter: an English
    # ": " and "; " read as mistakes in a Chinese title.
    published("Any", days_ago=1, institution=InstitutionFactory(kind="company"))
    client.cookies["django_language"] = "zh-hans"
    title = feed(client, "?kind=company&kind=government&country=CN").findtext(f"{ATOM}title")
    assert title == "合作协议登记库：新协议：合作方类型：企业、政府机构；国家/地区：中国"
