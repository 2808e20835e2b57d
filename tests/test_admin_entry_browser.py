"""An editor enters an agreement from its article (the TJU–China Telecom–Huawei one of the
seeds) through the admin's form in Chromium, makes mistakes, and loses nothing by them."""

import datetime
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from agreements.models import Agreement
from registry.models import Institution
from tests.factories import (
    FocusAreaFactory,
    InstitutionFactory,
    LabFactory,
    PartyFactory,
    PersonFactory,
    SignedAgreementFactory,
    UserFactory,
    two_companies_with_branches,
)
from tests.test_admin_browser import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TITLE = "TJU, China Telecom and Huawei: strategic cooperation on 5G"
# The branch as the autocompletes name it: with its parent.
BRANCH = "China Telecom Tianjin Branch (China Telecom)"
# (row, person, role, title, on behalf of), as the article names them.
PEOPLE = [
    ("Hu Qinghua", "signatory", "Vice Dean", "Tianjin University"),
    ("Su Weifeng", "signatory", "Deputy General Manager", BRANCH),
    ("Zhu Yubing", "witness", "Deputy Secretary General", None),
    ("Yuan Yingjin", "witness", "Vice President", None),
]


def choose(page, field, text, typed=None):
    """Pick exactly `text` in the select2 autocomplete inside `field` (a cell's locator),
    having typed `typed` (default: `text`; a unit's label, with its parent, is no search)."""
    field.locator(".select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed or text)
    page.locator(".select2-results__option").get_by_text(text, exact=True).click()


def chosen(page, selector):
    """The labels select2 shows in the cells `selector` matches."""
    shown = page.locator(f"{selector} .select2-selection__rendered").all_inner_texts()
    return [text.replace("×", "").strip() for text in shown]  # less the "clear" button


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "signing.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def known():
    """What the registry holds already: all but Huawei, which the editor adds."""
    tju = InstitutionFactory(name="Tianjin University")
    telecom = InstitutionFactory(name="China Telecom")
    InstitutionFactory(name="China Telecom Tianjin Branch", parent=telecom)
    for name, *_ in PEOPLE:
        PersonFactory(name=name)
    for name in ["5G", "Big data"]:
        FocusAreaFactory(name=name)
    LabFactory(name="Joint Innovation Laboratory for Digital Government - Smart City")
    # Entered before by another editor, from the same article (a subset of its parties is
    # not enough for the warning: likely_same_as asks for all of them, or the same title).
    earlier = SignedAgreementFactory(
        title=TITLE.lower(),
        signed_on=datetime.date(2020, 9, 24),
        signed_on_precision="day",
        party__institution=tju,
    )
    PartyFactory(agreement=earlier, institution=telecom)
    return earlier


def test_an_editor_enters_an_agreement_and_a_mistake_in_one_row_loses_nothing(page, known, photo):
    log_in(page, UserFactory(group="Editors"), "/admin/agreements/agreement/add/")
    page.fill("#id_title", TITLE)
    page.select_option("#id_agreement_type", label="strategic cooperation agreement")
    page.fill("#id_signed_on", "2020-09")  # the month alone: the day is not trusted
    page.fill("#id_place", "Tianjin")
    choose(page, page.locator(".field-focus_areas"), "5G")
    choose(page, page.locator(".field-focus_areas"), "Big data")
    page.fill("#id_starts_on", "2020-09")
    page.fill("#id_ends_on", "2019")  # a mistake: before the start

    choose(page, page.locator("#parties-0 .field-institution"), "Tianjin University")
    choose(page, page.locator("#parties-1 .field-institution"), "China Telecom")
    choose(page, page.locator("#parties-1 .field-unit"), BRANCH, "Tianjin Branch")
    page.locator("#parties-group .add-row a").click()
    # Huawei is not in the registry yet: added through the "+" beside the field.
    with page.expect_popup() as opened:
        page.click("#add_id_parties-2-institution")
    popup = opened.value
    popup.fill("#id_name", "Huawei Technologies")
    popup.select_option("#id_kind", "company")
    popup.select_option("#id_country", "CN")
    popup.click("input[name=_save]")
    popup.wait_for_event("close")
    assert chosen(page, "#parties-2 .field-institution") == ["Huawei Technologies"]

    for row, (person, role, title, behalf) in enumerate(PEOPLE):
        if row:
            page.locator("#participations-group .add-row a").click()
        if row != 2:  # a mistake: the third has no name
            choose(page, page.locator(f"#participations-{row} .field-person"), person)
        page.select_option(f"#id_participations-{row}-role", role)
        page.fill(f"#id_participations-{row}-title", title)
        if behalf:
            typed = behalf.split(" (")[0]
            choose(page, page.locator(f"#participations-{row} .field-on_behalf_of"), behalf, typed)
    page.fill("#id_sources-0-url", "http://news.tju.edu.cn/info/1003/55000.htm")
    page.fill("#id_sources-0-publisher", "Tianjin University")
    page.fill("#id_sources-0-published_on", "2020-10")
    page.locator("#photos-group .add-row a").click()
    page.set_input_files("#id_photos-0-image", photo)
    page.fill("#id_photos-0-caption", "The signing ceremony")
    page.click("input[name=_submit]")  # Save and submit for review

    # Refused: nothing saved, nothing submitted; each mistake said where it is.
    expect(page.locator(".errornote")).to_be_visible()
    assert not Agreement.objects.filter(title=TITLE).exists()
    expect(page.locator(".field-ends_on .errorlist")).to_contain_text("cannot end before")
    expect(page.locator("#participations-2 .field-person .errorlist")).to_contain_text("required")
    # Everything else is as the editor left it: values, rows in order, autocompletes' labels.
    assert page.input_value("#id_signed_on") == "2020-09"
    assert page.input_value("#id_place") == "Tianjin"
    assert [
        text.lstrip("×")
        for text in page.locator(".field-focus_areas .select2-selection__choice").all_inner_texts()
    ] == ["5G", "Big data"]
    assert chosen(page, ".dynamic-parties .field-institution") == [
        "Tianjin University",
        "China Telecom",
        "Huawei Technologies",
    ]
    assert chosen(page, "#parties-1 .field-unit") == [BRANCH]
    assert chosen(page, ".dynamic-participations .field-person") == [
        "Hu Qinghua",
        "Su Weifeng",
        "",
        "Yuan Yingjin",
    ]
    assert [page.input_value(f"#id_participations-{row}-title") for row in range(4)] == [
        title for _, _, title, _ in PEOPLE
    ]
    assert chosen(page, "#participations-1 .field-on_behalf_of") == [BRANCH]
    assert page.input_value("#id_sources-0-published_on") == "2020-10"
    assert page.input_value("#id_photos-0-caption") == "The signing ceremony"
    # The photo cannot be kept by the browser: said at the top and beside its box, by name;
    # and no thumbnail of a file never stored.
    expect(page.locator(".messagelist .warning")).to_contain_text("choose them again")
    expect(page.locator("#photos-0 .field-image .errorlist")).to_contain_text(
        "“signing.jpg” was not kept"
    )
    # Read with its box by a screen reader too (the row's box has no label of its own).
    expect(page.locator("#id_photos-0-image")).to_have_accessible_description(
        "“signing.jpg” was not kept, as the form was not saved: choose it again."
    )
    expect(page.locator("#photos-0 img")).to_have_count(0)

    # Corrected, and the photo chosen again: saved and submitted, and told of the agreement
    # entered before.
    choose(page, page.locator("#participations-2 .field-person"), "Zhu Yubing")
    page.fill("#id_ends_on", "2025-09")
    page.set_input_files("#id_photos-0-image", photo)
    page.locator("#labagreement_set-group .add-row a").click()
    lab_row = page.locator("#labagreement_set-0")
    choose(
        page,
        lab_row.locator(".field-lab"),
        "Joint Innovation Laboratory for Digital Government - Smart City",
    )
    lab_row.locator("select[name$=-outcome]").select_option("founded")
    page.click("input[name=_submit]")

    warning = page.locator(".messagelist .warning")
    expect(warning).to_contain_text("may be an agreement entered already")
    expect(warning.get_by_role("link")).to_have_text(f"“{known.title}”")
    agreement = Agreement.objects.get(title=TITLE)
    assert agreement.status == Agreement.Status.REVIEW
    assert (agreement.signed_on, agreement.signed_on_precision) == (
        datetime.date(2020, 9, 1),
        "month",
    )
    assert [(p.institution.name, p.unit and p.unit.name) for p in agreement.parties.all()] == [
        ("Tianjin University", None),
        ("China Telecom", "China Telecom Tianjin Branch"),
        ("Huawei Technologies", None),
    ]
    assert Institution.objects.get(name="Huawei Technologies").kind == "company"
    assert [
        (p.person.name, p.role, p.title, p.party and str(p.party))
        for p in agreement.participations.select_related("person", "party__unit")
    ] == [
        ("Hu Qinghua", "signatory", "Vice Dean", "Tianjin University"),
        (
            "Su Weifeng",
            "signatory",
            "Deputy General Manager",
            "China Telecom (China Telecom Tianjin Branch)",
        ),
        ("Zhu Yubing", "witness", "Deputy Secretary General", None),
        ("Yuan Yingjin", "witness", "Vice President", None),
    ]
    source = agreement.sources.get()
    assert (source.published_on_precision, source.publisher) == ("month", "Tianjin University")
    stored = agreement.photos.get()
    assert stored.image and stored.thumbnail and stored.caption == "The signing ceremony"
    assert [lab.name for lab in agreement.labs.all()] == [
        "Joint Innovation Laboratory for Digital Government - Smart City"
    ]


def test_in_chinese_the_form_s_labels_dates_and_errors_are_chinese_and_nothing_is_lost(
    browser, live_server, known, photo
):
    context = browser.new_context(
        base_url=live_server.url, extra_http_headers={"Accept-Language": "zh-Hans"}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, UserFactory(group="Editors"), "/admin/agreements/agreement/add/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    expect(page.locator("label[for=id_signed_on]")).to_have_text("签约日期:")
    page.fill("#id_title", TITLE)
    page.select_option("#id_agreement_type", label="strategic cooperation agreement")
    page.fill("#id_signed_on", "2020-09")
    page.fill("#id_starts_on", "2020-09")
    page.fill("#id_ends_on", "2019")
    choose(page, page.locator("#parties-0 .field-institution"), "Tianjin University")
    choose(page, page.locator("#participations-0 .field-person"), "Yuan Yingjin")
    page.select_option("#id_participations-0-role", "witness")
    page.locator("#photos-group .add-row a").click()
    page.set_input_files("#id_photos-0-image", photo)
    page.click("input[name=_submit]")

    expect(page.locator(".field-ends_on .errorlist")).to_have_text(
        "期限的结束日期不能早于开始日期。"
    )
    assert not Agreement.objects.filter(title=TITLE).exists()
    assert page.input_value("#id_signed_on") == "2020-09"
    assert chosen(page, "#parties-0 .field-institution") == ["Tianjin University"]
    assert chosen(page, "#participations-0 .field-person") == ["Yuan Yingjin"]
    expect(page.locator("#photos-0 .field-image .errorlist")).to_contain_text("signing.jpg")
    expect(page.locator("#id_photos-0-image")).to_have_accessible_description(
        re.compile("“signing.jpg”")
    )
    context.close()


def test_a_partys_unit_is_chosen_among_the_units_of_the_rows_institution(page):
    # Offered every institution of the registry, an editor picked the Tianjin Branch of the
    # wrong company and learnt of it only when the whole form was refused.
    two_companies_with_branches()
    log_in(page, UserFactory(group="Editors"), "/admin/agreements/agreement/add/")

    def offers(row, typed, expected):
        """The unit's box of party `row`, searched for `typed`, offers `expected` alone."""
        page.locator(f"#parties-{row} .field-unit .select2-selection").click()
        page.locator(".select2-container--open .select2-search__field").fill(typed)
        options = page.locator(".select2-container--open .select2-results__option")
        expect(options).to_have_text(expected)
        # Closed by a click elsewhere: after Escape, select2 left out the next search typed.
        page.locator("h1").click()

    choose(page, page.locator("#parties-0 .field-institution"), "China Telecom")
    offers(0, "tianjin", ["Tianjin Branch (China Telecom)"])
    offers(0, "", ["Binhai Office (Tianjin Branch)", "Tianjin Branch (China Telecom)"])
    # The list follows the row's institution.
    choose(page, page.locator("#parties-0 .field-institution"), "China Unicom")
    offers(0, "tianjin", ["Tianjin Branch (China Unicom)"])
    choose(page, page.locator("#parties-0 .field-unit"), "Tianjin Branch (China Unicom)", "tianjin")

    # In a row added since, with no institution yet: the units of any, and only units.
    page.locator("#parties-group .add-row a").click()
    offers(2, "tianjin", ["Tianjin Branch (China Telecom)", "Tianjin Branch (China Unicom)"])
    choose(page, page.locator("#parties-2 .field-institution"), "China Telecom")
    offers(2, "tianjin", ["Tianjin Branch (China Telecom)"])
    choose(
        page, page.locator("#parties-2 .field-unit"), "Tianjin Branch (China Telecom)", "tianjin"
    )

    assert chosen(page, ".dynamic-parties .field-unit") == [
        "Tianjin Branch (China Unicom)",
        "",
        "Tianjin Branch (China Telecom)",
    ]
