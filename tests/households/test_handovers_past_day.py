"""A handover entered for a past day (a paper list typed in after the round) gives what the point
held that day and no later day has taken since: the ledger refuses a posting that would take a
later day's balance below zero, so what the point holds today says nothing of what it could give
then. A package given then comes from the grants that held it then."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.households.models import HandoverDelivery
from reliefops.households.services import HandoverRefused, handover_record
from reliefops.stock.models import MovementLine
from reliefops.stock.selectors import available_from, ledger_verify, on_hand_by_item
from reliefops.stock.services import ReceiptLine, StockLine, stock_distribute, stock_receive
from tests.factories import GrantFactory
from tests.households.conftest import ledger_state, register, winter_round

NOV = dt.date(2005, 11, 1)


def day(n: int) -> dt.date:
    return NOV + dt.timedelta(days=n - 1)


def got(op, item, quantity, on, *, grant=None, grn=""):
    stock_receive(
        actor=None,
        site_id=op.bana.pk,
        grant_id=(grant or op.grant).pk,
        grn_number=grn or f"GRN-{item.code}-{on.isoformat()}-{quantity}",
        received_on=on,
        lines=[ReceiptLine(item_id=item.pk, quantity=quantity)],
    )


def gave(op, item, quantity, on):
    stock_distribute(
        actor=None,
        site_id=op.bana.pk,
        distributed_on=on,
        reference=f"bulk {on.isoformat()}",
        lines=[StockLine(item_id=item.pk, quantity=quantity)],
    )


def hand(op, round_obj, household, on, **kwargs):
    return handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=household.pk,
        collected_by="the head",
        handed_on=on,
        **kwargs,
    )


@pytest.fixture
def listed(op):
    """A household of four listed at Bana in an open Winter Race round: 10 CGI sheets, 8 blankets."""
    household = register(op)
    round_obj = winter_round(op)
    return household, round_obj


def test_what_a_point_can_give_on_a_past_day_is_the_lowest_balance_from_then_on(op):
    # given 10 blankets received on the 10th, 8 given out on the 20th, 30 received on the 25th
    got(op, op.blanket, 10, day(10))
    gave(op, op.blanket, 8, day(20))
    got(op, op.blanket, 30, day(25))
    # then the point held 10 on the 15th, and holds 32 now
    assert on_hand_by_item(site_ids={op.bana.pk}, day=day(15))[op.blanket.pk] == 10
    # but on the 15th it can give 2 (the 20th would go below zero otherwise), on the 22nd 2, on the 25th 32
    assert available_from(op.bana.pk, [op.blanket.pk], day(15)) == {op.blanket.pk: [(op.grant.pk, 2)]}
    assert available_from(op.bana.pk, [op.blanket.pk], day(22)) == {op.blanket.pk: [(op.grant.pk, 2)]}
    assert available_from(op.bana.pk, [op.blanket.pk], day(25)) == {op.blanket.pk: [(op.grant.pk, 32)]}
    assert available_from(op.bana.pk, [op.blanket.pk], day(5)) == {}


def test_a_past_days_partial_handover_gives_what_the_point_held_that_day(op, listed):
    household, round_obj = listed
    # given a point that held 5 blankets and 10 CGI sheets on 20 Nov, and far more since
    got(op, op.cgi, 10, day(18))
    got(op, op.blanket, 5, day(18))
    got(op, op.blanket, 100, day(25))
    assert on_hand_by_item(site_ids={op.bana.pk})[op.blanket.pk] == 105
    # when the household's handover of 20 Nov is entered, "give what there is" ticked
    result = hand(op, round_obj, household, day(20), allow_partial=True)
    # then it was given what the point held that day, and the rest is owed
    assert result.given == {"BLANKET": 5, "CGI-SHEET": 10}
    assert result.shortfall == {"BLANKET": 3}
    assert ledger_verify().ok
    # and a later handover, on a day the point held enough, gives the rest
    again = hand(op, round_obj, household, day(26))
    assert again.given == {"BLANKET": 3}
    assert again.handover.is_complete


def test_a_past_days_handover_without_partial_is_refused_saying_what_the_point_held_that_day(op, listed):
    household, round_obj = listed
    got(op, op.cgi, 10, day(18))
    got(op, op.blanket, 5, day(18))
    got(op, op.blanket, 100, day(25))
    state = ledger_state()
    with pytest.raises(HandoverRefused, match=r"holds 5 of 8 BLANKET on 20 Nov 2005 .*record a partial"):
        hand(op, round_obj, household, day(20))
    assert ledger_state() == state


def test_stock_handed_over_after_the_day_is_not_given_again_that_day(op, listed):
    household, round_obj = listed
    # given 10 CGI sheets and 8 blankets on the 18th, all the blankets given out in bulk on the 22nd,
    # and 20 more blankets received on the 25th
    got(op, op.cgi, 10, day(18))
    got(op, op.blanket, 8, day(18))
    gave(op, op.blanket, 8, day(22))
    got(op, op.blanket, 20, day(25))
    # when the handover of the 20th is entered, partial allowed: the blankets are owed, not given
    result = hand(op, round_obj, household, day(20), allow_partial=True)
    assert result.given == {"CGI-SHEET": 10}
    assert result.shortfall == {"BLANKET": 8}
    assert ledger_verify().ok


def test_a_past_days_package_comes_from_the_grants_that_held_it_that_day(op, listed):
    household, round_obj = listed
    # given an older grant that held 4 blankets on the 20th and was topped up on the 25th, and a
    # newer grant that held 10 on the 20th: today the older grant alone could give the 8
    older = GrantFactory(reference="ECHO-2005-01")
    got(op, op.blanket, 4, day(2), grant=older)
    got(op, op.blanket, 10, day(18))
    got(op, op.cgi, 10, day(18))
    got(op, op.blanket, 20, day(25), grant=older)
    # when the handover of the 20th is entered
    result = hand(op, round_obj, household, day(20))
    # then the 8 blankets are the older grant's 4 and the newer grant's 4, as they were held that day
    taken = dict(
        MovementLine.objects.filter(movement=result.delivery.movement, item=op.blanket).values_list(
            "grant__reference", "quantity"
        )
    )
    assert taken == {"ECHO-2005-01": 4, op.grant.reference: 4}
    assert result.given == {"BLANKET": 8, "CGI-SHEET": 10}
    assert HandoverDelivery.objects.get().lines.get(item=op.blanket).quantity == 8
    assert ledger_verify().ok
