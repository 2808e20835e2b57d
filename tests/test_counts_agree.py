"""Every number the public sees agrees with what its link shows.

A varied registry (drafts, agreements in review and withdrawn; units that sign beside their
parents; a person in two roles of one agreement; merged institutions and people; labs of drafts;
agreements without a technology or a date) is read as a visitor reads it: each number is taken
from a page's HTML with the link it stands beside, the link is followed, and what that page
lists is counted, every page of it. Nothing here asks the ORM what the answer should be; the
one list of expectations, PUBLISHED, says which agreements the public may see at all."""

import csv
import datetime
import io
import json
import re
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import lxml.html
import openpyxl
import pytest
from django.http import QueryDict
from django.test import Client

from agreements.models import AgreementType, Role
from backoffice.merging import merge_institutions, merge_people
from labs.models import Lab
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionFactory,
    LabAgreementFactory,
    LabFactory,
    LabHostFactory,
    ParticipationFactory,
    PartyFactory,
    PersonFactory,
)

# The agreements the public may see: the others are drafts, in review or withdrawn.
PUBLISHED = {"tju-huawei-2019", "cloud-ecnu-2020", "tju-cic-acme", "ecnu-huawei-2020", "cloud-2021"}

SEARCH_RESULTS = "//ol[@class='cards']//h3/a/@href"
TABLE_ROWS = "//table/tbody/tr/th/a[1]/@href"
RECORD_TITLES = "//a[@class='record-title']/@href"


