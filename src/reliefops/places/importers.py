"""Reading gazetteer and site files: CSV (with an optional HXL row) and GeoJSON.

The parsers turn a file into rows for the services and list every value they cannot read; the
`*_import_file` functions add the services' own checks, so one run reports every problem of the
file, and write nothing unless there are none. A CSV column that is not one of the file's is a
problem too (`read_reference_csv`, which the catalogue's and the partners' files use as well).

Gazetteer CSV: pcode, name, level, parent_pcode, lat, lon, elevation_m (and optionally notes,
alt_names separated by `;`, cod_version). An HXL row under the header is recognised; when the
headers are not ours, the hashtags place the columns (`#adm2+code` is the P-code, the next level
up `#adm1+code` is the parent, `#adm2+name` the name, `#geo+lat`, `#geo+lon`). The admin areas and
sites downloads of the reference pages are read by their hashtags too, so they upload again.

Gazetteer GeoJSON: a FeatureCollection whose features carry pcode, name, parent_pcode and
optionally level, alt_names, lat, lon, elevation_m, notes, cod_version (COD-AB style properties
`ADM2_PCODE`, `ADM2_EN`, `ADM1_PCODE` are understood too); without lat/lon the centroid of the
geometry is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.tabular import (
    Cells,
    FeatureProblem,
    ImportCounts,
    Table,
    TableRow,
    decode_text,
    hxl_key,
    read_csv,
    unknown_columns,
)
from reliefops.places.services import (
    OPTIONAL_AREA_FIELDS,
    OPTIONAL_SITE_FIELDS,
    Actor,
    AdminAreaImportResult,
    AdminAreaRow,
    SiteRow,
    admin_areas_check,
    admin_areas_import,
    sites_check,
    sites_import,
)

AREA_REQUIRED = ("pcode", "name", "level", "parent_pcode")
AREA_OPTIONAL = ("lat", "lon", "elevation_m", "notes", "alt_names", "cod_version")
SITE_REQUIRED = ("code", "name", "kind", "admin_pcode")
SITE_OPTIONAL = ("parent_hub", "lat", "lon", "elevation_m", "notes", "is_active")
LEVEL_BY_ADM = {0: "country", 1: "province", 2: "district", 3: "tehsil", 4: "union_council"}
_ADM_TAG = re.compile(r"^#(adm(\d)|country)\+(code|name)$")


def header_problems(table: Table, *, required: Sequence[str], optional: Sequence[str]) -> list[Problem]:
    """The header's problems, on line 1: each required column it lacks, and each column that is not
    one of the file's (see core.tabular.unknown_columns)."""
    problems = [
        Problem(1, column, "required column is missing from the header")
        for column in required
        if not table.has(column)
    ]
    return problems + unknown_columns(table, [*required, *optional])


def read_reference_csv(
    data: bytes,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    hxl_tags: Mapping[str, str] | Callable[[list[str]], Mapping[str, str]] | None = None,
) -> Table:
    """A reference-data CSV read by `read_csv`; InvalidInput lists every problem of its header at once
    (missing columns and columns that are not the file's)."""
    table = read_csv(data, required=(), optional=(*required, *optional), hxl_tags=hxl_tags)
    _refuse_if(header_problems(table, required=required, optional=optional))
    return table


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.row if p.row is not None else 0)


