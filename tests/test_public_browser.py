"""A new visitor's journey on the demo data, in headless Chromium, and every public page
checked with axe-core."""

import csv
import io
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import expect

# serialized_rollback: agreement types and staff groups come from data migrations, which a
# transactional test would otherwise flush away.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO = Path(__file__).resolve().parent.parent / "demo" / "agreements.jsonl"
LANGUAGES = ["en", "zh-hans"]


@pytest.fixture
def demo():
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())


def result_titles(page):
    return page.locator(".results .card h3 a").all_inner_texts()


def facet_link(page, facet, value):
    fieldset = page.locator(".facets fieldset", has=page.locator("legend", has_text=facet))
    return fieldset.locator("a", has=page.get_by_text(value, exact=True))


def test_search_filter_back_and_download(page, demo, live_server):
    page.goto("/")
    page.get_by_role("search").get_by_role("searchbox").fill("Huawei")
    page.get_by_role("search").get_by_role("button").click()
    page.wait_for_url("**/agreements/?q=Huawei")
    assert len(result_titles(page)) == 2

    # A live (htmx) filter: the URL follows, the results and counts agree.
    tianjin_only = facet_link(page, "Technology", "digital government")
    count = int(tianjin_only.locator(".count").inner_text())
    tianjin_only.click()
    page.wait_for_url("**focus_area=digital-government**")
    titles = result_titles(page)
    assert len(titles) == count == 1
    assert "Tianjin" in titles[0] or "TJU" in titles[0]

    # The back button returns to the unfiltered search.
    page.go_back()
    page.wait_for_url("**/agreements/?q=Huawei")
    page.locator(".results .card").nth(1).wait_for()
    assert len(result_titles(page)) == 2

    # The CSV download of the filtered view holds exactly the rows shown.
    page.go_forward()
    page.wait_for_url("**focus_area=digital-government**")
    href = page.get_by_role("link", name="CSV").get_attribute("href")
    response = page.request.get(live_server.url + "/agreements/" + href.split("/agreements/")[1])
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert [row["title"] for row in rows] == result_titles(page)


def test_a_language_chosen_after_a_live_search_keeps_the_search(page, demo, live_server):
    page.goto("/agreements/")
    page.locator("#id_q").fill("Huawei")
    page.wait_for_url("**q=Huawei**")
    page.locator(".results .card").nth(1).wait_for()

    page.locator("#language").select_option("zh-hans")
    page.locator("form.language button").click()

    page.wait_for_load_state()
    assert "q=Huawei" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert len(result_titles(page)) == 2


def test_a_live_search_the_server_refuses_shows_why(page, demo, live_server):
    page.goto("/agreements/")
    page.locator("#id_q").fill("Hua\x00wei")  # a NUL character: a request it cannot read

    page.get_by_text("This request cannot be read").wait_for()
    assert "q=Hua%00wei" in page.url


def test_the_title_and_the_number_said_follow_a_live_filter_back_and_forward(page, demo):
    page.goto("/agreements/?q=Huawei")
    status = page.locator("#search-status")
    searched = "Agreements matching “Huawei” · Partnership Registry"
    expect(page).to_have_title(searched)
    facet_link(page, "Technology", "digital government").click()
    page.wait_for_url("**focus_area=digital-government**")
    filtered = "Agreements matching “Huawei”; Technology: digital government · Partnership Registry"
    expect(page).to_have_title(filtered)
    expect(status).to_have_text("1 agreement")
    # Back, the page is put back in place as it was on arrival (its live region empty): the
    # number found is said again, as after a live update.
    page.go_back()
    expect(page).to_have_title(searched)
    expect(status).to_have_text("2 agreements")
    assert len(result_titles(page)) == 2
    page.go_forward()
    expect(page).to_have_title(filtered)
    expect(status).to_have_text("1 agreement")
    assert len(result_titles(page)) == 1


