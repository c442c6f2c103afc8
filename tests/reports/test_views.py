"""The dashboard, the distributions page, the sitrep and the donor reports in the web UI: figures
from the ledger, the period filter, empty states, and what each role sees."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reliefops.core.roles import Role
from tests.cluster.conftest import row as cluster_row

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def headline(body: str) -> dict[str, int]:
    found = re.search(r'<ul class="headline" data-figures="distributed">(.*?)</ul>', body, re.S)
    if found is None:
        return {}
    return {
        code: int(value.replace(",", ""))
        for code, value in re.findall(
            r'data-item="([A-Z-]+)">.*?<span class="figure">([\d,]+)</span>', found[1]
        )
    }


# --- empty database ------------------------------------------------------------------------------


def test_an_empty_operation_shows_empty_states_not_errors(client_as):
    client = client_as(Role.VIEWER)
    body = text(client.get(reverse("web:home")))
    assert "Nothing has been handed over since the start of the operation." in body
    assert "No stock on hand and no round waiting" in body
    assert "No partner has reported a 4W row" in body
    assert "no activity type is defined yet" in body
    sitrep = text(client.get(reverse("reports:sitrep")))
    assert "has distributed none of its reported items" in sitrep
    assert "No hub is recorded." in sitrep
    assert "No grant is recorded yet" in text(client.get(reverse("reports:donor-list")))
    data = client.get(reverse("reports:map-data")).json()
    assert data["features"] == []
    assert data["attributions"] == []


# --- figures and the period ----------------------------------------------------------------------


def test_the_dashboard_adds_up_the_ledger_by_item_hub_and_district(ledger, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:home")))
    # 60 to households at the point, 40 to the army, 10 handed out and reversed: 100
    assert headline(body) == {"BLANKET": 100}
    assert "40 through partners" in body
    # the point counts in the hub that supplies it; both are in Mansehra
    hub_row = re.search(
        r'<a href="/reports/distributed/\?hub=BLK-HUB">Balakot hub</a></th><td class="num">([\d,]+)', body
    )
    assert hub_row is not None
    assert hub_row[1] == "100"
    assert re.search(r'district=PK522">Mansehra</a></th><td class="num">100</td>', body)
    # the truck expected on 7 Nov 2005 is overdue and listed
    assert ledger.waybill.number in body
    assert re.search(r'<span class="figure">1</span> <span class="what">overdue', body)
    # dates read as everywhere else: 7 Nov 2005, not 2005-11-07
    assert "<td>7 Nov 2005</td>" in body
    assert "2005-11-07" not in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("?start=2005-10-01&end=2005-10-31", {"BLANKET": 60}, id="october"),
        pytest.param("?start=2005-11-01&end=2005-11-30", {"BLANKET": 40}, id="november"),
        pytest.param("?end=2005-10-24", {}, id="before-any"),
        pytest.param("?start=2005-11-03", {}, id="reversal-nets-out"),
    ],
)
def test_the_period_filter_counts_what_was_handed_over_in_it(ledger, client_as, query, expected):
    body = text(client_as(Role.VIEWER).get(reverse("web:home") + query))
    assert headline(body) == expected


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        pytest.param("?start=25/10/2005", "is not a date", id="not-a-date"),
        pytest.param(
            "?start=2005-11-30&end=2005-11-01", "the period ends (2005-11-01) before it starts", id="reversed"
        ),
    ],
)
def test_a_bad_period_is_refused_with_its_field_and_reason(ledger, client_as, query, reason):
    for name in ("web:home", "reports:sitrep", "reports:distributed"):
        response = client_as(Role.VIEWER).get(reverse(name) + query)
        assert response.status_code == 422, name
        body = text(response)
        assert reason in body
        assert 'class="field-error"' in body
        assert headline(body) == {}


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        pytest.param("?end=9999-12-31", "end", "is outside the days reports cover", id="past-2099"),
        pytest.param("?start=0001-01-01", "start", "is outside the days reports cover", id="year-one"),
        pytest.param("?start=20051201", "start", "is not a date; write it as YYYY-MM-DD", id="basic-iso"),
        pytest.param("?start=2005-W48-1", "start", "is not a date; write it as YYYY-MM-DD", id="iso-week"),
        pytest.param("?start={tomorrow}", "start", "after today", id="starts-after-today"),
    ],
)
def test_a_day_the_reports_cannot_cover_is_refused_on_every_page(ledger, client_as, query, field, reason):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    query = query.format(tomorrow=tomorrow.isoformat())
    client = client_as(Role.COORDINATOR)
    for url in (
        reverse("web:home"),
        reverse("reports:sitrep"),
        reverse("reports:sitrep-download", args=["md"]),
        reverse("reports:sitrep-download", args=["html"]),
        reverse("reports:distributed"),
    ):
        # when a page is asked for a period the cluster's months, or the ledger, cannot hold
        response = client.get(url + query)
        # then it is refused beside its field, and no file or link is made of it
        assert response.status_code == 422, url
        assert "Content-Disposition" not in response
        body = text(response)
        message = field_error(body, field)
        assert message is not None, url
        assert reason in message
        assert "period_from=" not in body
    map_data = client.get(reverse("reports:map-data") + query)
    assert map_data.status_code == 422
    assert map_data.json()["problems"][0]["field"] == field


def test_the_last_day_the_cluster_reads_still_makes_links_it_accepts(shelter_cluster, client_as):
    client = client_as(Role.COORDINATOR)
    body = text(client.get(reverse("web:home") + "?start=1990-01-01&end=2099-12-31"))
    link = re.search(r'href="(/cluster/\?activity=TENTS[^"]*)"', body)
    assert link is not None
    # (a period ending after today reads, and links to, the months up to today's)
    today = timezone.localdate()
    assert link[1].endswith(f"period_from=1990-01&amp;period_to={today.year:04d}-{today.month:02d}")
    assert client.get(html.unescape(link[1])).status_code == 200


def waybill_figures(body: str) -> dict[str, str]:
    section = re.search(r'<section class="section" id="waybills".*?</section>', body, re.S)
    assert section is not None
    return {
        what.split(" on ")[0]: figure
        for figure, what in re.findall(
            r'<span class="figure">([\d,]+)</span> <span class="what">([^<]+)</span>', section[0]
        )
    }


def test_a_past_period_counts_the_trucks_on_the_road_and_overdue_on_its_last_day(ledger, client_as):
    from reliefops.stock.services import DeliveryLine, StockLine, waybill_confirm_delivery, waybill_dispatch

    # given a second truck, dispatched on 6 Nov 2005, expected on the 8th, delivered on the 12th
    late = waybill_dispatch(
        actor=ledger.actor,
        from_site_id=ledger.warehouse.pk,
        to_site_id=ledger.hub.pk,
        lines=[StockLine(item_id=ledger.blanket.pk, quantity=5)],
        dispatched_on=dt.date(2005, 11, 6),
        expected_on=dt.date(2005, 11, 8),
    ).waybill
    waybill_confirm_delivery(
        actor=ledger.actor,
        waybill_id=late.pk,
        delivered_on=dt.date(2005, 11, 12),
        lines=[DeliveryLine(item_id=ledger.blanket.pk, received=5)],
    )
    client = client_as(Role.VIEWER)
    # when the dashboard of a period ending on 10 Nov 2005 is opened
    body = text(client.get(reverse("web:home") + "?start=2005-11-01&end=2005-11-10"))
    # then both trucks were on the road that day, both overdue, by days counted to that day
    assert waybill_figures(body) == {"in transit": "2", "overdue": "2", "pledges awaited today": "0"}
    assert "on 10 Nov 2005, the period's last day" in body
    overdue = re.findall(r'<td><a href="[^"]+">([^<]+)</a></td>.*?<td class="num">(\d+)</td></tr>', body)
    assert overdue == [(ledger.waybill.number, "3"), (late.number, "2")]
    assert "7,5" not in body  # nothing counted to today
    # and before the second truck left, only the first was on the road, not yet overdue
    early = text(client.get(reverse("web:home") + "?end=2005-11-05"))
    assert waybill_figures(early) == {"in transit": "1", "overdue": "0", "pledges awaited today": "0"}
    # and after the second was delivered, the first is overdue alone
    later = text(client.get(reverse("web:home") + "?end=2005-11-20"))
    assert waybill_figures(later)["overdue"] == "1"
    # and with no end (or one not past) the trucks are today's, overdue counted to today
    today = text(client.get(reverse("web:home")))
    figures = waybill_figures(today)
    assert figures["in transit"] == "1"
    assert figures["overdue"] == "1"
    assert '?overdue=on"' in today
    # and a truck expected years ago is not counted in thousands of days: nobody confirmed it since
    days = (timezone.localdate() - dt.date(2005, 11, 7)).days
    assert f'<td class="num">{days:,}</td>' not in today
    assert '<td class="num">not confirmed since 7 Nov 2005</td>' in today
    # while on a day close to it, the days overdue are counted
    assert re.search(
        r'<td class="num">13</td></tr>', text(client.get(reverse("web:home") + "?end=2005-11-20"))
    )


def test_a_truck_whose_dispatch_was_reversed_was_on_the_road_until_the_reversal(ledger, client_as):
    from reliefops.stock.services import movement_reverse

    # given the truck of 5 Nov 2005 (expected on the 7th) called back: its dispatch reversed on the 9th
    dispatch = ledger.waybill.movements.get(kind="dispatch")
    movement_reverse(
        actor=ledger.actor, movement_id=dispatch.pk, reason="truck recalled", reversed_on=dt.date(2005, 11, 9)
    )
    client = client_as(Role.VIEWER)
    # then it counts as on the road, and overdue, on the 8th, and no longer on the 10th or today
    assert waybill_figures(text(client.get(reverse("web:home") + "?end=2005-11-08")))["overdue"] == "1"
    assert waybill_figures(text(client.get(reverse("web:home") + "?end=2005-11-10")))["in transit"] == "0"
    assert waybill_figures(text(client.get(reverse("web:home"))))["in transit"] == "0"


def test_the_distributions_page_explains_a_figure_site_by_site(ledger, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("reports:distributed") + "?item=BLANKET"))
    assert "Distributed: Blanket" in body
    assert re.search(r"Garhi Habibullah point</th><td class=\"num\">60</td>", body)
    assert re.search(r"Balakot hub</th><td class=\"num\">40</td>", body)
    assert f'href="/stock/movements/?site={ledger.point.pk}&amp;kind=distribution&amp;item=BLANKET"' in body
    assert '<th scope="row">24 Oct 2005</th>' in body  # the week of 25 October begins on Monday 24


def test_a_sites_movement_links_keep_the_period_and_item_and_add_up_to_its_figure(ledger, client_as):
    client = client_as(Role.VIEWER)
    # given the point's 60 blankets of 25 Oct 2005, and 5 more handed out on 3 Nov
    from reliefops.stock.services import StockLine, stock_distribute

    stock_distribute(
        actor=ledger.actor,
        site_id=ledger.point.pk,
        lines=[StockLine(item_id=ledger.blanket.pk, quantity=5)],
        distributed_on=dt.date(2005, 11, 3),
    )
    # when the Distributed page of October's blankets is opened
    body = text(client.get(reverse("reports:distributed") + "?item=BLANKET&start=2005-10-01&end=2005-10-31"))
    assert re.search(r"Garhi Habibullah point</th><td class=\"num\">60</td>", body)
    # then the point's links keep the days and the item
    link = re.search(
        r'<a href="(/stock/movements/\?site=\d+&amp;kind=distribution[^"]*)">distributions</a>', body
    )
    assert link is not None
    url = html.unescape(link[1])
    assert url == (
        f"/stock/movements/?site={ledger.point.pk}&kind=distribution&start=2005-10-01&end=2005-10-31&item=BLANKET"
    )
    # and the movements they open add up to the page's 60, not 65
    movements = text(client.get(url))
    quantities = re.findall(
        r'<td class="num">\d+</td>\s*<td class="num">([\d,]+)</td><td class="num change', movements
    )
    assert [int(q) for q in quantities] == [60]
    assert "\u221260</td>" in movements  # the point's stock went out


def test_the_dashboards_cluster_links_open_the_figures_of_its_period(shelter_cluster, client_as):
    from reliefops.cluster.models import AreaBoundary

    AreaBoundary.objects.create(
        admin_area=shelter_cluster.batagram,
        geometry={"type": "Polygon", "coordinates": [[[73, 34], [73.2, 34], [73.2, 34.2], [73, 34]]]},
        attribution="test outlines",
    )
    client = client_as(Role.COORDINATOR)
    december = "?start=2005-12-01&end=2005-12-31"
    # given the dashboard of December 2005, where Batagram has 30 households reached (not 130)
    body = text(client.get(reverse("web:home") + december))
    row = re.search(
        r'<a href="([^"]+)">Batagram</a> <span class="code-quiet">PK504</span></th>\s*'
        r'<td class="num">.*?</td>\s*<td class="num">([\d,]+)</td>',
        body,
        re.S,
    )
    assert row is not None
    assert row[2] == "30"
    months = "period_from=2005-12&period_to=2005-12"
    # when the district's link is followed, the tehsils add up to the same 30, not the whole operation
    link = row[1].replace("&amp;", "&")
    assert link == f"/cluster/?level=tehsil&within=PK504&activity=TENTS&{months}"
    tehsils = text(client.get(link))
    assert re.search(
        r'Allai<span class="aka">Batagram</span></td>(\s*<td class="num">.*?</td>){2}'
        r'\s*<td class="num">30</td>',
        tehsils,
        re.S,
    )
    # and the activity's own link, the map's district and the sitrep keep the period too
    assert f'href="/cluster/?activity=TENTS&amp;{months.replace("&", "&amp;")}"' in body
    assert 'href="/reports/sitrep/?start=2005-12-01&amp;end=2005-12-31"' in body
    data = client.get(reverse("reports:map-data") + december).json()
    [area] = [f["properties"] for f in data["features"] if f["properties"]["layer"] == "area"]
    assert area["reached"] == 30
    assert area["href"] == link
    # and the whole operation's links carry no period
    whole = text(client.get(reverse("web:home")))
    assert 'href="/cluster/?level=tehsil&amp;within=PK504&amp;activity=TENTS"' in whole


def test_the_sitrep_link_keeps_the_activity_chosen_on_the_dashboard(shelter_cluster, client_as):
    body = text(client_as(Role.COORDINATOR).get(reverse("web:home") + "?end=2005-12-31&activity=TENTS"))
    assert 'href="/reports/sitrep/?end=2005-12-31&amp;activity=TENTS"' in body


def field_error(body: str, name: str) -> str | None:
    """The message beside a field of the filter, if any."""
    found = re.search(
        rf'<div class="field field-{name}">.*?<span class="field-error"[^>]*>(.*?)</span>.*?</div>',
        body,
        re.S,
    )
    return html.unescape(found[1]) if found else None


@pytest.mark.parametrize("hub", ["BLK-HUB", "blk-hub", "{pk}"], ids=["code", "lower-case", "id"])
def test_the_distributions_page_takes_a_hub_by_its_code_or_its_id(ledger, client_as, hub):
    # when the guide's address is written with the hub's code (or a link gives its id)
    response = client_as(Role.VIEWER).get(
        reverse("reports:distributed") + "?hub=" + hub.format(pk=ledger.hub.pk)
    )
    # then the page is narrowed to the hub and the point it supplies: 60 + 40 = 100
    body = text(response)
    assert response.status_code == 200
    assert "<h1>Distributed: Balakot hub</h1>" in body
    assert re.search(r"Garhi Habibullah point</th><td class=\"num\">60</td>", body)
    assert re.search(r"<tfoot><tr><th scope=\"row\">Total</th><td class=\"num\">100</td>", body)
    # and the filter shows the hub chosen, by its code
    assert '<option value="BLK-HUB" selected>Balakot hub</option>' in body


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        pytest.param("?hub=NOPE", "hub", "no site has the code 'NOPE'", id="unknown-hub"),
        pytest.param(
            "?hub=DP-1",
            "hub",
            "Garhi Habibullah point (DP-1) is not a hub: it counts in the hub that supplies it, "
            "Balakot hub (BLK-HUB)",
            id="a-point-is-not-a-hub",
        ),
        pytest.param("?item=NOPE", "item", "no item has the code 'NOPE'", id="unknown-item"),
        pytest.param(
            "?district=PK999", "district", "'PK999' is the P-code of no area", id="unknown-district"
        ),
        pytest.param(
            "?item=BLANKET&hub=NOPE&start=2005-13-01",
            "start",
            "is no day of the calendar",
            id="with-a-bad-date-too",
        ),
    ],
)
def test_the_distributions_page_refuses_a_filter_it_does_not_know(ledger, client_as, query, field, reason):
    response = client_as(Role.VIEWER).get(reverse("reports:distributed") + query)
    body = text(response)
    # then nothing is shown under a title that would claim it, and the field says why
    assert response.status_code == 422
    assert "The filter was not understood" in body
    assert "<h1>Distributed</h1>" in body
    assert 'class="data by-site"' not in body
    message = field_error(body, field)
    assert message is not None
    assert reason in message


def test_a_tehsil_is_not_a_district(ledger, client_as):
    from tests.factories import AdminAreaFactory

    AdminAreaFactory(pcode="PK52201", name="Bala Kot", level="tehsil", parent=ledger.hub.admin_area)
    body = text(client_as(Role.VIEWER).get(reverse("reports:distributed") + "?district=PK52201"))
    assert field_error(body, "district") == "Bala Kot (PK52201) is a tehsil, not a district"


@pytest.mark.parametrize("name", ["web:home", "reports:sitrep", "reports:sitrep-download"])
def test_an_unknown_activity_is_refused_not_replaced_by_the_first(shelter_cluster, client_as, name):
    url = reverse(name, args=["md"]) if name == "reports:sitrep-download" else reverse(name)
    response = client_as(Role.COORDINATOR).get(url + "?activity=NOPE")
    assert response.status_code == 422
    message = field_error(text(response), "activity")
    assert message is not None
    assert message.startswith("'NOPE' is not an activity; use one of")
    assert "The filter was not understood" in text(response)


def test_the_map_data_refuses_an_unknown_activity(shelter_cluster, client_as):
    response = client_as(Role.COORDINATOR).get(reverse("reports:map-data") + "?activity=NOPE")
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "activity"


# --- the sitrep ----------------------------------------------------------------------------------


def test_the_sitrep_page_and_its_files_come_from_one_builder(ledger, client_as, settings):
    settings.OPERATING_ORGANISATION = "ARMY"  # the organisation's row: its full name heads the sitrep
    client = client_as(Role.VIEWER)
    page = text(client.get(reverse("reports:sitrep")))
    assert "In total, ARMY has distributed: 100 blankets." in page
    assert "data-print" in page
    assert "<script>" not in page
    markdown = client.get(
        reverse("reports:sitrep-download", args=["md"]) + "?start=2005-10-01&end=2005-10-31"
    )
    assert markdown["Content-Type"].startswith("text/markdown")
    assert "attachment" in markdown["Content-Disposition"]
    assert "From 1 October 2005 to 31 October 2005, ARMY has distributed: 60 blankets." in text(markdown)
    html = client.get(reverse("reports:sitrep-download", args=["html"]))
    assert text(html).startswith("<!doctype html>")
    assert "Pakistan Army" in text(html)
    # its own styles apply, and nothing else may run or load
    assert html["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert "<script" not in text(html)


@pytest.mark.parametrize(
    ("role", "sees_hubs"),
    [
        pytest.param(Role.PARTNER_REPORTER, False, id="partner-reporter"),
        pytest.param(Role.VIEWER, True, id="viewer"),
        pytest.param(Role.COORDINATOR, True, id="coordinator"),
    ],
)
def test_the_sitrep_shows_the_stock_ledger_only_to_roles_that_see_stock(ledger, client_as, role, sees_hubs):
    # given a partner reporter, to whom the stock pages are closed, and roles that see every site's stock
    client = client_as(role)
    assert client.get(reverse("stock:onhand-list")).status_code == (200 if sees_hubs else 403)
    left_out = (
        "The hubs&#x27; part (stock on hand, what each hub handed over, waybills on the way) is left out"
    )
    for url in (
        reverse("reports:sitrep"),
        reverse("reports:sitrep-download", args=["md"]),
        reverse("reports:sitrep-download", args=["html"]),
    ):
        # when they read the sitrep, as a page or a file
        response = client.get(url)
        assert response.status_code == 200
        body = html.unescape(text(response))
        hubs = body.split("Hubs", 1)[1].split("Gaps", 1)[0]
        # then the hubs' stock, hand-overs and waybills are there only for a role that sees stock
        assert ("Balakot hub" in hubs) is sees_hubs, url
        assert ("Islamabad warehouse" in hubs) is sees_hubs, url
        assert ("On hand" in hubs) is sees_hubs, url
        # and a reader without them is told, in one line, that they are left out
        assert (html.unescape(left_out) in hubs) is not sees_hubs, url
        # and what the organisation distributed, read from the same ledger, goes with them: a partner
        # reporter, who sees no stock figure on the dashboard, does not read it in the sitrep either
        distributed = body.split("Distributed", 1)[1].split("cluster", 1)[0]
        assert ("has distributed: 100 blankets." in body) is sees_hubs, url
        assert ("Blanket" in distributed) is sees_hubs, url  # nor its table of items
        assert ("distributed is left out" in distributed) is not sees_hubs, url


@pytest.mark.parametrize(
    ("query", "name"),
    [
        pytest.param("?start=2005-12-01&end=2005-12-31", "sitrep-2005-12-01-to-2005-12-31", id="period"),
        pytest.param("?end=2005-12-31", "sitrep-2005-12-31", id="up-to-a-day"),
        pytest.param("?start=2005-12-01", "sitrep-2005-12-01-to-{today}", id="since-a-day"),
        pytest.param("", "sitrep-{today}", id="whole-operation"),
    ],
)
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_sitrep_file_is_named_after_the_days_it_covers(ledger, client_as, query, name, fmt):
    from django.utils import timezone

    response = client_as(Role.VIEWER).get(reverse("reports:sitrep-download", args=[fmt]) + query)
    expected = name.format(today=f"{timezone.localdate():%Y-%m-%d}")
    assert response["Content-Disposition"] == f'attachment; filename="{expected}.{fmt}"'


# --- donor reports -------------------------------------------------------------------------------


def donor_headline(body: str) -> dict[str, tuple[int, str]]:
    """Item code -> (received, what the rest of its headline says)."""
    found = re.search(r'<ul class="headline" data-figures="received">(.*?)</ul>', body, re.S)
    assert found is not None
    return {
        code: (int(figure.replace(",", "")), rest)
        for code, figure, rest in re.findall(
            r'<li data-item="([A-Z-]+)"><span class="figure">([\d,]+)</span>(.*?)</li>', found[1], re.S
        )
    }


def test_a_donor_report_accounts_for_the_grant_item_by_item(ledger, client_as):
    # given DFID's grant: 700 blankets received (40 handed to the army, 30 in transit) and 50 sheets
    from tests.stock.conftest import receive

    receive(ledger, ledger.hub, ledger.cgi, 50, ledger.dfid, "GRN-C1")
    body = text(client_as(Role.VIEWER).get(reverse("reports:donor-report", args=[ledger.dfid.pk])))
    # then the headline gives each item its own figures, in transit too, and never adds them up
    headline = donor_headline(body)
    assert {code: received for code, (received, _) in headline.items()} == {"BLANKET": 700, "CGI-SHEET": 50}
    assert "30 in transit" in headline["BLANKET"][1]
    assert "40 handed to partners" in headline["BLANKET"][1]
    assert "0 in transit" in headline["CGI-SHEET"][1]
    # and 750 (blankets and sheets added up) is no figure of the page: looked for in its text, not in
    # its links, whose ids (a movement's, on PostgreSQL, whose sequences run on) may be anything
    shown = re.sub(r"<[^>]+>", " ", body)
    assert not re.search(r"(?<![#\d,.])750(?![\d,])", shown)
    # and the item table has no row adding blankets and sheets together
    footer = re.search(r"<tfoot>(.*?)</tfoot>", body, re.S)
    assert footer is not None
    assert "different items are not added into one figure (2 items)" in footer[1]
    assert '<td class="num">' not in footer[1]
    # and what a partner holds is given item by item, not in "units" of everything
    assert "Pakistan Army: 40 \u00d7 Blanket</li>" in body  # 40 times (the sign) Blanket
    assert "units" not in body
    echo = text(client_as(Role.VIEWER).get(reverse("reports:donor-report", args=[ledger.echo.pk])))
    assert re.search(r"Garhi Habibullah point</th><td>Mansehra</td><td class=\"num\">60</td>", echo)


IDENTITY = "Received + other = distributed + handed to partners + lost + in transit + on hand"


def test_both_donor_reports_and_the_download_state_the_identity_their_figures_keep(ledger, client_as):
    import io

    from openpyxl import load_workbook

    from reliefops.stock.selectors import donor_report

    # given DFID's grant, whose figures keep received + other = the rest
    for row in donor_report(grant_id=ledger.dfid.pk).rows:
        accounted = row.distributed + row.handed_to_partners + row.lost + row.in_transit + row.on_hand
        assert row.received + row.other == accounted
    client = client_as(Role.COORDINATOR)
    # when its report is read in the reports pages, in the stock pages and as an XLSX file
    reports_page = text(client.get(reverse("reports:donor-report", args=[ledger.dfid.pk])))
    stock_page = text(client.get(reverse("stock:donor-report", args=[ledger.dfid.pk])))
    download = client.get(reverse("stock:donor-report", args=[ledger.dfid.pk]), {"format": "xlsx"})
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    about = " ".join(
        str(cell) for row in workbook["About"].iter_rows(values_only=True) for cell in row if cell
    )
    # then each states that identity, and none the one the figures break
    for said in (reports_page, stock_page, about):
        assert IDENTITY in said
        assert "Received = distributed" not in said


def supply_rows(body: str) -> tuple[list[str], dict[str, list[str]]]:
    """The supply table's column headings, and each item's cells."""
    table = re.search(r'<table class="data supply"[^>]*>(.*?)</table>', body, re.S)
    assert table is not None
    headings = [re.sub(r"\s+", " ", h) for h in re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table[1])]
    rows = {
        code: re.findall(r'<td class="num">(?:<strong[^>]*>)?([^<]*)', cells)
        for code, cells in re.findall(
            r'<span class="code-quiet">([^<]+)</span></th>(.*?)</tr>', table[1], re.S
        )
    }
    return headings, rows


def test_a_past_period_sets_its_last_day_s_stock_against_its_own_weekly_rate(ledger, client_as):
    client = client_as(Role.VIEWER)
    # given blankets held: 500 at the warehouse, 200 at the hub, 40 at the point after its 60 went out
    # on 25 Oct 2005; 40 handed over by the hub on 2 Nov, 30 on the road from the warehouse on 5 Nov
    # when the dashboard of October 2005 is opened
    headings, rows = supply_rows(text(client.get(reverse("web:home") + "?start=2005-10-01&end=2005-10-31")))
    # then on hand is what was held at the end of 31 October, beside October's rate (60 in one week)
    assert headings == [
        "Item",
        "On hand on 31 Oct 2005",
        "Owed to rounds today",
        "Handed over per week",
        "Weeks of stock",
    ]
    assert rows["BLANKET"] == ["740", "0", "60", "12.3"]
    # and without a period the stock is today's, set against what rounds owe today
    headings, rows = supply_rows(text(client.get(reverse("web:home"))))
    assert headings[1:4] == ["On hand today", "Owed to rounds today", "After the rounds"]
    assert rows["BLANKET"][:3] == ["670", "0", "670"]


def test_rounds_still_owed_name_only_the_rounds_that_owe_something(rounds, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:home")))
    owed = re.search(r'<p class="notes">Rounds still owed: (.*?)</p>', body, re.S)
    assert owed is not None
    # WR-1 has handed over all it owes; WR-2 still owes 10 CGI sheets and 8 blankets
    assert re.sub(r"<[^>]+>", "", owed[1]).strip() == "WR-2"
    assert f'href="{reverse("households:round-detail", args=[rounds.waiting.pk])}"' in owed[1]


# --- roles ---------------------------------------------------------------------------------------


def test_a_hub_manager_sees_the_figures_of_their_own_sites_only(ledger, client_as):
    warehouse_manager = text(client_as(Role.HUB_MANAGER, hubs=[ledger.warehouse]).get(reverse("web:home")))
    assert headline(warehouse_manager) == {}
    assert "Nothing has been handed over since the start of the operation at your sites." in warehouse_manager
    point_manager = text(
        client_as(Role.HUB_MANAGER, hubs=[ledger.hub], distribution_points=[ledger.point]).get(
            reverse("web:home")
        )
    )
    assert headline(point_manager) == {"BLANKET": 100}
    assert "Coverage and gaps" not in point_manager  # hub managers hold no cluster right
    assert client_as(Role.HUB_MANAGER, hubs=[ledger.hub]).get(reverse("reports:sitrep")).status_code == 403


def by_hub(body: str) -> dict[str, tuple[str, str]]:
    """Hub name -> (its first figure, what the row says it leaves out)."""
    table = re.search(r'<table class="data by-hub">(.*?)</table>', body, re.S)
    assert table is not None
    return {
        name: (figure, note)
        for name, note, figure in re.findall(
            r'">([^<]+)</a>(?: <span class="aka share">([^<]*)</span>)?</th><td class="num">([\d,]+)</td>',
            table[1],
        )
    }


def test_a_hubs_row_says_when_it_counts_only_some_of_its_points(ledger, client_as):
    # given the coordinator's row of the Balakot hub: the hub and its point, 40 + 60
    assert by_hub(text(client_as(Role.COORDINATOR).get(reverse("web:home")))) == {"Balakot hub": ("100", "")}
    # when a manager of the hub alone (not given its point) opens the dashboard
    manager = client_as(Role.HUB_MANAGER, hubs=[ledger.hub])
    body = text(manager.get(reverse("web:home")))
    # then the row's figure is theirs, and the row says what it leaves out
    assert by_hub(body) == {
        "Balakot hub": ("40", "your sites only: the hub itself, none of its 1 distribution point")
    }
    assert "when it is one of your sites" in body
    # and the Distributed page of the hub says the same
    page = text(manager.get(reverse("reports:distributed") + "?hub=BLK-HUB"))
    assert "You see your own sites only: the hub itself, none of its 1 distribution point." in page
    # when the point is theirs too, the row means what the coordinator's means
    whole = text(client_as(Role.HUB_MANAGER, hubs=[ledger.hub], distribution_points=[ledger.point]).get("/"))
    assert by_hub(whole) == {"Balakot hub": ("100", "")}
    # and a manager given only the point sees the point's figure under its hub, said so
    point_only = text(client_as(Role.HUB_MANAGER, distribution_points=[ledger.point]).get("/"))
    assert by_hub(point_only) == {
        "Balakot hub": ("60", "your sites only: 1 of its 1 distribution point, not the hub itself")
    }


def test_a_hub_manager_is_told_another_hub_is_outside_their_sites(ledger, client_as):
    # given a manager of the Islamabad warehouse alone
    manager = client_as(Role.HUB_MANAGER, hubs=[ledger.warehouse])
    # when they open the Distributed page of the Balakot hub, which handed over 100 blankets
    body = text(manager.get(reverse("reports:distributed") + "?hub=BLK-HUB"))
    # then the page says the hub is not theirs, not that nothing was handed over there
    assert "Balakot hub is outside your sites" in body
    assert "Nothing was handed over" not in body
    assert 'class="data by-site"' not in body
    # and their own warehouse, which handed over nothing, says so
    own = text(manager.get(reverse("reports:distributed") + "?hub=ISB-WH"))
    assert "Nothing was handed over" in own
    assert "outside your sites" not in own
    # and a manager given only the hub's point still sees the point's figures under the hub
    point_only = text(
        client_as(Role.HUB_MANAGER, distribution_points=[ledger.point]).get(
            reverse("reports:distributed") + "?hub=BLK-HUB"
        )
    )
    assert "outside your sites" not in point_only
    assert re.search(r"Garhi Habibullah point</th><td class=\"num\">60</td>", point_only)


def test_a_hub_outside_a_managers_sites_is_titled_as_the_page_says_and_offers_their_own(ledger, client_as):
    # given a manager of the Islamabad warehouse alone
    manager = client_as(Role.HUB_MANAGER, hubs=[ledger.warehouse])
    # when they open the Distributed page of the Balakot hub, in November
    body = text(manager.get(reverse("reports:distributed") + "?hub=BLK-HUB&start=2005-11-01&end=2005-11-30"))
    # then its title and heading say, as its message does, that the hub is outside their sites
    title = re.search(r"<title>(.*?)</title>", body, re.S)
    assert title is not None
    assert title[1] == "Distributed: Balakot hub, outside your sites · reliefops"
    heading = re.search(r"<h1>(.*?)</h1>", body, re.S)
    assert heading is not None
    assert re.sub(r"<[^>]+>", "", heading[1]) == "Distributed: Balakot hub outside your sites"
    assert "at your sites" not in heading[1]
    # and the message links to what their own sites handed over in the same days
    message = re.search(r'<p class="none empty outside-scope">(.*?)</p>', body, re.S)
    assert message is not None
    link = re.search(r'<a href="([^"]+)">See what your own sites handed over</a>', message[1])
    assert link is not None
    assert html.unescape(link[1]) == "?start=2005-11-01&end=2005-11-30"
    own = text(manager.get(reverse("reports:distributed") + html.unescape(link[1])))
    assert "outside your sites" not in own
    assert re.search(r"<h1>Distributed <span class=\"count\">at your sites</span></h1>", own)


@pytest.mark.parametrize(
    ("role", "donor_reports", "says_donor_reports"),
    [
        pytest.param(Role.VIEWER, 200, True, id="viewer"),
        pytest.param(Role.COORDINATOR, 200, True, id="coordinator"),
        pytest.param(Role.HUB_MANAGER, 403, False, id="hub-manager"),
    ],
)
def test_a_role_is_told_it_may_see_donor_reports_only_when_it_may(
    ledger, client_as, role, donor_reports, says_donor_reports
):
    client = client_as(role, hubs=[ledger.hub]) if role == Role.HUB_MANAGER else client_as(role)
    said = re.search(r"<p class=\"notes\">Your role .*?</p>", text(client.get(reverse("web:home"))), re.S)
    assert said is not None
    assert ("donor reports" in said[0]) is says_donor_reports
    assert client.get(reverse("reports:donor-list")).status_code == donor_reports
    if role == Role.HUB_MANAGER:
        assert "see stock on hand and the pipeline at your sites" in said[0]


@pytest.mark.parametrize(
    ("role", "sees_stock", "sees_cluster"),
    [
        pytest.param(Role.VIEWER, True, True, id="viewer"),
        pytest.param(Role.COORDINATOR, True, True, id="coordinator"),
        pytest.param(Role.PARTNER_REPORTER, False, True, id="partner-reporter"),
        pytest.param(Role.REGISTRAR, False, False, id="registrar"),
        pytest.param(Role.DISTRIBUTOR, False, False, id="distributor"),
    ],
)
def test_each_role_sees_the_sections_its_rights_allow(ledger, client_as, role, sees_stock, sees_cluster):
    body = text(client_as(role).get(reverse("web:home")))
    assert ('id="distributed"' in body) is sees_stock
    assert ('id="waybills"' in body) is sees_stock
    assert ('id="coverage"' in body) is sees_cluster
    assert ("operations-map" in body) is sees_cluster
    assert 'href="/reference/"' in body


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        pytest.param(
            Role.REGISTRAR,
            ["/households/register/", "/households/import/", "/households/registry/", "/households/rounds/"],
            id="registrar",
        ),
        pytest.param(
            Role.DISTRIBUTOR,
            ["/households/registry/", "/households/rounds/", "/stock/post/"],
            id="distributor",
        ),
    ],
)
def test_a_role_without_figures_gets_its_own_pages_and_no_filter_that_does_nothing(
    ledger, client_as, role, pages
):
    # when a registrar or a distributor opens the dashboard
    response = client_as(role).get(reverse("web:home"))
    body = text(response)
    # then no period or activity is offered, for no section of theirs would follow it
    assert response.status_code == 200
    assert "period-form" not in body
    assert 'name="activity"' not in body
    assert 'name="start"' not in body
    # and the page says where their work is, and links to their own pages
    own = re.search(r'<section class="section links" id="own-pages".*?</section>', body, re.S)
    assert own is not None
    for url in pages:
        assert f'href="{url}"' in own[0], url
    assert "your work is in the pages below" in body


def test_a_hub_manager_is_offered_no_cluster_activity_but_an_unknown_one_is_still_refused(
    shelter_cluster, client_as
):
    manager = client_as(Role.HUB_MANAGER)
    # given the dashboard of a hub manager, who sees no cluster figures
    body = text(manager.get(reverse("web:home")))
    # then the period is offered, the cluster's activity is not
    assert 'name="start"' in body
    assert 'name="activity"' not in body
    assert "Cluster activity" not in body
    # and an activity that is none is refused, as the guide says, where a real one changes nothing
    refused = manager.get(reverse("web:home") + "?activity=NOPE")
    assert refused.status_code == 422
    assert "&#x27;NOPE&#x27; is not an activity; use one of" in text(refused)
    assert manager.get(reverse("web:home") + "?activity=TENTS").status_code == 200
    # and a coordinator is still offered the activity
    assert 'name="activity"' in text(client_as(Role.COORDINATOR).get(reverse("web:home")))


def test_the_dashboard_says_which_days_its_figures_cover_in_plain_words(ledger, client_as):
    client = client_as(Role.VIEWER)
    whole = text(client.get(reverse("web:home")))
    assert "the operation's figures since the start of the operation." in whole
    assert "the operation since the start of the operation" not in whole
    december = text(client.get(reverse("web:home") + "?start=2005-12-01&end=2005-12-31"))
    assert "the operation's figures from 1 December 2005 to 31 December 2005." in december


def test_the_reference_overview_has_its_own_title_not_the_dashboards(client_as):
    client = client_as(Role.VIEWER)
    reference = text(client.get(reverse("web:reference")))
    assert "<h1>Reference data</h1>" in reference
    assert "<title>Reference data · reliefops</title>" in reference
    dashboard = text(client.get(reverse("web:home")))
    assert "<h1>Overview</h1>" in dashboard
    assert "<title>Overview · reliefops</title>" in dashboard


def test_the_dashboard_costs_the_same_queries_for_a_longer_ledger(
    ledger, client_as, django_assert_max_num_queries
):
    from reliefops.stock.services import StockLine, stock_distribute

    client = client_as(Role.VIEWER)
    client.get(reverse("web:home"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("web:home"))
    for n in range(20):
        stock_distribute(
            actor=ledger.actor,
            site_id=ledger.point.pk,
            lines=[StockLine(item_id=ledger.blanket.pk, quantity=1)],
            distributed_on=ledger.waybill.dispatched_on.replace(day=10 + n),
        )
    with CaptureQueriesContext(connection) as many:
        assert headline(text(client.get(reverse("web:home")))) == {"BLANKET": 120}
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(
    ("query", "months"),
    [
        pytest.param(
            "?start=2005-12-15&end=2005-12-20", "reporting month December 2005", id="days-of-a-month"
        ),
        pytest.param(
            "?start=2005-11-20&end=2005-12-02",
            "reporting months November 2005 to December 2005",
            id="days-of-two-months",
        ),
        pytest.param("?end=2005-12-01", "reporting months up to December 2005", id="up-to-a-day"),
    ],
)
def test_the_cluster_part_names_the_reporting_months_its_figures_cover(
    shelter_cluster, client_as, query, months
):
    # given 4W rows reported by month (30 households in December 2005), and a period of a few days
    client = client_as(Role.COORDINATOR)
    # when the dashboard and the sitrep of the period are read
    dashboard = html.unescape(text(client.get(reverse("web:home") + query)))
    sitrep = html.unescape(text(client.get(reverse("reports:sitrep-download", args=["md"]) + query)))
    # then the cluster's figures are labelled with the whole months they count, not the period's days
    cluster = dashboard.split('id="cluster-title"', 1)[1].split("</h2>", 1)[0]
    assert months in cluster
    assert f"The Emergency Shelter Cluster's partners report for the {months}, once" in sitrep
    # and the whole operation names no month
    whole = build_sitrep_text(client)
    assert "The Emergency Shelter Cluster's partners report, once double counting is removed" in whole


def build_sitrep_text(client) -> str:
    return text(client.get(reverse("reports:sitrep-download", args=["md"])))


def test_the_weeks_of_stock_say_which_weeks_their_rate_is_read_from(ledger, client_as):
    # given blankets handed over in the weeks of 24 and 31 October 2005, and none since
    client = client_as(Role.VIEWER)
    # when the dashboard counts today's stock against that rate
    body = text(client.get(reverse("web:home")))
    # then it says which weeks the rate comes from, however long ago they were
    assert "weeks with distributions: 24 Oct 2005 to 6 Nov 2005." in body
    past = text(client.get(reverse("web:home") + "?end=2005-11-30"))
    assert "weeks with distributions (24 Oct 2005 to 6 Nov 2005)." in past


def test_the_weeks_of_stock_window_ends_today_not_on_this_weeks_sunday(ledger, client_as, monkeypatch):
    from django.utils import timezone

    from reliefops.stock.services import StockLine, stock_distribute

    # given today a Tuesday, and blankets handed over today
    today = dt.date(2005, 11, 15)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today)
    stock_distribute(
        actor=ledger.actor,
        site_id=ledger.point.pk,
        lines=[StockLine(item_id=ledger.blanket.pk, quantity=5)],
        distributed_on=today,
    )
    # then the weeks the rate is read from run to today, not into the days to come
    body = text(client_as(Role.VIEWER).get(reverse("web:home")))
    window = re.search(r"weeks with distributions: \d+ \w+ \d+ to (\d+ \w+ \d+)\.", body)
    assert window is not None
    assert window.group(1) == f"{today:%-d %b %Y}"


def test_a_scenarios_figures_are_labelled_illustrative_and_an_operations_are_not(ledger, client_as):
    from reliefops.stock.services import StockLine, stock_distribute

    client = client_as(Role.COORDINATOR)
    notice = "Illustrative data: these figures are the Kashmir 2005 scenario"
    # given an operation's own ledger, the dashboard and the sitrep present it as it is
    assert notice not in html.unescape(text(client.get(reverse("web:home"))))
    plain = text(client.get(reverse("reports:sitrep-download", args=["md"])))
    assert notice not in html.unescape(plain)
    assert "illustrative data of a scenario" not in plain
    # when the ledger holds a movement the scenario's stock history posted (its idempotency key)
    stock_distribute(
        actor=ledger.actor,
        site_id=ledger.point.pk,
        lines=[StockLine(item_id=ledger.blanket.pk, quantity=1)],
        distributed_on=dt.date(2005, 10, 26),
        idempotency_key="kashmir-2005/000001",
    )
    # then both say, at the top, that the stock history is illustrative, and the sitrep says so at its end
    dashboard = html.unescape(text(client.get(reverse("web:home"))))
    assert f"{notice}'s. Its stock history (its dates, quantities, routes and losses) is seeded" in dashboard
    for fmt in ("md", "html"):
        report = html.unescape(text(client.get(reverse("reports:sitrep-download", args=[fmt]))))
        assert notice in report.split("Distributed", 1)[0], fmt
        assert "They are the illustrative data of a scenario, not an organisation's records." in report, fmt
    # and a partner reporter, who sees no stock, is not told of a stock history it does not see
    partner = html.unescape(text(client_as(Role.PARTNER_REPORTER).get(reverse("reports:sitrep"))))
    assert notice not in partner


def test_a_period_that_ends_after_today_is_described_up_to_today(ledger, client_as):
    client = client_as(Role.COORDINATOR)
    today = timezone.localdate()
    written = f"{today.day} {today:%B %Y}"
    # when the sitrep of a period ending in 2099 is asked for
    response = client.get(
        reverse("reports:sitrep-download", args=["md"]) + "?start=2005-10-08&end=2099-12-31"
    )
    body = text(response)
    # then it describes the days that have happened, not days to come, and is named after them
    assert f"Period: 8 October 2005 to {written}." in body
    assert f"From 8 October 2005 to {written}, " in body
    assert "2099" not in body
    assert f'filename="sitrep-2005-10-08-to-{today.isoformat()}.md"' in response["Content-Disposition"]
    # and the dashboard of that period says the same
    dashboard = text(client.get(reverse("web:home") + "?start=2005-10-08&end=2099-12-31"))
    assert f"the operation's figures from 8 October 2005 to {written}." in dashboard
    # while a past period is described as it was asked
    past = text(
        client.get(reverse("reports:sitrep-download", args=["md"]) + "?start=2005-10-08&end=2005-10-31")
    )
    assert "Period: 8 October 2005 to 31 October 2005." in past


def test_a_past_periods_stock_is_not_linked_to_todays_and_an_empty_one_reads_as_a_sentence(ledger, client_as):
    client = client_as(Role.VIEWER)
    onhand = reverse("stock:onhand-list") + "?q=BLANKET"
    # given the stock on hand of a past day, and today's
    past = text(client.get(reverse("web:home") + "?start=2005-10-01&end=2005-10-31"))
    now = text(client.get(reverse("web:home")))
    # then only today's figure links to the stock page, which shows today's stock
    assert f'href="{onhand}"' not in past
    assert f'href="{onhand}"' in now
    # and a period with nothing handed over says so in a sentence
    empty = text(client.get(reverse("web:home") + "?start=2010-01-01&end=2010-12-31"))
    assert "Nothing has been handed over from 1 January 2010 to 31 December 2010." in empty


def test_the_distributed_page_downloads_its_site_table_with_its_filters(ledger, client_as):
    client = client_as(Role.VIEWER)
    query = "?item=BLANKET&start=2005-10-01&end=2005-10-31"
    # given the page of October's blankets, which offers its table as files
    page = text(client.get(reverse("reports:distributed") + query))
    assert "Download CSV" in page
    assert "Download XLSX" in page
    # when its CSV is asked for
    response = client.get(reverse("reports:distributed") + query + "&format=csv")
    # then it is a file, not the page, with the page's rows: Garhi Habibullah's 60 blankets
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Site code,Site,Blanket"
    assert lines[1] == "#loc+code,#loc+name,#output+blanket"
    assert lines[2:] == ["DP-1,Garhi Habibullah point,60"]
    # and the XLSX too
    sheet = client.get(reverse("reports:distributed") + query + "&format=xlsx")
    assert sheet["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_printable_donor_report_offers_the_grants_figures_as_files(ledger, client_as):
    client = client_as(Role.COORDINATOR)
    # given the printable report of a grant
    page = text(client.get(reverse("reports:donor-report", args=[ledger.dfid.pk])))
    # then it offers the grant's figures as CSV and XLSX, and the links give files
    links = re.findall(r'<a class="button-quiet" href="([^"]+\?format=(?:csv|xlsx))" download>', page)
    assert len(links) == 2
    for link in links:
        response = client.get(html.unescape(link))
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]


def test_the_markdown_sitrep_writes_its_day_as_the_page_does(ledger, client_as, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: dt.date(2005, 12, 1))
    client = client_as(Role.COORDINATOR)
    assert "Written on 1 December 2005." in build_sitrep_text(client)
    assert "Written on 1 December 2005" in text(client.get(reverse("reports:sitrep")))


def test_the_cluster_tables_write_the_unit_in_the_plural_beside_a_count_other_than_one(
    shelter_cluster, client_as
):
    client = client_as(Role.COORDINATOR)
    unit = (
        r'<tr data-activity="TENTS">.*?<span class="figure">([\d,]+)</span> <span class="unit">(\w+)</span>'
    )
    # given 130 tents reached, 30 of them in December
    for page in (reverse("web:home"), reverse("reports:sitrep")):
        # when the dashboard and the sitrep show the cluster's figures
        whole = re.search(unit, text(client.get(page)), re.S)
        december = re.search(unit, text(client.get(page + "?start=2005-12-01&end=2005-12-31")), re.S)
        # then the unit is a plural beside them
        assert whole is not None
        assert whole.groups() == ("130", "tents")
        assert december is not None
        assert december.groups() == ("30", "tents")


def test_the_cluster_tables_write_one_unit_in_the_singular(cluster, upload, client_as):
    # given one tent reached
    upload(
        [
            cluster_row(
                id="NRC-1",
                adm2="PK504",
                adm3="PK50401",
                start="2005-11-01",
                end="2005-11-20",
                qty="1",
                hh="1",
            )
        ]
    )
    # when the dashboard shows it, then its unit is singular
    body = text(client_as(Role.COORDINATOR).get(reverse("web:home")))
    assert re.search(r'<span class="figure">1</span> <span class="unit">tent</span>', body)
