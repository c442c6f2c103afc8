"""The cluster's long jobs, run by the worker: the preview of a 4W upload, and its commit.

The preview job keeps the uploaded file when it would change something, so that its commit job
takes the very file that was previewed (the partner does not send it twice); the commit clears it.
The preview also records the stored rows as it saw them (the latest batch, and when): its commit is
refused, nothing written, when a batch touching the same organisations' rows came or went since.
Each job checks the owner's right and scope again when it runs, calls the importer with the job's
progress callback, and returns a summary of what changes (4W rows carry no personal data). The
commit's summary is recorded in the batch's own transaction, just before its commit (`job_done`):
the job is succeeded exactly when its batch is in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import dateformat, timezone
from django_tasks import task

from reliefops.cluster.importers import activity_report_import_file
from reliefops.cluster.models import ImportBatch
from reliefops.cluster.services import ReportImportResult
from reliefops.cluster.services.report_types import StoredState
from reliefops.core.access import access_reporting_organisation, reporting_scope
from reliefops.core.errors import Conflict, InvalidInput
from reliefops.core.jobs import (
    JobRefused,
    JobResult,
    JobSequel,
    JobStart,
    Progress,
    job_done,
    job_run,
    job_start,
)
from reliefops.core.models import Job, JobStatus
from reliefops.core.roles import Right
from reliefops.partners.models import Organisation

UPLOAD_PREVIEW = "cluster_upload_preview"
UPLOAD_COMMIT = "cluster_upload_commit"
CHANGES_SHOWN = 200


def _scope(job: Job) -> tuple[Any, Any]:
    """The owner's reporting scope now, and the organisation the upload reports for."""
    scope = reporting_scope(job.owner)
    organisation = access_reporting_organisation(job.owner, job.params.get("organisation_id"))
    return scope, organisation


def _apply(
    job: Job,
    progress: Progress,
    *,
    preview: bool,
    before_commit: Callable[[ReportImportResult], None] | None = None,
    previewed: StoredState | None = None,
) -> ReportImportResult:
    scope, organisation = _scope(job)
    return activity_report_import_file(
        actor=job.owner,
        data=bytes(job.input),
        filename=job.input_name,
        reporting_org_id=organisation.pk if organisation else None,
        scope_org_id=scope.pk if scope else None,
        scope_label=str(scope) if scope else "",
        preview=preview,
        progress=progress,
        before_commit=before_commit,
        previewed=previewed,
    )


def _figures(result: ReportImportResult) -> list[tuple[str, str | int]]:
    return [
        ("Added", result.added),
        ("Updated", result.updated),
        ("Withdrawn", result.withdrawn),
        ("Left alone", result.unchanged),
        ("Rows read", result.rows_read),
    ]


def _values(result: ReportImportResult) -> dict[str, Any]:
    """The outcome by name, as `POST /api/cluster/uploads` answers it, for a script."""
    return {
        "preview": result.preview,
        "changed": result.changed,
        "batch_id": result.batch_id,
        "rows_read": result.rows_read,
        "added": result.added,
        "updated": result.updated,
        "withdrawn": result.withdrawn,
        "unchanged": result.unchanged,
        "set_aside": result.set_aside,
    }


# --- preview -----------------------------------------------------------------------------------------


def upload_preview_start(
    *, owner: Any, filename: str, content: bytes, organisation_id: int | None
) -> JobStart:
    """Queue the preview of a 4W upload (for the organisation named, or each row's own)."""
    access_reporting_organisation(owner, organisation_id)
    return job_start(
        owner=owner,
        kind=UPLOAD_PREVIEW,
        label=f"Preview of {filename}",
        task=cluster_upload_preview_job,
        right=Right.REPORT_ACTIVITIES,
        params={"organisation_id": organisation_id},
        input=content,
        input_name=filename,
    )


def _upload_another() -> tuple[str, str]:
    return ("Upload another file", reverse("cluster:cluster-upload"))


