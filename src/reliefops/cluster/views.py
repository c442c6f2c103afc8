"""Web pages of the cluster: the gap table with its coverage map, the 4W matrix, the totals, the
rows, the upload (preview, then commit), the batches with revert, needs and reporting periods.

Each view parses the request, checks access through core.access, calls one selector or service,
and renders.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from reliefops.cluster import exports, jobs, maps, selectors, staging
from reliefops.cluster.forms import (
    EVERY_ACTIVITY,
    NeedsForm,
    PeriodForm,
    RowFilter,
    SelectionForm,
    UploadForm,
)
from reliefops.cluster.importers import needs_import_file
from reliefops.cluster.models import ReportingPeriod
from reliefops.cluster.services import import_batch_revert, reporting_period_set_lock
from reliefops.core.access import (
    access_activity_rows,
    access_cluster_aggregates,
    access_cluster_management,
    access_import_batch_by_id,
    access_import_batches,
    access_job_by_id,
    access_reporting_organisation,
    has_right,
    reporting_scope,
    require,
)
from reliefops.core.errors import InvalidInput, NotFound, ServiceError
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.core.text import counted
from reliefops.partners.models import Organisation
from reliefops.web.exports import download, export_links, requested_format
from reliefops.web.pages import filters_refused, page, render_list

# The section's tabs: label, page, the right it needs, and the other pages that belong to it.
TABS: tuple[tuple[str, str, Right, frozenset[str]], ...] = (
    ("Gaps and map", "cluster:cluster-gaps", Right.VIEW_CLUSTER, frozenset()),
    ("4W matrix", "cluster:cluster-matrix", Right.VIEW_CLUSTER, frozenset()),
    ("Totals", "cluster:cluster-totals", Right.VIEW_CLUSTER, frozenset()),
    ("Needs", "cluster:cluster-needs", Right.VIEW_CLUSTER, frozenset()),
    ("Rows", "cluster:cluster-rows", Right.REPORT_ACTIVITIES, frozenset()),
    (
        "Upload",
        "cluster:cluster-upload",
        Right.REPORT_ACTIVITIES,
        frozenset({"cluster:cluster-upload-commit"}),
    ),
    ("Batches", "cluster:cluster-batches", Right.REPORT_ACTIVITIES, frozenset({"cluster:cluster-batch"})),
    ("Periods", "cluster:cluster-periods", Right.VIEW_CLUSTER, frozenset()),
)
BATCH_ROWS_SHOWN = 200


def _tabs(request: HttpRequest) -> list[dict[str, Any]]:
    """The section's tabs the user may open, the current one marked."""
    current = request.resolver_match.view_name if request.resolver_match else ""
    return [
        {"label": label, "url": reverse(name), "active": current == name or current in also}
        for label, name, right, also in TABS
        if has_right(request.user, right)
    ]


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, {"tabs": _tabs(request), **context}, status=status)


def _export(export: exports.ExportFile) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


# The filters of the gap and matrix pages, in the order their links write them.
FILTERS = ("level", "activity", "period_from", "period_to", "within")


def _selection(
    request: HttpRequest, *, first_activity: bool = False
) -> tuple[SelectionForm, selectors.Selection | None, dict[str, str]]:
    """The filter form, the selection it makes (None when a value is refused: the form then holds
    the reason beside its field), and the filters as the page applied them, for its links.

    The empty activity is every activity, as in the API and the command line. With
    `first_activity`, a page opened without any filter opens on the first activity that has rows
    (the gap page, so that its map shows), and its form and links say which."""
    data = request.GET.copy()
    if not data.get("level"):
        data["level"] = selectors.AdminLevel.DISTRICT.value
    if data.get("activity", "").strip().lower() == EVERY_ACTIVITY:
        data["activity"] = ""
    if first_activity and not any(name in request.GET for name in FILTERS):
        default = selectors.default_activity()
        data["activity"] = default.code if default is not None else ""
    shown = {name: data.get(name, "") for name in FILTERS}
    form = SelectionForm(data)
    if not form.is_valid():
        return form, None, shown
    criteria = form.criteria()
    try:
        chosen = selectors.selection(
            level=criteria["level"],
            activity=criteria["activity"] or None,
            period_from=criteria["period_from"],
            period_to=criteria["period_to"],
            within=criteria["within"] or None,
        )
    except InvalidInput as exc:
        form.show_problems(exc)
        return form, None, shown
    return form, chosen, shown


def _refused(request: HttpRequest, template: str, form: Any) -> HttpResponse:
    """The page with its filters' errors and nothing else, 422 (a download asked for is not made)."""
    return _render(request, template, {"form": form, "refused": True}, status=422)


