"""The web shell in a real browser: sign in, find a place, open it, sign out; nothing from the internet."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from reliefops.core.roles import Role, role_has
from reliefops.web.context import NAVIGATION
from tests.browser.fixtures import PASSWORD
from tests.factories import make_user
from tests.web.pages import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_search_open_a_place_and_sign_out(kashmir, page):
    # given a viewer account and the sign-in page, reached by asking for the overview
    user = make_user(Role.VIEWER)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    # when they sign in through the form
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # then the overview greets them with their role, and the navigation their role allows
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.locator(".site-header")).to_contain_text(user.username)
    expect(page.locator(".site-header .account .role")).to_have_text("Viewer")
    nav = page.get_by_role("navigation", name="Main")
    allowed = [item.label for item in NAVIGATION if role_has(Role.VIEWER, item.right)]
    expect(nav.get_by_role("link")).to_have_text(allowed)
    assert allowed[:6] == ["Overview", "Admin areas", "Sites", "Organisations", "Items", "Kits"]

    # when they open the admin areas and type an old spelling into the search box
    nav.get_by_role("link", name="Admin areas").click()
    expect(page.get_by_role("heading", name="Admin areas", level=1)).to_be_visible()
    page.get_by_label("Search").press_sequentially("Battagram", delay=20)
    # then the results narrow to Batagram as they type (htmx), and the address keeps the search
    results = page.locator("#results")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("PK504")
    expect(page).to_have_url(re.compile(r"q=Battagram"))

    # when they open it
    results.get_by_role("link", name="Batagram").click()
    # (as a reader would, once the page is drawn: until its stylesheet is in, the Sign out of the
    # phone's menu shows beside the header's)
    page.wait_for_load_state("load")
    # then its page shows the P-code and the chain of parents
    expect(page.get_by_role("heading", level=1)).to_contain_text("Batagram")
    expect(page.get_by_role("heading", level=1)).to_contain_text("PK504")
    expect(page.locator(".breadcrumbs")).to_contain_text("Khyber Pakhtunkhwa")

    # when they sign out
    page.get_by_role("button", name="Sign out").click()
    # then they are back on the sign-in page, told so, and the overview asks them to sign in again
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator(".messages")).to_contain_text("You have signed out.")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_a_wrong_password_keeps_the_user_out(kashmir, page):
    user = make_user(Role.VIEWER)
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.locator(".site-header .account")).to_have_count(0)


def test_filters_narrow_the_list_and_pages_keep_them(kashmir, signed_in_page):
    # given a signed-in distributor on the sites page
    page = signed_in_page(Role.DISTRIBUTOR)
    page.goto("/places/sites/")
    expect(page.locator("#results tbody tr")).to_have_count(4)
    # when they choose an area and a kind
    page.get_by_label("In area").select_option("PK5")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    page.get_by_label("Kind").select_option("hub")
    # then only the hubs of that province (and its districts and tehsils) remain
    expect(page.locator("#results tbody tr")).to_have_count(2)
    expect(page.locator("#results")).to_contain_text("Balakot forward hub")
    expect(page.locator("#results")).not_to_contain_text("Muzaffarabad hub")
    expect(page).to_have_url(re.compile(r"area=PK5.*kind=hub|kind=hub.*area=PK5"))


def test_site_detail_shows_where_it_is_and_what_it_supplies(kashmir, signed_in_page):
    page = signed_in_page(Role.HUB_MANAGER)
    page.goto(f"/places/sites/{kashmir.balakot_hub.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Balakot forward hub")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("Bala Kot")
    expect(facts).to_contain_text("Mansehra hub")
    expect(facts).to_contain_text("34.5477° N, 73.3527° E")
    page.get_by_role("link", name="Kaghan distribution point").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kaghan distribution point")


def test_search_works_without_javascript(kashmir, browser, live_server, traffic):
    # given a browser with JavaScript switched off, signed in through the form
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        user = make_user(Role.REGISTRAR)
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/catalog/items/")
        # when they search and submit the form
        page.get_by_label("Search").fill("blank")
        page.get_by_role("button", name="Search").click()
        # then the whole page comes back with the result
        expect(page).to_have_url(re.compile(r"/catalog/items/\?q=blank"))
        expect(page.locator("#results tbody tr")).to_have_count(1)
        expect(page.locator("#results")).to_contain_text("Blanket")
    finally:
        context.close()


def test_every_page_loads_only_from_this_server(kashmir, signed_in_page, traffic):
    # given a signed-in admin
    page = signed_in_page(Role.ADMIN)
    # when every page of the shell, the sign-in page and the data admin are opened
    for _page_id, url_of in PAGES:
        response = page.goto(url_of(kashmir))  # returns once the page and its resources have loaded
        assert response.status == 200
    assert page.goto("/admin/places/site/").status == 200
    # then the pages loaded their styles and scripts, all from this server (the context refuses
    # and reports any other host)
    assert traffic.requested, "no request was recorded"
    paths = traffic.paths()
    assert any(path.endswith("/web/reliefops.css") for path in paths)
    assert any(path.endswith("/web/vendor/htmx.min.js") for path in paths)
    assert traffic.foreign == []


def test_pages_fit_a_phone_screen(kashmir, signed_in_page):
    # given a signed-in viewer on a 360-pixel-wide phone screen
    page = signed_in_page(Role.VIEWER)
    page.set_viewport_size({"width": 360, "height": 740})
    for url in ("/", "/places/areas/", f"/places/sites/{kashmir.balakot_hub.pk}/", "/catalog/items/"):
        page.goto(url)
        # then the page does not scroll sideways (wide tables scroll inside their own box)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} is {overflow}px wider than the screen"
        # and the header is one line, the name and the Menu button, leaving the screen to the page
        header = page.locator(".site-header .bar").bounding_box()
        assert header is not None
        assert header["height"] <= 72, f"{url}: header {header}"
        # and the account's actions are at the foot of the menu
        expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
        page.get_by_role("button", name="Menu").click()
        expect(
            page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out")
        ).to_be_visible()
        expect(page.get_by_role("link", name="Change password")).to_be_visible()


def test_a_filter_that_cannot_be_read_is_marked_until_it_is_corrected(kashmir, signed_in_page):
    # given an old link whose filter is no longer one of its choices
    page = signed_in_page(Role.DISTRIBUTOR)
    response = page.goto("/places/sites/?kind=castle")
    # then nothing is listed, and the filter says why
    assert response.status == 422
    expect(page.locator("#results")).to_contain_text("Nothing is listed for these filters: Kind:")
    expect(page.locator("#errors-kind")).to_contain_text(
        "'castle' is not one of its choices; pick one from the list"
    )
    expect(page.locator("#results tbody tr")).to_have_count(0)
    # when the user picks a kind that is one (the list follows as they choose)
    page.get_by_label("Kind").select_option("hub")
    # then the list shows the hubs and the error beside the filter is gone
    expect(page.locator("#results tbody tr")).to_have_count(3)
    expect(page.locator("#errors-kind")).to_be_empty()
    # and a search that cannot be read, typed into the page, shows its refusal in place of the list
    page.get_by_label("Search").evaluate("input => input.removeAttribute('maxlength')")
    page.get_by_label("Search").fill("x" * 101)
    expect(page.locator("#results")).to_contain_text("Nothing is listed for these filters: Search:")
    expect(page.locator("#errors-q")).to_contain_text("longer than 100 characters; shorten it")
    expect(page.locator("#results tbody tr")).to_have_count(0)


def test_back_after_a_live_search_shows_the_whole_page(kashmir, signed_in_page):
    # given a live search on the admin areas
    page = signed_in_page(Role.VIEWER)
    page.goto("/places/areas/")
    page.get_by_label("Search").press_sequentially("Battagram", delay=20)
    expect(page).to_have_url(re.compile(r"q=Battagram"))
    page.get_by_role("link", name="Batagram").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Batagram")
    # when the user goes back
    page.go_back()
    # then the list page comes back whole: layout, form and the search's results
    expect(page.get_by_role("heading", name="Admin areas", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(1)


def test_htmx_pages_break_no_content_security_policy_rule(kashmir, signed_in_page):
    # given a signed-in viewer whose browser console is watched
    page = signed_in_page(Role.VIEWER)
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    # when they open a list page (it loads htmx) and search as they type
    page.goto("/places/areas/")
    page.get_by_label("Search").press_sequentially("Battagram", delay=20)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    # then htmx injected no inline <style> that the policy refuses, and the console stays clean
    assert console_errors == []
    assert page.locator("head style").count() == 0
    # and the indicator styles come from the project's stylesheet: hidden until a request runs
    visibility = page.evaluate(
        """() => {
          const form = document.querySelector('form.filters');
          const mark = document.createElement('span');
          mark.className = 'htmx-indicator';
          form.appendChild(mark);
          const idle = getComputedStyle(mark).visibility;
          form.classList.add('htmx-request');
          const busy = getComputedStyle(mark).visibility;
          form.classList.remove('htmx-request');
          mark.remove();
          return [idle, busy];
        }"""
    )
    assert visibility == ["hidden", "visible"]
