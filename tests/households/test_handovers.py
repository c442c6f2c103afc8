"""Handovers: one ledger movement per handing-over, once per household and round, refusals that
change nothing and say why, partial handovers completed later, and the round's reconciliation."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.core.errors import InvalidInput
from reliefops.core.roles import Role
from reliefops.households.cards import printed
from reliefops.households.models import Handover, HandoverDelivery, RoundStatus
from reliefops.households.selectors import round_reconciliation
from reliefops.households.services import (
    HandoverRefused,
    card_reissue,
    cards_issue,
    handover_record,
    household_merge,
    round_set_status,
)
from reliefops.stock.models import LocationKind, Movement, MovementKind, MovementLine
from reliefops.stock.selectors import ledger_verify
from reliefops.stock.services import movement_reverse
from tests.factories import make_user
from tests.households.conftest import DAY, ledger_state, receive, register, winter_round


@pytest.fixture
def served(op):
    """A household of four listed at Bana in an open round, with stock for 3 such packages there."""
    household = register(op)
    receive(op, op.bana, op.cgi, 30, "GRN-1")
    receive(op, op.bana, op.blanket, 24, "GRN-2")
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    return household, round_obj


def hand(op, round_obj, **kwargs):
    values = {
        "actor": op.distributor,
        "round_id": round_obj.pk,
        "point_site_id": op.bana.pk,
        "collected_by": "the head",
        "handed_on": DAY,
    }
    values.update(kwargs)
    return handover_record(**values)


def test_a_handover_by_card_posts_one_movement_from_the_point_to_beneficiaries(op, served):
    household, round_obj = served
    token = household.cards.get().token
    # when the household shows its card at Bana
    result = hand(op, round_obj, card_token=token[:4] + "-" + token[4:8].lower() + " " + token[8:])
    # then one distribution movement moved its package from Bana to beneficiaries
    (movement,) = Movement.objects.filter(kind=MovementKind.DISTRIBUTION)
    assert result.delivery.movement == movement
    assert movement.site == op.bana
    assert movement.reference == f"{round_obj.code}/H{household.pk}"
    lines = {
        (line.item.code, line.quantity, line.from_location.site_id, line.to_location.kind)
        for line in movement.lines.all()
    }
    assert lines == {
        ("CGI-SHEET", 10, op.bana.pk, LocationKind.BENEFICIARIES),
        ("BLANKET", 8, op.bana.pk, LocationKind.BENEFICIARIES),
    }
    assert result.given == {"CGI-SHEET": 10, "BLANKET": 8}
    assert not result.shortfall
    assert result.handover.is_complete
    assert result.handover.card is not None
    assert ledger_verify().ok


def test_a_repeated_submission_with_its_key_posts_nothing_and_says_so(op, served):
    household, round_obj = served
    first = hand(op, round_obj, household_id=household.pk, idempotency_key="tablet-7/42")
    state = ledger_state()
    again = hand(op, round_obj, household_id=household.pk, idempotency_key="tablet-7/42")
    assert again.replayed
    assert again.delivery == first.delivery
    assert "nothing changed" in again.message
    assert ledger_state() == state


def test_a_household_served_once_is_refused_the_second_time(op, served):
    household, round_obj = served
    hand(op, round_obj, household_id=household.pk)
    state = ledger_state()
    with pytest.raises(HandoverRefused, match="received its package of round WR-1 on 20 Nov 2005 already"):
        hand(op, round_obj, household_id=household.pk, handed_on=DAY + dt.timedelta(days=1))
    assert ledger_state() == state


def _not_eligible(op, round_obj, household):
    low = register(
        op, head_name="Sher Zaman", document_number="13503-0000009-1", elevation_band="below_5000", phone=""
    )
    return {"household_id": low.pk}


def _wrong_point(op, round_obj, household):
    receive(op, op.raj, op.cgi, 30, "GRN-RAJ")
    return {"household_id": household.pk, "point_site_id": op.raj.pk}


def _no_stock(op, round_obj, household):
    far = register(
        op,
        head_name="Gul Zaman",
        document_number="13503-0000008-1",
        origin="PK52201",
        phone="",
        seen=[household.pk],
    )
    from reliefops.households.services import round_make_list

    round_make_list(actor=op.registrar, round_id=round_obj.pk)
    return {"household_id": far.pk, "point_site_id": op.raj.pk}


def _not_enough_stock(op, round_obj, household):
    big = register(
        op, head_name="Fazal Rahim", document_number="13503-0000007-1", phone="", members={"males_6_17": 4}
    )
    from reliefops.households.services import round_make_list

    round_make_list(actor=op.registrar, round_id=round_obj.pk)
    hand(op, round_obj, household_id=household.pk)
    hand(op, round_obj, household_id=register_and_list(op, round_obj, "13503-0000006-1").pk)
    return {"household_id": big.pk}


def register_and_list(op, round_obj, number):
    from reliefops.households.services import round_make_list

    other = register(op, head_name="Sajid Mehmood", document_number=number, phone="")
    round_make_list(actor=op.registrar, round_id=round_obj.pk)
    return other


def _closed_round(op, round_obj, household):
    round_set_status(actor=op.registrar, round_id=round_obj.pk, status=RoundStatus.CLOSED)
    return {"household_id": household.pk}


def _outside_the_period(op, round_obj, household):
    return {"household_id": household.pk, "handed_on": dt.date(2006, 3, 1)}


def _voided_card(op, round_obj, household):
    old = household.cards.get().token
    card_reissue(actor=op.registrar, household_id=household.pk, reason="lost")
    return {"card_token": old}


def _unknown_card(op, round_obj, household):
    return {"card_token": "0000-0000-00"}


def _merged_household(op, round_obj, household):
    other = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    household_merge(actor=op.registrar, survivor_id=other.pk, merged_id=household.pk)
    return {"household_id": household.pk}


def _card_of_a_merged_household(op, round_obj, household):
    old = household.cards.get().token
    other = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    household_merge(actor=op.registrar, survivor_id=other.pk, merged_id=household.pk)
    return {"card_token": old}


REFUSALS = {
    "not-eligible": (_not_eligible, "is not on the list of round WR-1: it is not eligible"),
    "wrong-point": (_wrong_point, "collects at Bana helipad, not at Raj Pattian"),
    "no-stock": (_no_stock, "no stock: Raj Pattian holds none of what household"),
    "not-enough-stock": (
        _not_enough_stock,
        "not enough stock for the whole package: Bana helipad holds 8 of 10 BLANKET on 20 Nov 2005 "
        r"\(what it held that day, less what later days took from it\); record a partial",
    ),
    "round-closed": (_closed_round, "round WR-1 is closed, not open for handovers"),
    "outside-the-period": (_outside_the_period, "runs from 14 Nov 2005 to 31 Jan 2006, not on 1 Mar 2006"),
    "replaced-card": (_voided_card, "was replaced on .* \\(lost\\): it no longer works"),
    "unknown-card": (_unknown_card, "is not a card token|no household holds card"),
    "merged-household": (_merged_household, "was merged into household"),
    # the card says a merge replaced it, without the number of the household kept
    "merged-household-card": (
        _card_of_a_merged_household,
        r"was replaced on .* \(the household was registered twice, and its records were merged\): it no",
    ),
}


@pytest.mark.parametrize(("given", "says"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_handover_changes_nothing_and_says_why(op, served, given, says):
    # given a situation in which the handover must be refused
    household, round_obj = served
    kwargs = given(op, round_obj, household)
    state = ledger_state()
    deliveries = HandoverDelivery.objects.count()
    # when it is asked for
    with pytest.raises(HandoverRefused, match=says):
        hand(op, round_obj, **kwargs)
    # then no movement, no balance, no handover, no audit event changed
    assert ledger_state() == state
    assert HandoverDelivery.objects.count() == deliveries


@pytest.mark.parametrize(
    ("who", "names"),
    [
        pytest.param("distributor", "card", id="distributor-hears-the-card"),
        pytest.param("admin", "number", id="admin-hears-the-household"),
    ],
)
def test_a_card_of_a_household_on_no_list_names_the_household_only_to_who_sees_every_list(
    op, served, who, names
):
    # given a household below 5,000 ft, on no list of the round, that holds a card
    _, round_obj = served
    low = register(
        op, head_name="Sher Zaman", document_number="13503-0000009-1", elevation_band="below_5000", phone=""
    )
    token = card_reissue(actor=op.registrar, household_id=low.pk, reason="first card").card.token
    actor = op.distributor if who == "distributor" else make_user(Role.ADMIN)
    state = ledger_state()
    # when its card is scanned at Bana
    with pytest.raises(HandoverRefused) as refused:
        hand(op, round_obj, actor=actor, card_token=token)
    # then a distributor hears of the card, an admin (who may see every list) of the household's number
    named = f"the household of card {printed(token)}" if names == "card" else f"household {low.pk}"
    assert refused.value.message == (
        f"{named} is not on the list of round WR-1: it is not eligible "
        "(or was registered after the list was made)"
    )
    assert ledger_state() == state


def test_a_card_of_another_point_names_that_point_and_not_the_household(op, served):
    # given a household listed at Bana, and a distributor of Raj Pattian only
    household, round_obj = served
    token = household.cards.get().token
    receive(op, op.raj, op.cgi, 30, "GRN-RAJ")
    raj_distributor = make_user(Role.DISTRIBUTOR, distribution_points=[op.raj])
    state = ledger_state()
    # when the family's card is scanned at Raj Pattian
    with pytest.raises(HandoverRefused) as refused:
        hand(op, round_obj, actor=raj_distributor, point_site_id=op.raj.pk, card_token=token)
    # then the distributor is told to send the family to the point on the card, beside the card field,
    # and hears neither the household's number nor its names
    assert refused.value.message == (
        f"card {printed(token)} is for another distribution point, Bana helipad, not Raj Pattian: "
        "send the family to the point named on their card"
    )
    assert refused.value.field == "card"
    assert f"household {household.pk}" not in refused.value.message
    assert household.head_name not in refused.value.message
    assert ledger_state() == state


def test_who_collected_is_required(op, served):
    household, round_obj = served
    with pytest.raises(InvalidInput, match="say who collected"):
        hand(op, round_obj, household_id=household.pk, collected_by="  ")


def test_a_handover_repeated_with_its_key_answers_what_the_first_gave_and_left_owed(op):
    # given a partial handover recorded with a key, completed later
    household = register(op)
    receive(op, op.bana, op.cgi, 30, "GRN-1")
    receive(op, op.bana, op.blanket, 4, "GRN-2")
    round_obj = winter_round(op)
    first = hand(op, round_obj, household_id=household.pk, allow_partial=True, idempotency_key="h-1")
    receive(op, op.bana, op.blanket, 20, "GRN-3")
    later = DAY + dt.timedelta(days=7)
    hand(op, round_obj, household_id=household.pk, handed_on=later, idempotency_key="h-2")
    # when the first request is sent again with its key
    again = hand(op, round_obj, household_id=household.pk, allow_partial=True, idempotency_key="h-1")
    # then it answers the first handover's own figures, and posts nothing
    assert again.replayed
    assert (again.given, again.shortfall) == ({"BLANKET": 4, "CGI-SHEET": 10}, {"BLANKET": 4})
    assert (again.given, again.shortfall) == (first.given, first.shortfall)
    assert again.delivery == first.delivery
    assert Movement.objects.filter(kind=MovementKind.DISTRIBUTION).count() == 2


def test_a_partial_handover_records_the_shortfall_and_is_completed_later_up_to_the_entitlement(op):
    # given a household of four listed at Bana, where only 4 of its 8 blankets are in stock
    household = register(op)
    receive(op, op.bana, op.cgi, 30, "GRN-1")
    receive(op, op.bana, op.blanket, 4, "GRN-2")
    round_obj = winter_round(op)
    # when the distributor records a partial handover
    first = hand(op, round_obj, household_id=household.pk, allow_partial=True)
    # then what there was is handed over and the rest is owed
    assert first.given == {"CGI-SHEET": 10, "BLANKET": 4}
    assert first.shortfall == {"BLANKET": 4}
    assert not first.handover.is_complete
    report = round_reconciliation(round_obj)
    blankets = next(i for i in report.items if i.item_code == "BLANKET")
    assert (blankets.entitled, blankets.handed_over, blankets.shortfall) == (8, 4, 4)
    assert report.partly_served_households == 1
    # when blankets arrive and the household comes back
    receive(op, op.bana, op.blanket, 20, "GRN-3")
    second = hand(
        op, round_obj, household_id=household.pk, handed_on=DAY + dt.timedelta(days=7), collected_by="his son"
    )
    # then only the shortfall is handed over, as a second movement of the same handover
    assert second.given == {"BLANKET": 4}
    assert not second.shortfall
    assert second.handover == first.handover
    assert second.handover.is_complete
    assert Handover.objects.count() == 1
    assert Movement.objects.filter(kind=MovementKind.DISTRIBUTION).count() == 2
    # and the household counts once, served in full
    report = round_reconciliation(round_obj)
    assert (report.entitled_households, report.served_households, report.partly_served_households) == (
        1,
        1,
        0,
    )
    assert all(
        item.entitled == item.handed_over == item.stock_moved and item.shortfall == 0 for item in report.items
    )
    # and nothing more is given
    with pytest.raises(HandoverRefused, match="already"):
        hand(op, round_obj, household_id=household.pk, handed_on=DAY + dt.timedelta(days=8))


def test_reconciliation_sees_a_ledger_reversal_of_a_handover(op, served):
    household, round_obj = served
    result = hand(op, round_obj, household_id=household.pk)
    movement_reverse(
        actor=None,
        movement_id=result.delivery.movement_id,
        reason="posted against the wrong point",
        reversed_on=DAY,
    )
    report = round_reconciliation(round_obj)
    assert not report.agrees_with_ledger
    cgi = next(i for i in report.items if i.item_code == "CGI-SHEET")
    assert (cgi.handed_over, cgi.stock_moved) == (10, 0)


def test_stock_moved_for_a_round_sums_its_movement_lines(op, served):
    household, round_obj = served
    hand(op, round_obj, household_id=household.pk)
    report = round_reconciliation(round_obj)
    moved = sum(
        MovementLine.objects.filter(movement__kind=MovementKind.DISTRIBUTION).values_list(
            "quantity", flat=True
        )
    )
    assert sum(item.stock_moved for item in report.items) == moved == 18
    assert report.agrees_with_ledger
