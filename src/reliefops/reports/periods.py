"""The period a report covers: two days, either left open, read from `START:END` or from a form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reliefops.core.errors import InvalidInput, Problem


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included; None leaves that side open."""

    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def is_open(self) -> bool:
        return self.start is None and self.end is None

    def describe(self) -> str:
        if self.is_open:
            return "since the start of the operation"
        if self.start is None:
            return f"up to {_day(self.end)}"
        if self.end is None:
            return f"since {_day(self.start)}"
        return f"{_day(self.start)} to {_day(self.end)}"

    def query(self) -> str:
        """The period as the dashboard's and the sitrep's query string (without '?')."""
        parts = []
        if self.start:
            parts.append(f"start={self.start.isoformat()}")
        if self.end:
            parts.append(f"end={self.end.isoformat()}")
        return "&".join(parts)


def _day(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


def _date(text: str, field: str, problems: list[Problem]) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(None, field, f"'{text}' is not a date; write it as YYYY-MM-DD"))
        return None


def period_from(start: str | None, end: str | None) -> Period:
    """A period from two dates written YYYY-MM-DD (either may be empty); InvalidInput otherwise."""
    problems: list[Problem] = []
    first = _date(start or "", "start", problems)
    last = _date(end or "", "end", problems)
    if first and last and last < first:
        problems.append(Problem(None, "end", f"the period ends ({last}) before it starts ({first})"))
    if problems:
        raise InvalidInput(problems)
    return Period(first, last)


def parse_period(text: str) -> Period:
    """`2005-10-08:2006-03-31`, `2005-12-01:` or `:2006-01-31`; InvalidInput naming the problem."""
    if ":" not in text:
        raise InvalidInput(
            [Problem(None, "period", f"'{text}' has no ':'; write START:END, e.g. 2005-10-08:2006-03-31")]
        )
    start, end = text.split(":", 1)
    problems: list[Problem] = []
    try:
        return period_from(start, end)
    except InvalidInput as exc:
        problems = [Problem(None, "period", f"{p.field}: {p.reason}") for p in exc.problems]
    raise InvalidInput(problems)
