"""Counts as messages write them: "1 household", "2 households", "1,200 problems", "3 people"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """The number with its noun, singular for one and plural (noun + "s", or `plural`) otherwise."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
