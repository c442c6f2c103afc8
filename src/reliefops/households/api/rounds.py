"""Households API: distribution rounds planned, listed, opened and closed, households taken off a
list, cards issued, and a round's distribution list at the caller's points."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from typing import Any

from django.http import HttpRequest
from ninja import Header, Query, Status

from reliefops.core.access import (
    access_items,
    access_round_by_id,
    access_round_point,
    access_rounds,
    access_sites,
    distribution_list_point_ids,
    require,
)
from reliefops.core.api import DETAIL_ERRORS, ERRORS, PageInput
from reliefops.core.errors import InvalidInput, NotFound, Problem
from reliefops.core.roles import Right
from reliefops.core.text import counted
from reliefops.households import selectors
from reliefops.households.api.routing import KEY_HELP, WRITE_ERRORS, code_or_id, router
from reliefops.households.cards import printed
from reliefops.households.models import DistributionRound
from reliefops.households.schemas import (
    DistributionListPageOut,
    DistributionListRowOut,
    RoundCardsOut,
    RoundChangedOut,
    RoundIn,
    RoundListOut,
    RoundOut,
    RoundStatusIn,
    RoundUnlistedOut,
    RoundUnlistIn,
)
from reliefops.households.services import (
    PackageInput,
    PointInput,
    RoundInput,
    cards_issue,
    entitlement_cancel,
    personal_data_viewed,
    round_make_list,
    round_plan,
    round_status_change,
)
from reliefops.places.models import AdminArea
from reliefops.stock.schemas import scoped_key


@router.get("/rounds", response={200: list[RoundOut], **ERRORS}, summary="Distribution rounds, latest first")
def round_list(request: HttpRequest) -> Any:
    return [RoundOut.of(r) for r in access_rounds(request.user).order_by("-starts_on", "code")]


def _round_input(request: HttpRequest, payload: RoundIn) -> tuple[RoundInput, list[Problem]]:
    """The round asked for, its sites, areas, items and earlier rounds by id, and a problem for each
    name not found: the service refuses those together with the round's own problems. A point or
    package line whose name is not found keeps its row with an id of 0, so that its other values are
    checked."""
    user = request.user
    problems: list[Problem] = []
    sites = {s.code: s for s in access_sites(user)}
    by_id = {s.pk: s for s in sites.values()}
    areas = dict(AdminArea.objects.values_list("pcode", "pk"))
    points = []
    for row, point in enumerate(payload.points, start=1):
        ref = code_or_id(point.site)
        site = by_id.get(ref) if isinstance(ref, int) else sites.get(ref)
        if site is None:
            problems.append(Problem(row, "points.site", f"unknown site {point.site!r}"))
        serves = areas.get(point.serves.strip()) if point.serves.strip() else None
        if point.serves.strip() and serves is None:
            problems.append(Problem(row, "points.serves", f"no admin area with P-code {point.serves!r}"))
        points.append(PointInput(site_id=site.pk if site is not None else 0, serves_area_id=serves))
    items = dict(access_items(user).values_list("code", "pk"))
    package = []
    for row, line in enumerate(payload.package, start=1):
        item = items.get(line.item.strip())
        if item is None:
            problems.append(Problem(row, "package.item", f"unknown item {line.item!r}"))
        package.append(PackageInput(item or 0, line.per_household, line.per_member, line.at_most))
    area_ids = []
    for pcode in dict.fromkeys(payload.areas):  # a name given twice is one problem
        if pcode not in areas:
            problems.append(Problem(None, "areas", f"no admin area with P-code {pcode!r}"))
        else:
            area_ids.append(areas[pcode])
    site_ids = []
    for code in dict.fromkeys(payload.sites):
        if code not in sites:
            problems.append(Problem(None, "sites", f"unknown site {code!r}"))
        else:
            site_ids.append(sites[code].pk)
    rounds = dict(DistributionRound.objects.values_list("code", "pk"))
    earlier = []
    for code in dict.fromkeys(payload.not_served_in):
        if code not in rounds:
            problems.append(Problem(None, "not_served_in", f"no round {code!r}"))
        else:
            earlier.append(rounds[code])
    round_input = RoundInput(
        code=payload.code,
        name=payload.name,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        points=points,
        package=package,
        area_ids=area_ids,
        site_ids=site_ids,
        living=payload.living,
        elevation_bands=payload.elevation_bands,
        vulnerabilities=payload.vulnerabilities,
        house_damage=payload.house_damage,
        not_served_in_ids=earlier,
    )
    return round_input, problems


@router.post(
    "/rounds",
    right=Right.MANAGE_ROUNDS,
    response={201: RoundChangedOut, 200: RoundChangedOut, **WRITE_ERRORS},
    summary="Plan a distribution round",
    description="A refused round (422) lists every problem of the request at once, each named by its "
    "place in the body (`points.0.site`, `package.1.item`, `areas`; lists counted from 0): the names not "
    "found (sites, P-codes, items, earlier rounds) together with the round's own problems. Nothing is "
    "written. A repeat with the same `Idempotency-Key` answers 200 with the round planned the first time "
    "and `replayed: true`; a key that planned another round is refused (409).",
)
def round_new(
    request: HttpRequest,
    payload: RoundIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    require(request.user, Right.MANAGE_ROUNDS)
    round_input, problems = _round_input(request, payload)
    try:
        planned = round_plan(
            actor=request.user,
            round_input=round_input,
            note=payload.note,
            caller_problems=problems,
            idempotency_key=scoped_key(request.user, idempotency_key),
        )
    except InvalidInput as exc:
        raise InvalidInput([_row_field(p) for p in exc.problems], summary=exc.summary) from None
    body = RoundChangedOut.changed(planned.round, replayed=planned.replayed, message=planned.message)
    return Status(200 if planned.replayed else 201, body)


# A point's or a package line's field as the request names it (`package.per_household`, with the
# line's row), for the service's problems that name it as the web form does (`per_household`); the
# router then names it by its place in the body (`package.0.per_household`).
_ROW_FIELDS = {
    "points": "points.site",
    "serves_area": "points.serves",
    "item": "package.item",
    "per_household": "package.per_household",
    "per_member": "package.per_member",
    "at_most": "package.at_most",
}


def _row_field(problem: Problem) -> Problem:
    if problem.row is None:
        return problem
    return Problem(problem.row, _ROW_FIELDS.get(problem.field, problem.field), problem.reason)


@router.get("/rounds/{round_id}", response={200: RoundOut, **DETAIL_ERRORS}, summary="One distribution round")
def round_detail(request: HttpRequest, round_id: int) -> Any:
    return RoundOut.of(access_round_by_id(request.user, round_id))


@router.post(
    "/rounds/{round_id}/list",
    right=Right.MANAGE_ROUNDS,
    response={200: RoundListOut, **WRITE_ERRORS},
    summary="Make (or bring up to date) the round's distribution list of eligible households",
)
def round_list_make(request: HttpRequest, round_id: int) -> Any:
    round_obj = access_round_by_id(request.user, round_id, Right.MANAGE_ROUNDS)
    result = round_make_list(actor=request.user, round_id=round_obj.pk)
    return RoundListOut(
        added=result.added,
        already_listed=result.already_listed,
        without_point=result.without_point,
        message=result.message,
    )


@router.post(
    "/rounds/{round_id}/status",
    right=Right.MANAGE_ROUNDS,
    response={200: RoundChangedOut, **WRITE_ERRORS},
    summary="Open a listed round for handovers, or close it (closing is final)",
    description="Asked for a status the round has already (a repeated request), it changes nothing and "
    'answers `replayed: true` ("Round CAMP-2006 was already closed on …: nothing changed.").',
)
def round_status(request: HttpRequest, round_id: int, payload: RoundStatusIn) -> Any:
    round_obj = access_round_by_id(request.user, round_id, Right.MANAGE_ROUNDS)
    result = round_status_change(actor=request.user, round_id=round_obj.pk, status=payload.status)
    return RoundChangedOut.changed(result.round, replayed=not result.changed, message=result.message)


@router.post(
    "/rounds/{round_id}/list/removals",
    right=Right.MANAGE_ROUNDS,
    response={200: RoundUnlistedOut, **WRITE_ERRORS},
    summary="Take a household off the round's distribution list, with the reason",
    description="For a household no longer eligible (after a correction) or not to be served in the "
    "round: it is no longer listed, and the list, made again, does not add it back. Refused (409) for a "
    "household served in the round and in a closed round. Asked again, it changes nothing and answers "
    "`replayed: true`.",
)
def round_unlist(request: HttpRequest, round_id: int, payload: RoundUnlistIn) -> Any:
    round_obj = access_round_by_id(request.user, round_id, Right.MANAGE_ROUNDS)
    result = entitlement_cancel(
        actor=request.user, round_id=round_obj.pk, household_id=payload.household, reason=payload.reason
    )
    return RoundUnlistedOut(
        round=round_obj.code, household_id=payload.household, replayed=result.replayed, message=result.message
    )


@router.post(
    "/rounds/{round_id}/cards",
    right=Right.MANAGE_ROUNDS,
    response={200: RoundCardsOut, **WRITE_ERRORS},
    summary="Issue a card to every listed household that holds none",
)
def round_cards(request: HttpRequest, round_id: int) -> Any:
    round_obj = access_round_by_id(request.user, round_id, Right.MANAGE_ROUNDS)
    issued = cards_issue(actor=request.user, round_id=round_obj.pk)
    return RoundCardsOut(issued=issued, message=f"{counted(issued, 'card')} issued.")


@router.get(
    "/rounds/{round_id}/distribution-list",
    response={200: DistributionListPageOut, **DETAIL_ERRORS},
    summary="The round's households at your points: names and card tokens, due and delivered (audited)",
)
def round_distribution_list(
    request: HttpRequest,
    round_id: int,
    page: Query[PageInput],
    point: str = Query("", description="Code (or id) of one of your points; all of them when empty."),
) -> Any:
    allowed = distribution_list_point_ids(request.user)
    round_obj = access_round_by_id(request.user, round_id, Right.VIEW_DISTRIBUTION_LISTS)
    if point:
        try:
            found = access_round_point(
                request.user, round_obj, code_or_id(point), Right.VIEW_DISTRIBUTION_LISTS
            )
        except NotFound as exc:  # a filter's bad value, not a missing address
            raise InvalidInput([Problem(None, "point", exc.message)]) from exc
        allowed = {found.pk}
    rows = selectors.distribution_list(round_obj, point_ids=allowed)
    shown = rows[page.offset : page.offset + page.limit]
    personal_data_viewed(
        actor=request.user,
        household_ids=[r.household.pk for r in shown],
        where=f"API distribution list {round_obj.code}",
    )
    codes = dict(round_obj.package.values_list("item_id", "item__code"))
    return DistributionListPageOut(
        items=[
            DistributionListRowOut(
                household_id=r.household.pk,
                head_name=r.household.head_name,
                father_or_husband_name=r.household.father_or_husband_name,
                origin_village=r.household.origin_village,
                card_token=printed(r.card_token) if r.card_token else "",
                point=r.entitlement.point.code,
                members=r.entitlement.members,
                entitled={codes[i]: q for i, q in r.entitled.items()},
                delivered={codes[i]: q for i, q in r.delivered.items() if i in codes},
                status=r.status,
            )
            for r in shown
        ],
        count=len(rows),
    )
