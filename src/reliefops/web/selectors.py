"""The reads behind the reference pages: searches, filters and overviews, scoped by core.access.

Every function takes the signed-in user and starts from an `access_*` fetcher, so a page can
never show more than the user's role allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from reliefops.catalog.models import ItemCategory, KitComponent
from reliefops.core.access import (
    AnyUser,
    access_admin_areas,
    access_grants,
    access_items,
    access_kits,
    access_organisations,
    access_sites,
)
from reliefops.partners.models import OrganisationType
from reliefops.places.models import LEVEL_DEPTH, AdminLevel, SiteKind

# The deepest chain of parents an admin area can have (country > province > ... > village).
_MAX_DEPTH = len(LEVEL_DEPTH)


def _within_area(prefix: str, pcode: str | OuterRef) -> Q:
    """Rows whose admin area (at `prefix`) is the area with this P-code or lies anywhere below it."""
    condition = Q()
    path = prefix
    for _ in range(_MAX_DEPTH):
        condition |= Q(**{f"{path}__pcode": pcode})
        path = f"{path}__parent"
    return condition


def _count_of(queryset: QuerySet[Any]) -> Coalesce:
    """The number of rows of a (correlated) queryset, as an annotation: one subquery, no join."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _with_counts(user: AnyUser, areas: QuerySet[Any]) -> QuerySet[Any]:
    """Each area with its number of sub-areas and of sites in it or anywhere below it."""
    return areas.annotate(
        n_children=_count_of(access_admin_areas(user).filter(parent=OuterRef("pk"))),
        n_sites=_count_of(access_sites(user).filter(_within_area("admin_area", OuterRef("pcode")))),
    )


# --- admin areas ----------------------------------------------------------------------------------


def admin_area_search(user: AnyUser, *, q: str = "", level: str = "", parent: str = "") -> QuerySet[Any]:
    """Admin areas matching a name, P-code or alternate name, at a level, under a parent P-code."""
    areas = access_admin_areas(user)
    if q:
        areas = areas.filter(Q(name__icontains=q) | Q(pcode__icontains=q) | Q(alt_names__icontains=q))
    if level:
        areas = areas.filter(level=level)
    if parent:
        areas = areas.filter(parent__pcode=parent)
    return _with_counts(user, areas).order_by("pcode")


def admin_area_parent_choices(user: AnyUser) -> list[tuple[str, str]]:
    """(P-code, label) of every area that has sub-areas, for the parent filter."""
    rows = (
        access_admin_areas(user)
        .filter(children__isnull=False)
        .distinct()
        .order_by("pcode")
        .values_list("pcode", "name", "level")
    )
    return [(pcode, f"{name} ({pcode}) · {AdminLevel(level).label}") for pcode, name, level in rows]


def admin_area_with_sites_choices(user: AnyUser) -> list[tuple[str, str]]:
    """(P-code, label) of every area that has sub-areas or sites, for the sites' area filter."""
    rows = (
        access_admin_areas(user)
        .filter(Q(children__isnull=False) | Q(sites__isnull=False))
        .distinct()
        .order_by("pcode")
        .values_list("pcode", "name")
    )
    return [(pcode, f"{name} ({pcode})") for pcode, name in rows]


def admin_area_ancestors(area: Any) -> list[Any]:
    """The chain of parents of an area, from the top (country or province) down to its parent."""
    chain: list[Any] = []
    current = area.parent  # loaded with the area by access_admin_areas
    while current is not None and len(chain) < _MAX_DEPTH:
        chain.append(current)
        current = current.parent
    chain.reverse()
    return chain


def admin_area_children(user: AnyUser, area: Any) -> QuerySet[Any]:
    return _with_counts(user, access_admin_areas(user).filter(parent=area)).order_by("pcode")


def sites_in_area(user: AnyUser, area: Any) -> QuerySet[Any]:
    """The sites of an admin area and of every area below it."""
    return site_search(user, area=area.pcode)


# --- sites ----------------------------------------------------------------------------------------


def site_search(user: AnyUser, *, q: str = "", kind: str = "", area: str = "") -> QuerySet[Any]:
    """Sites matching a name or code, of a kind, in an admin area (or any area below it)."""
    sites = access_sites(user).select_related("admin_area", "parent_hub")
    if q:
        sites = sites.filter(Q(name__icontains=q) | Q(code__icontains=q))
    if kind:
        sites = sites.filter(kind=kind)
    if area:
        sites = sites.filter(_within_area("admin_area", area))
    return sites.order_by("name", "code")


