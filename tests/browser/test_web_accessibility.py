"""What the shared style sheet and script give every page, checked in a real browser at a phone's
width and a desktop's: text readable against its background (WCAG AA), a focus ring that is seen
on every stop of the keyboard (a date field's calendar button included), fields whose edge is
seen, a table wider than the phone that the keyboard can scroll and a screen reader can name, a
refused form that takes the focus to its problems, and pages that still serve without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reliefops.core.models import Job, JobStatus
from reliefops.core.roles import Right, Role
from tests.browser.fixtures import PASSWORD
from tests.factories import make_user
from tests.web.pages import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1366, "height": 900}

# The contrast ratio of WCAG 2 (relative luminance of sRGB), and the colour an element is seen on:
# its own background, or the first ancestor's that is not transparent, blended over white.
COLOUR_JS = """
const parse = (c) => {
  const m = c.match(/rgba?\\(([^)]+)\\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
};
const lum = ([r, g, b]) => {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const blend = (top, bottom) => { const a = top[3];
  return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]); };
const ratio = (a, b) => {
  const l1 = lum(a), l2 = lum(b);
  return (Math.max(l1, l2) + .05) / (Math.min(l1, l2) + .05);
};
const backgroundOf = (el) => {
  const layers = [];
  for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
    const c = parse(getComputedStyle(n).backgroundColor);
    if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  return layers.reverse().reduce((under, layer) => blend(layer, under), [255, 255, 255, 1]);
};
"""

# Every visible run of text whose colour is below 4.5:1 against its background (3:1 for large
# text). A link of the pagination that leads nowhere (First on the first page) is an inactive
# control, which WCAG leaves out.
LOW_CONTRAST_JS = (
    "() => {"
    + COLOUR_JS
    + """
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || seen.has(el)) continue;
    seen.add(el);
    const skipped = 'svg, script, style, option, [hidden], [aria-hidden=true], .pagination .disabled';
    if (el.closest(skipped)) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || style.visibility !== 'visible') continue;
    const background = backgroundOf(el);
    const colour = blend(parse(style.color), background);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight) >= 700 && size >= 18.66);
    const r = ratio(colour, background);
    const text = walker.currentNode.textContent.trim().slice(0, 30);
    const where = `${el.tagName.toLowerCase()}.${el.className}`;
    if (r < (large ? 3 : 4.5)) low.push(`${where} "${text}" ${r.toFixed(2)}:1`);
  }
  return low;
}"""
)

# The focused element's outline: its style, width, and contrast against what surrounds it.
FOCUS_JS = (
    "() => {"
    + COLOUR_JS
    + """
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = parse(style.outlineColor);
  const around = backgroundOf(el.parentElement);
  return {
    element: el.outerHTML.slice(0, 80), style: style.outlineStyle, width: parseFloat(style.outlineWidth),
    contrast: outline ? ratio(blend(outline, around), around) : 0,
  };
}"""
)

# Each visible field's edge against the background around it.
FIELD_EDGES_JS = (
    "() => {"
    + COLOUR_JS
    + """
  const fields = 'main select, main input:not([type=hidden]):not([type=checkbox]):not([type=radio])'
    + ':not([type=file])';
  return [...document.querySelectorAll(fields)]
    .filter(el => el.getBoundingClientRect().width > 0)
    .map(el => { const around = backgroundOf(el.parentElement);
      return [el.name, ratio(blend(parse(getComputedStyle(el).borderTopColor), around), around)]; });
}"""
)


def _shell_urls(kashmir) -> list[str]:
    return [url_of(kashmir) for _page_id, url_of in PAGES] + ["/stock/", "/stock/card/", "/password/"]


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_text_is_readable_against_its_background(kashmir, signed_in_page, screen):
    # given a hub manager (who sees the stock pages too) on a phone or a desktop
    page = signed_in_page(Role.HUB_MANAGER, hubs=[kashmir.balakot_hub])
    page.set_viewport_size(screen)
    low = {}
    # when they open the pages of the shell, stock on hand, the stock card and Change password
    for url in _shell_urls(kashmir):
        assert page.goto(url).status == 200
        if found := page.evaluate(LOW_CONTRAST_JS):
            low[url] = found
    # then every text is at least 4.5:1 against its background (muted notes and table heads too)
    assert low == {}


def focus_unseen(page, url: str, most: int) -> tuple[int, list[tuple[str, dict]]]:
    """Tab through the page at `url` (at most `most` stops, or to its end): how many stops it has,
    and those whose outline is under 2 pixels or under 3:1 against what is around it."""
    page.goto(url)
    stops, unseen = 0, []
    for _ in range(most):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus is None:
            break
        stops += 1
        if focus["style"] == "none" or focus["width"] < 2 or focus["contrast"] < 3:
            unseen.append((url, focus))
    return stops, unseen


def test_the_keyboard_focus_is_seen_on_every_stop(kashmir, signed_in_page):
    # given a hub manager on the stock card, whose filters hold date fields, and on a list
    page = signed_in_page(Role.HUB_MANAGER, hubs=[kashmir.balakot_hub])
    unseen = []
    for url in ("/stock/card/", "/places/sites/"):
        # when they go through the page with Tab, then each stop, the calendar button inside a
        # date field too, has an outline of 2 pixels or more at 3:1 or more against its surround
        stops, found = focus_unseen(page, url, 40)
        assert stops > 10
        unseen += found
    assert unseen == []


def test_the_edge_of_every_field_is_seen(kashmir, page):
    # given the sign-in page and, signed in, the sites list with its search and filters
    user = make_user(Role.VIEWER)
    page.goto("/login/")
    edges = page.evaluate(FIELD_EDGES_JS)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/places/sites/")
    edges += page.evaluate(FIELD_EDGES_JS)
    # then each field's border stands at 3:1 or more against the background around it
    assert len(edges) == 5
    assert [name for name, contrast in edges if contrast < 3] == []


def test_a_table_wider_than_a_phone_is_a_region_the_keyboard_scrolls(kashmir, signed_in_page):
    # given a viewer on a phone, on the admin areas, whose table is wider than the screen
    page = signed_in_page(Role.VIEWER)
    page.set_viewport_size(PHONE)
    page.goto("/places/areas/")
    box = page.locator("#results .table-wrap")
    assert box.evaluate("box => box.scrollWidth > box.clientWidth")
    # then its box is a region named after the page's list, in the keyboard's path
    expect(page.get_by_role("region", name="Admin areas (scrolls sideways)")).to_have_count(1)
    expect(box).to_have_attribute("tabindex", "0")
    # when the keyboard reaches it and presses the right arrow
    box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # then the table scrolls inside its box, not the page
    page.wait_for_function("() => document.querySelector('#results .table-wrap').scrollLeft > 0")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # when a search typed into the page replaces the table, the new box is marked again
    page.get_by_label("Search").press_sequentially("Mansehra", delay=20)
    expect(page).to_have_url(re.compile(r"q=Mansehra"))
    expect(page.locator("#results .table-wrap")).to_have_attribute("tabindex", "0")
    # and a table under a heading that counts its rows is named by the heading's words alone
    page.goto(f"/places/areas/{kashmir.mansehra.pcode}/")
    expect(page.locator("h2", has_text="Sub-areas").locator(".count")).to_have_count(1)
    expect(page.get_by_role("region", name="Sub-areas (scrolls sideways)", exact=True)).to_have_count(1)
    page.goto("/places/areas/?q=Mansehra")
    # and on a desktop, where the table fits, the box is no longer a stop of the keyboard
    page.set_viewport_size(DESKTOP)
    expect(page.locator("#results .table-wrap")).not_to_have_attribute("tabindex", "0")
    expect(page.get_by_role("region")).to_have_count(0)


def test_a_refused_sign_in_takes_the_focus_to_its_reason(kashmir, page):
    # given a user who mistypes their password
    user = make_user(Role.VIEWER)
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    # then the reason is what has the focus (a screen reader reads it at once), not the username
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("correct username and password")
    expect(alert).to_be_focused()


def test_a_refused_field_takes_the_focus_and_its_reason_is_read_with_it(kashmir, signed_in_page):
    # given a signed-in user changing their password, who types the new one differently twice
    page = signed_in_page(Role.VIEWER)
    page.goto("/password/")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a-long-new-passphrase")
    page.get_by_label("New password again").fill("a-long-new-passphrase-2")
    page.get_by_role("button", name="Change password").click()
    # then the refused field has the focus (not the first field of the form), and its reason is
    # its description
    field = page.get_by_label("New password again")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(r"didn.t match", re.IGNORECASE))


def test_a_refused_filter_leaves_the_focus_where_it_was(kashmir, signed_in_page):
    # given an old link whose filter is not one of its choices (a list's GET form, not a posted one)
    page = signed_in_page(Role.VIEWER)
    assert page.goto("/places/sites/?kind=castle").status == 422
    # then the page opens as any page does: the refused filter does not take the focus
    expect(page.get_by_label("Kind")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.activeElement === document.body")


def _running_job(user) -> Job:
    """A job of the user's that a live worker is running (its heartbeat is recent)."""
    now = timezone.now()
    return Job.objects.create(
        kind="cluster_upload_preview",
        label="Preview of 4w.csv",
        owner=user,
        right=Right.VIEW_REFERENCE.value,
        status=JobStatus.RUNNING,
        stage="reading",
        done=2,
        total=10,
        started_at=now,
        heartbeat_at=now,
    )


