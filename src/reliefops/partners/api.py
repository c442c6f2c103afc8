"""API of the organisations of the response and the donors' grants."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import paginate

from reliefops.core.access import (
    access_grant_by_id,
    access_grants,
    access_organisation_by_id,
    access_organisations,
)
from reliefops.core.api import DETAIL_ERRORS, ERRORS, ApiRouter, Page
from reliefops.partners.schemas import GrantFilter, GrantOut, OrganisationFilter, OrganisationOut

router = ApiRouter(tags=["partners"])


@router.get(
    "/organisations",
    response={200: list[OrganisationOut], **ERRORS},
    summary="Organisations of the response: agencies, NGOs, donors, government, military",
)
@paginate(Page)
def organisation_list(request: HttpRequest, filters: Query[OrganisationFilter]) -> QuerySet[Any]:
    return filters.filter(access_organisations(request.user)).order_by("name", "pk")


@router.get(
    "/organisations/{organisation_id}",
    response={200: OrganisationOut, **DETAIL_ERRORS},
    summary="One organisation",
)
def organisation_detail(request: HttpRequest, organisation_id: int) -> Any:
    return access_organisation_by_id(request.user, organisation_id)


@router.get(
    "/grants",
    response={200: list[GrantOut], **ERRORS},
    summary="Donors' grants, which stock is attributed to",
)
@paginate(Page)
def grant_list(request: HttpRequest, filters: Query[GrantFilter]) -> QuerySet[Any]:
    return filters.filter(access_grants(request.user)).order_by("reference", "pk")


@router.get("/grants/{grant_id}", response={200: GrantOut, **DETAIL_ERRORS}, summary="One grant")
def grant_detail(request: HttpRequest, grant_id: int) -> Any:
    return access_grant_by_id(request.user, grant_id)
