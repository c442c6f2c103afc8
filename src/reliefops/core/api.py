"""API pieces every router shares (pagination, the error body) and the caller's own identity."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination

from reliefops.core.access import user_organisation_id, user_role
from reliefops.core.roles import ROLE_RIGHTS

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 500


class PageInput(Schema):
    limit: int = Field(
        PAGE_SIZE_DEFAULT,
        ge=1,
        le=PAGE_SIZE_MAX,
        description=f"How many items to return, 1 to {PAGE_SIZE_MAX}.",
    )
    offset: int = Field(0, ge=0, description="How many items to skip, from the start of the list.")


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
        None, description="Every refused value (only on 422 responses). Nothing was written."
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
