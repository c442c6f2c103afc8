"""Template filters of the stock pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from reliefops.partners.services import currency_exponent

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


@register.filter
def grant_amount(grant: Any) -> str:
    """A grant's amount as a donor reads it, with its currency's decimals: "GBP 1,250,000.50",
    "JPY 3,000,000", "KWD 1,250.500"; empty when no amount is recorded."""
    if not grant.amount_minor:
        return ""
    places = currency_exponent(grant.currency)
    amount = Decimal(grant.amount_minor).scaleb(-places)
    return f"{grant.currency} {amount:,.{places}f}"