def test_a_live_filter_keeps_the_keyboard_in_place_and_says_what_it_found(page, demo):
    page.goto("/agreements/?q=Huawei")
    tianjin_only = facet_link(page, "Technology", "digital government")
    link_id = tianjin_only.get_attribute("id")
    tianjin_only.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**focus_area=digital-government**")

    # Focus is back on the link just chosen, not lost to the top of the page, and the number
    # found is in the live region, which a screen reader reads out.
    expect(page.locator(f"#{link_id}")).to_be_focused()
    status = page.locator("#search-status")
    assert status.get_attribute("role") == "status"
    expect(status).to_have_text("1 agreement")

    # A link that is gone after the update (the removed filter's): focus goes to the results.
    page.get_by_role("link", name="Technology: digital government").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/agreements/?q=Huawei")
    expect(page.locator("#results-heading")).to_be_focused()
    expect(status).to_have_text("2 agreements")


def test_a_live_filter_unfolds_the_other_values_to_keep_the_focus_on_its_link(page, demo):
    from agreements.models import Agreement
    from registry.models import FocusArea

    agreement = Agreement.objects.get(slug="ecnu-huawei-2019")
    agreement.focus_areas.add(
        *(FocusArea.objects.create(name=f"Area {n:02}", slug=f"area-{n:02}") for n in range(12))
    )
    page.goto("/agreements/")
    technology = page.locator(".facets fieldset", has=page.locator("legend", has_text="Technology"))
    technology.locator("summary").click()
    folded = technology.locator("details a").last
    link_id = folded.get_attribute("id")
    link = page.locator(f"#{link_id}")

    # Chosen, it is listed with the first values, and keeps the focus.
    folded.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**focus_area=**")
    expect(link).to_be_focused()
    assert link.get_attribute("aria-current") == "true"
    # Removed, it is back behind "N more", which is unfolded for it.
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "focus_area" not in url)
    expect(link).to_be_focused()
    assert technology.locator("details").get_attribute("open") is not None


def test_enter_in_the_search_s_boxes_searches_live(page, demo):
    logged = []
    page.on("console", lambda message: logged.append(message.text))
    page.goto("/agreements/")
    page.evaluate("window.notReloaded = true")  # which a page loaded anew would not have
    box = page.locator("#id_q")
    box.fill("Huawei")
    box.press("Enter")
    page.wait_for_url("**q=Huawei**")
    expect(page.locator("#search-status")).to_have_text("2 agreements")
    expect(box).to_be_focused()
    years = page.locator("#id_signed_to")
    years.fill("2019")
    years.press("Enter")
    page.wait_for_url("**signed_to=2019**")
    expect(page.locator("#search-status")).to_have_text("1 agreement")
    expect(years).to_be_focused()
    # Live both times: the form was submitted as a plain one (the page loaded anew, the
    # keyboard's place lost), its trigger misread ("from:.years input", an error logged).
    assert page.evaluate("window.notReloaded") is True
    assert [text for text in logged if "error" in text] == []


def test_an_agreement_opened_from_live_results_shows_and_back_returns_to_them(page, demo):
    page.goto("/agreements/")
    page.locator("#id_q").fill("Huawei")
    page.wait_for_url("**q=Huawei**")
    page.locator(".results .card").nth(1).wait_for()
    first = result_titles(page)[0]

    # A link out of the search is followed as a link, not taken over by the live search
    # (which looked in the agreement's page for results it has not, and showed nothing).
    page.get_by_role("link", name=first).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first)
    page.go_back()
    page.wait_for_url("**q=Huawei**")
    assert result_titles(page)[0] == first

    # So is an institution of the network's table, below the results.
    page.locator(".network summary").click()
    institution = page.locator(".network td a, .network th a").first
    name = institution.inner_text()
    institution.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def hold_live_searches(page):
    """The live searches' requests, held until the test lets each go (`held.pop(0).continue_()`):
    an answer still on its way while the visitor types on."""
    held = []
    page.route(
        "**/agreements/?*",
        lambda route: (
            held.append(route) if route.request.headers.get("hx-request") else route.continue_()
        ),
    )
    return held


def wait_for(page, condition):
    for _ in range(100):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("waited 5 s in vain")


def test_words_typed_while_a_live_search_is_on_its_way_are_kept(page, demo):
    page.goto("/agreements/")
    held = hold_live_searches(page)
    box = page.locator("#id_q")
    box.press_sequentially("Hua")
    wait_for(page, lambda: held)
    box.press_sequentially("wei")

    # The answer for "Hua" comes after "wei" was typed: it does not put "Hua" back in the box
    # (as it did, the "wei" lost), nor show its results under the box's words.
    held.pop(0).continue_()
    wait_for(page, lambda: held)  # the search for "Huawei", asked once typing paused
    expect(box).to_have_value("Huawei")
    assert "q=Hua&" not in page.url
    held.pop(0).continue_()
    page.wait_for_url("**q=Huawei**")
    expect(box).to_have_value("Huawei")
    expect(page.locator("#results-heading")).to_have_text("2 agreements")


