"""A waybill number is one number whatever its case and its spaces, also for the waybills an earlier
version kept with spaces around or inside their number: a new entry of it is refused, and finding it
by number finds them (migration stock.0009, tested here too)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from reliefops.core.errors import Conflict
from reliefops.core.roles import Role
from reliefops.stock.models import Waybill, WaybillStatus
from reliefops.stock.selectors import waybill_id_by_number, waybill_list
from reliefops.stock.services import StockLine, waybill_dispatch
from tests.factories import make_user
from tests.stock.conftest import DAY, assert_ledger_sound, build_operation, receive, snapshot


def dispatch(op, number: str | None = None) -> Waybill:
    return waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=5)],
        dispatched_on=DAY,
        number=number,
    ).waybill


def kept_as_an_earlier_version_did(waybill: Waybill, number: str) -> None:
    """The waybill's number as an earlier version kept it (spaces and all), keyed as the migration
    keys it."""
    Waybill.objects.filter(pk=waybill.pk).update(number=number, number_key=" ".join(number.split()).upper())


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
    assert caught.value.message.startswith(f"waybill {' '.join(kept.split())} already exists")
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
    finally:
        _migrate([("stock", _latest())])
    # then the first waybill of each number holds its key, the later one is kept as it was, without a
    # key, and listed for the operator; no number changed
    keys = dict(Waybill.objects.values_list("pk", "number_key"))
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
    with pytest.raises(Conflict, match="waybill BLK/2005/0412 already exists"):
        dispatch(op, "blk/2005/0412")
    with pytest.raises(Conflict, match="waybill blk 2005/0413 already exists"):
        dispatch(op, "BLK 2005/0413")
    # and the automatic series goes on past the numbers taken
    assert dispatch(op).number == "WB-0000008"
    # and the waybill kept without a key is still found by its number as it was typed
    assert waybill_id_by_number("BLK/2005/0412") == spaced.pk
    assert {w.pk for w in waybill_list(number="BLK/2005/0412")} == {spaced.pk, plain.pk}
