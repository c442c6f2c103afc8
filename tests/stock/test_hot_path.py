"""The posting engine's hot path: its lookups use indexes, its statements are few and, on PostgreSQL,
prepared once per connection."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reliefops.core.errors import ServiceError
from reliefops.places.models import SiteKind
from reliefops.stock.models import LocationKind, MovementLine, StockLocation, Waybill
from reliefops.stock.services import (
    StockLine,
    singleton_location,
    stock_distribute,
    stock_handover_to_partner,
    stock_report_loss,
    waybill_dispatch,
)
from reliefops.stock.services.ledger import hot_cursor
from reliefops.stock.services.locations import location_query
from tests.factories import SiteFactory
from tests.stock.conftest import DAY, assert_ledger_sound, on_hand, receive

LOOKUPS = [
    pytest.param("kind", LocationKind.BENEFICIARIES.value, id="singleton-by-kind"),
    pytest.param("site_id", 1, id="site"),
    pytest.param("grant_id", 1, id="donor-pipeline"),
    pytest.param("organisation_id", 1, id="partner"),
    pytest.param("waybill_id", 1, id="in-transit"),
]


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "; ".join(str(row[-1]) for row in cursor.fetchall())
        # The test tables are tiny, so PostgreSQL would rightly scan them: forbid the scan to see
        # whether an index matches the condition at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "; ".join(row[0].strip() for row in cursor.fetchall())


def _add_transit_locations(count: int, from_site, to_site) -> None:
    """Many in-transit locations, as a ledger that has run for a while has (one per waybill)."""
    waybills = Waybill.objects.bulk_create(
        Waybill(
            number=f"BULK-{n:05d}",
            from_site=from_site,
            to_site=to_site,
            dispatched_on=DAY,
            expected_on=DAY,
            status="delivered",
        )
        for n in range(count)
    )
    StockLocation.objects.bulk_create(
        StockLocation(
            kind=LocationKind.IN_TRANSIT, is_physical=False, waybill=w, name=f"In transit {w.number}"
        )
        for w in waybills
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("column", "value"), LOOKUPS)
def test_every_location_lookup_of_a_posting_is_an_index_search(column, value):
    # given the lookup a posting makes for a location
    sql, params = location_query(column, value)

    # when the database plans it
    plan = _plan(sql, params)

    # then it searches an index instead of reading the whole table (which grows by one row per waybill)
    if connection.vendor == "sqlite":
        assert plan.startswith("SEARCH stock_stocklocation USING"), plan
        assert "SCAN" not in plan, plan
    else:
        assert "Index" in plan, plan
        assert "Seq Scan" not in plan, plan


@pytest.mark.django_db
def test_the_singleton_lookup_uses_the_singletons_partial_unique_index():
    # given the singleton lookup, which restates the partial index's condition so that SQLite uses it
    sql, params = location_query("kind", LocationKind.LOSS.value)

    # when the database plans it, then the index it searches is the constraint's own
    assert "location_singletons_unique" in _plan(sql, params)


def test_a_location_is_not_looked_up_by_an_unindexed_column():
    with pytest.raises(ValueError, match="not looked up by 'name'"):
        location_query("name", "Beneficiaries")


@pytest.mark.django_db
def test_singletons_are_found_among_many_transit_locations(op):
    # given the singletons made once, then 300 waybills' in-transit locations after them
    beneficiaries = singleton_location(LocationKind.BENEFICIARIES)
    loss = singleton_location(LocationKind.LOSS)
    _add_transit_locations(300, op.warehouse, op.hub)

    # when they are looked up again, then the same rows come back, and the lookups are single rows
    assert singleton_location(LocationKind.BENEFICIARIES).pk == beneficiaries.pk
    assert singleton_location(LocationKind.LOSS).pk == loss.pk
    assert StockLocation.objects.filter(kind=LocationKind.BENEFICIARIES).count() == 1


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """What a posting sent, without the transaction's own statements."""
    skip = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(skip)]


@pytest.mark.django_db
def test_a_distribution_sends_few_statements(op):
    # given stock at the warehouse, and one distribution made so that every location exists
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    line = [StockLine(item_id=op.blanket.pk, quantity=1, grant_id=op.dfid.pk)]
    stock_distribute(actor=op.actor, site_id=op.warehouse.pk, lines=line, distributed_on=DAY)

    # when one more is posted
    with CaptureQueriesContext(connection) as captured:
        stock_distribute(actor=op.actor, site_id=op.warehouse.pk, lines=line, distributed_on=DAY)

    # then items, grants and both locations are read in one query, the balances in one, the site's
    # lines dated after the posting in one, and the writes take three statements on SQLite (movement,
    # lines, balances) and one on PostgreSQL, beside the audit event
    sql = _statements(captured)
    assert sql[0].count("UNION ALL") == 3, sql[0]
    assert sql[1].startswith("SELECT id, location_id, item_id, grant_id, quantity"), sql[1]
    assert sql[2].startswith("SELECT m.occurred_on, l.item_id"), sql[2]
    assert len(sql) == (5 if connection.vendor == "postgresql" else 7), sql
    assert "core_auditevent" in sql[-1]
    assert on_hand(op.warehouse, op.blanket) == 98


