"""The stock card's and the stock on hand's filters: the site by its code (in any case) as well as
its id, the item by its code in any case; a value that is none is refused in the field's words,
422, and no card or row is shown or downloaded; a card asked for up to a day runs from the first of
its month."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reliefops.core.roles import Role
from reliefops.stock.services import StockLine, stock_report_loss
from tests.stock.entrypoints.conftest import stocked, web_as  # noqa: F401
from tests.stock.entrypoints.test_views import text

OCTOBER = {"start": "2005-10-01", "end": "2005-10-31"}
NOVEMBER = {"start": "2005-11-01", "end": "2005-11-30"}


@pytest.mark.parametrize("site", ["BLK-HUB", "blk-hub", "by-id"])
def test_the_card_takes_the_site_by_its_code_or_its_id(stocked, web_as, site):  # noqa: F811
    # given the hub asked for by its code, in any case, or by its id as earlier links wrote it
    chosen = str(stocked.hub.pk) if site == "by-id" else site
    response = web_as(Role.VIEWER).get(
        reverse("stock:onhand-card"), {"site": chosen, "item": "blanket", **OCTOBER}
    )
    # then its card is shown, and the lists show the hub and the item chosen
    assert response.status_code == 200
    body = text(response)
    assert "Stock card: Blanket at Balakot hub" in body
    assert re.search(r"Closing 31 Oct 2005</dt><dd>200</dd>", body)
    assert f'<option value="{stocked.hub.pk}" selected>' in body
    assert '<option value="BLANKET" selected>' in body


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        pytest.param(
            {"site": "BLK-HUB", "item": "NOPE"},
            "item",
            "no item has the code &#x27;NOPE&#x27;; choose one from the list",
            id="item",
        ),
        pytest.param(
            {"site": "NO-SUCH", "item": "BLANKET"},
            "site",
            "no site whose stock you may see has the code &#x27;NO-SUCH&#x27;; choose one from the list",
            id="site",
        ),
        pytest.param(
            {"site": "999999", "item": "BLANKET"},
            "site",
            "no site whose stock you may see has the code &#x27;999999&#x27;; choose one from the list",
            id="site-id",
        ),
        pytest.param(
            {"site": "BLK-HUB", "item": "BLANKET", "start": "2005-13-45"},
            "start",
            "&#x27;2005-13-45&#x27; is not a date; write it as YYYY-MM-DD",
            id="start",
        ),
    ],
)
def test_a_filter_value_that_is_none_is_refused_in_its_fields_words(stocked, web_as, query, field, reason):  # noqa: F811
    client = web_as(Role.VIEWER)
    # when the card is asked for with a value that names nothing
    response = client.get(reverse("stock:onhand-card"), {**OCTOBER, **query})
    body = text(response)
    # then it answers 422, the reason beside its field, and no card
    assert response.status_code == 422
    assert re.search(rf'id="id_{field}_error"><li>{re.escape(reason)}</li>', body), body[-3000:]
    assert "Select a valid choice" not in body
    assert "Enter a valid date" not in body
    assert "Nothing is shown for these filters" in body
    assert "Closing" not in body
    assert "GRN-H1" not in body
    # and no file is made of it
    download = client.get(reverse("stock:onhand-card"), {**OCTOBER, **query, "format": "csv"})
    assert download.status_code == 422
    assert "Content-Disposition" not in download


def test_a_site_the_user_may_not_see_is_refused_as_one_that_is_none(stocked, web_as):  # noqa: F811
    # given a hub manager of Balakot hub, when the warehouse's card is asked for by its code
    response = web_as(Role.HUB_MANAGER).get(
        reverse("stock:onhand-card"), {"site": "ISB-WH", "item": "BLANKET", **OCTOBER}
    )
    # then it is refused as a site that is none, and the warehouse's stock is not shown
    assert response.status_code == 422
    body = text(response)
    assert "no site whose stock you may see has the code &#x27;ISB-WH&#x27;" in body
    assert "GRN-W1" not in body


def card_file(client, period, fmt="csv"):
    response = client.get(
        reverse("stock:onhand-card"), {"site": "BLK-HUB", "item": "BLANKET", **period, "format": fmt}
    )
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_cards_file_begins_with_its_opening_balance_and_ends_with_its_closing(stocked, web_as):  # noqa: F811
    # given the hub's 200 blankets, received in October, and 30 of them lost in November
    stock_report_loss(
        actor=stocked.actor,
        site_id=stocked.hub.pk,
        lines=[StockLine(item_id=stocked.blanket.pk, quantity=30)],
        reason="weather",
        note="soaked",
        occurred_on=dt.date(2005, 11, 3),
    )
    client = web_as(Role.VIEWER)
    # when November's card is downloaded as CSV
    rows = list(csv.reader(io.StringIO(card_file(client, NOVEMBER).decode())))
    # then it reads as a paper stock card: the balance brought forward, the loss, the balance carried
    assert rows[2:] == [
        ["2005-11-01", "", "opening", "", "Opening balance", "", "", "200"],
        ["2005-11-03", rows[3][1], "loss", "", "Loss / damage", "0", "30", "170"],
        ["2005-11-30", "", "closing", "", "Closing balance", "", "", "170"],
    ]
    # and its XLSX holds the same rows
    sheet = load_workbook(io.BytesIO(card_file(client, NOVEMBER, "xlsx")))["Stock card"]
    values = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(row[2], row[7]) for row in values] == [("opening", 200), ("loss", 170), ("closing", 170)]


def test_a_card_without_a_movement_still_gives_its_balance_in_its_file(stocked, web_as):  # noqa: F811
    # given a month in which nothing moved at the hub
    client = web_as(Role.VIEWER)
    page = text(client.get(reverse("stock:onhand-card"), {"site": "BLK-HUB", "item": "BLANKET", **NOVEMBER}))
    # then the page offers its download, whose rows are its opening and closing balances
    assert "format=csv" in page
    rows = list(csv.reader(io.StringIO(card_file(client, NOVEMBER).decode())))
    assert [(row[2], row[4], row[7]) for row in rows[2:]] == [
        ("opening", "Opening balance", "200"),
        ("closing", "Closing balance", "200"),
    ]


def test_a_card_asked_for_with_its_end_alone_runs_from_the_first_of_that_month(stocked, web_as):  # noqa: F811
    # given a card asked for up to 31 October 2005, with no start day typed
    response = web_as(Role.VIEWER).get(
        reverse("stock:onhand-card"), {"site": "BLK-HUB", "item": "BLANKET", "end": "2005-10-31"}
    )
    # then it is the card of October up to that day, as the command line and the API take it
    assert response.status_code == 200
    assert 'value="2005-10-01"' in response.content.decode()
    assert "GRN-H1" in text(response)


# --- stock on hand -----------------------------------------------------------------------------------


@pytest.mark.parametrize("item", ["BUCKET", "bucket"])
def test_stock_on_hand_takes_the_item_by_its_code(stocked, web_as, item):  # noqa: F811
    response = web_as(Role.VIEWER).get(reverse("stock:onhand-list"), {"site": "BLK-HUB", "item": item})
    assert response.status_code == 200
    rows = re.findall(r"<tr>.*?</tr>", text(response).split("<tbody>", 1)[1], re.S)
    assert rows
    assert all("BUCKET" in row and "BLANKET" not in row for row in rows)


def test_stock_on_hand_refuses_an_item_that_is_none_and_lists_and_downloads_nothing(stocked, web_as):  # noqa: F811
    client = web_as(Role.VIEWER)
    response = client.get(reverse("stock:onhand-list"), {"item": "NOPE"})
    assert response.status_code == 422
    body = text(response)
    assert "no item has the code &#x27;NOPE&#x27;; choose one from the list" in body
    assert "<tbody>" not in body  # no table of rows at all
    download = client.get(reverse("stock:onhand-list"), {"item": "NOPE", "format": "csv"})
    assert download.status_code == 422
    assert "Content-Disposition" not in download
