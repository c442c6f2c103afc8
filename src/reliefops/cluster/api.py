"""API of the cluster: upload 4W files (preview, then commit), read rows and batches, revert a
batch, the gap analysis, the 4W matrix, the totals, needs (read and upload), activity types and
reporting periods.

Rows and batches are a partner reporter's own organisation's; viewers see the aggregates only.
"""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
import dataclasses
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Status
from ninja.pagination import paginate

from reliefops.cluster import jobs, selectors
from reliefops.cluster.importers import activity_report_import_file, needs_import_file
from reliefops.cluster.models import ActivityType, ReportingPeriod
from reliefops.cluster.schemas import (
    ActivityTotalOut,
    ActivityTypeOut,
    AreaNeedOut,
    BatchOut,
    GapRowOut,
    GapsOut,
    MatrixEntryOut,
    MatrixOut,
    NeedsOut,
    NeedsUploadIn,
    NeedsUploadOut,
    PeriodIn,
    PeriodOut,
    RevertOut,
    RowFilter,
    RowOut,
    SelectionIn,
    TotalsOut,
    UploadIn,
    UploadOut,
    needs_upload_out,
    upload_out,
)
from reliefops.cluster.services import import_batch_revert, parse_month, reporting_period_set_lock
from reliefops.core.access import (
    access_activity_rows,
    access_cluster_aggregates,
    access_cluster_management,
    access_import_batch_by_id,
    access_import_batches,
    access_reporting_organisation,
    reporting_scope,
    require,
)
from reliefops.core.api import DETAIL_ERRORS, ERRORS, ApiRouter, ErrorOut, JobOut, Page
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.roles import Right

router = ApiRouter(tags=["cluster"])
WRITE_ERRORS: dict[int, Any] = {**DETAIL_ERRORS, 400: ErrorOut, 409: ErrorOut}


def _selection(filters: SelectionIn) -> selectors.Selection:
    return selectors.selection(
        level=filters.level,
        activity=filters.activity,
        period_from=parse_month(filters.period_from, field="period_from") if filters.period_from else None,
        period_to=parse_month(filters.period_to, field="period_to") if filters.period_to else None,
        within=filters.within,
    )


@router.post(
    "/uploads",
    right=Right.REPORT_ACTIVITIES,
    response={200: UploadOut, 201: UploadOut, **WRITE_ERRORS},
    summary="Upload a 4W file: preview what it changes, or apply it (all or nothing)",
    description=(
        "The cluster template or any HXL-tagged CSV or workbook. With `preview` nothing is written. "
        "A committed upload answers 201 with its batch; one that changes nothing answers 200 and "
        "writes nothing. A refused file answers 422 with every problem: `row`, `field` (the column's "
        "hashtag) and `reason` (the value, why, and a suggestion). Request bodies are limited by the "
        "server's DATA_UPLOAD_MAX_MEMORY_SIZE; larger files go through the web page or the CLI."
    ),
)
def upload(request: HttpRequest, payload: UploadIn) -> Status[UploadOut]:
    scope = reporting_scope(request.user)
    organisation = access_reporting_organisation(request.user, payload.reporting_organisation)
    try:
        data = payload.data()
    except ValueError as exc:
        raise InvalidInput([Problem(None, "content_base64", str(exc))]) from exc
    try:
        result = activity_report_import_file(
            actor=request.user,
            data=data,
            filename=payload.filename,
            reporting_org_id=organisation.pk if organisation else None,
            scope_org_id=scope.pk if scope else None,
            scope_label=str(scope) if scope else "",
            preview=payload.preview,
        )
    except InvalidInput as exc:
        # A problem of the whole file is named by the body's field that carried it, as every other
        # problem of a body is named by its path.
        sent = "content" if payload.content is not None else "content_base64"
        if not any(p.field == "file" for p in exc.problems):
            raise
        raise InvalidInput(
            [dataclasses.replace(p, field=sent) if p.field == "file" else p for p in exc.problems],
            summary=str(exc).split("\n", 1)[0],
        ) from exc
    return Status(201 if result.batch_id else 200, upload_out(result))


