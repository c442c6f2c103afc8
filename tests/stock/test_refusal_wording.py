"""A refusal reads as a sentence: its verbs agree with its counts, its numbers are grouped by
thousands, and an overdraw says what the posting does ("this loss asks for 51", "breaking asks for 2").
"""

from __future__ import annotations

import pytest

from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.places.models import SiteKind
from reliefops.stock.services import (
    DeliveryLine,
    StockLine,
    kits_assemble,
    kits_break,
    stock_handover_to_partner,
    stock_report_loss,
    waybill_confirm_delivery,
    waybill_dispatch,
)
from tests.factories import SiteFactory
from tests.stock.conftest import DAY, receive, snapshot


@pytest.fixture
def stocked(op):
    receive(op, op.warehouse, op.blanket, 2_000, op.dfid, "GRN-W1")
    receive(op, op.warehouse, op.bucket, 1, op.echo, "GRN-W2")
    receive(op, op.hub, op.blanket, 200, op.dfid, "GRN-H1")
    receive(op, op.hub, op.bucket, 50, op.echo, "GRN-H2")
    return op


@pytest.mark.parametrize(
    ("blankets", "buckets", "reasons"),
    [
        pytest.param(
            DeliveryLine(item_id=0, received=1_499, damaged=1),
            DeliveryLine(item_id=0, received=2),
            [
                (1, "damage_reason", "say why 1 blanket was damaged"),
                (
                    2,
                    "received",
                    "2 steel buckets confirmed but 1 was sent; give a reason to accept the excess",
                ),
            ],
            id="one",
        ),
        pytest.param(
            DeliveryLine(item_id=0, received=299, damaged=0),
            DeliveryLine(item_id=0, received=0),
            [
                (1, "short_reason", "say why 1,201 blankets are missing"),
                (2, "short_reason", "say why 1 steel bucket is missing"),
            ],
            id="short",
        ),
        pytest.param(
            DeliveryLine(item_id=0, received=0, damaged=1_500),
            DeliveryLine(item_id=0, received=1_200),
            [
                (1, "damage_reason", "say why 1,500 blankets were damaged"),
                (
                    2,
                    "received",
                    "1,200 steel buckets confirmed but 1 was sent; give a reason to accept the excess",
                ),
            ],
            id="thousands",
        ),
    ],
)
def test_a_delivery_asks_for_its_reasons_in_sentences(stocked, blankets, buckets, reasons):
    op = stocked
    waybill = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=1_500), StockLine(item_id=op.bucket.pk, quantity=1)],
        dispatched_on=DAY,
    ).waybill
    lines = [
        DeliveryLine(**{**vars(blankets), "item_id": op.blanket.pk}),
        DeliveryLine(**{**vars(buckets), "item_id": op.bucket.pk}),
    ]
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        waybill_confirm_delivery(actor=op.actor, waybill_id=waybill.pk, delivered_on=DAY, lines=lines)
    assert [(p.row, p.field, p.reason) for p in caught.value.problems] == reasons
    assert snapshot() == before


def test_an_overdraw_says_what_each_posting_does(stocked):
    op = stocked

    def refusal(call) -> str:
        with pytest.raises(ServiceError) as caught:
            call()
        return caught.value.message

    loss = refusal(
        lambda: stock_report_loss(
            actor=op.actor,
            site_id=op.hub.pk,
            reason="theft",
            note="gone from the store",
            occurred_on=DAY,
            lines=[StockLine(item_id=op.bucket.pk, quantity=51)],
        )
    )
    assert loss == "Balakot hub has 50 steel buckets; this loss asks for 51"
    handover = refusal(
        lambda: stock_handover_to_partner(
            actor=op.actor,
            site_id=op.hub.pk,
            organisation_id=op.partner.pk,
            handed_on=DAY,
            lines=[StockLine(item_id=op.bucket.pk, quantity=1_001, grant_id=op.echo.pk)],
        )
    )
    assert handover == "Balakot hub has 50 steel buckets (grant ECHO-2005-01); this hand-over asks for 1,001"
    assembling = refusal(
        lambda: kits_assemble(
            actor=op.actor,
            site_id=op.hub.pk,
            kit_item_id=op.kit_item.pk,
            quantity=100,
            assembled_on=DAY,
            grant_id=op.dfid.pk,
        )
    )
    assert assembling == (
        "Balakot hub has too few components of grant DFID-2005-07 for assembling 100 winterization kits "
        "charged to it: blankets: 200 of 300; steel buckets: 0 of 100 (kits of a grant are made of its own "
        "components)"
    )
    breaking = refusal(
        lambda: kits_break(
            actor=op.actor, site_id=op.hub.pk, kit_item_id=op.kit_item.pk, quantity=2, broken_on=DAY
        )
    )
    assert breaking == "Balakot hub has 0 winterization kits; breaking asks for 2"
    breaking_of_a_grant = refusal(
        lambda: kits_break(
            actor=op.actor,
            site_id=op.hub.pk,
            kit_item_id=op.kit_item.pk,
            quantity=2,
            broken_on=DAY,
            grant_id=op.dfid.pk,
        )
    )
    assert (
        breaking_of_a_grant
        == "Balakot hub has 0 winterization kits (grant DFID-2005-07); breaking asks for 2"
    )


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        pytest.param(
            SiteKind.OFFICE, "IOM Peshawar office is an office; it cannot hold stock", id="an-office"
        ),
        pytest.param(SiteKind.CAMP, "IOM Peshawar office is a camp; it cannot hold stock", id="a-camp"),
    ],
)
def test_a_site_that_cannot_hold_stock_is_named_with_its_kind_and_the_right_article(op, kind, said):
    site = SiteFactory(code="PSH-OFFICE", name="IOM Peshawar office", kind=kind, admin_area=op.area)
    before = snapshot()
    with pytest.raises(ServiceError) as caught:
        receive(op, site, op.blanket, 10, op.dfid, "GRN-PSH-1")
    assert caught.value.message == said
    assert snapshot() == before


def test_an_item_listed_twice_on_a_delivery_is_refused_for_that_alone(stocked):
    op = stocked
    waybill = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=150)],
        dispatched_on=DAY,
    ).waybill
    before = snapshot()
    # when the confirmation gives blankets twice, neither line with every blanket sent
    with pytest.raises(InvalidInput) as caught:
        waybill_confirm_delivery(
            actor=op.actor,
            waybill_id=waybill.pk,
            delivered_on=DAY,
            lines=[
                DeliveryLine(item_id=op.blanket.pk, received=100, damaged=2),
                DeliveryLine(item_id=op.blanket.pk, received=1),
            ],
        )
    # then only that is said: no reason is asked for blankets "missing" from either half
    assert [(p.row, p.field, p.reason) for p in caught.value.problems] == [
        (2, "item", "Blanket is listed twice")
    ]
    assert snapshot() == before
