"""The main pages of every section, checked in a real browser for what a screen reader, a keyboard and
a small or zoomed screen need (WCAG 2.1 AA): a language, one h1 and headings in order, the landmarks
and the skip link, a name for every field, button, link and image, required fields marked for the
eye, descriptions that exist, a name for every table and table heads with their scope, text readable
against its background, no page wider than a 320 px screen (200 % zoom of a laptop) and headings that
wrap there between words, a refused form whose reasons are tied to their fields and announced, and a
focus ring on every stop of the keyboard. test_web_accessibility.py checks what the shared style sheet
and script give the pages of the shell in more depth."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from reliefops.cluster.models import ActivityType, ReportingPeriod
from reliefops.core.roles import Role
from reliefops.households.services import cards_issue
from reliefops.stock.services import StockLine, waybill_dispatch
from tests.browser.test_web_accessibility import LOW_CONTRAST_JS, focus_unseen
from tests.households.conftest import DAY, build_operation, receive, register, winter_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NARROWEST = {"width": 320, "height": 640}

# What a page's structure lacks, one line a problem (an empty list: nothing).
STRUCTURE_JS = """() => {
  const problems = [];
  const ids = (value) => (value || '').split(/\\s+/).filter(Boolean);
  const said = (el) => el.outerHTML.slice(0, 90);
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(`${h1} h1 headings`);
  let level = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const next = Number(h.tagName[1]);
    if (level && next > level + 1) problems.push(`h${level} then h${next} "${h.textContent.trim()}"`);
    level = next;
  }
  if (document.querySelectorAll('main').length !== 1) problems.push('not one <main>');
  const skip = document.querySelector('a.skip-link');
  if (skip && !document.querySelector(skip.getAttribute('href'))) problems.push('a skip link to nowhere');
  if (!skip && document.querySelector('.site-header')) problems.push('no skip link');
  const counted = {};
  document.querySelectorAll('[id]').forEach((el) => { counted[el.id] = (counted[el.id] || 0) + 1; });
  Object.keys(counted).filter((id) => counted[id] > 1).forEach((id) => problems.push(`id ${id} twice`));
  for (const el of document.querySelectorAll('[aria-describedby], [aria-labelledby]')) {
    const named = ids(el.getAttribute('aria-describedby')).concat(ids(el.getAttribute('aria-labelledby')));
    for (const id of named) {
      if (!document.getElementById(id)) problems.push(`${id}, named by ${said(el)}, is not on the page`);
    }
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const label = [...el.labels].find((l) => l.textContent.trim());
    if (!label && !(el.getAttribute('aria-label') || '').trim() && !el.getAttribute('aria-labelledby')) {
      problems.push(`no name: ${said(el)}`);
    }
    // a required field's mark is beside its own label, or its group's for a choice of radio buttons
    const group = el.closest('[role=group], [role=radiogroup]');
    const marked = group && el.type === 'radio' ? group.previousElementSibling : label;
    if (el.required && marked && !/required/.test(getComputedStyle(marked, '::after').content)) {
      problems.push(`required but not marked: ${el.name}`);
    }
  }
  for (const el of document.querySelectorAll('a[href], button, [role=button], summary')) {
    const named = el.textContent.trim() || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
      || [...el.querySelectorAll('img[alt]')].some((img) => img.alt.trim());
    if (!named) problems.push(`no name: ${said(el)}`);
  }
  document.querySelectorAll('img:not([alt])').forEach((img) => problems.push(`no alt: ${said(img)}`));
  for (const svg of document.querySelectorAll('svg')) {
    const hidden = svg.getAttribute('aria-hidden') === 'true';
    if (!hidden && !svg.getAttribute('aria-label') && !svg.querySelector('title')) {
      problems.push(`an svg neither hidden nor named: ${said(svg)}`);
    }
  }
  document.querySelectorAll('th:not([scope])').forEach((th) => problems.push(`no scope: ${said(th)}`));
  return problems;
}"""

# Each table without a name (its caption, its aria-label, or the text of what its aria-labelledby
# names), by which a screen reader's list of tables shows it.
TABLES_JS = """() => [...document.querySelectorAll('table')].filter((table) => {
  const named = (table.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
    .map((id) => document.getElementById(id)).filter(Boolean).map((el) => el.textContent).join(' ');
  const name = (table.caption ? table.caption.textContent : '') || table.getAttribute('aria-label') || named;
  return !name.trim();
}).map((table) => `a table without a name: ${table.outerHTML.slice(0, 90)}`)"""


@pytest.fixture
def op(transactional_db):
    """The households tests' operation with something in each list: a receipt, a registered
    household, an open round with its cards, and a locked reporting month."""
    op = build_operation()
    op.receipt = receive(op, op.bana, op.blanket, 100, "GRN-1").movement
    op.household = register(op)
    op.round = winter_round(op)
    cards_issue(actor=op.registrar, round_id=op.round.pk)
    ReportingPeriod.objects.create(
        month=dt.date(2005, 11, 1), locked=True, changed_by_label="cluster coordinator", note="sent to OCHA"
    )
    return op


def _main_pages(op) -> list[str]:
    return [
        "/",
        "/places/areas/",
        f"/places/sites/{op.bana.pk}/",
        "/partners/organisations/",
        "/catalog/items/",
        "/stock/",
        "/stock/card/",
        "/stock/waybills/",
        "/stock/waybills/new/",
        "/stock/movements/",
        f"/stock/movements/{op.receipt.pk}/",
        f"/stock/movements/{op.receipt.pk}/grn/",
        "/stock/post/receipt/",
        "/stock/post/kits/",
        "/households/",
        "/households/registry/",
        "/households/register/",
        f"/households/{op.household.pk}/",
        f"/households/{op.household.pk}/correct/",
        "/households/rounds/",
        "/households/rounds/new/",
        f"/households/rounds/{op.round.pk}/",
        f"/households/rounds/{op.round.pk}/handover/",
        "/cluster/",
        "/cluster/rows/",
        "/cluster/upload/",
        "/cluster/needs/",
        "/cluster/periods/",
        "/reports/sitrep/",
        "/jobs/",
        "/password/",
    ]


def test_every_main_page_has_what_assistive_technology_needs(op, signed_in_page, page):
    # given the sign-in page, and an administrator, who sees every page of every section
    page.goto("/login/")
    found = {
        "/login/": page.evaluate(STRUCTURE_JS) + page.evaluate(TABLES_JS) + page.evaluate(LOW_CONTRAST_JS)
    }
    admin = signed_in_page(Role.ADMIN)
    # when each main page is opened on a laptop's screen
    for url in _main_pages(op):
        assert admin.goto(url).status == 200, url
        # (a map is checked once drawn, with its controls)
        if admin.locator("#operations-map").count():
            admin.wait_for_selector("#operations-map[data-drawn]", state="attached")
        # then it has a language, one h1, headings in order, its landmarks and a skip link that
        # leads somewhere, a name for every control, a mark on every required field, descriptions
        # that are on the page, table heads with their scope, a name for every table, and text at
        # 4.5:1 or more
        found[url] = (
            admin.evaluate(STRUCTURE_JS) + admin.evaluate(TABLES_JS) + admin.evaluate(LOW_CONTRAST_JS)
        )
    assert {url: problems for url, problems in found.items() if problems} == {}


# What is wrong with the headings a reader sees: one that reaches past the page's edge, or a word of
# it (letters and digits: a hyphen or a space may end a line) cut across two lines when it would
# fit on one.
HEADINGS_JS = """() => {
  const problems = [];
  const edge = document.documentElement.clientWidth + 0.5;
  const seen = (el) => el.getClientRects().length && !el.closest('.visually-hidden');
  for (const h of [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(seen)) {
    const said = h.textContent.trim().replace(/\\s+/g, ' ');
    if (h.getBoundingClientRect().right > edge || h.scrollWidth > h.clientWidth + 1) {
      problems.push(`past the edge: "${said}"`);
    }
    const texts = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
    for (let text = texts.nextNode(); text; text = texts.nextNode()) {
      if (!seen(text.parentElement)) continue;
      for (const word of text.data.matchAll(/[\\p{L}\\p{N}]+/gu)) {
        const range = document.createRange();
        range.setStart(text, word.index);
        range.setEnd(text, word.index + word[0].length);
        const rects = [...range.getClientRects()];
        const wide = rects.reduce((sum, r) => sum + r.width, 0);
        const cut = new Set(rects.map((r) => Math.round(r.bottom))).size > 1;
        if (cut && wide <= h.clientWidth) problems.push(`"${word[0]}" cut in "${said}"`);
        if (rects.some((r) => r.right > edge)) problems.push(`"${word[0]}" past the edge in "${said}"`);
      }
    }
  }
  return problems;
}"""


def _pages_with_more_tables(op) -> list[str]:
    """Pages beyond the main ones whose tables come from templates of their own: details, reports,
    the cluster's tabs, the pipeline, the lists of a round."""
    return [
        f"/places/areas/{op.batagram.pcode}/",
        f"/places/sites/{op.hub.pk}/",
        f"/partners/organisations/{op.grant.donor.pk}/",
        f"/catalog/items/{op.blanket.code}/",
        "/catalog/kits/",
        "/stock/post/",
        "/stock/pipeline/",
        "/stock/donors/",
        f"/stock/donors/{op.grant.pk}/",
        "/households/import/",
        "/households/duplicates/",
        f"/households/rounds/{op.round.pk}/list/",
        "/reports/distributed/",
        "/reports/donors/",
        f"/reports/donors/{op.grant.pk}/",
        "/cluster/matrix/",
        "/cluster/totals/",
        "/cluster/batches/",
    ]


def test_every_table_of_the_other_pages_has_a_name(op, signed_in_page):
    # given a waybill on the road from Bana to Raj Pattian, the blanket's bale, and an administrator
    waybill = waybill_dispatch(
        actor=None,
        from_site_id=op.bana.pk,
        to_site_id=op.raj.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=10)],
        dispatched_on=DAY,
    ).waybill
    op.blanket.pack_sizes.create(name="bale", quantity=10)
    admin = signed_in_page(Role.ADMIN)
    unnamed, tables = {}, 0
    for url in [
        *_pages_with_more_tables(op),
        f"/stock/waybills/{waybill.pk}/",
        f"/stock/waybills/{waybill.pk}/print/",
    ]:
        # when they open each page with tables of its own
        assert admin.goto(url).status == 200, url
        tables += admin.locator("table").count()
        # then each of its tables has a name
        if problems := admin.evaluate(TABLES_JS):
            unnamed[url] = problems
    assert unnamed == {}
    assert tables > 15  # the pages are not empty