def test_a_filter_chosen_while_a_live_search_is_on_its_way_calls_it_off(page, demo):
    page.goto("/agreements/?q=Huawei")
    held = hold_live_searches(page)
    called_off = []
    page.on("requestfailed", lambda request: called_off.append(request.url))
    page.locator("#id_q").fill("Tianjin")
    wait_for(page, lambda: held)
    facet_link(page, "Technology", "digital government").click()
    wait_for(page, lambda: len(held) == 2)
    held.pop().continue_()
    page.wait_for_url("**focus_area=digital-government**")
    expect(page.locator("#search-status")).to_have_text("1 agreement")

    # The search for "Tianjin", asked first, is called off: answered after the filter's, it
    # put its address in the address bar over the results shown (and its own nowhere).
    wait_for(page, lambda: called_off)
    assert "q=Tianjin" in called_off[0]
    assert "focus_area=digital-government" in page.url


def test_a_pause_after_a_word_in_a_live_search_keeps_its_space(page, demo):
    page.goto("/agreements/")
    box = page.locator("#id_q")
    box.press_sequentially("digital ")
    page.wait_for_url("**q=digital%20**")
    expect(page.locator("#search-status")).not_to_be_empty()
    box.press_sequentially("government")
    page.wait_for_url("**q=digital%20government**")
    expect(box).to_have_value("digital government")


def test_a_link_pressed_as_soon_as_a_live_update_shows_it_is_live_too(page, demo):
    page.goto("/agreements/?q=Huawei")
    link = facet_link(page, "Technology", "digital government")
    link_id = link.get_attribute("id")
    # Marks the page, which a plain link's new page would not have, and presses the focused
    # link (the one chosen) as soon as the update is shown, before anything else runs.
    page.evaluate("""() => {
        window.notReloaded = true;
        document.addEventListener("htmx:afterSwap", () => {
            setTimeout(() => document.activeElement.click(), 0);
        }, {once: true});
    }""")
    link.focus()
    page.keyboard.press("Enter")
    # Chosen, then removed by the second press: the search is back to "Huawei" alone, live.
    page.wait_for_url(lambda url: url.endswith("/agreements/?q=Huawei"))
    expect(page.locator("#search-status")).to_have_text("2 agreements")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator(f"#{link_id}")).to_be_focused()


def test_search_works_without_javascript(browser, live_server, demo, monkeypatch):
    monkeypatch.setattr("agreements.views.PAGE_SIZE", 1)  # the demo's two agreements: 2 pages
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/agreements/")
    # Words and sort are asked with the form's button.
    page.locator("#id_q").fill("Huawei")
    page.locator("#id_sort").select_option("signed")
    page.locator("#search-form").get_by_role("button").click()
    assert "q=Huawei" in page.url and "sort=signed" in page.url
    first = result_titles(page)
    page.get_by_role("link", name="Next").click()
    assert "page=2" in page.url and result_titles(page) != first
    expect(page).to_have_title("Agreements matching “Huawei” (Page 2 of 2) · Partnership Registry")
    # The charts' numbers unfold without a script; a year there is a link to its search.
    page.locator(".chart-data summary").first.click()
    page.locator(".chart-data").first.get_by_role("link").first.click()
    assert "signed_from=" in page.url and "q=Huawei" in page.url
    # A filter is a link, and so is its removal; the language is kept with the search.
    page.goto("/agreements/?q=Huawei")
    facet_link(page, "Technology", "digital government").click()
    assert len(result_titles(page)) == 1
    page.locator("#language").select_option("zh-hans")
    page.locator("form.language button").click()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "focus_area=digital-government" in page.url and len(result_titles(page)) == 1
    page.locator(".active-filters a.tag").last.click()
    assert "focus_area" not in page.url and len(result_titles(page)) == 1  # page 1 of 2
    # The downloads and the feed are plain links too.
    with page.expect_download() as download:
        page.locator(".downloads a", has_text="CSV").click()
    assert download.value.suggested_filename == "agreements-huawei.csv"
    feed = page.locator(".feed-link a").get_attribute("href")
    assert (
        page.request.get(live_server.url + feed)
        .headers["content-type"]
        .startswith("application/atom+xml")
    )
    # An agreement opens.
    title = result_titles(page)[0]
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    context.close()


