"""The dashboard map's data: district outlines shaded by coverage, and the sites as markers.

Served as GeoJSON by the app and drawn by Leaflet without a tile layer, so the map works with no
internet connection: the outlines come from the gazetteer's stored boundaries (the scenario ships
them), the sites from their coordinates.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from reliefops.cluster import maps as coverage
from reliefops.cluster import selectors as cluster
from reliefops.places.models import AdminLevel, Site, SiteKind
from reliefops.reports.selectors import ClusterPicture

MARKER_KINDS = (SiteKind.WAREHOUSE, SiteKind.HUB, SiteKind.DISTRIBUTION_POINT, SiteKind.CAMP, SiteKind.OFFICE)


def map_data(picture: ClusterPicture) -> dict[str, Any]:
    """A FeatureCollection of district outlines (with coverage of the picture's activity) and of the
    sites that have coordinates, with the attributions the outlines' licences ask to show."""
    rows = {r.pcode: r for r in picture.district_rows}
    activity = picture.activity
    features: list[dict[str, Any]] = []
    attributions: set[str] = set()
    for outline in cluster.area_outlines(level=AdminLevel.DISTRICT.value):
        if outline.attribution:
            attributions.add(outline.attribution)
        row = rows.get(outline.pcode)
        in_need = row.in_need if row else None
        reached = row.reached if row else 0
        shade = coverage.coverage_class(
            row.coverage if row else None, in_need, reached, partnered=bool(row and row.rows)
        )
        gaps_url = reverse("cluster:cluster-gaps") + f"?level=tehsil&within={outline.pcode}"
        if activity is not None:
            gaps_url += f"&activity={activity.code}"
        if picture.months_query:  # the tehsils' figures of the same months as the district's
            gaps_url += f"&{picture.months_query}"
        features.append(
            {
                "type": "Feature",
                "geometry": outline.geometry,
                "properties": {
                    "layer": "area",
                    "pcode": outline.pcode,
                    "name": outline.name,
                    "in_need": in_need,
                    "reached": reached,
                    "gap": row.gap if row else None,
                    "coverage": row.coverage_percent if row else "",
                    "illustrative": bool(row and row.illustrative),
                    "class": shade.key,
                    "class_label": shade.label,
                    "colour": shade.colour,
                    "href": gaps_url,
                },
            }
        )
    sites = Site.objects.filter(
        kind__in=MARKER_KINDS, is_active=True, lat__isnull=False, lon__isnull=False
    ).order_by("kind", "name")
    for site in sites:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
                "properties": {
                    "layer": "site",
                    "code": site.code,
                    "name": site.name,
                    "kind": site.kind,
                    "kind_label": site.get_kind_display(),
                    "href": reverse("web:site-detail", args=[site.pk]),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "activity": activity.name if activity else "",
        "attributions": sorted(attributions),
        "classes": [{"key": c.key, "label": c.label, "colour": c.colour} for c in coverage.CLASSES],
        "features": features,
    }
