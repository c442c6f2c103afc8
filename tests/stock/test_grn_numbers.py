"""A GRN is one number whatever the case of its letters, its spaces and its punctuation: the service
refuses a second receipt of it, and so does the database (migrations stock.0007 and 0011, tested here
too)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from reliefops.core.errors import Conflict, InvalidInput
from reliefops.core.text import day_text
from reliefops.stock.models import Movement, MovementKind, grn_key, waybill_key
from reliefops.stock.services import movement_reverse
from reliefops.stock.services.ledger import LineRequest, Posting, post
from reliefops.stock.services.locations import donor_location, site_location
from tests.stock.conftest import DAY, assert_ledger_sound, build_operation, on_hand, receive, snapshot


def _posted_on(movement: Movement) -> str:
    return day_text(timezone.localdate(movement.posted_at))


@pytest.mark.parametrize(
    "again",
    [
        pytest.param("grn-isb-9010", id="lower-case"),
        pytest.param("Grn-Isb-9010", id="mixed-case"),
        pytest.param(" GRN-ISB-9010 ", id="spaces-around"),
        pytest.param("GRN ISB 9010", id="spaces-for-dashes"),
        pytest.param("GRN/ISB/9010", id="slashes-for-dashes"),
        pytest.param("grn.isb-9010", id="dots-and-lower-case"),
        pytest.param("GRN-ISB9010", id="a-mark-left-out-between-letters-and-digits"),
        pytest.param("GRN-ISB-9010", id="the-same"),
    ],
)
def test_a_grn_posted_again_written_another_way_is_refused(op, again):
    # given a receipt of GRN-ISB-9010
    first = receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-ISB-9010").movement
    before = snapshot()
    # when the same number is posted again, written otherwise, without an idempotency key
    with pytest.raises(Conflict) as caught:
        receive(op, op.hub, op.blanket, 10, op.dfid, again)
    # then it is refused, naming the receipt that holds it, and nothing changes
    said = f"GRN GRN-ISB-9010 was posted as receipt #{first.pk} on {_posted_on(first)}"
    if again.strip() != "GRN-ISB-9010":
        said += f" ({again.strip()} is its number written another way)"
    assert caught.value.message == said
    assert snapshot() == before
    assert on_hand(op.hub, op.blanket) == 0


def test_a_grn_is_kept_without_the_spaces_around_it(op):
    movement = receive(op, op.warehouse, op.blanket, 10, op.dfid, "  GRN-ISB-9011 ").movement
    assert (movement.reference, movement.grn_key) == ("GRN-ISB-9011", "GRN ISB9011")
    lower = receive(op, op.warehouse, op.blanket, 10, op.dfid, "grn  isb 9012").movement
    assert (lower.reference, lower.grn_key) == ("grn isb 9012", "GRN ISB9012")


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("grn isb 9010", id="lower-case-and-spaces"),
        pytest.param("GRN/ISB/9010", id="slashes"),
        pytest.param(" GRN - ISB - 9010 ", id="spaced-dashes"),
        pytest.param("GRN_ISB_9010", id="underscores"),
    ],
)
def test_a_grn_is_compared_by_its_letters_and_digits_as_a_waybill_number_is(written):
    assert grn_key(written) == grn_key("GRN-ISB-9010") == "GRN ISB9010"
    assert grn_key(written) == waybill_key(written)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("12/3", "1/23", id="digits-grouped-otherwise"),
        pytest.param("GRN-ISB-9010", "GRN-ISB-90-10", id="one-group-more"),
        pytest.param("AB/12", "A/B12", id="letters-grouped-otherwise"),
    ],
)
def test_grns_whose_letters_and_digits_are_grouped_otherwise_are_two_numbers(op, first, second):
    assert grn_key(first) != grn_key(second)
    receive(op, op.warehouse, op.blanket, 10, op.dfid, first)
    assert receive(op, op.warehouse, op.blanket, 10, op.dfid, second).movement.reference == second


@pytest.mark.parametrize("typed", [pytest.param("///", id="slashes"), pytest.param("- -", id="dashes")])
def test_a_grn_of_no_letter_or_digit_is_refused(op, typed):
    # given nothing posted yet
    before = snapshot()
    # when a receipt names a GRN of marks alone, which could never be told from another
    with pytest.raises(InvalidInput) as caught:
        receive(op, op.warehouse, op.blanket, 10, op.dfid, typed)
    # then it is refused, saying why, and nothing changes
    assert [(p.field, p.reason) for p in caught.value.problems] == [
        ("grn_number", f"'{typed}' has no letter or digit; a goods received note number needs some")
    ]
    assert snapshot() == before


def test_the_grn_of_a_reversed_receipt_is_refused_written_another_way_too(op):
    first = receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-BLK-0412").movement
    reversal = movement_reverse(actor=op.actor, movement_id=first.pk, reason="wrong hub", reversed_on=DAY)
    with pytest.raises(Conflict) as caught:
        receive(op, op.hub, op.blanket, 10, op.dfid, "grn/blk/0412")
    assert caught.value.message == (
        f"GRN GRN-BLK-0412 was posted as receipt #{first.pk} on {_posted_on(first)} (grn/blk/0412 is its "
        f"number written another way), reversed by #{reversal.movement.pk}; a GRN stays with its receipt: "
        "post the correction under a new number, e.g. GRN-BLK-0412/2"
    )


def test_the_database_refuses_a_second_receipt_of_one_grn_key(op):
    # given a receipt of GRN-ISB-9010
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-ISB-9010")
    # when another is written past the service's check, with the same number as compared
    posting = Posting(
        kind=MovementKind.RECEIPT,
        occurred_on=DAY,
        reference="grn/isb/9010",
        grn_key=grn_key("grn/isb/9010"),
        site_id=op.hub.pk,
        lines=[
            LineRequest(
                item_id=op.blanket.pk,
                quantity=1,
                from_location=donor_location(op.dfid),
                to_location=site_location(op.hub.pk),
                grant_id=op.dfid.pk,
            )
        ],
    )
    # then the unique index refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        post(posting)
    assert Movement.objects.filter(kind=MovementKind.RECEIPT).count() == 1


def test_the_same_key_again_is_still_a_replay_not_a_refusal(op):
    first = receive_with_key(op, "GRN-ISB-9010", "retry-1")
    again = receive_with_key(op, "grn-isb-9010", "retry-1")
    assert again.replayed
    assert again.movement.pk == first.movement.pk


def receive_with_key(op, grn, key):
    from reliefops.stock.services import ReceiptLine, stock_receive

    return stock_receive(
        actor=op.actor,
        site_id=op.warehouse.pk,
        grant_id=op.dfid.pk,
        grn_number=grn,
        received_on=DAY,
        idempotency_key=key,
        lines=[ReceiptLine(item_id=op.blanket.pk, quantity=10)],
    )


# --- the migration that keys the receipts of an older database ----------------------------------------

BEFORE = [("stock", "0006_waybill_number_unique_any_case")]
AFTER = [("stock", "0007_receipt_grn_key")]


def _migrate(targets) -> str:
    out = io.StringIO()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    with redirect_stdout(out):
        executor.migrate(targets)
    return out.getvalue()


def _old_receipt(op, grn: str, site) -> int:
    """A receipt as an earlier version posted it: its number as typed, no key."""
    movement = post(
        Posting(
            kind=MovementKind.RECEIPT,
            occurred_on=DAY,
            reference=grn,
            site_id=site.pk,
            lines=[
                LineRequest(
                    item_id=op.blanket.pk,
                    quantity=5,
                    from_location=donor_location(op.dfid),
                    to_location=site_location(site.pk),
                    grant_id=op.dfid.pk,
                )
            ],
        )
    )
    return movement.pk


@pytest.mark.django_db(transaction=True)
def test_the_migration_keys_older_receipts_and_lists_those_whose_number_was_posted_before():
    op = build_operation()
    # given receipts an earlier version accepted: one GRN three times, in other cases and with spaces
    first = _old_receipt(op, "GRN-ISB-9010", op.warehouse)
    lower = _old_receipt(op, "grn-isb-9010", op.hub)
    spaced = _old_receipt(op, " GRN-ISB-9010 ", op.point)
    other = _old_receipt(op, "GRN-ISB-9011", op.hub)
    _migrate(BEFORE)
    try:
        # when the database is upgraded
        said = _migrate(AFTER)
        keys = dict(Movement.objects.values_list("pk", "grn_key"))
    finally:
        _migrate([("stock", _latest())])
    # then the first receipt of each number holds its key, the later ones are kept as posted, without
    # one, and listed for the operator; nothing else changed
    assert (keys[first], keys[lower], keys[spaced], keys[other]) == (
        "GRN-ISB-9010",
        None,
        None,
        "GRN-ISB-9011",
    )
    assert f"receipt #{lower} ('grn-isb-9010') has the GRN of receipt #{first} ('GRN-ISB-9010')" in said
    assert f"receipt #{spaced} (' GRN-ISB-9010 ') has the GRN of receipt #{first} ('GRN-ISB-9010')" in said
    assert Movement.objects.get(pk=spaced).reference == " GRN-ISB-9010 "
    assert on_hand(op.point, op.blanket) == 5
    assert_ledger_sound()
    # and posted movements are immutable again
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.filter(pk=first).update(note="edited")
    # and the number is refused once more, whatever its case
    with pytest.raises(Conflict, match=f"was posted as receipt #{first} on"):
        receive(op, op.hub, op.blanket, 1, op.dfid, "Grn-Isb-9010")


def _latest() -> str:
    executor = MigrationExecutor(connection)
    return max(name for app, name in executor.loader.graph.leaf_nodes() if app == "stock")


TO_0010 = [("stock", "0010_waybill_number_key_letters_and_digits")]
TO_0011 = [("stock", "0011_receipt_grn_key_letters_and_digits")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_to_letters_and_digits_keys_a_grn_once_and_lists_its_other_writings():
    op = build_operation()
    first = _old_receipt(op, "GRN-ISB-9010", op.warehouse)
    spaced = _old_receipt(op, "GRN ISB 9010", op.hub)
    slashed = _old_receipt(op, "grn/isb/9010", op.point)
    other = _old_receipt(op, "GRN-ISB-9011", op.hub)
    compact = _old_receipt(op, "GRN ISB9010", op.hub)
    marks = _old_receipt(op, "--", op.hub)
    try:
        # given a database keyed as 0007 did, that took GRN ISB 9010, grn/isb/9010 and GRN ISB9010 for
        # numbers of their own beside GRN-ISB-9010
        _migrate(TO_0010)
        keys_0007 = dict(Movement.objects.values_list("pk", "grn_key"))
        # when it is upgraded
        said = _migrate(TO_0011)
        keys = dict(Movement.objects.values_list("pk", "grn_key"))
        # and, to check the way back, downgraded again
        _migrate(TO_0010)
        keys_back = dict(Movement.objects.values_list("pk", "grn_key"))
    finally:
        _migrate([("stock", _latest())])
    assert [keys_0007[pk] for pk in (first, spaced, slashed, other, compact, marks)] == [
        "GRN-ISB-9010",
        "GRN ISB 9010",
        "GRN/ISB/9010",
        "GRN-ISB-9011",
        "GRN ISB9010",
        "--",
    ]
    # then the first receipt of the number holds its key; the others are kept as posted, without a key,
    # and listed for the operator; a GRN of no letter or digit has no key; no reference changed
    assert [keys[pk] for pk in (first, spaced, slashed, other, compact, marks)] == [
        "GRN ISB9010",
        None,
        None,
        "GRN ISB9011",
        None,
        None,
    ]
    for later, reference in ((spaced, "GRN ISB 9010"), (slashed, "grn/isb/9010"), (compact, "GRN ISB9010")):
        assert f"receipt #{later} ({reference!r}) has the GRN of receipt #{first} ('GRN-ISB-9010')" in said
    assert f"receipt #{other} " not in said
    assert Movement.objects.get(pk=slashed).reference == "grn/isb/9010"
    # and the way back gives each the key 0007 gave it, GRN ISB9010 to the receipt it was first given to
    # (after the first receipt held it, upgraded)
    assert keys_back == keys_0007
    # and the upgraded database refuses the number however it is written; nothing else changed
    with pytest.raises(
        Conflict, match=f"was posted as receipt #{first} on .* is its number written another way"
    ):
        receive(op, op.hub, op.blanket, 1, op.dfid, "grn isb/9010")
    assert on_hand(op.point, op.blanket) == 5
    assert_ledger_sound()
    # and posted movements are immutable again
    with pytest.raises(IntegrityError), transaction.atomic():
        Movement.objects.filter(pk=first).update(note="edited")