def site_served(user: AnyUser, site: Any) -> QuerySet[Any]:
    """The distribution points, camps and other sites this site supplies."""
    return access_sites(user).filter(parent_hub=site).order_by("name")


# --- organisations --------------------------------------------------------------------------------


def organisation_search(user: AnyUser, *, q: str = "", org_type: str = "") -> QuerySet[Any]:
    """Organisations matching a name, acronym or alias, of a type."""
    organisations = access_organisations(user)
    if q:
        organisations = organisations.filter(
            Q(name__icontains=q) | Q(acronym__icontains=q) | Q(aliases__icontains=q)
        )
    if org_type:
        organisations = organisations.filter(type=org_type)
    return organisations.annotate(n_grants=Count("grants")).order_by("name")


def organisation_grants(user: AnyUser, organisation: Any) -> QuerySet[Any]:
    return access_grants(user).filter(donor=organisation).order_by("start", "reference")


# --- catalogue ------------------------------------------------------------------------------------


def item_search(user: AnyUser, *, q: str = "", category: str = "") -> QuerySet[Any]:
    """Items matching a code or name, of a category, with their pack sizes."""
    items = access_items(user)
    if q:
        items = items.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if category:
        items = items.filter(category=category)
    return items.select_related("kit").prefetch_related("pack_sizes").order_by("code")


def item_kits_using(user: AnyUser, item: Any) -> list[tuple[Any, int]]:
    """The kits that contain the item, each with how many of the item one kit holds."""
    kits = access_kits(user).filter(components__item=item).distinct().order_by("item__code")
    return [(kit, next(c.quantity for c in kit.components.all() if c.item_id == item.pk)) for kit in kits]


def kit_search(user: AnyUser, *, q: str = "") -> QuerySet[Any]:
    """Kits matching a code or name, with the number of their components."""
    kits = access_kits(user)
    if q:
        kits = kits.filter(Q(item__code__icontains=q) | Q(item__name__icontains=q))
    return kits.annotate(n_components=Count("components")).order_by("item__code")


def kit_components(kits: QuerySet[Any]) -> QuerySet[Any]:
    """The components of these kits, one a row, kit by kit: what a kits file lists."""

    return KitComponent.objects.filter(kit__in=kits.values("pk")).order_by("kit__item__code", "item__code")


# --- overview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """One counted group of the overview: what it is, how many, and the filter that lists them."""

    label: str
    count: int
    value: str


@dataclass(frozen=True)
class ReferenceOverview:
    admin_areas_by_level: list[Tally]
    sites_by_kind: list[Tally]
    organisations_by_type: list[Tally]
    items_by_category: list[Tally]
    admin_areas: int
    sites: int
    organisations: int
    items: int
    kits: int
    kit_names: list[tuple[str, str]]  # (code, name) of the first kits, by code


def _tally(queryset: QuerySet[Any], field: str, choices: Any) -> tuple[list[Tally], int]:
    """Counts per choice (in the choices' order, empty groups left out) and the total."""
    counts: dict[str, int] = dict(queryset.order_by().values_list(field).annotate(n=Count("pk")))
    tallies = [Tally(label, counts[value], value) for value, label in choices if counts.get(value)]
    return tallies, sum(counts.values())


def reference_overview(user: AnyUser) -> ReferenceOverview:
    """How much reference data the operation holds, grouped the way the lists filter it."""
    by_level, n_areas = _tally(access_admin_areas(user), "level", AdminLevel.choices)
    by_kind, n_sites = _tally(access_sites(user), "kind", SiteKind.choices)
    by_type, n_organisations = _tally(access_organisations(user), "type", OrganisationType.choices)
    by_category, n_items = _tally(access_items(user), "category", ItemCategory.choices)
    return ReferenceOverview(
        admin_areas_by_level=by_level,
        sites_by_kind=by_kind,
        organisations_by_type=by_type,
        items_by_category=by_category,
        admin_areas=n_areas,
        sites=n_sites,
        organisations=n_organisations,
        items=n_items,
        kits=access_kits(user).order_by().count(),
        kit_names=list(
            access_kits(user)
            .prefetch_related(None)
            .order_by("item__code")
            .values_list("item__code", "item__name")[:6]
        ),
    )
