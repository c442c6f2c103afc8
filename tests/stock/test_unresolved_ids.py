"""An UNRESOLVED id (0) is passed over only where its caller reported why; else it is unknown.

An entry point gives the services UNRESOLVED for a name it could not find, with its problem among
the `caller_problems`. Called without that problem, a service refuses the id as it refuses any other
that does not exist, before anything is written: it never reaches the database.
"""

from __future__ import annotations

import pytest

from reliefops.core.errors import InvalidInput, Problem, ServiceError
from reliefops.stock.services import (
    UNRESOLVED,
    CountLine,
    DeliveryLine,
    ReceiptLine,
    StockLine,
    kits_assemble,
    kits_break,
    pledge_create,
    stock_count,
    stock_distribute,
    stock_handover_to_partner,
    stock_receive,
    waybill_confirm_delivery,
    waybill_dispatch,
)
from tests.stock.conftest import DAY, receive, snapshot


@pytest.fixture
def stocked(op):
    receive(op, op.warehouse, op.blanket, 500, op.dfid, "GRN-W1")
    receive(op, op.hub, op.blanket, 200, op.dfid, "GRN-H1")
    return op


def problems_of(call) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return [str(p) for p in caught.value.problems]


def test_a_receipt_of_item_0_is_refused_as_an_unknown_item(stocked):
    before = snapshot()
    assert problems_of(
        lambda: stock_receive(
            actor=stocked.actor,
            site_id=stocked.hub.pk,
            grant_id=stocked.dfid.pk,
            grn_number="GRN-0",
            received_on=DAY,
            lines=[ReceiptLine(item_id=UNRESOLVED, quantity=5)],
        )
    ) == ["line 1, item: unknown item 0"]
    assert snapshot() == before


def test_item_0_is_passed_over_only_on_the_line_and_field_its_caller_reported(stocked):
    def distribute(caller_problems):
        return problems_of(
            lambda: stock_distribute(
                actor=stocked.actor,
                site_id=stocked.hub.pk,
                distributed_on=DAY,
                lines=[
                    StockLine(item_id=UNRESOLVED, quantity=1),
                    StockLine(item_id=UNRESOLVED, quantity=1),
                ],
                caller_problems=caller_problems,
            )
        )

    # when the caller reports line 1's item, then line 2's item 0 is unknown
    assert distribute([Problem(1, "item", "unknown item 'NOPE'")]) == [
        "line 1, item: unknown item 'NOPE'",
        "line 2, item: unknown item 0",
    ]
    # when the caller reports line 1's grant, then neither item 0 is passed over
    assert distribute([Problem(1, "grant", "unknown grant 'NOPE'")]) == [
        "line 1, grant: unknown grant 'NOPE'",
        "line 1, item: unknown item 0",
        "line 2, item: unknown item 0",
    ]


def test_a_grant_0_is_refused_as_an_unknown_grant(stocked):
    assert problems_of(
        lambda: stock_distribute(
            actor=stocked.actor,
            site_id=stocked.hub.pk,
            distributed_on=DAY,
            lines=[StockLine(item_id=stocked.blanket.pk, quantity=1, grant_id=UNRESOLVED)],
        )
    ) == ["line 1, grant: unknown grant 0"]


@pytest.mark.parametrize("surplus_grant_id", [UNRESOLVED, 999_999])
def test_a_count_surplus_of_a_grant_that_does_not_exist_is_refused(stocked, surplus_grant_id):
    before = snapshot()
    assert problems_of(
        lambda: stock_count(
            actor=stocked.actor,
            site_id=stocked.hub.pk,
            counted_on=DAY,
            counts=[CountLine(item_id=stocked.blanket.pk, counted=250, surplus_grant_id=surplus_grant_id)],
        )
    ) == [f"line 1, surplus_grant: unknown grant {surplus_grant_id}"]
    assert snapshot() == before


def test_a_pledge_of_item_0_is_refused_as_an_unknown_item(stocked):
    with pytest.raises(InvalidInput) as caught:
        pledge_create(
            actor=stocked.actor,
            grant_id=stocked.dfid.pk,
            item_id=UNRESOLVED,
            quantity=5,
            destination_site_id=stocked.hub.pk,
            expected_on=DAY,
        )
    assert [str(p) for p in caught.value.problems] == ["line 1, item: unknown item 0"]


def test_a_hand_over_to_organisation_0_is_refused_as_no_organisation(stocked):
    assert problems_of(
        lambda: stock_handover_to_partner(
            actor=stocked.actor,
            site_id=stocked.hub.pk,
            organisation_id=UNRESOLVED,
            handed_on=DAY,
            lines=[StockLine(item_id=stocked.blanket.pk, quantity=1)],
        )
    ) == ["organisation: no organisation 0"]


def test_a_delivery_line_of_item_0_is_refused_as_an_unknown_item(stocked):
    waybill = waybill_dispatch(
        actor=stocked.actor,
        from_site_id=stocked.warehouse.pk,
        to_site_id=stocked.hub.pk,
        lines=[StockLine(item_id=stocked.blanket.pk, quantity=10)],
        dispatched_on=DAY,
    ).waybill
    before = snapshot()
    assert problems_of(
        lambda: waybill_confirm_delivery(
            actor=stocked.actor,
            waybill_id=waybill.pk,
            delivered_on=DAY,
            lines=[
                DeliveryLine(item_id=stocked.blanket.pk, received=10),
                DeliveryLine(item_id=UNRESOLVED, received=7),
            ],
            excess_reason="found in the truck",
        )
    ) == ["line 2, item: unknown item 0"]
    assert snapshot() == before


def test_a_dispatch_to_site_0_is_refused(stocked):
    before = snapshot()
    with pytest.raises(ServiceError) as caught:
        waybill_dispatch(
            actor=stocked.actor,
            from_site_id=stocked.warehouse.pk,
            to_site_id=UNRESOLVED,
            lines=[StockLine(item_id=stocked.blanket.pk, quantity=10)],
            dispatched_on=DAY,
        )
    assert caught.value.message == "no site 0"
    assert snapshot() == before


@pytest.mark.parametrize("grant_id", [UNRESOLVED, 999_999])
def test_kits_charged_to_a_grant_that_does_not_exist_are_refused(stocked, grant_id):
    before = snapshot()
    for service, day in ((kits_assemble, "assembled_on"), (kits_break, "broken_on")):
        assert problems_of(
            lambda service=service, day=day: service(
                actor=stocked.actor,
                site_id=stocked.hub.pk,
                kit_item_id=stocked.kit_item.pk,
                quantity=1,
                grant_id=grant_id,
                **{day: DAY},
            )
        ) == [f"grant: unknown grant {grant_id}"]
    assert snapshot() == before
