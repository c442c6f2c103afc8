"""The donor report adds up: what a grant received, and what counts and kitting changed ("other"),
equal the rest of its columns added up."""

from __future__ import annotations

from reliefops.stock.selectors import donor_report
from reliefops.stock.services import CountLine, StockLine, stock_count, stock_distribute
from tests.stock.conftest import DAY, receive

COLUMNS = ("distributed", "handed_to_partners", "lost", "in_transit", "on_hand")


def rows(grant):
    return {row.item_code: row for row in donor_report(grant_id=grant.pk).rows}


def test_a_count_shortage_takes_from_other_and_received_plus_other_is_the_rest(op):
    # given 100 blankets received, 50 distributed, and 3 found missing at the count
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    stock_distribute(
        actor=op.actor,
        site_id=op.warehouse.pk,
        distributed_on=DAY,
        reference="DIST-1",
        lines=[StockLine(item_id=op.blanket.pk, quantity=50)],
    )
    stock_count(
        actor=op.actor,
        site_id=op.warehouse.pk,
        counted_on=DAY,
        counts=[CountLine(item_id=op.blanket.pk, counted=47)],
    )
    # then the 3 are taken from "other", and received + other is the rest added up
    blankets = rows(op.dfid)["BLANKET"]
    assert (blankets.received, blankets.distributed, blankets.on_hand, blankets.other) == (100, 50, 47, -3)
    assert blankets.received + blankets.other == sum(getattr(blankets, column) for column in COLUMNS)


def test_a_count_surplus_given_to_a_grant_adds_up_too(op):
    # given 10 CGI sheets received and 12 counted, the 2 more credited to the grant
    receive(op, op.warehouse, op.cgi, 10, op.dfid, "GRN-2")
    stock_count(
        actor=op.actor,
        site_id=op.warehouse.pk,
        counted_on=DAY,
        counts=[CountLine(item_id=op.cgi.pk, counted=12, surplus_grant_id=op.dfid.pk)],
    )
    sheets = rows(op.dfid)["CGI-SHEET"]
    assert (sheets.received, sheets.on_hand, sheets.other) == (10, 12, 2)
    assert sheets.received + sheets.other == sum(getattr(sheets, column) for column in COLUMNS)
