"""API of households, duplicates, distribution rounds and handovers.

Personal data (names, identity numbers, phones) is answered only to roles that may see it, and
every answer that carries it is recorded as an audit event; a distributor's distribution list holds
names and card tokens of their own points' households, never an identity number or a phone.
Registrations, corrections, cards, rounds and handovers take an `Idempotency-Key`: a repeat answers
200 with `replayed: true` and changes nothing; a key used for another household (or round) is
refused with 409.
"""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Status

from reliefops.core.access import (
    access_duplicate_pair_by_id,
    access_duplicate_pairs,
    access_household_by_id,
    access_household_import_by_id,
    access_household_to_register,
    access_households,
    access_items,
    access_round_by_id,
    access_round_point,
    access_rounds,
    access_sites,
    can_export_personal_data,
    distribution_list_point_ids,
    require,
)
from reliefops.core.api import DETAIL_ERRORS, ERRORS, ApiRouter, ErrorOut, JobOut, PageInput
from reliefops.core.errors import AccessDenied, InvalidInput, NotFound, Problem
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.core.text import counted
from reliefops.households import jobs, selectors
from reliefops.households.cards import printed
from reliefops.households.identity import format_document
from reliefops.households.matching import LIKELY_DUPLICATE, Match
from reliefops.households.models import (
    MEMBER_NAMES,
    DistributionRound,
    DuplicatePair,
    Household,
    HouseholdImport,
    HouseholdStatus,
    ImportStatus,
)
from reliefops.households.schemas import (
    DistributionListPageOut,
    DistributionListRowOut,
    DoubleReceiptOut,
    DuplicatePairOut,
    DuplicatePairPageOut,
    DuplicatePairSide,
    HouseholdCardIn,
    HouseholdCardOut,
    HouseholdCheckOut,
    HouseholdCorrectedOut,
    HouseholdCorrectionIn,
    HouseholdCountsOut,
    HouseholdHandoverIn,
    HouseholdHandoverOut,
    HouseholdImportIn,
    HouseholdImportOut,
    HouseholdImportRefusedOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdPageOut,
    LikelyDuplicateOut,
    LikelyDuplicatesFoundOut,
    PairDecisionIn,
    PairDecisionOut,
    RegisteredOut,
    RegisterIn,
    RoundCardsOut,
    RoundChangedOut,
    RoundIn,
    RoundItemFiguresOut,
    RoundListOut,
    RoundOut,
    RoundReconciliationOut,
    RoundStatusIn,
    RoundUnlistedOut,
    RoundUnlistIn,
)
from reliefops.households.services import (
    DuplicatesFound,
    Lookups,
    PackageInput,
    PointInput,
    RoundInput,
    card_reissue,
    cards_issue,
    entitlement_cancel,
    handover_record,
    household_check,
    household_import_commit,
    household_import_preview,
    household_register,
    household_update,
    households_export,
    pair_decide,
    personal_data_viewed,
    round_make_list,
    round_plan,
    round_status_change,
)
from reliefops.households.services.imports import same_file_imported, same_file_message
from reliefops.places.models import AdminArea
from reliefops.stock.schemas import scoped_key, today

router = ApiRouter(tags=["households"])

WRITE_ERRORS: dict[int, Any] = {**DETAIL_ERRORS, 400: ErrorOut, 409: ErrorOut}
KEY_HELP = (
    "Any text of up to 80 characters, new for each submission (a UUID will do). Sending the same key "
    "again returns the first result with `replayed: true` and changes nothing."
)


def _ref(text: str) -> int | str:
    number = whole_id(text)
    return number if number is not None else text.strip()


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


# --- counts (every role) ---------------------------------------------------------------------------


@router.get(
    "/counts",
    response={200: HouseholdCountsOut, **ERRORS},
    summary="How many households are registered: by district, by camp, female-headed (counts only)",
)
def counts(request: HttpRequest) -> Any:
    require(request.user, Right.VIEW_HOUSEHOLD_COUNTS)
    figures = selectors.household_counts()
    return figures  # HouseholdCountsOut names the selector's grouped rows


