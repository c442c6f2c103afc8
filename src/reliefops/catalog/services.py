"""Writes of the catalogue: relief items with their pack sizes, and kits (bills of materials).

Imports are all or nothing (every problem listed in one `InvalidInput`), match items by code and
kits by their item's code, leave unchanged rows untouched and keep before/after values of changed
rows in the audit trail. A kit named in a kits file gets exactly the components the file lists.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from reliefops.catalog.models import Item, ItemCategory, Kit, KitComponent, PackSize
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.services import audit_record
from reliefops.core.tabular import ImportCounts

Actor = AbstractBaseUser | None

ITEM_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
CATEGORY_ALIASES: dict[str, ItemCategory] = {
    "non-food item": ItemCategory.NFI,
    "non food item": ItemCategory.NFI,
    "winterisation": ItemCategory.WINTERIZATION,
    "water": ItemCategory.WASH,
    "tools": ItemCategory.TOOLS,
    "fixings": ItemCategory.TOOLS,
}
# (places after the point, largest value) of the decimal columns, as the model stores them.
WEIGHT = (3, Decimal("999999.999"))
VOLUME = (4, Decimal("99999.9999"))


def item_category(text: str) -> ItemCategory | None:
    """The category a text names: `nfi`, `Non-food item`, `winterisation`; None if unknown."""
    key = text.strip().lower()
    for category in ItemCategory:
        if key in {category.value, category.label.lower()}:
            return category
    return CATEGORY_ALIASES.get(key)


def normal_code(code: str) -> str:
    return code.strip().upper()


# --- items ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    """An item as read from a file; `packs` as (name, base units per pack) pairs."""

    code: str
    name: str
    category: str
    base_unit: str = "piece"
    weight_kg: Decimal | None = None
    volume_m3: Decimal | None = None
    packs: tuple[tuple[str, int], ...] = ()
    description: str = ""
    given: frozenset[str] = frozenset({"weight_kg", "volume_m3", "packs", "description"})
    line: int | None = None
    bad: frozenset[str] = frozenset()

    def problem(self, field_name: str, reason: str) -> Problem:
        return Problem(self.line, field_name, reason)


def _check_measure(
    row: ItemRow, name: str, value: Decimal | None, rule: tuple[int, Decimal]
) -> list[Problem]:
    places, largest = rule
    if value is None:
        return []
    if value < 0:
        return [row.problem(name, "must not be negative")]
    if value > largest:
        return [row.problem(name, f"larger than {largest}")]
    if value != value.quantize(Decimal(1).scaleb(-places)):
        return [row.problem(name, f"{places} decimal places at most")]
    return []


def items_check(rows: Sequence[ItemRow]) -> list[Problem]:
    """Every problem the item rows would meet on import."""
    problems: list[Problem] = []
    seen: dict[str, ItemRow] = {}
    for row in rows:
        code = normal_code(row.code)
        if not code:
            problems.append(row.problem("code", "an item code is required"))
        elif len(code) > 32 or not ITEM_CODE_PATTERN.match(code):
            problems.append(
                row.problem("code", f"{row.code!r} is not an item code (letters, digits, hyphens)")
            )
        elif code in seen:
            problems.append(
                row.problem("code", f"duplicate item code {code} (first on line {seen[code].line})")
            )
        else:
            seen[code] = row
        if not row.name.strip():
            problems.append(row.problem("name", "the name is empty"))
        elif len(row.name.strip()) > 120:
            problems.append(row.problem("name", "longer than 120 characters"))
        if len(row.base_unit.strip()) > 24:
            problems.append(row.problem("base_unit", "longer than 24 characters"))
        if item_category(row.category) is None:
            problems.append(
                row.problem(
                    "category",
                    f"unknown category {row.category!r}; use one of {', '.join(ItemCategory.values)}",
                )
            )
        problems += _check_measure(row, "weight_kg", row.weight_kg, WEIGHT)
        problems += _check_measure(row, "volume_m3", row.volume_m3, VOLUME)
        pack_names: set[str] = set()
        for pack, quantity in row.packs:
            if not pack or len(pack) > 32:
                problems.append(row.problem("packs", f"pack name {pack!r} must have 1 to 32 characters"))
            elif pack.lower() in pack_names:
                problems.append(row.problem("packs", f"the pack {pack!r} is given twice"))
            pack_names.add(pack.lower())
            if quantity < 1:
                problems.append(
                    row.problem("packs", f"a {pack} must hold at least 1 {row.base_unit or 'unit'}")
                )
    problems.sort(key=lambda p: p.row if p.row is not None else 0)
    return problems


def _measure(value: Decimal | None, places: int) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def _item_snapshot(item: Item, packs: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "base_unit": item.base_unit,
        "category": item.category,
        "weight_kg": _measure(item.weight_kg, WEIGHT[0]),
        "volume_m3": _measure(item.volume_m3, VOLUME[0]),
        "description": item.description,
        "packs": [f"{name}:{quantity}" for name, quantity in packs],
    }


def items_import(*, actor: Actor, rows: Sequence[ItemRow], dry_run: bool = False) -> ImportCounts:
    """Create or update items by code with their pack sizes, all or nothing."""
    with transaction.atomic():
        problems = items_check(rows)
        if problems:
            raise InvalidInput(problems)
        stored = {i.code: i for i in Item.objects.filter(code__in=[normal_code(r.code) for r in rows])}
        stored_packs: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for item_id, name, quantity in (
            PackSize.objects.filter(item__in=stored.values())
            .order_by("pk")
            .values_list("item_id", "name", "quantity")
        ):
            stored_packs[item_id].append((name, quantity))
        created = updated = unchanged = 0
        for row in rows:
            category = item_category(row.category)
            if category is None:  # refused by items_check already
                raise InvalidInput([row.problem("category", f"unknown category {row.category!r}")])
            wanted: dict[str, Any] = {
                "name": row.name.strip(),
                "base_unit": row.base_unit.strip() or "piece",
                "category": category.value,
            }
            for name in ("weight_kg", "volume_m3", "description"):
                if name in row.given:
                    wanted[name] = getattr(row, name)
            item = stored.get(normal_code(row.code))
            if item is None:
                item = Item.objects.create(code=normal_code(row.code), **wanted)
                packs = list(row.packs) if "packs" in row.given else []
                PackSize.objects.bulk_create(PackSize(item=item, name=n, quantity=q) for n, q in packs)
                created += 1
                audit_record(
                    actor=actor,
                    action="item.create",
                    object_type="item",
                    object_id=item.code,
                    after=_item_snapshot(item, packs),
                )
                continue
            old_packs = stored_packs[item.pk]
            new_packs = list(row.packs) if "packs" in row.given else old_packs
            changes = [name for name, value in wanted.items() if getattr(item, name) != value]
            packs_changed = sorted(new_packs) != sorted(old_packs)
            if not changes and not packs_changed:
                unchanged += 1
                continue
            before = _item_snapshot(item, old_packs)
            for name in changes:
                setattr(item, name, wanted[name])
            if changes:
                item.save(update_fields=changes)
            if packs_changed:
                PackSize.objects.filter(item=item).delete()
                PackSize.objects.bulk_create(PackSize(item=item, name=n, quantity=q) for n, q in new_packs)
            updated += 1
            after = _item_snapshot(item, new_packs)
            audit_record(
                actor=actor,
                action="item.update",
                object_type="item",
                object_id=item.code,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
        if dry_run:
            transaction.set_rollback(True)
    return ImportCounts(created=created, updated=updated, unchanged=unchanged)


# --- kits ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KitRow:
    """One component line of a kit: the kit's item code, the component's code, and how many."""

    kit_code: str
    component_code: str
    quantity: int | None
    source: str = ""
    line: int | None = None
    bad: frozenset[str] = frozenset()

    def problem(self, field_name: str, reason: str) -> Problem:
        return Problem(self.line, field_name, reason)


def _stored_components(exclude_kits: set[str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    pairs = KitComponent.objects.exclude(kit__item__code__in=exclude_kits).values_list(
        "kit__item__code", "item__code"
    )
    for kit, component in pairs:
        graph[kit].add(component)
    return graph


def kits_check(rows: Sequence[KitRow]) -> list[Problem]:
    """Every problem the kit rows would meet on import (unknown codes, bad quantities, loops)."""
    problems: list[Problem] = []
    codes = {normal_code(r.kit_code) for r in rows} | {normal_code(r.component_code) for r in rows}
    known = set(Item.objects.filter(code__in=codes).values_list("code", flat=True))
    seen: dict[tuple[str, str], KitRow] = {}
    graph: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        kit, component = normal_code(row.kit_code), normal_code(row.component_code)
        if not kit:
            problems.append(row.problem("kit_code", "the kit's item code is required"))
        elif kit not in known:
            problems.append(row.problem("kit_code", f"unknown item code {kit} (import the item first)"))
        if not component:
            problems.append(row.problem("component_code", "the component's item code is required"))
        elif component not in known:
            problems.append(row.problem("component_code", f"unknown item code {component}"))
        if row.quantity is None:
            if "quantity" not in row.bad:
                problems.append(row.problem("quantity", "a quantity is required"))
        elif row.quantity < 1:
            problems.append(row.problem("quantity", f"{row.quantity} is not a positive whole number"))
        if kit and kit == component:
            problems.append(row.problem("component_code", f"the kit {kit} cannot contain itself"))
            continue
        if (kit, component) in seen:
            first = seen[(kit, component)].line
            problems.append(
                row.problem("component_code", f"{component} is listed twice in {kit} (line {first})")
            )
            continue
        seen[(kit, component)] = row
        if kit and component:
            graph[kit].add(component)

    stored = _stored_components(exclude_kits=set(graph))
    for kit_code, components in stored.items():
        graph.setdefault(kit_code, set()).update(components)

    def reaches(start: str, target: str) -> bool:
        stack, visited = [start], set()
        while stack:
            code = stack.pop()
            if code == target:
                return True
            if code not in visited:
                visited.add(code)
                stack.extend(graph.get(code, ()))
        return False

    for (kit, component), row in seen.items():
        if kit and component and reaches(component, kit):
            problems.append(
                row.problem("component_code", f"the kit {kit} would contain itself through {component}")
            )
    problems.sort(key=lambda p: p.row if p.row is not None else 0)
    return problems


def kits_import(*, actor: Actor, rows: Sequence[KitRow], dry_run: bool = False) -> ImportCounts:
    """Define kits from component lines, all or nothing; counts are per kit, not per line."""
    with transaction.atomic():
        problems = kits_check(rows)
        if problems:
            raise InvalidInput(problems)
        wanted: dict[str, dict[str, int]] = {}
        sources: dict[str, str] = {}
        for row in rows:
            kit_code = normal_code(row.kit_code)
            wanted.setdefault(kit_code, {})[normal_code(row.component_code)] = row.quantity or 0
            if row.source.strip() and kit_code not in sources:
                sources[kit_code] = row.source.strip()
        items = {
            i.code: i
            for i in Item.objects.filter(code__in={c for k in wanted.values() for c in k} | set(wanted))
        }
        kits = {k.item.code: k for k in Kit.objects.select_related("item").filter(item__code__in=wanted)}
        created = updated = unchanged = 0
        for kit_code, components in wanted.items():
            kit = kits.get(kit_code)
            if kit is None:
                kit = Kit.objects.create(item=items[kit_code], source=sources.get(kit_code, ""))
                KitComponent.objects.bulk_create(
                    KitComponent(kit=kit, item=items[code], quantity=qty) for code, qty in components.items()
                )
                created += 1
                audit_record(
                    actor=actor,
                    action="kit.create",
                    object_type="kit",
                    object_id=kit_code,
                    after={"components": components, "source": kit.source},
                )
                continue
            current = dict(kit.components.values_list("item__code", "quantity"))
            source = sources.get(kit_code, kit.source)
            if current == components and source == kit.source:
                unchanged += 1
                continue
            before = {"components": current, "source": kit.source}
            if source != kit.source:
                kit.source = source
                kit.save(update_fields=["source"])
            if current != components:
                kit.components.all().delete()
                KitComponent.objects.bulk_create(
                    KitComponent(kit=kit, item=items[code], quantity=qty) for code, qty in components.items()
                )
            updated += 1
            audit_record(
                actor=actor,
                action="kit.update",
                object_type="kit",
                object_id=kit_code,
                before=before,
                after={"components": components, "source": source},
            )
        if dry_run:
            transaction.set_rollback(True)
    return ImportCounts(created=created, updated=updated, unchanged=unchanged)
