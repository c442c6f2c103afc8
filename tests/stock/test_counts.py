"""Physical counts against what the site held at the end of the count's day."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.stock.models import Movement, MovementKind
from reliefops.stock.selectors import stock_card
from reliefops.stock.services import CountLine, StockLine, stock_count, stock_distribute
from reliefops.stock.services.ledger import BalanceRefused
from reliefops.stock.services.locations import unattributed_grant
from tests.stock.conftest import DAY, assert_ledger_sound, on_hand, receive, snapshot

NEXT_DAY = DAY + dt.timedelta(days=1)
TODAY_THEN = DAY + dt.timedelta(days=2)


def count(op, counted, on=DAY, item=None, surplus_grant=None):
    return stock_count(
        actor=op.actor,
        site_id=op.hub.pk,
        counted_on=on,
        counts=[
            CountLine(
                item_id=(item or op.blanket).pk,
                counted=counted,
                surplus_grant_id=surplus_grant.pk if surplus_grant else None,
            )
        ],
    )


def distribute(op, quantity, grant, on=NEXT_DAY):
    return stock_distribute(
        actor=op.actor,
        site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=quantity, grant_id=grant.pk)],
        distributed_on=on,
    )


def test_a_count_of_a_past_day_finds_the_shortage_against_that_day_not_today(op):
    # given 691 blankets at the end of DAY, and 781 once 90 more came the next day
    receive(op, op.hub, op.blanket, 691, op.dfid, "GRN-1")
    receive(op, op.hub, op.blanket, 90, op.dfid, "GRN-2", on=NEXT_DAY)
    # when a count of DAY finds 632 (59 short), then 59 leave the hub, not 149
    result = count(op, 632)
    assert sum(line.quantity for line in result.movement.lines.all()) == 59
    assert on_hand(op.hub, op.blanket) == 722
    # and the stock card shows the day's count against the day's stock
    card = stock_card(site_id=op.hub.pk, item_id=op.blanket.pk, start=DAY, end=TODAY_THEN)
    assert [line.balance for line in card.lines] == [691, 632, 722]
    assert_ledger_sound()


def test_a_past_count_takes_its_shortage_from_grants_whose_later_stock_stays_at_zero_or_more(op):
    # given DFID's blankets (the oldest) and ECHO's at the hub on DAY; every DFID blanket handed out the
    # next day
    receive(op, op.hub, op.blanket, 50, op.dfid, "GRN-1", on=DAY - dt.timedelta(days=5))
    receive(op, op.hub, op.blanket, 50, op.echo, "GRN-2")
    distribute(op, 50, op.dfid)
    # when a count of DAY finds 20 short
    count(op, 80)
    # then they are ECHO's: DFID's, though oldest, all left the next day, and none can have been missing
    assert on_hand(op.hub, op.blanket, op.echo) == 30
    assert on_hand(op.hub, op.blanket, op.dfid) == 0
    assert_ledger_sound()


def test_a_past_count_whose_shortage_only_one_grant_could_give_and_it_later_gave_all_is_refused(op):
    # given only DFID's 50 blankets on DAY; the next day ECHO's 50 arrive, then DFID's 50 are handed out
    receive(op, op.hub, op.blanket, 50, op.dfid, "GRN-1")
    receive(op, op.hub, op.blanket, 50, op.echo, "GRN-2", on=NEXT_DAY)
    distribute(op, 50, op.dfid)
    before = snapshot()
    # when a count of DAY finds 30 (the hub never held fewer than 50 in all, but the 20 missing were
    # DFID's, which it then handed out in full)
    with pytest.raises(BalanceRefused) as caught:
        count(op, 30)
    # then it is refused, naming the grant and the day it would go below zero
    assert caught.value.message == (
        "Balakot hub held 0 blankets (grant DFID-2005-07) on 21 Oct 2005; this count, dated 20 Oct 2005, "
        "takes 20 of the shortage it found (30 counted of 50 held that day): post the count on the day it "
        "was made, or correct the postings dated after it first"
    )
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "counted")]
    assert snapshot() == before


def test_a_past_count_s_surplus_goes_to_the_grant_named_else_to_unattributed(op):
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1")
    receive(op, op.hub, op.blanket, 5, op.dfid, "GRN-2", on=NEXT_DAY)
    count(op, 12, surplus_grant=op.echo)
    assert on_hand(op.hub, op.blanket, op.echo) == 2
    count(op, 20, on=NEXT_DAY)  # 17 held at the end of the next day: 3 over, of no grant named
    assert on_hand(op.hub, op.blanket, unattributed_grant()) == 3
    assert on_hand(op.hub, op.blanket) == 20
    assert_ledger_sound()


def test_a_count_that_matches_the_day_s_stock_posts_nothing(op):
    receive(op, op.hub, op.blanket, 691, op.dfid, "GRN-1")
    receive(op, op.hub, op.blanket, 90, op.dfid, "GRN-2", on=NEXT_DAY)
    before = snapshot()
    result = count(op, 691)
    assert (result.movement, result.message) == (None, "the count matches the stock held: nothing to post")
    assert snapshot() == before
    assert not Movement.objects.filter(kind=MovementKind.COUNT).exists()


def test_a_count_dated_after_every_posting_is_compared_with_the_stock_held_now(op):
    receive(op, op.hub, op.blanket, 691, op.dfid, "GRN-1")
    receive(op, op.hub, op.blanket, 90, op.dfid, "GRN-2", on=NEXT_DAY)
    count(op, 700, on=TODAY_THEN)
    assert on_hand(op.hub, op.blanket) == 700
    assert_ledger_sound()
