"""Counts, lists and days as messages write them: "1 household", "2 households", "1,200 problems",
"3 people"; "a, b and c"; "1 Mar 2006", "1 Mar 2006 14:05"."""

from __future__ import annotations

import datetime as dt

from django.utils import dateformat, timezone


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """The number with its noun, singular for one and plural (noun + "s", or `plural`) otherwise."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def unit_for(quantity: int, unit: str) -> str:
    """An activity's unit as a quantity of it is written: `tent` for 1, `tents` for 520,102; a
    currency or a unit already plural (`PKR`, `m²`, `hours`) as it is."""
    if quantity == 1 or not unit.isalpha() or unit.isupper() or unit.endswith("s"):
        return unit
    return f"{unit}s"


def series(phrases: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def day_text(value: dt.date) -> str:
    """A day as the pages write it: 1 Mar 2006."""
    return dateformat.format(value, "j M Y")


def moment_text(value: dt.datetime) -> str:
    """A moment in the operation's time zone, as the pages write it: 1 Mar 2006 14:05."""
    return dateformat.format(timezone.localtime(value), "j M Y H:i")
