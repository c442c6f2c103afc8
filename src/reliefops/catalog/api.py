"""API of the relief items catalogue and its kits (bills of materials)."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query
from ninja.pagination import paginate

from reliefops.catalog.schemas import ItemDetailOut, ItemFilter, ItemOut, KitFilter, KitOut
from reliefops.core.access import access_item_by_code, access_items, access_kit_by_code, access_kits
from reliefops.core.api import DETAIL_ERRORS, ERRORS, ApiRouter, Page

router = ApiRouter(tags=["catalog"])


@router.get(
    "/items",
    response={200: list[ItemOut], **ERRORS},
    summary="Relief items, with their pack sizes",
)
@paginate(Page)
def item_list(request: HttpRequest, filters: Query[ItemFilter]) -> QuerySet[Any]:
    items = filters.filter(access_items(request.user))
    return items.select_related("kit").prefetch_related("pack_sizes").order_by("code")


@router.get("/items/{code}", response={200: ItemDetailOut, **DETAIL_ERRORS}, summary="One relief item")
def item_detail(request: HttpRequest, code: str) -> Any:
    return access_item_by_code(request.user, code)


@router.get(
    "/kits",
    response={200: list[KitOut], **ERRORS},
    summary="Kits, with what one kit is made of",
)
@paginate(Page)
def kit_list(request: HttpRequest, filters: Query[KitFilter]) -> QuerySet[Any]:
    return filters.filter(access_kits(request.user)).order_by("item__code")


@router.get("/kits/{code}", response={200: KitOut, **DETAIL_ERRORS}, summary="One kit, with its components")
def kit_detail(request: HttpRequest, code: str) -> Any:
    return access_kit_by_code(request.user, code)
