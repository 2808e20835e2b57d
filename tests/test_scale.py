"""Scale: pages and downloads cost a fixed number of queries whatever the data size, a CSV
download's memory stays flat as rows grow, the search cache never shows out-of-date data, and
two app servers side by side share one login."""

import http.cookiejar
import io
import os
import re
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.exports import csv_lines
from agreements.models import Agreement, AgreementType, Party
from tests.factories import AgreementFactory, FocusAreaFactory, InstitutionFactory, PartyFactory

ROOT = Path(__file__).resolve().parent.parent


def queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(captured)


def add_agreements(count):
    area = FocusAreaFactory()
    for _ in range(count):
        agreement = AgreementFactory(status="published")
        PartyFactory(agreement=agreement, institution__kind="company")
        PartyFactory(agreement=agreement)
        agreement.focus_areas.add(area)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/agreements/export.csv", "/agreements/export.csv?q=University", "/agreements/"]
)
def test_home_and_csv_download_run_a_fixed_number_of_queries(client, url):
    add_agreements(3)
    before = queries(client, url)
    add_agreements(12)
    assert queries(client, url) == before


SECTIONS = ["agreements", "institutions", "people", "labs", "technologies"]


@pytest.mark.django_db
def test_the_sitemap_is_an_index_of_sections_each_in_pages_of_a_fixed_size(client, monkeypatch):
    monkeypatch.setattr("registry.sitemaps.Section.limit", 2)
    add_agreements(5)
    AgreementFactory(slug="a-draft")
    index = client.get("/sitemap.xml").content.decode()
    addresses = re.findall(r"<loc>http://testserver(/sitemap-[^<]+)</loc>", index)
    agreement_pages = [a for a in addresses if a.startswith("/sitemap-agreements.xml")]
    assert agreement_pages == [
        "/sitemap-agreements.xml",
        "/sitemap-agreements.xml?p=2",
        "/sitemap-agreements.xml?p=3",
    ]
    assert {re.match(r"/sitemap-(\w+)\.xml", a)[1] for a in addresses} == set(SECTIONS)
    listed = [
        slug
        for page in agreement_pages
        for slug in re.findall(r"/agreements/([^/<]+)/</loc>", client.get(page).content.decode())
    ]
    published = Agreement.objects.published().values_list("slug", flat=True)
    assert sorted(listed) == sorted(published) and "a-draft" not in listed
    assert client.get("/sitemap-agreements.xml?p=4").status_code == 404
    assert client.get("/sitemap-agreements.xml?p=x").status_code == 404
    assert client.get("/sitemap-drafts.xml").status_code == 404
    # A page and the index cost a fixed number of queries, whatever the data.
    before = [queries(client, "/sitemap.xml"), queries(client, "/sitemap-agreements.xml?p=2")]
    add_agreements(6)
    after = [queries(client, "/sitemap.xml"), queries(client, "/sitemap-agreements.xml?p=2")]
    assert after == before


def bulk_agreements(count):
    kind = AgreementType.objects.first()
    left, right = InstitutionFactory(), InstitutionFactory()
    agreements = Agreement.objects.bulk_create(
        Agreement(
            slug=f"bulk-{n}",
            title=f"Agreement {n}",
            agreement_type=kind,
            status="published",
            published_at="2020-01-01T00:00Z",
            first_published_at="2020-01-01T00:00Z",
            summary="x" * 400,
        )
        for n in range(count)
    )
    Party.objects.bulk_create(
        Party(agreement=agreement, institution=institution)
        for agreement in agreements
        for institution in (left, right)
    )


def peak_export_memory():
    tracemalloc.start()
    pieces = csv_lines(Agreement.objects.all(), absolute_url=lambda slug: "x")
    written = sum(piece.count("\n") for piece in pieces)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return written - 1, peak


@pytest.mark.django_db
def test_csv_export_memory_stays_flat_as_rows_grow():
    # Two chunks at least in the smaller export (CHUNK_SIZE is 500), so that both measure
    # the buffers of a chunk after another, not those of a lone first one.
    bulk_agreements(1000)
    small_rows, small_peak = peak_export_memory()
    Agreement.objects.all().delete()
    bulk_agreements(10000)
    large_rows, large_peak = peak_export_memory()
    assert (small_rows, large_rows) == (1000, 10000)
    # Ten times the rows; memory is that of one chunk, whatever the number of chunks.
    assert large_peak < small_peak * 2


