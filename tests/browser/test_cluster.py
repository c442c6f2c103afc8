"""The cluster pages in a real browser: a partner uploads a 4W workbook, previews it, applies it;
a viewer reads the gap table and the coverage map; nothing is loaded from the internet."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from playwright.sync_api import expect

from reliefops.catalog.models import Item
from reliefops.cluster.importers import needs_import_file
from reliefops.cluster.models import ActivityRow
from reliefops.cluster.services import boundaries_import
from reliefops.core.roles import Role
from reliefops.stock.services import ReceiptLine, StockLine, stock_distribute, stock_receive
from tests.cluster.conftest import (  # noqa: F401 - the cluster fixtures these tests use
    cluster,
    four_w_xlsx,
    row,
    table,
    upload,
)
from tests.factories import GrantFactory, SiteFactory
from tests.jobs_worker import worker_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[73.0, 34.5], [73.3, 34.5], [73.3, 34.9], [73.0, 34.9], [73.0, 34.5]]],
}


def test_a_partner_uploads_previews_and_applies_a_workbook(cluster, signed_in_page, tmp_path):  # noqa: F811
    # given NRC's workbook: a title above the table, and two rows
    workbook = tmp_path / "nrc-4w.xlsx"
    workbook.write_bytes(
        four_w_xlsx({"4W": [["NRC 4W, November"], *table([row(id="NRC-1"), row(id="NRC-2")])]})
    )
    page = signed_in_page(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    # when NRC's reporter uploads it (the worker previews and applies it, as jobs)
    with worker_thread():
        page.goto("/cluster/upload/")
        page.get_by_label("4W file").set_input_files(str(workbook))
        page.get_by_role("button", name="Preview the upload").click()
        # then the preview says what it would do, and nothing is written yet
        expect(page.locator("#job-status")).to_contain_text("Preview: 2 added")
        assert not ActivityRow.objects.exists()
        # and applying it writes the batch
        page.get_by_role("button", name="Apply these changes").click()
        expect(page.locator("#job-status")).to_contain_text("2 added")
    page.get_by_role("link", name=re.compile(r"^Batch \d+$")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Batch")
    assert ActivityRow.objects.count() == 2


def test_a_viewer_reads_the_gaps_and_the_coverage_map(cluster, upload, signed_in_page):  # noqa: F811
    needs_import_file(actor=None, data=b"P,N\n#adm2+code,#inneed+hh\nPK504,400\n", filename="needs.csv")
    geojson = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {"pcode": "PK504"}, "geometry": SQUARE}],
        }
    )
    boundaries_import(
        actor=None, data=geojson.encode(), attribution="Boundaries: OCHA / WFP COD-AB, CC BY-IGO."
    )
    upload([row(id="NRC-1", hh="100")])
    page = signed_in_page(Role.VIEWER)
    page.goto("/cluster/?activity=TENTS")
    expect(page.get_by_role("heading", name="Gaps by area")).to_be_visible()
    expect(page.locator("svg.coverage-map path[data-pcode='PK504']")).to_have_count(1)
    expect(page.locator(".attribution")).to_contain_text("OCHA / WFP")
    expect(page.locator("table.gap-table")).to_contain_text("25%")


def test_the_dashboard_map_says_which_district_has_no_partner(cluster, upload, signed_in_page):  # noqa: F811
    # given two districts in need, with outlines, and a partner's row in Batagram alone
    needs_import_file(
        actor=None, data=b"P,N\n#adm2+code,#inneed+hh\nPK504,400\nPK107,300\n", filename="needs.csv"
    )
    south = {"type": "Polygon", "coordinates": [[[x, y - 0.5] for x, y in SQUARE["coordinates"][0]]]}
    features = [
        {"type": "Feature", "properties": {"pcode": "PK504"}, "geometry": SQUARE},
        {"type": "Feature", "properties": {"pcode": "PK107"}, "geometry": south},
    ]
    geojson = json.dumps({"type": "FeatureCollection", "features": features})
    boundaries_import(actor=None, data=geojson.encode(), attribution="Boundaries: OCHA / WFP COD-AB.")
    upload([row(id="NRC-1", hh="100")])
    # when a viewer opens the dashboard's map of tents and clicks the district without partner
    page = signed_in_page(Role.VIEWER)
    page.goto("/?activity=TENTS")
    page.locator("path.district-none").click()
    # then its popup says so, with its need, where a district with a partner gives its coverage
    muzaffarabad = page.locator(".leaflet-popup-content", has_text="Muzaffarabad")
    expect(muzaffarabad).to_contain_text("no partner; 300 households in need")
    page.locator("path.district-some").click()
    batagram = page.locator(".leaflet-popup-content", has_text="Batagram")
    expect(batagram).to_contain_text("100 of 400 households reached (25%)")


PHONE = {"width": 375, "height": 740}
A4_WIDTH = 718  # the printable width of an A4 page (794 CSS pixels) inside Chromium's 1 cm margins


def _sitrep_data(cluster, upload) -> None:  # noqa: F811
    needs_import_file(actor=None, data=b"P,N\n#adm2+code,#inneed+hh\nPK504,400\n", filename="needs.csv")
    hub = SiteFactory(name="Batagram forward hub with a long name", admin_area=cluster.batagram_tehsil)
    blanket = Item.objects.get(code="BLANKET")
    stock_receive(
        actor=None,
        site_id=hub.pk,
        grant_id=GrantFactory().pk,
        grn_number="GRN-BTG-1",
        received_on=dt.date(2005, 11, 1),
        lines=[ReceiptLine(item_id=blanket.pk, quantity=900)],
    )
    stock_distribute(
        actor=None,
        site_id=hub.pk,
        lines=[StockLine(item_id=blanket.pk, quantity=300)],
        distributed_on=dt.date(2005, 11, 2),
    )
    upload([row(id="NRC-1", hh="100", qty="123456"), row(id="NRC-2", recipient="IRW", qty="654321")])


def test_the_sitrep_and_the_cluster_pages_fit_a_phone(cluster, upload, signed_in_page):  # noqa: F811
    _sitrep_data(cluster, upload)
    page = signed_in_page(Role.COORDINATOR)
    page.set_viewport_size(PHONE)
    for url in ("/reports/sitrep/", "/cluster/totals/", "/cluster/upload/"):
        assert page.goto(url).status == 200
        # the page does not scroll sideways: wide tables scroll inside their own box
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{url} is {width}px wide on a {PHONE['width']}px phone"
    page.goto("/reports/sitrep/")
    expect(page.locator("table.sitrep-cluster")).to_contain_text("As reported, before the rules")


def test_every_sitrep_table_fits_an_a4_page_in_print(cluster, upload, signed_in_page):  # noqa: F811
    _sitrep_data(cluster, upload)
    page = signed_in_page(Role.COORDINATOR)
    page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
    page.goto("/reports/sitrep/")
    page.emulate_media(media="print")
    tables = page.evaluate(
        """() => Array.from(document.querySelectorAll('table')).map(t =>
          [t.className, Math.ceil(t.getBoundingClientRect().right), t.scrollWidth])"""
    )
    assert {name for name, _, _ in tables} >= {
        "data sitrep-items",
        "data sitrep-cluster",
        "data sitrep-hubs",
        "data sitrep-gaps",
    }
    for name, right, width in tables:
        assert width <= A4_WIDTH, f"table.{name} is {width}px wide in print"
        assert right <= A4_WIDTH, f"table.{name} runs to {right}px in print"
    assert page.evaluate("document.documentElement.scrollWidth") <= A4_WIDTH


def test_the_rows_row_id_stays_in_sight_as_a_tablet_scrolls_to_the_figures(cluster, upload, signed_in_page):  # noqa: F811
    # given rows of long names, wider than a tablet's screen
    upload([row(id="NRC-LONG-ROW-ID-1", place="Banna village above the road to Allai", hh="321")])
    page = signed_in_page(Role.COORDINATOR)
    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto("/cluster/rows/")
    table = page.locator("table.rows")
    assert table.evaluate("t => t.scrollWidth > t.closest('.table-wrap').clientWidth")
    # when the table is scrolled to its last columns (households, how the row counts)
    table.evaluate("t => { t.closest('.table-wrap').scrollLeft = 10000; }")
    # then the row id is still in sight at the box's left edge, beside the households it reached
    row_id = page.locator("table.rows tbody td").first.bounding_box()
    households = page.get_by_role("cell", name="321", exact=True).bounding_box()
    box = page.locator("table.rows").evaluate("t => t.closest('.table-wrap').getBoundingClientRect().left")
    assert row_id is not None
    assert households is not None
    assert abs(row_id["x"] - box) < 2
    assert row_id["x"] + row_id["width"] <= households["x"] < 800
