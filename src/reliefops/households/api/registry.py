"""Households API: counts for every role, and the registry of households with their personal
data (each answer an audit event): its list and export, a household checked before it is
registered, registered, read, corrected, and issued a new card. Likely duplicates answer 409 until
named as seen.

Every path under /households/ is here, in this order: one with a fixed segment (`/households/export`,
`/households/check`) is declared before `/households/{household_id}`, which would take it."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Status

from reliefops.core.access import (
    access_household_by_id,
    access_household_to_register,
    access_households,
    can_export_personal_data,
    require,
)
from reliefops.core.api import DETAIL_ERRORS, ERRORS, ErrorOut, PageInput
from reliefops.core.errors import AccessDenied, InvalidInput, Problem
from reliefops.core.roles import Right
from reliefops.households import selectors
from reliefops.households.api.routing import KEY_HELP, WRITE_ERRORS, router
from reliefops.households.cards import printed
from reliefops.households.matching import Match
from reliefops.households.models import MEMBER_NAMES, Household, HouseholdStatus
from reliefops.households.schemas import (
    HouseholdCardIn,
    HouseholdCardOut,
    HouseholdCheckOut,
    HouseholdCorrectedOut,
    HouseholdCorrectionIn,
    HouseholdCountsOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdPageOut,
    LikelyDuplicateOut,
    LikelyDuplicatesFoundOut,
    RegisteredOut,
    RegisterIn,
)
from reliefops.households.services import (
    DuplicatesFound,
    Lookups,
    card_reissue,
    household_check,
    household_register,
    household_update,
    households_export,
    personal_data_viewed,
)
from reliefops.places.models import AdminArea
from reliefops.stock.schemas import scoped_key


def _in_body(problem: Problem) -> Problem:
    """A household's problem named by its place in the body: an age band (a column of a
    registration file) is `members.females_0_5`."""
    if problem.field in MEMBER_NAMES:
        return Problem(problem.row, f"members.{problem.field}", problem.reason)
    return problem


@contextmanager
def _named_in_body() -> Iterator[None]:
    try:
        yield
    except InvalidInput as exc:
        exc.problems = [_in_body(p) for p in exc.problems]
        raise


def _duplicates_out(user: Any, matches: list[Match], where: str) -> list[LikelyDuplicateOut]:
    """The likely duplicates with their names (the caller may see personal data); the view is audited."""
    ids = [m.second_id if m.first_id == 0 else m.first_id for m in matches]
    households = {h.pk: h for h in Household.objects.filter(pk__in=ids)}
    personal_data_viewed(actor=user, household_ids=ids, where=where)
    return [
        LikelyDuplicateOut(
            household_id=household_id,
            score=match.score,
            reasons=list(match.reasons),
            head_name=households[household_id].head_name,
            father_or_husband_name=households[household_id].father_or_husband_name,
            origin_village=households[household_id].origin_village,
        )
        for household_id, match in zip(ids, matches, strict=True)
        if household_id in households
    ]


@router.get(
    "/counts",
    response={200: HouseholdCountsOut, **ERRORS},
    summary="How many households are registered: by district, by camp, female-headed (counts only)",
)
def counts(request: HttpRequest) -> Any:
    require(request.user, Right.VIEW_HOUSEHOLD_COUNTS)
    figures = selectors.household_counts()
    return figures  # HouseholdCountsOut names the selector's grouped rows


@router.get(
    "/households",
    response={200: HouseholdPageOut, **ERRORS},
    summary="Households with their personal data, newest first (each answer is an audit event)",
)
def household_list(
    request: HttpRequest,
    page: Query[PageInput],
    q: str = Query("", description="Name, father's or husband's name, village, CNIC or phone digits, or id."),
    status: str = Query("", description="`active` or `merged`; every household when empty."),
    area: str = Query("", description="P-code of the area (or district) of origin, in any case."),
) -> Any:
    access_households(request.user)
    problems = []
    status = status.strip()
    if status and status not in HouseholdStatus.values:
        choices = " or ".join(f"'{value}'" for value in HouseholdStatus.values)
        problems.append(Problem(None, "status", f"Input should be {choices}"))
    area = area.strip().upper()
    area_id = AdminArea.objects.filter(pcode=area).values_list("pk", flat=True).first() if area else None
    if area and area_id is None:
        problems.append(Problem(None, "area", f"no admin area with P-code {area!r}"))
    if problems:
        raise InvalidInput(problems)
    found = selectors.households_search(q=q, status=status, area_id=area_id)
    rows = list(found[page.offset : page.offset + page.limit])
    personal_data_viewed(actor=request.user, household_ids=[h.pk for h in rows], where="API household list")
    return HouseholdPageOut(items=[HouseholdOut.of(h) for h in rows], count=found.count())


@router.get(
    "/households/export",
    response={200: None, **ERRORS},
    summary="Households as CSV with HXL tags; personal columns with `personal=true` and the export right",
)
def household_export(
    request: HttpRequest,
    personal: bool = Query(
        False, description="Add names, identity numbers and phones (needs the export right)."
    ),
) -> HttpResponse:
    access_households(request.user)
    if personal and not can_export_personal_data(request.user):
        raise AccessDenied("exporting personal data is a right granted per user; you do not hold it")
    export = households_export(
        actor=request.user,
        households=Household.objects.all(),
        with_personal_data=personal,
        where="API export",
    )
    response = HttpResponse(export.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="households.csv"'
    return response


@router.post(
    "/households/check",
    right=Right.REGISTER_HOUSEHOLDS,
    # 400: a body that is not JSON; the household's own problems are in the 200's `problems`
    response={200: HouseholdCheckOut, **ERRORS, 400: ErrorOut},
    summary="Check a household before registering it: its problems and its likely duplicates",
)
def household_check_draft(request: HttpRequest, payload: HouseholdIn) -> Any:
    require(request.user, Right.REGISTER_HOUSEHOLDS)
    require(request.user, Right.VIEW_PERSONAL_DATA)
    draft, problems = household_check(payload.to_input(), lookups=Lookups.load())
    matches = selectors.likely_duplicates(draft.person()) if draft else []
    return HouseholdCheckOut(
        problems=[{"row": p.row, "field": p.field, "reason": p.reason} for p in map(_in_body, problems)],
        duplicates=_duplicates_out(request.user, matches, "API registration check"),
    )


@router.get(
    "/households/{household_id}",
    response={200: HouseholdOut, **DETAIL_ERRORS},
    summary="One household with its personal data (an audit event)",
)
def household_detail(request: HttpRequest, household_id: int) -> Any:
    household = access_household_by_id(request.user, household_id)
    personal_data_viewed(actor=request.user, household_ids=[household.pk], where="API household")
    return HouseholdOut.of(household)


@router.post(
    "/households",
    right=Right.REGISTER_HOUSEHOLDS,
    response={**WRITE_ERRORS, 201: RegisteredOut, 200: RegisteredOut, 409: LikelyDuplicatesFoundOut},
    summary="Register a household; likely duplicates answer 409 until named in `duplicates_seen`",
)
def household_create(
    request: HttpRequest,
    payload: RegisterIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    require(request.user, Right.REGISTER_HOUSEHOLDS)
    key = scoped_key(request.user, idempotency_key)
    try:
        with _named_in_body():
            result = household_register(
                actor=request.user,
                data=payload.to_input(),
                duplicates_seen=payload.duplicates_seen,
                idempotency_key=key,
            )
    except DuplicatesFound as exc:
        found = _duplicates_out(request.user, exc.matches, "API registration")
        return Status(409, LikelyDuplicatesFoundOut(detail=exc.message, duplicates=found))
    household = Household.objects.select_related("origin_area", "current_site").get(pk=result.household.pk)
    if result.replayed:
        # Nothing was registered now, yet the answer shows the household's personal data again.
        personal_data_viewed(
            actor=request.user, household_ids=[household.pk], where="API registration replay"
        )
    queued = [m.second_id if m.first_id == 0 else m.first_id for m in result.duplicates]
    body = RegisteredOut(
        household=HouseholdOut.of(household),
        replayed=result.replayed,
        message=result.message,
        duplicates_queued=queued,
    )
    return Status(200 if result.replayed else 201, body)


@router.patch(
    "/households/{household_id}",
    right=Right.REGISTER_HOUSEHOLDS,
    response={**WRITE_ERRORS, 200: HouseholdCorrectedOut, 409: LikelyDuplicatesFoundOut},
    summary="Correct a household's registration (only the fields given); likely duplicates answer 409",
)
def household_correct(
    request: HttpRequest,
    household_id: int,
    payload: HouseholdCorrectionIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    household = access_household_to_register(request.user, household_id)
    require(request.user, Right.VIEW_PERSONAL_DATA)
    try:
        with _named_in_body():
            result = household_update(
                actor=request.user,
                household_id=household.pk,
                changes=payload.changes(),
                reason=payload.reason,
                duplicates_seen=payload.duplicates_seen,
                idempotency_key=scoped_key(request.user, idempotency_key),
            )
    except DuplicatesFound as exc:
        found = _duplicates_out(request.user, exc.matches, "API correction")
        return Status(409, LikelyDuplicatesFoundOut(detail=exc.message, duplicates=found))
    corrected = Household.objects.select_related("origin_area", "current_site").get(pk=household.pk)
    if result.replayed:
        # Nothing was corrected now, yet the answer shows the household's personal data again.
        personal_data_viewed(actor=request.user, household_ids=[household.pk], where="API correction replay")
    elif not result.fields:
        # Nothing to correct (no field given, or each already reads so): no correction is recorded,
        # yet the answer shows the household's personal data.
        personal_data_viewed(
            actor=request.user, household_ids=[household.pk], where="API correction, nothing changed"
        )
    return HouseholdCorrectedOut(
        household=HouseholdOut.of(corrected),
        fields=result.fields,
        replayed=result.replayed,
        message=result.message,
        duplicates_queued=[m.second_id for m in result.duplicates],
        entitlements_updated=result.entitlements_updated,
        no_longer_eligible=result.no_longer_eligible,
    )


@router.post(
    "/households/{household_id}/card",
    right=Right.REGISTER_HOUSEHOLDS,
    response={201: HouseholdCardOut, 200: HouseholdCardOut, **WRITE_ERRORS},
    summary="Issue a new card to a household (a lost card): the old token stops working",
    description="A repeat with the same `Idempotency-Key` answers 200 with the card issued the first "
    "time and changes nothing; a key used for another household's card is refused (409).",
)
def household_card(
    request: HttpRequest,
    household_id: int,
    payload: HouseholdCardIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=KEY_HELP),
) -> Any:
    household = access_household_to_register(request.user, household_id)
    result = card_reissue(
        actor=request.user,
        household_id=household.pk,
        reason=payload.reason,
        idempotency_key=scoped_key(request.user, idempotency_key),
    )
    card = result.card
    return Status(
        200 if result.replayed else 201,
        HouseholdCardOut(
            household_id=household.pk,
            token=printed(card.token),
            issued_at=card.issued_at,
            replayed=result.replayed,
            message=result.message,
        ),
    )