def _refused_with_a_way_back(
    body: Callable[[Job, Progress], JobResult],
) -> Callable[[Job, Progress], JobResult]:
    """The job's body, whose refusal (a file's problems, a month locked meanwhile) keeps the way back
    to the upload page beside the problems, as its result would."""

    def run(job: Job, progress: Progress) -> JobResult:
        try:
            return body(job, progress)
        except InvalidInput as exc:
            raise JobRefused(exc.message.split("\n", 1)[0], list(exc.problems), [_upload_another()]) from exc
        except Conflict as exc:
            raise JobRefused(exc.message, [], [_upload_another()]) from exc

    return run


def _preview(job: Job, progress: Progress) -> JobResult:
    result = _apply(job, progress, preview=True)
    if result.changed and result.seen is not None:
        # Its apply checks that the stored rows are still as this preview saw them.
        job.params = {**job.params, **result.seen.as_params()}
        Job.objects.filter(pk=job.pk).update(params=job.params)
    labels = {
        o.pk: str(o)
        for o in Organisation.objects.filter(
            pk__in={c.reporting_org_id for c in result.changes[:CHANGES_SHOWN]}
        )
    }
    rows = [
        [
            change.line,
            change.row_id,
            labels.get(change.reporting_org_id, ""),
            change.kind,
            change.described(),
        ]
        for change in result.changes[:CHANGES_SHOWN]
    ]
    changes = result.added + result.updated + result.withdrawn
    return JobResult(
        summary=result.summary(),
        figures=_figures(result),
        notes=list(result.notes),
        links=[_upload_another()],
        action=(
            {
                "label": "Apply these changes",
                "url": reverse("cluster:cluster-upload-commit"),
                "fields": {"preview": str(job.pk)},
            }
            if result.changed
            else None
        ),
        table=(
            {
                "caption": "What changes",
                "head": ["Row", "Row id", "Reported by", "Change", "Values"],
                "rows": rows,
                # The import lists the first CHANGES_SHOWN changes only; the counts say how many
                # there are. Said by name too, for a script.
                "more": changes - len(rows),
                "rows_total": changes,
                "truncated": changes > len(rows),
            }
            if rows
            else None
        ),
        keep_input=result.changed,
        values=_values(result),
    )


@task()
def cluster_upload_preview_job(job_id: int) -> dict[str, Any]:
    return job_run(job_id, _refused_with_a_way_back(_preview))


# --- commit ------------------------------------------------------------------------------------------


def upload_apply_start(*, owner: Any, filename: str, content: bytes, organisation_id: int | None) -> JobStart:
    """Queue a 4W upload to apply at once, without a preview first (the API's route for large files)."""
    access_reporting_organisation(owner, organisation_id)
    return job_start(
        owner=owner,
        kind=UPLOAD_COMMIT,
        label=f"Upload of {filename}",
        task=cluster_upload_commit_job,
        right=Right.REPORT_ACTIVITIES,
        params={"organisation_id": organisation_id},
        input=content,
        input_name=filename,
    )


def upload_commit_start(*, owner: Any, preview: Job) -> JobStart:
    """Queue the commit of a previewed upload, with the very file previewed; asking twice returns
    the first commit job."""
    if preview.kind != UPLOAD_PREVIEW or preview.status != JobStatus.SUCCEEDED:
        raise Conflict(f"job {preview.pk} is not a finished preview of a 4W upload")
    with transaction.atomic():
        # Looked for inside the transaction: a second click that waited to write (SQLite has one
        # writer at a time) finds the job the first started, and the file it took from the preview.
        existing = Job.objects.filter(owner=owner, key=f"cluster-commit-{preview.pk}").first()
        if existing is not None:
            return JobStart(existing, replayed=True)
        content = Job.objects.filter(pk=preview.pk).values_list("input", flat=True).get()
        if not content:
            raise Conflict("the previewed file is no longer held; upload it again")
        started = job_start(
            owner=owner,
            kind=UPLOAD_COMMIT,
            label=f"Upload of {preview.input_name}",
            task=cluster_upload_commit_job,
            right=Right.REPORT_ACTIVITIES,
            params={**preview.params, "preview_job_id": preview.pk},
            input=bytes(content),
            input_name=preview.input_name,
            key=f"cluster-commit-{preview.pk}",
        )
        Job.objects.filter(pk=preview.pk).update(input=b"")
    return started


