"""The public search: what people type finds the right agreements, facets count what a click
would show, downloads hold exactly what is on screen, and drafts never show."""

import csv
import datetime
import io
import re

import pytest
from openpyxl import load_workbook

from agreements import exports, facets
from agreements.facets import Facet, FacetValue
from agreements.filters import search_terms
from agreements.models import Agreement
from people.models import Person, PersonAlias
from registry.models import Institution, InstitutionAlias
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionFactory,
    LabAgreementFactory,
    ParticipationFactory,
    PartyFactory,
)
from tests.search_data import DRAFT_TOKEN

pytestmark = pytest.mark.django_db


def result_slugs(response):
    return re.findall(r'<h3><a href="/agreements/([^/]+)/">', response.content.decode())


def search(client, query):
    response = client.get(f"/agreements/?{query}")
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Huawei", {"ecnu-huawei-2019", "tju-china-telecom-huawei-2020"}),
        ("华为", {"ecnu-huawei-2019", "tju-china-telecom-huawei-2020"}),
        ("ECNU", {"ecnu-huawei-2019", "iflytek-2021"}),
        ("ＥＣＮＵ", {"ecnu-huawei-2019", "iflytek-2021"}),  # typed full width
        ("east china normal", {"ecnu-huawei-2019", "iflytek-2021"}),
        ("smart city", {"tju-china-telecom-huawei-2020"}),
        ("Sun Zhenrong", {"ecnu-huawei-2019"}),
        ("讯飞", {"iflytek-2021"}),
        ("Smart Campus Innovation", {"ecnu-huawei-2019"}),
        ("Bantian", {"ecnu-huawei-2019"}),
        ("huawei shanghai", {"ecnu-huawei-2019"}),
        # Words in quotes together; a stray quote is no part of a word.
        ('"east china normal"', {"ecnu-huawei-2019", "iflytek-2021"}),
        ("normal east", {"ecnu-huawei-2019", "iflytek-2021"}),
        ('"normal east"', set()),
        ('"smart', {"tju-china-telecom-huawei-2020", "ecnu-huawei-2019"}),
        # A lab's name as its article writes it ("Digital Government- Smart City"), the
        # record with an en dash: a dash beside a space separates, whatever the dash.
        ("Digital Government- Smart City", {"tju-china-telecom-huawei-2020"}),
        ('"Digital Government - Smart City"', {"tju-china-telecom-huawei-2020"}),
        ("-", {"tju-china-telecom-huawei-2020", "ecnu-huawei-2019", "iflytek-2021"}),
        # As a Chinese input method types them: quotes of its own around a phrase, its comma
        # between words, its full stop at the end, an ideographic space.
        ("“smart city”", {"tju-china-telecom-huawei-2020"}),
        ("「smart city」", {"tju-china-telecom-huawei-2020"}),
        ("‘５Ｇ’", {"tju-china-telecom-huawei-2020"}),
        ("华为、5G", {"tju-china-telecom-huawei-2020"}),
        ("华为，ECNU。", {"ecnu-huawei-2019"}),
        ("ＨＵＡＷＥＩ，５Ｇ。", {"tju-china-telecom-huawei-2020"}),
        ("Huawei\u3000cloud", {"ecnu-huawei-2019"}),
        # Punctuation around words as sentences have it.
        ("Huawei,5G", {"tju-china-telecom-huawei-2020"}),
        ("(TJU) Huawei.", {"tju-china-telecom-huawei-2020"}),
        ("Tianjin?", {"tju-china-telecom-huawei-2020"}),
        # A year is when it was signed, as well as a word of its texts.
        ("Huawei 2019", {"ecnu-huawei-2019"}),
        ("2021年", {"iflytek-2021"}),
        ("华为 ２０２０", {"tju-china-telecom-huawei-2020"}),
        ("Huawei 2021", set()),
        # The small words of English phrasing, left out beside others.
        ("University of Tianjin", {"tju-china-telecom-huawei-2020"}),
        ("the Huawei and the ECNU", {"ecnu-huawei-2019"}),
        # A company's legal form, as its article names it.
        ("Huawei Technologies Co., Ltd.", {"ecnu-huawei-2019", "tju-china-telecom-huawei-2020"}),
        ("iFLYTEK Co.,Ltd", {"iflytek-2021"}),
    ],
)
def test_search_finds_what_people_type(client, seeds, query, expected):
    assert set(result_slugs(search(client, f"q={query}"))) == expected