@router.post(
    "/upload-jobs",
    right=Right.REPORT_ACTIVITIES,
    response={202: JobOut, **WRITE_ERRORS},
    summary="Upload a 4W file to preview or apply in the background (for large files); poll the job",
    description=(
        "The same request as `POST /api/cluster/uploads`, answered at once with a job to poll at "
        "`GET /api/core/jobs/{id}`. A preview job's result says what would change; an applying job's "
        "result gives its batch's id, `batch_id`, and the counts by name (`added`, `updated`, …). "
        "A refused file fails the job with every problem in `problems`."
    ),
)
def upload_job(request: HttpRequest, payload: UploadIn) -> Any:
    organisation = access_reporting_organisation(request.user, payload.reporting_organisation)
    try:
        data = payload.data()
    except ValueError as exc:
        raise InvalidInput([Problem(None, "content_base64", str(exc))]) from exc
    start = jobs.upload_preview_start if payload.preview else jobs.upload_apply_start
    started = start(
        owner=request.user,
        filename=payload.filename,
        content=data,
        organisation_id=organisation.pk if organisation else None,
    )
    return Status(202, started.job)


@router.get("/rows", response={200: list[RowOut], **ERRORS}, summary="4W rows (current versions)")
@paginate(Page)
def row_list(request: HttpRequest, filters: Query[RowFilter]) -> QuerySet[Any]:
    rows = access_activity_rows(request.user)
    scope = reporting_scope(request.user)
    asked = (filters.organisation or "").strip().lower()
    if asked and scope is not None and asked not in {scope.name.lower(), (scope.acronym or "").lower()}:
        # As the rows page answers: a partner reporter sees only its own organisation's rows.
        reason = f"'{filters.organisation}' is not an organisation whose rows you may see"
        raise InvalidInput([Problem(None, "organisation", reason)])
    chosen = filters.dict()
    for name in ("period_from", "period_to"):  # a month, as the aggregates take it
        chosen[name] = parse_month(chosen[name], field=name) if chosen[name] else None
    return selectors.rows_filtered(rows, **chosen)


@router.get("/batches", response={200: list[BatchOut], **ERRORS}, summary="Upload batches, newest first")
@paginate(Page)
def batch_list(request: HttpRequest) -> QuerySet[Any]:
    return selectors.batch_summaries(access_import_batches(request.user))


@router.get("/batches/{batch_id}", response={200: BatchOut, **DETAIL_ERRORS}, summary="One upload batch")
def batch_detail(request: HttpRequest, batch_id: int) -> Any:
    return access_import_batch_by_id(request.user, batch_id)


@router.post(
    "/batches/{batch_id}/revert",
    right=Right.REPORT_ACTIVITIES,
    response={200: RevertOut, **WRITE_ERRORS},
    summary="Revert an upload batch exactly (409 when a later batch changed its rows or a period is locked)",
)
def batch_revert(request: HttpRequest, batch_id: int) -> Any:
    batch = access_import_batch_by_id(request.user, batch_id)
    result = import_batch_revert(actor=request.user, batch_id=batch.pk)
    return RevertOut(batch_id=result.batch_id, removed=result.removed, restored=result.restored)


@router.get(
    "/gaps",
    response={200: GapsOut, **ERRORS},
    summary="Gap analysis: households in need, targeted, reached, coverage and gap by area",
)
def gaps(request: HttpRequest, filters: Query[SelectionIn]) -> GapsOut:
    access_cluster_aggregates(request.user)
    report = selectors.gap_by_area(_selection(filters))
    return GapsOut(
        selection=report.selection.describe(),
        needs_illustrative=report.illustrative,
        rows=[
            GapRowOut(
                pcode=r.pcode,
                name=r.name,
                parent_pcode=r.parent_pcode,
                parent_name=r.parent_name,
                whole_area=r.whole_area,
                activity=r.activity_code,
                unit=r.unit,
                households_in_need=r.in_need,
                need_illustrative=r.illustrative,
                households_targeted=r.targeted,
                households_reached=r.reached,
                coverage=round(r.coverage, 4) if r.coverage is not None else None,
                gap=r.gap,
                quantity_targeted=r.quantity_targeted,
                quantity_reached=r.quantity_reached,
                quantity_to_partners=r.quantity_to_partners,
                partners=r.partners,
                rows=r.rows,
            )
            for r in report.rows
        ],
        no_partner=[
            AreaNeedOut(
                pcode=info.pcode, name=info.name, households_in_need=need.households if need else None
            )
            for info, need in report.no_partner
        ],
    )


