"""Formatting for the pages: coordinates, elevations, money in minor units, how long a job took."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.timesince import timesince

from reliefops.core.text import counted, unit_for
from reliefops.partners.services import currency_exponent

register = template.Library()

FEET_PER_METRE = Decimal("3.28084")


@register.filter
def coordinates(obj: Any) -> str:
    """`34.7530° N, 73.5390° E` from an object with lat and lon, or an empty string."""
    lat, lon = getattr(obj, "lat", None), getattr(obj, "lon", None)
    if lat is None or lon is None:
        return ""
    return f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.4f}° {'E' if lon >= 0 else 'W'}"


@register.filter
def elevation(metres: int | None) -> str:
    """`2,134 m (7,001 ft)`: the Winter Race planned by feet above sea level."""
    if metres is None:
        return ""
    feet = int((Decimal(metres) * FEET_PER_METRE).to_integral_value())
    return f"{metres:,} m ({feet:,} ft)"


@register.filter
def money(amount_minor: int | None, currency: str = "USD") -> str:
    """`USD 1,250,000.00` from an amount in minor units."""
    if amount_minor is None:
        return ""
    exponent = currency_exponent(currency.upper())
    sign = "-" if amount_minor < 0 else ""
    if exponent == 0:
        return f"{currency} {sign}{abs(amount_minor):,}"
    major, minor = divmod(abs(amount_minor), 10**exponent)
    return f"{currency} {sign}{major:,}.{minor:0{exponent}d}"


@register.filter
def quantity(value: Any) -> str:
    """A whole number with thousands separators; decimals without trailing zeros; a text as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:,f}"
    return f"{value:,}"


@register.filter
def took(start: Any, end: Any) -> str:
    """How long from `start` to `end` took, as a job's page says it: "47 seconds" under a minute
    (where Django's timesince says "0 minutes"), else timesince's "3 minutes", "1 hour, 5 minutes"."""
    if start is None or end is None:
        return ""
    seconds = max(0, int((end - start).total_seconds()))
    if seconds < 60:
        return counted(seconds, "second")
    return timesince(start, end)


@register.simple_tag(takes_context=True)
def batches_user_may_open(context: Any, rows: Any) -> frozenset[int]:
    """The ids of the upload batches of these 4W rows that the signed-in user may open: every one,
    or a partner reporter its organisation's only (a link to another's batch would answer 403)."""
    from reliefops.core.access import access_import_batches, reporting_scope

    user = context["request"].user
    ids = {row.batch_id for row in rows}
    if reporting_scope(user) is None:
        return frozenset(ids)
    return frozenset(access_import_batches(user).filter(pk__in=ids).values_list("pk", flat=True))


@register.filter
def unit_of(quantity: int | None, unit: str) -> str:
    """An activity's unit beside a quantity of it: `tent` for 1, `tents` otherwise."""
    return unit_for(quantity or 0, unit)