def test_a_table_without_a_name_is_found(op, signed_in_page):
    # given a page whose tables are named, by a caption or by the heading they name
    admin = signed_in_page(Role.ADMIN)
    admin.goto(f"/households/{op.household.pk}/")
    assert admin.evaluate(TABLES_JS) == []
    expect(admin.get_by_role("table", name="Members", exact=True)).to_have_count(1)
    admin.goto("/places/areas/")
    expect(admin.get_by_role("table", name="Admin areas", exact=True)).to_have_count(1)
    # when a table loses its caption, and another names a heading that is not there or is empty
    admin.evaluate(
        """() => {
      const main = document.querySelector('main');
      main.insertAdjacentHTML('beforeend', '<table><caption> </caption><tr><td>1</td></tr></table>'
        + '<table aria-labelledby="nowhere"><tr><td>2</td></tr></table><h2 id="blank"></h2>'
        + '<table aria-labelledby="blank"><tr><td>3</td></tr></table>');
    }"""
    )
    # then each is found without a name
    assert admin.evaluate(TABLES_JS) == [
        "a table without a name: <table><caption> </caption><tbody><tr><td>1</td></tr></tbody></table>",
        'a table without a name: <table aria-labelledby="nowhere"><tbody><tr><td>2</td></tr></tbody></table>',
        'a table without a name: <table aria-labelledby="blank"><tbody><tr><td>3</td></tr></tbody></table>',
    ]


