"""Medians of repeated runs, and the tables benchmarks print."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rate(value: float) -> str:
    """A rate in whole units with thousands separators: `1,234`."""
    return "n/a" if math.isnan(value) else f"{value:,.0f}"


def ratio(part: float, whole: float) -> str:
    if not whole or math.isnan(part) or math.isnan(whole):
        return "n/a"
    return f"{part / whole:.2f}"


def millis(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    if seconds >= 10:
        return f"{seconds:,.1f} s"
    if seconds >= 1:
        return f"{seconds:,.2f} s"
    return f"{seconds * 1000:,.1f} ms"


def spread(values: Sequence[float], show: Any = rate) -> str:
    """`min-max` of the runs, so that the reader sees the noise behind a median."""
    if len(values) < 2:
        return ""
    return f"{show(min(values))}-{show(max(values))}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, columns padded so that it also reads well on a terminal."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(payload, indent=2, default=str))