def _refuse_if(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(_sorted(problems))


def is_geojson(data: bytes, filename: str = "") -> bool:
    suffix = Path(filename).suffix.lower()
    if suffix in {".geojson", ".json"}:
        return True
    if suffix == ".csv":
        return False
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


# --- gazetteer CSV -------------------------------------------------------------------------------


# The hashtags of the admin areas and sites downloads of the reference pages (web/exports.py), so
# that a download uploads again unchanged. Their other columns (a parent's or hub's name, counts of
# sub-areas and sites) are read-only: tagged, they are left out as another dataset's columns.
AREA_DOWNLOAD_TAGS = {
    hxl_key(tag): column
    for tag, column in {
        "#adm+code": "pcode",
        "#adm+code+parent": "parent_pcode",
        "#adm+name": "name",
        "#adm+level": "level",
        "#adm+name+alt": "alt_names",
        "#meta+source": "cod_version",
    }.items()
}
SITE_DOWNLOAD_TAGS = {
    hxl_key(tag): column
    for tag, column in {
        "#loc+code": "code",
        "#loc+name": "name",
        "#loc+type": "kind",
        "#adm+code": "admin_pcode",
        "#loc+code+hub": "parent_hub",
        "#geo+lat": "lat",
        "#geo+lon": "lon",
        "#geo+elevation": "elevation_m",
        "#status": "is_active",
    }.items()
}


def _area_hxl_columns(tags: Sequence[str]) -> dict[str, str]:
    """Which of our columns the hashtags of an HXL file stand for: `#adm2+code` and the like, else
    the hashtags of the admin areas download."""
    codes: dict[int, str] = {}
    mapping: dict[str, str] = {"#geo+lat": "lat", "#geo+lon": "lon", "#geo+elevation": "elevation_m"}
    names: dict[int, str] = {}
    for tag in tags:
        match = _ADM_TAG.match(tag)
        if not match:
            continue
        level = int(match.group(2)) if match.group(2) else 0
        (codes if match.group(3) == "code" else names)[level] = tag
    if codes:
        deepest = max(codes)
        mapping[codes[deepest]] = "pcode"
        parents = [level for level in codes if level < deepest]
        if parents:
            mapping[codes[max(parents)]] = "parent_pcode"
        if deepest in names:
            mapping[names[deepest]] = "name"
    for tag, column in AREA_DOWNLOAD_TAGS.items():
        if column not in mapping.values():
            mapping[tag] = column
    return mapping


def _hxl_level(tags: dict[str, str]) -> str:
    """The level an HXL file's P-code column names (`#adm2+code` -> district), or ''."""
    for column, tag in tags.items():
        if column == "pcode":
            match = _ADM_TAG.match(hxl_key(tag))
            if match:
                return LEVEL_BY_ADM.get(int(match.group(2)) if match.group(2) else 0, "")
    return ""


def _area_row(
    cells: Cells, *, given_columns: set[str], default_level: str = "", feature: bool = False
) -> AdminAreaRow:
    lat = cells.number("lat")
    lon = cells.number("lon")
    elevation = cells.integer("elevation_m")
    given = {name for name in OPTIONAL_AREA_FIELDS if name in given_columns}
    return AdminAreaRow(
        pcode=cells.text("pcode"),
        name=cells.text("name"),
        parent_pcode=cells.text("parent_pcode"),
        level=cells.text("level") or default_level,
        lat=lat,
        lon=lon,
        elevation_m=elevation,
        alt_names=tuple(cells.split("alt_names")),
        notes=cells.text("notes"),
        cod_version=cells.text("cod_version") or None,
        given=frozenset(given),
        line=cells.line,
        feature=feature,
        bad=frozenset(cells.bad),
    )


def parse_admin_areas_csv(data: bytes) -> tuple[list[AdminAreaRow], list[Problem]]:
    """Rows of a gazetteer CSV and the values that could not be read."""
    table = read_csv(data, required=(), optional=AREA_REQUIRED + AREA_OPTIONAL, hxl_tags=_area_hxl_columns)
    problems: list[Problem] = []
    default_level = _hxl_level(table.hxl_tags) if "level" not in table.columns else ""
    # An HXL file's P-code column may say the level (`#adm2+code`): then no level column is needed.
    required = [c for c in AREA_REQUIRED if not (c == "level" and default_level)]
    optional = [c for c in AREA_REQUIRED + AREA_OPTIONAL if c not in required]
    _refuse_if(header_problems(table, required=required, optional=optional))
    rows = [
        _area_row(Cells(r, problems), given_columns=set(table.columns), default_level=default_level)
        for r in table.rows
    ]
    return rows, problems


# --- gazetteer GeoJSON ---------------------------------------------------------------------------


def _ring_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    """Signed area and centroid (x, y) of a closed ring, by the shoelace formula."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2
    if area == 0:
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return area, cx / (6 * area), cy / (6 * area)


def _positions(value: Any, depth: int) -> list[Any]:
    """The coordinates nested `depth` lists deep, checked to be [lon, lat] number pairs."""
    if depth == 0:
        if (
            not isinstance(value, list)
            or len(value) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
        ):
            raise ValueError("a position must be [longitude, latitude]")
        lon, lat = float(value[0]), float(value[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"position [{lon}, {lat}] is out of range")
        return [lon, lat]
    if not isinstance(value, list) or not value:
        raise ValueError("empty or malformed coordinates")
    return [_positions(v, depth - 1) for v in value]


def geometry_centroid(geometry: Any) -> tuple[float, float]:
    """(lat, lon) of a GeoJSON geometry: area-weighted for polygons, the mean for points and lines."""
    if not isinstance(geometry, dict):
        raise ValueError("the geometry is missing")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    polygons: list[Any]
    if kind == "Point":
        lon, lat = _positions(coords, 0)
        return lat, lon
    if kind in {"MultiPoint", "LineString"}:
        points = _positions(coords, 1)
        return sum(p[1] for p in points) / len(points), sum(p[0] for p in points) / len(points)
    if kind == "Polygon":
        polygons = [_positions(coords, 2)]
    elif kind == "MultiPolygon":
        polygons = _positions(coords, 3)
    else:
        raise ValueError(
            f"geometry type {kind!r} is not supported (Point, LineString, Polygon, MultiPolygon)"
        )
    total = sx = sy = 0.0
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            if len(ring) < 3:
                raise ValueError("a polygon ring needs at least 3 positions")
            area, cx, cy = _ring_centroid(ring[:-1] if ring[0] == ring[-1] else ring)
            weight = abs(area) * (1 if index == 0 else -1)  # holes take their area away
            total += weight
            sx += cx * weight
            sy += cy * weight
    if total == 0:
        first = polygons[0][0]
        return sum(p[1] for p in first) / len(first), sum(p[0] for p in first) / len(first)
    return sy / total, sx / total


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(_text(v) for v in value)
    return str(value).strip()


def _feature_values(props: dict[str, Any]) -> dict[str, str]:
    """Our column names from a feature's properties, COD-AB style names (`ADM2_PCODE`) included."""
    values = {k.lower(): _text(v) for k, v in props.items()}
    if "pcode" not in values:
        levels = sorted(
            (int(m.group(1)) for k in values if (m := re.match(r"^adm(\d)_pcode$", k))),
            reverse=True,
        )
        if levels:
            deepest = levels[0]
            values["pcode"] = values[f"adm{deepest}_pcode"]
            values.setdefault("name", values.get(f"adm{deepest}_en") or values.get(f"adm{deepest}_name", ""))
            values.setdefault("level", LEVEL_BY_ADM.get(deepest, ""))
            if len(levels) > 1:
                values.setdefault("parent_pcode", values[f"adm{levels[1]}_pcode"])
    return values


def parse_admin_areas_geojson(data: bytes) -> tuple[list[AdminAreaRow], list[Problem]]:
    """Rows of a gazetteer GeoJSON FeatureCollection and the values that could not be read."""
    text = decode_text(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            [Problem(exc.lineno, "file", f"not valid JSON: {exc.msg} (column {exc.colno})")]
        ) from exc
    except RecursionError as exc:  # arrays in arrays, thousands deep: no GeoJSON is like that
        raise InvalidInput([Problem(None, "file", "not GeoJSON: the JSON is nested too deeply")]) from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput([Problem(None, "file", "not a GeoJSON FeatureCollection")])
    features = document.get("features")
    if not isinstance(features, list):
        raise InvalidInput([Problem(None, "features", "a FeatureCollection needs a list of features")])
    problems: list[Problem] = []
    rows: list[AdminAreaRow] = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            problems.append(FeatureProblem(number, "properties", "a feature needs an object of properties"))
            continue
        values = _feature_values(feature["properties"])
        cells = Cells(TableRow(line=number, values=values), problems, feature=True)
        given = set(values)
        if not values.get("lat") and not values.get("lon") and feature.get("geometry") is not None:
            try:
                lat, lon = geometry_centroid(feature.get("geometry"))
            except ValueError as exc:
                cells.problem("geometry", str(exc))
            else:
                values["lat"], values["lon"] = f"{lat:.6f}", f"{lon:.6f}"
                given |= {"lat", "lon"}
        rows.append(_area_row(cells, given_columns=given, feature=True))
    return rows, problems


# --- gazetteer: the whole file -------------------------------------------------------------------


def parse_admin_areas(data: bytes, *, filename: str = "") -> tuple[list[AdminAreaRow], list[Problem]]:
    if is_geojson(data, filename):
        return parse_admin_areas_geojson(data)
    return parse_admin_areas_csv(data)


def admin_areas_import_file(
    *,
    actor: Actor,
    data: bytes,
    filename: str = "",
    cod_version: str | None = None,
    dry_run: bool = False,
) -> AdminAreaImportResult:
    """Import a gazetteer file, all or nothing; InvalidInput lists every problem of the file."""
    rows, problems = parse_admin_areas(data, filename=filename)
    _refuse_if(problems + admin_areas_check(rows))
    return admin_areas_import(actor=actor, rows=rows, cod_version=cod_version, dry_run=dry_run)


# --- sites ---------------------------------------------------------------------------------------


def parse_sites_csv(data: bytes) -> tuple[list[SiteRow], list[Problem]]:
    """Rows of a sites CSV (code, name, kind, admin_pcode, parent_hub, lat, lon, elevation_m, notes)."""
    table = read_reference_csv(
        data,
        required=SITE_REQUIRED,
        optional=SITE_OPTIONAL,
        hxl_tags=SITE_DOWNLOAD_TAGS,
    )
    problems: list[Problem] = []
    rows: list[SiteRow] = []
    given = frozenset(c for c in OPTIONAL_SITE_FIELDS if table.has(c))
    for record in table.rows:
        cells = Cells(record, problems)
        active = cells.boolean("is_active")
        rows.append(
            SiteRow(
                code=cells.text("code"),
                name=cells.text("name"),
                kind=cells.text("kind"),
                admin_pcode=cells.text("admin_pcode"),
                parent_hub=cells.text("parent_hub"),
                lat=cells.number("lat"),
                lon=cells.number("lon"),
                elevation_m=cells.integer("elevation_m"),
                notes=cells.text("notes"),
                is_active=True if active is None else active,
                given=given,
                line=record.line,
                bad=frozenset(cells.bad),
            )
        )
    return rows, problems


def sites_import_file(*, actor: Actor, data: bytes, dry_run: bool = False) -> ImportCounts:
    """Import a sites CSV, all or nothing; InvalidInput lists every problem of the file."""
    rows, problems = parse_sites_csv(data)
    _refuse_if(problems + sites_check(rows))
    return sites_import(actor=actor, rows=rows, dry_run=dry_run)
