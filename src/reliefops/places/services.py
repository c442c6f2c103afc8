"""Writes of the places app: the gazetteer (admin areas) and the operation's sites.

Both imports are all or nothing: every row is checked first, and a single problem refuses the
whole input with every problem listed (`InvalidInput`). A row that matches what is stored
changes nothing, so importing the same file twice is harmless; a changed row is updated in place
and its audit event keeps the values before and after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.services import audit_record
from reliefops.core.tabular import FeatureProblem, ImportCounts
from reliefops.places.models import LEVEL_DEPTH, AdminArea, AdminLevel, Site, SiteKind

# P-codes are upper-case wherever they are read (`pk504` is PK504), as site codes are.
PCODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
SITE_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
COUNTRY_CODE_PATTERN = re.compile(r"^[A-Z]{2}$")
# Countries the gazetteer knows by name; another two-letter parent is created under its code.
COUNTRY_NAMES = {"PK": "Pakistan", "IN": "India", "AF": "Afghanistan"}
ELEVATION_RANGE = (-450, 8900)  # metres: from the shore of the Dead Sea to the top of Everest
NAME_MAX = 120
CODE_MAX = 32  # a P-code or a site code (the columns' length)
COD_VERSION_MAX = 64

LEVEL_ALIASES: dict[str, AdminLevel] = {
    "adm0": AdminLevel.COUNTRY,
    "adm1": AdminLevel.PROVINCE,
    "adm2": AdminLevel.DISTRICT,
    "adm3": AdminLevel.TEHSIL,
    "adm4": AdminLevel.UNION_COUNCIL,
    "uc": AdminLevel.UNION_COUNCIL,
    "union council": AdminLevel.UNION_COUNCIL,
    "tahsil": AdminLevel.TEHSIL,
    "state": AdminLevel.PROVINCE,
}
KIND_ALIASES: dict[str, SiteKind] = {
    "dp": SiteKind.DISTRIBUTION_POINT,
    "distribution point": SiteKind.DISTRIBUTION_POINT,
    "post office": SiteKind.POST_OFFICE,
    "idp camp": SiteKind.CAMP,
}
# Site kinds that supply other sites (the parent_hub of a distribution point or camp).
SUPPLYING_KINDS = frozenset({SiteKind.HUB, SiteKind.WAREHOUSE})

Actor = AbstractBaseUser | None


def normal_pcode(text: str) -> str:
    """A P-code as stored: upper-case, without surrounding spaces (`pk504 ` -> `PK504`)."""
    return text.strip().upper()


def admin_level(text: str) -> AdminLevel | None:
    """The level a text names: `district`, `District (adm2)`, `adm2`, `UC`; None if unknown."""
    key = text.strip().lower().replace("_", " ")
    for level in AdminLevel:
        if key in {level.value.replace("_", " "), level.label.lower()}:
            return level
    return LEVEL_ALIASES.get(key)


def site_kind(text: str) -> SiteKind | None:
    key = text.strip().lower().replace("_", " ")
    for kind in SiteKind:
        if key in {kind.value.replace("_", " "), kind.label.lower()}:
            return kind
    return KIND_ALIASES.get(key)


def _level_names() -> str:
    return ", ".join(AdminLevel.values)


def _next_level(level: AdminLevel) -> AdminLevel | None:
    depth = LEVEL_DEPTH[level] + 1
    return AdminLevel(AdminLevel.values[depth]) if depth < len(AdminLevel.values) else None


def _check_coordinates(
    problems: list[Problem],
    make: Any,
    *,
    lat: float | None,
    lon: float | None,
    elevation_m: int | None,
    bad: frozenset[str],
) -> None:
    if lat is not None and not -90 <= lat <= 90:
        problems.append(make("lat", f"latitude {lat} is out of range (-90 to 90)"))
    if lon is not None and not -180 <= lon <= 180:
        problems.append(make("lon", f"longitude {lon} is out of range (-180 to 180)"))
    if lat is None and lon is not None and "lat" not in bad:
        problems.append(make("lat", "a longitude is given without a latitude"))
    if lon is None and lat is not None and "lon" not in bad:
        problems.append(make("lon", "a latitude is given without a longitude"))
    low, high = ELEVATION_RANGE
    if elevation_m is not None and not low <= elevation_m <= high:
        problems.append(make("elevation_m", f"{elevation_m} m is out of range ({low} to {high} m)"))


# --- admin areas ---------------------------------------------------------------------------------

OPTIONAL_AREA_FIELDS = frozenset({"lat", "lon", "elevation_m", "alt_names", "notes"})


@dataclass(frozen=True)
class AdminAreaRow:
    """One admin area as read from a file. `level` may be empty: it is then one below the parent's.

    `given` lists the optional fields the file carries; the others are left as stored.
    `cod_version` None means: the version given for the whole import.
    """

    pcode: str
    name: str
    parent_pcode: str = ""
    level: str = ""
    lat: float | None = None
    lon: float | None = None
    elevation_m: int | None = None
    alt_names: tuple[str, ...] = ()
    notes: str = ""
    cod_version: str | None = None
    given: frozenset[str] = OPTIONAL_AREA_FIELDS
    line: int | None = None
    feature: bool = False
    bad: frozenset[str] = frozenset()

    @property
    def normal_pcode(self) -> str:
        return normal_pcode(self.pcode)

    @property
    def normal_parent(self) -> str:
        return normal_pcode(self.parent_pcode)

    def problem(self, field_name: str, reason: str) -> Problem:
        return (FeatureProblem if self.feature else Problem)(self.line, field_name, reason)


@dataclass(frozen=True)
class AdminAreaImportResult:
    counts: ImportCounts
    countries_created: tuple[str, ...] = ()
    dry_run: bool = False

    def __str__(self) -> str:
        text = str(self.counts)
        if self.countries_created:
            text += f" (country {', '.join(self.countries_created)} created)"
        return text


@dataclass
class _AreaPlan:
    problems: list[Problem] = field(default_factory=list)
    levels: dict[str, AdminLevel] = field(default_factory=dict)
    countries: list[str] = field(default_factory=list)


def _plan_admin_areas(rows: Sequence[AdminAreaRow]) -> _AreaPlan:
    plan = _AreaPlan()
    problems = plan.problems
    in_file: dict[str, AdminAreaRow] = {}
    for row in rows:
        pcode = row.normal_pcode
        if "pcode" in row.bad:
            pass
        elif not pcode:
            problems.append(row.problem("pcode", "a P-code is required"))
        elif not PCODE_PATTERN.match(pcode):
            problems.append(row.problem("pcode", f"{row.pcode!r} is not a P-code (letters, digits, hyphens)"))
        elif len(pcode) > CODE_MAX:
            problems.append(row.problem("pcode", f"{row.pcode[:20]!r}… is longer than {CODE_MAX} characters"))
        elif pcode in in_file:
            first = f"{'feature' if row.feature else 'line'} {in_file[pcode].line}"
            problems.append(row.problem("pcode", f"duplicate P-code {pcode} (first at {first})"))
        else:
            in_file[pcode] = row
        if not row.name.strip():
            problems.append(row.problem("name", "the name is empty"))
        elif len(row.name) > NAME_MAX:
            problems.append(row.problem("name", f"longer than {NAME_MAX} characters"))
        if row.cod_version and len(row.cod_version) > COD_VERSION_MAX:
            problems.append(row.problem("cod_version", f"longer than {COD_VERSION_MAX} characters"))
        if row.level and admin_level(row.level) is None:
            problems.append(row.problem("level", f"unknown level {row.level!r}; use one of {_level_names()}"))
        for alt in row.alt_names:
            if len(alt) > NAME_MAX:
                problems.append(
                    row.problem("alt_names", f"{alt[:20]!r}… is longer than {NAME_MAX} characters")
                )
        _check_coordinates(
            problems, row.problem, lat=row.lat, lon=row.lon, elevation_m=row.elevation_m, bad=row.bad
        )

    referenced = {row.normal_parent for row in rows if row.normal_parent} | set(in_file)
    stored = dict(AdminArea.objects.filter(pcode__in=referenced).values_list("pcode", "level"))

    resolving: set[str] = set()

    def level_of(pcode: str) -> AdminLevel | None:
        if pcode in plan.levels:
            return plan.levels[pcode]
        row = in_file.get(pcode)
        level: AdminLevel | None
        if row is None:
            if pcode in stored:
                return AdminLevel(stored[pcode])
            return AdminLevel.COUNTRY if COUNTRY_CODE_PATTERN.match(pcode) else None
        if row.level:
            level = admin_level(row.level)
        elif pcode in resolving or not row.normal_parent:
            level = None
        else:
            resolving.add(pcode)
            parent_level = level_of(row.normal_parent)
            resolving.discard(pcode)
            level = _next_level(parent_level) if parent_level is not None else None
        if level is not None:
            plan.levels[pcode] = level
        return level

    for pcode, row in in_file.items():
        level = level_of(pcode)
        parent = row.normal_parent
        if level is None:
            if not row.level:
                problems.append(row.problem("level", "no level given, and none follows from the parent"))
            continue
        if not parent:
            if level != AdminLevel.COUNTRY:
                problems.append(row.problem("parent_pcode", f"a {level.value} needs a parent P-code"))
            continue
        if parent == pcode:
            problems.append(row.problem("parent_pcode", "an area cannot be its own parent"))
            continue
        if parent not in in_file and parent not in stored:
            if COUNTRY_CODE_PATTERN.match(parent):
                if parent not in plan.countries:
                    plan.countries.append(parent)
            else:
                problems.append(
                    row.problem(
                        "parent_pcode", f"unknown parent P-code {parent} (not in the file or the gazetteer)"
                    )
                )
                continue
        parent_level = level_of(parent)
        if parent_level is not None and LEVEL_DEPTH[parent_level] >= LEVEL_DEPTH[level]:
            problems.append(
                row.problem(
                    "parent_pcode", f"{parent} is a {parent_level.value}, which cannot hold a {level.value}"
                )
            )

    # An area whose level changes must stay above the children it already has.
    changed_level = {p for p, lvl in plan.levels.items() if p in stored and stored[p] != lvl.value}
    if changed_level:
        children = AdminArea.objects.filter(parent__pcode__in=changed_level).exclude(pcode__in=in_file)
        for child_pcode, child_level, parent_pcode in children.values_list("pcode", "level", "parent__pcode"):
            new_level = plan.levels[parent_pcode]
            if LEVEL_DEPTH[AdminLevel(child_level)] <= LEVEL_DEPTH[new_level]:
                problems.append(
                    in_file[parent_pcode].problem(
                        "level",
                        f"{child_pcode} below it is a {child_level}, which a {new_level.value} cannot hold",
                    )
                )
    problems.sort(key=lambda p: p.row if p.row is not None else 0)
    return plan


def admin_areas_check(rows: Sequence[AdminAreaRow]) -> list[Problem]:
    """Every problem the rows would meet on import (unknown parents, duplicates, bad levels...)."""
    return _plan_admin_areas(rows).problems


def _area_snapshot(area: AdminArea, parent_pcode: str | None) -> dict[str, Any]:
    return {
        "pcode": area.pcode,
        "name": area.name,
        "level": area.level,
        "parent": parent_pcode,
        "cod_version": area.cod_version,
        "lat": area.lat,
        "lon": area.lon,
        "elevation_m": area.elevation_m,
        "alt_names": list(area.alt_names),
        "notes": area.notes,
    }


def admin_areas_import(
    *,
    actor: Actor,
    rows: Sequence[AdminAreaRow],
    cod_version: str | None = None,
    dry_run: bool = False,
) -> AdminAreaImportResult:
    """Create or update admin areas by P-code, all or nothing; unchanged rows are left untouched."""
    if cod_version and len(cod_version) > COD_VERSION_MAX:
        raise InvalidInput([Problem(None, "cod_version", f"longer than {COD_VERSION_MAX} characters")])
    with transaction.atomic():
        plan = _plan_admin_areas(rows)
        if plan.problems:
            raise InvalidInput(plan.problems)
        by_pcode: dict[str, AdminArea] = {
            a.pcode: a
            for a in AdminArea.objects.filter(
                pcode__in={r.normal_pcode for r in rows} | {r.normal_parent for r in rows if r.normal_parent}
            )
        }
        pcode_by_id = {a.pk: a.pcode for a in by_pcode.values()}
        for code in plan.countries:
            country = AdminArea.objects.create(
                pcode=code, name=COUNTRY_NAMES.get(code, code), level=AdminLevel.COUNTRY
            )
            by_pcode[code] = country
            pcode_by_id[country.pk] = code
            audit_record(
                actor=actor,
                action="admin_area.create",
                object_type="admin_area",
                object_id=code,
                after=_area_snapshot(country, None),
            )
        missing_parents = {
            a.parent_id for a in by_pcode.values() if a.parent_id and a.parent_id not in pcode_by_id
        }
        pcode_by_id.update(AdminArea.objects.filter(pk__in=missing_parents).values_list("pk", "pcode"))

        created = updated = unchanged = 0
        ordered = sorted(rows, key=lambda r: LEVEL_DEPTH[plan.levels[r.normal_pcode]])
        for row in ordered:
            pcode, parent_pcode = row.normal_pcode, row.normal_parent
            parent = by_pcode[parent_pcode] if parent_pcode else None
            wanted: dict[str, Any] = {
                "name": row.name.strip(),
                "level": plan.levels[pcode].value,
                "parent_id": parent.pk if parent else None,
            }
            version = row.cod_version if row.cod_version else cod_version
            if version is not None:
                wanted["cod_version"] = version
            for name in ("lat", "lon", "elevation_m", "notes"):
                if name in row.given:
                    wanted[name] = getattr(row, name)
            if "alt_names" in row.given:
                wanted["alt_names"] = list(row.alt_names)
            area = by_pcode.get(pcode)
            if area is None:
                area = AdminArea(pcode=pcode, **wanted)
                area.save()
                by_pcode[pcode] = area
                pcode_by_id[area.pk] = pcode
                created += 1
                audit_record(
                    actor=actor,
                    action="admin_area.create",
                    object_type="admin_area",
                    object_id=pcode,
                    after=_area_snapshot(area, parent_pcode or None),
                )
                continue
            changes = [name for name, value in wanted.items() if getattr(area, name) != value]
            if not changes:
                unchanged += 1
                continue
            before = _area_snapshot(area, pcode_by_id.get(area.parent_id) if area.parent_id else None)
            for name in changes:
                setattr(area, name, wanted[name])
            area.save(update_fields=changes)
            updated += 1
            after = _area_snapshot(area, parent_pcode or None)
            audit_record(
                actor=actor,
                action="admin_area.update",
                object_type="admin_area",
                object_id=pcode,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
        if dry_run:
            transaction.set_rollback(True)
    return AdminAreaImportResult(
        counts=ImportCounts(created=created, updated=updated, unchanged=unchanged),
        countries_created=tuple(plan.countries),
        dry_run=dry_run,
    )


# --- sites ---------------------------------------------------------------------------------------

OPTIONAL_SITE_FIELDS = frozenset({"parent_hub", "lat", "lon", "elevation_m", "notes", "is_active"})


@dataclass(frozen=True)
class SiteRow:
    """One site as read from a file; `given` lists the optional fields the file carries."""

    code: str
    name: str
    kind: str
    admin_pcode: str
    parent_hub: str = ""
    lat: float | None = None
    lon: float | None = None
    elevation_m: int | None = None
    notes: str = ""
    is_active: bool = True
    given: frozenset[str] = OPTIONAL_SITE_FIELDS
    line: int | None = None
    bad: frozenset[str] = frozenset()

    @property
    def normal_code(self) -> str:
        return self.code.strip().upper()

    @property
    def normal_parent(self) -> str:
        return self.parent_hub.strip().upper() if "parent_hub" in self.given else ""

    @property
    def normal_admin_pcode(self) -> str:
        return normal_pcode(self.admin_pcode)

    def problem(self, field_name: str, reason: str) -> Problem:
        return Problem(self.line, field_name, reason)


def sites_check(rows: Sequence[SiteRow]) -> list[Problem]:
    """Every problem the site rows would meet on import."""
    problems: list[Problem] = []
    in_file: dict[str, SiteRow] = {}
    for row in rows:
        code = row.normal_code
        if not code:
            problems.append(row.problem("code", "a site code is required"))
        elif not SITE_CODE_PATTERN.match(code):
            problems.append(
                row.problem("code", f"{row.code!r} is not a site code (letters, digits, hyphens)")
            )
        elif len(code) > CODE_MAX:
            problems.append(row.problem("code", f"{row.code[:20]!r}… is longer than {CODE_MAX} characters"))
        elif code in in_file:
            problems.append(
                row.problem("code", f"duplicate site code {code} (first on line {in_file[code].line})")
            )
        else:
            in_file[code] = row
        if not row.name.strip():
            problems.append(row.problem("name", "the name is empty"))
        elif len(row.name) > NAME_MAX:
            problems.append(row.problem("name", f"longer than {NAME_MAX} characters"))
        if site_kind(row.kind) is None:
            problems.append(
                row.problem(
                    "kind", f"unknown site kind {row.kind!r}; use one of {', '.join(SiteKind.values)}"
                )
            )
        _check_coordinates(
            problems, row.problem, lat=row.lat, lon=row.lon, elevation_m=row.elevation_m, bad=row.bad
        )

    pcodes = {r.normal_admin_pcode for r in rows if r.normal_admin_pcode}
    known_pcodes = set(AdminArea.objects.filter(pcode__in=pcodes).values_list("pcode", flat=True))
    stored = {s.code: s for s in Site.objects.filter(code__in={r.normal_parent for r in rows} | set(in_file))}
    for row in rows:
        if not row.normal_admin_pcode:
            problems.append(row.problem("admin_pcode", "the admin area's P-code is required"))
        elif row.normal_admin_pcode not in known_pcodes:
            problems.append(
                row.problem("admin_pcode", f"unknown P-code {row.normal_admin_pcode} (not in the gazetteer)")
            )

    def kind_of(code: str) -> str | None:
        if code in in_file:
            kind = site_kind(in_file[code].kind)
            return kind.value if kind else None
        return stored[code].kind if code in stored else None

    def parent_of(code: str) -> str:
        if code in in_file:
            row = in_file[code]
            if "parent_hub" in row.given:
                return row.normal_parent
        site = stored.get(code)
        return site.parent_hub.code if site is not None and site.parent_hub is not None else ""

    for code, row in in_file.items():
        parent = row.normal_parent
        if not parent:
            continue
        if parent == code:
            problems.append(row.problem("parent_hub", "a site cannot supply itself"))
            continue
        parent_kind = kind_of(parent)
        if parent_kind is None:
            if parent not in in_file and parent not in stored:
                problems.append(
                    row.problem("parent_hub", f"unknown site code {parent} (not in the file or stored)")
                )
            continue
        if parent_kind not in SUPPLYING_KINDS:
            problems.append(
                row.problem("parent_hub", f"{parent} is a {parent_kind}; a parent hub is a hub or warehouse")
            )
            continue
        seen = {code}
        step = parent
        while step:
            if step in seen:
                problems.append(row.problem("parent_hub", f"the parent hubs form a loop through {step}"))
                break
            seen.add(step)
            step = parent_of(step)

    # A site that stops being a hub or warehouse may not keep supplying stored sites.
    demoted = [c for c in in_file if c in stored and kind_of(c) not in SUPPLYING_KINDS]
    if demoted:
        served = Site.objects.filter(parent_hub__code__in=demoted).exclude(code__in=in_file)
        for site_code, parent_code in served.values_list("code", "parent_hub__code"):
            problems.append(
                in_file[parent_code].problem(
                    "kind", f"it still supplies {site_code}; it must stay a hub or warehouse"
                )
            )
    problems.sort(key=lambda p: p.row if p.row is not None else 0)
    return problems


def _site_snapshot(site: Site, parent_code: str | None, pcode: str) -> dict[str, Any]:
    return {
        "code": site.code,
        "name": site.name,
        "kind": site.kind,
        "admin_area": pcode,
        "parent_hub": parent_code,
        "lat": site.lat,
        "lon": site.lon,
        "elevation_m": site.elevation_m,
        "is_active": site.is_active,
        "notes": site.notes,
    }


def _supply_order(rows: Iterable[SiteRow]) -> list[SiteRow]:
    """Rows ordered so that a parent hub named in the file is written before the sites it supplies."""
    pending = {r.normal_code: r for r in rows}
    ordered: list[SiteRow] = []
    while pending:
        ready = [r for c, r in pending.items() if r.normal_parent not in pending or r.normal_parent == c]
        for row in ready:
            ordered.append(row)
            del pending[row.normal_code]
    return ordered


def sites_import(*, actor: Actor, rows: Sequence[SiteRow], dry_run: bool = False) -> ImportCounts:
    """Create or update sites by code, all or nothing; unchanged rows are left untouched."""
    with transaction.atomic():
        problems = sites_check(rows)
        if problems:
            raise InvalidInput(problems)
        areas = {a.pcode: a for a in AdminArea.objects.filter(pcode__in={r.normal_admin_pcode for r in rows})}
        area_pcodes = {a.pk: a.pcode for a in areas.values()}
        codes = {r.normal_code for r in rows} | {r.normal_parent for r in rows if r.normal_parent}
        sites = {
            s.code: s for s in Site.objects.filter(code__in=codes).select_related("admin_area", "parent_hub")
        }
        created = updated = unchanged = 0
        for row in _supply_order(rows):
            kind = site_kind(row.kind)
            if kind is None:  # refused by sites_check already
                raise InvalidInput([row.problem("kind", f"unknown site kind {row.kind!r}")])
            area = areas[row.normal_admin_pcode]
            wanted: dict[str, Any] = {"name": row.name.strip(), "kind": kind.value, "admin_area_id": area.pk}
            if "parent_hub" in row.given:
                wanted["parent_hub_id"] = sites[row.normal_parent].pk if row.normal_parent else None
            for name in ("lat", "lon", "elevation_m", "notes", "is_active"):
                if name in row.given:
                    wanted[name] = getattr(row, name)
            site = sites.get(row.normal_code)
            parent_code = row.normal_parent or None
            if site is None:
                site = Site(code=row.normal_code, **wanted)
                site.save()
                sites[site.code] = site
                created += 1
                audit_record(
                    actor=actor,
                    action="site.create",
                    object_type="site",
                    object_id=site.code,
                    after=_site_snapshot(site, parent_code, row.normal_admin_pcode),
                )
                continue
            changes = [name for name, value in wanted.items() if getattr(site, name) != value]
            if not changes:
                unchanged += 1
                continue
            old_parent = site.parent_hub.code if site.parent_hub is not None else None
            before = _site_snapshot(
                site, old_parent, area_pcodes.get(site.admin_area_id) or site.admin_area.pcode
            )
            for name in changes:
                setattr(site, name, wanted[name])
            site.save(update_fields=changes)
            updated += 1
            new_parent = parent_code if "parent_hub" in row.given else old_parent
            after = _site_snapshot(site, new_parent, row.normal_admin_pcode)
            audit_record(
                actor=actor,
                action="site.update",
                object_type="site",
                object_id=site.code,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
        if dry_run:
            transaction.set_rollback(True)
    return ImportCounts(created=created, updated=updated, unchanged=unchanged)