@pytest.mark.django_db
def test_cached_search_is_fresh_after_a_publish(client, settings, admin_user):
    settings.SEARCH_CACHE = True
    draft = AgreementFactory(status="draft", title="Quantum handshake")
    PartyFactory(agreement=draft)
    assert "Quantum handshake" not in client.get("/agreements/").content.decode()
    with CaptureQueriesContext(connection) as captured:
        draft.publish(by=admin_user)
        for callback in captured.connection.run_on_commit:
            callback[1]()
    assert "Quantum handshake" in client.get("/agreements/").content.decode()


@pytest.mark.django_db
def test_cached_results_are_read_again_through_published(client, settings):
    settings.SEARCH_CACHE = True
    agreements = [AgreementFactory(status="published", title=f"Quantum {n}") for n in range(3)]
    for agreement in agreements:
        PartyFactory(agreement=agreement)
    with CaptureQueriesContext(connection) as computed:
        first = client.get("/agreements/?q=quantum&sort=title")
    assert [a.title for a in first.context["page"]] == ["Quantum 0", "Quantum 1", "Quantum 2"]
    # Cached: the same page in its order, without matching and sorting again.
    with CaptureQueriesContext(connection) as cached:
        again = client.get("/agreements/?q=quantum&sort=title")
    assert [a.title for a in again.context["page"]] == ["Quantum 0", "Quantum 1", "Quantum 2"]
    sorting = [
        q["sql"] for q in computed if "ORDER BY" in q["sql"] and "quantum" in q["sql"].lower()
    ]
    assert sorting and not any(q["sql"] in sorting for q in cached)
    # Unpublished behind the cache's back (no write path does that, so the generation is
    # not moved): the cached ids are read through published(), and the draft is not shown.
    Agreement.objects.filter(pk=agreements[1].pk).update(status="draft")
    html = client.get("/agreements/?q=quantum&sort=title").content.decode()
    assert "Quantum 1" not in html and "Quantum 0" in html and "Quantum 2" in html


def record_of(response):
    """An institution page's <main>: the part kept in the cache (the header holds the
    visitor's CSRF token, new on each request)."""
    return re.search(r"<main.*</main>", response.content.decode(), re.DOTALL).group()


@pytest.mark.django_db
def test_cached_institution_page_is_fresh_and_names_no_unpublished_agreement(
    client, settings, admin_user, django_capture_on_commit_callbacks
):
    settings.SEARCH_CACHE = True
    company = InstitutionFactory(name="Quantum Works")
    agreements = [AgreementFactory(status="published", title=f"Quantum {n}") for n in range(3)]
    for agreement in agreements:
        PartyFactory(agreement=agreement, institution=company)
    url = company.get_absolute_url()
    with CaptureQueriesContext(connection) as computed:
        first = record_of(client.get(url))
    # Cached: the same record, from the institution's lookup and one check that the
    # agreements it names are published still.
    with CaptureQueriesContext(connection) as cached:
        assert record_of(client.get(url)) == first
    assert len(cached) == 3 < len(computed)
    # A publish moves the generation on: the page is made again.
    draft = AgreementFactory(status="draft", title="Quantum draft")
    PartyFactory(agreement=draft, institution=company)
    assert "Quantum draft" not in record_of(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        draft.publish(by=admin_user)
    assert "Quantum draft" in record_of(client.get(url))
    # Unpublished behind the cache's back (no write path does that, so the generation is
    # not moved): the cached record names it, so it is made again without it.
    Agreement.objects.filter(pk=agreements[1].pk).update(status="draft")
    html = record_of(client.get(url))
    assert "Quantum 1" not in html and "Quantum 0" in html and "Quantum 2" in html
    # One record per language.
    chinese = record_of(client.get(url, headers={"accept-language": "zh-hans"}))
    assert "历年趋势" in chinese and "Over time" not in chinese
    assert "Over time" in record_of(client.get(url, headers={"accept-language": "en"}))


@pytest.mark.django_db
def test_start_up_drops_what_was_cached_before_an_upgrade(client, settings):
    """An upgrade changes what a search finds (a migration remaking the search's documents,
    new code) without any write of data to move the cache's generation on, and the cache
    (Redis, the database's) outlives the restart: bin/start's new_cache_generation does."""
    settings.SEARCH_CACHE = True
    PartyFactory(agreement=AgreementFactory(status="published", title="Before the upgrade"))
    assert [a.title for a in client.get("/agreements/?q=zebrafinch").context["page"]] == []
    # What the upgrade's migration does: behind every write path, so the cache is not told.
    Agreement.objects.update(title="Zebrafinch")
    assert [a.title for a in client.get("/agreements/?q=zebrafinch").context["page"]] == []

    call_command("new_cache_generation")

    assert [a.title for a in client.get("/agreements/?q=zebrafinch").context["page"]] == [
        "Zebrafinch"
    ]


def test_start_up_goes_on_when_the_cache_does_not_answer(settings, monkeypatch):
    """As the app did before bin/start renewed the cache: it starts, /health/ says the cache
    is down, and it recovers by itself when the cache does."""
    settings.SEARCH_CACHE = True

    def down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "incr", down)
    monkeypatch.setattr(cache, "set", down)
    stderr = io.StringIO()

    call_command("new_cache_generation", stderr=stderr)

    assert "The cache did not answer" in stderr.getvalue()
    assert "Connection refused" in stderr.getvalue()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_app_servers(transactional_db):
    """Two app servers as bin/start runs each (its workers sharing one cache in the database),
    with the search cache on, against the test database and no Redis."""
    if connection.vendor != "postgresql":
        pytest.skip("two app servers need a database both can reach: run on PostgreSQL")
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@"
        f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/"
        f"{settings_dict['NAME']}"
    )
    environment = {
        **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
        "SERVED_BY_WORKERS": "1",
        "SEARCH_CACHE": "1",
    }
    subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=environment, check=True
    )
    servers = []
    for _ in range(2):
        port = free_port()
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "gunicorn", "registry.wsgi", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=environment,
        )
        servers.append((process, f"http://127.0.0.1:{port}"))
    try:
        for _process, address in servers:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{address}/admin/login/", timeout=2)  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.1)
        yield [address for _, address in servers]
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)


