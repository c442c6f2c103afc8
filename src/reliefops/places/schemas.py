"""API schemas of the gazetteer and the sites: what the API returns and the filters it takes."""

from __future__ import annotations

from typing import Annotated

from django.db.models import Q
from ninja import Field, FilterLookup, FilterSchema, Schema

from reliefops.core.errors import InvalidInput, Problem
from reliefops.places.models import LEVEL_DEPTH, AdminArea, AdminLevel, SiteKind


class AdminAreaRef(Schema):
    pcode: str = Field(description="P-code of the area (COD-AB), e.g. `PK52201`.")
    name: str = Field(description="Name of the area.")
    level: AdminLevel = Field(description="Administrative level of the area.")


class AdminAreaOut(Schema):
    pcode: str = Field(description="P-code (COD-AB): PK + province (1) + district (2) + tehsil (2).")
    name: str = Field(description="Name of the area, e.g. `Bala Kot`.")
    level: AdminLevel = Field(description="Administrative level: province (adm1), district (adm2), …")
    parent_pcode: str | None = Field(description="P-code of the area this one lies in; null for the top.")
    cod_version: str = Field(description="Version of the Common Operational Dataset the P-code comes from.")
    lat: float | None = Field(description="Latitude of the area's centre (WGS 84, degrees).")
    lon: float | None = Field(description="Longitude of the area's centre (WGS 84, degrees).")
    elevation_m: int | None = Field(description="Elevation in metres above sea level.")
    alt_names: list[str] = Field(description="Other spellings of the name, e.g. `Balakot` for `Bala Kot`.")

    @staticmethod
    def resolve_parent_pcode(obj: AdminArea) -> str | None:
        return obj.parent.pcode if obj.parent is not None else None


class AdminAreaDetailOut(AdminAreaOut):
    parent: AdminAreaRef | None = Field(description="The area this one lies in.")
    children: list[AdminAreaRef] = Field(description="The areas directly below this one, by P-code.")
    notes: str = Field(description="Free-text notes (sources, boundary changes).")

    @staticmethod
    def resolve_children(obj: AdminArea) -> list[AdminArea]:
        return list(obj.children.order_by("pcode"))


def known_pcode(pcode: str, parameter: str) -> str:
    """The P-code in capitals, as stored; an area that does not exist is a bad filter value (422
    naming the parameter), not an empty list that reads as "nothing there"."""
    pcode = pcode.strip().upper()
    if not AdminArea.objects.filter(pcode=pcode).exists():
        raise InvalidInput([Problem(None, parameter, f"no admin area with P-code {pcode!r}")])
    return pcode


class AdminAreaFilter(FilterSchema):
    q: Annotated[
        str | None, FilterLookup(["name__icontains", "pcode__icontains", "alt_names__icontains"])
    ] = Field(None, description="Text found in the name, an alternate name or the P-code (any case).")
    level: Annotated[AdminLevel | None, FilterLookup("level")] = Field(
        None, description="Only areas of this level."
    )
    parent: str | None = Field(None, description="Only the areas directly below the area with this P-code.")

    def filter_parent(self, pcode: str | None) -> Q:
        return Q(parent__pcode=known_pcode(pcode, "parent")) if pcode is not None else Q()


def within_area(field: str, pcode: str) -> Q:
    """Rows whose admin area is the area with `pcode` (in any case: P-codes are stored in capitals)
    or lies anywhere below it."""
    pcode = pcode.strip().upper() if pcode is not None else pcode
    q = Q()
    path = field
    for _ in LEVEL_DEPTH:
        q |= Q(**{f"{path}__pcode": pcode})
        path += "__parent"
    return q


class SiteOut(Schema):
    id: int = Field(description="Identifier of the site.")
    code: str = Field(description="Short code of the site, e.g. `HUB-MANSEHRA`.")
    name: str = Field(description="Name of the site.")
    kind: SiteKind = Field(description="What the site is: warehouse, hub, distribution point, camp, …")
    admin_area: AdminAreaRef = Field(description="The admin area the site lies in.")
    parent_hub_id: int | None = Field(description="The hub that supplies this site, if any.")
    lat: float | None = Field(description="Latitude (WGS 84, degrees).")
    lon: float | None = Field(description="Longitude (WGS 84, degrees).")
    elevation_m: int | None = Field(description="Elevation in metres above sea level.")
    is_active: bool = Field(description="False once the site has closed.")


class SiteDetailOut(SiteOut):
    notes: str = Field(description="Free-text notes.")


class SiteFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["name__icontains", "code__icontains"])] = Field(
        None, description="Text found in the name or code (any case)."
    )
    kind: Annotated[SiteKind | None, FilterLookup("kind")] = Field(
        None, description="Only sites of this kind."
    )
    admin_area: str | None = Field(
        None, description="Only sites in the area with this P-code, or in any area below it."
    )

    def filter_admin_area(self, pcode: str | None) -> Q:
        return within_area("admin_area", known_pcode(pcode, "admin_area")) if pcode is not None else Q()
