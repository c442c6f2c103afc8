"""Named reads of the catalogue."""

from __future__ import annotations

from collections import Counter

from django.db.models import QuerySet

from reliefops.catalog.models import Item, KitComponent


def item_by_code(code: str) -> Item | None:
    return Item.objects.filter(code=code.strip().upper()).first()


def active_items() -> QuerySet[Item]:
    return Item.objects.filter(is_active=True).prefetch_related("pack_sizes")


def kit_components(kit_item: Item) -> list[tuple[Item, int]]:
    """The components of a kit item, one level down, by item code."""
    rows = KitComponent.objects.filter(kit__item=kit_item).select_related("item").order_by("item__code")
    return [(row.item, row.quantity) for row in rows]


def kit_base_items(kit_item: Item, quantity: int = 1) -> Counter[str]:
    """The non-kit items `quantity` kits are made of, kits inside kits opened up, by item code."""
    graph: dict[str, list[tuple[str, int]]] = {}
    for kit_code, code, qty in KitComponent.objects.values_list("kit__item__code", "item__code", "quantity"):
        graph.setdefault(kit_code, []).append((code, qty))
    totals: Counter[str] = Counter()
    stack = [(kit_item.code, quantity, 0)]
    while stack:
        code, count, depth = stack.pop()
        if code in graph and depth < 20:  # the import refuses loops; the depth bound is a safety net
            stack.extend((child, count * qty, depth + 1) for child, qty in graph[code])
        else:
            totals[code] += count
    return totals
