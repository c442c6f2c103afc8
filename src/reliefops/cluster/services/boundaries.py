"""Writes of admin areas' outlines, which the coverage map draws."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from reliefops.cluster.models import AreaBoundary
from reliefops.cluster.services.report_types import Actor, RowProblem, refuse
from reliefops.core.errors import Problem
from reliefops.core.services import audit_record
from reliefops.core.tabular import ImportCounts, decode_text
from reliefops.places.models import AdminArea


def _outline(geometry: Any) -> str | None:
    """Why a geometry cannot be drawn, or None when it is a polygon the map can draw."""
    if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        return "the geometry is not a Polygon or MultiPolygon"
    coordinates: Any = geometry.get("coordinates")
    polygons: Any = coordinates if geometry["type"] == "MultiPolygon" else [coordinates]
    try:
        for polygon in polygons:
            for ring in polygon:
                for lon, lat, *_ in ring:
                    if not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
                        return f"position [{lon}, {lat}] is out of range"
    except (TypeError, ValueError):
        return "the coordinates are not rings of [longitude, latitude]"
    return None


def boundaries_import(*, actor: Actor, data: bytes, attribution: str) -> ImportCounts:
    """Store the outlines of a GeoJSON FeatureCollection whose features carry a `pcode`, all or
    nothing; each is drawn with the attribution line given."""
    problems: list[Problem] = []
    try:
        document = json.loads(decode_text(data))
    except json.JSONDecodeError as exc:
        refuse([RowProblem(exc.lineno, "file", f"not valid JSON: {exc.msg}")])
        raise AssertionError("unreachable") from exc
    except RecursionError as exc:  # arrays in arrays, thousands deep: no GeoJSON is like that
        refuse([RowProblem(None, "file", "not GeoJSON: the JSON is nested too deeply")])
        raise AssertionError("unreachable") from exc
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        refuse([RowProblem(None, "file", "not a GeoJSON FeatureCollection")])
        return ImportCounts()
    if not attribution.strip():
        problems.append(
            RowProblem(None, "attribution", "give the attribution line the boundaries' licence asks for")
        )
    areas = dict(AdminArea.objects.values_list("pcode", "id"))
    wanted: dict[int, dict[str, Any]] = {}
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        pcode = str((props or {}).get("pcode") or (props or {}).get("PCODE") or "").strip()
        if pcode not in areas:
            problems.append(RowProblem(number, "pcode", f"'{pcode}' is not a P-code of the gazetteer"))
            continue
        reason = _outline(feature.get("geometry"))
        if reason:
            problems.append(RowProblem(number, "geometry", reason))
            continue
        wanted[areas[pcode]] = feature["geometry"]
    refuse(problems)
    created = updated = unchanged = 0
    with transaction.atomic():
        stored = {b.admin_area_id: b for b in AreaBoundary.objects.filter(admin_area_id__in=list(wanted))}
        for area_id, geometry in wanted.items():
            boundary = stored.get(area_id)
            if boundary is None:
                AreaBoundary.objects.create(
                    admin_area_id=area_id, geometry=geometry, attribution=attribution.strip()
                )
                created += 1
            elif boundary.geometry != geometry or boundary.attribution != attribution.strip():
                boundary.geometry, boundary.attribution = geometry, attribution.strip()
                boundary.save()
                updated += 1
            else:
                unchanged += 1
        if created or updated:
            audit_record(
                actor=actor,
                action="area_boundary.import",
                object_type="area_boundary",
                after={"created": created, "updated": updated, "attribution": attribution.strip()},
            )
    return ImportCounts(created=created, updated=updated, unchanged=unchanged)
