"""Households API: registration files checked, then imported; large files through background jobs."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
import base64
import binascii
from typing import Any

from django.http import HttpRequest
from ninja import Status

from reliefops.core.access import access_household_import_by_id, require
from reliefops.core.api import DETAIL_ERRORS, JobOut
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.roles import Right
from reliefops.households import jobs, selectors
from reliefops.households.api.routing import WRITE_ERRORS, router
from reliefops.households.models import HouseholdImport, ImportStatus
from reliefops.households.schemas import HouseholdImportIn, HouseholdImportOut, HouseholdImportRefusedOut
from reliefops.households.services import household_import_commit, household_import_preview
from reliefops.households.services.imports import same_file_imported, same_file_message


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
