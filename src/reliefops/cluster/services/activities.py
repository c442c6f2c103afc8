"""Writes of the cluster's activity types (what partners report, in which unit)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from reliefops.catalog.models import Item
from reliefops.cluster.models import ActivityType
from reliefops.cluster.services.report_types import Actor
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.services import audit_record
from reliefops.core.tabular import ImportCounts

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")


@dataclass(frozen=True)
class ActivityTypeRow:
    code: str
    name: str
    unit: str
    item_code: str = ""
    aliases: tuple[str, ...] = ()
    sort_order: int | None = None
    line: int | None = None

    def problem(self, field_name: str, reason: str) -> Problem:
        return Problem(self.line, field_name, reason)


def activity_types_check(rows: Sequence[ActivityTypeRow]) -> list[Problem]:
    """Every problem the activity type rows would meet on import."""
    problems: list[Problem] = []
    codes: dict[str, int | None] = {}
    names: dict[str, int | None] = {}
    items = set(
        Item.objects.filter(code__in={r.item_code for r in rows if r.item_code}).values_list(
            "code", flat=True
        )
    )
    stored_names = dict(ActivityType.objects.values_list("name", "code"))
    for row in rows:
        code = row.code.strip().upper()
        if not CODE_PATTERN.match(code) or len(code) > 32:
            problems.append(
                row.problem("code", f"'{row.code}' is not a code (capitals, digits, hyphens; 32 at most)")
            )
        elif code in codes:
            first = codes[code]
            reason = f"duplicate code {code} (first on line {first}); give each activity its own code"
            problems.append(row.problem("code", reason))
        codes.setdefault(code, row.line)
        name = row.name.strip()
        if not name:
            reason = "the name is empty; give the activity's name (Tents distributed)"
            problems.append(row.problem("name", reason))
        elif len(name) > 120:
            problems.append(row.problem("name", f"the name has {len(name)} characters; 120 at most"))
        elif name.lower() in names:
            first = names[name.lower()]
            reason = f"duplicate name '{name}' (first on line {first}); give each activity its own name"
            problems.append(row.problem("name", reason))
        elif stored_names.get(name, code) != code:
            reason = f"'{name}' is the name of activity {stored_names[name]}; give this one another name"
            problems.append(row.problem("name", reason))
        names.setdefault(name.lower(), row.line)
        unit = row.unit.strip()
        if not unit:
            reason = "the unit is empty; give what its quantities count (tent, kit, household)"
            problems.append(row.problem("unit", reason))
        elif len(unit) > 32:
            problems.append(row.problem("unit", f"the unit has {len(unit)} characters; 32 at most"))
        if row.item_code and row.item_code not in items:
            reason = (
                f"unknown item {row.item_code} (not in the catalogue); write the code of an item of the "
                "catalogue (Items), or leave it empty"
            )
            problems.append(row.problem("item", reason))
    return problems


def _snapshot(activity: ActivityType) -> dict[str, Any]:
    return {
        "code": activity.code,
        "name": activity.name,
        "unit": activity.unit,
        "item": activity.item.code if activity.item else None,
        "aliases": list(activity.aliases),
        "sort_order": activity.sort_order,
    }


def activity_types_import(
    *, actor: Actor, rows: Sequence[ActivityTypeRow], dry_run: bool = False
) -> ImportCounts:
    """Create or update activity types by code, all or nothing; unchanged ones are left alone."""
    with transaction.atomic():
        problems = activity_types_check(rows)
        if problems:
            raise InvalidInput(problems)
        items = {i.code: i for i in Item.objects.filter(code__in={r.item_code for r in rows if r.item_code})}
        stored = {a.code: a for a in ActivityType.objects.select_related("item")}
        created = updated = unchanged = 0
        for position, row in enumerate(rows, start=1):
            code = row.code.strip().upper()
            wanted: dict[str, Any] = {
                "name": row.name.strip(),
                "unit": row.unit.strip(),
                "item": items.get(row.item_code) if row.item_code else None,
                "aliases": list(row.aliases),
                "sort_order": row.sort_order if row.sort_order is not None else position * 10,
            }
            activity = stored.get(code)
            if activity is None:
                activity = ActivityType.objects.create(code=code, **wanted)
                created += 1
                audit_record(
                    actor=actor,
                    action="activity_type.create",
                    object_type="activity_type",
                    object_id=code,
                    after=_snapshot(activity),
                )
                continue
            changes = [name for name, value in wanted.items() if getattr(activity, name) != value]
            if not changes:
                unchanged += 1
                continue
            before = _snapshot(activity)
            for name in changes:
                setattr(activity, name, wanted[name])
            activity.save(update_fields=changes)
            updated += 1
            after = _snapshot(activity)
            audit_record(
                actor=actor,
                action="activity_type.update",
                object_type="activity_type",
                object_id=code,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
        if dry_run:
            transaction.set_rollback(True)
    return ImportCounts(created=created, updated=updated, unchanged=unchanged)
