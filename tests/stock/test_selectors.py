"""Read-side queries of the ledger: `stock verify` reads each side of the lines through an index;
what a waybill carries is read item by item."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from reliefops.stock.models import Balance
from reliefops.stock.selectors import (
    ledger_verify,
    movement_list,
    verify_side_sql,
    waybill_item_rows,
    waybill_items,
    waybill_list,
)
from reliefops.stock.services import StockLine, stock_distribute, waybill_dispatch
from tests.stock.conftest import DAY, receive

SIDES = [pytest.param("to_location_id", id="to"), pytest.param("from_location_id", id="from")]


@pytest.mark.django_db
@pytest.mark.parametrize("column", SIDES)
def test_verify_sums_each_side_by_walking_its_covering_index(column):
    # given one of verify's two aggregations
    sql = verify_side_sql(column)

    # when the database plans it
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            pytest.skip("PostgreSQL hashes a parallel scan; the plan that matters here is SQLite's")
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        plan = "; ".join(str(row[-1]) for row in cursor.fetchall())

    # then SQLite reads only the side's index, in group order: no table, no sort of the ledger
    side = "from" if column == "from_location_id" else "to"
    assert plan == f"SCAN stock_movementline USING COVERING INDEX line_item_{side}_grant", plan


def test_verify_has_only_two_sides():
    with pytest.raises(ValueError, match="no side 'item_id'"):
        verify_side_sql("item_id")


@pytest.mark.django_db
def test_verify_counts_lines_and_finds_a_drifted_balance(op):
    # given a receipt and two distributions, FIFO and named
    receive(op, op.warehouse, op.blanket, 50, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.blanket, 30, op.echo, "GRN-2")
    stock_distribute(
        actor=op.actor,
        site_id=op.warehouse.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=60)],
        distributed_on=DAY,
    )
    stock_distribute(
        actor=op.actor,
        site_id=op.warehouse.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=5, grant_id=op.echo.pk)],
        distributed_on=DAY,
    )
    sound = ledger_verify()
    assert sound.ok
    assert sound.lines == 5  # two receipts, the FIFO distribution split over two grants, one named

    # when one balance is changed behind the ledger's back
    balance = Balance.objects.get(location__site=op.warehouse, item=op.blanket, grant=op.echo)
    Balance.objects.filter(pk=balance.pk).update(quantity=balance.quantity + 7)

    # then verify names that balance, what it holds and what the ledger says, and the unbalanced grant
    result = ledger_verify()
    assert not result.ok
    assert [(d.location_id, d.item_id, d.grant_id, d.kept, d.recomputed) for d in result.drifts] == [
        (balance.location_id, op.blanket.pk, op.echo.pk, balance.quantity + 7, balance.quantity)
    ]
    assert result.unbalanced == [(op.blanket.pk, op.echo.pk, 7)]


@pytest.mark.django_db
@pytest.mark.parametrize("chunk_size", [1, 2, 500], ids=["chunks-of-1", "chunks-of-2", "one-chunk"])
def test_a_waybills_items_are_read_item_by_item_and_never_added_together(op, chunk_size):
    # given two waybills from the warehouse: blankets of two grants with CGI sheets, then sheets alone
    receive(op, op.warehouse, op.blanket, 300, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.blanket, 300, op.echo, "GRN-2")
    receive(op, op.warehouse, op.cgi, 300, op.dfid, "GRN-3")
    mixed = waybill_dispatch(
        actor=None,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[
            StockLine(item_id=op.blanket.pk, quantity=300, grant_id=op.dfid.pk),
            StockLine(item_id=op.blanket.pk, quantity=200, grant_id=op.echo.pk),
            StockLine(item_id=op.cgi.pk, quantity=200),
        ],
        dispatched_on=DAY,
    ).waybill
    sheets = waybill_dispatch(
        actor=None,
        from_site_id=op.warehouse.pk,
        to_site_id=op.point.pk,
        lines=[StockLine(item_id=op.cgi.pk, quantity=20)],
        dispatched_on=DAY + dt.timedelta(days=1),
    ).waybill
    # when what they carry is read, item by item, and as the download's rows
    carried = waybill_items(waybill_ids=[mixed.pk, sheets.pk])
    rows = list(waybill_item_rows(waybill_list(), chunk_size=chunk_size))
    of_sheets = list(
        waybill_item_rows(waybill_list(item_id=op.cgi.pk), item_id=op.cgi.pk, chunk_size=chunk_size)
    )
    # then each item has its own quantity (a blanket's two grants together), never one sum of items
    assert [(c.item_code, c.quantity) for c in carried[mixed.pk]] == [("BLANKET", 500), ("CGI-SHEET", 200)]
    assert [(c.item_code, c.quantity) for c in carried[sheets.pk]] == [("CGI-SHEET", 20)]
    assert [(r.waybill.number, r.item_code, r.quantity) for r in rows] == [
        (sheets.number, "CGI-SHEET", 20),
        (mixed.number, "BLANKET", 500),
        (mixed.number, "CGI-SHEET", 200),
    ]
    # and filtered by an item: the waybills carrying it, each with its quantity of that item alone
    assert [(r.waybill.number, r.quantity) for r in of_sheets] == [(sheets.number, 20), (mixed.number, 200)]
    assert [(w.number, w.item_quantity) for w in waybill_list(item_id=op.blanket.pk)] == [(mixed.number, 500)]


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["#{}", "{}", " # {} "])
def test_a_movement_is_found_by_its_own_number_as_well_as_by_its_reference(op, typed):
    # given a receipt, and a distribution without a report number (a distributor keeps its #number)
    receive(op, op.warehouse, op.blanket, 50, op.dfid, "GRN-1")
    handed = stock_distribute(
        actor=op.actor,
        site_id=op.warehouse.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=20)],
        distributed_on=DAY,
    ).movement
    # when the list is searched for its number, written as people write it
    found = movement_list(reference=typed.format(handed.pk))
    # then it is listed (and a reference holding those digits would be too)
    assert handed in found
    assert list(movement_list(reference="GRN-1").values_list("reference", flat=True)) == ["GRN-1"]
