"""The markup of the site's and the back office's pages, as built from realistic records, in
English and Chinese: no id twice; every reference to an id (a label's `for`, `aria-*`, `list`,
`form`, an in-page link) finds it; no form in a form, nothing a visitor acts on inside another
(a link in a button); one heading of the first level; the page's language. axe, in the browser
tests, does not check all of these (it dropped its rules on ids met twice), and it reads only
the pages it is shown: this walks every page a visitor reaches from the home page by links,
and the back office's own pages."""

import datetime
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.db import OperationalError, connection
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from registry.models import Institution
from tests.factories import (
    InstitutionAliasFactory,
    InstitutionFactory,
    LabHostFactory,
    ParticipationFactory,
    PersonAliasFactory,
    PersonFactory,
    RelationFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "zh-hans"]
REFERENCES = ["for", "list", "form"]
ID_LISTS = ["aria-describedby", "aria-labelledby", "aria-controls", "aria-owns", "headers"]
LABELLED = {"input", "select", "textarea", "button", "meter", "output", "progress"}
# What a visitor acts on; an `a` only with an address.
INTERACTIVE = {"a", "button", "select", "textarea", "details", "iframe", "audio", "video"}
VOID = {
    *("area", "base", "br", "col", "embed", "hr", "img", "input"),
    *("link", "meta", "source", "track", "wbr"),
}


class Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = Counter()
        self.tags = {}
        self.references = []
        self.open = []  # (tag, whether a visitor acts on it)
        self.problems = []
        self.headings = 0
        self.language = None
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.language = attrs.get("lang")
        self.headings += tag == "h1"
        if "id" in attrs:
            self.ids[attrs["id"]] += 1
            self.tags[attrs["id"]] = tag
        self.references += [(name, attrs[name]) for name in REFERENCES if attrs.get(name)]
        for name in ID_LISTS:
            self.references += [(name, value) for value in (attrs.get(name) or "").split()]
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("#") and len(href) > 1:
            self.references.append(("href", href[1:]))
        if tag == "a" and href:
            self.links.append(href)
        if tag in VOID and tag != "input":
            return
        acted_on = (tag in INTERACTIVE and (tag != "a" or "href" in attrs)) or (
            tag == "input" and attrs.get("type") != "hidden"
        )
        if tag == "form" and any(name == "form" for name, _ in self.open):
            self.problems.append("a form inside a form")
        if acted_on:
            # A summary is what opens its details; a label holds the field it names.
            self.problems += [
                f"<{tag}> inside <{name}>"
                for name, outer in self.open
                if outer and name != "details" and not (name == "label" and tag != "a")
            ]
        if tag != "input":
            self.open.append((tag, acted_on))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        names = [name for name, _ in self.open]
        if tag not in names:
            self.problems.append(f"</{tag}> closes nothing")
            return
        # Elements HTML closes by themselves (a paragraph, an item of a list) are let go.
        while self.open.pop()[0] != tag:
            pass

    def report(self, language):
        problems = list(self.problems)
        problems += [f"id {name!r} {n} times" for name, n in self.ids.items() if n > 1]
        for attribute, name in self.references:
            tag = self.tags.get(name)
            if tag is None:
                problems.append(f"{attribute}={name!r}: no such id")
            # (Django's admin labels a hidden field too, in a row it hides: let be.)
            elif attribute == "for" and tag not in LABELLED:
                problems.append(f"for={name!r} names a <{tag}>")
            elif attribute in ("list", "form") and tag != {"list": "datalist"}.get(attribute, tag):
                problems.append(f"{attribute}={name!r} names a <{tag}>")
        if self.headings != 1:
            problems.append(f"{self.headings} headings of the first level")
        if self.language != language:
            problems.append(f"lang={self.language!r}")
        return problems


def read(response, language):
    markup = Markup()
    markup.feed(response.content.decode())
    markup.close()
    return markup


