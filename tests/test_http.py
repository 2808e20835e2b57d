"""HTTP semantics of every public address: the methods each answers, its error pages, and
what a cache in front (nginx, a CDN, a browser) may keep of it."""

import pytest
from django.test import Client

from agreements.models import Agreement
from labs.models import Lab
from people.models import Person
from registry.images import process_image
from registry.models import Institution
from tests.factories import AgreementFactory, PhotoFactory
from tests.test_uploads import image_bytes, upload

pytestmark = pytest.mark.django_db

# Every kind of public address, each with a record the seeds make public (lab and person slugs
# are generated: read from the database).
PUBLIC_ADDRESSES = [
    "/",
    "/agreements/",
    "/agreements/?q=huawei",
    "/agreements/export.csv",
    "/agreements/export.xlsx",
    "/agreements/feed.atom",
    "/agreements/ecnu-huawei-2019/",
    "/institutions/",
    "/institutions/huawei/",
    "/institutions/ecnu/people/",
    "/people/{person}/",
    "/technologies/",
    "/technologies/5g/",
    "/labs/",
    "/labs/{lab}/",
    "/robots.txt",
    "/sitemap.xml",
    "/sitemap-agreements.xml",
    "{photo}",
]
API_ADDRESSES = ["/api/", "/api/openapi.json", "/api/agreements/", "/api/institutions/huawei/"]


@pytest.fixture
def addresses(seeds):
    """Fills in the addresses' records: a person, a lab and a photo of published agreements."""
    agreement = Agreement.objects.get(slug="ecnu-huawei-2019")
    person = Person.objects.get(name="Sun Zhenrong")
    # Acting for ECNU, so that ECNU has a page of its people.
    person.participations.update(organisation=Institution.objects.get(slug="ecnu"))
    lab = Lab.objects.get(name="Smart Campus Innovation Lab")
    processed = process_image(upload("ceremony.png", image_bytes()))
    photo = PhotoFactory(
        agreement=agreement,
        image=processed.image,
        thumbnail=processed.thumbnail,
    )

    def fill(address):
        return address.format(person=person.slug, lab=lab.slug, photo=photo.image.url)

    return fill


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


# Methods


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES + API_ADDRESSES + ["/health/"])
def test_head_answers_as_get_does(client, addresses, address):
    """A guard: Django answers HEAD with GET's view; the server (gunicorn, or the test client
    here) leaves the body out."""
    got, head = client.get(addresses(address)), client.head(addresses(address))
    assert (head.status_code, head["Content-Type"]) == (got.status_code, got["Content-Type"])
    assert got.status_code == 200 and body(head) == b""


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_a_public_address_refuses_other_methods_with_405_on_the_sites_page(
    addresses, address, method
):
    # As a browser or curl meets it: with the CSRF check, which used to answer a POST first
    # with its 403 ("this form could not be sent"), and let a PUT reach the page as a GET.
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")

    response = getattr(client, method)(addresses(address))

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page and 'href="/agreements/"' in page


@pytest.mark.parametrize("address", API_ADDRESSES)
def test_an_api_address_refuses_other_methods_with_405_in_json(seeds, address):
    """A guard (api.views.read_only)."""
    response = Client(enforce_csrf_checks=True).post(address)
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert response["Content-Type"] == "application/json"


def test_health_refuses_other_methods_with_405(client):
    response = client.post("/health/")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert response["Content-Type"] == "application/json"


# What a cache in front may keep


@pytest.mark.parametrize("address", ["/agreements/feed.atom", "/api/openapi.json", "/"])
def test_an_answer_in_the_cookies_language_varies_with_the_cookie(seeds, address):
    english = Client().get(address)
    client = Client()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(address)

    assert body(chinese) != body(english)  # the cookie alone chose Chinese
    vary = {header.strip() for header in chinese["Vary"].split(",")}
    assert {"Accept-Language", "Cookie"} <= vary


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES[:-1] + API_ADDRESSES)
def test_a_public_answer_may_be_kept_but_is_asked_for_again(addresses, address):
    """A cache may keep an answer with a Last-Modified and no Cache-Control for a tenth of its
    age (RFC 9111, 4.2.2): the feed's, with an agreement since withdrawn."""
    response = Client().get(addresses(address))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"


def test_a_photo_a_preview_and_the_admin_are_never_kept_by_a_shared_cache(addresses, admin_client):
    """A guard: each says so itself, and the default does not override it."""
    draft = AgreementFactory()
    for response in (
        Client().get(addresses("{photo}")),
        admin_client.get(draft.get_absolute_url()),
        admin_client.get("/admin/"),
    ):
        assert response.status_code == 200
        assert "private" in response["Cache-Control"]
    assert "no-store" in admin_client.get(draft.get_absolute_url())["Cache-Control"]


# Error pages in the back office


def test_a_form_of_the_admin_refused_by_the_csrf_check_says_what_is_lost_and_the_way_back(editor):
    """A form left open while its staff member signed in again elsewhere: its token is stale."""
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(editor)
    client.get("/admin/")  # the CSRF cookie, which the stale token does not match
    stale = "x" * 64

    response = client.post(
        "/admin/agreements/agreement/add/",
        {"title": "Typed for an hour", "csrfmiddlewaretoken": stale},
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "Nothing you sent was saved." in page
    assert "copy what you typed" in page
    assert 'href="/admin/"' in page and "Back to the back office" in page
    assert "Typed for an hour" not in page and "CSRF" not in page


def test_a_page_of_the_admin_a_staff_member_may_not_see_gives_the_way_back(editor_client):
    response = editor_client.get("/admin/auth/user/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert 'href="/admin/"' in page.split("<main")[1].split("</main>")[0]  # not only the footer's


def test_a_public_page_refused_by_the_csrf_check_sends_the_visitor_home(db):
    """A guard: the public wording and link are as they were."""
    response = Client(enforce_csrf_checks=True).post("/i18n/setlang/", {"language": "zh-hans"})
    assert response.status_code == 403
    page = response.content.decode()
    main = page.split("<main")[1].split("</main>")[0]
    assert "Go back, reload the page" in main and 'href="/"' in main and "/admin/" not in main
