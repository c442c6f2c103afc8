"""A field operation to put under stress, and the checks that it came through whole.

Run inside a process with Django set up on a database holding the Kashmir 2005 scenario
(`reliefops scenario load kashmir-2005`). Used by the fault tests (in a child process that is
killed) and by the load test (bench/load_test.py), through the public services only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

ROUND_DAY = dt.date(2006, 2, 15)
POINT = "DP-NARRA"  # Narra, Bala Kot tehsil
HUB_FROM, HUB_TO = "BLK-HUB", "MNS-HUB"
HANDOVER_ITEM, WAYBILL_ITEM, GRANT = "BLANKET", "TARPAULIN", "ECHO-2005-11"
HANDOVER_NOTE = "household handover "


def seed(*, households: int, code: str, waybill_stock: int = 1_000_000) -> dict[str, Any]:
    """Register `households` new households of Bala Kot, list them in an open round `code` at Narra
    (one blanket each), give them cards, put the blankets at the point and tarpaulins at Balakot hub.
    Returns the ids the workers need."""
    from reliefops.catalog.models import Item
    from reliefops.households.models import HouseholdCard, RoundStatus
    from reliefops.households.services import (
        HouseholdInput,
        Lookups,
        PackageInput,
        PointInput,
        cards_issue,
        household_check,
        households_register_many,
        round_create,
        round_make_list,
        round_set_status,
    )
    from reliefops.partners.models import Grant
    from reliefops.places.models import Site
    from reliefops.stock.services import ReceiptLine, stock_receive

    point = Site.objects.get(code=POINT)
    hub_from, hub_to = Site.objects.get(code=HUB_FROM), Site.objects.get(code=HUB_TO)
    blanket, tarpaulin = Item.objects.get(code=HANDOVER_ITEM), Item.objects.get(code=WAYBILL_ITEM)
    grant = Grant.objects.get(reference=GRANT)
    lookups = Lookups.load()
    drafts = []
    for n in range(households):
        draft, problems = household_check(
            HouseholdInput(
                head_name=f"Load{n:05d} Khan",
                father_or_husband_name=f"Test{n:05d} Din",
                head_sex="male",
                document_type="none",
                document_number="",
                members={"males_18_59": 1, "females_18_59": 1},
                origin=point.admin_area.pcode,
                origin_village="Narra",
                house_damage="destroyed",
                consent=True,
                elevation_band="above_7000",
                registered_on=ROUND_DAY - dt.timedelta(days=30),
            ),
            lookups=lookups,
            row=n + 1,
        )
        if draft is None:
            raise RuntimeError(f"seed household {n}: {problems}")
        drafts.append((n + 1, draft))
    made = households_register_many(actor=None, drafts=drafts)
    round_obj = round_create(
        actor=None,
        code=code,
        name=f"Stress round {code}",
        starts_on=ROUND_DAY - dt.timedelta(days=14),
        ends_on=ROUND_DAY + dt.timedelta(days=45),
        points=[PointInput(site_id=point.pk, serves_area_id=point.admin_area_id)],
        package=[PackageInput(item_id=blanket.pk, per_household=1)],
        area_ids=[point.admin_area_id],
        elevation_bands=["above_7000"],
        house_damage=["destroyed"],
    )
    listed = round_make_list(actor=None, round_id=round_obj.pk)
    round_set_status(actor=None, round_id=round_obj.pk, status=RoundStatus.OPEN)
    cards_issue(actor=None, round_id=round_obj.pk)
    received = ROUND_DAY - dt.timedelta(days=20)
    stock_receive(
        actor=None,
        site_id=point.pk,
        grant_id=grant.pk,
        grn_number=f"GRN-{code}-P",
        received_on=received,
        lines=[ReceiptLine(item_id=blanket.pk, quantity=2 * households + 100)],
    )
    # The waybills go on today, after the scenario's history: a dispatch dated in 2006 would take
    # stock the hub's later movements of that history had already spent (the ledger refuses that).
    stock_receive(
        actor=None,
        site_id=hub_from.pk,
        grant_id=grant.pk,
        grn_number=f"GRN-{code}-H",
        received_on=timezone.localdate(),
        lines=[ReceiptLine(item_id=tarpaulin.pk, quantity=waybill_stock)],
    )
    ids = [h.pk for h in made]
    tokens = dict(
        HouseholdCard.objects.filter(household_id__in=ids, voided_at__isnull=True).values_list(
            "household_id", "token"
        )
    )
    return {
        "round_id": round_obj.pk,
        "round_code": code,
        "listed": getattr(listed, "listed", None),
        "point_id": point.pk,
        "point": POINT,
        "hub_from_id": hub_from.pk,
        "hub_to_id": hub_to.pk,
        "hub_from": HUB_FROM,
        "hub_to": HUB_TO,
        "waybill_item_id": tarpaulin.pk,
        "waybill_item": WAYBILL_ITEM,
        "tokens": [tokens[i] for i in ids if i in tokens],
        "day": ROUND_DAY.isoformat(),
        "waybill_day": timezone.localdate().isoformat(),
    }


def consistency() -> dict[str, Any]:
    """What must hold after any crash: every number here is zero on a sound database."""
    from reliefops.cluster.models import ImportBatch
    from reliefops.households.models import Handover, HandoverDelivery, HandoverLine
    from reliefops.stock.models import Movement, MovementKind, MovementLine, Waybill, WaybillStatus
    from reliefops.stock.selectors import ledger_verify

    verify = ledger_verify()
    # A handover is a household's record and one movement per delivery; neither without the other.
    handovers_without_delivery = Handover.objects.filter(deliveries__isnull=True).count()
    handover_movements = Movement.objects.filter(note__startswith=HANDOVER_NOTE)
    movements_without_handover = handover_movements.exclude(
        pk__in=HandoverDelivery.objects.values("movement_id")
    ).count()
    delivered = dict(
        HandoverLine.objects.values_list("delivery__movement_id").annotate(total=Sum("quantity"))
    )
    moved = dict(
        MovementLine.objects.filter(movement__in=HandoverDelivery.objects.values("movement_id"))
        .values_list("movement_id")
        .annotate(total=Sum("quantity"))
    )
    handover_lines_differ = sum(
        1 for key in set(delivered) | set(moved) if delivered.get(key) != moved.get(key)
    )
    # A waybill has its dispatch; a delivered one its delivery; an in-transit one none.
    dispatches = Count("movements", filter=Q(movements__kind=MovementKind.DISPATCH))
    deliveries = Count("movements", filter=Q(movements__kind=MovementKind.DELIVERY))
    waybills = Waybill.objects.annotate(dispatches=dispatches, deliveries=deliveries)
    waybills_without_dispatch = waybills.filter(dispatches=0).count()
    waybill_delivery_mismatch = (
        waybills.filter(status=WaybillStatus.DELIVERED, deliveries=0).count()
        + waybills.filter(status=WaybillStatus.IN_TRANSIT, deliveries__gt=0).count()
    )
    # An import batch holds every row version it counted, or does not exist.
    half_batches = [
        batch.pk
        for batch in ImportBatch.objects.annotate(n=Count("rows"))
        if batch.n != batch.added + batch.updated + batch.withdrawn
    ]
    with connection.cursor() as cursor:
        integrity = "not checked"
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA integrity_check")
            integrity = cursor.fetchone()[0]
    return {
        "ledger_ok": verify.ok,
        "drifts": len(verify.drifts),
        "unbalanced": len(verify.unbalanced),
        "negative": len(verify.negative_physical),
        "handovers_without_delivery": handovers_without_delivery,
        "movements_without_handover": movements_without_handover,
        "handover_lines_differ": handover_lines_differ,
        "waybills_without_dispatch": waybills_without_dispatch,
        "waybill_delivery_mismatch": waybill_delivery_mismatch,
        "half_written_batches": half_batches,
        "sqlite_integrity": integrity,
        "counts": {
            "movements": Movement.objects.count(),
            "handovers": Handover.objects.count(),
            "deliveries": HandoverDelivery.objects.count(),
            "waybills": Waybill.objects.count(),
            "delivered_waybills": Waybill.objects.filter(status=WaybillStatus.DELIVERED).count(),
            "batches": ImportBatch.objects.count(),
        },
    }


def is_sound(report: dict[str, Any]) -> bool:
    return (
        report["ledger_ok"]
        and not report["handovers_without_delivery"]
        and not report["movements_without_handover"]
        and not report["handover_lines_differ"]
        and not report["waybills_without_dispatch"]
        and not report["waybill_delivery_mismatch"]
        and not report["half_written_batches"]
        and report["sqlite_integrity"] in {"ok", "not checked"}
    )
