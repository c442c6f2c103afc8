"""An upgrade that the data of an older database blocks stops with one line naming what to mend,
not a traceback: stock.0006 and waybill numbers that differ only in case."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from reliefops.stock.models import Waybill
from tests.stock.conftest import build_operation, receive
from tests.stock.test_waybill_numbers import dispatch

BEFORE = [("stock", "0005_receipt_links_its_pledge")]
AFTER = [("stock", "0006_waybill_number_unique_any_case")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    with redirect_stdout(io.StringIO()):
        executor.migrate(targets)


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_numbers_differing_only_in_case_stop_the_migration_with_one_line_naming_them():
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    upper, lower, other = (dispatch(op, f"TEMP-{n}") for n in range(3))
    try:
        _migrate(BEFORE)
        # given two waybills an older version accepted, one number in two cases
        Waybill.objects.filter(pk=upper.pk).update(number="WB-0000001")
        Waybill.objects.filter(pk=lower.pk).update(number="wb-0000001")
        # when the database is upgraded
        with pytest.raises(CommandError) as refused:
            _migrate(AFTER)
        # then it stops, naming both waybills and where the query is, on one line
        said = str(refused.value)
        assert "\n" not in said
        assert f"#{upper.pk} 'WB-0000001', #{lower.pk} 'wb-0000001'" in said
        assert f"#{other.pk} " not in said
        assert "docs/operations.md" in said
        # and once one is given another number, the migration goes through
        Waybill.objects.filter(pk=lower.pk).update(number="wb-0000001-B")
        _migrate(AFTER)
    finally:
        Waybill.objects.filter(pk=lower.pk).update(number="wb-0000001-B")
        _migrate(_latest())