@pytest.fixture
def registry(db, publisher):
    def kind(slug):
        return AgreementType.objects.get(slug=slug)

    huawei = InstitutionFactory(name="Huawei", slug="huawei", kind="company")
    cloud = InstitutionFactory(
        name="Huawei Cloud", slug="huawei-cloud", kind="company", parent=huawei
    )
    tju = InstitutionFactory(name="Tianjin University", slug="tju")
    cic = InstitutionFactory(name="College of Intelligence", slug="cic", parent=tju)
    ecnu = InstitutionFactory(name="East China Normal University", slug="ecnu")
    acme = InstitutionFactory(name="Acme", slug="acme", kind="company", country="DE")
    city = InstitutionFactory(
        name="Tianjin Government", slug="tianjin", kind="government", country=""
    )
    draft_co = InstitutionFactory(name="Draft Co", slug="draft-co", kind="company", country="US")
    huawei_again = InstitutionFactory(
        name="Huawei Technologies", slug="huawei-tech", kind="company"
    )
    five_g = FocusAreaFactory(name="5G", slug="5g")
    ai = FocusAreaFactory(name="Artificial intelligence", slug="ai")
    quantum = FocusAreaFactory(name="Quantum", slug="quantum")  # a public lab's only
    secret = FocusAreaFactory(name="Secret technology", slug="secret")  # drafts' only

    def agreement(slug, parties, *, status="published", signed=None, areas=(), type="cooperation"):
        made = AgreementFactory(
            slug=slug,
            title=slug.replace("-", " ").title(),
            status=status,
            signed_on=datetime.date(*signed) if signed else None,
            signed_on_precision="day" if signed else "",
            agreement_type=kind(type),
        )
        for position, party in enumerate(parties):
            institution, unit = party if isinstance(party, tuple) else (party, None)
            PartyFactory(agreement=made, institution=institution, unit=unit, position=position)
        made.focus_areas.set(areas)
        return made

    a1 = agreement("tju-huawei-2019", [(tju, cic), huawei], signed=(2019, 5, 1), areas=[five_g, ai])
    a2 = agreement("cloud-ecnu-2020", [cloud, ecnu], signed=(2020, 3, 1), areas=[ai], type="mou")
    a3 = agreement("tju-cic-acme", [tju, cic, acme])  # a unit beside its parent; no date, no area
    a4 = agreement("ecnu-huawei-2020", [ecnu, (huawei, cloud), huawei_again], signed=(2020, 9, 9))
    agreement("cloud-2021", [(huawei, cloud), cloud], signed=(2021, 1, 1), areas=[five_g])
    withdrawn = agreement("withdrawn-2021", [huawei, draft_co], signed=(2021, 6, 1), areas=[secret])
    withdrawn.withdraw(by=publisher, reason="Not this one.")
    draft = agreement("draft-2022", [huawei, draft_co, tju], status="draft", areas=[secret, five_g])
    agreement("review-2022", [tju, huawei, acme], status="review", signed=(2022, 1, 1), areas=[ai])

    # People: one in two roles of one agreement, and in others, drafts too.
    zhang = PersonFactory(name="Zhang Wei", slug="zhang-wei")
    signatory = a1.parties.get(institution=tju)
    ParticipationFactory(agreement=a1, person=zhang, role=Role.SIGNATORY, party=signatory)
    ParticipationFactory(agreement=a1, person=zhang, role=Role.ATTENDEE, organisation=cic)
    ParticipationFactory(agreement=a2, person=zhang, role=Role.WITNESS, organisation=cloud)
    ParticipationFactory(agreement=draft, person=zhang, role=Role.WITNESS, organisation=draft_co)
    ParticipationFactory(agreement=a1, person=PersonFactory(slug="mayor"), organisation=city)
    li = PersonFactory(name="Li Na", slug="li-na")
    li_again = PersonFactory(name="Li Na (again)", slug="li-na-2")
    ParticipationFactory(agreement=a3, person=li, role=Role.WITNESS)
    ParticipationFactory(agreement=a4, person=li_again, role=Role.WITNESS)
    ParticipationFactory(agreement=a3, person=li_again, role=Role.WITNESS)  # folds into li's
    ParticipationFactory(agreement=withdrawn, person=PersonFactory(slug="only-withdrawn"))

    # Labs: of a published agreement and a draft; of drafts only; of none.
    founded = LabFactory(name="Joint 5G Lab", slug="5g-lab", status=Lab.Status.ESTABLISHED)
    LabHostFactory(lab=founded, institution=tju)
    LabHostFactory(lab=founded, institution=huawei)
    founded.focus_areas.set([five_g])
    LabAgreementFactory(lab=founded, agreement=a1)
    LabAgreementFactory(lab=founded, agreement=draft)
    quantum_lab = LabFactory(name="Quantum Centre", slug="quantum-centre")
    LabHostFactory(lab=quantum_lab, institution=ecnu)
    quantum_lab.focus_areas.set([quantum])
    LabAgreementFactory(lab=quantum_lab, agreement=a2, outcome="extended")
    secret_lab = LabFactory(name="Secret Lab", slug="secret-lab")
    LabHostFactory(lab=secret_lab, institution=draft_co)
    secret_lab.focus_areas.set([secret])
    LabAgreementFactory(lab=secret_lab, agreement=draft)
    LabAgreementFactory(lab=secret_lab, agreement=withdrawn)
    LabHostFactory(lab=LabFactory(slug="no-agreement-lab"), institution=acme)

    merge_institutions(survivor=huawei, duplicate=huawei_again, by=publisher)
    merge_people(survivor=li, duplicate=li_again, by=publisher)


# Reading pages as a visitor does.


def get(url, status=200):
    response = Client().get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response


def html(url):
    return lxml.html.fromstring(get(url).content)


def xml(url):
    return ElementTree.fromstring(get(url).content)  # noqa: S314 (the registry's own answer)


def number(text):
    found = re.search(r"\d+", " ".join(text.split()))
    assert found, f"no number in {text!r}"
    return int(found[0])


def text(element):
    return " ".join(element.text_content().split())


def listed(url, xpath):
    """The distinct addresses `xpath` finds on `url` and every page after it (rel="next")."""
    found, seen = [], set()
    while url and url not in seen:
        seen.add(url)
        doc = html(url)
        found += [urlsplit(urljoin(url, href)).path for href in doc.xpath(xpath)]
        following = doc.xpath("//a[@rel='next']/@href")
        url = urljoin(url, following[0]) if following else None
    return set(found)