def test_no_main_page_is_wider_than_the_narrowest_phone(op, signed_in_page):
    # given an administrator on a screen 320 px wide (WCAG's reflow width: a laptop at 400 %), and
    # the dashboard of a past month for one activity too, whose headings carry the longest counts
    # ('Waybills' beside 'on 30 Nov 2005, the period's last day')
    ActivityType.objects.create(code="WINTER-KIT", name="Winterization kits", unit="kit")
    admin = signed_in_page(Role.ADMIN)
    admin.set_viewport_size(NARROWEST)
    wider, headings = {}, {}
    for url in [*_main_pages(op), "/?activity=WINTER-KIT&start=2005-11-01&end=2005-11-30"]:
        admin.goto(url)
        # then the page does not scroll sideways: a wide table scrolls in its own box, a long
        # button's label wraps
        overflow = admin.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wider[url] = overflow
        # and its headings wrap between words, within the page: a word is cut only when it is
        # longer than the line ('Winterizat-ion' cut for a count beside it is a fault)
        if problems := admin.evaluate(HEADINGS_JS):
            headings[url] = problems
    assert wider == {}
    assert headings == {}


# Each refused field (its group for radio buttons) and what describes it.
REFUSED_JS = """() => [...document.querySelectorAll('main [aria-invalid=true]')]
  .filter((el) => el.matches('[role]')
    || !el.closest('[role=group][aria-invalid=true], [role=radiogroup][aria-invalid=true]'))
  .map((el) => [el.name || el.id, (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)
    .map((id) => { const d = document.getElementById(id); return d ? d.textContent.trim() : `no ${id}`; })
    .join(' | ')])"""


