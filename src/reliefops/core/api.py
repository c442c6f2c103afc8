"""API pieces every router shares (pagination, the error body) and the caller's own identity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from reliefops.core.access import (
    access_job_by_id,
    access_jobs,
    job_result_visible,
    user_organisation_id,
    user_role,
)
from reliefops.core.jobs import jobs_mark_stale
from reliefops.core.roles import ROLE_RIGHTS

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 500
OFFSET_MAX = 2**31 - 1


class PageInput(Schema):
    limit: int = Field(
        PAGE_SIZE_DEFAULT,
        ge=1,
        le=PAGE_SIZE_MAX,
        description=f"How many items to return, 1 to {PAGE_SIZE_MAX}.",
    )
    # Bounded so that the database is never asked to skip more rows than its integers hold.
    offset: int = Field(
        0, ge=0, le=OFFSET_MAX, description="How many items to skip, from the start of the list."
    )


class PageOutput(Schema):
    items: list[Any] = Field(description="This page of the list, in the list's stable order.")
    count: int = Field(description="How many items match the filters, across all pages.")


class Page(LimitOffsetPagination):
    """Limit/offset pages of a list, with the total count of matching rows."""

    Input = PageInput  # type: ignore[assignment]
    Output = PageOutput  # type: ignore[assignment]


class ProblemOut(Schema):
    row: int | None = Field(description="Line of an uploaded file, counted from 1; null for a request.")
    field: str = Field(description="The column or parameter, e.g. `query.limit`.")
    reason: str = Field(description="Why the value was refused.")


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in one sentence.")
    problems: list[ProblemOut] | None = Field(
        None,
        description="Every refused value, `{row, field, reason}`: on a 422 (a bad value), and on a 400 "
        "refused by a rule of the ledger (an overdraw). Absent on other errors. Nothing was written.",
    )


# Error responses that every endpoint of a kind may return; spread into `response={200: …, **ERRORS}`.
ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
DETAIL_ERRORS: dict[int, type[Schema]] = {**ERRORS, 404: ErrorOut}


router = Router(tags=["core"])


class MeOut(Schema):
    username: str = Field(description="The caller's username.")
    role: str = Field(description="The caller's role (`admin`, `coordinator`, …); empty if none is set.")
    organisation_id: int | None = Field(description="The organisation the caller works for, if any.")
    rights: list[str] = Field(description="The rights the caller's role carries, sorted.")


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="Who am I: the caller's role and rights")
def me(request: HttpRequest) -> MeOut:
    role = user_role(request.user)
    return MeOut(
        username=request.user.get_username(),
        role=role.value if role else "",
        organisation_id=user_organisation_id(request.user),
        rights=sorted(r.value for r in ROLE_RIGHTS[role]) if role else [],
    )


# --- background jobs ----------------------------------------------------------------------------------


class JobOut(Schema):
    id: int = Field(description="The job's id; poll `GET /api/core/jobs/{id}` until `status` is final.")
    kind: str = Field(description="What runs: `household_import_preview`, `cluster_upload_commit`, …")
    label: str = Field(description="What the job does, in words.")
    owner: str = Field(description="Username of who started it.")
    status: str = Field(description="`queued`, `running`, then `succeeded` or `failed`.")
    stage: str = Field(description="What it is doing now.")
    done: int = Field(description="Units of work done in this stage (rows, households, pairs).")
    total: int = Field(description="Units of work in this stage; 0 while unknown.")
    created_at: datetime = Field(description="When it was started.")
    started_at: datetime | None = Field(description="When the worker took it; null while queued.")
    finished_at: datetime | None = Field(description="When it ended; null until then.")
    result: dict[str, Any] | None = Field(
        description="Once succeeded: `summary`, `figures`, `notes`, `links` (to web pages) and more. "
        "Null while running, or when the caller's role no longer carries the right it needs."
    )
    error: str = Field(description="Why it failed; empty otherwise.")
    problems: list[ProblemOut] = Field(
        description="Each refused value of a refused input: row, field, reason."
    )
    url: str = Field(description="The job's web page, with its progress bar and result.")

    @staticmethod
    def resolve_owner(obj: Any) -> str:
        return str(obj.owner.get_username())

    @staticmethod
    def resolve_result(obj: Any, context: dict[str, Any]) -> Any:
        return obj.result if job_result_visible(context["request"].user, obj) else None

    @staticmethod
    def resolve_problems(obj: Any, context: dict[str, Any]) -> Any:
        return obj.problems if job_result_visible(context["request"].user, obj) else []

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return reverse("jobs:job-detail", args=[obj.pk])


@router.get(
    "/jobs",
    response={200: list[JobOut], **ERRORS},
    summary="Background jobs: the caller's own, newest first (an admin's: everyone's)",
)
@paginate(Page)
def job_list(request: HttpRequest) -> Any:
    return access_jobs(request.user).defer("input")


@router.get(
    "/jobs/{job_id}",
    response={200: JobOut, **DETAIL_ERRORS},
    summary="One background job: its status, progress and result",
)
def job_detail(request: HttpRequest, job_id: int) -> Any:
    job = access_job_by_id(request.user, job_id)
    if not job.finished and jobs_mark_stale():
        job = access_job_by_id(request.user, job_id)
    return job
