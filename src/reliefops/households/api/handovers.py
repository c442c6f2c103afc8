"""Households API: a household's package handed over at a point, and a round's reconciliation
with the stock ledger."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from typing import Any

from django.http import HttpRequest
from ninja import Header, Status

from reliefops.core.access import access_round_by_id, access_round_point, require
from reliefops.core.api import DETAIL_ERRORS
from reliefops.core.roles import Right
from reliefops.households import selectors
from reliefops.households.api.routing import KEY_HELP, WRITE_ERRORS, code_or_id, router
from reliefops.households.schemas import (
    DoubleReceiptOut,
    HouseholdHandoverIn,
    HouseholdHandoverOut,
    RoundItemFiguresOut,
    RoundReconciliationOut,
)
from reliefops.households.services import handover_record
from reliefops.stock.schemas import scoped_key, today


@router.post(
    "/rounds/{round_id}/handovers",
    right=Right.DISTRIBUTE,
    response={201: HouseholdHandoverOut, 200: HouseholdHandoverOut, **WRITE_ERRORS},
    summary="Hand a household its package (by card token or id): one ledger movement, once per round",
)
def handover_create(
    request: HttpRequest,
    round_id: int,
    payload: HouseholdHandoverIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    require(request.user, Right.DISTRIBUTE)
    round_obj = access_round_by_id(request.user, round_id, Right.DISTRIBUTE)
    point = access_round_point(request.user, round_obj, code_or_id(payload.point), Right.DISTRIBUTE)
    result = handover_record(
        actor=request.user,
        round_id=round_obj.pk,
        point_site_id=point.pk,
        card_token=payload.card or None,
        household_id=payload.household,
        collected_by=payload.collected_by,
        handed_on=payload.handed_on or today(),
        allow_partial=payload.partial,
        idempotency_key=scoped_key(request.user, idempotency_key),
    )
    body = HouseholdHandoverOut(
        handover_id=result.handover.pk,
        household_id=result.handover.household_id,
        movement_id=result.delivery.movement_id,
        given=result.given,
        shortfall=result.shortfall,
        complete=result.handover.is_complete,
        replayed=result.replayed,
        message=result.message,
    )
    return Status(200 if result.replayed else 201, body)


@router.get(
    "/rounds/{round_id}/reconciliation",
    response={200: RoundReconciliationOut, **DETAIL_ERRORS},
    summary="A round's figures: entitled, handed over, stock moved, shortfall, double receipts",
)
def round_reconciliation(request: HttpRequest, round_id: int) -> Any:
    round_obj = access_round_by_id(request.user, round_id)
    report = selectors.round_reconciliation(round_obj)
    return RoundReconciliationOut(
        round=round_obj.code,
        entitled_households=report.entitled_households,
        served_households=report.served_households,
        partly_served_households=report.partly_served_households,
        unserved_households=report.unserved_households,
        agrees_with_ledger=report.agrees_with_ledger,
        items=[
            RoundItemFiguresOut(
                item=i.item_code,
                entitled=i.entitled,
                handed_over=i.handed_over,
                stock_moved=i.stock_moved,
                shortfall=i.shortfall,
            )
            for i in report.items
        ],
        by_point=report.by_point,
        double_receipts=[
            DoubleReceiptOut(
                handover_id=h.pk,
                household_id=h.household_id,
                received_by_household_id=h.received_by_household_id,
                point=h.point.code,
                note=h.double_receipt_note,
            )
            for h in report.double_receipts
        ],
    )