# --- households (personal data) ---------------------------------------------------------------------


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
    response={200: HouseholdCheckOut, **ERRORS},
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


# --- imports ----------------------------------------------------------------------------------------


def _import_out(batch: HouseholdImport, message: str) -> HouseholdImportOut:
    earlier = same_file_imported(batch) if batch.status != ImportStatus.COMMITTED else None
    return HouseholdImportOut(
        id=batch.pk,
        filename=batch.filename,
        status=batch.status,
        rows=batch.rows,
        problems=batch.problems,
        problem_count=batch.problem_count,
        duplicates=batch.duplicates,
        created=batch.created,
        same_file_as=earlier.pk if earlier is not None else None,
        message=message,
    )


@router.post(
    "/imports",
    right=Right.REGISTER_HOUSEHOLDS,
    response={
        200: HouseholdImportOut,
        201: HouseholdImportOut,
        **WRITE_ERRORS,
        422: HouseholdImportRefusedOut,
    },
    summary="Upload a registration file (CSV or XLSX) to check and preview; nothing is registered yet",
    description=(
        "201: the file is checked and kept for import. 200: the same file was sent again by the same "
        "user while its check waits to be imported; that check is made again and returned, and no "
        "second copy is kept. 422: the file is refused (a bad value, a misspelt column, not a CSV or "
        "XLSX at all) with every problem, `{row, field, reason}`, and the refused check's `import_id`; "
        "nothing can be imported from it."
    ),
)
def import_preview(request: HttpRequest, payload: HouseholdImportIn) -> Any:
    require(request.user, Right.REGISTER_HOUSEHOLDS)
    try:
        content = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput([Problem(None, "content_base64", "not base64")]) from exc
    result = household_import_preview(actor=request.user, filename=payload.filename, content=content)
    batch = result.batch
    if batch.status == ImportStatus.REFUSED:
        # A refused file is a bad request body like any other (422), as a refused 4W upload is; the
        # check is kept, so its id comes along for GET /imports/{id}.
        return Status(
            422,
            HouseholdImportRefusedOut(
                detail=result.message,
                problems=batch.problems,
                problem_count=batch.problem_count,
                import_id=batch.pk,
            ),
        )
    return Status(200 if result.repeated else 201, _import_out(batch, result.message))


@router.get(
    "/imports/{import_id}",
    response={200: HouseholdImportOut, **DETAIL_ERRORS},
    summary="A registration file's check: its problems and likely duplicates",
)
def import_detail(request: HttpRequest, import_id: int) -> Any:
    batch = access_household_import_by_id(request.user, import_id)
    state = selectors.import_states([batch])[batch.pk]
    earlier = state.same_file_as
    message = same_file_message(batch, earlier) if earlier is not None else f"{state.label}."
    return _import_out(batch, message)


@router.post(
    "/imports/{import_id}/commit",
    right=Right.REGISTER_HOUSEHOLDS,
    response={200: HouseholdImportOut, **WRITE_ERRORS},
    summary="Register every household of a previewed file, or none (a repeat changes nothing)",
)
def import_commit(request: HttpRequest, import_id: int) -> Any:
    batch = access_household_import_by_id(request.user, import_id)
    result = household_import_commit(actor=request.user, import_id=batch.pk)
    return _import_out(result.batch, result.message)


# The synchronous routes above answer within the request: for files of a few thousand rows. A larger
# file goes through a background job: start it here, then poll GET /api/core/jobs/{id}.


def _decoded(payload: HouseholdImportIn) -> bytes:
    try:
        return base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput([Problem(None, "content_base64", "not base64")]) from exc