def test_a_search_s_terms_are_its_words_and_quoted_phrases_each_once():
    assert search_terms('x x X "smart  city" b "smart city" "c') == ["x", "smart city", "b", "c"]
    assert search_terms(" ".join(["ab"] * 60)) == ["ab"]
    assert len(search_terms(" ".join(f"w{n}" for n in range(30)))) == 10


@pytest.mark.parametrize("query", ["ZÜRICH", "zürich", "SÃO PAULO", "москва", "ÉCOLE zürich"])
def test_letters_beyond_ascii_are_found_in_any_case(client, query):
    # PostgreSQL compares upper case; SQLite's LIKE ignores the case of ASCII letters only.
    AgreementFactory(
        slug="zurich",
        title="École and ETH Zürich agreement",
        summary="Signed in São Paulo",
        place="Москва",
        status="published",
    )
    assert result_slugs(search(client, f"q={query}")) == ["zurich"]


def test_a_title_in_another_case_ranks_above_a_summary_in_another_case(client):
    AgreementFactory(
        slug="mention",
        title="A visit",
        summary="To ETH ZÜRICH",
        status="published",
        signed_on=datetime.date(2024, 1, 1),
        signed_on_precision="day",
    )
    AgreementFactory(
        slug="zurich",
        title="Zürich agreement",
        status="published",
        signed_on=datetime.date(2020, 1, 1),
        signed_on_precision="day",
    )
    assert result_slugs(search(client, "q=zÜrich")) == ["zurich", "mention"]


def test_punctuation_around_and_between_words_is_no_part_of_them():
    text = "“smart city” 「智慧城市」 《协议》 ‘5G’ Xi’an 华为、5G，AI；cloud。 (TJU) Wi-Fi."
    assert search_terms(text) == [
        "smart city",
        "智慧城市",
        "协议",
        "5G",
        "Xi’an",
        "华为",
        "AI",
        "cloud",
        "TJU",
        "Wi-Fi",
    ]
    # Within quotes, as typed.
    assert search_terms('"Huawei Technologies Co., Ltd." U.S. 4.0 AT&T . C++') == [
        "Huawei Technologies Co., Ltd.",
        "U.S",
        "4.0",
        "AT&T",
        "C++",
    ]


def test_small_words_are_searched_for_alone_or_in_quotes_only():
    assert search_terms("University of the Tianjin") == ["University", "Tianjin"]
    assert search_terms("the of") == ["the", "of"]
    assert search_terms('"University of Tianjin" of') == ["University of Tianjin"]
    assert search_terms(" ".join([*"bcdefghijk", "of", "l"])) == [*"bcdefghijk"]


def test_a_dash_beside_a_space_separates_terms_and_one_between_letters_joins_them():
    text = 'Government- Smart "digital  government – smart city" Wi-Fi a—b ‐ c- －d'
    assert search_terms(text) == [
        "Government",
        "Smart",
        "digital government",
        "smart city",
        "Wi-Fi",
        "a—b",
        "c",
        "d",
    ]


def test_searching_huawei_then_filtering_5g_leaves_tianjin(client, seeds):
    response = search(client, "q=Huawei&focus_area=5g")
    assert result_slugs(response) == ["tju-china-telecom-huawei-2020"]
    assert "1 agreement" in response.content.decode()


def test_the_page_s_title_says_the_whole_search(client, seeds, monkeypatch):
    # A live update changes the title too: the browser's history and bookmarks tell one
    # search from another by it, where each filter's was "Agreements".
    monkeypatch.setattr("agreements.views.PAGE_SIZE", 1)
    html = search(client, "q=Huawei&kind=company&signed_from=2019&page=2").content.decode()
    assert (
        "<title>Agreements matching “Huawei”; Kind of partner: company; Year signed: 2019–…"
        " (Page 2 of 2) · " in html
    )
    html = search(client, "focus_area=5g").content.decode()
    assert "<title>Agreements; Technology: 5G · " in html


def test_every_facet_count_is_what_its_link_shows(client, seeds):
    """Click each facet value of a filtered view: the results number its count."""
    page = search(client, "q=Huawei")
    facet_links = re.findall(
        r'<a id="facet-[^"]+" href="(\?[^"]+)" rel="nofollow"(?: aria-current="true")?>\s*'
        r'<span>[^<]*</span> <span class="count">(\d+)</span>',
        page.content.decode(),
    )
    assert len(facet_links) > 8
    for link, count in facet_links:
        toggled = search(client, link[1:].replace("&amp;", "&"))
        assert len(result_slugs(toggled)) == int(count), link


