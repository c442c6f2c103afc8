"""The Movements list's filter by days and item, and its quantities: one item's, never every item
added together; the same in its downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse

from reliefops.core.roles import Role
from reliefops.stock.models import Movement
from reliefops.stock.services import CountLine, StockLine, movement_reverse, stock_count, stock_distribute
from tests.stock.conftest import receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed(op):
    """At the point: 10 blankets and 5 CGI sheets handed out together on 25 Oct 2005, 20 blankets on
    3 Nov 2005."""
    receive(op, op.point, op.blanket, 100, op.echo, "GRN-P1")
    receive(op, op.point, op.cgi, 50, op.echo, "GRN-P2")
    op.mixed = stock_distribute(
        actor=op.actor,
        site_id=op.point.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=10), StockLine(item_id=op.cgi.pk, quantity=5)],
        distributed_on=dt.date(2005, 10, 25),
    ).movement
    op.later = stock_distribute(
        actor=op.actor,
        site_id=op.point.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=20)],
        distributed_on=dt.date(2005, 11, 3),
    ).movement
    return op


def listed(body: str) -> dict[int, list[str]]:
    """Movement id -> the figures of its row (lines, and the item's quantity when one is chosen)."""
    return {
        int(pk): re.findall(r'<td class="num">([^<]*)</td>', cells)
        for pk, cells in re.findall(r'<a href="/stock/movements/(\d+)/">.*?</td>(.*?)</tr>', body, re.S)
    }


def test_movements_are_filtered_by_the_days_they_happened_on(handed, web_as):
    client = web_as(Role.COORDINATOR)
    url = reverse("stock:movement-list") + f"?site={handed.point.pk}&kind=distribution"
    # when the point's distributions of October 2005 are asked for
    october = client.get(url + "&start=2005-10-01&end=2005-10-31")
    # then only the one of 25 October is listed; from 1 November, only the later one
    assert october.status_code == 200
    assert set(listed(october.content.decode())) == {handed.mixed.pk}
    assert set(listed(client.get(url + "&start=2005-11-01").content.decode())) == {handed.later.pk}
    assert set(listed(client.get(url + "&end=2005-10-25").content.decode())) == {handed.mixed.pk}
    # and a period that ends before it starts is refused beside its field, listing nothing
    refused = client.get(url + "&start=2005-11-30&end=2005-11-01")
    assert refused.status_code == 422
    assert "the period ends before it starts" in refused.content.decode()
    assert listed(refused.content.decode()) == {}


def test_a_quantity_is_shown_of_one_item_never_of_every_item_added_together(handed, web_as):
    client = web_as(Role.COORDINATOR)
    url = reverse("stock:movement-list") + f"?site={handed.point.pk}&kind=distribution"
    # given no item chosen: each movement's lines are counted, their quantities not added (not 15)
    body = client.get(url).content.decode()
    assert listed(body) == {handed.mixed.pk: ["2"], handed.later.pk: ["1"]}
    assert ">Units<" not in body
    # when blankets are chosen: each movement with blankets, and its blankets alone
    blankets = client.get(url + "&item=BLANKET").content.decode()
    assert '<th scope="col" class="num">Blanket</th>' in blankets
    assert listed(blankets) == {handed.mixed.pk: ["2", "10"], handed.later.pk: ["1", "20"]}
    # and the sheets: only the movement that has some, still with both its lines
    sheets = client.get(url + "&item=CGI-SHEET").content.decode()
    assert listed(sheets) == {handed.mixed.pk: ["2", "5"]}
    # and an item that is none is refused, not ignored
    assert client.get(url + "&item=NOPE").status_code == 422


def download(client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[2:]]


def test_the_download_gives_a_quantity_only_of_the_item_chosen(handed, web_as):
    client = web_as(Role.COORDINATOR)
    url = reverse("stock:movement-list") + f"?site={handed.point.pk}&kind=distribution&format=csv"
    every_item = download(client, url)
    assert [row["Lines"] for row in every_item] == ["1", "2"]
    assert "Units" not in every_item[0]
    assert "Quantity" not in every_item[0]
    blankets = download(client, url + "&item=BLANKET&start=2005-10-01&end=2005-10-31")
    assert [(row["Movement"], row["Item code"], row["Quantity"]) for row in blankets] == [
        (str(handed.mixed.pk), "BLANKET", "10")
    ]


def test_an_items_movements_say_which_way_its_stock_went(handed, web_as):
    # given 100 blankets received at the point, then 10 and 20 handed out, and a count that found 3 short
    count = stock_count(
        actor=handed.actor,
        site_id=handed.point.pk,
        counts=[CountLine(item_id=handed.blanket.pk, counted=67)],
        counted_on=dt.date(2005, 11, 4),
    ).movement
    reversal = movement_reverse(
        actor=handed.actor, movement_id=count.pk, reason="counted twice", reversed_on=dt.date(2005, 11, 5)
    ).movement
    client = web_as(Role.COORDINATOR)
    url = reverse("stock:movement-list") + f"?site={handed.point.pk}&item=BLANKET"
    # when the point's blanket movements are listed
    body = client.get(url).content.decode()
    # then each says what came in (+) and what went out (a minus sign) of the point's blankets
    assert "In (+) or out (\u2212) at site" in body
    found = re.findall(
        r'<a href="/stock/movements/(\d+)/">.*?<td class="num change[^"]*">([^<]*)</td>', body, re.S
    )
    changes = {int(pk): change for pk, change in found}
    receipt = Movement.objects.get(reference="GRN-P1").pk
    assert changes == {
        receipt: "+100",
        handed.mixed.pk: "\u221210",
        handed.later.pk: "\u221220",
        count.pk: "\u22123",
        reversal.pk: "+3",
    }
    # and the API and the download give the same figures, signed numbers
    rows = download(client, url + "&format=csv")
    assert {int(row["Movement"]): row["In (+) or out (-) at site"] for row in rows} == {
        receipt: "100",
        handed.mixed.pk: "-10",
        handed.later.pk: "-20",
        count.pk: "-3",
        reversal.pk: "3",
    }


# --- a filter's site and item by their codes, and a value that names none -------------------------


@pytest.mark.parametrize("url", ["stock:movement-list", "stock:waybill-list", "stock:onhand-list"])
def test_a_lists_site_is_taken_by_its_code_in_any_case_as_the_stock_card_takes_it(handed, web_as, url):
    client = web_as(Role.COORDINATOR)
    # when the point is asked for by its code, in any case, as by its id
    by_code = client.get(reverse(url), {"site": "dp-1"})
    by_id = client.get(reverse(url), {"site": str(handed.point.pk)})
    # then both list the same rows, the point shown chosen in the list
    assert by_code.status_code == 200
    assert by_code.content.decode().count("<tr") == by_id.content.decode().count("<tr")
    assert f'<option value="{handed.point.pk}" selected>' in by_code.content.decode()


@pytest.mark.parametrize(
    ("url", "params", "field", "reason"),
    [
        pytest.param(
            "stock:movement-list",
            {"site": "NOPE"},
            "site",
            "no site whose stock you may see has the code &#x27;NOPE&#x27;; choose one from the list",
            id="movements-site",
        ),
        pytest.param(
            "stock:movement-list",
            {"item": "nope"},
            "item",
            "no item has the code &#x27;nope&#x27;; choose one from the list",
            id="movements-item",
        ),
        pytest.param(
            "stock:movement-list",
            {"start": "2005-13-45"},
            "start",
            "&#x27;2005-13-45&#x27; is not a date; write it as YYYY-MM-DD",
            id="movements-day",
        ),
        pytest.param(
            "stock:waybill-list",
            {"site": "NOPE"},
            "site",
            "no site whose stock you may see has the code &#x27;NOPE&#x27;; choose one from the list",
            id="waybills-site",
        ),
        pytest.param(
            "stock:waybill-list",
            {"item": "NOPE"},
            "item",
            "no item has the code &#x27;NOPE&#x27;; choose one from the list",
            id="waybills-item",
        ),
        pytest.param(
            "stock:onhand-list",
            {"site": "NOPE"},
            "site",
            "no site whose stock you may see has the code &#x27;NOPE&#x27;; choose one from the list",
            id="on-hand-site",
        ),
    ],
)
def test_a_filter_value_that_names_nothing_is_refused_in_its_fields_words(
    handed, web_as, url, params, field, reason
):
    response = web_as(Role.COORDINATOR).get(reverse(url), params)
    # then the page lists nothing and says, beside the field, which value and why
    assert response.status_code == 422
    body = response.content.decode()
    assert re.search(rf'id="id_{field}_error"[^>]*>.*?{re.escape(reason)}', body, re.S), body
    assert listed(body) == {}


def test_a_site_the_user_may_not_see_is_refused_in_a_list_as_one_that_is_none(handed, web_as):
    # given a hub manager of the hub, who may not see the warehouse's stock
    body = web_as(Role.HUB_MANAGER).get(reverse("stock:movement-list"), {"site": "ISB-WH"}).content.decode()
    assert "no site whose stock you may see has the code &#x27;ISB-WH&#x27;" in body
