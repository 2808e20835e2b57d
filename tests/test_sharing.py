"""What the public pages tell search engines and the sites their addresses are shared on: a
canonical address, a description, Open Graph and Twitter card tags, and schema.org data
(registry/sharing.py) — absolute, escaped, and never of anything unpublished."""

import html as html_module
import json
import re

import pytest
from django.urls import reverse

from backoffice.merging import merge_institutions, merge_people
from registry.images import process_image
from registry.models import InstitutionKind
from registry.sharing import trimmed
from tests import test_pages
from tests.factories import (
    AgreementFactory,
    InstitutionAliasFactory,
    InstitutionFactory,
    ParticipationFactory,
    PartyFactory,
    PersonFactory,
    PhotoFactory,
    UserFactory,
    logged_in,
)
from tests.test_pages import DRAFT, public_urls
from tests.test_uploads import image_bytes, upload

pytestmark = pytest.mark.django_db
data = test_pages.data  # the fixture: the seed articles' records and a draft touching them

SCRIPT = "</script><script>alert(1)</script>"
TAG = re.compile(r'<(?:meta|link) (?:property|name|rel)="([^"]+)" (?:content|href)="([^"]*)">')
STRUCTURED = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def head(client, url, **headers):
    """{name: [value, ...]} of the page's canonical link and meta tags, unescaped."""
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    page = response.content.decode().split("</head>", 1)[0]
    tags = {}
    for name, value in TAG.findall(page):
        tags.setdefault(name, []).append(html_module.unescape(value))
    return tags


def one(tags, name):
    assert len(tags.get(name, [])) == 1, (name, tags.get(name))
    return tags[name][0]


def structured(client, url):
    found = STRUCTURED.findall(client.get(url).content.decode())
    return [json.loads(text) for text in found]


def published(**kwargs):
    return AgreementFactory(status="published", **kwargs)


def photo_of(agreement, **kwargs):
    processed = process_image(upload("ceremony.png", image_bytes()))
    return PhotoFactory(
        agreement=agreement, image=processed.image, thumbnail=processed.thumbnail, **kwargs
    )


# Every public page


def test_every_public_page_names_its_absolute_canonical_address_and_its_card(client, data):
    for url in public_urls(data):
        if "feed.atom" in url:
            continue  # a feed, not a page
        tags = head(client, url)
        canonical = one(tags, "canonical")
        assert canonical.startswith("http://testserver/"), url
        assert one(tags, "og:url") == canonical, url
        assert one(tags, "og:site_name") == "Partnership Registry"
        assert one(tags, "og:title"), url
        assert one(tags, "og:type") in ("website", "article", "profile"), url
        assert one(tags, "og:description") == one(tags, "description"), url
        assert len(one(tags, "description")) <= 160, url
        assert one(tags, "og:locale") == "en_GB"
        assert one(tags, "og:locale:alternate") == "zh_CN"
        assert one(tags, "twitter:card") in ("summary", "summary_large_image"), url


def test_a_records_canonical_address_is_its_own_whatever_it_was_asked_with(client, data):
    for record in (data.ecnu_2019, data.huawei, data.sun, data.g5, data.smart_city):
        url = record.get_absolute_url()
        tags = head(client, f"{url}?utm_source=newsletter&page=3")
        assert one(tags, "canonical") == f"http://testserver{url}"


def test_the_merged_away_address_leads_to_the_survivors_canonical_address(client, data, editor):
    copy = InstitutionFactory(name="Huawei Tech Co", slug="huawei-tech-co", kind="company")
    PartyFactory(agreement=published(), institution=copy)
    person_copy = PersonFactory(name="Bo Peng", slug="bo-peng")
    ParticipationFactory(agreement=published(), person=person_copy)
    merge_institutions(survivor=data.huawei, duplicate=copy, by=editor)
    merge_people(survivor=data.peng, duplicate=person_copy, by=editor)

    for old, survivor in (("/institutions/huawei-tech-co/", data.huawei),
                          ("/people/bo-peng/", data.peng)):  # fmt: skip
        response = client.get(old, follow=True)
        assert response.redirect_chain == [(survivor.get_absolute_url(), 301)]
        canonical = re.search(r'<link rel="canonical" href="([^"]+)">', response.content.decode())
        assert canonical[1] == f"http://testserver{survivor.get_absolute_url()}"