def agreements_at(url):
    """The agreements a search lists, every page of it."""
    return listed(url, SEARCH_RESULTS)


def slugs(paths):
    return {path.rstrip("/").rsplit("/", 1)[-1] for path in paths}


def description(url):
    return html(url).xpath("//meta[@name='description']/@content")[0]


def sitemap(section):
    root = xml(f"/sitemap-{section}.xml")
    return {
        urlsplit(loc.text).path
        for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    }


def institution_pages():
    return sorted(sitemap("institutions"))


# The checks, page by page.


def test_only_published_agreements_are_listed(registry):
    assert slugs(agreements_at("/agreements/")) == PUBLISHED


def test_home_numbers_agree_with_their_pages(registry):
    doc = html("/")
    stats = {
        urlsplit(a.get("href")).path: number(text(a)) for a in doc.xpath("//ul[@class='stats']//a")
    }
    assert stats["/agreements/"] == len(agreements_at("/agreements/"))
    assert stats["/institutions/"] == len(listed("/institutions/", TABLE_ROWS))
    assert stats["/labs/"] == len(listed("/labs/", TABLE_ROWS))
    assert stats["/technologies/"] == len(listed("/technologies/", TABLE_ROWS))
    ranked = doc.xpath("//ol[@class='ranking']/li[a]")
    assert ranked
    for item in ranked:
        page = item.xpath("a/@href")[0]
        shown = number(text(item.xpath("span[@class='count']")[0]))
        assert shown == record_agreement_count(page), page
    check_year_table(doc, "/")


def record_agreement_count(page):
    """An institution's or technology's page: the number of agreements it says, checked
    against the search it links to for them, which is what it returns."""
    doc = html(page)
    if page.startswith("/institutions/"):
        heading = text(doc.xpath("//h2[@id='agreements']")[0])
        said = number(heading) if re.search(r"\d", heading) else 0  # "Agreements": none
    else:
        said = number(text(doc.xpath("//ul[@class='stats']/li[1]")[0]))
    search = doc.xpath(
        "//section[@aria-labelledby='agreements']//a[contains(@href, '/agreements/?')]/@href"
    )
    listed_there = len(agreements_at(search[0])) if search else 0
    assert said == listed_there, page
    return said


def check_year_table(doc, url):
    """A bar chart's table of numbers: each year's number and the search for that year."""
    rows = doc.xpath("//table//tr[th/a[contains(@href, 'signed_from')]]")
    for row in rows:
        link = urljoin(url, row.xpath("th/a/@href")[0])
        assert number(text(row.xpath("td")[0])) == len(agreements_at(link)), link
    return rows


SEARCHES = [
    "",
    "?institution=huawei",
    "?institution=huawei-cloud",
    "?institution=tju",
    "?institution=cic",
    "?kind=university",
    "?kind=company&country=CN",
    "?focus_area=5g",
    "?focus_area=quantum",
    "?type=mou",
    "?signed_from=2020&signed_to=2020",
    "?has_lab=true",
    "?has_lab=false",
    "?q=Huawei",
]


REPEATABLE = {"institution", "kind", "country", "focus_area", "type"}


def replaced(url, name, value):
    """`url` with parameter `name` asking for `value` alone."""
    parts = urlsplit(url)
    query = QueryDict(parts.query, mutable=True)
    query.setlist(name, [value])
    return f"{parts.path}?{query.urlencode()}"


