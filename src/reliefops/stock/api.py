"""API of the stock ledger: post every stock operation; read stock on hand, cards, pipeline, reports.

Each handler resolves the names in the request (items by code, sites by id or code, grants by
reference) through `Refs`, which checks the caller's right and scope in core.access, then calls one
service or selector. A posting's service is given the names `Refs` did not find, and refuses them
together with every other problem of the request. A posting answers 201 with what it created, or
200 with `"replayed": true` when its `Idempotency-Key` was used before (then nothing was posted
again).
"""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from typing import Any

from django.http import HttpRequest
from ninja import Header, Query, Status
from ninja.pagination import paginate

from reliefops.core.access import (
    access_item_by_code,
    access_movement_by_id,
    access_stock_grant,
    access_stock_site,
    access_waybill_by_id,
    require,
    stock_visible_site_ids,
)
from reliefops.core.api import DETAIL_ERRORS, ERRORS, ApiRouter, ErrorOut, Page
from reliefops.core.errors import InvalidInput, NotFound, Problem
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.stock import selectors
from reliefops.stock.schemas import (
    CardPeriod,
    CountIn,
    CountPostingOut,
    DeliveryIn,
    DispatchIn,
    DispatchOut,
    DistributedOut,
    DistributionIn,
    DonorReportOut,
    HandoverIn,
    KittingIn,
    LossIn,
    MovementDetailOut,
    MovementFilter,
    MovementListOut,
    OnHandFilter,
    OnHandOut,
    PipelineOut,
    PledgeCancelIn,
    PledgeCancelledOut,
    PledgeIn,
    PledgePostedOut,
    PostingOut,
    ReceiptIn,
    Refs,
    ReversalIn,
    StockCardOut,
    StockLineIn,
    WaybillDetailOut,
    WaybillFilter,
    WaybillListOut,
    scoped_key,
    today,
)
from reliefops.stock.services import (
    UNRESOLVED,
    CountLine,
    DeliveryLine,
    ReceiptLine,
    StockLine,
    kits_assemble,
    kits_break,
    movement_reverse,
    pledge_cancel,
    pledge_create,
    stock_count,
    stock_distribute,
    stock_handover_to_partner,
    stock_receive,
    stock_report_loss,
    waybill_confirm_delivery,
    waybill_dispatch,
)

router = ApiRouter(tags=["stock"])

# A posting may also be refused by a rule (400), name a missing object (404) or repeat one (409).
POST_ERRORS: dict[int, Any] = {**DETAIL_ERRORS, 400: ErrorOut, 409: ErrorOut}
POSTED = {201: PostingOut, 200: PostingOut, **POST_ERRORS}
KEY_HELP = (
    "Any text of up to 80 characters, new for each posting (a UUID will do). Sending the same key "
    "again returns the first result with `replayed: true` and posts nothing; sent with another site, "
    "other items or other quantities than the first posting's, it is refused (409)."
)


def _key(request: HttpRequest, key: str | None) -> str | None:
    return scoped_key(request.user, key)


def _status(result: Any) -> Status[Any]:
    """201 for what was posted now; 200 for a repeat, or for a request that had nothing to post."""
    return Status(200 if result.replayed or result.movement is None else 201, result)


def _stock_lines(refs: Refs, lines: list[StockLineIn]) -> list[StockLine]:
    return [
        StockLine(
            item_id=refs.item(line.item, row),
            quantity=line.quantity,
            grant_id=refs.grant(line.grant, row),
            lot=line.lot,
            expiry=line.expiry,
        )
        for row, line in enumerate(lines, start=1)
    ]


def _site_ref(site: str) -> int | str:
    """A site in a path: digits are an id, anything else a code."""
    number = whole_id(site)
    return number if number is not None else site


# --- postings -------------------------------------------------------------------------------------