def test_addresses_are_absolute_by_the_allowed_host_and_the_proxys_scheme(client, data, settings):
    settings.ALLOWED_HOSTS = ["registry.example.org"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = data.ecnu.get_absolute_url()

    tags = head(client, url, HTTP_HOST="registry.example.org", HTTP_X_FORWARDED_PROTO="https")

    assert one(tags, "canonical") == f"https://registry.example.org{url}"
    assert client.get(url, HTTP_HOST="elsewhere.example.com").status_code == 400


# Lists and the search: only the parameters that choose what is shown


@pytest.mark.parametrize(
    ("asked", "canonical"),
    [
        ("", "/agreements/"),
        ("?page=1&sort=-signed&q=&kind=", "/agreements/"),
        (
            "?sort=title&kind=company&institution=huawei&institution=ecnu&q=huawei&utm_source=x",
            "/agreements/?q=huawei&institution=ecnu&institution=huawei&kind=company&sort=title",
        ),
        ("?q=huawei&sort=relevance", "/agreements/?q=huawei"),
        ("?q=huawei&sort=-signed", "/agreements/?q=huawei&sort=-signed"),
        ("?sort=relevance", "/agreements/"),  # without words, newest first as by default
        ("?focus_area=5g&focus_area=5g&page=99", "/agreements/?focus_area=5g"),  # no page 99
        ("?kind=nonsense&country=CN", "/agreements/?country=CN"),  # what it could not read
    ],
)
def test_a_searchs_canonical_address_has_its_parameters_in_a_stable_order(
    client, data, asked, canonical
):
    assert one(head(client, f"/agreements/{asked}"), "canonical") == f"http://testserver{canonical}"


def test_a_page_past_the_first_keeps_its_number(client, db):
    for n in range(21):  # a search's page holds 20
        published(title=f"Agreement {n}")
    tags = head(client, "/agreements/?page=2&sort=-signed")
    assert one(tags, "canonical") == "http://testserver/agreements/?page=2"


def test_a_person_s_second_page_of_roles_keeps_its_number(client, db):
    person = PersonFactory()
    for _n in range(test_pages.pages.ROLES_PER_PAGE + 1):
        agreement = published()
        ParticipationFactory(person=person, agreement=agreement, role="witness")
        ParticipationFactory(person=person, agreement=agreement, role="attendee")
    url = person.get_absolute_url()
    tags = head(client, f"{url}?page=2")
    assert one(tags, "canonical") == f"http://testserver{url}?page=2"
    # Two roles in each agreement: it counts the agreements, not the roles the pages list.
    assert f"in {test_pages.pages.ROLES_PER_PAGE + 1} published" in one(tags, "description")


def test_a_lists_canonical_address_keeps_its_filter_and_not_an_unknown_one(client, data):
    for asked, canonical in [
        ("/institutions/?kind=company&page=1", "/institutions/?kind=company"),
        ("/institutions/?kind=nonsense", "/institutions/"),
        ("/labs/?status=established&x=1", "/labs/?status=established"),
        ("/technologies/?page=2", "/technologies/"),
        (f"{reverse('agreements:institution-people', args=['ecnu'])}?page=1",
         reverse("agreements:institution-people", args=["ecnu"])),
        ("/?utm_source=x", "/"),
    ]:  # fmt: skip
        assert one(head(client, asked), "canonical") == f"http://testserver{canonical}", asked
    tags = head(client, "/institutions/?kind=company")
    assert one(tags, "og:title") == "Institutions: company"


# Descriptions


def test_an_agreements_description_says_its_type_date_parties_and_summary(client, data):
    tags = head(client, data.tju_2020.get_absolute_url())
    assert one(tags, "description") == (
        "Cooperation agreement signed 24 September 2020 by Tianjin University, China Telecom,"
        " Huawei Technologies."
    )
    assert one(tags, "og:type") == "article"


def test_a_long_summary_is_cut_at_a_word(client, data):
    data.ecnu_2022.summary = "Joint research " * 30
    data.ecnu_2022.save()
    description = one(head(client, data.ecnu_2022.get_absolute_url()), "description")
    assert description.startswith(
        "Cooperation agreement signed 10 May 2022 by East China Normal University, Huawei"
        " Technologies. Joint research Joint research"
    )
    assert description.endswith(" Joint research…") or description.endswith(" Joint…")
    assert len(description) <= 160


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short", "short"),
        ("  two\n\n lines ", "two lines"),
        ("word " * 40, ("word " * 32).strip() + "…"),  # 160 with the ellipsis
        ("x" * 200, "x" * 159 + "…"),
        ("a, " + "b" * 157 + " c", "a…"),
    ],
)
def test_trimmed_cuts_at_the_last_word_within_the_limit(text, expected):
    assert trimmed(text) == expected
    assert len(trimmed(text)) <= 160