def _query(shown: dict[str, str], **changes: str) -> str:
    """The query string of the filters shown, with some changed (an empty value leaves one out)."""
    values = {**shown, **changes}
    return "?" + urlencode({k: v for k, v in values.items() if v})


def _exports(shown: dict[str, str]) -> list[tuple[str, str]]:
    """The page's downloads (CSV, HXL, XLSX), each of exactly what the page shows."""
    return [(fmt, _query(shown, format=fmt)) for fmt in exports.FORMATS]


# --- gaps, map, matrix, totals, needs --------------------------------------------------------------


@page
def gaps(request: HttpRequest) -> HttpResponse:
    access_cluster_aggregates(request.user)
    form, chosen, shown = _selection(request, first_activity=True)
    if chosen is None:
        return _refused(request, "cluster/gaps.html", form)
    report = selectors.gap_by_area(chosen)
    fmt = request.GET.get("format", "").lower()
    if fmt in exports.FORMATS:
        return _export(exports.gap_export(report, fmt))
    coverage = _coverage_map(shown, chosen, report)
    table = [(row, _compared_at(shown, chosen, row)) for row in report.rows]
    return _render(
        request,
        "cluster/gaps.html",
        {
            "form": form,
            "report": report,
            "table": table,
            "chosen": chosen,
            "coverage": coverage,
            # Illustrative needs shown anywhere on the page (the table, the areas with no partner,
            # the map's colours, a wider area's need beside its rows) bring the note with them.
            "illustrative": report.illustrative
            or bool(coverage and coverage.illustrative)
            or any(row.area_illustrative for row in report.rows),
            "exports": _exports(shown),
        },
    )


def _compared_at(shown: dict[str, str], chosen: selectors.Selection, row: selectors.GapRow) -> str:
    """Of a row reported for a wider area as a whole: the link to the gaps at that area's level,
    where its need is compared with every row of the area; '' for any other row."""
    if not row.whole_area or row.area_level not in selectors.LEVELS:
        return ""
    keep_within = chosen.within is not None and chosen.within_depth < selectors.LEVELS[row.area_level][1]
    return _query(shown, level=row.area_level, within=shown["within"] if keep_within else "")


def _coverage_map(
    shown: dict[str, str], chosen: selectors.Selection, report: selectors.GapReport
) -> maps.CoverageMap | None:
    """The map of district coverage for the selection's activity (one activity: the map's colour)."""
    if chosen.activity is None:
        return None
    district = selectors.AdminLevel.DISTRICT.value
    if chosen.level != district:
        within = chosen.within if chosen.within_depth == 1 else None
        report = selectors.gap_by_area(
            dataclasses.replace(chosen, level=district, within=within, within_depth=1 if within else 0)
        )
    shades = [
        maps.AreaShade(
            pcode=row.pcode,
            name=row.name,
            coverage=row.coverage,
            in_need=row.in_need,
            reached=row.reached,
            illustrative=row.illustrative,
            href=_query(shown, level="tehsil", within=row.pcode),
            partnered=row.rows > 0,
        )
        for row in report.rows
        if not row.whole_area
    ]
    shades += [
        maps.AreaShade(
            pcode=info.pcode,
            name=info.name,
            coverage=None,
            in_need=need.households if need else None,
            reached=0,
            illustrative=bool(need and need.illustrative),
            partnered=False,
        )
        for info, need in report.no_partner
        if info.pcode not in {s.pcode for s in shades}
    ]
    title = f"Coverage of {chosen.activity.name.lower()} by district, in households"
    return maps.coverage_map(shades, title=title)


@page
def matrix(request: HttpRequest) -> HttpResponse:
    access_cluster_aggregates(request.user)
    form, chosen, shown = _selection(request)
    if chosen is None:
        return _refused(request, "cluster/matrix.html", form)
    result = selectors.matrix_4w(chosen)
    fmt = request.GET.get("format", "").lower()
    if fmt in exports.FORMATS:
        return _export(exports.matrix_export(result, fmt))
    grid = [
        (label, [result.cell(pk, area.pcode) for area in result.areas]) for pk, label in result.organisations
    ]
    return _render(
        request,
        "cluster/matrix.html",
        {"form": form, "matrix": result, "grid": grid, "exports": _exports(shown)},
    )


@page
def totals(request: HttpRequest) -> HttpResponse:
    access_cluster_aggregates(request.user)
    activities = selectors.activity_totals()
    fmt = request.GET.get("format", "").lower()
    if fmt in exports.FORMATS:
        return _export(exports.totals_export(activities, fmt))
    return _render(
        request,
        "cluster/totals.html",
        {
            "activities": activities,
            "figures": selectors.headline_table(activities),
            "exports": _exports({}),
        },
    )


