"""The interface in Simplified Chinese: chosen through the language form or asked for by the
browser, and a message catalogue in which every message is translated and compiled."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from agreements.models import Participation, Role
from agreements.templatetags.public_pages import display
from labs.models import Lab
from registry.models import Institution, InstitutionKind
from tests.factories import AgreementFactory, InstitutionFactory, PartyFactory

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

# The main navigation of every page, in Chinese.
NAVIGATION = [
    '<a href="/agreements/">协议</a>',
    '<a href="/institutions/">机构</a>',
    '<a href="/labs/">联合实验室</a>',
    '<a href="/technologies/">技术领域</a>',
]


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """A request in Chinese leaves Chinese active in this thread; later tests expect English."""
    yield
    translation.deactivate()


@pytest.fixture
def agreements():
    university = InstitutionFactory(name="Tianjin University", native_name="天津大学")
    company = InstitutionFactory(name="Huawei Technologies", kind=InstitutionKind.COMPANY)
    for title in ("TJU and Huawei agreement", "TJU and Huawei follow-up agreement"):
        agreement = AgreementFactory(title=title, status="published")
        PartyFactory(agreement=agreement, institution=university)
        PartyFactory(agreement=agreement, institution=company)


def choose_language(client, language, next_url):
    response = client.post("/i18n/setlang/", {"language": language, "next": next_url})
    assertRedirects(response, next_url, fetch_redirect_response=False)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
    return client.get(next_url)


def assert_chinese_page(response):
    assert response.status_code == 200
    assertContains(response, '<html lang="zh-hans">')
    assertContains(
        response, '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>', html=True
    )
    for link in NAVIGATION:
        assertContains(response, link, html=True)
    assertContains(response, "合作协议登记库")  # the site's name, in the header and title
    assertContains(response, "所有记录均取自公开来源")  # the footer
    assertNotContains(response, "Skip to content")
    assertNotContains(response, "Every record is taken from public sources")


def test_a_visitor_who_chooses_chinese_sees_the_search_page_in_chinese(client, agreements):
    response = choose_language(client, "zh-hans", "/agreements/")

    assert_chinese_page(response)
    assertContains(response, "<h1>合作协议</h1>", html=True)
    assertContains(response, '<h2 id="results-heading" tabindex="-1">2 项协议</h2>', html=True)
    assertContains(response, '<label for="id_sort">排序</label>', html=True)
    assertContains(response, '<option value="-signed">最新优先</option>', html=True)
    assertContains(response, "<legend>合作方类型</legend>", html=True)
    assertContains(response, "下载这些协议：")
    assertNotContains(response, "Partnership agreements")
    # What the registry holds is not translated: titles stay as recorded.
    assertContains(response, "TJU and Huawei agreement")


def test_a_chinese_search_names_its_filters_with_chinese_punctuation(client, agreements):
    # A full-width colon and semicolon: ": " and "; " are English.
    response = choose_language(client, "zh-hans", "/agreements/?kind=company&country=CN")

    title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)[1]
    assert title.startswith("协议；合作方类型：企业；国家/地区：中国 ·")
    assertContains(response, "合作方类型：企业 <span aria-hidden")


def test_the_choice_of_chinese_lasts_to_the_next_page(client, agreements):
    choose_language(client, "zh-hans", "/agreements/")

    response = client.get("/institutions/")

    assert_chinese_page(response)
    assertContains(response, "<h1>机构</h1>", html=True)


def test_a_visitor_who_chooses_chinese_sees_the_home_page_in_chinese(client, agreements):
    response = choose_language(client, "zh-hans", "/")

    assert_chinese_page(response)
    assertContains(response, '<h1 id="welcome">谁与谁合作，在哪些领域合作</h1>', html=True)
    assertContains(response, '<label for="home-q">搜索协议</label>', html=True)
    assertContains(response, '<h2 id="latest">最新协议</h2>', html=True)
    assertContains(response, '<h2 id="active-1">最活跃的高校</h2>', html=True)
    assertContains(response, '<h2 id="active-2">最活跃的企业</h2>', html=True)
    assertContains(response, "<strong>2</strong> 项协议")
    assertNotContains(response, "Who partners with whom")


def test_choosing_english_again_brings_english_back(client, agreements):
    choose_language(client, "zh-hans", "/")

    response = choose_language(client, "en", "/agreements/")

    assertContains(response, '<html lang="en">')
    assertContains(response, "<h1>Partnership agreements</h1>", html=True)
    assertNotContains(response, "合作协议登记库")


@pytest.mark.parametrize("accept", ["zh-CN", "zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"])
def test_a_browser_that_asks_for_chinese_gets_chinese(client, agreements, accept):
    response = client.get("/agreements/", HTTP_ACCEPT_LANGUAGE=accept)

    assert_chinese_page(response)
    assertContains(response, '<h2 id="results-heading" tabindex="-1">2 项协议</h2>', html=True)
    assert response["Content-Language"] == "zh-hans"


def test_a_browser_that_asks_for_english_gets_english(client, agreements):
    response = client.get("/agreements/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    assertContains(response, '<html lang="en">')
    assertContains(response, '<a href="/agreements/">Agreements</a>', html=True)
    assertNotContains(response, "合作协议登记库")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_label_shown_by_the_display_filter_is_djangos_in_the_visitors_language(language):
    # The filter keeps each field's labels once, lazy: the first language to read them must
    # not become every visitor's.
    records = [Participation(role=role) for role in Role.values]
    records += [Institution(kind=kind) for kind in InstitutionKind.values]
    records += [Lab(status=status) for status in Lab.Status.values]
    with translation.override("zh-hans" if language == "en" else "en"):
        [display(record, field) for record, field in fields_of(records)]
    with translation.override(language):
        for record, field in fields_of(records):
            assert str(display(record, field)) == getattr(record, f"get_{field}_display")()
        assert str(display(Institution(kind="company"), "kind")) == (
            "企业" if language == "zh-hans" else "company"
        )


def fields_of(records):
    names = {Participation: "role", Institution: "kind", Lab: "status"}
    return [(record, names[type(record)]) for record in records]


# The catalogue.


def read_po(path):
    """The entries of a .po file, each a dict: "flags", "msgid", "msgid_plural" and "msgstr"
    (a list, one string per plural form). Obsolete entries (#~) are left out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid") for line in lines):
            continue
        entry = {"flags": set(), "msgctxt": None, "msgid": "", "msgid_plural": None, "msgstr": []}
        field = None
        for line in lines:
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                append(entry, field, ast.literal_eval(line))
            else:
                keyword, text = line.split(" ", 1)
                field = "msgstr" if keyword.startswith("msgstr") else keyword
                if field == "msgstr":
                    entry["msgstr"].append("")
                elif field == "msgid_plural":
                    entry["msgid_plural"] = ""
                append(entry, field, ast.literal_eval(text))
        entries.append(entry)
    return entries


def append(entry, field, text):
    if field == "msgstr":
        entry["msgstr"][-1] += text
    else:
        entry[field] = (entry[field] or "") + text


@pytest.fixture(scope="module")
def catalogue():
    entries = read_po(CATALOGUE / "django.po")
    header = entries[0]
    assert header["msgid"] == ""
    return header, entries[1:]


def test_the_catalogue_header_is_filled_in(catalogue):
    header, _messages = catalogue
    fields = dict(line.split(": ", 1) for line in header["msgstr"][0].splitlines())
    assert fields["Language"] == "zh_Hans"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == "nplurals=1; plural=0;"
    assert "fuzzy" not in header["flags"]


def test_every_message_has_a_checked_translation(catalogue):
    _header, messages = catalogue
    assert len(messages) > 200  # the parser found the catalogue's messages
    untranslated = [m["msgid"] for m in messages if not all(s.strip() for s in m["msgstr"])]
    fuzzy = [m["msgid"] for m in messages if "fuzzy" in m["flags"]]
    assert untranslated == []
    assert fuzzy == []
    # Chinese has one plural form, so a plural message has exactly one translation.
    assert [m["msgid"] for m in messages if m["msgid_plural"] and len(m["msgstr"]) != 1] == []


def test_every_translation_keeps_the_placeholders_of_its_message(catalogue):
    _header, messages = catalogue
    wrong = [
        m["msgid"]
        for m in messages
        for translated in m["msgstr"]
        if sorted(PLACEHOLDER.findall(translated)) != sorted(PLACEHOLDER.findall(m["msgid"]))
    ]
    assert wrong == []


def translate(compiled, message):
    if message["msgctxt"] is not None:
        return compiled.pgettext(message["msgctxt"], message["msgid"])
    if message["msgid_plural"]:
        return compiled.ngettext(message["msgid"], message["msgid_plural"], 1)
    return compiled.gettext(message["msgid"])


def test_the_compiled_catalogue_matches_the_po_file(catalogue):
    """The .mo file is committed, so that a site without gettext still speaks Chinese."""
    _header, messages = catalogue
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = [m["msgid"] for m in messages if translate(compiled, m) != m["msgstr"][0]]
    assert stale == []


def test_the_admins_forms_name_their_fields_and_parts_in_chinese(admin_client):
    """Staff in Chinese universities enter agreements: the forms' labels and the columns of
    their parts (people, sources, other names) are translated, not English field names."""
    agreement = AgreementFactory()
    institution = InstitutionFactory()

    pages = [
        admin_client.get(f"/admin/{path}/{pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans").text
        for path, pk in [
            ("agreements/agreement", agreement.pk),
            ("registry/institution", institution.pk),
        ]
    ]

    for column in ["职务", "所在单位", "顺序", "发布方", "说明"]:  # title, organisation, …
        assert column in pages[0], column
    for label in ["城市", "网站", "其他名称"]:  # city, website, other names
        assert label in pages[1], label


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_model_the_admin_shows_and_its_fields_are_named_in_chinese():
    """The admin's pages name models and fields by their verbose names: in the lists, forms,
    inlines, filters, History pages and the admin's log. Django's own models (users, groups)
    Django translates; ours must not fall back to English identifiers."""
    from django.contrib import admin

    shown = {
        model
        for registered, model_admin in admin.site._registry.items()
        for model in [registered, *(inline.model for inline in model_admin.inlines)]
        if model._meta.app_label != "auth"
    }
    untranslated = []
    with translation.override("zh-hans"):
        for opts in sorted((model._meta for model in shown), key=lambda opts: opts.label):
            names = {
                "app": opts.app_config.verbose_name,
                "model": opts.verbose_name,
                "models": opts.verbose_name_plural,
            }
            for field in opts.get_fields():
                if not field.auto_created and (field.concrete or field.many_to_many):
                    names[field.name] = field.verbose_name
            untranslated += [
                f"{opts.label}.{name}: {text}"
                for name, text in names.items()
                if not CJK.search(str(text))
                # Where a model has no plural of its own, Django adds an "s" (照片s, on the
                # agreement's form); and a name shared with a count's plural is read as the
                # count's ("个机构", as in "3 个机构": "添加 个机构").
                or name in ("model", "models")
                and (re.search("[A-Za-z]", str(text)) or str(text).startswith("个"))
            ]
    assert untranslated == []


def test_the_back_office_and_the_api_answer_in_chinese(admin_client, client):
    index = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").text
    for words in ["合作协议登记库：后台", "机构与技术领域", "协议类型", "技术领域分组"]:
        assert words in index, words
    for english in ["Django", "Agreement types", "Focus area groups", "Back office"]:
        assert english not in index, english

    missing = client.get("/api/agreements/nope/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert missing.status_code == 404
    assert "没有名为“nope”的公开记录。" in missing.text  # not escaped as \u6ca1…
