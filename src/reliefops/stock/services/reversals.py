"""Corrections: a posted movement is never edited; a reversal posts its lines back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem
from reliefops.core.models import AuditEvent
from reliefops.core.text import day_text
from reliefops.stock.models import (
    REVERSAL_PREFIX,
    REVERSAL_REASON_MAX,
    Movement,
    MovementKind,
    MovementLine,
    Pledge,
    PledgeStatus,
    StockLocation,
    Waybill,
    WaybillStatus,
)
from reliefops.stock.services.ledger import (
    LineRequest,
    Posting,
    PostingResult,
    post,
    posting_day,
    replay_or_run,
)


def movement_reverse(
    *,
    actor: Any,
    movement_id: int,
    reason: str,
    reversed_on: dt.date,
    idempotency_key: str | None = None,
) -> PostingResult:
    """Post the exact opposite of a movement, pointing at it; a movement is reversed at most once.

    Reversing a dispatch cancels its waybill (only while it is in transit); reversing a delivery
    puts its waybill back in transit; reversing a receipt takes its quantity back off its pledge. A
    reversal is dated on or after the movement it reverses.
    """

    def run() -> PostingResult:
        with transaction.atomic():
            if not reason.strip():
                raise InvalidInput([Problem(None, "reason", "say why the movement is reversed")])
            if len(reason) > REVERSAL_REASON_MAX:
                raise InvalidInput(
                    [Problem(None, "reason", f"longer than {REVERSAL_REASON_MAX} characters; shorten it")]
                )
            if wrong_day := posting_day(reversed_on, "reversed_on"):
                raise InvalidInput(wrong_day)
            original = Movement.objects.select_for_update().filter(pk=movement_id).first()
            if original is None:
                raise NotFound(f"no movement {movement_id}")
            if original.kind == MovementKind.REVERSAL:
                raise Conflict(f"movement #{original.pk} is a reversal; post the operation again instead")
            earlier = Movement.objects.filter(reverses=original).values_list("pk", "occurred_on").first()
            if earlier is not None:
                # Named, so that whoever tries again can open the reversal that stands.
                raise Conflict(
                    f"movement #{original.pk} was already reversed by reversal #{earlier[0]} "
                    f"({day_text(earlier[1])})"
                )
            if reversed_on < original.occurred_on:
                # Its stock card would show the stock taken back before it came (or left).
                raise InvalidInput(
                    [
                        Problem(
                            None,
                            "reversed_on",
                            "a reversal cannot be dated before the movement it reverses "
                            f"({day_text(original.occurred_on)})",
                        )
                    ]
                )
            if original.waybill_id is not None:
                _waybill_undo(original, original.waybill_id)
            lines = list(original.lines.all())
            if original.kind == MovementKind.RECEIPT:
                _pledge_undo(original, lines)
            locations = StockLocation.objects.in_bulk(
                {line.from_location_id for line in lines} | {line.to_location_id for line in lines}
            )
            movement = post(
                Posting(
                    kind=MovementKind.REVERSAL,
                    occurred_on=reversed_on,
                    actor=actor,
                    reference=original.reference,
                    site_id=original.site_id,
                    waybill_id=original.waybill_id,
                    reverses_id=original.pk,
                    note=reason,
                    idempotency_key=idempotency_key,
                    lines=[
                        LineRequest(
                            item_id=line.item_id,
                            quantity=line.quantity,
                            from_location=locations[line.to_location_id],
                            to_location=locations[line.from_location_id],
                            grant_id=line.grant_id,
                            lot=line.lot,
                            expiry=line.expiry,
                            reason=f"{REVERSAL_PREFIX}{reason}",
                        )
                        for line in lines
                    ],
                    audit_extra={"reverses": original.pk, "reason": reason},
                )
            )
            return PostingResult(movement)

    return replay_or_run(
        idempotency_key, MovementKind.REVERSAL, run, lambda m: PostingResult(m, replayed=True)
    )


def _waybill_undo(original: Movement, waybill_id: int) -> None:
    waybill = Waybill.objects.select_for_update().get(pk=waybill_id)
    if original.kind == MovementKind.DISPATCH:
        if waybill.status != WaybillStatus.IN_TRANSIT:
            raise Conflict(
                f"waybill {waybill.number} is {waybill.get_status_display().lower()}; "
                "reverse its delivery confirmation first"
            )
        waybill.status = WaybillStatus.CANCELLED
    elif original.kind == MovementKind.DELIVERY:
        waybill.status = WaybillStatus.IN_TRANSIT
        waybill.delivered_on = None
    waybill.save(update_fields=["status", "delivered_on"])


def _pledge_undo(receipt: Movement, lines: list[MovementLine]) -> None:
    """Take a reversed receipt's quantity back off its pledge, which is open again if it was received."""
    pledge_id = receipt.pledge_id
    if pledge_id is None:
        # A receipt posted before receipts kept their pledge: its audit record names it.
        after = (
            AuditEvent.objects.filter(
                action="stock.receipt", object_type="movement", object_id=str(receipt.pk)
            )
            .values_list("after", flat=True)
            .first()
        )
        pledge_id = (after or {}).get("pledge_id")
    if pledge_id is None:
        return
    pledge = Pledge.objects.select_for_update().filter(pk=pledge_id).first()
    if pledge is None:
        return
    received = sum(line.quantity for line in lines if line.item_id == pledge.item_id)
    pledge.received_quantity = max(pledge.received_quantity - received, 0)
    if pledge.status == PledgeStatus.RECEIVED and pledge.received_quantity < pledge.quantity:
        pledge.status = PledgeStatus.OPEN
    pledge.save(update_fields=["received_quantity", "status"])