def _source(baseline: Any) -> str:
    """A baseline's source as the Source column writes it after its 'illustrative' tag: without
    an 'illustrative:' of its own in front, which would say the word twice."""
    source = str(baseline.source or "")
    if baseline.illustrative and source[:12].lower() == "illustrative":
        return source[12:].lstrip(" :;,-").strip()
    return source


@page
def needs(request: HttpRequest) -> HttpResponse:
    """The needs baselines; a coordinator uploads a file of them here (preview, then apply)."""
    access_cluster_aggregates(request.user)
    may_manage = has_right(request.user, Right.MANAGE_CLUSTER)
    context: dict[str, Any] = {"may_manage": may_manage, "form": NeedsForm() if may_manage else None}
    status = 200
    if request.method == "POST":
        access_cluster_management(request.user)
        user_id = int(request.user.pk or 0)
        token = request.POST.get("token", "")
        form = NeedsForm(request.POST, request.FILES)
        try:
            if token:  # apply the file previewed before
                done = staging.applied(user_id=user_id, token=token)
                if done is not None:  # a second click: the first applied it
                    messages.info(request, f"This file was applied already; nothing changed. It did: {done}")
                    return redirect("cluster:cluster-needs")
                data, filename = staging.load(user_id=user_id, token=token)
                result = needs_import_file(actor=request.user, data=data, filename=filename)
                staging.mark_applied(user_id=user_id, token=token, summary=result.summary())
                messages.success(request, f"Needs baselines: {result.summary()}")
                return redirect("cluster:cluster-needs")
            if form.is_valid():
                file = form.cleaned_data["file"]
                data, filename = file.read(), file.name
                result = needs_import_file(actor=request.user, data=data, filename=filename, preview=True)
                context.update(preview=result, filename=filename)
                if result.changed:
                    context["token"] = staging.stage(user_id=user_id, data=data, filename=filename)
            else:
                status = 400
            context["form"] = form
        except InvalidInput as exc:
            uploaded = request.FILES.get("file")
            context.update(refused=exc, filename=getattr(uploaded, "name", ""))
            status = 422
    if request.method != "POST":
        file = download(request, exports.NEEDS, selectors.needs_table())
        if file is not None:
            return cast(HttpResponse, file)
    baselines = list(selectors.needs_table())
    context.update(
        baselines=[(b, _source(b)) for b in baselines],
        illustrative=any(b.illustrative for b in baselines),
        export_links=export_links(request),
    )
    return _render(request, "cluster/needs.html", context, status=status)


# --- rows, upload, batches -------------------------------------------------------------------------


@page
def rows(request: HttpRequest) -> HttpResponse:
    found = access_activity_rows(request.user)
    scope = reporting_scope(request.user)
    organisations = (
        []
        if scope is not None
        else [
            (o.acronym or o.name, str(o))
            for o in Organisation.objects.filter(pk__in=found.values("reporting_org"))
        ]
    )
    form = RowFilter(request.GET, organisations=sorted(organisations, key=lambda pair: pair[1].lower()))
    context = {"scope": scope, "tabs": _tabs(request), "export_links": export_links(request)}
    c = form.criteria()
    listed = selectors.rows_filtered(
        found,
        activity=c["activity"],
        within=c["within"],
        organisation=c["organisation"],
        status=c["status"],
        period_from=c["period_from"] or None,
        period_to=c["period_to"] or None,
    )
    if c["q"]:
        listed = listed.filter(Q(row_id__icontains=c["q"]) | Q(location__icontains=c["q"]))
    ordered = listed.order_by("reporting_org__name", "row_id")
    # A refused filter downloads nothing; render_list lists nothing and says why.
    wanted = requested_format(request) and not filters_refused(form)
    file = download(request, *exports.rows_export(ordered)) if wanted else None
    if file is not None:
        return cast(HttpResponse, file)
    return render_list(
        request,
        template="cluster/rows.html",
        results_template="cluster/_row_results.html",
        queryset=listed,
        form=form,
        context=context,
    )


@page
def template_download(request: HttpRequest, fmt: str) -> HttpResponse:
    require(request.user, Right.REPORT_ACTIVITIES)
    prefill = access_activity_rows(request.user).filter(withdrawn=False) if request.GET.get("rows") else None
    if fmt == "csv":
        content, kind = exports.template_csv(rows=prefill), exports.CONTENT_TYPES["csv"]
    else:
        content, kind = exports.template_xlsx(rows=prefill), exports.CONTENT_TYPES["xlsx"]
    name = "cluster-4w" + ("-rows" if prefill is not None else "-template") + f".{fmt}"
    return _export(exports.ExportFile(content, kind, name))