def test_an_institutions_description_says_its_kind_country_and_published_agreements(client, data):
    data.huawei.country = "CN"
    data.huawei.save()
    # Four agreements name Huawei: the draft is not counted.
    assert one(head(client, data.huawei.get_absolute_url()), "description") == (
        "Huawei Technologies, company in China: 3 published partnership agreements, its"
        " partners, people and joint labs."
    )
    data.ecnu.country = ""
    data.ecnu.save()
    assert one(head(client, data.ecnu.get_absolute_url()), "description") == (
        "East China Normal University, university: 2 published partnership agreements, its"
        " partners, people and joint labs."
    )


def test_the_description_is_in_the_visitors_language(client, data):
    tags = head(client, data.sun.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert one(tags, "description").startswith("Sun Zhenrong参与的 2 项已发布合作协议")
    assert one(tags, "og:locale") == "zh_CN"
    assert one(tags, "og:locale:alternate") == "en_GB"
    assert one(tags, "og:site_name") == "合作协议登记库"


# Images: only files the public may fetch


def test_a_published_agreements_photo_is_its_image_which_anyone_may_fetch(client, data):
    photo = photo_of(data.tju_2020, caption="Signing in Tianjin")
    tags = head(client, data.tju_2020.get_absolute_url())
    assert one(tags, "og:image") == f"http://testserver{photo.image.url}"
    assert one(tags, "og:image:alt") == "Signing in Tianjin"
    assert one(tags, "twitter:card") == "summary_large_image"
    assert client.get(photo.image.url).status_code == 200


def test_a_photo_without_a_file_here_is_no_image(client, data):
    # The 2019 agreement's photo is known from a source only.
    tags = head(client, data.ecnu_2019.get_absolute_url())
    assert "og:image" not in tags and one(tags, "twitter:card") == "summary"


def test_an_institutions_logo_is_its_image(client, data):
    processed = process_image(upload("logo.png", image_bytes()))
    data.ecnu.logo = processed.image
    data.ecnu.save()
    tags = head(client, data.ecnu.get_absolute_url())
    assert one(tags, "og:image") == f"http://testserver{data.ecnu.logo.url}"
    assert client.get(data.ecnu.logo.url).status_code == 200
    (organization,) = structured(client, data.ecnu.get_absolute_url())
    assert organization["logo"] == f"http://testserver{data.ecnu.logo.url}"


def test_a_staff_preview_of_a_draft_tells_search_engines_and_cards_nothing(data):
    staff = logged_in(UserFactory(group="Editors"))
    photo_of(data.draft)
    response = staff.get(data.draft.get_absolute_url())
    assert response.status_code == 200 and response.context["preview"]
    page = response.content.decode().split("</head>", 1)[0]
    assert 'rel="canonical"' not in page and "og:" not in page and "ld+json" not in page
    description = re.search(r'<meta name="description" content="([^"]*)">', page)[1]
    assert DRAFT not in description  # the site's, whoever sees the preview
    assert '<meta name="robots" content="noindex">' in page


# schema.org


def test_an_institution_is_an_organization_of_its_kind(client, data):
    data.tju.ror = "012tb2g32"
    data.tju.wikidata = "Q1190627"
    data.tju.website = "https://www.tju.edu.cn/"
    data.tju.country = "CN"
    data.tju.save()
    InstitutionAliasFactory(institution=data.tju, name="Peiyang University")

    (university,) = structured(client, data.tju.get_absolute_url())
    assert university == {
        "@context": "https://schema.org",
        "@type": "CollegeOrUniversity",
        "name": "Tianjin University",
        "alternateName": ["天津大学", "TJU", "Peiyang University"],
        "url": "http://testserver/institutions/tju/",
        "sameAs": [
            "https://www.tju.edu.cn/",
            "https://ror.org/012tb2g32",
            "https://www.wikidata.org/wiki/Q1190627",
        ],
        "address": {"@type": "PostalAddress", "addressCountry": "CN"},
    }
    (college,) = structured(client, data.college.get_absolute_url())
    assert college["parentOrganization"] == {
        "@type": "CollegeOrUniversity",
        "name": "Tianjin University",
        "url": "http://testserver/institutions/tju/",
    }
    assert structured(client, data.huawei.get_absolute_url())[0]["@type"] == "Corporation"
    assert (
        structured(client, data.tianjin.get_absolute_url())[0]["@type"] == "GovernmentOrganization"
    )


def test_a_person_is_a_person_with_their_names(client, data):
    assert structured(client, data.sun.get_absolute_url()) == [
        {
            "@context": "https://schema.org",
            "@type": "Person",
            "name": "Sun Zhenrong",
            "alternateName": ["孙真荣", "Zhenrong Sun"],
            "url": "http://testserver/people/sun-zhenrong/",
        }
    ]


def test_agreements_labs_and_lists_have_no_schema_org_data(client, data):
    for url in (data.ecnu_2019.get_absolute_url(), data.smart_city.get_absolute_url(), "/",
                "/agreements/", data.g5.get_absolute_url()):  # fmt: skip
        assert structured(client, url) == [], url


def test_a_name_cannot_end_the_script_or_a_tag(client, db):
    institution = InstitutionFactory(
        name=f'Evil "Corp" {SCRIPT}', slug="evil", kind=InstitutionKind.COMPANY
    )
    person = PersonFactory(name=f"Mallory {SCRIPT}", slug="mallory")
    agreement = published(title=f"Deal {SCRIPT}", summary=f"Summary {SCRIPT} & more")
    party = PartyFactory(agreement=agreement, institution=institution)
    ParticipationFactory(agreement=agreement, person=person, party=party, role="signatory")

    for url, name in ((institution.get_absolute_url(), institution.name),
                      (person.get_absolute_url(), person.name),
                      (agreement.get_absolute_url(), agreement.title)):  # fmt: skip
        page = client.get(url).content.decode()
        assert "<script>alert(1)" not in page, url
        assert page.count("</script>") == page.count("<script"), url
        tags = head(client, url)
        assert SCRIPT in one(tags, "og:title") and one(tags, "og:title") == name
        assert SCRIPT in one(tags, "description"), url
    (organization,) = structured(client, institution.get_absolute_url())
    assert organization["name"] == institution.name
    assert "\\u003C/script\\u003E" in client.get(institution.get_absolute_url()).content.decode()
    assert structured(client, person.get_absolute_url())[0]["name"] == person.name


def test_sharing_adds_no_query(client, data, django_assert_max_num_queries):
    # The budgets of test_pages.test_query_budget hold; here, that a logo and a photo cost none.
    photo_of(data.tju_2020)
    data.tju.logo = process_image(upload("logo.png", image_bytes())).image
    data.tju.save()
    for url, budget in ((data.tju_2020.get_absolute_url(), 9), (data.tju.get_absolute_url(), 18)):
        with django_assert_max_num_queries(budget):
            assert "og:image" in client.get(url).content.decode()