def test_without_javascript_a_job_offers_a_reload_and_no_print_button_is_shown(kashmir, browser, live_server):
    # given a viewer whose browser runs no JavaScript, and a job of theirs the worker is running
    user = make_user(Role.VIEWER)
    job = _running_job(user)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        # when they open the job's page, which follows the job only with JavaScript
        page.goto(f"/jobs/{job.pk}/")
        expect(page.locator("#job-status")).to_contain_text("Reading: 2 of 10.")
        # then it offers to reload it, and the reload shows the job as it is now
        Job.objects.filter(pk=job.pk).update(done=5, heartbeat_at=timezone.now())
        page.get_by_role("link", name="reload it").click()
        expect(page.locator("#job-status")).to_contain_text("Reading: 5 of 10.")
        # and the sitrep shows no Print button that would do nothing (the browser's own Print works)
        page.goto("/reports/sitrep/")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("button", name="Print")).to_be_hidden()
    finally:
        context.close()


def test_with_javascript_the_print_button_is_shown_and_no_reload_is_offered(kashmir, signed_in_page):
    page = signed_in_page(Role.VIEWER)
    job = _running_job(page.user)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator("#job-status")).to_contain_text("Reading: 2 of 10.")
    expect(page.get_by_role("link", name="reload it")).to_have_count(0)
    page.goto("/reports/sitrep/")
    expect(page.get_by_role("button", name="Print")).to_be_visible()