def technology_facet(response):
    """The search page's Technology facet: (the values listed, the values behind "N more")."""
    html = response.content.decode()
    start = html.index("<legend>Technology</legend>")
    listed, _, more = html[start : html.index("</fieldset>", start)].partition("<details>")
    return listed, more


def test_a_long_facet_lists_its_first_values_and_keeps_the_others_behind_more(client, seeds):
    areas = [FocusAreaFactory(name=f"Area {n:02}", slug=f"area-{n:02}") for n in range(12)]
    seeds["tju"].focus_areas.add(*areas)
    listed, more = technology_facet(search(client, ""))
    assert listed.count('rel="nofollow"') == facets.VALUES_SHOWN
    summary = re.search(r"<summary>(\d+) more</summary>", more)
    assert int(summary[1]) == more.count('rel="nofollow"') > 0
    assert "Area 11" in more
    # Chosen, it is listed with the first ones, where it is removed.
    listed, more = technology_facet(search(client, "focus_area=area-11"))
    assert 'href="?" rel="nofollow" aria-current="true">\n      <span>Area 11</span>' in listed
    assert "Area 11" not in more


def test_a_facet_of_a_few_more_values_than_shown_lists_them_all():
    values = [FacetValue(str(n), str(n), 20 - n, False) for n in range(facets.VALUES_SHOWN + 2)]
    assert Facet("focus_area", "Technology", values).more == []
    values.append(FacetValue("last", "last", 1, True))
    facet = Facet("focus_area", "Technology", values)
    assert facet.shown == [*values[: facets.VALUES_SHOWN], values[-1]]
    assert facet.more == values[facets.VALUES_SHOWN : -1]


def test_institution_filter_includes_its_units(client, seeds):
    # ECNU–Huawei names Huawei Shanghai as the unit that signed for Huawei.
    assert set(result_slugs(search(client, "institution=huawei-shanghai"))) == {"ecnu-huawei-2019"}
    assert set(result_slugs(search(client, "institution=huawei"))) == {
        "ecnu-huawei-2019",
        "tju-china-telecom-huawei-2020",
    }


def test_an_institution_is_found_through_a_unit_of_its_unit(client):
    # Institutions nest more than once: a college of a school of a university.
    university = InstitutionFactory(name="Zenith University", slug="zenith")
    school = InstitutionFactory(name="Zenith School of Engineering", parent=university)
    college = InstitutionFactory(name="Zenith Robotics College", parent=school)
    partner = InstitutionFactory(name="Acme Robotics", slug="acme")
    as_unit = AgreementFactory(slug="signed-by-the-college", status="published")
    PartyFactory(agreement=as_unit, institution=university, unit=college)
    PartyFactory(agreement=as_unit, institution=partner)
    as_party = AgreementFactory(slug="the-college-a-party", status="published")
    PartyFactory(agreement=as_party, institution=college)
    PartyFactory(agreement=as_party, institution=partner)
    both = {"signed-by-the-college", "the-college-a-party"}

    page = search(client, "institution=zenith")

    assert set(result_slugs(page)) == both
    assert re.search(
        r'<span>Zenith University</span> <span class="count">2</span>', page.content.decode()
    )
    assert client.get("/api/agreements/?institution=zenith").json()["count"] == 2
    institution_page = client.get(university.get_absolute_url()).content.decode()
    assert all(f'href="/agreements/{slug}/"' in institution_page for slug in both)


def test_values_of_one_filter_or_and_filters_and(client, seeds):
    both = search(client, "focus_area=5g&focus_area=cloud-computing")
    assert set(result_slugs(both)) == {"ecnu-huawei-2019", "tju-china-telecom-huawei-2020"}
    narrowed = search(client, "focus_area=5g&focus_area=cloud-computing&institution=ecnu")
    assert result_slugs(narrowed) == ["ecnu-huawei-2019"]


