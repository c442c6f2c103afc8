"""The dashboard, the map, the sitrep and a donor report in a real browser, over the whole Kashmir
2005 scenario: the dashboard's totals are the sitrep's, the map draws the district outlines with
their attribution, and the sitrep prints without the site's navigation."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from reliefops.core.roles import Role
from reliefops.partners.models import Grant
from reliefops.scenarios.kashmir2005 import load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def figures(page, rows: str, cell: str) -> dict[str, int]:
    """{key: number} read from the page: each row's `data-*` key and the number in its cell."""
    found: dict[str, int] = {}
    for row in page.locator(rows).all():
        key = row.get_attribute("data-item") or row.get_attribute("data-activity") or ""
        found[key] = int(re.sub(r"[^\d]", "", row.locator(cell).first.inner_text()))
    return found


@pytest.fixture
def screenshots(tmp_path_factory) -> Path:
    """Where the pictures go: RELIEFOPS_SCREENSHOTS if set, else a temporary folder."""
    target = os.environ.get("RELIEFOPS_SCREENSHOTS")
    return Path(target) if target else tmp_path_factory.mktemp("screenshots")


def test_the_dashboard_the_map_the_sitrep_and_a_donor_report(signed_in_page, screenshots):
    # given the whole scenario, and a donor's viewer signed in
    load(stdout=io.StringIO())
    page = signed_in_page(Role.VIEWER)

    # when they open the dashboard
    page.goto("/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Distributed by IOM")).to_be_visible()
    dashboard_items = figures(page, "ul[data-figures='distributed'] li", ".figure")
    dashboard_cluster = figures(page, "table.cluster-totals tr[data-activity]", ".figure")

    # then the map draws the 17 district outlines and the sites, with the boundaries' attribution
    districts = page.locator("#operations-map path.district")
    expect(districts).to_have_count(17)
    expect(page.locator("#operations-map path.marker-hub").first).to_be_attached()
    expect(page.locator("#map-attribution")).to_contain_text("OCHA / WFP")
    expect(page.locator("#map-attribution")).to_contain_text("CC BY-IGO")
    expect(page.locator("#map-attribution")).to_contain_text("do not imply official endorsement")
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)
    # and a district opens a popup with its coverage
    districts.last.dispatch_event("click")
    expect(page.locator(".leaflet-popup-content")).to_contain_text("households reached")
    expect(page.locator(".leaflet-popup-content").get_by_role("link", name="Gaps by tehsil")).to_be_visible()

    # when they open the sitrep from the dashboard
    page.get_by_role("link", name="Situation report").click()
    expect(page.get_by_role("heading", name="IOM situation report", level=1)).to_be_visible()
    expect(page.locator(".distributed-sentence")).to_have_text(
        "In total, IOM has distributed: 11,768 tents, 21,995 shelter kits, 31,594 winterization kits, "
        "162,222 "
        "blankets, 74,390 quilts, 120,614 Corrugated Galvanized Iron Sheets (CGI) and 18,989 tarpaulins."
    )
    sitrep_items = figures(page, "table.sitrep-items tr[data-item]", "td.total")
    sitrep_cluster = figures(page, "table.sitrep-cluster tr[data-activity]", ".figure")

    # then the dashboard's totals are the sitrep's, item by item and activity by activity
    assert dashboard_items == sitrep_items
    assert dashboard_cluster == sitrep_cluster
    assert dashboard_items["TENT"] == 11_768
    assert dashboard_cluster["TENTS"] == 520_102
    page.screenshot(path=str(screenshots / "sitrep.png"), full_page=True)

    # and printed, the sitrep leaves out the site's header, navigation and buttons
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".doc-actions")).to_be_hidden()
    expect(page.locator("#sitrep")).to_be_visible()
    assert page.pdf(format="A4")[:4] == b"%PDF"
    page.emulate_media(media="screen")

    # when they open the donor report of DFID's grant
    grant = Grant.objects.get(reference="DFID-2005-07")
    page.goto("/reports/donors/")
    page.get_by_role("link", name="DFID-2005-07").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Donor report: DFID-2005-07")
    # then it accounts for the grant, with where it went and to how many households
    expect(page.locator("table.grant-items tfoot")).to_contain_text("Total")
    expect(page.locator("table.grant-places tbody tr").first).to_be_visible()
    assert page.url.endswith(f"/reports/donors/{grant.pk}/")
    page.screenshot(path=str(screenshots / "donor-report.png"), full_page=True)
    for name in ("dashboard.png", "sitrep.png", "donor-report.png"):
        assert (screenshots / name).stat().st_size > 10_000
