"""The waybill pages and their download name what a waybill carries item by item ("500 BLANKET,
200 CGI-SHEET"), and a quantity of one item when the list is filtered by it: never the items'
quantities added into one figure (500 blankets and 200 CGI sheets are not 700 of anything). The
same on the Post stock page's waybills to confirm, a waybill's page and its printout, and the
donor report, which has no row adding every item together."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from reliefops.core.roles import Role
from reliefops.stock.services import StockLine, waybill_dispatch
from tests.stock.conftest import DAY, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(op):
    """To the hub: a truck of 500 blankets (400 DFID and 100 ECHO, two lines) and 200 CGI sheets on
    DAY, and a jeep of 20 CGI sheets the day after; a third waybill, of 30 blankets (20 DFID and 10
    ECHO), to the point."""
    receive(op, op.warehouse, op.blanket, 420, op.dfid, "GRN-W1")
    receive(op, op.warehouse, op.blanket, 300, op.echo, "GRN-W2")
    receive(op, op.warehouse, op.cgi, 300, op.dfid, "GRN-W3")
    op.truck = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[
            StockLine(item_id=op.blanket.pk, quantity=400, grant_id=op.dfid.pk),
            StockLine(item_id=op.blanket.pk, quantity=100, grant_id=op.echo.pk),
            StockLine(item_id=op.cgi.pk, quantity=200),
        ],
        dispatched_on=DAY,
        expected_on=DAY + dt.timedelta(days=2),
    ).waybill
    op.jeep = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.cgi.pk, quantity=20)],
        dispatched_on=DAY + dt.timedelta(days=1),
        expected_on=DAY + dt.timedelta(days=2),
    ).waybill
    op.blankets_only = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.point.pk,
        lines=[
            StockLine(item_id=op.blanket.pk, quantity=20, grant_id=op.dfid.pk),
            StockLine(item_id=op.blanket.pk, quantity=10, grant_id=op.echo.pk),
        ],
        dispatched_on=DAY,
        expected_on=DAY + dt.timedelta(days=2),
    ).waybill
    return op


def plain(html: str) -> str:
    """The page's text: tags dropped, spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def listed(body: str) -> dict[str, tuple[str, list[str]]]:
    """Waybill number -> (what its row says it carries, the figures of its row)."""
    rows = {}
    for number, cells in re.findall(r'<a href="/stock/waybills/\d+/">([^<]+)</a>(.*?)</tr>', body, re.S):
        carried = re.search(r'<td class="carried">(.*?)</td>', cells, re.S)
        assert carried is not None, cells
        rows[number] = (plain(carried[1]).strip(), re.findall(r'<td class="num">([^<]*)</td>', cells))
    return rows


def test_the_waybill_list_names_each_items_quantity_never_their_sum(mixed, web_as):
    # when the waybills are listed with no item chosen
    response = web_as(Role.COORDINATOR).get(reverse("stock:waybill-list"))
    body = response.content.decode()
    # then each names what it carries, item by item (a blanket's two grants together), and no figure
    assert response.status_code == 200
    assert listed(body) == {
        mixed.jeep.number: ("20 CGI-SHEET", []),
        mixed.truck.number: ("500 BLANKET, 200 CGI-SHEET", []),
        mixed.blankets_only.number: ("30 BLANKET", []),
    }
    assert ">Units<" not in body
    assert "700" not in plain(body)


def test_an_item_chosen_gives_each_waybill_its_quantity_of_that_item(mixed, web_as):
    client = web_as(Role.COORDINATOR)
    url = reverse("stock:waybill-list")
    # when blankets are chosen: the waybills that carry blankets, each with its blankets alone
    blankets = client.get(url, {"item": "BLANKET"}).content.decode()
    assert '<th scope="col" class="num">Blanket</th>' in blankets
    assert listed(blankets) == {
        mixed.truck.number: ("500 BLANKET, 200 CGI-SHEET", ["500"]),
        mixed.blankets_only.number: ("30 BLANKET", ["30"]),
    }
    # and the sheets, with the other filters kept
    sheets = client.get(url, {"item": "CGI-SHEET", "site": mixed.hub.pk}).content.decode()
    assert listed(sheets) == {
        mixed.jeep.number: ("20 CGI-SHEET", ["20"]),
        mixed.truck.number: ("500 BLANKET, 200 CGI-SHEET", ["200"]),
    }
    # and an item that is none is refused beside its field, listing nothing and downloading nothing
    refused = client.get(url, {"item": "NOPE"})
    assert refused.status_code == 422
    assert listed(refused.content.decode()) == {}
    assert client.get(url, {"item": "NOPE", "format": "csv"}).status_code == 422