def test_year_kind_type_and_lab_filters(client, seeds):
    assert result_slugs(search(client, "signed_from=2020&signed_to=2020")) == [
        "tju-china-telecom-huawei-2020"
    ]
    assert set(result_slugs(search(client, "signed_from=2020"))) == {
        "tju-china-telecom-huawei-2020",
        "iflytek-2021",
    }
    assert result_slugs(search(client, "type=strategic-partnership")) == ["ecnu-huawei-2019"]
    assert result_slugs(search(client, "has_lab=false")) == ["iflytek-2021"]
    assert set(result_slugs(search(client, "kind=company&has_lab=true"))) == {
        "ecnu-huawei-2019",
        "tju-china-telecom-huawei-2020",
    }


def test_two_filters_on_parties_say_each_may_be_met_by_a_different_party(client, seeds):
    note = "may be met by a different party of the same agreement"
    assert note in search(client, "kind=company&country=CN").content.decode()
    assert note in search(client, "institution=ecnu&kind=company").content.decode()
    assert note not in search(client, "kind=company&focus_area=5g").content.decode()
    assert note not in search(client, "kind=company&kind=university").content.decode()
    assert note not in search(client, "kind=company&country=").content.decode()


def test_results_sort_by_date_either_way_or_by_relevance(client, seeds):
    assert result_slugs(search(client, "sort=signed")) == [
        "ecnu-huawei-2019",
        "tju-china-telecom-huawei-2020",
        "iflytek-2021",
    ]
    assert result_slugs(search(client, "sort=-signed"))[0] == "iflytek-2021"
    # Relevance puts title matches first.
    assert result_slugs(search(client, "q=ECNU&sort=relevance"))[0] == "ecnu-huawei-2019"


@pytest.mark.parametrize("sort", ["", "-signed", "signed", "title", "relevance"])
def test_agreements_of_one_date_and_title_are_each_listed_once_in_one_order(client, sort):
    # As press releases title them: many agreements alike but for their parties.
    alike = [
        AgreementFactory(
            title="Strategic cooperation agreement",
            signed_on=datetime.date(2021, 1, 1),
            signed_on_precision="day",
            status="published",
        ).slug
        for _ in range(45)
    ]
    query = f"q=strategic&sort={sort}"

    pages = [result_slugs(search(client, f"{query}&page={n}")) for n in (1, 2, 3)]
    api = client.get(f"/api/agreements/?{query}").json()["results"]
    csv_file = client.get(f"/agreements/export.csv?{query}")
    download = list(csv.reader(io.StringIO(b"".join(csv_file.streaming_content).decode())))

    # Ties are broken by key: the newest first, unless the order asked for is ascending.
    expected = alike if sort in ("signed", "title") else alike[::-1]
    assert sum(pages, []) == expected
    assert [record["key"] for record in api] == expected
    assert [row[0] for row in download[1:]] == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("signed_from=abc", "Signed from (year)"),
        ("signed_to=99999", "Signed to (year)"),
        ("institution=no-such-place", "Institution"),
        ("has_lab=maybe", "Has a joint lab"),
        ("sort=sideways", "Sort"),
        ("page=zz", "There is no page zz"),
        ("page=999", "There is no page 999"),
        ("page=%C2%B2", "There is no page ²"),  # a digit to str.isdigit(), not to int()
    ],
)
def test_invalid_parameters_give_a_clear_message(client, seeds, query, message):
    response = search(client, query)
    assert message in response.content.decode()
    assert 'class="messages"' in response.content.decode()


def test_a_span_of_years_that_ends_before_it_starts_is_refused_naming_its_end(client, seeds):
    # It found nothing, without a word.
    response = search(client, "signed_from=2020&signed_to=2019")
    assert "The span ends before it starts (2020)" in response.content.decode()
    # Searched without the end, as with any value the page cannot read.
    assert set(result_slugs(response)) == set(result_slugs(search(client, "signed_from=2020")))
    assert result_slugs(response)
    for address in ["/agreements/export.csv", "/agreements/feed.atom"]:
        refused = client.get(f"{address}?signed_from=2020&signed_to=2019")
        assert refused.status_code == 400
        assert "signed_to: The span ends before it starts" in refused.content.decode()
    api = client.get("/api/agreements/?signed_from=2020&signed_to=2019")
    assert api.status_code == 400 and "signed_to" in api.json()["errors"]
    assert search(client, "signed_from=2020&signed_to=2020").context["page"].paginator.count


def test_the_last_year_there_is_may_end_a_span(client, seeds):
    for address in ["/agreements/", "/agreements/export.csv", "/api/agreements/"]:
        assert client.get(f"{address}?signed_from=2019&signed_to=9999").status_code == 200