@page
def upload(request: HttpRequest) -> HttpResponse:
    scope = reporting_scope(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, scope=scope)
    context: dict[str, Any] = {"form": form, "scope": scope}
    if request.method != "POST" or not form.is_valid():
        return _render(
            request, "cluster/upload.html", context, status=400 if request.method == "POST" else 200
        )
    file = form.cleaned_data["file"]
    organisation = access_reporting_organisation(request.user, form.cleaned_data.get("organisation") or None)
    # The worker reads and checks the file; the job's page shows its progress, then the preview.
    started = jobs.upload_preview_start(
        owner=request.user,
        filename=file.name,
        content=file.read(),
        organisation_id=organisation.pk if organisation else None,
    )
    return redirect("jobs:job-detail", started.job.pk)


@page
@require_POST
def upload_commit(request: HttpRequest) -> HttpResponse:
    """Apply a previewed upload: the file its preview job kept, in a job of its own."""
    reporting_scope(request.user)
    preview_id = request.POST.get("preview", "")
    preview = access_job_by_id(request.user, whole_id(preview_id) or 0)
    if preview.owner_id != request.user.pk:
        raise NotFound(f"no previewed upload of yours with job {preview.pk}")
    try:
        started = jobs.upload_commit_start(owner=request.user, preview=preview)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("jobs:job-detail", preview.pk)
    if started.replayed:
        # A second click, or an old tab: nothing is started, and the message says what became of
        # the first (applied as a batch that stands or was reverted since, or still running).
        sequel = jobs.upload_preview_sequel(preview)
        said = sequel.sentence if sequel is not None else "These changes were asked for already."
        (messages.warning if sequel is not None and sequel.warning else messages.info)(
            request, f"Nothing was started now: {said[0].lower()}{said[1:]}"
        )
    return redirect("jobs:job-detail", started.job.pk)


@page
def batches(request: HttpRequest) -> HttpResponse:
    listed = selectors.batch_summaries(access_import_batches(request.user))
    file = download(request, exports.BATCHES, listed)
    if file is not None:
        return cast(HttpResponse, file)
    page_obj = Paginator(listed, 50).get_page(request.GET.get("page"))
    return _render(
        request,
        "cluster/batches.html",
        {"page_obj": page_obj, "rows": page_obj.object_list, "export_links": export_links(request)},
    )


@page
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_import_batch_by_id(request.user, batch_id)
    every = batch.rows.order_by("line", "id")
    name = f"cluster-batch-{batch.pk}-rows"
    file = download(request, *exports.rows_export(every, name)) if requested_format(request) else None
    if file is not None:
        return cast(HttpResponse, file)
    return _render(
        request,
        "cluster/batch_detail.html",
        {
            "batch": batch,
            "written": selectors.batch_rows(batch, limit=BATCH_ROWS_SHOWN),
            "shown": BATCH_ROWS_SHOWN,
            "export_links": export_links(request),
            "reverted": selectors.batch_revert_record(batch),
            "replaced": batch.replaced_rows.count(),
            "replaced_later": batch.rows.filter(replaced_in__isnull=False)
            .values("replaced_in")
            .distinct()
            .count(),
        },
    )


@page
@require_POST
def batch_revert(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_import_batch_by_id(request.user, batch_id)
    if request.POST.get("confirm") != "yes":
        # A revert is done only when the person has read what it undoes and said so.
        messages.error(
            request,
            f"Batch {batch.pk} was not reverted: tick “I understand the revert undoes what batch "
            f"{batch.pk} wrote” to revert it.",
        )
        return redirect("cluster:cluster-batch", batch_id=batch.pk)
    try:
        result = import_batch_revert(actor=request.user, batch_id=batch.pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Batch {result.batch_id} reverted: {counted(result.removed, 'row version')} removed, "
            f"{result.restored:,} restored as they were.",
        )
    return redirect("cluster:cluster-batch", batch_id=batch.pk)


# --- reporting periods -----------------------------------------------------------------------------


@page
def periods(request: HttpRequest) -> HttpResponse:
    access_cluster_aggregates(request.user)
    may_manage = has_right(request.user, Right.MANAGE_CLUSTER)
    form = PeriodForm(request.POST or None) if may_manage else None
    if request.method == "POST":
        access_cluster_management(request.user)
        if form is not None and form.is_valid():
            locked = request.POST.get("action") != "reopen"
            month = form.cleaned_data["month"]
            change = reporting_period_set_lock(
                actor=request.user, month=month, locked=locked, note=form.cleaned_data["note"]
            )
            said = change.describe(f"{month:%B %Y}")
            (messages.success if change.changed else messages.info)(request, said)
            return redirect("cluster:cluster-periods")
    return _render(
        request,
        "cluster/periods.html",
        {"periods": ReportingPeriod.objects.order_by("-month"), "form": form, "may_manage": may_manage},
        status=400 if request.method == "POST" else 200,
    )
