"""The whole Kashmir 2005 scenario, for every test here: its stock history (exactly the figures IOM
published), its households (registered in the sources' villages and camps, served through handovers
that replace part of the bulk distributions), the dashboard, the sitrep and the donor reports over it
(the cluster's totals as the scenario states them, all computed), a second load that changes
nothing, and last the dashboard, the map, the sitrep and a donor report in a real browser.

A load takes a minute or more, so the scenario is loaded once per test run, into a template
database shared with the reliability tests (tests/scenario_template.py), and copied into the test
database for this module. The module runs on one test worker as one group
(`pytest -n 2 --dist loadgroup`); the second load, in this process, still runs the real load path.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect

from reliefops.cluster.selectors import headline_figures
from reliefops.core.roles import Role
from reliefops.households.models import DistributionRound, Handover, Household, HouseholdStatus, RoundStatus
from reliefops.households.selectors import round_reconciliation
from reliefops.partners.models import Grant
from reliefops.reports import maps, selectors
from reliefops.reports.periods import Period
from reliefops.reports.sitrep import build_sitrep
from reliefops.scenarios.kashmir2005 import DATA_DIR, REFERENCE_STEPS, load
from reliefops.scenarios.kashmir2005.cluster_history import CGI_STATED
from reliefops.scenarios.kashmir2005.stock_history import FIRST_KEY
from reliefops.scenarios.selectors import scenario_data
from reliefops.stock.models import (
    LocationKind,
    Movement,
    MovementKind,
    MovementLine,
    Pledge,
    PledgeStatus,
    Waybill,
)
from reliefops.stock.selectors import PUBLISHED_ITEMS, distributed_totals, ledger_verify
from tests.scenario_template import ON_THE_SCENARIOS_WORKER, fill_test_database
from tests.scenarios.conftest import row_counts

pytestmark = ON_THE_SCENARIOS_WORKER

PUBLISHED = json.loads((DATA_DIR / "published-figures.json").read_text())
IOM = PUBLISHED["iom_distributed"]
CLUSTER = {**PUBLISHED["emergency_shelter_cluster"], "cgi_sheets_delivered_more_than": CGI_STATED}
SENTENCE = (
    "In total, IOM has distributed: 11,768 tents, 21,995 shelter kits, 31,594 winterization kits, "
    "162,222 blankets, 74,390 quilts, 120,614 Corrugated Galvanized Iron Sheets (CGI) and 18,989 tarpaulins."
)
TODAY = dt.date(2006, 4, 1)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, scenario_template):
    """The whole scenario, copied from the test run's template for the module (and emptied after
    it); gives what its load printed."""
    with django_db_blocker.unblock():
        try:
            fill_test_database(scenario_template)
            yield scenario_template.printed
        finally:  # the worker's next tests expect an empty database, whatever happened here
            call_command("flush", interactive=False, verbosity=0)


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def by_key(figures: list[selectors.ItemFigure]) -> dict[str, int]:
    return {f.published_key: f.total for f in figures if f.published_key}


@pytest.mark.django_db
def test_the_distributions_are_iom_published_figures_by_item_hub_district_and_week(loaded):
    # when the dashboard's figures are read for the whole operation
    found = selectors.distributions()
    # then the items are IOM's published figures, exactly, and the ledger's balances say the same
    assert by_key(found.published) == IOM == distributed_totals()
    # and the hub, district, site and week tables add up to the same totals, item by item
    for item in found.items:
        assert sum(row.quantities.get(item.item_id, 0) for row in found.by_hub) == item.total
        assert sum(row.quantities.get(item.item_id, 0) for row in found.by_district) == item.total
        assert sum(q.get(item.item_id, 0) for _, q in found.by_site) == item.total
    series = selectors.weekly(found)
    for item in found.items:
        assert sum(series.values[item.item_id]) == item.total
    # and the hubs are the scenario's forward hubs, the districts those the hubs served
    assert {row.name for row in found.by_hub} >= {"IOM Balakot hub", "IOM Batagram hub", "IOM Bagh hub"}
    assert "Muzaffarabad" in {row.name for row in found.by_district}
    # and the weeks run from October 2005 to March 2006, one after the other
    assert series.weeks[0] >= dt.date(2005, 10, 10)
    assert series.weeks[-1] <= dt.date(2006, 3, 27)
    assert all((b - a).days == 7 for a, b in zip(series.weeks, series.weeks[1:], strict=False))


@pytest.mark.django_db
def test_a_period_counts_the_lines_dated_in_it_and_two_periods_add_up(loaded):
    # given December 2005, and the rest
    december = Period(dt.date(2005, 12, 1), dt.date(2005, 12, 31))
    before = Period(None, dt.date(2005, 11, 30))
    after = Period(dt.date(2006, 1, 1), None)
    # when each is read
    parts = [by_key(selectors.distributions(period=p).published) for p in (before, december, after)]
    # then December is what the ledger lines dated in December say, counted independently here
    lines = MovementLine.objects.filter(
        movement__occurred_on__range=(december.start, december.end),
        item__code__in=PUBLISHED_ITEMS,
    )
    out = dict(
        lines.filter(to_location__kind__in=[LocationKind.BENEFICIARIES, LocationKind.PARTNER])
        .values_list("item__code")
        .annotate(n=Sum("quantity"))
    )
    back = dict(
        lines.filter(from_location__kind__in=[LocationKind.BENEFICIARIES, LocationKind.PARTNER])
        .values_list("item__code")
        .annotate(n=Sum("quantity"))
    )
    expected = {PUBLISHED_ITEMS[code]: out.get(code, 0) - back.get(code, 0) for code in PUBLISHED_ITEMS}
    assert {k: v for k, v in parts[1].items() if v} == {k: v for k, v in expected.items() if v}
    assert 0 < sum(parts[1].values()) < sum(IOM.values())
    # and the three periods add up to the whole operation
    assert {key: sum(p.get(key, 0) for p in parts) for key in IOM} == IOM


@pytest.mark.django_db
def test_the_cluster_totals_are_the_scenarios_stated_figures(loaded):
    picture = selectors.cluster_picture()
    assert headline_figures(picture.totals) == CLUSTER
    assert picture.activity is not None
    assert picture.activity.code == "TENTS"
    districts = {r.pcode for r in picture.district_rows}
    assert len(districts) >= 10
    assert all(r.in_need for r in picture.district_rows if r.pcode.startswith("PK1"))


@pytest.mark.django_db
def test_the_sitrep_says_it_in_the_field_words_with_the_figures_of_the_ledger_and_the_4w(loaded):
    # when the sitrep of the whole operation is written
    report = build_sitrep(period=Period(), today=TODAY)
    text = report.markdown()
    # then it opens with IOM's published figures in the press release's words
    assert report.distributed_sentence == SENTENCE
    assert SENTENCE in text
    assert text.startswith("# IOM situation report\n\nInternational Organization for Migration.")
    # and gives the cluster's totals, the hubs, the gaps and the contacts
    for figure in CLUSTER.values():
        assert f"{figure:,}" in report.cluster_sentence
    for heading in ("## The cluster", "## Hubs", "## Gaps", "## Contacts"):
        assert heading in text
    assert "| IOM Balakot hub | Mansehra |" in text
    assert "(needs illustrative)" in text
    # and says at its top that the stock history and the 4W rows are the scenario's, illustrative
    assert (
        "> Illustrative data: these figures are the Kashmir 2005 scenario's. Its stock history (its "
        "dates, quantities, routes and losses) and partners' 4W rows are seeded"
        in text.split("## Distributed")[0]
    )
    # and the HTML says the same
    html = report.html()
    assert SENTENCE in html
    assert "<script" not in html


@pytest.mark.django_db
def test_the_organisation_is_the_configured_one(loaded, settings):
    settings.OPERATING_ORGANISATION = "UNHCR"
    report = build_sitrep(period=Period(), today=TODAY)
    assert report.distributed_sentence.startswith("In total, UNHCR has distributed: 11,768 tents")
    assert report.organisation.name == "Office of the United Nations High Commissioner for Refugees"


@pytest.mark.django_db
def test_the_dashboard_shows_the_figures_the_sitrep_gives(loaded, client_as):
    client = client_as(Role.VIEWER)
    body = client.get(reverse("web:home")).content.decode()
    headline = re.search(r'<ul class="headline" data-figures="distributed">(.*?)</ul>', body, re.S)
    assert headline is not None
    shown = {
        code: numbers(figure)[0]
        for code, figure in re.findall(
            r'data-item="([A-Z-]+)">.*?<span class="figure">([\d,]+)</span>', headline[1]
        )
    }
    assert {PUBLISHED_ITEMS[c]: v for c, v in shown.items() if c in PUBLISHED_ITEMS} == IOM
    for key, value in CLUSTER.items():
        assert f'<span class="figure">{value:,}</span>' in body, key
    # and it names the organisation from the configuration, and links each figure to its page
    assert "Distributed by IOM" in body
    assert 'href="/reports/distributed/?item=TENT"' in body
    assert 'href="/stock/waybill-list' not in body  # links by URL name, not by hand
    assert reverse("stock:waybill-list") + "?overdue=on" in body


@pytest.mark.django_db
def test_the_map_data_outlines_the_districts_with_their_attribution(loaded):
    data = maps.map_data(selectors.cluster_picture())
    areas = [f for f in data["features"] if f["properties"]["layer"] == "area"]
    sites = [f for f in data["features"] if f["properties"]["layer"] == "site"]
    assert len(areas) == 17
    assert {"PK101", "PK504", "PK522"} <= {f["properties"]["pcode"] for f in areas}
    assert any("OCHA / WFP" in line and "CC BY-IGO" in line for line in data["attributions"])
    assert {"BLK-HUB", "BAG-HUB"} <= {f["properties"]["code"] for f in sites}
    muzaffarabad = next(f["properties"] for f in areas if f["properties"]["name"] == "Muzaffarabad")
    assert muzaffarabad["in_need"]
    assert muzaffarabad["reached"]
    assert muzaffarabad["colour"].startswith("#")


@pytest.mark.django_db
def test_every_grant_accounts_for_what_it_received_and_the_grants_add_up_to_the_totals(loaded):
    distributed: dict[str, int] = dict.fromkeys(IOM, 0)
    served = 0
    for grant in Grant.objects.all():
        report = selectors.grant_report(grant)
        totals = report.totals
        # (received, plus kits made and count surpluses, less components used and count shortages)
        accounted = ("distributed", "handed_to_partners", "lost", "in_transit", "on_hand")
        assert totals["received"] + totals["other"] == sum(totals[c] for c in accounted), grant.reference
        for figure in report.items:
            if figure.published_key:
                distributed[figure.published_key] += figure.total
        assert sum(p.total for p in report.places) == totals["distributed"]
        assert sum(q for _, q in report.partners) == totals["handed_to_partners"]
        served += report.households
    assert distributed == IOM
    assert served > 500


@pytest.mark.django_db
def test_the_camp_round_stays_open_having_served_its_list_and_owes_nothing(loaded):
    # given the camp round, whose period ends on the history's last day (31 March 2006)
    camp = DistributionRound.objects.get(code="CAMP-2006")
    # then it stays open (the households guide adds a family to it), having served its whole list,
    # and the stock owes it nothing
    assert camp.ends_on == dt.date(2006, 3, 31)
    assert camp.status == RoundStatus.OPEN
    assert round_reconciliation(camp).agrees_with_ledger
    result = selectors.supply()
    assert result.rounds == []
    assert all(row.owed == 0 and not row.short for row in result.rows)
    keys = [(1 if r.weeks_left is not None else 2) for r in result.rows]
    assert keys == sorted(keys)


@pytest.mark.django_db
def test_the_rounds_pages_give_the_days_of_2005_and_2006_their_lists_were_made_and_they_closed(
    loaded, client_as
):
    # given the two rounds, listed the morning before they started and closed the evening they ended
    client = client_as(Role.COORDINATOR)
    expected = {
        "WR-2005": ("list made 13 Nov 2005 09:00", "Closed 29 Jan 2006 18:00."),
    }
    for code, (listed, closed) in expected.items():
        round_obj = DistributionRound.objects.get(code=code)
        # then the round keeps those days, not the day the scenario was loaded
        assert round_obj.listed_at is not None
        assert round_obj.closed_at is not None
        assert round_obj.listed_at.date() < round_obj.starts_on
        assert round_obj.closed_at.year == 2006
        # and its page says them
        body = client.get(reverse("households:round-detail", args=[round_obj.pk])).content.decode()
        assert listed in body, code
        assert closed in body, code
    # and the camp round, still open, says the morning its list was made
    camp = DistributionRound.objects.get(code="CAMP-2006")
    assert camp.closed_at is None
    body = client.get(reverse("households:round-detail", args=[camp.pk])).content.decode()
    assert "list made 1 Jan 2006 09:00" in body


@pytest.mark.django_db
def test_the_pipeline_of_the_last_day_is_closed_after_it_not_awaited_for_ever(loaded, client_as):
    client = client_as(Role.COORDINATOR)
    # given the history's last day, 31 March 2006: three trucks on the road, two of them overdue
    # (the third was expected on 1 April), and two pledges still to come
    last_day = selectors.waybills(today=dt.date(2026, 11, 30), as_of=dt.date(2006, 3, 31))
    assert last_day.in_transit == 3
    assert [(w.to_site.code, days) for w, days in last_day.overdue] == [("BTG-HUB", 4), ("BAG-HUB", 1)]
    body = client.get(reverse("web:home") + "?start=2006-03-01&end=2006-03-31").content.decode()
    assert re.search(r'<span class="figure">2</span> <span class="what">overdue on 31 Mar 2006', body)
    # then every truck arrived after it, and every pledge came: on any later day, today too,
    # nothing of that history is counted as on the road, overdue or awaited
    assert not Waybill.objects.filter(status="in_transit").exists()
    assert set(
        Waybill.objects.filter(delivered_on__gt=dt.date(2006, 3, 31)).values_list("delivered_on", flat=True)
    ) == {dt.date(2006, 4, 1)}
    assert not Pledge.objects.exclude(status=PledgeStatus.RECEIVED).exists()
    assert Pledge.objects.count() == 2
    now = client.get(reverse("web:home")).content.decode()
    assert re.search(r'<span class="figure">0</span> <span class="what">in transit', now)
    assert re.search(r'<span class="figure">0</span> <span class="what">overdue on', now)
    assert re.search(r'<span class="figure">0</span> <span class="what">pledges awaited', now)
    sitrep = build_sitrep(period=Period(), today=dt.date(2026, 11, 30)).markdown()
    assert all(
        line.endswith("| 0 |")
        for line in sitrep.splitlines()
        if line.startswith("| IOM ") and "hub |" in line
    )
    # and the published totals still hold exactly: the trucks and pledges only stock the hubs
    assert distributed_totals() == IOM
    assert ledger_verify().ok


@pytest.mark.django_db
def test_the_dashboard_reads_a_few_aggregates_not_the_lines(loaded, client_as, django_assert_max_num_queries):
    client = client_as(Role.ADMIN)
    client.get(reverse("web:home"))
    with django_assert_max_num_queries(40):
        assert client.get(reverse("web:home")).status_code == 200


@pytest.mark.django_db
def test_the_load_says_which_round_it_closed_in_grammatical_words(loaded):
    # the winter round ended before the history's last day: the load closes it and says so
    assert "; 908 household handovers; round WR-2005 closed, its period over\n" in loaded
    assert "their period" not in loaded


@pytest.mark.django_db
def test_the_history_is_told_loaded_by_its_first_key_in_the_unique_index(loaded):
    """The dashboard asks on each view whether the stock history is the scenario's: by the key of
    its first posting, looked up in the unique index, not by a match on the key prefix (which
    scans every movement of a large ledger on SQLite)."""
    first = Movement.objects.order_by("pk").first()
    assert first is not None
    assert first.idempotency_key == FIRST_KEY
    assert scenario_data().stock_history
    with CaptureQueriesContext(connection) as queries:
        scenario_data()
    movement_sql = [q["sql"] for q in queries.captured_queries if "stock_movement" in q["sql"]]
    assert len(movement_sql) == 1
    assert "LIKE" not in movement_sql[0].upper()


@pytest.mark.django_db
def test_the_stock_history_totals_the_published_figures_and_looks_like_the_operation(loaded):
    # the items distributed, to households and through partners, are exactly IOM's figures
    assert distributed_totals() == IOM

    # and the ledger is sound
    assert ledger_verify().ok

    # and the history looks like the operation: hundreds of waybills by truck and helicopter,
    # short and damaged deliveries, storm losses, counts, kitting, hand-overs to partners
    kinds = dict(Movement.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds[MovementKind.DISPATCH] >= 200
    assert kinds[MovementKind.DELIVERY] >= 200
    assert kinds[MovementKind.COUNT] > 0
    assert kinds[MovementKind.KITTING] > 0
    assert kinds[MovementKind.LOSS] > 0
    transports = set(Waybill.objects.values_list("transport", flat=True))
    assert {"truck", "helicopter", "jeep"} <= transports
    lost_in_transit = MovementLine.objects.filter(
        movement__kind=MovementKind.DELIVERY, to_location__kind=LocationKind.LOSS
    )
    assert lost_in_transit.exists()
    partners = set(
        MovementLine.objects.filter(to_location__kind=LocationKind.PARTNER).values_list(
            "to_location__organisation__name", flat=True
        )
    )
    assert "Pakistan Army" in partners
    distributing_hubs = set(
        Movement.objects.filter(kind=MovementKind.DISTRIBUTION).values_list(
            "site__parent_hub__code", flat=True
        )
    ) | set(
        Movement.objects.filter(kind=MovementKind.DISTRIBUTION, site__kind="hub").values_list(
            "site__code", flat=True
        )
    )
    assert {"MNS-HUB", "BLK-HUB", "BTG-HUB", "MZD-HUB", "BAG-HUB"} <= distributing_hubs


@pytest.mark.django_db
def test_the_scenario_registers_households_and_serves_them_within_the_published_totals(loaded):
    # households are registered in Allai, Bala Kot and Bagh, and in the three camps
    households = Household.objects.filter(status=HouseholdStatus.ACTIVE)
    assert households.count() > 1000
    districts = set(households.values_list("origin_district__pcode", flat=True))
    assert {"PK504", "PK522", "PK101"} <= districts
    camps = set(households.exclude(current_site=None).values_list("current_site__code", flat=True))
    assert camps == {"CAMP-MAIRA", "CAMP-SIRAN-SIALKOT", "CAMP-THORI-PARK"}

    # and the Winter Race served households above 5,000 ft, highest first, and is closed
    winter = DistributionRound.objects.get(code="WR-2005")
    assert winter.status == RoundStatus.CLOSED
    report = round_reconciliation(winter)
    assert report.served_households > 500
    assert report.agrees_with_ledger
    served_bands = set(
        Handover.objects.filter(round=winter).values_list("household__elevation_band", flat=True)
    )
    assert served_bands <= {"5000_to_7000", "above_7000"}
    assert round_reconciliation(DistributionRound.objects.get(code="CAMP-2006")).served_households > 100

    # and every handover is one distribution movement, the published totals still hold exactly
    assert distributed_totals() == IOM
    assert ledger_verify().ok
    assert Movement.objects.filter(household_delivery__isnull=False).count() == Handover.objects.count()


@pytest.mark.django_db
def test_loading_again_leaves_the_same_rows_in_every_table(loaded, state):
    # given the scenario loaded once
    counts, rows = row_counts(), state()
    # when it is loaded again
    out = io.StringIO()
    result = load(stdout=out)
    # then every table holds the same rows, and each step says it found everything in place
    assert row_counts() == counts
    assert state() == rows
    reference = result.steps[: len(REFERENCE_STEPS)]
    assert all(report.summary.startswith("0 created, 0 updated") for report in reference)
    said = out.getvalue()
    assert "gazetteer: 0 created, 0 updated, 88 unchanged" in said
    assert "stock history: already loaded" in said
    assert "households: 0 created, 0 updated" in said


# --- in a real browser -------------------------------------------------------------------------
# Last in the module: the live server sees the committed scenario, and this test, being
# transactional, empties the database after it.


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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_the_map_the_sitrep_and_a_donor_report_in_a_browser(
    loaded, signed_in_page, screenshots
):
    # given the whole scenario, and a donor's viewer signed in
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
    # and printed on A4 (718 px between the margins), its item-per-column tables keep every column
    # on the paper: none is wider than the page
    page.set_viewport_size({"width": 718, "height": 1000})
    page.emulate_media(media="print")
    for table in ("table.by-hub", "table.by-district"):
        width = page.eval_on_selector(table, "t => t.getBoundingClientRect().width")
        assert width <= 718, table
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 900})
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