def test_the_year_facet_s_link_finds_an_agreement_of_any_year_a_date_may_have(client, seeds):
    # A date of year 219 (a typo of 2019, as imported) is offered by the facet: its link
    # was refused (years from 1000), on the page, in the API and in a download.
    typo = AgreementFactory(
        status="published", signed_on=datetime.date(219, 1, 1), signed_on_precision="year"
    )
    PartyFactory(agreement=typo)
    page = search(client, "").content.decode()
    assert 'href="?signed_from=219&amp;signed_to=219"' in page
    assert result_slugs(search(client, "signed_from=219&signed_to=219")) == [typo.slug]
    for address in ["/agreements/export.csv", "/api/agreements/"]:
        assert client.get(f"{address}?signed_from=1&signed_to=219").status_code == 200
    assert client.get("/api/agreements/?signed_from=0").status_code == 400


def test_an_institution_known_only_from_drafts_is_as_unknown_as_a_misspelt_one(client, seeds):
    secret = AgreementFactory(status="draft").parties.create(
        institution=Institution.objects.create(
            name="Zqdraft Secretcorp", slug="zqdraft", kind="company"
        )
    )
    assert secret.agreement.status == "draft"

    unknown, draft_only = (
        search(client, "institution=nowhere"),
        search(client, "institution=zqdraft"),
    )

    assert "Zqdraft" not in draft_only.content.decode()
    assert "Select a valid choice" in draft_only.content.decode()
    assert result_slugs(draft_only) == result_slugs(unknown)
    api = [client.get(f"/api/agreements/?institution={slug}") for slug in ("nowhere", "zqdraft")]
    assert [response.status_code for response in api] == [400, 400]


def test_a_technology_known_only_from_drafts_is_as_unknown_as_a_misspelt_one(client, seeds):
    AgreementFactory(status="draft").focus_areas.add(FocusAreaFactory(slug="zqdraft-tech"))
    lab_only = FocusAreaFactory(slug="lab-tech")
    LabAgreementFactory(agreement=AgreementFactory(status="published")).lab.focus_areas.add(
        lab_only
    )
    # A lab only a draft names is not public, nor are its technologies.
    LabAgreementFactory(agreement=AgreementFactory(status="draft")).lab.focus_areas.add(
        FocusAreaFactory(slug="zqdraft-lab-tech")
    )

    for slug, known in [
        ("nowhere", False),
        ("zqdraft-tech", False),
        ("zqdraft-lab-tech", False),
        ("lab-tech", True),
    ]:
        page = search(client, f"focus_area={slug}")
        assert ("Select a valid choice" in page.content.decode()) is not known
        api = client.get(f"/api/agreements/?focus_area={slug}")
        download = client.get(f"/agreements/export.csv?focus_area={slug}")
        assert api.status_code == download.status_code == (200 if known else 400)


def test_one_value_it_cannot_read_leaves_the_others_of_its_filter(client, seeds):
    """An old link naming an institution no longer public keeps the one still public: its
    results, and its downloads, are that institution's, not every agreement's."""
    page = search(client, "institution=huawei&institution=nowhere")

    html = page.content.decode()
    assert "nowhere is not one of the available choices" in html
    huawei = search(client, "institution=huawei")
    assert result_slugs(page) == result_slugs(huawei)
    downloads = [link for link in re.findall(r'href="([^"]*export[^"]*)"', html)]
    assert downloads and all(
        "institution=huawei" in link and "nowhere" not in link for link in downloads
    )


@pytest.mark.parametrize("query", ["kind=", "institution=&focus_area=", "q=%20%20"])
def test_an_empty_value_asks_for_nothing(client, seeds, query):
    page = search(client, query)
    assert "Select a valid choice" not in page.content.decode()
    assert result_slugs(page) == result_slugs(search(client, ""))
    assert client.get(f"/agreements/export.csv?{query}").status_code == 200


@pytest.mark.parametrize("download", ["export.csv", "export.xlsx", "export.jsonl"])
def test_a_download_with_a_parameter_it_cannot_read_says_so_rather_than_give_everything(
    client, seeds, download
):
    response = client.get(f"/agreements/{download}?institution=huawie&signed_from=20x")

    assert response.status_code == 400
    problems = response.content.decode()
    assert problems.startswith("institution: Select a valid choice.")
    assert "signed_from: Enter a whole number." in problems


