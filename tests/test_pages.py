"""The public pages of single records, the lists and the home page: what each shows, that
nothing unpublished reaches any of them, and that each runs a fixed number of queries."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.views import defaults

from agreements import pages
from agreements.models import Agreement, Party
from agreements.templatetags.public_pages import native
from labs.models import Lab, LabAgreement
from people.models import Person
from registry.images import process_image
from registry.models import FocusAreaGroup, InstitutionKind
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
    PhotoFactory,
    RelationFactory,
    SourceFactory,
    UserFactory,
)
from tests.test_uploads import image_bytes

pytestmark = pytest.mark.django_db

DRAFT = "ZZDRAFT"  # every record reachable only through the draft carries this in its name
STRUCTURED_DATA = re.compile(r'<script type="application/ld\+json">.*?</script>', re.DOTALL)


def published(**kwargs):
    return AgreementFactory(status="published", **kwargs)


def signed(year, month=1, day=1, precision="day"):
    return {"signed_on": datetime.date(year, month, day), "signed_on_precision": precision}


@pytest.fixture
def data():
    """The two seed articles, as the registry holds them, plus a follow-up agreement and a
    draft that touches public records and brings records of its own."""
    d = SimpleNamespace()
    company, government = InstitutionKind.COMPANY, InstitutionKind.GOVERNMENT
    d.ecnu = InstitutionFactory(
        name="East China Normal University", native_name="华东师范大学", acronym="ECNU",
        slug="ecnu", city="Shanghai",
    )  # fmt: skip
    InstitutionAliasFactory(institution=d.ecnu, name="Huashi Da")
    d.huawei = InstitutionFactory(
        name="Huawei Technologies", native_name="华为", slug="huawei", kind=company
    )
    d.huawei_sh = InstitutionFactory(
        name="Huawei Shanghai", slug="huawei-shanghai", kind=company, parent=d.huawei
    )
    d.huawei_bg = InstitutionFactory(
        name="Huawei Tianjin Cloud and AI BG", slug="huawei-tj-bg", kind=company, parent=d.huawei
    )
    d.tju = InstitutionFactory(
        name="Tianjin University", native_name="天津大学", acronym="TJU", slug="tju"
    )
    d.college = InstitutionFactory(
        name="College of Intelligence and Computing", slug="tju-cic", parent=d.tju
    )
    d.telecom = InstitutionFactory(
        name="China Telecom", native_name="中国电信", slug="china-telecom", kind=company
    )
    d.telecom_tj = InstitutionFactory(
        name="China Telecom Tianjin Branch", slug="china-telecom-tj", kind=company,
        parent=d.telecom,
    )  # fmt: skip
    d.tianjin = InstitutionFactory(
        name="Tianjin Municipal Government", slug="tianjin-gov", kind=government
    )
    d.unused_unit = InstitutionFactory(
        name="Tianjin University Press", slug="tju-press", parent=d.tju
    )
    d.g5 = FocusAreaFactory(name="5G", slug="5g")
    d.ai = FocusAreaFactory(name="artificial intelligence", slug="ai")
    d.cloud = FocusAreaFactory(name="cloud computing", slug="cloud-computing")

    d.sun = PersonFactory(name="Sun Zhenrong", native_name="孙真荣", slug="sun-zhenrong")
    PersonAliasFactory(person=d.sun, name="Zhenrong Sun")
    d.hao = PersonFactory(name="Hao Guoqiang", slug="hao-guoqiang")
    d.peng = PersonFactory(name="Peng Bo", slug="peng-bo")
    d.he = PersonFactory(name="He Jifeng", slug="he-jifeng")
    d.hu = PersonFactory(name="Hu Qinghua", slug="hu-qinghua")
    d.su = PersonFactory(name="Su Weifeng", slug="su-weifeng")
    d.qi = PersonFactory(name="Qi Pingchuan", slug="qi-pingchuan")
    d.zhu = PersonFactory(name="Zhu Yubing", slug="zhu-yubing")

    # ECNU and Huawei, July 2019: the day was not reported.
    d.ecnu_2019 = published(
        slug="ecnu-huawei-2019", title="ECNU and Huawei strategic partnership agreement",
        place="Bantian, Shenzhen", summary="Cooperation on research and the smart campus.",
        term_years=5, **signed(2019, 7, precision="month"),
    )  # fmt: skip
    d.ecnu_2019.focus_areas.add(d.cloud, d.ai)
    ecnu_party = PartyFactory(agreement=d.ecnu_2019, institution=d.ecnu, position=0)
    huawei_party = PartyFactory(
        agreement=d.ecnu_2019, institution=d.huawei, unit=d.huawei_sh, position=1
    )
    ParticipationFactory(
        agreement=d.ecnu_2019, person=d.sun, role="signatory", party=ecnu_party,
        title="Vice President", organisation=d.ecnu,
    )  # fmt: skip
    ParticipationFactory(
        agreement=d.ecnu_2019, person=d.hao, role="signatory", party=huawei_party,
        title="General Manager", organisation=d.huawei_sh,
    )  # fmt: skip
    ParticipationFactory(
        agreement=d.ecnu_2019, person=d.peng, role="witness",
        title="Vice President, Public and Government Affairs", organisation=d.huawei,
    )  # fmt: skip
    ParticipationFactory(
        agreement=d.ecnu_2019, person=d.he, role="attendee",
        title="Head of the School of Computer Science", organisation=d.ecnu,
    )  # fmt: skip
    d.smart_campus = LabFactory(name="Smart Campus Innovation Lab", slug="smart-campus")
    d.smart_campus.focus_areas.add(d.cloud)
    LabHostFactory(lab=d.smart_campus, institution=d.ecnu)
    LabAgreementFactory(lab=d.smart_campus, agreement=d.ecnu_2019, outcome="proposed")
    SourceFactory(
        agreement=d.ecnu_2019, title="ECNU becomes a strategic partner of Huawei",
        publisher="East China Normal University", note="Gives no day.",
    )  # fmt: skip
    PhotoFactory(agreement=d.ecnu_2019, caption="The signing ceremony.", credit="ECNU News")

    # Its follow-up, where Sun Zhenrong signs with another title.
    d.ecnu_2022 = published(
        slug="ecnu-huawei-2022", title="ECNU and Huawei agreement 2.0", **signed(2022, 5, 10)
    )
    party = PartyFactory(agreement=d.ecnu_2022, institution=d.ecnu)
    PartyFactory(agreement=d.ecnu_2022, institution=d.huawei)
    ParticipationFactory(
        agreement=d.ecnu_2022, person=d.sun, role="signatory", party=party,
        title="President", organisation=d.ecnu,
    )  # fmt: skip
    RelationFactory(source=d.ecnu_2022, target=d.ecnu_2019, type="follows")

    # Tianjin University, China Telecom and Huawei, 24 September 2020: three parties, each
    # signing through a unit; a witness from a government that is not a party.
    d.tju_2020 = published(
        slug="tju-telecom-huawei-2020", title="TJU, China Telecom and Huawei cooperation",
        **signed(2020, 9, 24),
    )  # fmt: skip
    d.tju_2020.focus_areas.add(d.g5, d.ai)
    for institution, unit, person, title in [
        (d.tju, d.college, d.hu, "Vice Dean"),
        (d.telecom, d.telecom_tj, d.su, "Deputy General Manager"),
        (d.huawei, d.huawei_bg, d.qi, "General Manager"),
    ]:
        party = PartyFactory(agreement=d.tju_2020, institution=institution, unit=unit)
        ParticipationFactory(
            agreement=d.tju_2020, person=person, role="signatory", party=party,
            title=title, organisation=unit,
        )  # fmt: skip
    ParticipationFactory(
        agreement=d.tju_2020, person=d.zhu, role="witness",
        title="Deputy Secretary General", organisation=d.tianjin,
    )  # fmt: skip
    d.smart_city = LabFactory(
        name="Joint Innovation Laboratory for Digital Government - Smart City",
        slug="smart-city-lab", status=Lab.Status.ESTABLISHED,
        established_on=datetime.date(2020, 9, 1), established_on_precision="month",
        description="Unveiled at the signing.",
    )  # fmt: skip
    d.smart_city.focus_areas.add(d.g5)
    LabHostFactory(lab=d.smart_city, institution=d.college)
    LabAgreementFactory(lab=d.smart_city, agreement=d.tju_2020, outcome="founded")

    # The draft: a party, a person, a lab and a technology known only from it, and public
    # records (Huawei, Peng Bo, 5G, the 2019 agreement) that it must not leak into.
    d.draft = AgreementFactory(
        slug="draft-deal", title=f"Secret {DRAFT}TITLE agreement",
        summary=f"{DRAFT}SUMMARY", place=f"{DRAFT}PLACE", **signed(2005, 3, 3),
    )  # fmt: skip
    d.draft_institution = InstitutionFactory(
        name=f"Hidden Institute {DRAFT}INSTITUTION", slug="hidden-institute",
        kind=InstitutionKind.RESEARCH_INSTITUTE,
    )  # fmt: skip
    d.draft_unit = InstitutionFactory(
        name=f"Hidden unit {DRAFT}UNIT", slug="hidden-unit", kind=company, parent=d.huawei
    )
    d.draft_person = PersonFactory(name=f"Hidden Person {DRAFT}PERSON", slug="hidden-person")
    d.draft_area = FocusAreaFactory(name=f"Quantum {DRAFT}AREA", slug="hidden-area")
    d.draft.focus_areas.add(d.draft_area, d.g5)
    hidden_party = PartyFactory(agreement=d.draft, institution=d.draft_institution)
    PartyFactory(agreement=d.draft, institution=d.huawei, unit=d.draft_unit)
    ParticipationFactory(
        agreement=d.draft, person=d.draft_person, role="signatory", party=hidden_party,
        title=f"{DRAFT}TITLE_HELD", organisation=d.draft_institution,
    )  # fmt: skip
    ParticipationFactory(
        agreement=d.draft, person=d.peng, role="attendee", title=f"{DRAFT}PENG_TITLE",
        organisation=d.huawei,
    )  # fmt: skip
    d.draft_lab = LabFactory(name=f"Hidden Lab {DRAFT}LAB", slug="hidden-lab")
    d.draft_lab.focus_areas.add(d.draft_area, d.g5)
    LabHostFactory(lab=d.draft_lab, institution=d.huawei)
    LabAgreementFactory(lab=d.draft_lab, agreement=d.draft, outcome="founded")
    # A public lab also touched by the draft keeps only its published agreement.
    LabAgreementFactory(lab=d.smart_city, agreement=d.draft, outcome="extended")
    SourceFactory(agreement=d.draft, title=f"{DRAFT}SOURCE")
    PhotoFactory(agreement=d.draft, caption=f"{DRAFT}PHOTO")
    RelationFactory(source=d.draft, target=d.ecnu_2019, type="supersedes")
    RelationFactory(source=d.ecnu_2022, target=d.draft, type="amends")
    return d


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def section(html, start, end=None):
    """The part of a page from the element with id `start` up to the one with id `end`."""
    part = html.split(f'id="{start}"', 1)[1]
    return part.split(f'id="{end}"', 1)[0] if end else part


def public_urls(d):
    return [
        reverse("home"),
        d.ecnu_2019.get_absolute_url(),
        d.ecnu_2022.get_absolute_url(),
        d.tju_2020.get_absolute_url(),
        reverse("agreements:institution-list"),
        *[f"{reverse('agreements:institution-list')}?kind={kind}" for kind in InstitutionKind],
        d.ecnu.get_absolute_url(),
        d.huawei.get_absolute_url(),
        d.huawei_sh.get_absolute_url(),
        d.tju.get_absolute_url(),
        people_of(d.ecnu),
        people_of(d.huawei),
        people_of(d.tju),
        d.college.get_absolute_url(),
        d.tianjin.get_absolute_url(),
        d.sun.get_absolute_url(),
        d.peng.get_absolute_url(),
        reverse("agreements:focus-area-list"),
        d.g5.get_absolute_url(),
        d.cloud.get_absolute_url(),
        reverse("labs:list"),
        d.smart_campus.get_absolute_url(),
        d.smart_city.get_absolute_url(),
        reverse("agreements:feed"),
        f"{reverse('agreements:feed')}?institution=huawei",
        f"{reverse('agreements:feed')}?focus_area=5g&q=huawei",
    ]


# The agreement page


def test_agreement_page_shows_the_agreement(client, data):
    html = get(client, data.ecnu_2019.get_absolute_url())
    assert "<title>ECNU and Huawei strategic partnership agreement · " in html
    assert (
        '<meta name="description" content="Cooperation agreement signed July 2019 by East China'
        ' Normal University, Huawei Technologies. Cooperation on research and the smart campus.">'
    ) in html
    assert "Cooperation agreement" in html
    assert "Bantian, Shenzhen" in html
    assert "5 years" in html
    assert 'href="/technologies/cloud-computing/"' in html
    assert "ECNU becomes a strategic partner of Huawei" in html
    assert "Gives no day." in html
    assert "The signing ceremony." in html and "ECNU News" in html


def test_agreement_page_shows_a_month_precision_date_without_a_day(client, data):
    html = get(client, data.ecnu_2019.get_absolute_url())
    assert '<time datetime="2019-07">July 2019</time>' in html
    assert "1 July 2019" not in html


def test_agreement_page_groups_signatories_by_the_party_they_signed_for(client, data):
    html = get(client, data.ecnu_2019.get_absolute_url())
    ecnu_card, huawei_card = section(html, "parties", "witnesses").split('class="card"')[1:]
    assert "East China Normal University" in ecnu_card and "华东师范大学" in ecnu_card
    assert "Sun Zhenrong" in ecnu_card and "Vice President" in ecnu_card
    assert "Hao Guoqiang" not in ecnu_card
    assert "Huawei Technologies" in huawei_card and "Hao Guoqiang" in huawei_card
    assert "Sun Zhenrong" not in huawei_card


def test_agreement_page_shows_the_unit_that_signed_for_each_party(client, data):
    html = get(client, data.tju_2020.get_absolute_url())
    cards = section(html, "parties", "witnesses").split('class="card"')[1:]
    assert len(cards) == 3
    for card, unit, person in zip(
        cards,
        ["College of Intelligence and Computing", "China Telecom Tianjin Branch", "Huawei Tianjin"],
        ["Hu Qinghua", "Su Weifeng", "Qi Pingchuan"],
        strict=True,
    ):
        assert "Signed by its unit" in card and unit in card and person in card


def test_agreement_page_shows_witnesses_and_attendees_with_titles_then(client, data):
    html = get(client, data.ecnu_2019.get_absolute_url())
    witnesses = section(html, "witnesses", "attendees")
    assert "Peng Bo" in witnesses and "Vice President, Public and Government Affairs" in witnesses
    attendees = section(html, "attendees", "labs")
    assert "He Jifeng" in attendees and "Head of the School of Computer Science" in attendees
    tju = get(client, data.tju_2020.get_absolute_url())
    assert "Tianjin Municipal Government" in section(tju, "witnesses")


def test_a_participant_s_unit_is_named_with_its_institution_and_not_twice(client, data):
    ParticipationFactory(
        agreement=data.tju_2020, person=PersonFactory(name="Wang Wenjun"), role="attendee",
        title="Vice Dean of the College of Intelligence and Computing", organisation=data.college,
    )  # fmt: skip
    ParticipationFactory(
        agreement=data.tju_2020, person=PersonFactory(name="Li Ming"), role="attendee",
        title="Professor", organisation=data.college,
    )  # fmt: skip

    attendees = section(get(client, data.tju_2020.get_absolute_url()), "attendees", "labs")
    words = re.sub(r"<[^>]+>", "", attendees)
    assert "Wang Wenjun, Vice Dean of the College of Intelligence and Computing, TJU" in words
    assert "Li Ming, Professor, College of Intelligence and Computing, TJU" in words
    assert data.tju.get_absolute_url() in attendees


def test_agreement_page_shows_each_lab_with_its_outcome_and_status(client, data):
    html = section(get(client, data.tju_2020.get_absolute_url()), "labs", "photos")
    assert "Joint Innovation Laboratory for Digital Government - Smart City" in html
    assert "Founded under this agreement" in html
    assert "established" in html and "September 2020" in html
    ecnu = section(get(client, data.ecnu_2019.get_absolute_url()), "labs")
    assert "Planned under this agreement" in ecnu and "proposed" in ecnu


def term(html):
    return " ".join(html.split("<dt>Term</dt>")[1].split("</dd>")[0].replace("<dd>", "").split())


def test_agreement_page_gives_a_term_in_years_alone_without_brackets(client, data):
    assert term(get(client, data.ecnu_2019.get_absolute_url())) == "5 years"


def test_agreement_page_gives_a_term_in_years_after_its_dates_at_their_precision(client, data):
    Agreement.objects.filter(pk=data.ecnu_2019.pk).update(
        starts_on=datetime.date(2019, 7, 1), starts_on_precision="month"
    )
    html = get(client, data.ecnu_2019.get_absolute_url())
    assert term(html) == 'from <time datetime="2019-07">July 2019</time> (5 years)'


def test_agreement_page_shows_relations_in_both_directions(client, data):
    earlier = section(get(client, data.ecnu_2019.get_absolute_url()), "related", "photos")
    assert "is followed by" in earlier and "ECNU and Huawei agreement 2.0" in earlier
    later = section(get(client, data.ecnu_2022.get_absolute_url()), "related")
    assert "follows" in later and "ECNU and Huawei strategic partnership agreement" in later


def test_agreement_page_says_at_its_top_that_a_published_agreement_supersedes_it(client, data):
    # The fixture's draft supersedes ecnu_2019 too: only the published one is named.
    RelationFactory(source=data.ecnu_2022, target=data.ecnu_2019, type="supersedes")

    header = get(client, data.ecnu_2019.get_absolute_url()).split('class="facts"')[0]

    notice = header.split('<p class="notice">')[1].split("</p>")[0]
    assert "This agreement has been superseded by:" in notice
    later = data.ecnu_2022
    assert f'<a href="{later.get_absolute_url()}">ECNU and Huawei agreement 2.0</a>' in notice
    assert DRAFT not in notice


def test_agreement_page_superseded_only_by_a_draft_says_nothing_of_it(client, data):
    # Guard: the notice reads the relations from published agreements alone.
    html = get(client, data.ecnu_2019.get_absolute_url())
    assert "superseded" not in html and DRAFT not in html


def test_agreement_page_shows_a_stored_photo_as_a_thumbnail_linking_to_the_image(client, data):
    photo = PhotoFactory(agreement=data.tju_2020, caption="Unveiling the lab.", credit="TJU")
    photo.image.save("ceremony.jpg", ContentFile(b"image"), save=False)
    photo.thumbnail.save("ceremony-small.jpg", ContentFile(b"thumbnail"))
    html = section(get(client, data.tju_2020.get_absolute_url()), "photos", "sources")
    assert f'<a href="{photo.image.url}"><img src="{photo.thumbnail.url}"' in html
    assert 'alt="Unveiling the lab."' in html and "Photo: TJU" in html


def test_agreement_page_says_where_to_find_a_photo_whose_file_it_does_not_hold(client, data):
    # The demo's photos, and any imported with "image_url": null, are known from their sources.
    PhotoFactory(agreement=data.tju_2020, caption="Unveiling the lab.")
    html = section(get(client, data.tju_2020.get_absolute_url()), "photos", "sources")
    assert "<img" not in html
    assert '<p class="photo-missing">Not held here: see the sources</p>' in html
    assert "<figcaption>Unveiling the lab.</figcaption>" in html
    # One whose web address is known links to it; anything else given is not a link.
    PhotoFactory(agreement=data.tju_2020, image_url="https://news.example.edu/lab.jpg")
    PhotoFactory(agreement=data.tju_2020, image_url="javascript:alert(1)")
    html = section(get(client, data.tju_2020.get_absolute_url()), "photos", "sources")
    assert (
        '<a href="https://news.example.edu/lab.jpg" rel="nofollow noopener">'
        "Not held here: see the original</a>"
    ) in html
    assert "javascript:" not in html
    assert html.count("Not held here: see the sources") == 2


def test_a_title_that_ends_in_the_organisation_shows_it_once(client, data):
    participation = data.tju_2020.participations.filter(organisation__isnull=False).first()
    name = participation.organisation.name
    participation.title = f"Vice Dean, {name}"
    participation.save()

    page = get(client, data.tju_2020.get_absolute_url())
    person = get(client, participation.person.get_absolute_url())

    assert f"Vice Dean, {name}, " not in page and f"Vice Dean, {name}," not in person
    assert f'Vice Dean, <a href="{participation.organisation.get_absolute_url()}">' in page


@pytest.mark.parametrize("status", ["draft", "review"])
def test_staff_preview_an_agreement_not_yet_public_and_no_one_else_sees_it(client, status):
    agreement = AgreementFactory(status=status, title="Zqpreview agreement")
    PartyFactory(agreement=agreement)
    address = agreement.get_absolute_url()

    assert client.get(address).status_code == 404
    client.force_login(UserFactory())  # signed in, but may not see agreements
    assert client.get(address).status_code == 404
    client.force_login(UserFactory(group="Editors"))
    preview = client.get(address)

    assert preview.status_code == 200
    html = preview.content.decode()
    label = agreement.get_status_display()
    assert f"A preview for staff: this agreement is {label}, and not public." in html
    assert '<meta name="robots" content="noindex">' in html
    assert "no-store" in preview["Cache-Control"] and "private" in preview["Cache-Control"]
    client.logout()
    assert client.get(address).status_code == 404


def test_staff_whose_staff_status_is_taken_away_no_longer_preview_drafts(client):
    agreement = AgreementFactory(title="Zqpreview agreement")
    PartyFactory(agreement=agreement)
    editor = UserFactory(group="Editors")
    client.force_login(editor)
    assert client.get(agreement.get_absolute_url()).status_code == 200

    # Still in Editors, with the session opened before: the admin signs them out, and so
    # does the preview.
    editor.is_staff = False
    editor.save()

    assert client.get(agreement.get_absolute_url()).status_code == 404
    assert client.get("/admin/").status_code == 302


def test_draft_agreement_page_is_404(client, data):
    assert client.get(data.draft.get_absolute_url()).status_code == 404


def test_withdrawn_agreement_page_is_gone_and_says_nothing_of_it(client, data):
    # 410, not 404: it was public, and search engines drop an address that is gone.
    data.tju_2020.withdraw(by=None, reason="Retracted by the source.")
    response = client.get(data.tju_2020.get_absolute_url())
    assert response.status_code == 410
    assert data.tju_2020.title not in response.text and "Retracted" not in response.text


ECNU_IN_FULL = 'East China Normal University <span class="native" lang="zh">华东师范大学</span>'


def test_every_list_of_parties_or_hosts_gives_their_native_names(client, data):
    """华东师范大学 is how a reader of the Chinese interface knows ECNU: the lists that name an
    agreement's parties or a lab's hosts give it beside the official name, as the search's
    results and the agreement's own list of parties do."""
    pages = [
        "/",
        data.huawei.get_absolute_url(),  # its agreements
        data.ecnu.get_absolute_url(),  # the labs it hosts
        data.cloud.get_absolute_url(),  # a technology's agreements and labs
        data.smart_campus.get_absolute_url(),  # a lab's agreements
    ]
    for url in pages:
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        lists = re.findall(r'<span class="record-parties">(.*)</span>', html)
        named = [names for names in lists if "East China Normal University" in names]
        assert named, url
        assert all(ECNU_IN_FULL in names for names in named), url

    labs = client.get("/labs/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ECNU_IN_FULL in labs
    agreement = get(client, data.ecnu_2019.get_absolute_url())
    assert ECNU_IN_FULL in section(agreement, "main").split('<p class="lede">')[1].split("</p>")[0]


# Institutions


def test_institution_page_shows_every_name_and_fact(client, data):
    html = get(client, data.ecnu.get_absolute_url())
    assert "<title>East China Normal University 华东师范大学 (ECNU) · " in html
    assert (
        'East China Normal University <span class="native" lang="zh">华东师范大学</span> (ECNU)'
        in html
    )
    assert "Huashi Da" in html and "Shanghai" in html and "China" in html


def test_institution_page_includes_the_agreements_of_its_units(client, data):
    response = client.get(data.huawei.get_absolute_url())
    assert [a.slug for a in response.context["agreements"]] == [
        "ecnu-huawei-2022", "tju-telecom-huawei-2020", "ecnu-huawei-2019"
    ]  # fmt: skip
    html = response.content.decode()
    assert 'href="/institutions/huawei-shanghai/"' in html  # its units
    assert 'href="/institutions/huawei-tj-bg/"' in html
    # A unit's own page has only the agreements it signed.
    unit = client.get(data.huawei_sh.get_absolute_url())
    assert [a.slug for a in unit.context["agreements"]] == ["ecnu-huawei-2019"]
    assert 'href="/institutions/huawei/"' in unit.content.decode()  # part of


def test_institution_page_lists_units_only_once_they_are_public(client, data):
    html = get(client, data.tju.get_absolute_url())
    assert "College of Intelligence and Computing" in html
    assert "Tianjin University Press" not in html
    assert client.get(data.unused_unit.get_absolute_url()).status_code == 404


def test_institution_page_lists_a_unit_that_someone_public_acted_for(client, data):
    # Neither a party nor a lab's host: known only as the organisation a person acted for.
    institute = InstitutionFactory(name="Huawei Shanghai Institute", parent=data.huawei)
    ParticipationFactory(agreement=data.ecnu_2019, organisation=institute, role="attendee")
    office = InstitutionFactory(name="Huawei Draft Office", parent=data.huawei)
    ParticipationFactory(agreement=data.draft, organisation=office, role="attendee")
    html = get(client, data.huawei.get_absolute_url())
    facts = html[html.index('<dl class="facts">') : html.index("</dl>")]
    assert institute.get_absolute_url() in facts
    assert data.huawei_sh.get_absolute_url() in facts  # a party's unit, as before
    assert "Huawei Draft Office" not in html


def test_an_institution_that_is_no_party_says_so_rather_than_0_agreements(client, data):
    institute = InstitutionFactory(name="Huawei Shanghai Institute", parent=data.huawei)
    ParticipationFactory(agreement=data.ecnu_2019, organisation=institute, role="attendee")
    agreements = section(get(client, institute.get_absolute_url()), "agreements")
    assert "Not a party to any published agreement" in agreements
    assert "0 agreements" not in agreements
    assert "1 agreement" in section(get(client, data.college.get_absolute_url()), "agreements")


def test_institution_page_lists_partners_with_shared_agreements(client, data):
    response = client.get(data.huawei.get_absolute_url())
    partners = [(p.slug, n) for p, n in response.context["partners"]]
    assert partners == [("ecnu", 2), ("china-telecom", 1), ("tju", 1)]
    # A unit's partners are the other parties, never its own parent.
    college = client.get(data.college.get_absolute_url())
    assert [p.slug for p, _ in college.context["partners"]] == ["china-telecom", "huawei"]


def test_a_units_partners_leave_out_the_institutions_above_it_that_signed_beside_it(client, data):
    # Tianjin University signs beside its college, whose lab signs for the college.
    lab = InstitutionFactory(
        name="Brain-inspired Computing Lab", slug="tju-lab", parent=data.college
    )
    both = published(title="Both levels sign", **signed(2023))
    PartyFactory(agreement=both, institution=data.tju, position=0)
    PartyFactory(agreement=both, institution=data.college, unit=lab, position=1)
    PartyFactory(agreement=both, institution=data.ecnu, position=2)

    def partners(institution):
        response = client.get(institution.get_absolute_url())
        return [p.slug for p, _ in response.context["partners"]], response.context["partner_count"]

    assert partners(data.college) == (["china-telecom", "ecnu", "huawei"], 3)
    assert partners(lab) == (["ecnu"], 1)
    assert "tju-cic" not in partners(data.tju)[0]


def people_of(institution):
    return reverse("agreements:institution-people", args=[institution.slug])


def test_institution_page_links_to_its_people_page_once_anyone_public_acted_for_it(client, data):
    people = section(get(client, data.ecnu.get_absolute_url()), "people")
    assert f'href="{people_of(data.ecnu)}"' in people
    assert "Sun Zhenrong" not in people  # on a page of their own
    lonely = InstitutionFactory(name="Lonely Institute")
    PartyFactory(agreement=published(title="Alone"), institution=lonely)
    assert 'id="people"' not in get(client, lonely.get_absolute_url())
    assert client.get(people_of(lonely)).status_code == 404


def test_institution_people_page_lists_its_people_with_titles_then(client, data):
    html = get(client, people_of(data.ecnu))
    assert "Sun Zhenrong" in html and "Vice President" in html and "President" in html
    assert "He Jifeng" in html
    tju = get(client, people_of(data.tju))
    assert "Hu Qinghua" in tju and "Vice Dean" in tju
    assert f'href="{data.tju.get_absolute_url()}"' in tju  # back to the institution


def test_institution_people_page_lists_them_by_name_a_page_at_a_time(client, data, monkeypatch):
    monkeypatch.setattr(pages, "PEOPLE_SHOWN", 2)
    family = [data.huawei, *data.huawei.units.all()]
    expected = [
        person.name
        for person in Person.objects.filter(
            participations__agreement__in=Agreement.objects.published(),
            participations__organisation__in=family,
        )
        .distinct()
        .order_by("name", "pk")
    ]
    assert len(expected) == 3  # not the draft's people, nor the partners'

    def listed(query):
        response = client.get(people_of(data.huawei), {"page": query})
        assert response.status_code == 200
        return [
            person.name for person, _roles in response.context["people"]
        ], response.content.decode()

    first, html = listed("1")
    assert first == expected[:2]
    assert 'href="?page=2" rel="next"' in html and 'rel="prev"' not in html
    second, html = listed("2")
    assert second == expected[2:]
    assert 'href="?page=1" rel="prev"' in html and 'rel="next"' not in html
    assert "Page 2" in html
    # A page that does not exist, or is not a number, is the first.
    for query in ("3", "0", "x", "99999999999", "²"):
        assert listed(query)[0] == first, query


def test_institution_page_sends_its_old_pages_of_people_on_to_the_people_page(client, data):
    page = client.get(data.huawei.get_absolute_url(), {"people": "2"})
    assert page.status_code == 301 and page["Location"] == f"{people_of(data.huawei)}?page=2"
    first = client.get(data.huawei.get_absolute_url(), {"people": "x"})
    assert first.status_code == 301 and first["Location"] == people_of(data.huawei)
    # One known only from drafts is not found, as one that does not exist.
    secret = InstitutionFactory(slug="zqdraft")
    PartyFactory(agreement=AgreementFactory(status="draft"), institution=secret)
    for slug in ("zqdraft", "nowhere"):
        assert client.get(f"/institutions/{slug}/", {"people": "1"}).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/institutions/a%00b/",
        "/people/%00/",
        "/labs/%00/",
        "/technologies/%00/",
        "/api/institutions/%00/",
        "/media/photos/%00.png",
    ],
)
def test_an_address_with_a_nul_character_is_not_found(client, data, path):
    # PostgreSQL refuses the character in any text: looked up, it would be a server error.
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "address",
    [
        "/agreements/?focus_area=%00",
        "/agreements/export.csv?institution=%00",
        "/api/agreements/?q=a%00",
        "/admin/agreements/agreement/?status__exact=%00",
        "/admin/duplicates/institutions/choose/?survivor=%00&duplicate=%00",
        "/admin/autocomplete/?app_label=registry&model_name=institution&field_name=parent&term=%00",
    ],
)
def test_a_parameter_with_a_nul_character_is_a_bad_request(admin_client, data, address):
    # PostgreSQL refuses the character in any text: read into a query, a server error.
    response = admin_client.get(address)
    assert response.status_code == 400
    if address.startswith("/api/"):
        assert "address" in response.json()["errors"]
    else:
        assert "This request cannot be read" in response.content.decode()