def csrf_token(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def sign_in(address, username, password):
    """A browser (an opener keeping cookies) signed in to the admin at `address`, and its
    session's key."""
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    form = browser.open(f"{address}/admin/login/").read().decode()
    data = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": csrf_token(form),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - an http address this test made
        f"{address}/admin/login/?next=/admin/", data=data, headers={"Referer": f"{address}/"}
    )
    assert "Log out" in browser.open(request).read().decode()
    return browser, next(cookie.value for cookie in cookies if cookie.name == "sessionid")


# serialized_rollback: the flush after a plain transactional test re-creates content types,
# which the next serialized-rollback test (the browser tests) would then load a second time.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_login_on_one_app_server_is_valid_on_another(two_app_servers, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.org", "a long password 1")
    first, second = two_app_servers
    _browser, session = sign_in(first, "boss", "a long password 1")

    # The other server, with nothing but the session cookie: same data, same login.
    other = urllib.request.Request(  # noqa: S310 - an http address this test made
        f"{second}/admin/", headers={"Cookie": f"sessionid={session}"}
    )
    page = urllib.request.urlopen(other).read().decode()  # noqa: S310
    assert "Site administration" in page and "boss" in page.lower()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_agreement_withdrawn_on_one_app_server_leaves_the_other_s_cached_search(
    two_app_servers, django_user_model
):
    """The search's facets and counts are cached whole: a server whose cache kept the old
    generation would still name the withdrawn agreement's only party in them."""
    django_user_model.objects.create_superuser("boss", "boss@example.org", "a long password 1")
    party = PartyFactory(
        agreement__status="published",
        agreement__title="Quantum lab",
        institution__name="Qubit Works",
    )
    first, second = two_app_servers

    def search_on_second():
        return urllib.request.urlopen(f"{second}/agreements/").read().decode()  # noqa: S310

    assert "Qubit Works" in search_on_second()  # and now in the second's cache
    browser, _session = sign_in(first, "boss", "a long password 1")
    move = f"{first}/admin/agreements/agreement/{party.agreement.pk}/move/withdraw/"
    form = browser.open(move).read().decode()
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf_token(form), "comment": "Signed in error."}
    ).encode()
    browser.open(urllib.request.Request(move, data=data, headers={"Referer": move}))  # noqa: S310

    party.agreement.refresh_from_db()
    assert party.agreement.status == "draft"
    page = search_on_second()
    assert "Quantum lab" not in page and "Qubit Works" not in page