@pytest.mark.django_db
def test_first_distribution_loss_and_handover_make_their_locations(op):
    # given stock at the warehouse and none of the target locations yet
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")
    assert not StockLocation.objects.filter(
        kind__in=[LocationKind.BENEFICIARIES, LocationKind.LOSS, LocationKind.PARTNER]
    ).exists()
    line = [StockLine(item_id=op.blanket.pk, quantity=1)]

    # when each is posted for the first time, and once more
    for _ in range(2):
        stock_distribute(actor=op.actor, site_id=op.warehouse.pk, lines=line, distributed_on=DAY)
        stock_report_loss(
            actor=op.actor, site_id=op.warehouse.pk, lines=line, reason="theft", note="gone", occurred_on=DAY
        )
        stock_handover_to_partner(
            actor=op.actor, site_id=op.warehouse.pk, organisation_id=op.partner.pk, lines=line, handed_on=DAY
        )

    # then each target location exists once and holds what was posted to it
    for kind in (LocationKind.BENEFICIARIES, LocationKind.LOSS, LocationKind.PARTNER):
        location = StockLocation.objects.get(kind=kind)
        assert sum(location.balances.values_list("quantity", flat=True)) == 2
    assert on_hand(op.warehouse, op.blanket) == 4
    assert_ledger_sound()


@pytest.mark.django_db
def test_a_distribution_from_a_site_that_cannot_hold_stock_is_refused(op):
    # given a camp, which holds no stock
    camp = SiteFactory(code="CAMP-9", name="Balakot camp", kind=SiteKind.CAMP, admin_area=op.area)
    receive(op, op.warehouse, op.blanket, 10, op.dfid, "GRN-1")

    # when a distribution from it is posted, then the refusal names the site and its kind
    with pytest.raises(ServiceError, match="Balakot camp is a camp"):
        stock_distribute(
            actor=op.actor,
            site_id=camp.pk,
            lines=[StockLine(item_id=op.blanket.pk, quantity=1)],
            distributed_on=DAY,
        )
    assert not StockLocation.objects.filter(site=camp).exists()


@pytest.mark.django_db
def test_lines_are_filed_in_the_order_given(op):
    # given three items at the warehouse
    for n, item in enumerate((op.bucket, op.blanket, op.cgi)):
        receive(op, op.warehouse, item, 10, op.dfid, f"GRN-{n}")
    order = [op.cgi, op.bucket, op.blanket]

    # when a waybill carries them in this order
    result = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=item.pk, quantity=n + 1) for n, item in enumerate(order)],
        dispatched_on=DAY,
    )

    # then its lines, by id, are in that order with their quantities
    lines = list(MovementLine.objects.filter(movement=result.movement).order_by("id"))
    expected = [(item.pk, n + 1) for n, item in enumerate(order)]
    assert [(line.item_id, line.quantity) for line in lines] == expected
    assert_ledger_sound()


@pytest.mark.django_db
def test_postgresql_prepares_the_postings_statements_once_per_connection(op):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    # given stock at the warehouse
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    line = [StockLine(item_id=op.blanket.pk, quantity=1, grant_id=op.dfid.pk)]

    # when distributions are posted
    for _ in range(3):
        stock_distribute(actor=op.actor, site_id=op.warehouse.pk, lines=line, distributed_on=DAY)

    # then the server holds the write statement prepared, and ran it from there after the first time
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["WITH m AS (INSERT INTO stock_movement%"],
        )
        executions = [row[0] for row in cursor.fetchall()]
    assert executions, "the posting's write statement is not prepared"
    assert max(executions) >= 3


@pytest.mark.django_db
def test_nothing_is_prepared_where_server_side_cursors_are_disabled(op, settings):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    # given a deployment behind a transaction-pooling proxy, which disables server-side cursors
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
    try:
        # when the engine asks for its cursor, then it is Django's own (client-side binding)
        with hot_cursor(connection) as cursor:
            assert type(cursor.cursor).__name__ != "PreparedCursor"
    finally:
        connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = False


@pytest.mark.django_db
def test_the_lines_after_a_back_dated_posting_are_read_through_the_index_of_movements_by_site_and_day(op):
    # given stock at the warehouse and the statement a distribution sends to read what came after its day
    receive(op, op.warehouse, op.blanket, 100, op.dfid, "GRN-1")
    line = [StockLine(item_id=op.blanket.pk, quantity=1, grant_id=op.dfid.pk)]
    with CaptureQueriesContext(connection) as captured:
        stock_distribute(actor=op.actor, site_id=op.warehouse.pk, lines=line, distributed_on=DAY)
    [query] = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT m.occurred_on")]
    sql = query.split(" WHERE ")[0] + " WHERE m.site_id IN (%s) AND m.occurred_on > %s"

    # when the database plans its search of the movements
    plan = _plan(sql, [op.warehouse.pk, DAY])

    # then it walks the index of movements by site and day, not the whole ledger
    if connection.vendor == "sqlite":
        assert "stock_movem_site_id_319aac_idx (site_id=? AND occurred_on>?)" in plan, plan
        assert "SCAN" not in plan, plan
    else:
        # (PostgreSQL may take the index of the site alone, and filter its movements by day)
        assert re.search(r"Index (Only )?Scan using stock_movem\w*site_id\w* on stock_movement m", plan), plan
        assert "Seq Scan" not in plan, plan