def download_csv(client, params: dict[str, str]) -> list[dict[str, str]]:
    response = client.get(reverse("stock:waybill-list"), {**params, "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert rows[1][-3:] == ["#item+code", "#item+name", "#output+num"]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[2:]]


def test_the_download_has_a_row_per_waybill_and_item_with_its_quantity(mixed, web_as):
    client = web_as(Role.COORDINATOR)
    # when every waybill is downloaded
    rows = download_csv(client, {})
    # then each item of a waybill is a row of its own, with its quantity (newest waybill first, its
    # items by code); no column adds items up
    assert [(r["Waybill"], r["Item code"], r["Quantity"], r["Items on waybill"]) for r in rows] == [
        (mixed.jeep.number, "CGI-SHEET", "20", "1"),
        (mixed.blankets_only.number, "BLANKET", "30", "1"),
        (mixed.truck.number, "BLANKET", "500", "2"),
        (mixed.truck.number, "CGI-SHEET", "200", "2"),
    ]
    assert "Units" not in rows[0]
    assert "700" not in {value for row in rows for value in row.values()}
    # and with an item chosen, that item's rows alone: one per waybill carrying it
    sheets = download_csv(client, {"item": "CGI-SHEET"})
    assert [(r["Waybill"], r["Item code"], r["Quantity"]) for r in sheets] == [
        (mixed.jeep.number, "CGI-SHEET", "20"),
        (mixed.truck.number, "CGI-SHEET", "200"),
    ]


def test_the_xlsx_download_gives_quantities_as_numbers_and_says_how_it_is_shaped(mixed, web_as):
    response = web_as(Role.COORDINATOR).get(reverse("stock:waybill-list"), {"format": "xlsx"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = list(workbook["Waybills"].iter_rows(values_only=True))
    quantity = sheet[0].index("Quantity")
    assert [row[quantity] for row in sheet[2:]] == [20, 30, 500, 200]
    about = " ".join(str(row[0]) for row in workbook["About"].iter_rows(values_only=True))
    assert "One row per waybill and item" in about


def test_a_hub_manager_downloads_only_the_waybills_of_his_sites(mixed, web_as):
    rows = download_csv(web_as(Role.HUB_MANAGER), {"item": "BLANKET"})
    assert [(r["Waybill"], r["To"], r["Quantity"]) for r in rows] == [
        (mixed.blankets_only.number, "Garhi Habibullah point", "30"),
        (mixed.truck.number, "Balakot hub", "500"),
    ]


def test_the_waybills_to_confirm_name_what_each_carries(mixed, web_as):
    # when the hub's manager opens Post stock
    body = web_as(Role.HUB_MANAGER).get(reverse("stock:post-menu")).content.decode()
    # then the waybills on their way are listed with their items, not one figure of them all
    assert listed(body) == {
        mixed.truck.number: ("500 BLANKET, 200 CGI-SHEET", []),
        mixed.jeep.number: ("20 CGI-SHEET", []),
        mixed.blankets_only.number: ("30 BLANKET", []),
    }
    assert ">Units<" not in body
    assert "700" not in plain(body)


def foot(body: str) -> str:
    """The text of the first table foot, a space for each tag."""
    found = re.search(r"<tfoot>(.*?)</tfoot>", body, re.S)
    assert found is not None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[1])).strip()


def test_a_waybills_page_and_printout_add_up_one_items_lines_and_never_different_items(mixed, web_as):
    client = web_as(Role.VIEWER)
    # given the truck of blankets and sheets: its lines, its weight, no quantity of them all
    page = client.get(reverse("stock:waybill-detail", args=[mixed.truck.pk])).content.decode()
    assert re.search(r"BLANKET</span> Blanket</td>\s*<td class=\"code\">DFID-2005-07</td>", page)
    assert "700" not in plain(page)
    assert "—" in foot(page)
    # and its movements are counted in lines, not in units of every item
    assert ">Units<" not in page
    assert '<th scope="col" class="num">Lines</th>' in page
    printed = client.get(reverse("stock:waybill-print", args=[mixed.truck.pk])).content.decode()
    assert "Total: 3 lines" in foot(printed)
    assert "700" not in plain(printed)
    # when a waybill carries one item, of two grants: its two lines do add up, in the item's unit
    one_item = client.get(reverse("stock:waybill-detail", args=[mixed.blankets_only.pk])).content.decode()
    assert re.search(r"DFID-2005-07</td>\s*<td class=\"num\">20 ", one_item)
    assert foot(one_item).startswith(f"Total 30 {mixed.blanket.base_unit} ")
    printed_one = client.get(reverse("stock:waybill-print", args=[mixed.blankets_only.pk])).content.decode()
    assert foot(printed_one) == f"Total: 2 lines 30 {mixed.blanket.base_unit}"


def test_a_movement_of_different_items_gives_no_total_quantity(mixed, web_as):
    from reliefops.stock.models import MovementKind

    dispatch = mixed.truck.movements.get(kind=MovementKind.DISPATCH)
    body = web_as(Role.VIEWER).get(reverse("stock:movement-detail", args=[dispatch.pk])).content.decode()
    assert "700" not in plain(body)
    assert "different items are not added into one figure" in body


def test_the_donor_report_has_no_row_adding_every_item_together(mixed, web_as):
    # given DFID's grant: 420 blankets and 300 CGI sheets received
    client = web_as(Role.COORDINATOR)
    body = client.get(reverse("stock:donor-report", args=[mixed.dfid.pk])).content.decode()
    # then the report gives each item its row, and no "All items" row of 720 received
    rows = re.findall(r'<span class="code">([^<]+)</span>[^<]*</td>\s*<td class="num">([^<]*)</td>', body)
    assert rows == [("BLANKET", "420"), ("CGI-SHEET", "300")]
    assert "All items" not in body
    assert "720" not in plain(body)
    assert "different items are not added into one figure" in body
    # and its download is one row per item, with no total row either
    response = client.get(reverse("stock:donor-report", args=[mixed.dfid.pk]), {"format": "csv"})
    downloaded = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert [(row[0], row[2]) for row in downloaded[2:]] == [("BLANKET", "420"), ("CGI-SHEET", "300")]


def _one_more_truck(op, n: int) -> None:
    for i in range(n):
        waybill_dispatch(
            actor=None,
            from_site_id=op.warehouse.pk,
            to_site_id=op.hub.pk,
            lines=[
                StockLine(item_id=op.blanket.pk, quantity=1),
                StockLine(item_id=op.cgi.pk, quantity=1 + i),
            ],
            dispatched_on=DAY,
        )


@pytest.mark.parametrize(
    ("name", "params"),
    [
        pytest.param("stock:waybill-list", {}, id="waybills"),
        pytest.param("stock:waybill-list", {"item": "CGI-SHEET"}, id="waybills-of-an-item"),
        pytest.param("stock:waybill-list", {"format": "csv"}, id="waybills-download"),
        pytest.param("stock:post-menu", {}, id="waybills-to-confirm"),
    ],
)
def test_what_waybills_carry_is_read_in_as_many_queries_whatever_their_number(mixed, web_as, name, params):
    client = web_as(Role.HUB_MANAGER)

    def read() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name), params)
            assert response.status_code == 200
            if params.get("format"):
                b"".join(response.streaming_content)
        return len(queries)

    read()
    few = read()
    _one_more_truck(mixed, 5)
    assert read() == few
