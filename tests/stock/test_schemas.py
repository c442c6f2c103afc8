"""A posting's message counts what the user entered: the items, not the ledger's lines (an item
taken first-in-first-out from several grants' stock is one item)."""

from __future__ import annotations

import pytest

from reliefops.catalog.models import Item
from reliefops.stock.schemas import posting_message
from reliefops.stock.services import StockLine, stock_distribute, stock_handover_to_partner
from tests.factories import GrantFactory, ItemFactory
from tests.stock.conftest import DAY, receive


def three_grants_of_quilts(op) -> Item:
    """A distribution point holding 50 quilts of each of three grants."""
    quilt = ItemFactory(code="QUILT", name="Quilt")
    for n, grant in enumerate((op.dfid, op.echo, GrantFactory(reference="USAID-2005-03")), start=1):
        receive(op, op.point, quilt, 50, grant, f"GRN-Q{n}")
    return quilt


def test_a_distribution_taken_from_three_grants_is_one_item_in_its_message(op):
    # given a distribution point holding quilts of three grants
    quilt = three_grants_of_quilts(op)
    # when the clerk distributes 150 quilts, one line on the form
    result = stock_distribute(
        actor=op.actor,
        site_id=op.point.pk,
        lines=[StockLine(item_id=quilt.pk, quantity=150)],
        distributed_on=DAY,
        reference="DIST-0117",
    )
    # then the ledger took them from the three grants, and the message counts the one item entered
    assert result.movement.lines.count() == 3
    assert posting_message(result) == (
        f"Posted distribution #{result.movement.pk} (DIST-0117) at Garhi Habibullah point: 1 item: 150 QUILT."
    )


def test_a_handover_taken_from_three_grants_counts_its_items(op):
    # given quilts of three grants and blankets of one at a distribution point
    quilt = three_grants_of_quilts(op)
    receive(op, op.point, op.blanket, 40, op.dfid, "GRN-B1")
    # when 120 quilts and 40 blankets are handed to a partner
    result = stock_handover_to_partner(
        actor=op.actor,
        site_id=op.point.pk,
        organisation_id=op.partner.pk,
        lines=[StockLine(item_id=quilt.pk, quantity=120), StockLine(item_id=op.blanket.pk, quantity=40)],
        handed_on=DAY,
    )
    # then the message says two items, each with its quantity
    assert result.movement.lines.count() == 4
    assert posting_message(result).endswith(": 2 items: 40 BLANKET, 120 QUILT.")


@pytest.mark.parametrize(
    ("items", "said"),
    [pytest.param(5, "5 items: ", id="five-named"), pytest.param(6, "6 items.", id="six-counted")],
)
def test_a_posting_of_more_than_five_items_says_how_many(op, items, said):
    # given stock of several items at the point
    stocked = [ItemFactory(code=f"ITEM-{n}") for n in range(items)]
    for item in stocked:
        receive(op, op.point, item, 10, op.dfid, f"GRN-{item.code}")
    # when all are distributed at once
    result = stock_distribute(
        actor=op.actor,
        site_id=op.point.pk,
        lines=[StockLine(item_id=item.pk, quantity=10) for item in stocked],
        distributed_on=DAY,
    )
    # then five are named with their quantities, more are counted
    message = posting_message(result)
    assert said in message
    assert ("10 ITEM-0" in message) == (items <= 5)
