"""Writes of needs baselines: what each admin area needs, in households."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from reliefops.cluster.models import NeedsBaseline
from reliefops.cluster.services.report_types import Actor, refuse
from reliefops.core.errors import Problem
from reliefops.core.services import audit_record

NEEDS_VALUES = (
    "population",
    "households",
    "houses_destroyed",
    "houses_damaged",
    "households_in_need",
    "elevation_band",
    "illustrative",
    "source",
)


@dataclass(frozen=True)
class NeedsRow:
    """One admin area's baseline as read from a file; `given` names the columns the file has."""

    line: int
    admin_area_id: int
    pcode: str
    adm1: str
    adm2: str
    adm3: str
    population: int | None = None
    households: int | None = None
    houses_destroyed: int | None = None
    houses_damaged: int | None = None
    households_in_need: int | None = None
    elevation_band: str = ""
    illustrative: bool = False
    source: str = ""
    given: frozenset[str] = frozenset(NEEDS_VALUES)


@dataclass
class NeedsImportResult:
    preview: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[tuple[str, str]] = field(default_factory=list)  # (P-code, "created" / what changed)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        counts = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if not self.changed:
            return f"Nothing to change: every baseline of the file is as stored ({counts})."
        return f"Preview: {counts}; nothing is written until it is committed." if self.preview else counts


def _snapshot(baseline: NeedsBaseline) -> dict[str, Any]:
    return {name: getattr(baseline, name) for name in NEEDS_VALUES}


def needs_import(
    *, actor: Actor, rows: Sequence[NeedsRow], problems: Sequence[Problem] = (), preview: bool = False
) -> NeedsImportResult:
    """Create or update the needs baselines of the areas in the file, all or nothing."""
    found: list[Problem] = list(problems)
    first: dict[str, int] = {}
    for row in rows:
        if row.pcode in first:
            found.append(
                Problem(
                    row.line, "#adm2+code", f"{row.pcode} appears twice (first on row {first[row.pcode]})"
                )
            )
        first.setdefault(row.pcode, row.line)
    refuse(found)
    result = NeedsImportResult(preview=preview)
    with transaction.atomic():
        stored = {
            b.admin_area_id: b
            for b in NeedsBaseline.objects.filter(admin_area_id__in=[r.admin_area_id for r in rows])
        }
        for row in rows:
            wanted: dict[str, Any] = {name: getattr(row, name) for name in NEEDS_VALUES if name in row.given}
            wanted.update(adm1=row.adm1, adm2=row.adm2, adm3=row.adm3)
            baseline = stored.get(row.admin_area_id)
            if baseline is None:
                result.created += 1
                result.changes.append((row.pcode, "created"))
                if not preview:
                    baseline = NeedsBaseline.objects.create(admin_area_id=row.admin_area_id, **wanted)
                    audit_record(
                        actor=actor,
                        action="needs_baseline.create",
                        object_type="needs_baseline",
                        object_id=row.pcode,
                        after=_snapshot(baseline),
                    )
                continue
            changed = [name for name, value in wanted.items() if getattr(baseline, name) != value]
            if not changed:
                result.unchanged += 1
                continue
            result.updated += 1
            shown = [n for n in changed if n in NEEDS_VALUES]
            result.changes.append(
                (
                    row.pcode,
                    "; ".join(f"{n}: {getattr(baseline, n)} -> {wanted[n]}" for n in shown) or "P-codes",
                )
            )
            if preview:
                continue
            before = _snapshot(baseline)
            for name in changed:
                setattr(baseline, name, wanted[name])
            baseline.save()
            after = _snapshot(baseline)
            audit_record(
                actor=actor,
                action="needs_baseline.update",
                object_type="needs_baseline",
                object_id=row.pcode,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
    return result
