"""API of the gazetteer (admin areas by P-code) and the operation's sites."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import paginate

from reliefops.core.access import (
    access_admin_area_by_pcode,
    access_admin_areas,
    access_site_by_id,
    access_sites,
)
from reliefops.core.api import DETAIL_ERRORS, ERRORS, ApiRouter, Page
from reliefops.places.schemas import (
    AdminAreaDetailOut,
    AdminAreaFilter,
    AdminAreaOut,
    SiteDetailOut,
    SiteFilter,
    SiteOut,
)

router = ApiRouter(tags=["places"])


@router.get(
    "/admin-areas",
    response={200: list[AdminAreaOut], **ERRORS},
    summary="Admin areas (the gazetteer), by P-code",
)
@paginate(Page)
def admin_area_list(request: HttpRequest, filters: Query[AdminAreaFilter]) -> QuerySet[Any]:
    return filters.filter(access_admin_areas(request.user)).order_by("pcode")


@router.get(
    "/admin-areas/{pcode}",
    response={200: AdminAreaDetailOut, **DETAIL_ERRORS},
    summary="One admin area, with its parent and the areas below it",
)
def admin_area_detail(request: HttpRequest, pcode: str) -> Any:
    return access_admin_area_by_pcode(request.user, pcode)


@router.get(
    "/sites",
    response={200: list[SiteOut], **ERRORS},
    summary="Sites: warehouses, hubs, distribution points, camps, offices",
)
@paginate(Page)
def site_list(request: HttpRequest, filters: Query[SiteFilter]) -> QuerySet[Any]:
    return filters.filter(access_sites(request.user)).order_by("name", "pk")


@router.get("/sites/{site_id}", response={200: SiteDetailOut, **DETAIL_ERRORS}, summary="One site")
def site_detail(request: HttpRequest, site_id: int) -> Any:
    return access_site_by_id(request.user, site_id)