def test_the_checks_find_what_they_look_for():
    """The walks below pass only if their checks can fail."""
    page = (
        '<html lang="en"><body><h1>A</h1><h1>B</h1><p id="x"></p><p id="x"></p>'
        '<label for="nowhere">L</label><label for="x">L</label><a href="#gone">g</a>'
        '<input aria-describedby="x missing"><form><form></form></form>'
        '<button><a href="/">in</a></button></body></html>'
    )
    markup = Markup()
    markup.feed(page)

    assert sorted(markup.report("zh-hans")) == sorted(
        [
            "2 headings of the first level",
            "id 'x' 2 times",
            "for='nowhere': no such id",
            "for='x' names a <p>",
            "href='gone': no such id",
            "aria-describedby='missing': no such id",
            "a form inside a form",
            "<a> inside <button>",
            "lang='en'",
        ]
    )


@pytest.fixture
def records(seeds):
    """The seed agreements with every part a page shows: people in each role, sources, a
    relation, a lab's hosts, a unit, other names."""
    tju, ecnu_huawei = seeds["tju"], seeds["ecnu_huawei"]
    party = tju.parties.first()
    ParticipationFactory(
        agreement=tju,
        person=PersonFactory(name="Li Peng", native_name="李鹏"),
        role="signatory",
        party=party,
        title="President",
    )
    government = InstitutionFactory(name="Tianjin Municipal Government", kind="government")
    ParticipationFactory(agreement=tju, organisation=government, title="Mayor")
    ParticipationFactory(agreement=tju, role="attendee")
    PersonAliasFactory(person=tju.participations.first().person)
    SourceFactory(agreement=tju)
    SourceFactory(agreement=tju, url="", title="Press release", publisher="Tianjin University")
    RelationFactory(source=tju, target=ecnu_huawei, type="follows")
    lab = tju.labagreement_set.get().lab
    LabHostFactory(lab=lab, institution=party.institution)
    lab.focus_areas.set(tju.focus_areas.all())
    lab.established_on, lab.established_on_precision = datetime.date(2020, 10, 1), "month"
    lab.save()
    InstitutionAliasFactory(institution=Institution.objects.get(slug="tju"), name="天大")
    InstitutionFactory(name="TJU College of Intelligence", parent=party.institution)
    return seeds


DOWNLOADS = ("/admin/", "/api/", "/media/", "/static/", "/i18n/", "/agreements/export.")


