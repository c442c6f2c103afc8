"""Bar charts drawn on the server as SVG: no script, no network, printable.

Each chart carries a <title> and a <desc> (read by screen readers); the page shows the same figures
in a table beside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 360
HEIGHT = 120
LEFT = 48  # room for the axis labels
BOTTOM = 18


@dataclass(frozen=True)
class Chart:
    item_code: str
    title: str
    svg: SafeString


def _day(day: dt.date) -> str:
    """A date as the pages write it: 7 Nov 2005."""
    return f"{day.day} {day:%b %Y}"


def _nice_ceiling(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at or above the value."""
    if value <= 0:
        return 1
    power = 1
    while power * 10 <= value:
        power *= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def weekly_bars(*, ident: str, title: str, weeks: list[dt.date], values: list[int]) -> SafeString:
    """One bar per week (Monday dates), the largest week reaching the top of a rounded axis."""
    top = _nice_ceiling(max(values, default=0))
    plot_width = WIDTH - LEFT - 4
    plot_height = HEIGHT - BOTTOM - 8
    bar = plot_width / max(len(weeks), 1)
    total = sum(values)
    busiest = max(range(len(values)), key=lambda n: values[n]) if values else None
    desc = f"{total:,} in {len(weeks)} weeks"
    if busiest is not None and weeks:
        desc += f"; the busiest week began {_day(weeks[busiest])} with {values[busiest]:,}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<line x1="{LEFT}" y1="8" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" class="axis"/>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - 4}" y2="{HEIGHT - BOTTOM}" class="axis"/>',
        f'<text x="{LEFT - 4}" y="12" class="tick" text-anchor="end">{top:,}</text>',
        f'<text x="{LEFT - 4}" y="{HEIGHT - BOTTOM}" class="tick" text-anchor="end">0</text>',
    ]
    for n, (week, value) in enumerate(zip(weeks, values, strict=True)):
        height = plot_height * value / top
        x = LEFT + n * bar
        parts.append(
            f'<rect x="{x + 0.5:.1f}" y="{HEIGHT - BOTTOM - height:.1f}" width="{max(bar - 1, 0.5):.1f}" '
            f'height="{height:.1f}" class="bar"><title>week of {_day(week)}: {value:,}</title></rect>'
        )
    if weeks:
        parts.append(
            f'<text x="{LEFT}" y="{HEIGHT - 4}" class="tick">{_day(weeks[0])}</text>'
            f'<text x="{WIDTH - 4}" y="{HEIGHT - 4}" class="tick" text-anchor="end">'
            f"{_day(weeks[-1])}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it is escaped above