def test_the_page_links_only_what_the_search_could_read(client, seeds):
    html = search(client, "q=Huawei&institution=nowhere&sort=sideways").content.decode()

    assert "Select a valid choice" in html  # said once, here
    links = re.findall(r'href="([^"]*\?[^"]*)"', html)
    downloads = [link for link in links if "export" in link]
    assert len(downloads) == 3 and all("q=Huawei" in link for link in downloads)
    assert not [link for link in links if "nowhere" in link or "sideways" in link]
    for link in downloads:
        assert client.get(link.replace("&amp;", "&")).status_code == 200


def test_a_near_miss_offers_the_right_spelling(client, seeds):
    response = search(client, "q=Huawai")
    assert result_slugs(response) == []
    assert "Did you mean" in response.content.decode()
    assert ">Huawei</a>" in response.content.decode()
    # Only the words change: the other filters and the sort are kept.
    response = search(client, "q=Huawai&kind=university&sort=title&page=1")
    assert '<a href="?q=Huawei&amp;kind=university&amp;sort=title">Huawei</a>' in response.text


def test_a_search_that_finds_something_offers_no_other_spelling(client, seeds):
    # "Huawe" is no word the registry knows, but is found inside "Huawei".
    response = search(client, "q=Huawe")
    assert result_slugs(response)
    assert "Did you mean" not in response.content.decode()


def test_suggestions_never_come_from_drafts(client, seeds):
    response = search(client, f"q={DRAFT_TOKEN[:-1]}x")
    assert DRAFT_TOKEN not in response.content.decode()


def test_csv_download_has_exactly_the_rows_shown(client, seeds):
    shown = result_slugs(search(client, "q=Huawei&focus_area=5g"))
    response = client.get("/agreements/export.csv?q=Huawei&focus_area=5g")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["key"] for row in rows] == shown
    assert rows[0]["parties"] == "Tianjin University; China Telecom; Huawei Technologies"


def test_xlsx_download_has_exactly_the_rows_shown(client, seeds):
    shown = result_slugs(search(client, "q=huawei"))
    response = client.get("/agreements/export.xlsx?q=huawei")
    sheet = load_workbook(io.BytesIO(response.content)).active
    keys = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert keys == shown


def download_rows(client, query):
    """The CSV's and the XLSX's rows, header first, for the same search."""
    body = b"".join(client.get(f"/agreements/export.csv?{query}").streaming_content).decode()
    workbook = load_workbook(io.BytesIO(client.get(f"/agreements/export.xlsx?{query}").content))
    return list(csv.reader(io.StringIO(body))), list(workbook.active.values)


def test_downloads_give_the_summary_and_the_term_as_stored(client):
    """The page shows them and the JSON Lines carry them: the CSV and XLSX did not. Dates at
    their precision, as signed_on; the summary whole, line breaks and all."""
    termed = AgreementFactory(
        slug="termed",
        title="Orrery accord",
        status="published",
        signed_on=datetime.date(2019, 7, 3),
        signed_on_precision="day",
        place="Tianjin",
        starts_on=datetime.date(2019, 7, 1),
        starts_on_precision="month",
        ends_on=datetime.date(2024, 1, 1),
        ends_on_precision="year",
        term_years=5,
        summary='Joint research.\nA lab, "Orrery", in 2020;\r\nfive years.',
    )
    PartyFactory(agreement=termed, institution__name="Orrery University")
    PartyFactory(agreement=AgreementFactory(slug="untermed", title="Orrery", status="published"))
    header = [
        *("key", "title", "type", "signed_on", "place"),
        *("term_starts_on", "term_ends_on", "term_years"),
        *("parties", "units", "signatories", "witnesses", "focus_areas", "labs", "sources"),
        *("summary", "url"),
    ]

    csv_rows, xlsx_rows = download_rows(client, "q=orrery&sort=title")

    assert csv_rows[0] == header and list(xlsx_rows[0]) == header
    # "Orrery" before "Orrery accord".
    (csv_untermed, csv_termed), (xlsx_untermed, xlsx_termed) = csv_rows[1:], xlsx_rows[1:]
    term = slice(header.index("term_starts_on"), header.index("term_years") + 1)
    summary = header.index("summary")
    assert csv_termed[term] == ["2019-07", "2024", "5"]
    assert csv_termed[summary] == termed.summary
    assert csv_termed[header.index("parties")] == "Orrery University"
    assert csv_termed[-1] == "http://testserver/agreements/termed/"
    assert csv_untermed[0] == "untermed"
    assert csv_untermed[term] == ["", "", ""] and csv_untermed[summary] == ""
    # A number of years is a number in the workbook; the dates are text, as signed_on.
    assert list(xlsx_termed[term]) == ["2019-07", "2024", 5]
    assert xlsx_termed[summary] == termed.summary
    assert list(xlsx_untermed[term]) == [None, None, None] and xlsx_untermed[summary] is None