@pytest.mark.parametrize("query", SEARCHES)
def test_search_count_and_facets_agree_with_their_links(registry, query):
    url = f"/agreements/{query}"
    doc = html(url)
    found = agreements_at(url)
    assert number(text(doc.xpath("//h2[@id='results-heading']")[0])) == len(found)
    assert number(description(url)) == len(found)
    assert slugs(found) <= PUBLISHED
    facet_links = doc.xpath("//a[starts-with(@id, 'facet-')]")
    assert facet_links or not found
    chosen = {link.get("id").split("-")[1] for link in facet_links if link.get("aria-current")}
    for link in facet_links:
        name, value = link.get("id").split("-", 2)[1:]
        target = urljoin(url, link.get("href"))
        shown = number(text(link.xpath(".//span[@class='count']")[0]))
        if link.get("aria-current"):  # a chosen value's link removes it: its count is its own
            target = url
        elif name in chosen and name in REPEATABLE:
            # The values of one parameter OR: the link adds this one to those chosen, and
            # lists them all; its number counts this value alone, under the other filters
            # (README: "its count under the other filters"). A product choice: see the report.
            target = replaced(url, name, value)
        assert shown == len(agreements_at(target)), f"{text(link)} → {target}"
    check_year_table(doc, url)


@pytest.mark.parametrize("query", SEARCHES)
def test_downloads_api_and_feed_hold_what_the_search_lists(registry, query):
    found = slugs(agreements_at(f"/agreements/{query}"))
    api = json.loads(get(f"/api/agreements/{query}").content)
    assert api["count"] == len(found)
    assert {record["key"] for record in api["results"]} == found
    rows = list(
        csv.DictReader(io.StringIO(get(f"/agreements/export.csv{query}").getvalue().decode()))
    )
    assert len(rows) == len(found)
    sheet = openpyxl.load_workbook(
        io.BytesIO(get(f"/agreements/export.xlsx{query}").content)
    ).active
    assert sheet.max_row - 1 == len(found)
    lines = get(f"/agreements/export.jsonl{query}").getvalue().decode().splitlines()
    assert {json.loads(line)["key"] for line in lines} == found
    assert len(lines) == len(found)
    feed = xml(f"/agreements/feed.atom{query}")
    assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == len(found)


def test_institution_list_counts_agree_with_their_links(registry):
    doc = html("/institutions/")
    rows = doc.xpath("//table/tbody/tr")
    assert rows
    for row in rows:
        link = row.xpath("td/a[contains(@href, '/agreements/?')]")[0]
        assert number(text(link)) == len(agreements_at(link.get("href"))), text(row)
        # The same number on the institution's own page.
        assert number(text(link)) == record_agreement_count(row.xpath("th/a/@href")[0])
    for tab in doc.xpath("//nav[@class='filter-nav']//a"):
        target = urljoin("/institutions/", tab.get("href"))
        assert number(text(tab.xpath(".//span[@class='count']")[0])) == len(
            listed(target, TABLE_ROWS)
        ), target
    assert number(description("/institutions/")) == len(listed("/institutions/", TABLE_ROWS))


def test_institution_pages_count_what_their_links_list(registry):
    pages = institution_pages()
    assert "/institutions/tianjin/" in pages  # public only as a witness's organisation
    assert "/institutions/draft-co/" not in pages
    for page in pages:
        count = record_agreement_count(page)
        said = description(page)
        assert f": {count} published" in said, (page, said)
        check_year_table(html(page), page)


def test_person_pages_count_their_agreements(registry):
    people = sorted(sitemap("people"))
    assert "/people/only-withdrawn/" not in people
    for page in people:
        agreements = listed(page, "//table//tbody/tr/th/a/@href")
        heading = html(page).xpath("//h2[@id='roles']")[0]
        assert number(text(heading)) == len(agreements), page
        assert f" in {len(agreements)} published" in description(page), page