@pytest.mark.parametrize(
    ("url", "button"),
    [
        ("/households/register/", "Check and register"),
        ("/stock/waybills/new/", "Dispatch"),
        ("/cluster/needs/", "Preview"),
        ("/households/rounds/new/", "Plan the round"),
    ],
    ids=["registration", "dispatch", "needs-upload", "round-plan"],
)
def test_a_refused_form_ties_each_reason_to_its_field_and_announces_them(op, signed_in_page, url, button):
    # given an administrator who sends a form empty (the browser's own checks put aside, as an
    # old browser or a script would)
    admin = signed_in_page(Role.ADMIN)
    admin.goto(url)
    admin.evaluate("() => document.querySelectorAll('main form').forEach((f) => { f.noValidate = true; })")
    admin.get_by_role("button", name=button, exact=True).click()
    # then the page says it is refused, and the focus is on its problems (an alert) or on the
    # first refused field, so that a screen reader reads them at once
    expect(admin).to_have_title(re.compile(r"^Problem:"))
    admin.wait_for_function(
        "() => { const el = document.activeElement;"
        " return el.matches('[role=alert]') || el.getAttribute('aria-invalid') === 'true'; }"
    )
    # and every refused field is described by its reason, which is on the page
    refused = admin.evaluate(REFUSED_JS)
    assert refused
    assert [name for name, reasons in refused if not reasons or "no id_" in reasons] == []


def test_the_focus_is_seen_on_every_stop_of_the_field_forms(op, signed_in_page):
    # given a distributor's handover page, a registrar's registration form and a 4W upload
    unseen = []
    for role, scope, url in (
        (Role.DISTRIBUTOR, {"distribution_points": [op.bana]}, f"/households/rounds/{op.round.pk}/handover/"),
        (Role.REGISTRAR, {}, "/households/register/"),
        (Role.ADMIN, {}, "/cluster/upload/"),
    ):
        # when they go through the page with Tab, to its end, then each stop has an outline of 2 px
        # or more, at 3:1 or more against its surround
        stops, found = focus_unseen(signed_in_page(role, **scope), url, 70)
        assert stops > 5, url
        unseen += found
    assert unseen == []