PUBLIC_PAGES = [
    "/",
    "/agreements/",
    "/agreements/?q=Huawei&focus_area=digital-government",
    "/agreements/?q=Huawai",
    "/agreements/ecnu-huawei-2019/",
    "/agreements/tju-china-telecom-huawei-2020/",
    "/institutions/",
    "/technologies/",
    "/labs/",
]


def public_pages():
    """PUBLIC_PAGES and the records of the demo's second agreement: its parties (with their
    partners' tables and networks), a person, its labs and a technology."""
    from agreements.models import Agreement

    pages = list(PUBLIC_PAGES)
    agreement = Agreement.objects.published().get(slug="tju-china-telecom-huawei-2020")
    for party in agreement.parties.all():
        pages.append(party.institution.get_absolute_url())
        pages.append(f"{party.institution.get_absolute_url()}people/")
    for participation in agreement.participations.all()[:1]:
        pages.append(participation.person.get_absolute_url())
    for lab in agreement.labs.all():
        pages.append(lab.get_absolute_url())
    for area in agreement.focus_areas.all()[:1]:
        pages.append(area.get_absolute_url())
    return pages


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_have_no_accessibility_violations(page, demo, language):
    # Every impact, minor ones too: a scrolling table once repeated its section's name as a
    # second landmark (axe's landmark-unique, "moderate").
    page.set_extra_http_headers({"Accept-Language": language})
    axe = Axe()
    problems = []
    for address in public_pages():
        response = page.goto(address)
        assert response.status == 200, address
        results = axe.run(page)
        problems += [
            f"{address}: {violation['id']} ({violation['impact']})"
            for violation in results.response["violations"]
        ]
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_fit_a_phone_screen_without_scrolling_sideways(page, demo, language):
    # 320 CSS pixels, the width at which WCAG asks content to reflow. A table wider than that
    # scrolls in its own box, which must then be reachable by keyboard.
    page.set_extra_http_headers({"Accept-Language": language})
    page.set_viewport_size({"width": 320, "height": 640})
    too_wide = []
    for address in public_pages():
        assert page.goto(address).status == 200, address
        # Opened too: the tables of a chart's numbers, a facet's other values.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide.append(f"{address}: {width} px")
        for region in page.locator(".table-scroll").all():
            assert region.get_attribute("tabindex") == "0", address
            assert page.locator(f"#{region.get_attribute('aria-labelledby')}").count() == 1
    assert too_wide == []


def send_form(page, address, fields):
    """Send `fields` to `address` as a form of the page would (a POST): the answer."""
    with page.expect_navigation() as answer:
        page.evaluate(
            """([address, fields]) => {
                const form = Object.assign(document.createElement("form"),
                                           {method: "post", action: address});
                for (const [name, value] of Object.entries(fields)) {
                    form.append(Object.assign(document.createElement("input"), {name, value}));
                }
                document.body.append(form);
                form.submit();
            }""",
            [address, fields],
        )
    return answer.value


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pages_of_a_refusal_meet_the_public_pages_bar(page, settings, language):
    """The site's pages that refuse (a form sent where none is taken, a stale form, too many
    sign-ins or password resets, an admin page a staff member may not see) are in the site's
    layout, in the admin too: no violation of any impact, and none scrolls sideways on a
    phone. (A guard: each met the bar when it was added.)"""
    from tests.factories import UserFactory
    from tests.test_admin_browser import log_in

    settings.LOGIN_FAILURE_LIMIT = settings.PASSWORD_RESET_MAIL_LIMIT = 0  # the first is refused
    page.set_extra_http_headers({"Accept-Language": language})
    page.set_viewport_size({"width": 320, "height": 640})
    axe = Axe()
    problems = []

    def check(expected_status, status):
        assert status == expected_status, page.url
        problems.extend(
            f"{page.url}: {violation['id']} ({violation['impact']})"
            for violation in axe.run(page).response["violations"]
        )
        if (width := page.evaluate("document.documentElement.scrollWidth")) > 320:
            problems.append(f"{page.url}: {width} px")

    def sent(address, fields):
        return send_form(page, address, fields).status

    page.goto("/")
    check(405, sent("/", {"q": "Huawei"}))
    check(403, sent("/i18n/setlang/", {"language": "zh-hans"}))  # no CSRF token
    page.goto("/admin/login/")
    page.fill("#id_username", "wang.li")
    page.fill("#id_password", "wrong")
    with page.expect_navigation() as answer:
        page.click("#login-form [type=submit]")
    check(429, answer.value.status)
    page.goto("/admin/password_reset/")
    page.fill("#id_email", "wang.li@example.edu")
    with page.expect_navigation() as answer:
        page.click("#content [type=submit]")
    check(429, answer.value.status)
    settings.LOGIN_FAILURE_LIMIT = 5
    log_in(page, UserFactory(group="Editors"), "/admin/")
    check(403, page.goto("/admin/auth/user/").status)
    check(403, sent("/admin/agreements/agreement/add/", {"csrfmiddlewaretoken": "x" * 64}))
    assert problems == []


