"""The period a report covers: two days, either left open, read from `START:END` or from a form."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from reliefops.cluster.values import EARLIEST, LATEST
from reliefops.core.errors import InvalidInput, Problem

# A day as the form's message asks for it, and nothing else: `20051201` or `2005-W48-1`, which
# Python's ISO reader takes too, are refused rather than read as something the user did not write.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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

    def in_a_sentence(self) -> str:
        """The period after a noun: `from 1 December 2005 to 31 December 2005`, `since …`, `up to …`."""
        described = self.describe()
        return f"from {described}" if self.start and self.end else described

    def up_to(self, today: dt.date) -> Period:
        """The period as far as it has happened: one that ends after `today` ends today (its figures
        are those up to today, and it says so); any other is itself."""
        if self.end is not None and self.end > today:
            return Period(self.start, today)
        return self

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
    if not _DAY.fullmatch(text):
        problems.append(Problem(None, field, f"'{text}' is not a date; write it as YYYY-MM-DD"))
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        # written as asked, but no day of the calendar (2005-02-30, 2005-13-01)
        problems.append(
            Problem(None, field, f"{text} is no day of the calendar: check the month and the day")
        )
        return None
    # The cluster's figures are read by reporting month within these years: a day outside them
    # would make links to the cluster's pages that they refuse.
    if not EARLIEST <= day <= LATEST:
        problems.append(
            Problem(
                None,
                field,
                f"{text} is outside the days reports cover: write a day from {EARLIEST} to {LATEST}",
            )
        )
        return None
    return day


def period_from(start: str | None, end: str | None, *, today: dt.date | None = None) -> Period:
    """A period from two dates written YYYY-MM-DD (either may be empty), from 1990 to 2099, that
    does not start after `today` (when given); InvalidInput naming each field at fault otherwise."""
    problems: list[Problem] = []
    first = _date(start or "", "start", problems)
    last = _date(end or "", "end", problems)
    if first and today and first > today:
        problems.append(
            Problem(
                None,
                "start",
                f"the period starts ({first}) after today ({today}): nothing has happened in it yet",
            )
        )
    elif first and last and last < first:
        problems.append(Problem(None, "end", f"the period ends ({last}) before it starts ({first})"))
    if problems:
        raise InvalidInput(problems)
    return Period(first, last)


def parse_period(text: str, *, today: dt.date | None = None) -> Period:
    """`2005-10-08:2006-03-31`, `2005-12-01:` or `:2006-01-31`; InvalidInput naming the problem."""
    if ":" not in text:
        raise InvalidInput(
            [Problem(None, "period", f"'{text}' has no ':'; write START:END, e.g. 2005-10-08:2006-03-31")]
        )
    start, end = text.split(":", 1)
    problems: list[Problem] = []
    try:
        return period_from(start, end, today=today)
    except InvalidInput as exc:
        problems = [Problem(None, "period", f"{p.field}: {p.reason}") for p in exc.problems]
    raise InvalidInput(problems)