def test_a_summary_longer_than_a_spreadsheet_cell_is_cut_in_the_xlsx_only(client):
    """A summary has no limit, and Excel holds 32,767 UTF-16 code units in a cell (a character
    beyond the Basic Multilingual Plane is two): the workbook stays valid, the CSV whole."""
    rare = "\U00020000"  # 𠀀, CJK Extension B: two UTF-16 code units
    summary = "Research." + rare * 20000
    long = AgreementFactory(title="Prolix accord", status="published", summary=summary)
    PartyFactory(agreement=long)

    (header, csv_row), (_header, xlsx_row) = download_rows(client, "q=prolix")

    at = header.index("summary")
    assert csv_row[at] == summary
    cut = xlsx_row[at]
    # 9 characters, then as many whole pairs as fit before the "…": no half of one.
    assert cut == summary[:9] + rare * 16378 + "…"
    assert len(cut.encode("utf-16-le")) // 2 == 32766
    assert list(xlsx_row[at + 1 :]) == csv_row[at + 1 :]
    assert exports.xlsx_cell("x" * 32767) == "x" * 32767
    assert exports.xlsx_cell("x" * 32768) == "x" * 32766 + "…"


@pytest.mark.parametrize(
    "cells",
    [
        ["plain", "", "two words", "华为; 中国电信", "'=1+1"],
        ["a, b", 'say "hi"', '"', "line\nbreak", "cr\rhere", "crlf\r\nhere", " spaced "],
        ["", ""],
        ["semi;colon", "tab\there", "x" * 5000],
    ],
)
def test_csv_lines_are_as_the_csv_module_writes_them(cells):
    """Written by hand for speed (exports.csv_line): the same text as csv.writer's."""
    written = io.StringIO()
    csv.writer(written).writerow(cells)
    assert exports.csv_line(cells) == written.getvalue()
    assert next(csv.reader(io.StringIO(exports.csv_line(cells)))) == cells


def test_downloads_neutralise_formulas(client, seeds):
    evil = AgreementFactory(title='=HYPERLINK("http://evil")', status="published")
    PartyFactory(agreement=evil)
    body = b"".join(client.get("/agreements/export.csv").streaming_content).decode()
    assert "'=HYPERLINK" in body
    sheet = load_workbook(io.BytesIO(client.get("/agreements/export.xlsx").content)).active
    titles = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://evil")' in titles


def test_a_draft_is_in_no_search_result_facet_or_download(client, seeds):
    # Searching for a prefix of the token finds the draft if anything leaks, without the
    # page echoing the whole token back.
    for query in [
        "",
        "q=Huawei",
        "q=5G",
        f"q={DRAFT_TOKEN[:-3]}",
        "focus_area=5g",
        "institution=huawei",
        "signed_from=2018&signed_to=2018",
    ]:
        page = search(client, query).content.decode()
        assert DRAFT_TOKEN not in page and DRAFT_TOKEN.lower() not in page, query
        csv_body = b"".join(client.get(f"/agreements/export.csv?{query}").streaming_content)
        assert DRAFT_TOKEN.encode() not in csv_body
        assert DRAFT_TOKEN.lower().encode() not in csv_body
    # The draft is Huawei's and on 5G, and signed in 2018: no count includes it.
    page = search(client, "").content.decode()
    assert "2018" not in page
    assert re.search(r"<span>5G</span> <span class=\"count\">1</span>", page)


def test_search_page_uses_a_fixed_number_of_queries(client, seeds, django_assert_num_queries):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            search(client, "q=Huawei&kind=company")
            search(client, "")
        return len(captured)

    before = count_queries()
    area = FocusAreaFactory()
    for _ in range(15):
        agreement = AgreementFactory(status="published", title="Huawei again")
        PartyFactory(agreement=agreement, institution__kind="company")
        PartyFactory(agreement=agreement)
        agreement.focus_areas.add(area)
    assert count_queries() == before