def test_on_a_phone_the_results_come_first_and_link_to_the_filters(page, demo):
    page.set_viewport_size({"width": 390, "height": 700})
    page.goto("/agreements/")
    results = page.locator("#results-heading").bounding_box()
    assert results["y"] < page.locator("#filters").bounding_box()["y"]
    page.get_by_role("link", name="Filters").click()
    assert page.evaluate("location.hash") == "#filters"
    assert page.locator("#filters legend").first.is_visible()
    page.set_viewport_size({"width": 1280, "height": 700})
    assert not page.get_by_role("link", name="Filters").is_visible()


def test_a_printed_page_is_its_content_without_the_ways_around_the_site(page, demo):
    page.goto("/agreements/?q=huawei")
    page.emulate_media(media="print")
    for way in ("nav[aria-label='Main']", ".site-search", ".language", "#filters", "#search-form",
                ".downloads", ".feed-link"):  # fmt: skip
        expect(page.locator(way).first).to_be_hidden()
    expect(page.locator(".results .card").first).to_be_visible()
    assert page.goto("/agreements/ecnu-huawei-2019/").status == 200
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("nav[aria-label='Main']")).to_be_hidden()
    page.emulate_media(media="screen")
    expect(page.locator("nav[aria-label='Main']")).to_be_visible()


def test_names_of_one_long_word_wrap_on_a_phone_screen(page):
    # A name may be one word longer than a phone's screen (a 300-character German compound, a
    # transliteration without spaces, an address as a title): it breaks rather than pushing
    # the page sideways.
    from tests.factories import (
        AgreementFactory,
        FocusAreaFactory,
        LabAgreementFactory,
        LabFactory,
        LabHostFactory,
        ParticipationFactory,
        PartyFactory,
        PersonFactory,
        SourceFactory,
    )

    word = "Forschungs" + "zusammenarbeits" * 18  # 280 characters, no break
    agreement = AgreementFactory(
        status="published", title=word, place=word, summary=word, slug="long-words"
    )
    party = PartyFactory(agreement=agreement, institution__name=word[:200]).institution
    PartyFactory(agreement=agreement, institution__name="Other " + word[:190])
    person = PersonFactory(name=word[:200])
    ParticipationFactory(agreement=agreement, person=person, title=word, organisation=party)
    lab = LabFactory(name=word, description=word)
    LabAgreementFactory(agreement=agreement, lab=lab)
    LabHostFactory(lab=lab, institution=party)
    area = FocusAreaFactory(name=word[:100])
    agreement.focus_areas.add(area)
    SourceFactory(agreement=agreement, title=word, url="https://example.org/" + word)
    page.set_viewport_size({"width": 320, "height": 640})
    too_wide = []
    for address in [
        "/",
        agreement.get_absolute_url(),
        "/agreements/",
        party.get_absolute_url(),
        f"{party.get_absolute_url()}people/",
        "/institutions/",
        person.get_absolute_url(),
        lab.get_absolute_url(),
        "/labs/",
        area.get_absolute_url(),
        "/technologies/",
    ]:
        assert page.goto(address).status == 200, address
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide.append(f"{address}: {width} px")
    assert too_wide == []
