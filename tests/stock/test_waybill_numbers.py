"""A waybill number is one number whatever its case, its spaces and its punctuation, also for the
waybills an earlier version kept with spaces around or inside their number: a new entry of it is
refused, naming the waybill and saying whether it is the same consignment again, and finding it by
number finds them (migrations stock.0009 and 0010, tested here too)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from reliefops.core.errors import Conflict, InvalidInput
from reliefops.core.roles import Role
from reliefops.stock.models import Movement, Waybill, WaybillStatus, waybill_key
from reliefops.stock.selectors import waybill_id_by_number, waybill_list
from reliefops.stock.services import StockLine, movement_reverse, waybill_dispatch
from tests.factories import make_user
from tests.stock.conftest import DAY, assert_ledger_sound, build_operation, receive, snapshot


def dispatch(op, number: str | None = None, *, quantity: int = 5, **fields) -> Waybill:
    return waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=quantity)],
        dispatched_on=DAY,
        number=number,
        **fields,
    ).waybill


def kept_as_an_earlier_version_did(waybill: Waybill, number: str) -> None:
    """The waybill's number as an earlier version kept it (spaces and all), keyed as the migrations
    key it."""
    Waybill.objects.filter(pk=waybill.pk).update(number=number, number_key=waybill_key(number))


# --- one number, however it is written ----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("WB 2005/0012", id="a-space-inside"),
        pytest.param("wb2005/0012", id="lower-case"),
        pytest.param("WB-2005-0012", id="dashes-for-slashes"),
        pytest.param(" WB 2005 / 0012 ", id="spaces-everywhere"),
        pytest.param("WB.2005.0012", id="dots"),
    ],
)
def test_a_number_written_another_way_is_refused_naming_the_waybill_it_is(op, typed):
    # given waybill WB2005/0012, dispatched from the warehouse to the hub
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    dispatch(op, "WB2005/0012")
    before = snapshot()
    # when another consignment is dispatched under the same number written another way
    with pytest.raises(Conflict) as caught:
        dispatch(op, typed, quantity=7)
    # then it is refused, naming the waybill, when and where it went, and what to do; nothing is posted
    assert caught.value.message == (
        "waybill WB2005/0012 exists already (dispatched 20 Oct 2005 from Islamabad warehouse to Balakot hub; "
        f"{typed.strip()} is its number written another way) with other items or details; "
        "give this consignment a number of its own"
    )
    assert snapshot() == before
    assert Waybill.objects.count() == 1


def test_the_same_consignment_posted_again_under_its_number_is_recognised_and_changes_nothing(op):
    # given waybill WB2005/0012 dispatched with 5 blankets on a truck LES-2231
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    dispatch(op, "WB2005/0012", vehicle="LES-2231")
    before = snapshot()
    # when the same paper waybill is entered again (another device, or the page sent again), its
    # number typed with a space, without an idempotency key
    with pytest.raises(Conflict) as caught:
        dispatch(op, "WB 2005/0012", vehicle="LES-2231 ")
    # then it is recognised as that consignment, and nothing changed
    assert caught.value.message == (
        "waybill WB2005/0012 exists already (dispatched 20 Oct 2005 from Islamabad warehouse to Balakot hub; "
        "WB 2005/0012 is its number written another way) with these same items: "
        "this consignment is dispatched already; nothing changed"
    )
    assert snapshot() == before


def test_the_same_consignment_taken_from_several_grants_is_recognised_as_the_same(op):
    # given a dispatch of 8 blankets that first-in-first-out took from two grants
    receive(op, op.warehouse, op.blanket, 5, op.dfid, "GRN-1")
    receive(op, op.warehouse, op.blanket, 5, op.echo, "GRN-2")
    dispatch(op, "BLK/2005/0412", quantity=8)
    assert Movement.objects.get(kind="dispatch").lines.count() == 2
    # when the same 8 blankets are entered again under the number
    with pytest.raises(Conflict) as caught:
        dispatch(op, "BLK/2005/0412", quantity=8)
    # then it is the same consignment: the grants the ledger chose are not the user's to repeat
    assert caught.value.message.endswith(
        "with these same items: this consignment is dispatched already; nothing changed"
    )
    assert "written another way" not in caught.value.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("quantity", 6, id="another-quantity"),
        pytest.param("vehicle", "LES-9999", id="another-vehicle"),
        pytest.param("expected_on", DAY.replace(day=25), id="another-expected-day"),
    ],
)
def test_a_consignment_that_differs_in_one_detail_is_not_taken_for_the_same(op, field, value):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    dispatch(op, "BLK/2005/0412")
    with pytest.raises(Conflict) as caught:
        dispatch(op, "BLK/2005/0412", **{field: value})
    assert caught.value.message.endswith(
        "with other items or details; give this consignment a number of its own"
    )


def test_the_number_of_a_cancelled_waybill_stays_with_it(op):
    # given a waybill whose dispatch was reversed
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    waybill = dispatch(op, "BLK/2005/0412")
    movement_reverse(
        actor=op.actor, movement_id=waybill.movements.get().pk, reason="wrong truck", reversed_on=DAY
    )
    # when the same consignment is dispatched again under its number
    with pytest.raises(Conflict) as caught:
        dispatch(op, "blk 2005 0412")
    # then the number is refused, saying the waybill was cancelled
    assert caught.value.message == (
        "waybill BLK/2005/0412 exists already (dispatched 20 Oct 2005 from Islamabad warehouse to "
        "Balakot hub, then cancelled: its dispatch was reversed; blk 2005 0412 is its number written "
        "another way); a number stays with its waybill: give this consignment a number of its own"
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("12/3", "1/23", id="digits-grouped-otherwise"),
        pytest.param("BLK/2005/0412", "BLK/2005/04/12", id="one-group-more"),
        pytest.param("AB/12", "A/B12", id="letters-grouped-otherwise"),
    ],
)
def test_numbers_whose_letters_and_digits_are_grouped_otherwise_are_two_numbers(op, first, second):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    dispatch(op, first)
    assert dispatch(op, second).number == second


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        pytest.param(
            "///", "'///' has no letter or digit; a waybill number needs some", id="no-letter-or-digit"
        ),
        pytest.param(
            "wb 0000123",
            "wb 0000123 is of the form reliefops gives waybills itself (WB-0000123): "
            "leave the number empty to be given one, or use your own series",
            id="the-automatic-series-with-a-space",
        ),
    ],
)
def test_a_number_that_could_never_be_told_apart_is_refused(op, typed, said):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        dispatch(op, typed)
    assert [(p.field, p.reason) for p in caught.value.problems] == [("number", said)]
    assert snapshot() == before


def test_the_waybills_filter_finds_a_number_however_it_is_written(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    wanted = dispatch(op, "WB2005/0012")
    dispatch(op, "WB2005/0013")
    assert [w.pk for w in waybill_list(number="wb 2005-0012")] == [wanted.pk]
    assert waybill_id_by_number("WB 2005 0012") == wanted.pk


def test_a_taken_number_is_found_by_its_key_alone(op):
    # given many waybills
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    for n in range(12):
        dispatch(op, f"BLK/2005/{n:04d}", quantity=1)
    # when a taken number is typed again
    with CaptureQueriesContext(connection) as done, pytest.raises(Conflict):
        dispatch(op, "blk 2005 0007", quantity=1)
    # then two reads answer: the waybill by its key (the column of a unique index), and its
    # dispatch's lines, to tell the same consignment from another; no other waybill is read
    reads = [q["sql"] for q in done.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 2, reads
    assert '"stock_waybill"."number_key" = ' in reads[0]
    assert "stock_movementline" in reads[1]


@pytest.mark.parametrize(
    ("kept", "typed"),
    [
        pytest.param(" BLK/2005/0412 ", "BLK/2005/0412", id="spaces-around"),
        pytest.param("BLK  2005 0412", "blk 2005 0412", id="two-spaces-inside-and-another-case"),
    ],
)
def test_a_number_kept_with_spaces_is_refused_to_a_new_waybill_and_found_by_its_number(op, kept, typed):
    # given a waybill whose number an earlier version kept with spaces
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    old = dispatch(op, "TEMP-1")
    kept_as_an_earlier_version_did(old, kept)
    before = snapshot()
    # when the same paper waybill is typed again
    with pytest.raises(Conflict) as caught:
        dispatch(op, typed)
    # then it is refused, naming the waybill that has it, and nothing is posted
    assert caught.value.message.startswith(f"waybill {' '.join(kept.split())} exists already")
    assert snapshot() == before
    # and finding it by number finds it, whatever the case and spaces typed
    assert waybill_id_by_number(f"  {typed.lower()} ") == old.pk
    assert [w.pk for w in waybill_list(number=typed.lower())] == [old.pk]


def test_a_waybill_is_confirmed_on_the_command_line_by_its_number_kept_with_spaces(op):
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    old = dispatch(op, "TEMP-1")
    kept_as_an_earlier_version_did(old, " BLK/2005/0412 ")
    manager = make_user(Role.HUB_MANAGER, hubs=[op.hub]).username
    out = StringIO()
    call_command("stock", "confirm", "blk/2005/0412", "--as", manager, stdout=out, stderr=StringIO())
    old.refresh_from_db()
    assert old.status == WaybillStatus.DELIVERED
    assert "Posted delivery confirmation" in out.getvalue()


# --- the migration that keys the waybills of an older database ----------------------------------------

BEFORE = [("stock", "0008_pledge_cancel")]
AFTER = [("stock", "0009_waybill_number_key")]


def _migrate(targets) -> str:
    out = io.StringIO()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    with redirect_stdout(out):
        executor.migrate(targets)
    return out.getvalue()


def _latest() -> str:
    executor = MigrationExecutor(connection)
    return max(name for app, name in executor.loader.graph.leaf_nodes() if app == "stock")


@pytest.mark.django_db(transaction=True)
def test_the_migration_keys_older_waybills_and_lists_those_whose_number_an_earlier_one_has():
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    # given waybills an earlier version accepted: one number twice, once with spaces around it; one
    # with two spaces inside; and one of the automatic series
    spaced, plain, inside, automatic = (dispatch(op, f"TEMP-{n}") for n in range(4))
    Waybill.objects.filter(pk=spaced.pk).update(number=" BLK/2005/0412 ")
    Waybill.objects.filter(pk=plain.pk).update(number="BLK/2005/0412")
    Waybill.objects.filter(pk=inside.pk).update(number="blk  2005/0413")
    Waybill.objects.filter(pk=automatic.pk).update(number="WB-0000007")
    _migrate(BEFORE)
    try:
        # when the database is upgraded
        said = _migrate(AFTER)
        keys = dict(Waybill.objects.values_list("pk", "number_key"))
    finally:
        _migrate([("stock", _latest())])
    # then the first waybill of each number holds its key, the later one is kept as it was, without a
    # key, and listed for the operator; no number changed
    assert (keys[spaced.pk], keys[plain.pk], keys[inside.pk], keys[automatic.pk]) == (
        "BLK/2005/0412",
        None,
        "BLK 2005/0413",
        "WB-0000007",
    )
    assert (
        f"waybill #{plain.pk} ('BLK/2005/0412') has the number of waybill #{spaced.pk} (' BLK/2005/0412 ')"
        in said
    )
    assert Waybill.objects.get(pk=spaced.pk).number == " BLK/2005/0412 "
    assert Waybill.objects.get(pk=inside.pk).number == "blk  2005/0413"
    assert_ledger_sound()
    # and the numbers are refused to new waybills, whatever their case and spaces
    with pytest.raises(Conflict, match="waybill BLK/2005/0412 exists already"):
        dispatch(op, "blk/2005/0412")
    with pytest.raises(Conflict, match="waybill blk 2005/0413 exists already"):
        dispatch(op, "BLK 2005/0413")
    # and the automatic series goes on past the numbers taken
    assert dispatch(op).number == "WB-0000008"
    # and the waybill kept without a key is still found by its number as it was typed
    assert waybill_id_by_number("BLK/2005/0412") == spaced.pk
    assert {w.pk for w in waybill_list(number="BLK/2005/0412")} == {spaced.pk, plain.pk}


TO_0009 = [("stock", "0009_waybill_number_key")]
TO_0010 = [("stock", "0010_waybill_number_key_letters_and_digits")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_to_letters_and_digits_keys_a_number_once_and_lists_its_other_writings():
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    first, spaced, dashed, other = (dispatch(op, f"TEMP-{n}") for n in range(4))
    _migrate(TO_0009)
    try:
        # given a database keyed as 0009 did, that took "WB 2005/0012" and "WB-2005-0012" for numbers
        # of their own beside WB2005/0012
        for waybill, number in (
            (first, "WB2005/0012"),
            (spaced, "WB 2005/0012"),
            (dashed, "wb-2005-0012"),
            (other, "WB2005/0013"),
        ):
            Waybill.objects.filter(pk=waybill.pk).update(
                number=number, number_key=" ".join(number.split()).upper()
            )
        # when it is upgraded
        said = _migrate(TO_0010)
        keys = dict(Waybill.objects.values_list("pk", "number_key"))
        # and, to check the way back, downgraded again
        _migrate(TO_0009)
        keys_back = dict(Waybill.objects.values_list("pk", "number_key"))
    finally:
        _migrate([("stock", _latest())])
    # then the first waybill of the number holds its key; the others are kept as dispatched, without a
    # key, and listed for the operator; no number changed
    assert (keys[first.pk], keys[spaced.pk], keys[dashed.pk], keys[other.pk]) == (
        "WB2005 0012",
        None,
        None,
        "WB2005 0013",
    )
    assert (
        f"waybill #{spaced.pk} ('WB 2005/0012') has the number of waybill #{first.pk} ('WB2005/0012')" in said
    )
    assert (
        f"waybill #{dashed.pk} ('wb-2005-0012') has the number of waybill #{first.pk} ('WB2005/0012')" in said
    )
    assert Waybill.objects.get(pk=dashed.pk).number == "wb-2005-0012"
    # and the way back gives each the key 0009 gave it
    assert (keys_back[first.pk], keys_back[spaced.pk], keys_back[dashed.pk]) == (
        "WB2005/0012",
        "WB 2005/0012",
        "WB-2005-0012",
    )
    # and on the upgraded database the number is refused however it is written
    with pytest.raises(Conflict, match="waybill WB2005/0012 exists already"):
        dispatch(op, "wb 2005 0012")
    assert_ledger_sound()
