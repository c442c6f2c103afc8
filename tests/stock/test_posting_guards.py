"""What the ledger refuses whatever the entry point: a day when the stock was not there, a day to come,
a loss without a note, a hand-over to nobody's partner, a pledge of another item or site, a waybill
number twice, an item twice on one posting; each refusal names its line and field and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from reliefops.core.errors import Conflict, InvalidInput, NotFound
from reliefops.core.roles import Role
from reliefops.stock.models import Movement, Waybill
from reliefops.stock.selectors import stock_card
from reliefops.stock.services import (
    ReceiptLine,
    StockLine,
    movement_reverse,
    pledge_create,
    stock_distribute,
    stock_handover_to_partner,
    stock_receive,
    stock_report_loss,
    unattributed_grant,
    waybill_dispatch,
)
from reliefops.stock.services.ledger import BalanceRefused
from tests.factories import OrganisationFactory, SiteFactory, make_user
from tests.stock.conftest import DAY, assert_ledger_sound, on_hand, receive, snapshot

LATER = DAY + dt.timedelta(days=10)


def problems_of(call) -> list[tuple]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return [(p.row, p.field, p.reason) for p in caught.value.problems]


def loss(op, quantity, on, *, site=None, item=None, grant=None, actor=None):
    return stock_report_loss(
        actor=actor or op.actor,
        site_id=(site or op.hub).pk,
        reason="theft",
        occurred_on=on,
        note="taken from the store at night",
        lines=[StockLine(item_id=(item or op.blanket).pk, quantity=quantity, grant_id=grant)],
    )


# --- back-dated postings ----------------------------------------------------------------------------


def test_a_loss_dated_before_the_stock_arrived_is_refused_naming_the_day_and_the_balance(op):
    # given blankets received at the hub on a later day
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1", on=LATER)
    before = snapshot()
    # when a loss of them is dated before they arrived
    with pytest.raises(BalanceRefused) as caught:
        loss(op, 10, DAY, grant=op.dfid.pk)
    # then it is refused on its line's quantity, naming the day and what the hub held then
    assert caught.value.status == 400
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "quantity")]
    assert caught.value.message == (
        "Balakot hub held 0 blankets (grant DFID-2005-07) on 20 Oct 2005; this loss, dated 20 Oct 2005, "
        "asks for 10"
    )
    assert snapshot() == before


def test_a_posting_dated_before_a_later_outflow_is_refused_when_that_day_would_go_below_zero(op):
    # given 10 blankets on DAY, 8 of them distributed on a later day, and 10 more received after that
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1")
    stock_distribute(
        actor=op.actor,
        site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=8)],
        distributed_on=LATER,
    )
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-2", on=LATER + dt.timedelta(days=5))
    # when 3 are written off between the first two days, then the distribution's day would be at -1
    with pytest.raises(BalanceRefused) as caught:
        loss(op, 3, DAY + dt.timedelta(days=1))
    assert "held 2 blankets (grant DFID-2005-07) on 30 Oct 2005" in caught.value.message
    # and 2 may still go
    loss(op, 2, DAY + dt.timedelta(days=1))
    assert on_hand(op.hub, op.blanket) == 10
    card = stock_card(site_id=op.hub.pk, item_id=op.blanket.pk, start=DAY, end=LATER + dt.timedelta(days=5))
    assert min(line.balance for line in card.lines) >= 0
    assert_ledger_sound()


@pytest.mark.parametrize("kind", ["receipt", "distribution"])
def test_a_reversal_dated_before_the_movement_it_reverses_is_refused(op, kind):
    # given a receipt, or a distribution (whose reversal gives stock back: no balance would go below zero)
    receipt = receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1", on=LATER).movement
    if kind == "distribution":
        receipt = stock_distribute(
            actor=op.actor,
            site_id=op.hub.pk,
            lines=[StockLine(item_id=op.blanket.pk, quantity=4)],
            distributed_on=LATER,
        ).movement
    before = snapshot()
    # when it is reversed on a day before its own, then the reversal is refused by its day
    with pytest.raises(InvalidInput) as caught:
        movement_reverse(actor=op.actor, movement_id=receipt.pk, reason="wrong hub", reversed_on=DAY)
    assert [(p.field, p.reason) for p in caught.value.problems] == [
        ("reversed_on", "a reversal cannot be dated before the movement it reverses (30 Oct 2005)")
    ]
    assert snapshot() == before
    # dated on the movement's day, it is posted
    movement_reverse(actor=op.actor, movement_id=receipt.pk, reason="wrong hub", reversed_on=LATER)
    assert on_hand(op.hub, op.blanket) == (0 if kind == "receipt" else 10)
    assert_ledger_sound()


def test_a_back_dated_posting_with_stock_enough_on_every_day_is_posted(op):
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1")
    receive(op, op.hub, op.blanket, 5, op.dfid, "GRN-2", on=LATER)
    loss(op, 10, DAY + dt.timedelta(days=1))
    assert on_hand(op.hub, op.blanket) == 5
    assert_ledger_sound()


# --- days to come -----------------------------------------------------------------------------------


def test_a_posting_dated_after_today_is_refused_naming_its_day_field(op):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    before = snapshot()
    found = problems_of(
        lambda: stock_receive(
            actor=op.actor,
            site_id=op.hub.pk,
            grant_id=op.dfid.pk,
            grn_number="GRN-FUTURE",
            received_on=tomorrow,
            lines=[ReceiptLine(item_id=op.blanket.pk, quantity=10)],
        )
    )
    assert found == [
        (
            None,
            "received_on",
            f"{tomorrow.day} {tomorrow:%b %Y} is after today ("
            f"{timezone.localdate().day} {timezone.localdate():%b %Y})",
        )
    ]
    receive(op, op.point, op.blanket, 10, op.dfid, "GRN-1")
    found = problems_of(
        lambda: stock_distribute(
            actor=op.actor,
            site_id=op.point.pk,
            lines=[StockLine(item_id=op.blanket.pk, quantity=1)],
            distributed_on=dt.date(2030, 1, 1),
        )
    )
    assert [(row, field) for row, field, _ in found] == [(None, "distributed_on")]
    assert "1 Jan 2030 is after today" in found[0][2]
    assert on_hand(op.point, op.blanket) == 10
    assert snapshot()[1] == before[1] + 1


@pytest.mark.parametrize(
    ("received_on", "reason"),
    [
        pytest.param(
            dt.date(1999, 1, 1),
            "1 Jan 1999 is before grant DFID-2005-07 began (12 Oct 2005): check the day, or the grant the "
            "goods belong to",
            id="a-year-typed-wrong",
        ),
        pytest.param(
            dt.date(2005, 10, 11),
            "11 Oct 2005 is before grant DFID-2005-07 began (12 Oct 2005): check the day, or the grant the "
            "goods belong to",
            id="the-day-before",
        ),
        pytest.param(
            dt.date(1985, 6, 1), "1 Jun 1985 is before 1 Jan 1990; check the year", id="before-1990"
        ),
    ],
)
def test_a_receipt_dated_before_its_grant_began_is_refused(op, received_on, reason):
    op.dfid.start = dt.date(2005, 10, 12)
    op.dfid.save()
    before = snapshot()
    found = problems_of(lambda: receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1", on=received_on))
    assert found == [(None, "received_on", reason)]
    assert snapshot() == before
    # on the day the grant began, it is posted
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1", on=dt.date(2005, 10, 12))


@pytest.mark.parametrize(
    ("post", "field"),
    [
        pytest.param(
            lambda op, day: stock_distribute(
                actor=op.actor,
                site_id=op.point.pk,
                lines=[StockLine(item_id=op.blanket.pk, quantity=1)],
                distributed_on=day,
            ),
            "distributed_on",
            id="distribution",
        ),
        pytest.param(
            lambda op, day: waybill_dispatch(
                actor=op.actor,
                from_site_id=op.point.pk,
                to_site_id=op.hub.pk,
                lines=[StockLine(item_id=op.blanket.pk, quantity=1)],
                dispatched_on=day,
            ),
            "dispatched_on",
            id="dispatch",
        ),
        pytest.param(
            lambda op, day: movement_reverse(
                actor=op.actor,
                movement_id=Movement.objects.get(reference="GRN-1").pk,
                reason="wrong site",
                reversed_on=day,
            ),
            "reversed_on",
            id="reversal",
        ),
    ],
)
def test_a_posting_dated_before_1990_is_refused_as_a_year_typed_wrong(op, post, field):
    receive(op, op.point, op.blanket, 10, op.dfid, "GRN-1")
    before = snapshot()
    found = problems_of(lambda: post(op, dt.date(1899, 12, 30)))
    assert found == [(None, field, "30 Dec 1899 is before 1 Jan 1990; check the year")]
    assert snapshot() == before


# --- losses -----------------------------------------------------------------------------------------


def test_a_loss_without_a_note_is_refused(op):
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1")
    before = snapshot()
    found = problems_of(
        lambda: stock_report_loss(
            actor=op.actor,
            site_id=op.hub.pk,
            reason="weather",
            occurred_on=DAY,
            note=" ",
            lines=[StockLine(item_id=op.blanket.pk, quantity=1)],
        )
    )
    assert found == [(None, "note", "say what happened")]
    assert snapshot() == before


# --- hand-overs -------------------------------------------------------------------------------------


@override_settings(OPERATING_ORGANISATION="IOM")
@pytest.mark.parametrize("who", ["own", "unattributed"])
def test_a_hand_over_to_our_own_organisation_or_to_the_unattributed_placeholder_is_refused(op, who):
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-1")
    if who == "own":
        organisation = OrganisationFactory(name="International Organization for Migration", acronym="IOM")
    else:
        organisation = unattributed_grant().donor
    before = snapshot()
    found = problems_of(
        lambda: stock_handover_to_partner(
            actor=op.actor,
            site_id=op.hub.pk,
            organisation_id=organisation.pk,
            lines=[StockLine(item_id=op.blanket.pk, quantity=5)],
            handed_on=DAY,
        )
    )
    assert [(row, field) for row, field, _ in found] == [(None, "organisation")]
    assert ("own organisation" if who == "own" else "donor is unknown") in found[0][2]
    assert snapshot() == before


# --- pledges ----------------------------------------------------------------------------------------


def _pledge(op, site=None, item=None):
    return pledge_create(
        actor=op.actor,
        grant_id=op.dfid.pk,
        item_id=(item or op.blanket).pk,
        quantity=100,
        destination_site_id=(site or op.hub).pk,
        expected_on=DAY,
    )


def test_a_receipt_line_of_another_item_than_its_pledge_is_refused(op):
    pledge = _pledge(op)
    before = snapshot()
    found = problems_of(
        lambda: stock_receive(
            actor=op.actor,
            site_id=op.hub.pk,
            grant_id=op.dfid.pk,
            grn_number="GRN-P",
            received_on=DAY,
            pledge_id=pledge.pk,
            lines=[
                ReceiptLine(item_id=op.blanket.pk, quantity=50),
                ReceiptLine(item_id=op.bucket.pk, quantity=50),
            ],
        )
    )
    assert [(row, field) for row, field, _ in found] == [(2, "item")]
    assert found[0][2].startswith(f"pledge {pledge.pk} is of blankets, not of this item")
    assert snapshot() == before


def test_another_sites_pledge_is_told_as_no_pledge_to_who_may_not_see_that_site(op):
    other = SiteFactory(code="BAG-HUB", name="Bagh hub", kind="hub", admin_area=op.area)
    pledge = _pledge(op, site=other)
    karim = make_user(Role.HUB_MANAGER, hubs=[op.hub])

    def refusal(pledge_id):
        with pytest.raises(NotFound) as caught:
            stock_receive(
                actor=karim,
                site_id=op.hub.pk,
                grant_id=op.dfid.pk,
                grn_number="GRN-P",
                received_on=DAY,
                pledge_id=pledge_id,
                lines=[ReceiptLine(item_id=op.blanket.pk, quantity=50)],
            )
        return caught.value.message

    assert refusal(pledge.pk) == f"no pledge {pledge.pk}"
    assert refusal(999999) == "no pledge 999999"


# --- waybill numbers --------------------------------------------------------------------------------


def _dispatch(op, number=None, quantity=1):
    return waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=quantity)],
        dispatched_on=DAY,
        number=number,
    ).waybill


def test_the_automatic_waybill_number_is_the_next_of_its_series_after_typed_ones(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    first = _dispatch(op)
    _dispatch(op, number="BLK/2005/0412")
    _dispatch(op, number="BLK/2005/0413")
    following = _dispatch(op)
    assert int(following.number[3:]) == int(first.number[3:]) + 1
    assert following.number == f"WB-{int(first.number[3:]) + 1:07d}"


def test_a_waybill_number_in_another_case_is_refused_naming_the_existing_waybill(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    _dispatch(op, number="BLK/2005/0412")
    before = snapshot()
    with pytest.raises(Conflict) as caught:
        _dispatch(op, number="blk/2005/0412")
    assert caught.value.message.startswith("waybill BLK/2005/0412 exists already")
    assert snapshot() == before
    assert Waybill.objects.count() == 1


def test_a_waybill_number_is_kept_without_spaces_around_it_and_refused_with_them(op):
    # given a waybill number typed with spaces around it (the API and the command line keep them)
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    first = _dispatch(op, number="  BLK/2005/0412 ")
    assert first.number == "BLK/2005/0412"
    # when it is typed again, with other spaces, then it is the same waybill, and refused
    before = snapshot()
    with pytest.raises(Conflict) as caught:
        _dispatch(op, number="blk/2005/0412 ")
    assert caught.value.message.startswith("waybill BLK/2005/0412 exists already")
    assert snapshot() == before


# --- an item twice ----------------------------------------------------------------------------------


def test_an_item_listed_twice_on_a_dispatch_or_distribution_is_refused_on_the_second_line(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    twice = [StockLine(item_id=op.blanket.pk, quantity=60), StockLine(item_id=op.blanket.pk, quantity=60)]
    before = snapshot()
    found = problems_of(
        lambda: waybill_dispatch(
            actor=op.actor, from_site_id=op.warehouse.pk, to_site_id=op.hub.pk, lines=twice, dispatched_on=DAY
        )
    )
    assert found == [(2, "item", "Blanket is listed twice: give it once, with the total")]
    found = problems_of(
        lambda: stock_distribute(actor=op.actor, site_id=op.warehouse.pk, lines=twice, distributed_on=DAY)
    )
    assert [(row, field) for row, field, _ in found] == [(2, "item")]
    assert snapshot() == before


def test_one_item_of_two_named_grants_on_two_lines_is_posted(op):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.blanket, 10, op.echo, "GRN-2")
    stock_distribute(
        actor=op.actor,
        site_id=op.warehouse.pk,
        lines=[
            StockLine(item_id=op.blanket.pk, quantity=5, grant_id=op.dfid.pk),
            StockLine(item_id=op.blanket.pk, quantity=5, grant_id=op.echo.pk),
        ],
        distributed_on=DAY,
    )
    assert on_hand(op.warehouse, op.blanket) == 10


# --- overdraws ----------------------------------------------------------------------------------------


def test_an_overdraw_is_a_problem_of_the_quantity_of_the_line_that_asks_for_it(op):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.bucket, 10, op.dfid, "GRN-2")
    with pytest.raises(BalanceRefused) as caught:
        stock_distribute(
            actor=op.actor,
            site_id=op.warehouse.pk,
            lines=[
                StockLine(item_id=op.bucket.pk, quantity=5),
                StockLine(item_id=op.blanket.pk, quantity=11),
            ],
            distributed_on=DAY,
        )
    assert caught.value.status == 400
    assert [(p.row, p.field, p.reason) for p in caught.value.problems] == [
        (2, "quantity", "Islamabad warehouse has 10 blankets; this distribution asks for 11")
    ]


def test_an_overdraw_tells_no_quantity_to_who_may_not_view_stock(op):
    receive(op, op.point, op.blanket, 35, op.dfid, "GRN-1")
    distributor = make_user(Role.DISTRIBUTOR, distribution_points=[op.point])
    with pytest.raises(BalanceRefused) as caught:
        stock_distribute(
            actor=distributor,
            site_id=op.point.pk,
            lines=[StockLine(item_id=op.blanket.pk, quantity=1000)],
            distributed_on=DAY,
        )
    assert caught.value.message == "not enough blankets at Garhi Habibullah point for this distribution"
    assert "35" not in str(caught.value)
