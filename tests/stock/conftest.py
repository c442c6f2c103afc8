"""A small operation for ledger tests: a warehouse, a hub, a distribution point, items, grants."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.places.models import SiteKind
from reliefops.stock.models import Balance, Movement, MovementLine, Pledge, Waybill
from reliefops.stock.selectors import ledger_verify
from reliefops.stock.services import ReceiptLine, stock_receive
from tests.factories import (
    AdminAreaFactory,
    GrantFactory,
    ItemFactory,
    KitComponentFactory,
    KitFactory,
    OrganisationFactory,
    SiteFactory,
    make_user,
)

DAY = dt.date(2005, 10, 20)


def build_operation():
    area = AdminAreaFactory(pcode="PK522", name="Mansehra")
    warehouse = SiteFactory(
        code="ISB-WH", name="Islamabad warehouse", kind=SiteKind.WAREHOUSE, admin_area=area
    )
    hub = SiteFactory(code="BLK-HUB", name="Balakot hub", kind=SiteKind.HUB, admin_area=area)
    point = SiteFactory(
        code="DP-1",
        name="Garhi Habibullah point",
        kind=SiteKind.DISTRIBUTION_POINT,
        admin_area=area,
        parent_hub=hub,
    )
    camp = SiteFactory(code="CAMP-1", name="Maira camp", kind=SiteKind.CAMP, admin_area=area)
    blanket = ItemFactory(code="BLANKET", name="Blanket")
    cgi = ItemFactory(code="CGI-SHEET", name="CGI sheet")
    bucket = ItemFactory(code="BUCKET", name="Steel bucket")
    kit = KitFactory(item=ItemFactory(code="WINTER-KIT", name="Winterization kit"))
    KitComponentFactory(kit=kit, item=blanket, quantity=3)
    KitComponentFactory(kit=kit, item=bucket, quantity=1)
    dfid = GrantFactory(reference="DFID-2005-07")
    echo = GrantFactory(reference="ECHO-2005-01")
    partner = OrganisationFactory(name="Pakistan Army", acronym="ARMY")
    actor = make_user(Role.HUB_MANAGER)
    return SimpleNamespace(
        area=area,
        warehouse=warehouse,
        hub=hub,
        point=point,
        camp=camp,
        blanket=blanket,
        cgi=cgi,
        bucket=bucket,
        kit=kit,
        kit_item=kit.item,
        dfid=dfid,
        echo=echo,
        partner=partner,
        actor=actor,
    )


@pytest.fixture
def op(db):
    return build_operation()


def receive(op, site, item, quantity, grant, grn, on=DAY):
    return stock_receive(
        actor=op.actor,
        site_id=site.pk,
        grant_id=grant.pk,
        grn_number=grn,
        received_on=on,
        lines=[ReceiptLine(item_id=item.pk, quantity=quantity)],
    )


def on_hand(site, item, grant=None) -> int:
    rows = Balance.objects.filter(location__site=site, item=item)
    if grant is not None:
        rows = rows.filter(grant=grant)
    return sum(rows.values_list("quantity", flat=True))


def snapshot() -> tuple:
    """Everything a refused operation must leave as it was."""
    return (
        list(Balance.objects.order_by("pk").values_list("pk", "quantity", "fifo_date")),
        Movement.objects.count(),
        MovementLine.objects.count(),
        list(Waybill.objects.order_by("pk").values_list("pk", "status")),
        list(Pledge.objects.order_by("pk").values_list("pk", "received_quantity", "status")),
        AuditEvent.objects.count(),
    )


def assert_ledger_sound():
    result = ledger_verify()
    assert result.ok, result