@router.post(
    "/import-jobs",
    right=Right.REGISTER_HOUSEHOLDS,
    response={202: JobOut, **WRITE_ERRORS},
    summary="Check a registration file in the background (for large files); poll the job",
)
def import_preview_job(request: HttpRequest, payload: HouseholdImportIn) -> Any:
    require(request.user, Right.REGISTER_HOUSEHOLDS)
    started = jobs.import_preview_start(
        owner=request.user, filename=payload.filename, content=_decoded(payload)
    )
    return Status(202, started.job)


@router.post(
    "/imports/{import_id}/commit-job",
    right=Right.REGISTER_HOUSEHOLDS,
    response={200: JobOut, 202: JobOut, **WRITE_ERRORS},
    summary="Register a previewed file's households in the background; asking again returns the same job",
)
def import_commit_job(request: HttpRequest, import_id: int) -> Any:
    batch = access_household_import_by_id(request.user, import_id)
    started = jobs.import_commit_start(owner=request.user, import_id=batch.pk, filename=batch.filename)
    return Status(200 if started.replayed else 202, started.job)


# --- duplicates -------------------------------------------------------------------------------------


@router.post(
    "/duplicates/search",
    right=Right.REGISTER_HOUSEHOLDS,
    response={200: JobOut, 202: JobOut, **WRITE_ERRORS},
    summary="Search the whole registry for likely duplicates, in the background; poll the job",
    description="New pairs join the review queue. While the caller's own search waits or runs, asking "
    "again returns it (200).",
)
def duplicates_search(request: HttpRequest) -> Any:
    access_duplicate_pairs(request.user)
    started = jobs.duplicates_run_start(owner=request.user, threshold=LIKELY_DUPLICATE)
    return Status(200 if started.replayed else 202, started.job)


def _side(household: Household) -> DuplicatePairSide:
    return DuplicatePairSide(
        id=household.pk,
        head_name=household.head_name,
        father_or_husband_name=household.father_or_husband_name,
        document_number=format_document(household.document_type, household.document_number),
        phone=household.phone,
        origin_pcode=household.origin_area.pcode,
        origin_village=household.origin_village,
        size=household.size,
    )


@router.get(
    "/duplicates",
    response={200: DuplicatePairPageOut, **ERRORS},
    summary="The review queue: likely duplicate pairs, best first, with both households (audited)",
)
def duplicate_queue(request: HttpRequest, page: Query[PageInput]) -> Any:
    access_duplicate_pairs(request.user)
    queue = selectors.duplicate_queue()
    pairs: list[DuplicatePair] = list(queue[page.offset : page.offset + page.limit])
    ids = [h for p in pairs for h in (p.first_id, p.second_id)]
    personal_data_viewed(actor=request.user, household_ids=ids, where="API duplicate queue")
    return DuplicatePairPageOut(
        items=[
            DuplicatePairOut(
                id=p.pk,
                score=p.score,
                reasons=p.reasons,
                status=p.status,
                first=_side(p.first),
                second=_side(p.second),
            )
            for p in pairs
        ],
        count=queue.count(),
    )


@router.post(
    "/duplicates/{pair_id}/decision",
    right=Right.REGISTER_HOUSEHOLDS,
    response={200: PairDecisionOut, **WRITE_ERRORS},
    summary="Decide a pair: the same household (merge, keeping `survivor`) or different (remembered)",
)
def duplicate_decide(request: HttpRequest, pair_id: int, payload: PairDecisionIn) -> Any:
    pair = access_duplicate_pair_by_id(request.user, pair_id)
    result = pair_decide(actor=request.user, pair_id=pair.pk, same=payload.same, survivor_id=payload.survivor)
    return PairDecisionOut(
        pair_id=pair.pk, status=result.pair.status, replayed=result.replayed, message=result.message
    )


# --- rounds -----------------------------------------------------------------------------------------


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
        ref = _ref(point.site)
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
            found = access_round_point(request.user, round_obj, _ref(point), Right.VIEW_DISTRIBUTION_LISTS)
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
    point = access_round_point(request.user, round_obj, _ref(payload.point), Right.DISTRIBUTE)
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