@router.post(
    "/receipts",
    right=Right.POST_STOCK,
    response=POSTED,
    summary="Receive goods from a donor or supplier against a grant (goods received note)",
)
def receipt_create(
    request: HttpRequest,
    payload: ReceiptIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    refs = Refs(request.user, Right.POST_STOCK)
    site_id = refs.site_id(payload.site)
    grant_id = refs.grant(payload.grant) or UNRESOLVED
    lines = [
        ReceiptLine(
            item_id=refs.item(line.item, row),
            quantity=line.quantity,
            packs=line.packs,
            pack=line.pack,
            lot=line.lot,
            expiry=line.expiry,
        )
        for row, line in enumerate(payload.lines, start=1)
    ]
    key = _key(request, idempotency_key)
    try:
        result = stock_receive(
            actor=request.user,
            site_id=site_id,
            grant_id=grant_id,
            lines=lines,
            grn_number=payload.grn_number,
            received_on=payload.received_on or today(),
            pledge_id=payload.pledge,
            note=payload.note,
            idempotency_key=key,
            caller_problems=refs.problems,
        )
    except NotFound as exc:
        # The pledge is a reference in the body, not the address: an unknown one (or one the caller
        # may not see, told in the same words) is a bad value of the field `pledge`.
        if payload.pledge is not None and exc.message == f"no pledge {payload.pledge}":
            raise InvalidInput([Problem(None, "pledge", exc.message)]) from exc
        raise
    return _status(result)


@router.post(
    "/pledges",
    right=Right.POST_STOCK,
    response={200: PledgePostedOut, 201: PledgePostedOut, **POST_ERRORS},
    summary="Record a pledge: stock a donor promised, expected on a day (pipeline, not stock)",
)
def pledge_record(
    request: HttpRequest,
    payload: PledgeIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    refs = Refs(request.user, Right.POST_STOCK)
    site_id = refs.site_id(payload.destination, "destination")
    grant_id = refs.grant(payload.grant) or UNRESOLVED
    item_id = refs.item(payload.item)
    pledge = pledge_create(
        actor=request.user,
        grant_id=grant_id,
        item_id=item_id,
        quantity=payload.quantity,
        destination_site_id=site_id,
        expected_on=payload.expected_on,
        reference=payload.reference,
        idempotency_key=_key(request, idempotency_key),
        caller_problems=refs.problems,
    )
    return Status(200 if getattr(pledge, "replayed", False) else 201, pledge)


@router.post(
    "/pledges/{pledge_id}/cancellation",
    right=Right.POST_STOCK,
    response={200: PledgeCancelledOut, **POST_ERRORS},
    summary="Cancel an open pledge the donor will not send (or not the rest of it), with the reason",
)
def pledge_cancellation(request: HttpRequest, pledge_id: int, payload: PledgeCancelIn) -> Any:
    # The service finds the pledge among those the caller may see, and checks the right at its site.
    return pledge_cancel(actor=request.user, pledge_id=pledge_id, reason=payload.reason)


@router.post(
    "/waybills",
    right=Right.POST_STOCK,
    response={201: DispatchOut, 200: DispatchOut, **POST_ERRORS},
    summary="Dispatch a consignment under a waybill: stock leaves the site into transit",
)
def waybill_create(
    request: HttpRequest,
    payload: DispatchIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    refs = Refs(request.user, Right.POST_STOCK)
    from_site_id = refs.site_id(payload.from_site, "from_site")
    to_site_id = refs.site_id(payload.to_site, "to_site", scoped=False)
    lines = _stock_lines(refs, payload.lines)
    key = _key(request, idempotency_key)
    result = waybill_dispatch(
        actor=request.user,
        from_site_id=from_site_id,
        to_site_id=to_site_id,
        lines=lines,
        dispatched_on=payload.dispatched_on or today(),
        expected_on=payload.expected_on,
        transport=payload.transport,
        vehicle=payload.vehicle,
        driver=payload.driver,
        number=payload.number,
        idempotency_key=key,
        caller_problems=refs.problems,
    )
    return _status(result)


@router.post(
    "/waybills/{waybill_id}/delivery",
    right=Right.POST_STOCK,
    response=POSTED,
    summary="Confirm a waybill's delivery at the receiving site: received, damaged and short quantities",
)
def waybill_delivery(
    request: HttpRequest,
    waybill_id: int,
    payload: DeliveryIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    waybill = access_waybill_by_id(request.user, waybill_id, Right.POST_STOCK)
    refs = Refs(request.user, Right.POST_STOCK)
    lines = [
        DeliveryLine(
            item_id=refs.item(line.item, row),
            received=line.received,
            damaged=line.damaged,
            damage_reason=line.damage_reason,
            short_reason=line.short_reason,
        )
        for row, line in enumerate(payload.lines, start=1)
    ]
    key = _key(request, idempotency_key)
    result = waybill_confirm_delivery(
        actor=request.user,
        waybill_id=waybill.pk,
        delivered_on=payload.delivered_on or today(),
        lines=lines,
        excess_reason=payload.excess_reason,
        idempotency_key=key,
        caller_problems=refs.problems,
    )
    return _status(result)


@router.post(
    "/distributions",
    right=Right.DISTRIBUTE,
    response=POSTED,
    summary="Report a bulk distribution: items a distribution point handed out to people",
)
def distribution_create(
    request: HttpRequest,
    payload: DistributionIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    refs = Refs(request.user, Right.DISTRIBUTE)
    site_id = refs.site_id(payload.site)
    lines = _stock_lines(refs, payload.lines)
    key = _key(request, idempotency_key)
    result = stock_distribute(
        actor=request.user,
        site_id=site_id,
        lines=lines,
        distributed_on=payload.distributed_on or today(),
        reference=payload.reference,
        note=payload.note,
        idempotency_key=key,
        caller_problems=refs.problems,
    )
    return _status(result)


@router.post(
    "/handovers",
    right=Right.DISTRIBUTE,
    response=POSTED,
    summary="Hand stock over to a partner organisation to distribute",
)
def handover_create(
    request: HttpRequest,
    payload: HandoverIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    refs = Refs(request.user, Right.DISTRIBUTE)
    site_id = refs.site_id(payload.site)
    organisation_id = refs.organisation(payload.organisation)
    lines = _stock_lines(refs, payload.lines)
    key = _key(request, idempotency_key)
    result = stock_handover_to_partner(
        actor=request.user,
        site_id=site_id,
        organisation_id=organisation_id,
        lines=lines,
        handed_on=payload.handed_on or today(),
        reference=payload.reference,
        note=payload.note,
        idempotency_key=key,
        caller_problems=refs.problems,
    )
    return _status(result)


@router.post(
    "/losses",
    right=Right.POST_STOCK,
    response=POSTED,
    summary="Report stock lost or damaged at a site (theft, weather, spoilage, damage)",
)
def loss_create(
    request: HttpRequest,
    payload: LossIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    refs = Refs(request.user, Right.POST_STOCK)
    site_id = refs.site_id(payload.site)
    lines = _stock_lines(refs, payload.lines)
    key = _key(request, idempotency_key)
    result = stock_report_loss(
        actor=request.user,
        site_id=site_id,
        lines=lines,
        reason=payload.reason,
        occurred_on=payload.occurred_on or today(),
        note=payload.note,
        idempotency_key=key,
        caller_problems=refs.problems,
    )
    return _status(result)


@router.post(
    "/counts",
    right=Right.POST_STOCK,
    response={201: CountPostingOut, 200: CountPostingOut, **POST_ERRORS},
    summary="Record a physical count; the differences from what the site held that day are posted as "
    "count adjustments (200 and no movement when there are none)",
)
def count_create(
    request: HttpRequest,
    payload: CountIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    refs = Refs(request.user, Right.POST_STOCK)
    site_id = refs.site_id(payload.site)
    counts = [
        CountLine(
            item_id=refs.item(line.item, row),
            counted=line.counted,
            surplus_grant_id=refs.grant(line.surplus_grant, row, "surplus_grant"),
        )
        for row, line in enumerate(payload.lines, start=1)
    ]
    key = _key(request, idempotency_key)
    result = stock_count(
        actor=request.user,
        site_id=site_id,
        counts=counts,
        counted_on=payload.counted_on or today(),
        note=payload.note,
        idempotency_key=key,
        caller_problems=refs.problems,
    )
    return _status(result)


@router.post(
    "/kits/assemble",
    right=Right.POST_STOCK,
    response=POSTED,
    summary="Assemble kits from their components at a site",
)
def kit_assemble(
    request: HttpRequest,
    payload: KittingIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    return _kitting(request, payload, idempotency_key, kits_assemble, "assembled_on")


@router.post(
    "/kits/break",
    right=Right.POST_STOCK,
    response=POSTED,
    summary="Break kits back into their components at a site",
)
def kit_break(
    request: HttpRequest,
    payload: KittingIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    return _kitting(request, payload, idempotency_key, kits_break, "broken_on")


def _kitting(
    request: HttpRequest, payload: KittingIn, idempotency_key: str | None, service: Any, date_arg: str
) -> Any:
    """Assembling and breaking kits take the same input; only the service and its date differ."""
    refs = Refs(request.user, Right.POST_STOCK)
    site_id = refs.site_id(payload.site)
    kit_id = refs.kit(payload.kit)
    grant_id = refs.grant(payload.grant)
    key = _key(request, idempotency_key)
    result = service(
        actor=request.user,
        site_id=site_id,
        kit_item_id=kit_id,
        quantity=payload.quantity,
        grant_id=grant_id,
        idempotency_key=key,
        **{date_arg: payload.on or today()},
        caller_problems=refs.problems,
    )
    return _status(result)


@router.post(
    "/movements/{movement_id}/reversal",
    right=Right.POST_STOCK,
    response=POSTED,
    summary="Reverse a posted movement: post its exact opposite, naming it (a movement is never edited)",
)
def movement_reversal(
    request: HttpRequest,
    movement_id: int,
    payload: ReversalIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    movement = access_movement_by_id(request.user, movement_id, Right.POST_STOCK)
    result = movement_reverse(
        actor=request.user,
        movement_id=movement.pk,
        reason=payload.reason,
        reversed_on=payload.reversed_on or today(),
        idempotency_key=_key(request, idempotency_key),
    )
    return _status(result)


# --- reads ----------------------------------------------------------------------------------------


@router.get(
    "/on-hand",
    response={200: list[OnHandOut], **ERRORS},
    summary="Stock on hand by site and item (and grant), at the sites the caller may see",
)
@paginate(Page)
def on_hand_list(request: HttpRequest, filters: Query[OnHandFilter]) -> Any:
    refs = Refs(request.user, Right.VIEW_STOCK)
    site_ids = stock_visible_site_ids(request.user)
    if filters.site is not None:
        site_ids = {refs.site_id(filters.site)}
    item_ids = {refs.item(filters.item)} if filters.item else None
    refs.check()
    return selectors.stock_on_hand(site_ids=site_ids, item_ids=item_ids, by_grant=filters.by_grant)


@router.get(
    "/sites/{site}/items/{code}/card",
    response={200: StockCardOut, **DETAIL_ERRORS},
    summary="Stock card of one item at one site: opening, every movement in and out, closing",
)
def stock_card(request: HttpRequest, site: str, code: str, period: Query[CardPeriod]) -> Any:
    found = access_stock_site(request.user, _site_ref(site), Right.VIEW_STOCK)
    item = access_item_by_code(request.user, code)
    end = period.end or today()
    start = period.start or end.replace(day=1)
    if start > end:
        raise InvalidInput([Problem(None, "start", "the period starts after it ends")])
    card = selectors.stock_card(site_id=found.pk, item_id=item.pk, start=start, end=end)
    return {
        "site": found,
        "item": item,
        "start": card.start,
        "end": card.end,
        "opening": card.opening,
        "total_in": card.total_in,
        "total_out": card.total_out,
        "closing": card.closing,
        "lines": card.lines,
    }


@router.get(
    "/pipeline",
    response={200: PipelineOut, **ERRORS},
    summary="Pipeline: open pledges, waybills in transit, and overdue waybills with days overdue",
)
def pipeline(request: HttpRequest) -> Any:
    found = selectors.pipeline(today=today(), site_ids=stock_visible_site_ids(request.user))
    return {
        "pledges": found.pledges,
        "in_transit": found.in_transit,
        "overdue": [{"waybill": waybill, "days_overdue": days} for waybill, days in found.overdue],
    }


@router.get(
    "/grants/{grant}/report",
    response={200: DonorReportOut, **DETAIL_ERRORS},
    summary="Donor report of a grant: received, distributed, handed to partners, lost, in transit, on hand",
)
def donor_report(request: HttpRequest, grant: str) -> Any:
    number = whole_id(grant)
    found = access_stock_grant(request.user, number if number is not None else grant)
    return {"grant": found, "rows": selectors.donor_report(grant_id=found.pk).rows}


@router.get(
    "/distributed",
    response={200: DistributedOut, **ERRORS},
    summary=(
        "Items distributed to households and through partners at the sites the caller may see,"
        " under the published figures' keys"
    ),
)
def distributed(request: HttpRequest) -> Any:
    require(request.user, Right.VIEW_STOCK)
    return {"iom_distributed": selectors.distributed_totals(stock_visible_site_ids(request.user))}


@router.get(
    "/waybills",
    response={200: list[WaybillListOut], **ERRORS},
    summary="Waybills from or to the sites the caller may see, newest first",
)
@paginate(Page)
def waybill_list(request: HttpRequest, filters: Query[WaybillFilter]) -> Any:
    refs = Refs(request.user, Right.VIEW_STOCK)
    site_id = refs.site_id(filters.site) if filters.site is not None else None
    item_id = refs.item(filters.item) if filters.item is not None else None
    refs.check()
    waybills = selectors.waybill_list(
        site_ids=stock_visible_site_ids(request.user),
        site_id=site_id,
        status=filters.status or "",
        overdue_on=today() if filters.overdue else None,
        item_id=item_id,
    )
    # A page's waybills come with what each carries, item by item, in one more query.
    return selectors.WaybillPages(waybills)


@router.get(
    "/waybills/{waybill_id}",
    response={200: WaybillDetailOut, **DETAIL_ERRORS},
    summary="One waybill, with its lines and its movements",
)
def waybill_detail(request: HttpRequest, waybill_id: int) -> Any:
    return access_waybill_by_id(request.user, waybill_id, Right.VIEW_STOCK)


@router.get(
    "/movements",
    response={200: list[MovementListOut], **ERRORS},
    summary="Posted movements at the sites the caller may see, newest first",
)
@paginate(Page)
def movement_list(request: HttpRequest, filters: Query[MovementFilter]) -> Any:
    refs = Refs(request.user, Right.VIEW_STOCK)
    site_id = refs.site_id(filters.site) if filters.site is not None else None
    item_id = refs.item(filters.item) if filters.item is not None else None
    if filters.start is not None and filters.end is not None and filters.start > filters.end:
        refs.problems.append(Problem(None, "start", "the period starts after it ends"))  # as the stock card
    refs.check()
    return selectors.movement_list(
        site_ids=stock_visible_site_ids(request.user),
        site_id=site_id,
        kind=filters.kind or "",
        start=filters.start,
        end=filters.end,
        item_id=item_id,
    )


@router.get(
    "/movements/{movement_id}",
    response={200: MovementDetailOut, **DETAIL_ERRORS},
    summary="One posted movement, with its lines",
)
def movement_detail(request: HttpRequest, movement_id: int) -> Any:
    return access_movement_by_id(request.user, movement_id, Right.VIEW_STOCK)