def test_relevance_ranks_each_level_and_counts_only_published(client):
    # Scores 7 (both terms in the title), 4 (one in the title, one in the summary), 1 (the
    # summary alone; the title holds the other term nowhere): every level in its place, and
    # a draft matching everything counted and shown nowhere.
    low = AgreementFactory(
        status="published", title="Plain accord", summary="Orbital lattice, orbital"
    )
    mid = AgreementFactory(status="published", title="Orbital accord", summary="lattice")
    top = AgreementFactory(status="published", title="Orbital lattice", summary="")
    AgreementFactory(status="draft", title="Orbital lattice draft", summary="orbital lattice")
    for agreement in (low, mid, top):
        PartyFactory(agreement=agreement)
    response = search(client, "q=orbital+lattice")
    assert result_slugs(response) == [top.slug, mid.slug, low.slug]
    assert response.context["page"].paginator.count == 3
    assert "Orbital lattice draft" not in response.content.decode()


def test_suggestions_come_from_the_aliases_of_public_names_only(client, seeds):
    ecnu, secret = Institution.objects.get(slug="ecnu"), Institution.objects.get(slug="secret")
    InstitutionAlias.objects.create(institution=ecnu, name="Huadong")
    InstitutionAlias.objects.create(institution=secret, name="Brambleworth")
    secret_person = Person.objects.get(name=f"{DRAFT_TOKEN} Person")
    PersonAlias.objects.create(person=secret_person, name="Quillfeather")
    assert ">Huadong</a>" in search(client, "q=Huadonk").content.decode()
    for misspelt in ("Brambleworht", "Quilfeather", f"{DRAFT_TOKEN[:-1]}x"):
        page = search(client, f"q={misspelt}").content.decode()
        assert "Did you mean" not in page, misspelt


def test_suggestions_come_from_every_public_name_the_search_matches(client, seeds):
    """An organisation someone acted for (no party) and a lab: public, and searched."""
    city = InstitutionFactory(name="Quanzhou Municipal Government", kind="government")
    ParticipationFactory(agreement=Agreement.objects.get(slug="iflytek-2021"), organisation=city)
    LabAgreementFactory(
        lab__name="Heliotrope Laboratory", agreement=Agreement.objects.get(slug="iflytek-2021")
    )
    hidden = InstitutionFactory(name="Vermilion Bureau", kind="government")
    ParticipationFactory(agreement=seeds["draft"], organisation=hidden)
    assert ">Quanzhou</a>" in search(client, "q=Quanzhuo").text
    assert ">Heliotrope</a>" in search(client, "q=Heliotorpe").text
    assert "Did you mean" not in search(client, "q=Vermilian").text


def test_the_form_asks_for_a_span_of_years_and_shows_the_one_asked(client, seeds):
    """ "Since 2019" is one search, not one per year from the year facet."""
    page = search(client, "q=Huawei&signed_from=2020&kind=company")
    html = page.content.decode()
    start = html.index('<form id="search-form"')
    form = html[start : html.index("</form>", start)]
    assert 'name="signed_from" value="2020"' in form and 'name="signed_to" value=""' in form
    assert form.count('name="signed_from"') == 1  # not kept a second time, hidden
    assert 'type="hidden" name="kind" value="company"' in form
    assert result_slugs(page) == ["tju-china-telecom-huawei-2020"]


@pytest.mark.parametrize("download", ["export.csv", "export.xlsx", "export.jsonl"])
def test_a_download_is_named_by_what_the_search_asked(client, seeds, download):
    extension = download.split(".")[1]
    everything = client.get(f"/agreements/{download}")
    assert everything["Content-Disposition"] == f'attachment; filename="agreements.{extension}"'

    asked = client.get(
        f"/agreements/{download}?institution=huawei&focus_area=5g&signed_from=2019&has_lab=true"
        "&sort=title"
    )
    assert asked["Content-Disposition"] == (
        f'attachment; filename="agreements-huawei-5g-2019-with-lab.{extension}"'
    )
    chinese = client.get(f"/agreements/{download}?q=华为")
    assert chinese["Content-Disposition"] == (
        f"attachment; filename*=utf-8''agreements-%E5%8D%8E%E4%B8%BA.{extension}"
    )
