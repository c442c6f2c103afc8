"""Filters of the report tables."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def cells(row: Any, items: list[Any]) -> list[int]:
    """A hub's or district's quantities in the order of the table's item columns."""
    return list(row.cells(items))


@register.filter
def of_item(quantities: dict[int, int], item_id: int) -> int:
    """One item's quantity in a {item id: quantity} mapping (0 when absent)."""
    return quantities.get(item_id, 0)
