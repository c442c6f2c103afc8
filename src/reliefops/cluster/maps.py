"""The coverage map: admin areas' outlines drawn as inline SVG, each coloured by its coverage.

No tiles and no script: the outlines stored for the areas (AreaBoundary) are projected
(equirectangular, scaled by the cosine of the middle latitude) into an SVG the page carries
inline, so the map works offline and prints. Every area has a tooltip and a link, and the table
beside it carries the same figures for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape

from reliefops.cluster.models import AreaBoundary
from reliefops.cluster.selectors import coverage_text
from reliefops.core.text import counted

WIDTH = 640


@dataclass(frozen=True)
class CoverageClass:
    key: str
    label: str
    colour: str


CLASSES = (
    CoverageClass("none", "no partner", "#7f1d1d"),
    CoverageClass("low", "under 25% reached", "#d7301f"),
    CoverageClass("some", "25% to 50%", "#fc8d59"),
    CoverageClass("half", "50% to 75%", "#fdcc8a"),
    CoverageClass("most", "75% to 100%", "#a6d96a"),
    CoverageClass("full", "100% or more", "#1a9641"),
    CoverageClass("unknown", "partners at work, no baseline of need", "#b9c3ce"),
    CoverageClass("blank", "no partner, no baseline of need", "#f1efe9"),
)
BY_KEY = {c.key: c for c in CLASSES}


def coverage_class(
    coverage: float | None, in_need: int | None, reached: int, *, partnered: bool = True
) -> CoverageClass:
    """The map's class of an area: "no partner" for an area in need that no partner reports in (the
    gap to act on first); grey for one where partners work but no need is known to compare with;
    pale for one with neither (an area the disaster may have spared); else its coverage, nothing
    reached yet counting as under 25%."""
    if not partnered:
        return BY_KEY["none"] if in_need else BY_KEY["blank"]
    if not in_need:
        return BY_KEY["unknown"]
    if coverage is None or coverage < 0.25:
        return BY_KEY["low"]
    if coverage < 0.5:
        return BY_KEY["some"]
    if coverage < 0.75:
        return BY_KEY["half"]
    if coverage < 1:
        return BY_KEY["most"]
    return BY_KEY["full"]


@dataclass(frozen=True)
class AreaShade:
    """What the map says of one area."""

    pcode: str
    name: str
    coverage: float | None
    in_need: int | None
    reached: int
    illustrative: bool
    href: str = ""
    partnered: bool = True  # some partner reports rows in the area


@dataclass(frozen=True)
class CoverageMap:
    svg: str  # safe markup
    attributions: list[str]
    classes: list[CoverageClass]
    drawn: int
    illustrative: bool = False  # an area drawn is coloured by a need marked illustrative


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry.get("coordinates", []) for ring in polygon]


def coverage_map(shades: Iterable[AreaShade], *, title: str) -> CoverageMap | None:
    """The SVG map of the areas that have an outline; None when none has."""
    by_pcode = {s.pcode: s for s in shades}
    boundaries = list(
        AreaBoundary.objects.filter(admin_area__pcode__in=list(by_pcode)).select_related("admin_area")
    )
    if not boundaries:
        return None
    points = [(lon, lat) for b in boundaries for ring in _rings(b.geometry) for lon, lat, *_ in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    shrink = math.cos(math.radians((north + south) / 2))
    scale = (WIDTH - 20) / max((east - west) * shrink, 1e-9)
    height = round((north - south) * scale + 20)

    def xy(lon: float, lat: float) -> str:
        return f"{10 + (lon - west) * shrink * scale:.1f},{10 + (north - lat) * scale:.1f}"

    parts = [
        f'<svg class="coverage-map" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="coverage-map-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="coverage-map-title">{escape(title)}</title>',
    ]
    labels = []
    illustrative = False
    for boundary in sorted(boundaries, key=lambda b: b.admin_area.pcode):
        shade = by_pcode[boundary.admin_area.pcode]
        kind = coverage_class(shade.coverage, shade.in_need, shade.reached, partnered=shade.partnered)
        path = " ".join(
            "M" + " L".join(xy(lon, lat) for lon, lat, *_ in ring) + " Z"
            for ring in _rings(boundary.geometry)
        )
        if not shade.partnered:
            need = (
                f"{counted(shade.in_need, 'household')} in need" if shade.in_need else "no baseline of need"
            )
            figure = f"no partner; {need}"
            if shade.in_need and shade.illustrative:
                figure += " (illustrative)"
                illustrative = True
        elif shade.in_need:
            figure = f"{shade.reached:,} of {shade.in_need:,} households reached"
            figure += f" ({coverage_text(shade.reached, shade.in_need)})"
            if shade.illustrative:
                figure += "; need illustrative"
                illustrative = True
        else:
            figure = f"{counted(shade.reached, 'household')} reached; no baseline of need"
        tooltip = escape(f"{shade.name} ({shade.pcode}): {figure}")
        shape = (
            f'<path d="{path}" fill="{kind.colour}" class="area area-{kind.key}" '
            f'data-pcode="{escape(shade.pcode)}"><title>{tooltip}</title></path>'
        )
        parts.append(f'<a href="{escape(shade.href)}">{shape}</a>' if shade.href else shape)
        ring = _rings(boundary.geometry)[0]
        cx = sum(p[0] for p in ring) / len(ring)
        cy = sum(p[1] for p in ring) / len(ring)
        x, y = xy(cx, cy).split(",")
        labels.append(f'<text x="{x}" y="{y}" class="area-label">{escape(shade.name)}</text>')
    parts += labels
    parts.append("</svg>")
    attributions = sorted({b.attribution for b in boundaries if b.attribution})
    return CoverageMap(
        svg="".join(parts),
        attributions=attributions,
        classes=list(CLASSES),
        drawn=len(boundaries),
        illustrative=illustrative,
    )
