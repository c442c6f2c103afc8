"""The report pages in a real browser: the Print button prints once, the map draws every kind
of site its legend lists, a camp visible where it shares a point's coordinates, the by-hub
table's caption is read whole on a tablet, and the printed dashboard's headings wrap between words."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from reliefops.core.roles import Role
from reliefops.stock.services import StockLine, stock_distribute
from tests.factories import ItemFactory
from tests.stock.conftest import receive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Counts the calls of window.print() instead of opening the print dialogue.
COUNT_PRINTS = "window.__prints = 0; window.print = function () { window.__prints += 1; };"


@pytest.mark.parametrize("page_name", ["sitrep", "donor-report"])
def test_one_click_on_print_prints_once(ledger, signed_in_page, page_name):
    # given the sitrep or a donor report, opened by a viewer
    page = signed_in_page(Role.VIEWER)
    page.add_init_script(COUNT_PRINTS)
    url = (
        reverse("reports:donor-report", args=[ledger.dfid.pk])
        if page_name == "donor-report"
        else reverse("reports:sitrep")
    )
    page.goto(url)
    page.wait_for_load_state("load")
    # when Print is clicked once
    page.get_by_role("button", name="Print").click()
    # then the page is printed once, not once per script that listens
    page.wait_for_timeout(200)
    assert page.evaluate("window.__prints") == 1


def test_the_map_draws_camps_on_top_and_its_legend_lists_every_kind_it_draws(ledger, signed_in_page):
    from reliefops.cluster.models import AreaBoundary
    from reliefops.places.models import Site, SiteKind
    from tests.factories import SiteFactory

    # given a district outline, and a camp at the very place of a distribution point and an office
    AreaBoundary.objects.create(
        admin_area=ledger.hub.admin_area,
        geometry={"type": "Polygon", "coordinates": [[[73, 34], [73.4, 34], [73.4, 34.4], [73, 34]]]},
        attribution="test outlines",
    )
    Site.objects.filter(pk=ledger.point.pk).update(lat=34.2, lon=73.2)
    Site.objects.filter(pk=ledger.hub.pk).update(lat=34.1, lon=73.1)
    SiteFactory(code="CAMP-T1", name="Garhi test camp", kind=SiteKind.CAMP, lat=34.2, lon=73.2)
    SiteFactory(code="OFF-T1", name="Field test office", kind=SiteKind.OFFICE, lat=34.05, lon=73.3)
    page = signed_in_page(Role.COORDINATOR)
    # when the dashboard draws its map
    page.goto(reverse("web:home"))
    camp = page.locator("#operations-map path.marker-camp")
    expect(camp).to_have_count(1)
    # then the camp is drawn after (above) the point it shares its place with
    kinds = page.eval_on_selector_all(
        "#operations-map path.marker", "paths => paths.map(p => p.getAttribute('class'))"
    )
    order = [
        next(k for k in ("camp", "distribution_point", "hub", "office") if f"marker-{k}" in c) for c in kinds
    ]
    assert order.index("camp") > order.index("distribution_point")
    camp.scroll_into_view_if_needed()
    box = camp.bounding_box()
    assert box is not None
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).getAttribute('class')",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert "marker-camp" in on_top
    # and the legend names every kind of dot the map draws, the office too
    legend = page.get_by_role("list", name="Legend")
    for words in ("hub or warehouse", "distribution point", "camp", "office"):
        expect(legend).to_contain_text(words)
    expect(page.locator("#operations-map path.marker-office")).to_have_count(1)


# The text of an element's caption, as drawn: its left and right edges, and its scrolling box's.
CAPTION_EDGES = """table => {
    const text = document.createRange();
    text.selectNodeContents(table.caption);
    const drawn = text.getBoundingClientRect();
    const box = table.closest('.table-wrap').getBoundingClientRect();
    return [drawn.left, drawn.right, box.left, box.right];
}"""


# The scenario's items besides blankets, their names as long as they are there.
SCENARIO_ITEMS = [
    "Tent, family (standard)",
    "Shelter kit",
    "Winterization kit",
    "Family NFI kit",
    "Quilt",
    "CGI sheet (corrugated galvanised iron)",
    "Tarpaulin (4 x 6 m)",
]


def hand_out_the_scenario_items(ledger) -> None:
    """Each of SCENARIO_ITEMS handed out at the hub: the tables of an item per column have eight."""
    for n, name in enumerate(SCENARIO_ITEMS):
        item = ItemFactory(code=f"ITEM-{n}", name=name)
        receive(ledger, ledger.hub, item, 100_000, ledger.dfid, f"GRN-T{n}")
        stock_distribute(
            actor=ledger.actor,
            site_id=ledger.hub.pk,
            lines=[StockLine(item_id=item.pk, quantity=12_345)],
            distributed_on=ledger.waybill.dispatched_on,
        )


@pytest.mark.parametrize("width", [768, 800])
def test_the_by_hub_caption_wraps_within_its_box_on_a_tablet(ledger, signed_in_page, width):
    # given seven more items handed out at the hub: the by-hub table is wider than a tablet's screen
    hand_out_the_scenario_items(ledger)
    # when a hub manager opens the dashboard on a tablet
    page = signed_in_page(Role.HUB_MANAGER, hubs=[ledger.hub], distribution_points=[ledger.point])
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(reverse("web:home"))
    table = page.locator("table.by-hub")
    assert table.evaluate("t => t.scrollWidth > t.closest('.table-wrap').clientWidth")
    # then the caption's whole text is drawn within the table's box, not cut at its right edge
    left, right, box_left, box_right = table.evaluate(CAPTION_EDGES)
    assert box_left <= left
    assert right <= box_right
    # and it stays in view when the columns are scrolled
    table.evaluate("t => { t.closest('.table-wrap').scrollLeft = 10000; }")
    left, right, box_left, box_right = table.evaluate(CAPTION_EDGES)
    assert box_left <= left
    assert right <= box_right


# The words of the page's headings drawn on more than one line (cut inside the word).
WORDS_CUT = """selector => {
    const cut = [];
    for (const element of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const found of node.data.matchAll(/\\S+/g)) {
                const word = document.createRange();
                word.setStart(node, found.index);
                word.setEnd(node, found.index + found[0].length);
                const lines = new Set([...word.getClientRects()].map(r => Math.round(r.top)));
                if (lines.size > 1) cut.push(found[0]);
            }
        }
    }
    return cut;
}"""


def test_the_printed_dashboards_headings_wrap_between_words(ledger, signed_in_page):
    # given eight items handed out, as in the scenario
    hand_out_the_scenario_items(ledger)
    page = signed_in_page(Role.COORDINATOR)
    # when the dashboard is printed on A4 (718 px between the margins)
    page.set_viewport_size({"width": 718, "height": 1000})
    page.goto(reverse("web:home"))
    page.emulate_media(media="print")
    # then its tables of an item per column still fit the paper
    for table in ("table.by-hub", "table.by-district"):
        assert page.eval_on_selector(table, "t => t.getBoundingClientRect().width") <= 718, table
    # and no heading is cut inside a word ('Blan-ket', 'Distric-t')
    assert page.evaluate(WORDS_CUT, "h1, h2, h3, caption, thead th") == []
