"""Named reads of the gazetteer and the sites. Name matching lives in `places.lookup`."""

from __future__ import annotations

from django.db.models import QuerySet

from reliefops.places.models import AdminArea, Site, SiteKind


def admin_area_by_pcode(pcode: str) -> AdminArea | None:
    return AdminArea.objects.select_related("parent").filter(pcode=pcode).first()


def admin_area_ancestors(area: AdminArea) -> list[AdminArea]:
    """The areas above `area`, nearest first (tehsil -> district -> province -> country)."""
    chain: list[AdminArea] = []
    seen = {area.pk}
    parent_id = area.parent_id
    while parent_id is not None and parent_id not in seen:
        parent = AdminArea.objects.filter(pk=parent_id).first()
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.pk)
        parent_id = parent.parent_id
    return chain


def admin_area_descendant_ids(area: AdminArea) -> set[int]:
    """Ids of every area below `area`, at any depth (one query per level)."""
    found: set[int] = set()
    frontier = {area.pk}
    while frontier:
        children = set(AdminArea.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= children
        frontier = children
    return found


def site_by_code(code: str) -> Site | None:
    return Site.objects.select_related("admin_area", "parent_hub").filter(code=code.strip().upper()).first()


def supplying_sites() -> QuerySet[Site]:
    """Hubs and warehouses: the sites that hold stock for others."""
    return Site.objects.filter(kind__in=[SiteKind.HUB, SiteKind.WAREHOUSE]).select_related("admin_area")


def sites_served_by(hub: Site) -> QuerySet[Site]:
    """The distribution points, camps and hubs that `hub` supplies directly."""
    return Site.objects.filter(parent_hub=hub).select_related("admin_area")
