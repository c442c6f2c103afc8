"""Counts and lists as messages write them: "1 household", "2 households", "1,200 problems", "3 people";
"a, b and c"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """The number with its noun, singular for one and plural (noun + "s", or `plural`) otherwise."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def series(phrases: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]
