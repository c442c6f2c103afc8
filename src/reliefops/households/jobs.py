"""The households' long jobs, run by the worker: checking a registration file, importing it, and
searching the whole registry for likely duplicates.

Each is an entry point like a page or a command: it checks the owner's right again (it may have
changed while the job waited), calls one service with the job's progress callback, and returns a
summary without personal data; the pages it links to show the rest, with their own checks. The
summary is recorded in the transaction that writes the work, just before its commit (`job_done`,
the service's `before_commit`): the job is succeeded exactly when its work is in.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django_tasks import task

from reliefops.core.access import require
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.jobs import JobRefused, JobResult, JobStart, Progress, job_done, job_run, job_start
from reliefops.core.models import Job
from reliefops.core.roles import Right
from reliefops.core.text import counted
from reliefops.households.models import ImportStatus
from reliefops.households.services import duplicates_run, household_import_commit, household_import_preview
from reliefops.households.services.duplicates import RunResult
from reliefops.households.services.imports import MAX_BYTES, ImportResult

IMPORT_PREVIEW = "household_import_preview"
IMPORT_COMMIT = "household_import_commit"
DUPLICATES_RUN = "household_duplicates_run"


# --- checking a file ---------------------------------------------------------------------------------


def import_preview_start(*, owner: Any, filename: str, content: bytes) -> JobStart:
    """Queue the check of a registration file; one too large for any import is refused at once."""
    require(owner, Right.REGISTER_HOUSEHOLDS)
    if len(content) > MAX_BYTES:
        raise InvalidInput([Problem(None, "file", f"larger than {MAX_BYTES // 1024 // 1024} MB; split it")])
    return job_start(
        owner=owner,
        kind=IMPORT_PREVIEW,
        label=f"Check of {filename}",
        task=household_import_preview_job,
        right=Right.REGISTER_HOUSEHOLDS,
        input=content,
        input_name=filename,
    )


def _checked(result: ImportResult) -> JobResult:
    """The check's summary; JobRefused for a refused file, with the link to its record."""
    batch = result.batch
    page = reverse("households:import-detail", args=[batch.pk])
    if batch.status == ImportStatus.REFUSED:
        problems = [Problem(p["row"], p["field"], p["reason"]) for p in batch.problems]
        raise JobRefused(result.message, problems, [("The refused file", page)])
    if result.same_as is not None:
        earlier = reverse("households:import-detail", args=[result.same_as.pk])
        return JobResult(
            summary=result.message,
            figures=[("Households to import", 0)],
            links=[(f"Import {result.same_as.pk}, of the same file", earlier)],
        )
    return JobResult(
        summary=result.message,
        # The import's number: what an API client commits (POST /api/households/imports/{id}/commit-job).
        figures=[
            ("Households to import", batch.rows),
            ("Likely duplicates", len(batch.duplicates)),
            ("Import number", batch.pk),
        ],
        links=[("Open the preview, to look at the likely duplicates and import the file", page)],
    )


def _preview(job: Job, progress: Progress) -> JobResult:
    require(job.owner, Right.REGISTER_HOUSEHOLDS)

    def end_with_the_check(result: ImportResult) -> None:
        if result.batch.status != ImportStatus.REFUSED:  # a refusal is recorded when the body raises it
            job_done(job, _checked(result))

    result = household_import_preview(
        actor=job.owner,
        filename=job.input_name,
        content=bytes(job.input),
        progress=progress,
        before_commit=end_with_the_check,
    )
    return _checked(result)


@task()
def household_import_preview_job(job_id: int) -> dict[str, Any]:
    return job_run(job_id, _preview)


# --- importing it ------------------------------------------------------------------------------------


def import_commit_start(*, owner: Any, import_id: int, filename: str) -> JobStart:
    """Queue the import of a previewed file; asking twice returns the first job."""
    require(owner, Right.REGISTER_HOUSEHOLDS)
    return job_start(
        owner=owner,
        kind=IMPORT_COMMIT,
        label=f"Import of {filename}",
        task=household_import_commit_job,
        right=Right.REGISTER_HOUSEHOLDS,
        params={"import_id": import_id},
        key=f"household-import-{import_id}",
    )


def _registered(result: ImportResult) -> JobResult:
    return JobResult(
        summary=result.message,
        figures=[("Households registered", result.batch.created)],
        links=[
            ("The imported file", reverse("households:import-detail", args=[result.batch.pk])),
            ("The registry", reverse("households:registry")),
            ("Likely duplicates to decide", reverse("households:duplicates")),
        ],
    )


def _commit(job: Job, progress: Progress) -> JobResult:
    require(job.owner, Right.REGISTER_HOUSEHOLDS)
    import_id = int(job.params["import_id"])
    # The check and the registration run in one transaction: the page shows this stage until the end.
    progress("checking the file again and registering every household, all at once", 0, 0)
    result = household_import_commit(
        actor=job.owner,
        import_id=import_id,
        progress=progress,
        before_commit=lambda result: job_done(job, _registered(result)),
    )
    return _registered(result)


@task()
def household_import_commit_job(job_id: int) -> dict[str, Any]:
    return job_run(job_id, _commit)


# --- searching the registry for duplicates -----------------------------------------------------------


def duplicates_run_start(*, owner: Any, threshold: int) -> JobStart:
    """Queue a search of the whole registry; while one is waiting or running, that one is returned."""
    require(owner, Right.REGISTER_HOUSEHOLDS)
    require(owner, Right.VIEW_PERSONAL_DATA)
    if not 50 <= threshold <= 100:
        raise InvalidInput([Problem(None, "threshold", "a score from 50 to 100")])
    waiting = Job.objects.filter(kind=DUPLICATES_RUN, status__in=["queued", "running"]).first()
    if waiting is not None and waiting.owner_id == owner.pk:
        return JobStart(waiting, replayed=True)
    return job_start(
        owner=owner,
        kind=DUPLICATES_RUN,
        label="Search of the registry for likely duplicates",
        task=household_duplicates_run_job,
        right=Right.REGISTER_HOUSEHOLDS,
        params={"threshold": threshold},
    )


def _searched(result: RunResult) -> JobResult:
    run, stats = result.run, result.stats
    return JobResult(
        summary=(
            f"{counted(run.queued, 'new pair')} of likely duplicates queued for a decision "
            f"({counted(stats.households, 'household')}, {counted(stats.compared, 'pair')} compared)."
        ),
        figures=[
            ("Households searched", stats.households),
            ("Pairs compared", stats.compared),
            ("Likely pairs found", stats.found),
            ("New pairs queued", run.queued),
        ],
        links=[("The pairs to decide", reverse("households:duplicates"))],
    )


def _duplicates(job: Job, progress: Progress) -> JobResult:
    require(job.owner, Right.REGISTER_HOUSEHOLDS)
    result = duplicates_run(
        actor=job.owner,
        threshold=int(job.params["threshold"]),
        progress=progress,
        before_commit=lambda result: job_done(job, _searched(result)),
    )
    return _searched(result)


@task()
def household_duplicates_run_job(job_id: int) -> dict[str, Any]:
    return job_run(job_id, _duplicates)
