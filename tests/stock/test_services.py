"""Stock operations: each posts balanced movements; each refusal changes nothing and says why."""

from __future__ import annotations

import datetime as dt
from unittest.mock import ANY

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from reliefops.core.errors import Conflict, InvalidInput, NotFound, ServiceError
from reliefops.core.models import AuditEvent
from reliefops.core.text import day_text
from reliefops.stock.models import (
    QUANTITY_MAX,
    LocationKind,
    Movement,
    MovementKind,
    MovementLine,
    PledgeStatus,
    Waybill,
    WaybillStatus,
)
from reliefops.stock.selectors import donor_report, pipeline, stock_card
from reliefops.stock.services import (
    CountLine,
    DeliveryLine,
    ReceiptLine,
    StockLine,
    kits_assemble,
    kits_break,
    movement_reverse,
    pledge_create,
    stock_count,
    stock_distribute,
    stock_handover_to_partner,
    stock_receive,
    stock_report_loss,
    waybill_confirm_delivery,
    waybill_dispatch,
)
from reliefops.stock.services.ledger import BalanceRefused, LineRequest, Posting, post
from reliefops.stock.services.locations import donor_location, site_location
from tests.stock.conftest import DAY, assert_ledger_sound, on_hand, receive, snapshot


def dispatch(op, quantity, item=None, grant=None, key=None, src=None, dst=None):
    return waybill_dispatch(
        actor=op.actor,
        from_site_id=(src or op.warehouse).pk,
        to_site_id=(dst or op.hub).pk,
        lines=[
            StockLine(
                item_id=(item or op.blanket).pk, quantity=quantity, grant_id=grant.pk if grant else None
            )
        ],
        dispatched_on=DAY,
        expected_on=DAY + dt.timedelta(days=2),
        transport="helicopter",
        vehicle="MI-17 sortie 4",
        idempotency_key=key,
    )


def test_receipt_moves_stock_from_donor_pipeline_into_the_warehouse(op):
    # when 500 blankets of DFID arrive
    result = receive(op, op.warehouse, op.blanket, 500, op.dfid, "GRN-001")
    # then the warehouse holds them, the movement is a receipt with the GRN, and the ledger balances
    assert on_hand(op.warehouse, op.blanket, op.dfid) == 500
    assert result.movement.kind == MovementKind.RECEIPT
    assert result.movement.reference == "GRN-001"
    event = AuditEvent.objects.get(action="stock.receipt", object_id=str(result.movement.pk))
    assert event.after["reference"] == "GRN-001"
    assert event.after["lines"] == [[op.blanket.pk, op.dfid.pk, 500, ANY, ANY]]
    assert event.actor == op.actor
    assert event.at is not None
    assert_ledger_sound()


def test_receipt_in_packs_counts_base_units(op):
    op.blanket.pack_sizes.create(name="bale", quantity=10)
    stock_receive(
        actor=op.actor,
        site_id=op.warehouse.pk,
        grant_id=op.dfid.pk,
        grn_number="GRN-P",
        received_on=DAY,
        lines=[ReceiptLine(item_id=op.blanket.pk, packs=12, pack="bale")],
    )
    assert on_hand(op.warehouse, op.blanket) == 120


def test_receipt_against_pledge_closes_it(op):
    pledge = pledge_create(
        actor=op.actor,
        grant_id=op.dfid.pk,
        item_id=op.blanket.pk,
        quantity=100,
        destination_site_id=op.warehouse.pk,
        expected_on=DAY,
    )
    stock_receive(
        actor=op.actor,
        site_id=op.warehouse.pk,
        grant_id=op.dfid.pk,
        grn_number="GRN-2",
        received_on=DAY,
        pledge_id=pledge.pk,
        lines=[ReceiptLine(item_id=op.blanket.pk, quantity=100)],
    )
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.RECEIVED
    assert pledge.received_quantity == 100