def _applied(result: ReportImportResult) -> JobResult:
    links = [_upload_another()]
    if result.batch_id is not None:
        links.insert(
            0, (f"Batch {result.batch_id}", reverse("cluster:cluster-batch", args=[result.batch_id]))
        )
    return JobResult(
        summary=result.summary(),
        figures=_figures(result),
        notes=list(result.notes),
        links=links,
        values=_values(result),
    )


def _commit(job: Job, progress: Progress) -> JobResult:
    # The job's end goes into the batch's transaction; an upload that changes nothing writes no
    # batch, and its end is recorded when the body returns.
    result = _apply(
        job,
        progress,
        preview=False,
        before_commit=lambda result: job_done(job, _applied(result)),
        previewed=StoredState.from_params(job.params) if "preview_job_id" in job.params else None,
    )
    return _applied(result)


@task()
def cluster_upload_commit_job(job_id: int) -> dict[str, Any]:
    return job_run(job_id, _refused_with_a_way_back(_commit))


# --- what became of them since ---------------------------------------------------------------------


AFRESH = "upload the file again to preview it afresh"


def _commit_of(preview: Job) -> Job | None:
    """The job that applies a preview, once asked for (one per preview: `upload_commit_start`)."""
    return Job.objects.filter(owner_id=preview.owner_id, key=f"cluster-commit-{preview.pk}").first()


def _reverted_on(batch: ImportBatch) -> str:
    return dateformat.format(timezone.localtime(batch.reverted_at), "j M Y")


def upload_preview_sequel(preview: Job) -> JobSequel | None:
    """What became of a preview's changes: applied as a batch that stands or was reverted since,
    being applied, refused, or no longer to be applied (its file is no longer kept); None while
    they may still be applied."""
    commit = _commit_of(preview)
    if commit is None:
        if (preview.result or {}).get("action") and not preview.input:
            return JobSequel(f"The previewed file is no longer kept (a day after the preview): {AFRESH}.")
        return None
    job_link = (f"job {commit.pk}", reverse("jobs:job-detail", args=[commit.pk]))
    if not commit.finished:
        return JobSequel("These changes are being applied by ", job_link, ".")
    if commit.status != JobStatus.SUCCEEDED:
        return JobSequel(
            "Applying these changes did not go through (", job_link, f"); {AFRESH}.", warning=True
        )
    batch_id = (commit.result or {}).get("batch_id")
    batch = ImportBatch.objects.filter(pk=batch_id).first() if batch_id else None
    if batch is None:
        return JobSequel("These changes were applied by ", job_link, ": nothing was left to change.")
    batch_link = (f"batch {batch.pk}", reverse("cluster:cluster-batch", args=[batch.pk]))
    if batch.reverted_at is not None:
        return JobSequel(
            "These changes were applied as ",
            batch_link,
            f", which {batch.reverted_by_label} reverted on {_reverted_on(batch)}; {AFRESH}.",
            warning=True,
        )
    return JobSequel("These changes were applied as ", batch_link, f" (by {job_link[0]}).")


def upload_commit_sequel(commit: Job) -> JobSequel | None:
    """What became of an applied upload's batch since: reverted, or nothing (None)."""
    batch_id = (commit.result or {}).get("batch_id")
    batch = ImportBatch.objects.filter(pk=batch_id).first() if batch_id else None
    if batch is None or batch.reverted_at is None:
        return None
    return JobSequel(
        "",
        (f"Batch {batch.pk}", reverse("cluster:cluster-batch", args=[batch.pk])),
        f" was reverted by {batch.reverted_by_label} on {_reverted_on(batch)}: its rows are as they were "
        "before it, and what this job wrote is undone.",
        warning=True,
    )