def test_the_page_refusing_a_nul_character_is_in_the_visitor_s_language(client, data):
    response = client.get("/agreements/?q=%00", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()
    translation.deactivate()


def test_institution_page_lists_labs_it_or_its_units_host(client, data):
    html = section(get(client, data.tju.get_absolute_url()), "labs", "people")
    assert "Smart City" in html and "Established" in html


def test_institution_page_draws_its_agreements_per_year_and_network(client, data):
    response = client.get(data.huawei.get_absolute_url())
    assert response.context["per_year"] == [(2019, 1), (2020, 1), (2021, 0), (2022, 1)]
    html = response.content.decode()
    assert 'role="img" aria-label="Agreements per year, 2019 to 2022' in html
    assert 'aria-label="Partnership network: 4 institutions, 4 partnerships between them."' in html
    assert 'class="network-node kind-company is-centre"' in html
    assert "/agreements/?institution=huawei&amp;signed_from=2019&amp;signed_to=2019" in html


def test_a_witness_organisation_has_a_page_but_is_not_listed(client, data):
    assert 'id="people"' in get(client, data.tianjin.get_absolute_url())
    html = get(client, people_of(data.tianjin))
    assert "Zhu Yubing" in html and "Deputy Secretary General" in html
    listed = get(client, reverse("agreements:institution-list"))
    assert "Tianjin Municipal Government" not in listed


def test_institution_list_groups_by_kind_units_after_parents_with_agreement_counts(client, data):
    response = client.get(reverse("agreements:institution-list"))
    groups = {str(label): [(i.slug, i.agreement_count) for i in items]
              for label, items in response.context["groups"]}  # fmt: skip
    assert groups == {
        "university": [("ecnu", 2), ("tju", 1), ("tju-cic", 1)],
        "company": [
            ("china-telecom", 1), ("china-telecom-tj", 1), ("huawei", 3),
            ("huawei-shanghai", 1), ("huawei-tj-bg", 1),
        ],
    }  # fmt: skip


def test_institution_list_filters_by_kind(client, data):
    response = client.get(reverse("agreements:institution-list"), {"kind": "company"})
    html = response.content.decode()
    assert "China Telecom" in html and "East China Normal University" not in html
    assert 'href="?kind=company" aria-current="page"' in html
    everything = client.get(reverse("agreements:institution-list"), {"kind": "nonsense"})
    assert len(everything.context["groups"]) == 2


def test_institution_list_is_paged_in_the_same_order_kind_by_kind(client, data, monkeypatch):
    monkeypatch.setattr(pages, "INSTITUTIONS_PER_PAGE", 2)
    url = reverse("agreements:institution-list")

    def listed(query):
        response = client.get(url, query)
        assert response.status_code == 200
        groups = [
            (str(label), [i.slug for i in items]) for label, items in response.context["groups"]
        ]
        return groups, response.content.decode()

    pages_of_all = [listed({"page": n})[0] for n in (1, 2, 3, 4)]
    assert pages_of_all == [
        [("university", ["ecnu", "tju"])],
        [("university", ["tju-cic"]), ("company", ["china-telecom"])],
        [("company", ["china-telecom-tj", "huawei"])],
        [("company", ["huawei-shanghai", "huawei-tj-bg"])],
    ]
    groups, html = listed({"page": 2})
    assert 'href="?page=1" rel="prev"' in html and 'href="?page=3" rel="next"' in html
    assert "Page 2 of 4" in html
    # A kind's pages keep the kind; a page that is not a number, or past the end, is page 1
    # (and says so, as the search does).
    groups, html = listed({"kind": "company", "page": 2})
    assert groups == [("company", ["huawei", "huawei-shanghai"])]
    assert 'href="?kind=company&amp;page=3" rel="next"' in html
    assert listed({"page": "x"})[0] == pages_of_all[0]
    assert listed({"page": "99"})[0] == pages_of_all[0]
    # The counts of kinds are of all institutions, whatever the page.
    assert "Page 1 of 4" in listed({})[1] and ">8</span>" in listed({"page": 3})[1]


# People


def test_person_page_shows_every_role_with_the_title_held_then(client, data):
    html = get(client, data.sun.get_absolute_url())
    assert "<title>Sun Zhenrong 孙真荣 · " in html
    assert "Zhenrong Sun" in html
    rows = section(html, "roles").split("<tr>")[2:]
    assert "ECNU and Huawei agreement 2.0" in rows[0] and "President" in rows[0]
    assert "Vice President" not in rows[0]
    assert "strategic partnership agreement" in rows[1] and "Vice President" in rows[1]
    assert "July 2019" in rows[1] and "Signatory for East China Normal University" in rows[1]


def test_person_page_lists_many_roles_a_page_at_a_time(client, django_assert_max_num_queries):
    # A company's head may sign for it in thousands of agreements: the page listed them all.
    person = PersonFactory()
    for year in range(1900, 1900 + pages.ROLES_PER_PAGE + 1):
        ParticipationFactory(person=person, agreement=published(**signed(year)))
    ParticipationFactory(person=person, agreement=AgreementFactory(title=DRAFT))
    with django_assert_max_num_queries(4):
        html = get(client, person.get_absolute_url())
    rows = section(html, "roles").split("<tr>")[2:]
    assert len(rows) == pages.ROLES_PER_PAGE and "2000" in rows[0]
    assert f"In {pages.ROLES_PER_PAGE + 1} agreements" in html
    assert 'href="?page=2" rel="next"' in html
    last = get(client, person.get_absolute_url() + "?page=2")
    assert len(section(last, "roles").split("<tr>")[2:]) == 1 and "1900" in last
    assert DRAFT not in html + last


def test_person_page_counts_agreements_not_roles(client, db):
    # Signatory and attendee of one agreement, witness of another: "In 2 agreements", as its
    # description says and its rows name, where the count of its roles said 3.
    person = PersonFactory()
    first, second = published(), published()
    ParticipationFactory(person=person, agreement=first, role="signatory")
    ParticipationFactory(person=person, agreement=first, role="attendee")
    ParticipationFactory(person=person, agreement=second, role="witness")
    html = get(client, person.get_absolute_url())
    assert "In 2 agreements" in html and "in 2 published partnership agreements" in html
    assert len(section(html, "roles").split("<tr>")[2:]) == 3  # every role still listed


def test_person_only_in_drafts_is_404(client, data):
    assert client.get(data.draft_person.get_absolute_url()).status_code == 404


# Technologies and labs


def test_focus_area_page_shows_its_agreements_labs_and_years(client, data):
    response = client.get(data.g5.get_absolute_url())
    assert [a.slug for a in response.context["agreements"]] == ["tju-telecom-huawei-2020"]
    assert [lab.slug for lab in response.context["labs"]] == ["smart-city-lab"]
    assert response.context["per_year"] == [(2020, 1)]
    assert response.context["labs_per_year"] == [(2020, 1)]
    html = response.content.decode()
    assert 'href="/agreements/?focus_area=5g"' in html
    assert "Tianjin University" in section(html, "institutions")


def test_focus_area_page_counts_everything_and_lists_the_latest_and_the_main_institutions(
    client, data, monkeypatch
):
    grow(data)  # four more published agreements in 5G, each with four parties
    monkeypatch.setattr(pages, "AGREEMENTS_SHOWN", 2)
    monkeypatch.setattr(pages, "INSTITUTIONS_SHOWN", 3)
    response = client.get(data.g5.get_absolute_url())
    published = Agreement.objects.published().filter(focus_areas=data.g5)
    assert response.context["agreement_count"] == published.count() == 5  # not the draft
    assert [a.slug for a in response.context["agreements"]] == [
        a.slug for a in published.order_by(*Agreement._meta.ordering)[:2]
    ]
    parties = Party.objects.filter(agreement__in=published)
    assert response.context["institution_count"] == parties.values("institution").distinct().count()
    shared = {}
    for party in parties.select_related("institution"):
        shared.setdefault(party.institution, set()).add(party.agreement_id)
    expected = sorted(shared.items(), key=lambda item: (-len(item[1]), item[0].name, item[0].pk))
    assert [(i.slug, n) for i, n in response.context["institutions"]] == [
        (i.slug, len(ids)) for i, ids in expected[:3]
    ]
    html = response.content.decode()
    assert "(the latest 2 are listed here)" in html
    assert f"{response.context['institution_count']} institutions; the 3 in the most" in html
    assert sum(n for _year, n in response.context["per_year"]) == 5


def test_focus_area_list_counts_published_agreements_and_public_labs(client, data):
    response = client.get(reverse("agreements:focus-area-list"))
    counts = {a.slug: (a.agreement_count, a.lab_count) for a in response.context["areas"]}
    assert counts == {"5g": (1, 1), "ai": (2, 0), "cloud-computing": (1, 1)}
    # In the order names are read, whatever their case; so are a search's equal counts.
    data.tju_2020.focus_areas.add(FocusAreaFactory(name="Internet of Things", slug="iot"))
    data.tju_2020.focus_areas.add(FocusAreaFactory(name="digital government", slug="dg"))
    listed = client.get(reverse("agreements:focus-area-list")).context["areas"]
    names = [area.name for area in listed]
    assert names == sorted(names, key=str.casefold)
    facet = {f.name: f for f in client.get("/agreements/").context["facets"]}["focus_area"]
    ones = [value.label for value in facet.values if value.count == 1]
    assert ones == sorted(ones, key=str.casefold) and "Internet of Things" in ones


def test_technologies_are_shown_in_their_group(client, data):
    data.g5.group = FocusAreaGroup.objects.create(name="Networks", slug="networks")
    data.g5.save()

    listed = get(client, reverse("agreements:focus-area-list"))
    page = get(client, data.g5.get_absolute_url())

    assert re.search(r'href="/technologies/5g/">5G</a></th>\s*<td>Networks</td>', listed)
    assert "</a> · Networks</p>" in page


def test_lab_page_shows_status_hosts_areas_and_published_agreements(client, data):
    response = client.get(data.smart_city.get_absolute_url())
    html = response.content.decode()
    assert "Established" in html and "September 2020" in html
    assert "College of Intelligence and Computing" in html and 'href="/technologies/5g/"' in html
    assert "Unveiled at the signing." in html
    links = response.context["lab"].labagreement_set.all()
    assert [(link.agreement.slug, link.outcome) for link in links] == [
        ("tju-telecom-huawei-2020", "founded")
    ]
    assert "Founded under this agreement" in html


def test_lab_list_shows_public_labs_with_agreement_counts(client, data):
    response = client.get(reverse("labs:list"))
    assert [(lab.slug, lab.agreement_count) for lab in response.context["labs"]] == [
        ("smart-city-lab", 1), ("smart-campus", 1)
    ]  # fmt: skip
    established = client.get(reverse("labs:list"), {"status": "established"})
    assert [lab.slug for lab in established.context["labs"]] == ["smart-city-lab"]


def test_lab_list_is_paged_with_its_status_filter(client, data, monkeypatch):
    monkeypatch.setattr("labs.views.LABS_PER_PAGE", 1)
    first = client.get(reverse("labs:list"))
    second = client.get(reverse("labs:list"), {"page": "2"})
    assert [lab.slug for lab in first.context["labs"]] == ["smart-city-lab"]
    assert [(lab.slug, lab.agreement_count) for lab in second.context["labs"]] == [
        ("smart-campus", 1)
    ]
    assert first.context["total"] == 2 and 'href="?page=2"' in first.content.decode()
    # The status stays in the links to other pages; a page past the last shows the last.
    proposed = client.get(reverse("labs:list"), {"status": "proposed", "page": "9"})
    assert [lab.slug for lab in proposed.context["labs"]] == ["smart-campus"]
    assert dict((v, n) for v, _label, n in proposed.context["statuses"])["proposed"] == 1


# Home


def test_home_counts_only_what_published_agreements_make_public(client, data):
    response = client.get(reverse("home"))
    context = response.context
    assert context["agreement_count"] == 3
    # ECNU, TJU and its college, China Telecom and its branch, Huawei and two of its units.
    assert context["institution_count"] == 8
    assert context["lab_count"] == 2
    assert context["focus_area_count"] == 3
    assert context["per_year"] == [(2019, 1), (2020, 1), (2021, 0), (2022, 1)]
    assert [a.slug for a in context["latest"]] == [
        "ecnu-huawei-2022", "tju-telecom-huawei-2020", "ecnu-huawei-2019"
    ]  # fmt: skip
    universities, companies = (items for _, items in context["most_active"])
    assert [(i.slug, i.agreement_count) for i in universities] == [("ecnu", 2), ("tju", 1)]
    assert [(i.slug, i.agreement_count) for i in companies] == [("huawei", 3), ("china-telecom", 1)]
    assert [a.slug for a in context["top_areas"]] == ["ai", "5g", "cloud-computing"]
    html = response.content.decode()
    assert 'action="/agreements/"' in html and 'name="q"' in html


def test_home_counts_the_technologies_its_link_lists(client, db):
    # A technology of a public lab alone has a page and a row on /technologies/; the home
    # page's "N technologies", which links there, left it out.
    agreement = published()
    agreement.focus_areas.add(FocusAreaFactory(slug="ai"))
    lab = LabFactory()
    lab.focus_areas.add(FocusAreaFactory(slug="quantum"))
    LabAgreementFactory(lab=lab, agreement=agreement)
    draft_lab = LabFactory()
    draft_lab.focus_areas.add(FocusAreaFactory(slug="secret"))
    LabAgreementFactory(lab=draft_lab, agreement=AgreementFactory())
    listed = {area.slug for area in client.get("/technologies/").context["areas"]}
    assert listed == {"ai", "quantum"}
    assert client.get(reverse("home")).context["focus_area_count"] == 2


def test_home_page_works_on_an_empty_registry(client, db):
    html = get(client, reverse("home"))
    assert "No dated records yet." in html


def test_the_search_of_an_empty_registry_says_nothing_is_published_not_to_remove_filters(
    client, db
):
    # On a first deploy nothing is published yet: there is no filter to remove.
    html = get(client, reverse("agreements:search"))
    assert "No agreement has been published yet." in html
    assert "Remove a filter" not in html
    # A search that finds nothing in a registry that holds agreements: a filter to remove.
    AgreementFactory(status=Agreement.Status.PUBLISHED)
    html = get(client, reverse("agreements:search") + "?q=nowhere")
    assert "Remove a filter or try other words." in html
    assert "No agreement has been published yet." not in html


def test_no_page_shows_template_syntax(client, data):
    # Django's {# #} comment is one line only: one over two lines is printed as it is.
    for url in [*public_urls(data), "/agreements/", "/agreements/?q=huawei&kind=company"]:
        # Less the schema.org data, whose JSON closes objects within objects ("}}").
        html = STRUCTURED_DATA.sub("", get(client, url))
        for syntax in ("{#", "#}", "{%", "%}", "{{", "}}"):
            assert syntax not in html, (url, syntax)


# Nothing unpublished reaches a public page


def test_draft_and_its_own_records_appear_on_no_page(client, data):
    # A photo of the draft held here, whose address no page may give (a card's image neither).
    processed = process_image(SimpleUploadedFile("ceremony.png", image_bytes()))
    photo = PhotoFactory(agreement=data.draft, image=processed.image, thumbnail=processed.thumbnail)
    for url in public_urls(data):
        html = get(client, url)
        assert DRAFT not in html, url
        assert photo.image.url not in html and photo.thumbnail.url not in html, url
        assert ">2005<" not in html, url  # the draft's year, in no chart or table
        assert "draft-deal" not in html, url
        assert "hidden-" not in html, url


def test_records_known_only_from_drafts_are_404(client, data):
    for record in (data.draft_institution, data.draft_unit, data.draft_person, data.draft_lab,
                   data.draft_area):  # fmt: skip
        assert client.get(record.get_absolute_url()).status_code == 404, record


def test_counts_and_charts_leave_drafts_out(client, data):
    huawei = client.get(data.huawei.get_absolute_url()).context
    assert len(huawei["agreements"]) == 3
    assert all(node.institution != data.draft_institution for node in huawei["network"].nodes)
    assert [lab.slug for lab in huawei["labs"]] == []  # it hosts only the draft's lab
    g5 = client.get(data.g5.get_absolute_url()).context
    assert g5["per_year"] == [(2020, 1)] and len(g5["labs"]) == 1
    smart_city = client.get(data.smart_city.get_absolute_url()).context["lab"]
    assert len(smart_city.labagreement_set.all()) == 1
    peng = client.get(data.peng.get_absolute_url()).context
    assert [p.agreement.slug for p in peng["participations"]] == ["ecnu-huawei-2019"]
    # What the page tells search engines and link cards counts the published alone.
    assert "Huawei Technologies, company in China: 3 published" in huawei["share"].description
    assert "5G: 1 published" in g5["share"].description
    assert peng["share"].description.startswith("Peng Bo in 1 published")


def test_an_agreement_becomes_public_only_when_published(client, data, django_user_model):
    publisher = django_user_model.objects.create(username="publisher")
    data.draft.publish(by=publisher)
    assert DRAFT in get(client, data.draft.get_absolute_url())
    assert get(client, data.draft_person.get_absolute_url())
    assert get(client, data.draft_lab.get_absolute_url())
    assert ">2005<" in get(client, reverse("home"))


# A fixed number of queries, whatever the number of related rows


def grow(d):
    """More of everything around the records of `data`, so that any query per row shows."""
    for n in range(4):
        agreement = published(**signed(2015 + n))
        agreement.focus_areas.add(d.g5, d.ai, FocusAreaFactory())
        for institution in (d.tju, d.huawei, d.ecnu, InstitutionFactory(parent=d.telecom)):
            party = PartyFactory(agreement=agreement, institution=institution, unit=None)
            ParticipationFactory(
                agreement=agreement, party=party, role="signatory", organisation=institution
            )
        ParticipationFactory(agreement=agreement, person=d.sun, organisation=d.ecnu)
        ParticipationFactory(agreement=agreement, organisation=InstitutionFactory(parent=d.tju))
        lab = LabFactory()
        lab.focus_areas.add(d.g5)
        LabHostFactory(lab=lab, institution=d.tju)
        LabHostFactory(lab=lab, institution=d.college)
        LabAgreementFactory(lab=lab, agreement=agreement)
        LabAgreement.objects.create(lab=d.smart_city, agreement=agreement, outcome="extended")
        for target in (d.ecnu_2019, d.tju_2020):
            RelationFactory(source=agreement, target=target)
            RelationFactory(source=target, target=agreement, type="renews")
            ParticipationFactory(agreement=target, role="attendee", organisation=d.tju)
            PhotoFactory(agreement=target)
            SourceFactory(agreement=target)
            target.focus_areas.add(FocusAreaFactory())
        d.ecnu_2019.labs.add(LabFactory(), through_defaults={"outcome": "founded"})
        InstitutionAliasFactory(institution=d.tju)
        PersonAliasFactory(person=d.sun)
        d.smart_city.hosts.add(InstitutionFactory(parent=d.tju))


def count_queries(client, url):
    client.get(url)  # anything cached once per process is not the page's cost
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_every_page_runs_the_same_number_of_queries_for_more_rows(client, data):
    urls = public_urls(data)
    before = {url: count_queries(client, url) for url in urls}
    grow(data)
    after = {url: count_queries(client, url) for url in urls}
    assert after == before


@pytest.mark.parametrize(
    ("page", "budget"),
    [
        ("home", 11),  # the most active institutions chosen from rows, then read
        ("agreement", 9),
        ("institution", 18),
        ("institution_people", 5),  # a page at a time, not counted
        ("institution_list", 3),  # the rows to sort, the counts, then a page's institutions
        ("person", 4),  # its roles counted, then a page of them
        ("focus_area", 9),  # its agreements and institutions counted, then the first of each
        ("focus_area_list", 3),
        ("lab", 5),
        ("lab_list", 6),  # labs per status (which count the pages), a page with its hosts
        # and technologies, and its labs' agreements
    ],
)
def test_query_budget(client, data, django_assert_max_num_queries, page, budget):
    url = {
        "home": reverse("home"),
        "agreement": data.tju_2020.get_absolute_url(),
        "institution": data.tju.get_absolute_url(),
        "institution_people": people_of(data.tju),
        "institution_list": reverse("agreements:institution-list"),
        "person": data.sun.get_absolute_url(),
        "focus_area": data.g5.get_absolute_url(),
        "focus_area_list": reverse("agreements:focus-area-list"),
        "lab": data.smart_city.get_absolute_url(),
        "lab_list": reverse("labs:list"),
    }[page]
    grow(data)
    with django_assert_max_num_queries(budget):
        assert client.get(url).status_code == 200


def test_a_page_not_found_is_the_sites_own_and_the_apis_is_json(client, data):
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert "No page has this address" in page.content.decode()
    assert 'href="/agreements/"' in page.content.decode()  # the site's own header and a way on

    api = client.get("/api/no-such-list/")
    assert api.status_code == 404 and api["Content-Type"] == "application/json"
    assert "address" in api.json()["errors"]


def test_a_server_error_page_needs_neither_request_nor_database(rf, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = defaults.server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


# Crawlers


def test_robots_point_crawlers_at_the_sitemap_and_away_from_endless_searches(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    rules = response.content.decode().splitlines()
    assert "Sitemap: http://testserver/sitemap.xml" in rules
    assert {
        "Disallow: /admin/",
        "Disallow: /agreements/?",
        "Disallow: /agreements/export.",
        "Disallow: /agreements/feed.atom?",  # each search has a feed; the whole one is fine
        "Disallow: /api/",
    } <= set(rules)
    assert client.post("/robots.txt").status_code == 405


@pytest.mark.parametrize(
    "name, language",
    [("天津大学", "zh"), ("東京大学", "zh"), ("ソニー", "ja"), ("東京工業大学 とうきょう", "ja"),
     ("서울대학교", "ko"), ("Université Paris Cité", None)],
)  # fmt: skip
def test_a_native_name_carries_the_language_its_script_tells(name, language):
    html = native(name)
    assert html == (
        f'<span class="native" lang="{language}">{name}</span>'
        if language
        else f'<span class="native">{name}</span>'
    )


@pytest.mark.parametrize(
    "address, message",
    [
        ("/institutions/?page=999", "There is no page 999; this is page 1."),
        ("/institutions/?page=abc", "There is no page abc; this is page 1."),
        ("/institutions/?kind=spaceship", "There is no kind “spaceship”: every kind is listed."),
        ("/labs/?status=nope", "There is no status “nope”: every lab is listed."),
        ("/labs/?page=0", "There is no page 0; this is page 1."),
    ],
)
def test_a_list_asked_for_what_it_has_not_says_so(client, data, address, message):
    response = client.get(address)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")


def test_an_institution_s_people_asked_for_a_page_they_have_not_say_so(client, data):
    address = f"{data.tju.get_absolute_url()}people/"
    assert "There is no page" not in client.get(address).content.decode()
    response = client.get(f"{address}?page=999")
    assert "There is no page 999; this is page 1." in response.content.decode()


def test_a_form_refused_by_the_csrf_check_is_the_sites_own_page_in_the_visitors_language(db):
    client = Client(enforce_csrf_checks=True)

    # The request leaves its language active in this thread: English again for the next test.
    with translation.override("en"):
        response = client.post(
            "/admin/login/",
            {"username": "someone", "password": "a guess"},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )

    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert 'href="/agreements/"' in page  # the site's own header and a way on
    assert "CSRF" not in page  # Django's page, about Referer headers and tokens


def test_a_server_error_page_says_its_language(rf):
    with translation.override("zh-hans"):
        page = defaults.server_error(rf.get("/")).content.decode()

    assert '<html lang="zh-hans">' in page
    assert "我们这边出了问题" in page


def test_a_server_error_in_the_api_answers_json(client, monkeypatch):
    """An API client reads JSON: a failure there was the site's HTML page."""
    import api.views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.views, "paginated", broken)
    client.raise_request_exception = False

    api = client.get("/api/focus-areas/")
    assert (api.status_code, api["Content-Type"]) == (500, "application/json")
    assert api.json() == {"errors": {"server": ["The registry failed to answer; try again later."]}}
    assert "a bug" not in api.text