def test_technologies_count_what_their_pages_list(registry):
    doc = html("/technologies/")
    rows = doc.xpath("//table/tbody/tr")
    assert {slugs(row.xpath("th/a/@href")).pop() for row in rows} == {"5g", "ai", "quantum"}
    for row in rows:
        page = row.xpath("th/a/@href")[0]
        agreements, labs = (number(text(cell)) for cell in row.xpath("td[@class='number']"))
        assert agreements == record_agreement_count(page)
        link = row.xpath("td/a/@href")
        assert agreements == (len(agreements_at(link[0])) if link else 0)
        listed_labs = listed(
            page, "//section[@aria-labelledby='labs']//a[@class='record-title']/@href"
        )
        assert labs == len(listed_labs), page
        stats = html(page).xpath("//ul[@class='stats']/li")
        assert number(text(stats[1])) == len(listed_labs), page
        check_year_table(html(page), page)


def test_labs_count_what_their_pages_list(registry):
    doc = html("/labs/")
    for row in doc.xpath("//table/tbody/tr"):
        page = row.xpath("th/a/@href")[0]
        shown = number(text(row.xpath("td[@class='number']")[0]))
        assert shown == len(listed(page, RECORD_TITLES)), page
        assert slugs(listed(page, RECORD_TITLES)) <= PUBLISHED
    for tab in doc.xpath("//nav[@class='filter-nav']//a"):
        target = urljoin("/labs/", tab.get("href"))
        shown = number(text(tab.xpath(".//span[@class='count']")[0]))
        assert shown == len(listed(target, TABLE_ROWS)), target
    assert number(description("/labs/")) == len(listed("/labs/", TABLE_ROWS))


def api_all(path):
    """Every record of an API list, page by page, and its count."""
    answer = json.loads(get(path).content)
    count, records = answer["count"], answer["results"]
    while answer["next"]:
        answer = json.loads(get(answer["next"]).content)
        records += answer["results"]
    assert count == len(records), path
    return count, records


def test_api_lists_count_what_the_site_lists(registry):
    count, institutions = api_all("/api/institutions/")
    assert count == len(listed("/institutions/", TABLE_ROWS))
    for record in institutions:
        assert record["agreement_count"] == record_agreement_count(
            f"/institutions/{record['slug']}/"
        )
    assert api_all("/api/labs/")[0] == len(listed("/labs/", TABLE_ROWS))
    count, areas = api_all("/api/focus-areas/")
    assert count == len(listed("/technologies/", TABLE_ROWS))
    for area in areas:
        assert area["agreement_count"] == record_agreement_count(f"/technologies/{area['slug']}/")
    assert api_all("/api/people/")[0] == len(sitemap("people"))


def test_sitemaps_list_what_the_site_lists(registry):
    assert slugs(sitemap("agreements")) == slugs(agreements_at("/agreements/"))
    assert sitemap("labs") == listed("/labs/", TABLE_ROWS)
    assert sitemap("technologies") == listed("/technologies/", TABLE_ROWS)
    assert listed("/institutions/", TABLE_ROWS) <= sitemap("institutions")
    for page in sitemap("institutions") | sitemap("people"):
        get(page)  # each a public page


# Questions for the product owner: numbers that count otherwise than the page they link to.
# Each is kept as it is, and pinned here as a known disagreement (strict: it fails once fixed).


@pytest.mark.xfail(strict=True, reason="The network counts an institution as a party only")
@pytest.mark.parametrize("page", ["/agreements/", "/technologies/5g/", "/institutions/tju/"])
def test_network_and_technology_tables_count_as_the_institution_pages_they_link_to(registry, page):
    """The partnership network's table (the search's, an institution's) and a technology's
    table of institutions count the agreements an institution is a party to itself; the
    institution's page, the search's facet and /institutions/ count those of its units too
    (Huawei Cloud, party to one, is Huawei's unit in two more). The page they link to says
    another number."""
    doc = html(page)
    rows = doc.xpath("//table[caption[@id='network-institutions']]/tbody/tr")
    rows += doc.xpath("//section[@aria-labelledby='institutions']//table/tbody/tr")
    assert rows
    for row in rows:
        link = row.xpath(".//a/@href")[0]
        assert number(text(row.xpath("td[@class='number']")[-1])) == record_agreement_count(link)
