"""Downloads of the web pages' tables: every list page answers `?format=csv` or `?format=xlsx`
with every row its current filters select (not only the page on screen), through core.exports.

A page offers its downloads with `export_links(request)` in its context (the list pages get them
from `render_list`); `web/includes/exports.html` shows them. The tables of the reference pages
(admin areas, sites, organisations, items, kits) are defined here; other apps define theirs
beside their views.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponseBase, QueryDict

from reliefops.core.exports import FORMATS, Column, Table, export_response, iterate

LABELS = {"csv": "Download CSV", "xlsx": "Download XLSX"}
DOWNLOADS = frozenset({*FORMATS, "hxl"})  # the formats some page downloads (hxl: the cluster's)


def requested_format(request: HttpRequest) -> str | None:
    """The file format the request asks for (`?format=csv`), or None for the page itself."""
    fmt = request.GET.get("format", "").lower()
    return fmt if fmt in FORMATS else None


def export_links(request: HttpRequest, part: str = "") -> list[dict[str, str]]:
    """The page's download links: its own query (filters kept, page dropped) plus the format, and
    `part` for a page that shows more than one table."""
    links = []
    for fmt in FORMATS:
        query: QueryDict = request.GET.copy()
        query.pop("page", None)
        query.pop("part", None)
        query["format"] = fmt
        if part:
            query["part"] = part
        links.append({"format": fmt, "label": LABELS[fmt], "href": f"{request.path}?{query.urlencode()}"})
    return links


def download(
    request: HttpRequest, table: Table, rows: Iterable[Any] | Any, part: str = ""
) -> HttpResponseBase | None:
    """The file the request asks for, or None when it asks for the page (or another of its tables)."""
    fmt = requested_format(request)
    if fmt is None or request.GET.get("part", "") != part:
        return None
    return export_response(table, iterate(rows, table), fmt)


def _join(values: Any) -> str:
    return "; ".join(str(v) for v in values or ())


# --- the reference pages ---------------------------------------------------------------------------

ADMIN_AREAS = Table(
    "admin-areas",
    (
        Column("P-code", "#adm+code", "pcode", 12),
        Column("Name", "#adm+name", "name", 24),
        Column("Level", "#adm+level", "level", 12),
        Column("Parent P-code", "#adm+code+parent", "parent.pcode", 12),
        Column("Parent", "#adm+name+parent", "parent.name", 20),
        Column("Other names", "#adm+name+alt", lambda a: _join(a.alt_names), 24),
        Column("Sub-areas", "#adm+count+children", "n_children", 10),
        Column("Sites", "#loc+count", "n_sites", 8),
        Column("Latitude", "#geo+lat", "lat", 10),
        Column("Longitude", "#geo+lon", "lon", 10),
        Column("Elevation (m)", "#geo+elevation", "elevation_m", 10),
        Column("COD version", "#meta+source", "cod_version", 16),
    ),
    sheet="Admin areas",
    related=("parent",),
)

SITES = Table(
    "sites",
    (
        Column("Code", "#loc+code", "code", 12),
        Column("Name", "#loc+name", "name", 26),
        Column("Kind", "#loc+type", "kind", 16),
        Column("Admin area P-code", "#adm+code", "admin_area.pcode", 12),
        Column("Admin area", "#adm+name", "admin_area.name", 20),
        Column("Supplied by (code)", "#loc+code+hub", "parent_hub.code", 12),
        Column("Supplied by", "#loc+name+hub", "parent_hub.name", 22),
        Column("Latitude", "#geo+lat", "lat", 10),
        Column("Longitude", "#geo+lon", "lon", 10),
        Column("Elevation (m)", "#geo+elevation", "elevation_m", 10),
        Column("Open", "#status", "is_active", 8),
    ),
    sheet="Sites",
    related=("admin_area", "parent_hub"),
)

ORGANISATIONS = Table(
    "organisations",
    (
        Column("Name", "#org+name", "name", 36),
        Column("Acronym", "#org+acronym", "acronym", 12),
        Column("Type", "#org+type", "type", 16),
        Column("Other names", "#org+name+alt", lambda o: _join(o.aliases), 30),
        Column("Grants", "#meta+count", "n_grants", 8),
    ),
    sheet="Organisations",
)

ITEMS = Table(
    "items",
    (
        Column("Code", "#item+code", "code", 14),
        Column("Name", "#item+name", "name", 30),
        Column("Category", "#item+type", "category", 14),
        Column("Unit", "#item+unit", "base_unit", 10),
        # Packs, weight and volume as the catalogue's import reads them (`bale:10`, the headers
        # `weight kg` and `volume m3`), so that the download uploads again unchanged.
        Column(
            "Packs",
            "#item+pack",
            lambda i: "; ".join(f"{p.name}:{p.quantity}" for p in i.pack_sizes.all()),
            24,
        ),
        Column("Weight kg", "#item+weight", "weight_kg", 10),
        Column("Volume m3", "#item+volume", "volume_m3", 10),
        Column("In use", "#status", "is_active", 8),
    ),
    sheet="Items",
)

# One line per component, as `reliefops catalog import-kits` reads it (`Kit code`, `Component
# code`, `Quantity`, `Source`), so that the download uploads again unchanged; the names, tagged,
# are shown only to be read and left out by the import.
KITS = Table(
    "kits",
    (
        Column("Kit code", "#item+code+kit", "kit.item.code", 14),
        Column("Kit", "#item+kit+name", "kit.item.name", 28),
        Column("Component code", "#item+code", "item.code", 16),
        Column("Component", "#item+name", "item.name", 28),
        Column("Quantity", "#item+num", "quantity", 10),
        Column("Source", "#meta+source", "kit.source", 40),
    ),
    sheet="Kits",
    related=("kit__item", "item"),
)