def test_the_pages_reflow_on_the_narrowest_phone(kashmir, signed_in_page):
    # given a hub manager on a phone 320 pixels wide (WCAG's reflow width)
    page = signed_in_page(Role.HUB_MANAGER, hubs=[kashmir.balakot_hub])
    page.set_viewport_size({"width": 320, "height": 640})
    wider = {}
    for url in _shell_urls(kashmir):
        page.goto(url)
        # then no page scrolls sideways: a narrow table (an item's packs and kits) fits the screen
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wider[url] = overflow
    assert wider == {}


def test_what_a_live_search_found_is_told_to_screen_readers(kashmir, signed_in_page):
    # given a viewer on the admin areas, whose list follows the search as they type
    page = signed_in_page(Role.VIEWER)
    page.goto("/places/areas/")
    status = page.get_by_role("status")
    expect(status).to_have_count(1)
    expect(status).to_have_text("")
    # when they type an old spelling
    page.get_by_label("Search").press_sequentially("Battagram", delay=20)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    # then a polite status says what the new list holds, as the summary above the table does
    expect(status).to_have_text("1 admin area")
    # and a search that finds nothing says so
    page.get_by_label("Search").fill("Atlantis")
    expect(status).to_have_text(re.compile(r"^No admin area matches this search"))