def test_dispatch_and_full_delivery(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    # when 60 are dispatched
    waybill = dispatch(op, 60).waybill
    # then they are in transit, not at either site
    assert on_hand(op.warehouse, op.blanket) == 40
    assert on_hand(op.hub, op.blanket) == 0
    assert waybill.status == WaybillStatus.IN_TRANSIT
    assert waybill.number.startswith("WB-")
    # when the hub confirms all 60
    waybill_confirm_delivery(
        actor=op.actor,
        waybill_id=waybill.pk,
        delivered_on=DAY + dt.timedelta(days=1),
        lines=[DeliveryLine(item_id=op.blanket.pk, received=60)],
    )
    waybill.refresh_from_db()
    assert waybill.status == WaybillStatus.DELIVERED
    assert on_hand(op.hub, op.blanket, op.dfid) == 60
    assert_ledger_sound()


def test_short_and_damaged_delivery_goes_to_loss_with_reasons(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    waybill = dispatch(op, 100).waybill
    result = waybill_confirm_delivery(
        actor=op.actor,
        waybill_id=waybill.pk,
        delivered_on=DAY,
        lines=[
            DeliveryLine(
                item_id=op.blanket.pk,
                received=90,
                damaged=4,
                damage_reason="wet in rain",
                short_reason="bales missing at Garhi Habibullah",
            )
        ],
    )
    assert on_hand(op.hub, op.blanket) == 90
    lost = MovementLine.objects.filter(movement=result.movement, to_location__kind=LocationKind.LOSS)
    assert sorted((line.quantity, line.reason) for line in lost) == [
        (4, "wet in rain"),
        (6, "bales missing at Garhi Habibullah"),
    ]
    assert_ledger_sound()


def test_reasons_longer_than_the_ledger_keeps_are_refused_by_field(op):
    # given a delivery whose reasons are longer than a ledger line holds (PostgreSQL refused the
    # line with "value too long" and the request failed)
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    dispatched = dispatch(op, 100)
    waybill = dispatched.waybill
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        waybill_confirm_delivery(
            actor=op.actor,
            waybill_id=waybill.pk,
            delivered_on=DAY,
            lines=[
                DeliveryLine(
                    item_id=op.blanket.pk,
                    received=90,
                    damaged=4,
                    damage_reason="w" * 201,
                    short_reason="s" * 201,
                )
            ],
            excess_reason="e" * 182,
        )
    # then each is refused by its field, and nothing is written
    assert [(p.row, p.field, p.reason) for p in refused.value.problems] == [
        (None, "excess_reason", "longer than 181 characters; shorten it"),
        (1, "damage_reason", "longer than 200 characters; shorten it"),
        (1, "short_reason", "longer than 200 characters; shorten it"),
    ]
    assert snapshot() == before
    # and so is the reason of a reversal, which its lines keep after "reversal: "
    with pytest.raises(InvalidInput, match="longer than 190 characters"):
        movement_reverse(
            actor=op.actor, movement_id=dispatched.movement.pk, reason="r" * 191, reversed_on=DAY
        )
    assert snapshot() == before


def test_dispatch_takes_oldest_grant_first(op):
    receive(op, op.warehouse, op.blanket, 30, op.echo, "GRN-E", on=DAY - dt.timedelta(days=3))
    receive(op, op.warehouse, op.blanket, 50, op.dfid, "GRN-D", on=DAY)
    result = dispatch(op, 40)
    taken = sorted((line.grant.reference, line.quantity) for line in result.movement.lines.all())
    assert taken == [("DFID-2005-07", 10), ("ECHO-2005-01", 30)]
    assert_ledger_sound()


def test_named_grant_is_taken_even_if_newer(op):
    receive(op, op.warehouse, op.blanket, 30, op.echo, "GRN-E", on=DAY - dt.timedelta(days=3))
    receive(op, op.warehouse, op.blanket, 50, op.dfid, "GRN-D", on=DAY)
    dispatch(op, 20, grant=op.dfid)
    assert on_hand(op.warehouse, op.blanket, op.dfid) == 30
    assert on_hand(op.warehouse, op.blanket, op.echo) == 30


def test_distribution_handover_and_loss(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    stock_distribute(
        actor=op.actor,
        site_id=op.warehouse.pk,
        distributed_on=DAY,
        reference="DIST-1",
        lines=[StockLine(item_id=op.blanket.pk, quantity=50)],
    )
    stock_handover_to_partner(
        actor=op.actor,
        site_id=op.warehouse.pk,
        organisation_id=op.partner.pk,
        handed_on=DAY,
        lines=[StockLine(item_id=op.blanket.pk, quantity=20)],
    )
    stock_report_loss(
        actor=op.actor,
        site_id=op.warehouse.pk,
        reason="weather",
        note="gone from the store",
        occurred_on=DAY,
        lines=[StockLine(item_id=op.blanket.pk, quantity=5)],
    )
    report = {row.item_code: row for row in donor_report(grant_id=op.dfid.pk).rows}["BLANKET"]
    assert (report.received, report.distributed, report.handed_to_partners, report.lost, report.on_hand) == (
        100,
        50,
        20,
        5,
        25,
    )
    assert_ledger_sound()


def test_count_shortage_and_surplus(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.cgi, 10, op.dfid, "GRN-2")
    stock_count(
        actor=op.actor,
        site_id=op.warehouse.pk,
        counted_on=DAY,
        counts=[CountLine(item_id=op.blanket.pk, counted=97), CountLine(item_id=op.cgi.pk, counted=12)],
    )
    assert on_hand(op.warehouse, op.blanket) == 97
    assert on_hand(op.warehouse, op.cgi) == 12
    surplus = MovementLine.objects.get(item=op.cgi, movement__kind=MovementKind.COUNT)
    assert surplus.grant.reference == "UNATTRIBUTED"
    assert_ledger_sound()


def test_count_listing_an_item_twice_is_refused(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    before = snapshot()
    # when a count sheet gives two figures for blankets
    with pytest.raises(InvalidInput) as excinfo:
        stock_count(
            actor=op.actor,
            site_id=op.warehouse.pk,
            counted_on=DAY,
            counts=[
                CountLine(item_id=op.blanket.pk, counted=1000),
                CountLine(item_id=op.cgi.pk, counted=5),
                CountLine(item_id=op.blanket.pk, counted=500),
            ],
        )
    # then it is refused on the second blanket line, and the balance is as it was
    assert [(p.row, p.field, p.reason) for p in excinfo.value.problems] == [
        (3, "item", "Blanket is listed twice")
    ]
    assert snapshot() == before
    assert on_hand(op.warehouse, op.blanket) == 100


def test_a_count_with_no_difference_posts_nothing_and_says_so(op):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    before = snapshot()
    # when a count finds what the site holds
    result = stock_count(
        actor=op.actor,
        site_id=op.warehouse.pk,
        counted_on=DAY,
        counts=[CountLine(item_id=op.blanket.pk, counted=10)],
    )
    # then no movement is posted (not an empty one), and the answer says why
    assert result.movement is None
    assert result.message == "the count matches the stock held: nothing to post"
    assert snapshot() == before
    assert not Movement.objects.filter(kind=MovementKind.COUNT).exists()
    assert on_hand(op.warehouse, op.blanket) == 10


def test_kitting_assembles_and_breaks_with_the_components_grant(op):
    receive(op, op.warehouse, op.blanket, 30, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.bucket, 10, op.dfid, "GRN-2")
    kits_assemble(
        actor=op.actor, site_id=op.warehouse.pk, kit_item_id=op.kit_item.pk, quantity=8, assembled_on=DAY
    )
    assert on_hand(op.warehouse, op.kit_item, op.dfid) == 8
    assert on_hand(op.warehouse, op.blanket) == 6
    assert on_hand(op.warehouse, op.bucket) == 2
    kits_break(actor=op.actor, site_id=op.warehouse.pk, kit_item_id=op.kit_item.pk, quantity=2, broken_on=DAY)
    assert on_hand(op.warehouse, op.kit_item) == 6
    assert on_hand(op.warehouse, op.blanket, op.dfid) == 12
    assert_ledger_sound()


def _assemble(op, quantity, grant=None, site=None):
    return kits_assemble(
        actor=op.actor,
        site_id=(site or op.warehouse).pk,
        kit_item_id=op.kit_item.pk,
        quantity=quantity,
        assembled_on=DAY,
        grant_id=grant.pk if grant else None,
    )


def test_kits_are_never_made_of_two_grants_components(op):
    # given blankets of DFID and a bucket of ECHO: no whole kit of one grant
    receive(op, op.warehouse, op.blanket, 3, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.bucket, 1, op.echo, "GRN-2")
    before = snapshot()
    # when a kit is assembled without a grant, or charged to either, then it is refused, and what each
    # grant lacks is named
    with pytest.raises(BalanceRefused) as unnamed:
        _assemble(op, 1)
    assert unnamed.value.message == (
        "Islamabad warehouse has the components of 0 winterization kits, not 1: a kit is made of one "
        "grant's components; DFID-2005-07's make 0 (too few steel buckets for more); "
        "ECHO-2005-01's make 0 (too few blankets for more)"
    )
    with pytest.raises(BalanceRefused) as of_echo:
        _assemble(op, 1, grant=op.echo)
    assert of_echo.value.message == (
        "Islamabad warehouse has too few components of grant ECHO-2005-01 for assembling 1 winterization "
        "kit charged to it: blankets: 0 of 3 (kits of a grant are made of its own components)"
    )
    with pytest.raises(BalanceRefused, match=r"grant DFID-2005-07 .* steel bucket: 0 of 1 "):
        _assemble(op, 1, grant=op.dfid)
    assert snapshot() == before


def test_kits_charged_to_a_grant_take_its_own_components_even_when_another_s_are_older(op):
    # given ECHO's blankets, older, and DFID's blankets and buckets
    receive(op, op.warehouse, op.blanket, 600, op.echo, "GRN-1", on=DAY - dt.timedelta(days=5))
    receive(op, op.warehouse, op.blanket, 600, op.dfid, "GRN-2")
    receive(op, op.warehouse, op.bucket, 200, op.dfid, "GRN-3")
    # when 200 kits are assembled for DFID
    _assemble(op, 200, grant=op.dfid)
    # then they take DFID's blankets, and ECHO's stay for ECHO's report
    assert on_hand(op.warehouse, op.kit_item, op.dfid) == 200
    assert on_hand(op.warehouse, op.blanket, op.echo) == 600
    assert on_hand(op.warehouse, op.blanket, op.dfid) == 0
    assert donor_report(grant_id=op.echo.pk).rows[0].on_hand == 600
    assert_ledger_sound()


def test_kits_without_a_grant_are_made_grant_by_grant_oldest_first(op):
    # given components of 2 kits of ECHO (older) and of 3 of DFID
    receive(op, op.warehouse, op.blanket, 6, op.echo, "GRN-1", on=DAY - dt.timedelta(days=5))
    receive(op, op.warehouse, op.bucket, 2, op.echo, "GRN-2", on=DAY - dt.timedelta(days=5))
    receive(op, op.warehouse, op.blanket, 9, op.dfid, "GRN-3")
    receive(op, op.warehouse, op.bucket, 3, op.dfid, "GRN-4")
    # when 4 kits are assembled without naming a grant
    _assemble(op, 4)
    # then ECHO's components make 2 of ECHO, and DFID's the other 2 of DFID
    assert on_hand(op.warehouse, op.kit_item, op.echo) == 2
    assert on_hand(op.warehouse, op.kit_item, op.dfid) == 2
    assert (on_hand(op.warehouse, op.blanket, op.echo), on_hand(op.warehouse, op.bucket, op.echo)) == (0, 0)
    assert (on_hand(op.warehouse, op.blanket, op.dfid), on_hand(op.warehouse, op.bucket, op.dfid)) == (3, 1)
    # and more than they make is refused, with what each grant's make
    before = snapshot()
    with pytest.raises(BalanceRefused) as excinfo:
        _assemble(op, 2)
    assert excinfo.value.message == (
        "Islamabad warehouse has the components of 1 winterization kit, not 2: a kit is made of one "
        "grant's components; DFID-2005-07's make 1 (too few blankets for more)"
    )
    assert snapshot() == before
    assert_ledger_sound()


def test_reversal_undoes_a_distribution_and_points_at_it(op):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    original = stock_distribute(
        actor=op.actor,
        site_id=op.warehouse.pk,
        distributed_on=DAY,
        lines=[StockLine(item_id=op.blanket.pk, quantity=4)],
    ).movement
    reversal = movement_reverse(
        actor=op.actor, movement_id=original.pk, reason="entered at wrong site", reversed_on=DAY
    ).movement
    assert reversal.reverses_id == original.pk
    assert on_hand(op.warehouse, op.blanket) == 10
    assert_ledger_sound()


def test_reversing_a_dispatch_cancels_the_waybill(op):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    result = dispatch(op, 10)
    movement_reverse(
        actor=op.actor, movement_id=result.movement.pk, reason="truck broke down", reversed_on=DAY
    )
    result.waybill.refresh_from_db()
    assert result.waybill.status == WaybillStatus.CANCELLED
    assert on_hand(op.warehouse, op.blanket) == 10


def test_stock_card_shows_opening_in_out_closing(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1", on=DAY)
    receive(op, op.warehouse, op.blanket, 50, op.dfid, "GRN-2", on=DAY + dt.timedelta(days=5))
    stock_distribute(
        actor=op.actor,
        site_id=op.warehouse.pk,
        distributed_on=DAY + dt.timedelta(days=6),
        lines=[StockLine(item_id=op.blanket.pk, quantity=30)],
    )
    card = stock_card(
        site_id=op.warehouse.pk,
        item_id=op.blanket.pk,
        start=DAY + dt.timedelta(days=1),
        end=DAY + dt.timedelta(days=10),
    )
    assert (card.opening, card.total_in, card.total_out, card.closing) == (100, 50, 30, 120)
    assert [line.balance for line in card.lines] == [150, 120]


# --- idempotency -------------------------------------------------------------------------------


def test_repeated_receipt_key_returns_first_result_and_changes_nothing(op):
    first = stock_receive(
        actor=op.actor,
        site_id=op.warehouse.pk,
        grant_id=op.dfid.pk,
        grn_number="GRN-9",
        received_on=DAY,
        lines=[ReceiptLine(item_id=op.blanket.pk, quantity=5)],
        idempotency_key="abc-1",
    )
    before = snapshot()
    again = stock_receive(
        actor=op.actor,
        site_id=op.warehouse.pk,
        grant_id=op.dfid.pk,
        grn_number="GRN-9",
        received_on=DAY,
        lines=[ReceiptLine(item_id=op.blanket.pk, quantity=5)],
        idempotency_key="abc-1",
    )
    assert again.replayed
    assert again.movement.pk == first.movement.pk
    assert "nothing changed" in again.message
    assert snapshot() == before


def test_repeated_dispatch_key_returns_the_same_waybill(op):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    first = dispatch(op, 4, key="wb-key")
    again = dispatch(op, 4, key="wb-key")
    assert again.replayed
    assert again.waybill.pk == first.waybill.pk
    assert on_hand(op.warehouse, op.blanket) == 6


def test_key_reused_for_another_operation_is_refused(op):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    dispatch(op, 4, key="k")
    with pytest.raises(Conflict, match="was used for a dispatch"):
        stock_distribute(
            actor=op.actor,
            site_id=op.warehouse.pk,
            distributed_on=DAY,
            idempotency_key="k",
            lines=[StockLine(item_id=op.blanket.pk, quantity=1)],
        )


# --- refusals: each leaves the database unchanged and says why -----------------------------------


def _refusals(op):
    """(id, callable, expected error type, message fragment) for every refusal the ledger knows."""
    blanket = op.blanket.pk

    def distribute(quantity, item=blanket, site=None):
        return lambda: stock_distribute(
            actor=op.actor,
            site_id=(site or op.warehouse).pk,
            distributed_on=DAY,
            lines=[StockLine(item_id=item, quantity=quantity)],
        )

    return [
        ("unknown-item", distribute(1, item=999_999), InvalidInput, "unknown item 999999"),
        ("zero-quantity", distribute(0), InvalidInput, "must be more than zero"),
        ("negative-quantity", distribute(-5), InvalidInput, "must be more than zero"),
        ("fractional-quantity", distribute(1.5), InvalidInput, "must be a whole number"),
        (
            "overdraw",
            lambda: dispatch(op, 55, grant=op.dfid),
            ServiceError,
            "Islamabad warehouse has 40 blankets (grant DFID-2005-07); this dispatch asks for 55",
        ),
        (
            "overdraw-fifo",
            distribute(41),
            ServiceError,
            "Islamabad warehouse has 40 blankets; this distribution asks for 41",
        ),
        ("camp-holds-no-stock", distribute(1, site=op.camp), ServiceError, "cannot hold stock"),
        (
            "duplicate-grn",
            lambda: receive(op, op.warehouse, op.blanket, 1, op.dfid, "GRN-1"),
            Conflict,
            "GRN GRN-1 was posted as receipt #",
        ),
        (
            "unknown-grant",
            lambda: stock_receive(
                actor=op.actor,
                site_id=op.warehouse.pk,
                grant_id=999_999,
                grn_number="GRN-X",
                received_on=DAY,
                lines=[ReceiptLine(item_id=blanket, quantity=1)],
            ),
            NotFound,
            "no grant 999999",
        ),
        (
            "unknown-pack",
            lambda: stock_receive(
                actor=op.actor,
                site_id=op.warehouse.pk,
                grant_id=op.dfid.pk,
                grn_number="GRN-Y",
                received_on=DAY,
                lines=[ReceiptLine(item_id=blanket, packs=2, pack="crate")],
            ),
            InvalidInput,
            "unknown pack 'crate'",
        ),
        (
            "loss-reason",
            lambda: stock_report_loss(
                actor=op.actor,
                site_id=op.warehouse.pk,
                reason="lost",
                note="gone from the store",
                occurred_on=DAY,
                lines=[StockLine(item_id=blanket, quantity=1)],
            ),
            InvalidInput,
            "reason: must be one of",
        ),
        (
            "dispatch-to-same-site",
            lambda: dispatch(op, 1, dst=op.warehouse),
            InvalidInput,
            "a waybill goes to another site",
        ),
        (
            "negative-count",
            lambda: stock_count(
                actor=op.actor,
                site_id=op.warehouse.pk,
                counted_on=DAY,
                counts=[CountLine(item_id=blanket, counted=-1)],
            ),
            InvalidInput,
            "zero or more",
        ),
    ]


REFUSAL_IDS = [
    "unknown-item",
    "zero-quantity",
    "negative-quantity",
    "fractional-quantity",
    "overdraw",
    "overdraw-fifo",
    "camp-holds-no-stock",
    "duplicate-grn",
    "unknown-grant",
    "unknown-pack",
    "loss-reason",
    "dispatch-to-same-site",
    "negative-count",
]


@pytest.mark.parametrize("case", REFUSAL_IDS)
def test_refusal_changes_nothing_and_says_why(op, case):
    # given 40 blankets of DFID at the warehouse
    receive(op, op.warehouse, op.blanket, 40, op.dfid, "GRN-1")
    refusals = {name: (call, error, fragment) for name, call, error, fragment in _refusals(op)}
    call, error, fragment = refusals[case]
    before = snapshot()
    # when the operation is refused
    with pytest.raises(error) as excinfo:
        call()
    # then it says why and nothing changed
    assert fragment in str(excinfo.value)
    assert snapshot() == before


def test_every_refusal_case_is_parametrized(op):
    assert [name for name, *_ in _refusals(op)] == REFUSAL_IDS


def _dispatched(op, quantity=10):
    receive(op, op.warehouse, op.blanket, quantity, op.dfid, "GRN-1")
    return dispatch(op, quantity).waybill


def test_confirming_a_waybill_twice_is_refused(op):
    waybill = _dispatched(op)
    waybill_confirm_delivery(
        actor=op.actor,
        waybill_id=waybill.pk,
        delivered_on=DAY,
        lines=[DeliveryLine(item_id=op.blanket.pk, received=10)],
    )
    before = snapshot()
    with pytest.raises(Conflict, match="already confirmed"):
        waybill_confirm_delivery(
            actor=op.actor,
            waybill_id=waybill.pk,
            delivered_on=DAY,
            lines=[DeliveryLine(item_id=op.blanket.pk, received=10)],
        )
    assert snapshot() == before


def test_double_submitted_confirmation_with_one_key_posts_once(op):
    waybill = _dispatched(op)
    args = {
        "actor": op.actor,
        "waybill_id": waybill.pk,
        "delivered_on": DAY,
        "idempotency_key": "grn-77",
        "lines": [DeliveryLine(item_id=op.blanket.pk, received=10)],
    }
    first = waybill_confirm_delivery(**args)
    again = waybill_confirm_delivery(**args)
    assert again.replayed
    assert again.movement.pk == first.movement.pk
    assert Movement.objects.filter(kind=MovementKind.DELIVERY).count() == 1


@pytest.mark.parametrize(
    ("lines", "excess_reason", "fragment"),
    [
        pytest.param([(12, 0, "", "")], "", "12 blankets confirmed but 10 were sent", id="more-than-sent"),
        pytest.param([(8, 0, "", "")], "", "say why 2 blankets are missing", id="short-without-reason"),
        pytest.param([(8, 2, "", "")], "", "say why 2 blankets were damaged", id="damage-without-reason"),
        pytest.param([], "", "is not confirmed", id="item-missing"),
        pytest.param([(-1, 0, "", "")], "", "zero or more", id="negative-received"),
    ],
)
def test_bad_confirmation_is_refused(op, lines, excess_reason, fragment):
    waybill = _dispatched(op)
    before = snapshot()
    with pytest.raises(InvalidInput) as excinfo:
        waybill_confirm_delivery(
            actor=op.actor,
            waybill_id=waybill.pk,
            delivered_on=DAY,
            excess_reason=excess_reason,
            lines=[
                DeliveryLine(item_id=op.blanket.pk, received=r, damaged=d, damage_reason=dr, short_reason=sr)
                for r, d, dr, sr in lines
            ],
        )
    assert fragment in str(excinfo.value)
    assert snapshot() == before


def test_excess_with_a_reason_enters_as_unattributed_stock(op):
    waybill = _dispatched(op)
    waybill_confirm_delivery(
        actor=op.actor,
        waybill_id=waybill.pk,
        delivered_on=DAY,
        excess_reason="extra bale",
        lines=[DeliveryLine(item_id=op.blanket.pk, received=12)],
    )
    assert on_hand(op.hub, op.blanket) == 12
    assert on_hand(op.hub, op.blanket, op.dfid) == 10
    assert_ledger_sound()


def test_editing_a_posted_movement_is_refused_by_the_database(op):
    movement = receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1").movement
    line = movement.lines.get()
    line.quantity = 1000
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        line.save()
    movement.note = "changed"
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        movement.save()
    line.refresh_from_db()
    assert line.quantity == 10


def test_a_movement_is_reversed_only_once(op):
    movement = receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1").movement
    reversal = movement_reverse(
        actor=op.actor, movement_id=movement.pk, reason="wrong grant", reversed_on=DAY
    )
    before = snapshot()
    with pytest.raises(Conflict, match="already reversed"):
        movement_reverse(actor=op.actor, movement_id=movement.pk, reason="again", reversed_on=DAY)
    with pytest.raises(Conflict, match="is a reversal"):
        movement_reverse(actor=op.actor, movement_id=reversal.movement.pk, reason="undo", reversed_on=DAY)
    assert snapshot() == before


def test_reversing_a_receipt_whose_stock_has_left_is_refused(op):
    movement = receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1").movement
    dispatch(op, 6)
    before = snapshot()
    with pytest.raises(ServiceError, match="Islamabad warehouse has 4 blankets"):
        movement_reverse(actor=op.actor, movement_id=movement.pk, reason="wrong", reversed_on=DAY)
    assert snapshot() == before


def test_database_check_refuses_a_negative_physical_balance(op):
    receive(op, op.warehouse, op.blanket, 5, op.dfid, "GRN-1")
    from reliefops.stock.models import Balance

    balance = Balance.objects.get(location__site=op.warehouse, item=op.blanket)
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.filter(pk=balance.pk).update(quantity=-1)


@pytest.mark.parametrize(
    ("name", "quantity", "expected"),
    [
        ("Blanket, winter", 691, "blankets, winter"),
        ("Tent, family (standard)", 499, "tents, family (standard)"),
        ("CGI sheet (corrugated galvanised iron)", 5, "CGI sheets (corrugated galvanised iron)"),
        ("Blanket", 1, "blanket"),
        ("Kitchen set, family", 3, "kitchen sets, family"),
        ("Nails, assorted", 2, "nails, assorted"),
        (
            "Winterization kit for families above 2,500 metres",
            200,
            "winterization kits for families above 2,500 metres",
        ),
        ("Box of matches", 2, "boxes of matches"),
    ],
)
def test_refusals_name_items_in_plain_words(name, quantity, expected):
    from reliefops.stock.services.ledger import plural

    assert plural(name, quantity) == expected


def test_repeated_pledge_key_returns_the_first_pledge(op):
    args = {
        "actor": op.actor,
        "grant_id": op.dfid.pk,
        "item_id": op.blanket.pk,
        "quantity": 100,
        "destination_site_id": op.warehouse.pk,
        "expected_on": DAY,
        "idempotency_key": "pledge-1",
    }
    first = pledge_create(**args)
    again = pledge_create(**args)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.pk == first.pk
    from reliefops.stock.models import Pledge

    assert Pledge.objects.count() == 1


# --- quantities beyond what a line or a balance may hold ------------------------------------------

TOO_MANY = QUANTITY_MAX + 1
INT64_MAX = 2**63 - 1


def _receipt_lines(op, **line):
    return lambda: stock_receive(
        actor=op.actor,
        site_id=op.warehouse.pk,
        grant_id=op.dfid.pk,
        grn_number="GRN-BIG",
        received_on=DAY,
        lines=[ReceiptLine(item_id=op.blanket.pk, **line)],
    )


@pytest.mark.parametrize(
    ("post", "problem"),
    [
        pytest.param(
            lambda op, waybill: _receipt_lines(op, quantity=INT64_MAX)(),
            (1, "quantity", f"must be at most 1,000,000,000,000, not {INT64_MAX:,}"),
            id="receipt-quantity",
        ),
        pytest.param(
            lambda op, waybill: _receipt_lines(op, packs=2**62, pack="bale")(),
            (1, "packs", f"must be at most 1,000,000,000,000, not {2**62:,}"),
            id="receipt-packs",
        ),
        pytest.param(
            lambda op, waybill: _receipt_lines(op, packs=QUANTITY_MAX, pack="bale")(),
            (
                1,
                "packs",
                "1,000,000,000,000 packs of 10 make 10,000,000,000,000; a line moves at most "
                "1,000,000,000,000",
            ),
            id="receipt-packs-times-pack-size",
        ),
        pytest.param(
            lambda op, waybill: waybill_confirm_delivery(
                actor=op.actor,
                waybill_id=waybill.pk,
                delivered_on=DAY,
                excess_reason="a second truck",
                lines=[DeliveryLine(item_id=op.blanket.pk, received=INT64_MAX)],
            ),
            (1, "received", f"must be at most 1,000,000,000,000, not {INT64_MAX:,}"),
            id="delivery-received",
        ),
        pytest.param(
            lambda op, waybill: stock_count(
                actor=op.actor,
                site_id=op.warehouse.pk,
                counted_on=DAY,
                counts=[CountLine(item_id=op.blanket.pk, counted=TOO_MANY)],
            ),
            (1, "counted", "must be at most 1,000,000,000,000, not 1,000,000,000,001"),
            id="count",
        ),
        pytest.param(
            lambda op, waybill: kits_assemble(
                actor=op.actor,
                site_id=op.warehouse.pk,
                kit_item_id=op.kit_item.pk,
                quantity=QUANTITY_MAX // 2,
                assembled_on=DAY,
            ),
            (
                None,
                "quantity",
                "500,000,000,000 kits hold 1,500,000,000,000 blankets; a line moves at most "
                "1,000,000,000,000",
            ),
            id="kit-components",
        ),
        pytest.param(
            lambda op, waybill: pledge_create(
                actor=op.actor,
                grant_id=op.dfid.pk,
                item_id=op.blanket.pk,
                quantity=INT64_MAX,
                destination_site_id=op.warehouse.pk,
                expected_on=DAY,
            ),
            (None, "quantity", f"must be at most 1,000,000,000,000, not {INT64_MAX:,}"),
            id="pledge",
        ),
    ],
)
def test_a_quantity_beyond_what_a_line_moves_is_refused_by_its_line_and_field(op, post, problem):
    op.blanket.pack_sizes.create(name="bale", quantity=10)
    waybill = _dispatched(op)
    receive(op, op.warehouse, op.blanket, 3, op.dfid, "GRN-2")
    receive(op, op.warehouse, op.bucket, 1, op.dfid, "GRN-3")
    before = snapshot()
    with pytest.raises(InvalidInput) as excinfo:
        post(op, waybill)
    assert [(p.row, p.field, p.reason) for p in excinfo.value.problems] == [problem]
    assert snapshot() == before
    assert_ledger_sound()


def test_a_balance_beyond_what_it_may_hold_is_refused_naming_the_site_and_item(op):
    # given the most a balance may hold
    receive(op, op.warehouse, op.blanket, QUANTITY_MAX, op.dfid, "GRN-1")
    before = snapshot()
    # when 5 more arrive
    with pytest.raises(ServiceError) as excinfo:
        receive(op, op.warehouse, op.blanket, 5, op.dfid, "GRN-2")
    # then the receipt is refused, and nothing is written
    assert excinfo.value.message == (
        "Islamabad warehouse would hold 1,000,000,000,005 blankets (grant DFID-2005-07) after this receipt; "
        "a balance holds at most 1,000,000,000,000"
    )
    assert snapshot() == before
    assert on_hand(op.warehouse, op.blanket) == QUANTITY_MAX
    assert_ledger_sound()


def test_a_lot_or_pledge_reference_longer_than_its_column_is_refused(op):
    before = snapshot()
    with pytest.raises(InvalidInput) as excinfo:
        stock_receive(
            actor=op.actor,
            site_id=op.warehouse.pk,
            grant_id=op.dfid.pk,
            grn_number="GRN-LOT",
            received_on=DAY,
            lines=[ReceiptLine(item_id=op.blanket.pk, quantity=5, lot="L" * 65)],
        )
    assert [str(p) for p in excinfo.value.problems] == ["line 1, lot: longer than 64 characters; shorten it"]
    with pytest.raises(InvalidInput) as excinfo:
        pledge_create(
            actor=op.actor,
            grant_id=op.dfid.pk,
            item_id=op.blanket.pk,
            quantity=5,
            destination_site_id=op.warehouse.pk,
            expected_on=DAY,
            reference="R" * 65,
        )
    assert [str(p) for p in excinfo.value.problems] == ["reference: longer than 64 characters; shorten it"]
    assert snapshot() == before


def test_kitting_a_kit_with_a_long_name_keeps_its_reference_within_the_column(op):
    op.kit_item.name = "Winterization kit for families above 2,500 metres, with stove and fuel " + "x" * 40
    op.kit_item.save()
    receive(op, op.warehouse, op.blanket, 30, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.bucket, 10, op.dfid, "GRN-2")
    assembled = kits_assemble(
        actor=op.actor, site_id=op.warehouse.pk, kit_item_id=op.kit_item.pk, quantity=8, assembled_on=DAY
    ).movement
    broken = kits_break(
        actor=op.actor, site_id=op.warehouse.pk, kit_item_id=op.kit_item.pk, quantity=2, broken_on=DAY
    ).movement
    assembled.refresh_from_db()
    broken.refresh_from_db()
    assert assembled.reference == "assemble 8 winterization kits for families above 2,500 metres,…"
    assert broken.reference == "break 2 winterization kits for families above 2,500 metres, wit…"
    assert len(assembled.reference) <= 64
    assert len(broken.reference) == 64
    assert on_hand(op.warehouse, op.kit_item) == 6
    assert_ledger_sound()


@pytest.mark.parametrize("number", ["WB-0000002", "wb-0000002", "WB-12"])
def test_a_typed_waybill_number_of_the_automatic_form_is_refused(op, number):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    before = snapshot()
    with pytest.raises(InvalidInput) as excinfo:
        waybill_dispatch(
            actor=op.actor,
            from_site_id=op.warehouse.pk,
            to_site_id=op.hub.pk,
            lines=[StockLine(item_id=op.blanket.pk, quantity=5)],
            dispatched_on=DAY,
            number=number,
        )
    assert [(p.field, p.reason) for p in excinfo.value.problems] == [
        (
            "number",
            f"{number} is of the form reliefops gives waybills itself (WB-0000123): "
            "leave the number empty to be given one, or use your own series",
        )
    ]
    assert snapshot() == before


def test_automatic_waybill_numbers_skip_a_number_already_taken(op):
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    # given a waybill numbered automatically, and one typed by an earlier version with the next number
    # of the series in lower case
    first = dispatch(op, 1).waybill
    typed = dispatch(op, 1).waybill
    following = f"WB-{int(first.number[3:]) + 1:07d}"
    Waybill.objects.filter(pk=typed.pk).update(number=following.lower())
    # when another waybill is numbered automatically
    third = dispatch(op, 2).waybill
    # then it takes the number after the one taken
    assert third.number == f"WB-{int(first.number[3:]) + 2:07d}"
    assert on_hand(op.warehouse, op.blanket) == 6
    assert_ledger_sound()


def _pledged(op, quantity=100):
    return pledge_create(
        actor=op.actor,
        grant_id=op.dfid.pk,
        item_id=op.blanket.pk,
        quantity=quantity,
        destination_site_id=op.warehouse.pk,
        expected_on=DAY,
    )


def _receive_pledged(op, pledge, quantity, grn):
    return stock_receive(
        actor=op.actor,
        site_id=op.warehouse.pk,
        grant_id=op.dfid.pk,
        grn_number=grn,
        received_on=DAY,
        pledge_id=pledge.pk,
        lines=[ReceiptLine(item_id=op.blanket.pk, quantity=quantity)],
    ).movement


def test_reversing_a_receipt_reopens_its_pledge_in_the_pipeline(op):
    # given a pledge of 100 blankets received in two receipts of 60 and 40
    pledge = _pledged(op)
    _receive_pledged(op, pledge, 60, "GRN-1")
    second = _receive_pledged(op, pledge, 40, "GRN-2")
    pledge.refresh_from_db()
    assert (pledge.status, pledge.received_quantity) == (PledgeStatus.RECEIVED, 100)
    # when the second receipt is reversed
    movement_reverse(actor=op.actor, movement_id=second.pk, reason="wrong grant", reversed_on=DAY)
    # then the pledge is open again, with the 40 blankets still to come in the pipeline
    pledge.refresh_from_db()
    assert (pledge.status, pledge.received_quantity) == (PledgeStatus.OPEN, 60)
    assert [(p.pk, p.quantity - p.received_quantity) for p in pipeline(today=DAY).pledges] == [
        (pledge.pk, 40)
    ]
    assert_ledger_sound()


def test_reversing_a_receipt_posted_before_receipts_kept_their_pledge_reopens_it(op):
    # given a receipt whose pledge only its audit record names, as receipts were once posted
    pledge = _pledged(op, 10)
    with transaction.atomic():
        from reliefops.stock.services.pledges import pledge_receive

        pledge_receive(pledge, 10)
        old = post(
            Posting(
                kind=MovementKind.RECEIPT,
                occurred_on=DAY,
                reference="GRN-OLD",
                site_id=op.warehouse.pk,
                lines=[
                    LineRequest(
                        item_id=op.blanket.pk,
                        quantity=10,
                        from_location=donor_location(op.dfid),
                        to_location=site_location(op.warehouse.pk),
                        grant_id=op.dfid.pk,
                    )
                ],
                audit_extra={"pledge_id": pledge.pk},
            )
        )
    assert old.pledge_id is None
    # when it is reversed, then its pledge is open again
    movement_reverse(actor=op.actor, movement_id=old.pk, reason="wrong site", reversed_on=DAY)
    pledge.refresh_from_db()
    assert (pledge.status, pledge.received_quantity) == (PledgeStatus.OPEN, 0)


def test_the_grn_of_a_reversed_receipt_stays_with_it_and_the_refusal_says_what_to_do(op):
    first = receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-BLK-0412").movement
    reversal = movement_reverse(
        actor=op.actor, movement_id=first.pk, reason="received at the wrong hub", reversed_on=DAY
    ).movement
    before = snapshot()
    with pytest.raises(Conflict) as excinfo:
        receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-BLK-0412")
    posted_on = day_text(timezone.localdate(first.posted_at))
    assert excinfo.value.message == (
        f"GRN GRN-BLK-0412 was posted as receipt #{first.pk} on {posted_on}, "
        f"reversed by #{reversal.pk}; a GRN stays with its receipt: post the correction under a new number, "
        "e.g. GRN-BLK-0412/2"
    )
    assert snapshot() == before
    receive(op, op.hub, op.blanket, 10, op.dfid, "GRN-BLK-0412/2")
    assert on_hand(op.hub, op.blanket) == 10
    assert on_hand(op.warehouse, op.blanket) == 0


# --- a refusal lists every problem of the request at once ----------------------------------------------


def _problems(call) -> list[tuple]:
    before = snapshot()
    with pytest.raises(InvalidInput) as excinfo:
        call()
    assert snapshot() == before
    return [(p.row, p.field, p.reason) for p in excinfo.value.problems]


def test_a_count_lists_an_unknown_item_and_a_bad_count_on_other_lines(op):
    # when a count names an item that does not exist on line 1 and counts -1 on line 2
    problems = _problems(
        lambda: stock_count(
            actor=op.actor,
            site_id=op.warehouse.pk,
            counted_on=DAY,
            counts=[CountLine(item_id=999_999, counted=5), CountLine(item_id=op.blanket.pk, counted=-1)],
        )
    )
    # then both are refused together, by line and field
    assert problems == [
        (1, "item", "unknown item 999999"),
        (2, "counted", "must be a whole number of zero or more, not -1"),
    ]


def test_a_receipt_lists_its_grn_and_its_lines_problems_together(op):
    problems = _problems(
        lambda: stock_receive(
            actor=op.actor,
            site_id=op.warehouse.pk,
            grant_id=op.dfid.pk,
            grn_number="",
            received_on=DAY,
            lines=[ReceiptLine(item_id=op.blanket.pk, quantity=0), ReceiptLine(item_id=999_999, quantity=3)],
        )
    )
    assert problems == [
        (None, "grn_number", "a goods received note number is required"),
        (1, "quantity", "must be more than zero, not 0"),
        (2, "item", "unknown item 999999"),
    ]


def test_a_dispatch_lists_its_own_and_its_lines_problems_together(op):
    receive(op, op.warehouse, op.blanket, 40, op.dfid, "GRN-1")
    problems = _problems(
        lambda: waybill_dispatch(
            actor=op.actor,
            from_site_id=op.warehouse.pk,
            to_site_id=op.hub.pk,
            lines=[StockLine(item_id=999_999, quantity=1), StockLine(item_id=op.blanket.pk, quantity=0)],
            dispatched_on=DAY,
            transport="camel",
        )
    )
    assert problems == [
        (None, "transport", "must be one of truck, helicopter, jeep, mule, other"),
        (1, "item", "unknown item 999999"),
        (2, "quantity", "must be more than zero, not 0"),
    ]


def test_a_loss_lists_its_reason_and_its_lines_problems_together(op):
    problems = _problems(
        lambda: stock_report_loss(
            actor=op.actor,
            site_id=op.warehouse.pk,
            reason="rats",
            note="gone from the store",
            occurred_on=DAY,
            lines=[StockLine(item_id=op.blanket.pk, quantity=0), StockLine(item_id=999_999, quantity=1)],
        )
    )
    assert problems == [
        (None, "reason", "must be one of theft, weather, spoilage, damage, other"),
        (1, "quantity", "must be more than zero, not 0"),
        (2, "item", "unknown item 999999"),
    ]


def test_a_confirmation_lists_an_excess_and_a_missing_reason_on_other_lines(op):
    # given a waybill of 10 blankets and 5 buckets
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.bucket, 5, op.dfid, "GRN-2")
    waybill = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=10), StockLine(item_id=op.bucket.pk, quantity=5)],
        dispatched_on=DAY,
    ).waybill
    # when 12 blankets are confirmed without a reason, and 2 buckets damaged without one
    problems = _problems(
        lambda: waybill_confirm_delivery(
            actor=op.actor,
            waybill_id=waybill.pk,
            delivered_on=DAY,
            lines=[
                DeliveryLine(item_id=op.blanket.pk, received=12),
                DeliveryLine(item_id=op.bucket.pk, received=3, damaged=2),
            ],
        )
    )
    # then both lines are refused together
    assert problems == [
        (1, "received", "12 blankets confirmed but 10 were sent; give a reason to accept the excess"),
        (2, "damage_reason", "say why 2 steel buckets were damaged"),
    ]