def walk(client, language, start, budget):
    """The pages of the public site reached by links from `start`, each read once (a search
    with more than two parameters is left out: their combinations never end)."""
    problems, seen, queue = {}, set(), list(start)
    while queue and len(seen) < budget:
        address = queue.pop(0)
        if address in seen:
            continue
        seen.add(address)
        response = client.get(address)
        assert response.status_code in (200, 404), address
        markup = read(response, language)
        if found := markup.report(language):
            problems[address] = found
        for href in markup.links:
            parts = urlsplit(urljoin(f"http://testserver{address}", href))
            wanted = f"{parts.path}?{parts.query}" if parts.query else parts.path
            if (
                parts.netloc == "testserver"
                and not parts.path.startswith(DOWNLOADS)
                and not parts.path.endswith(".atom")
                and parts.query.count("&") < 2
                and wanted not in seen
            ):
                queue.append(wanted)
    return problems, seen


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_a_visitor_reaches_is_well_formed(records, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    start = [
        "/",
        "/agreements/?q=Huawei&signed_from=2020",
        "/agreements/?signed_from=2021&signed_to=2019",  # refused, and said so
        "/agreements/?kind=nonsense",
        "/agreements/?q=nothing-matches-this",
        "/no-such-page/",
    ]

    problems, seen = walk(client, language, start, budget=120)

    assert problems == {}
    for page in ("/agreements/", "/institutions/tju/", "/labs/", "/technologies/5g/"):
        assert page in seen  # the walk did reach the pages it is meant to check
    assert any(address.startswith("/people/") for address in seen)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pages_of_a_refusal_or_a_failure_are_well_formed(records, settings, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language, raise_request_exception=False)
    settings.LOGIN_FAILURE_LIMIT = 0  # the first sign-in is refused
    answers = {
        "405": client.post("/"),
        "403 (CSRF)": Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language).post(
            "/i18n/setlang/", {"language": "en"}
        ),
        "429": client.post("/admin/login/", {"username": "someone", "password": "wrong"}),
    }

    def down(execute, sql, params, many, context):
        raise OperationalError("the database cannot be reached")

    def broken(execute, sql, params, many, context):
        raise ZeroDivisionError

    with connection.execute_wrapper(down):
        answers["503"] = client.get("/agreements/tju-china-telecom-huawei-2020/")
    with connection.execute_wrapper(broken):
        answers["500"] = client.get("/agreements/")
    staff = Client(HTTP_ACCEPT_LANGUAGE=language)
    staff.force_login(UserFactory(group="Editors"))
    answers["403"] = staff.get("/admin/auth/user/")

    assert {name: response.status_code for name, response in answers.items()} == {
        "405": 405,
        "403 (CSRF)": 403,
        "429": 429,
        "503": 503,
        "500": 500,
        "403": 403,
    }
    problems = {
        name: found
        for name, response in answers.items()
        if (found := read(response, language).report(language))
    }
    assert problems == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_back_office_s_own_pages_are_well_formed(records, language):
    """The pages the back office adds to Django's admin, and the admin's pages of an
    agreement, which it changes most."""
    admin = User.objects.create_superuser("root", "root@example.org", "pw")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(admin)
    tju, draft = records["tju"], records["draft"]
    huawei, shanghai = (
        Institution.objects.get(slug="huawei"),
        Institution.objects.get(slug="huawei-shanghai"),
    )
    change = f"/admin/agreements/agreement/{tju.pk}/"
    version = tju.history.earliest("history_id").history_id
    pages = [
        "/admin/",
        "/admin/agreements/agreement/",
        "/admin/agreements/agreement/add/",
        f"{change}change/",
        f"{change}history/",
        f"{change}history/{version}/",
        f"{change}move/withdraw/",
        f"/admin/agreements/agreement/{draft.pk}/move/submit/",
        f"/admin/agreements/agreement/{draft.pk}/move/publish/",
        "/admin/agreements/agreement/awaiting-review/",
        f"/admin/registry/institution/{huawei.pk}/change/",
        f"/admin/registry/institution/{huawei.pk}/history/",
        f"/admin/people/person/{tju.participations.first().person_id}/change/",
        f"/admin/labs/lab/{tju.labagreement_set.get().lab_id}/change/",
        "/admin/reports/",
        "/admin/reports/companies/?signed_from=2019",
        "/admin/reports/people/",
        "/admin/reports/needs-attention/",
        "/admin/import/",
        "/admin/duplicates/institutions/",
        "/admin/duplicates/people/",
        f"/admin/duplicates/institutions/merge/{huawei.pk}/{shanghai.pk}/",
    ]
    answers = {page: client.get(page) for page in pages}
    answers["a move refused"] = client.post(f"{change}move/withdraw/", {"reason": ""})
    answers["an agreement's form refused"] = client.post(f"{change}change/", {"title": ""})
    with open("demo/agreements.jsonl", "rb") as file:
        answers["an import's preview"] = client.post("/admin/import/", {"file": file})
    anonymous = Client(HTTP_ACCEPT_LANGUAGE=language)
    answers["/admin/login/"] = anonymous.get("/admin/login/")
    answers["/admin/password_reset/"] = anonymous.get("/admin/password_reset/")
    token = default_token_generator.make_token(admin)
    key = urlsafe_base64_encode(force_bytes(admin.pk))
    answers["a new password"] = anonymous.get(f"/admin/password_reset/{key}/{token}/", follow=True)

    assert {page: response.status_code for page, response in answers.items()} == dict.fromkeys(
        answers, 200
    )
    problems = {
        page: found
        for page, response in answers.items()
        if (found := read(response, language).report(language))
    }
    assert problems == {}