@router.get("/matrix", response={200: MatrixOut, **ERRORS}, summary="The 4W matrix: who does what where")
def matrix(request: HttpRequest, filters: Query[SelectionIn]) -> MatrixOut:
    access_cluster_aggregates(request.user)
    result = selectors.matrix_4w(_selection(filters))
    return MatrixOut(
        selection=result.selection.describe(), entries=[MatrixEntryOut(**entry) for entry in result.entries]
    )


@router.get(
    "/totals",
    response={200: TotalsOut, **ERRORS},
    summary="The cluster's totals after the double-counting rules, with its published keys",
)
def totals(request: HttpRequest) -> TotalsOut:
    access_cluster_aggregates(request.user)
    activities = selectors.activity_totals()
    return TotalsOut(
        figures=selectors.headline_figures(activities),
        activities=[ActivityTotalOut(**vars(t)) for t in activities],
    )


@router.get("/needs", response={200: list[NeedsOut], **ERRORS}, summary="Needs baselines per admin area")
@paginate(Page)
def needs(request: HttpRequest) -> QuerySet[Any]:
    access_cluster_aggregates(request.user)
    return selectors.needs_table()


@router.post(
    "/needs",
    right=Right.MANAGE_CLUSTER,
    response={200: NeedsUploadOut, 201: NeedsUploadOut, **WRITE_ERRORS},
    summary="Upload needs baselines: preview what the file changes, or apply it (all or nothing)",
    description=(
        "A CSV or workbook tagged like a 4W file (`#adm2+code` or `#adm3+code`, `#inneed+hh`, "
        "`#population`, `#meta+illustrative` …); a baseline per admin area, created or updated in "
        "place. With `preview` nothing is written. A file that changes something answers 201; one "
        "that changes nothing answers 200 and writes nothing. A refused file answers 422 with every "
        "problem: `row`, `field` and `reason`."
    ),
)
def needs_upload(request: HttpRequest, payload: NeedsUploadIn) -> Status[NeedsUploadOut]:
    access_cluster_management(request.user)
    try:
        data = payload.data()
    except ValueError as exc:
        raise InvalidInput([Problem(None, "content_base64", str(exc))]) from exc
    result = needs_import_file(
        actor=request.user, data=data, filename=payload.filename, preview=payload.preview
    )
    return Status(201 if result.changed and not result.preview else 200, needs_upload_out(result))


@router.get("/activity-types", response={200: list[ActivityTypeOut], **ERRORS}, summary="Activity types")
def activity_types(request: HttpRequest) -> QuerySet[Any]:
    require(request.user, Right.VIEW_REFERENCE)
    return ActivityType.objects.filter(is_active=True).select_related("item").order_by("sort_order", "name")


@router.get(
    "/periods", response={200: list[PeriodOut], **ERRORS}, summary="Reporting periods and their locks"
)
def periods(request: HttpRequest) -> QuerySet[Any]:
    access_cluster_aggregates(request.user)
    return ReportingPeriod.objects.order_by("month")


@router.post(
    "/periods",
    right=Right.MANAGE_CLUSTER,
    response={200: PeriodOut, **WRITE_ERRORS},
    summary="Lock or reopen a reporting month",
)
def period_set(request: HttpRequest, payload: PeriodIn) -> Any:
    access_cluster_management(request.user)
    return reporting_period_set_lock(
        actor=request.user, month=parse_month(payload.month), locked=payload.locked, note=payload.note
    ).period
