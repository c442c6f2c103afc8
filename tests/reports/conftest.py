"""A small ledger for the report tests: blankets received, distributed at a point and by the hub,
handed to a partner, one distribution reversed, and a truck overdue; and rounds of households."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.households.services import handover_record
from reliefops.stock.services import (
    StockLine,
    movement_reverse,
    stock_distribute,
    stock_handover_to_partner,
    waybill_dispatch,
)
from tests.cluster.conftest import cluster, row, upload  # noqa: F401 - the cluster fixtures shelter_cluster uses
from tests.households import conftest as households
from tests.stock.conftest import build_operation, receive


@pytest.fixture
def ledger(db):
    """At the Balakot hub (Mansehra) and its Garhi Habibullah point:
    - 25 Oct 2005: the point hands 60 blankets to households;
    - 2 Nov 2005: the hub hands 40 blankets to the Pakistan Army to distribute;
    - 3 Nov 2005: the hub hands 10 blankets out, reversed the same day (they count for nothing);
    - 5 Nov 2005: a truck of 30 blankets leaves the warehouse for the hub, expected 7 Nov, still on the way.
    """
    op = build_operation()
    receive(op, op.warehouse, op.blanket, 500, op.dfid, "GRN-W1")
    receive(op, op.hub, op.blanket, 200, op.dfid, "GRN-H1")
    receive(op, op.point, op.blanket, 100, op.echo, "GRN-P1")
    stock_distribute(
        actor=op.actor,
        site_id=op.point.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=60)],
        distributed_on=dt.date(2005, 10, 25),
    )
    stock_handover_to_partner(
        actor=op.actor,
        site_id=op.hub.pk,
        organisation_id=op.partner.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=40)],
        handed_on=dt.date(2005, 11, 2),
    )
    mistake = stock_distribute(
        actor=op.actor,
        site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=10)],
        distributed_on=dt.date(2005, 11, 3),
    )
    movement_reverse(
        actor=op.actor,
        movement_id=mistake.movement.pk,
        reason="entered twice",
        reversed_on=dt.date(2005, 11, 3),
    )
    op.waybill = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=30)],
        dispatched_on=dt.date(2005, 11, 5),
        expected_on=dt.date(2005, 11, 7),
    ).waybill
    return op


@pytest.fixture
def rounds(db):
    """Two open rounds at Bana helipad listing the same household of four (10 CGI sheets and 8
    blankets each): WR-1, where the household has had its whole package, and WR-2, where it has had
    nothing yet."""
    op = households.build_operation()
    household = households.register(op)
    households.receive(op, op.bana, op.cgi, 30, "GRN-1")
    households.receive(op, op.bana, op.blanket, 24, "GRN-2")
    op.served = households.winter_round(op, code="WR-1")
    op.waiting = households.winter_round(op, code="WR-2")
    handover_record(
        actor=op.distributor,
        round_id=op.served.pk,
        point_site_id=op.bana.pk,
        household_id=household.pk,
        collected_by="the head",
        handed_on=households.DAY,
    )
    return op


@pytest.fixture
def shelter_cluster(cluster, upload):  # noqa: F811 - the cluster fixtures, imported above
    """Tents in Batagram's Allai tehsil: 100 households reached in November 2005, 30 in December."""
    upload(
        [
            row(
                id="NRC-1",
                adm2="PK504",
                adm3="PK50401",
                start="2005-11-01",
                end="2005-11-20",
                qty="100",
                hh="100",
            ),
            row(
                id="NRC-2",
                adm2="PK504",
                adm3="PK50401",
                start="2005-12-01",
                end="2005-12-20",
                qty="30",
                hh="30",
            ),
        ]
    )
    return cluster
