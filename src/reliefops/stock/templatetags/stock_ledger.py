"""Template filters of the stock pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

# A minus sign (U+2212), as wide as the plus: a "50" after it reads as out, not after a dash.
MINUS = "\u2212"


@register.filter
def in_or_out(change: Any) -> str:
    """What a movement did to an item's stock at its site, signed: "+200" in, "\u221250" out, "0" when
    none of it entered or left the site; empty when not known."""
    if change is None or change == "":
        return ""
    value = int(change)
    if value > 0:
        return f"+{value:,}"
    if value < 0:
        return f"{MINUS}{-value:,}"
    return "0"
