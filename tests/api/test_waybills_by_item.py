"""`GET /api/stock/waybills` never adds different items into one figure (500 blankets and 200
tarpaulins are not 700 of anything): each waybill gives what it carries item by item (`items`);
the `item` filter keeps the waybills that carry an item, each with that item's quantity in
`item_quantity`; `total_quantity` is deprecated, the same figure as `item_quantity` (null without
the filter), as on the movements list."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from reliefops.core.roles import Role
from reliefops.stock.services import ReceiptLine, StockLine, stock_receive, waybill_dispatch
from tests.api.conftest import Reference
from tests.factories import GrantFactory

DAY = dt.date(2005, 10, 20)


def _receive(ref: Reference, item, quantity: int, grant, grn: str) -> None:
    stock_receive(
        actor=None,
        site_id=ref.hub.pk,
        grant_id=grant.pk,
        grn_number=grn,
        received_on=DAY,
        lines=[ReceiptLine(item_id=item.pk, quantity=quantity)],
    )


def _dispatch(ref: Reference, *lines: StockLine, to=None, day: dt.date = DAY) -> str:
    return waybill_dispatch(
        actor=None,
        from_site_id=ref.hub.pk,
        to_site_id=(to or ref.other_hub).pk,
        lines=list(lines),
        dispatched_on=day,
    ).waybill.number


@pytest.fixture
def waybills(reference):
    """From the Mansehra hub: a truck of 500 blankets (400 of one grant, 100 of another, two lines)
    and 200 tarpaulins; the next day 30 blankets; the day after, 50 tarpaulins alone."""
    echo = GrantFactory(reference="ECHO-2005-11", donor=reference.donor)
    _receive(reference, reference.blanket, 600, reference.grant, "GRN-1")
    _receive(reference, reference.blanket, 100, echo, "GRN-2")
    _receive(reference, reference.tarpaulin, 300, reference.grant, "GRN-3")
    mixed = _dispatch(
        reference,
        StockLine(item_id=reference.blanket.pk, quantity=400, grant_id=reference.grant.pk),
        StockLine(item_id=reference.blanket.pk, quantity=100, grant_id=echo.pk),
        StockLine(item_id=reference.tarpaulin.pk, quantity=200),
    )
    blankets = _dispatch(
        reference,
        StockLine(item_id=reference.blanket.pk, quantity=30),
        to=reference.point,
        day=DAY.replace(day=21),
    )
    tarpaulins = _dispatch(
        reference, StockLine(item_id=reference.tarpaulin.pk, quantity=50), day=DAY.replace(day=22)
    )
    return {"mixed": mixed, "blankets": blankets, "tarpaulins": tarpaulins}


def _carried(waybill: dict) -> list[tuple[str, int]]:
    return [(item["item_code"], item["quantity"]) for item in waybill["items"]]


def test_each_waybill_gives_what_it_carries_item_by_item_and_no_total(waybills, api_client):
    listed = api_client(Role.VIEWER).get("/api/stock/waybills").json()["items"]
    by_number = {w["number"]: w for w in listed}
    # the truck's blankets of two grants are one item, its tarpaulins another: never 700
    assert _carried(by_number[waybills["mixed"]]) == [("BLANKET", 500), ("TARPAULIN", 200)]
    assert _carried(by_number[waybills["blankets"]]) == [("BLANKET", 30)]
    assert _carried(by_number[waybills["tarpaulins"]]) == [("TARPAULIN", 50)]
    assert by_number[waybills["mixed"]]["items"][0] == {
        "item_code": "BLANKET",
        "item_name": "Blanket",
        "quantity": 500,
    }
    # and without an item chosen there is no figure adding items together
    assert {(w["n_items"], w["item_quantity"], w["total_quantity"]) for w in listed} == {
        (2, None, None),
        (1, None, None),
    }


@pytest.mark.parametrize("item", ["BLANKET", "blanket-by-id"])
def test_the_item_filter_lists_the_waybills_carrying_it_with_its_quantity(
    waybills, api_client, reference, item
):
    code = reference.blanket.pk if item == "blanket-by-id" else item
    response = api_client(Role.VIEWER).get("/api/stock/waybills", {"item": code})
    assert response.status_code == 200, response.content
    listed = response.json()["items"]
    # the waybill of tarpaulins alone is left out; each other gives its blankets alone
    assert [(w["number"], w["item_quantity"], w["total_quantity"]) for w in listed] == [
        (waybills["blankets"], 30, 30),
        (waybills["mixed"], 500, 500),
    ]
    assert response.json()["count"] == 2
    # and still says what else it carries
    assert _carried(listed[1]) == [("BLANKET", 500), ("TARPAULIN", 200)]


def test_the_item_filter_combines_with_the_site_filter(waybills, api_client, reference):
    response = api_client(Role.VIEWER).get(
        "/api/stock/waybills", {"item": "TARPAULIN", "site": reference.other_hub.pk}
    )
    assert [(w["number"], w["item_quantity"]) for w in response.json()["items"]] == [
        (waybills["tarpaulins"], 50),
        (waybills["mixed"], 200),
    ]


def test_an_unknown_item_is_a_bad_filter_value(waybills, api_client):
    response = api_client(Role.VIEWER).get("/api/stock/waybills", {"item": "NOPE"})
    assert response.status_code == 422
    assert response.json()["problems"] == [{"row": None, "field": "item", "reason": "unknown item 'NOPE'"}]


def test_a_site_filter_takes_an_id_as_digits(waybills, api_client, reference):
    # a query parameter is text: its digits name an id (as its code does)
    client = api_client(Role.VIEWER)
    for path in ("/api/stock/waybills", "/api/stock/movements", "/api/stock/on-hand"):
        by_id = client.get(path, {"site": reference.hub.pk})
        by_code = client.get(path, {"site": reference.hub.code})
        assert by_id.status_code == 200, (path, by_id.content)
        assert by_id.json() == by_code.json()
        assert by_id.json()["count"] >= 1, path


def test_total_quantity_is_deprecated_in_the_reference(api_client):
    schema = json.loads(api_client(Role.VIEWER).get("/api/openapi.json").content)
    fields = schema["components"]["schemas"]["WaybillListOut"]["properties"]
    assert fields["total_quantity"]["deprecated"] is True
    assert fields["total_quantity"]["description"].startswith("Deprecated: the same as `item_quantity`")
    assert "item_quantity" in fields
    assert fields["items"]["type"] == "array"
    parameters = schema["paths"]["/api/stock/waybills"]["get"]["parameters"]
    assert "item" in {p["name"] for p in parameters}


@pytest.mark.parametrize("item", [None, "BLANKET"])
def test_a_page_of_waybills_is_read_in_a_fixed_number_of_queries(
    reference, api_client, django_assert_max_num_queries, item
):
    # given one waybill, then ten more of two items each
    _receive(reference, reference.blanket, 1000, reference.grant, "GRN-1")
    _receive(reference, reference.tarpaulin, 1000, reference.grant, "GRN-2")
    two_items = [
        StockLine(item_id=reference.blanket.pk, quantity=5),
        StockLine(item_id=reference.tarpaulin.pk, quantity=5),
    ]
    _dispatch(reference, *two_items)
    client = api_client(Role.VIEWER)
    params = {"item": item} if item else {}
    client.get("/api/stock/waybills", params)  # the token's first use is written down once
    with django_assert_max_num_queries(12) as one:
        assert client.get("/api/stock/waybills", params).json()["count"] == 1
    for _ in range(10):
        _dispatch(reference, *two_items)
    # then a page of eleven takes as many queries as a page of one
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get("/api/stock/waybills", params).json()["count"] == 11
