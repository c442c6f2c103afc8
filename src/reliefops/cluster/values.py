"""Reading the values of partners' cells: whole numbers, dates in the many ways people write them,
statuses and the New / Update / Delete flag.

Each reader returns the value, or raises `BadValue` with the reason the message will give
(the value and, where one can be guessed, what was probably meant).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from reliefops.cluster.models import ActivityStatus
from reliefops.cluster.sheets import EXCEL_ERRORS, ExcelError, FormulaWithoutValue

EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0, as its 1900 leap-year bug makes it
EARLIEST = dt.date(1990, 1, 1)
LATEST = dt.date(2099, 12, 31)
QUANTITY_MAX = 10**12
COUNT_MAX = 2_000_000_000
EMPTY_WORDS = frozenset({"", "-", "\u2013", "\u2014", "n/a", "na", "nil", "none", "null", ".", "?"})


class BadValue(ValueError):
    """A cell that cannot be read; the message is the reason, with the value and a suggestion."""


def text_of(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime | dt.date):
        return raw.isoformat()
    return str(raw).strip()


def excel_error(raw: Any) -> str | None:
    """The Excel error a cell holds (`#N/A`), or None."""
    if isinstance(raw, ExcelError):
        return str(raw)
    if isinstance(raw, str) and raw.strip().upper() in EXCEL_ERRORS:
        return raw.strip().upper()
    return None


def formula_without_value(formula: str) -> str:
    """The reason a formula cell whose result the file does not hold is refused."""
    held = f"a formula ({formula})" if formula else "a formula"
    return (
        f"the cell holds {held} whose result was not saved in the file; open the file in a "
        "spreadsheet program and save it again, or type the value"
    )


def refuse_excel_error(raw: Any) -> None:
    """BadValue for a cell that holds no value to read: an Excel error, or a formula whose result
    was not saved (sheets.FormulaWithoutValue)."""
    if raw.__class__ is FormulaWithoutValue:
        raise BadValue(formula_without_value(raw.formula))
    error = excel_error(raw)
    if error is not None:
        raise BadValue(f"the cell holds the Excel error {error}; enter the value itself or leave it empty")


# --- whole numbers -------------------------------------------------------------------------------

_WRITE_DIGITS = "write it in digits, as 1200 or 1,200"


def _rounded(number: float) -> str:
    low = math.floor(number)
    return f"write a whole count ({low} or {low + 1})" if number >= 0 else "write 0 or more"


# Thousands grouped by a comma, a space (plain, no-break, or the narrow no-break and thin spaces that
# French and other locales' spreadsheets write) or an apostrophe (Swiss).
_SEPARATORS = ", \u00a0\u202f\u2009'"
_GROUPED = re.compile(rf"^[+-]?\d{{1,3}}([{_SEPARATORS}]\d{{3}})+(\.0+)?$")
# 1.000 or 12.500.000: a dot between groups of three digits, as Europe writes thousands; as a decimal
# point it would make 1.000 one. Neither reading is safe for a count.
_DOT_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")


def whole_number(raw: Any, *, maximum: int = COUNT_MAX) -> int | None:
    """A count: `1200`, `1,200`, `1 200`, `1200.0`; None for an empty cell or `-`, `n/a`."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise BadValue(f"{raw!r} is not a number; {_WRITE_DIGITS}")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise BadValue(f"{raw:g} is not a whole number; {_rounded(raw)}")
        value = int(raw)
    else:
        refuse_excel_error(raw)
        text = str(raw).strip()
        if text.lower() in EMPTY_WORDS:
            return None
        try:
            value = int(text)
        except ValueError:
            if _DOT_GROUPED.match(text):
                raise BadValue(
                    f"'{text}' could be {text.replace('.', ',')} (a dot between thousands) or a number with "
                    f"decimals; write the count without the dot ({text.replace('.', '')}) or with commas "
                    f"({text.replace('.', ',')})"
                ) from None
            cleaned = re.sub(f"[{_SEPARATORS}]", "", text) if _GROUPED.match(text) else text
            try:
                number = float(cleaned)
            except ValueError:
                raise BadValue(f"'{text}' is not a number; {_WRITE_DIGITS}") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise BadValue(f"'{text}' is not a number; {_WRITE_DIGITS}") from None
            if not number.is_integer():
                raise BadValue(f"'{text}' is not a whole number; {_rounded(number)}") from None
            value = int(number)
    if value < 0:
        raise BadValue(f"{value} is negative; write 0 or more, or leave the cell empty")
    if value > maximum:
        raise BadValue(f"{value:,} is larger than any one row can hold ({maximum:,}); check the cell")
    return value


# --- dates ---------------------------------------------------------------------------------------

MONTHS = {
    **{calendar.month_name[i].lower(): i for i in range(1, 13)},
    **{calendar.month_abbr[i].lower(): i for i in range(1, 13)},
    "sept": 9,
}
# The text is lower case by then: a date and time (2006-03-20T00:00:00Z) has its t and z so.
_TIME = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + "$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})" + _TIME + "$")
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_MONTH_YEAR_NUM = re.compile(r"^(\d{1,2})[-/.](\d{4})$")
_DAY_MON_YEAR = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[-/. ]+([a-z]+)\.?[-/., ]+(\d{2}|\d{4})$")
_MON_DAY_YEAR = re.compile(r"^([a-z]+)\.?[-/. ]+(\d{1,2})(?:st|nd|rd|th)?[-/., ]+(\d{2}|\d{4})$")
_MON_YEAR = re.compile(r"^([a-z]+)\.?[-/., ]+(\d{2}|\d{4})$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")  # 20051130, as databases and some tools write it


class DayOrder:
    """How to read `03/11/2005`: day first (as in Pakistan) unless the column shows otherwise."""

    DAY_FIRST = "day first"
    MONTH_FIRST = "month first"


@dataclass(frozen=True)
class DateValue:
    """A date as read: `ambiguous` when the day and month could be swapped (`03/11/2005`);
    `month_only` when the cell named a month (`Nov 2005`)."""

    value: dt.date
    ambiguous: bool = False
    swapped: dt.date | None = None  # the reading with day and month the other way round
    month_only: bool = False
    month_first_only: bool = False  # `11/30/2005`: only month-first reads it


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _checked(year: int, month: int, day: int, raw: str, *, month_only: bool = False) -> dt.date:
    if not 1 <= month <= 12:
        near = 12 if month > 12 else 1
        if month_only:
            how = f"{year}-{near:02d} or {calendar.month_abbr[near]} {year}"
        elif 1 <= day <= 31:
            how = f"{year}-{near:02d}-{day:02d} or {day:02d}/{near:02d}/{year}"
        else:
            how = "2005-11-30 or 30/11/2005"
        raise BadValue(f"'{raw}' is not a date: there is no month {month}; write it as {how}")
    try:
        value = dt.date(year, month, day)
    except ValueError:
        if day >= 1 and 1 <= year <= 9999:
            last = calendar.monthrange(year, month)[1]
            reason = f"no day {day} in month {month} of {year}, which has {last} days; check the day"
        else:
            reason = f"no day {day} in month {month} of {year}; write it as 2005-11-30 or 30/11/2005"
        raise BadValue(f"'{raw}' is not a date ({reason})") from None
    if not EARLIEST <= value <= LATEST:
        raise BadValue(f"'{raw}' is outside {EARLIEST.year}-{LATEST.year}; check the year")
    return value


def _month_of(name: str, raw: str) -> int:
    month = MONTHS.get(name.lower())
    if month is None:
        raise BadValue(
            f"'{raw}' is not a date: '{name}' is not a month; write it as 30-Nov-2005 or 2005-11-30"
        )
    return month


def read_date(raw: Any) -> DateValue | None:
    """A date from a cell: a spreadsheet date, an Excel serial number, or text in a common format
    (2005-11-30, 30/11/2005, 30.11.05, 30-Nov-2005, Nov 30 2005, November 2005, 2005-11, 20051130)."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return DateValue(raw.date())
    if isinstance(raw, dt.date):
        return DateValue(raw)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if raw == int(raw) and 19000101 <= raw <= 29991231:  # a number cell holding 20051130
            return read_date(str(int(raw)))
        return DateValue(_serial(float(raw), str(raw)))
    refuse_excel_error(raw)
    text = re.sub(r"\s+", " ", str(raw).strip()).lower()
    if text in EMPTY_WORDS:
        return None
    if match := _ISO.match(text):
        return DateValue(_checked(int(match[1]), int(match[2]), int(match[3]), raw))
    if match := _NUMERIC.match(text):
        first, second, year = int(match[1]), int(match[2]), _year(match[3])
        if first > 12 and second > 12:
            raise BadValue(
                f"'{raw}' is not a date: neither {first} nor {second} is a month; write it as 2005-11-30"
            )
        if second > 12:  # only month first reads it: 11/30/2005
            return DateValue(_checked(year, first, second, raw), month_first_only=True)
        day_first = _checked(year, second, first, raw)
        if first <= 12 and first != second:
            return DateValue(day_first, ambiguous=True, swapped=_checked(year, first, second, raw))
        return DateValue(day_first)
    if match := _YEAR_MONTH.match(text):
        return DateValue(_checked(int(match[1]), int(match[2]), 1, raw, month_only=True), month_only=True)
    if match := _MONTH_YEAR_NUM.match(text):
        return DateValue(_checked(int(match[2]), int(match[1]), 1, raw, month_only=True), month_only=True)
    if match := _DAY_MON_YEAR.match(text):
        return DateValue(_checked(_year(match[3]), _month_of(match[2], raw), int(match[1]), raw))
    if match := _MON_DAY_YEAR.match(text):
        return DateValue(_checked(_year(match[3]), _month_of(match[1], raw), int(match[2]), raw))
    if match := _MON_YEAR.match(text):
        return DateValue(_checked(_year(match[2]), _month_of(match[1], raw), 1, raw), month_only=True)
    if _SERIAL.match(text):
        return DateValue(_serial(float(text), raw))
    if match := _COMPACT.match(text):
        return DateValue(_checked(int(match[1]), int(match[2]), int(match[3]), raw))
    raise BadValue(f"'{raw}' is not a date; write it as 2005-11-30 or 30/11/2005")


def _serial(number: float, raw: str) -> dt.date:
    """An Excel serial day number (38686 is 2005-11-30)."""
    if not 20000 <= number <= 80000:
        raise BadValue(f"{raw} is not a date; write it as 2005-11-30 or 30/11/2005")
    return _checked_date(EXCEL_EPOCH + dt.timedelta(days=int(number)), raw)


def _checked_date(value: dt.date, raw: str) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise BadValue(f"'{raw}' is outside {EARLIEST.year}-{LATEST.year}; check the year")
    return value


def end_before_start(start: dt.date, end: dt.date) -> str:
    """The reason an end date before its start is refused, with the likely slip: an end early in a
    year written with the year before (2005-01-10 after 2005-12-15: 2006-01-10, weeks after the
    start), else the two dates swapped."""
    reason = f"{end.isoformat()} is before the start date {start.isoformat()}"
    if end.year == start.year and (end.month, end.day) != (2, 29):
        next_year = end.replace(year=end.year + 1)
        if (next_year - start).days <= 92:
            return f"{reason}; did you mean {next_year.isoformat()}, in the next year?"
    return f"{reason}; are the start and the end dates swapped?"


def before_operation(day: dt.date, first: dt.date) -> str:
    """The reason a date before the operation's first day (RELIEFOPS_OPERATION_START) is refused."""
    return f"{day.isoformat()} is before the operation began ({first.isoformat()}); check the year"


def completed_later(day: dt.date, today: dt.date) -> str:
    """The reason a completed row whose reporting month is still to come is refused."""
    return (
        f"the row is completed, but {day.isoformat()} falls in a month still to come (today is "
        f"{today.isoformat()}); check the year, or write the status planned or ongoing"
    )


def month_end(value: dt.date) -> dt.date:
    return value.replace(day=calendar.monthrange(value.year, value.month)[1])


@dataclass
class DateColumn:
    """The dates of one column, read once per distinct text, and the evidence of its day order.

    Day first is the rule (as dates are written in Pakistan); a column switches to month first
    when some of its dates can only be read that way (`11/30/2005`) and none only day first. A
    column whose dates all read both ways (`03/01/2006`) follows the file's other date columns
    (`others`): a partner writes the start and the end of its work the same way, and an end column
    of `03/20/2006` says how its `03/01/2006` start is meant.
    """

    label: str
    cache: dict[Any, DateValue | BadValue | None] = field(default_factory=dict)
    day_first_only: int = 0
    month_first_only: int = 0
    others: list[DateColumn] = field(default_factory=list, repr=False, compare=False)
    both_ways: int = 0  # the distinct dates that read both ways (03/01/2006)
    plain: int = 0  # and those that read one way only, but say nothing of the order (2006-03-01)
    example: tuple[str, DateValue] | None = None  # the first date read that reads both ways

    def read(self, raw: Any) -> DateValue | BadValue | None:
        key = raw if raw.__class__ is str else (type(raw).__name__, raw)
        found = self.cache.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        try:
            value: DateValue | BadValue | None = read_date(raw)
        except BadValue as exc:
            value = exc
        if isinstance(value, DateValue):
            if value.month_first_only:
                self.month_first_only += 1
            elif value.ambiguous:
                self.both_ways += 1
                if self.example is None:
                    self.example = (text_of(raw), value)
            elif isinstance(raw, str) and _NUMERIC.match(raw.strip()):
                first = int(_NUMERIC.match(raw.strip())[1])  # type: ignore[index]
                if first > 12:
                    self.day_first_only += 1
                else:
                    self.plain += 1
            else:
                self.plain += 1
        self.cache[key] = value
        return value

    def learn(self, keys: Iterable[Any]) -> None:
        """Take in the dates another reader of this column saw (the keys of its cache) as if this
        one had read them: the evidence of the day order counts each distinct text once."""
        for key in keys:
            if key not in self.cache:
                self.read(key[1] if isinstance(key, tuple) else key)

    @property
    def order(self) -> str:
        if self.month_first_only or self.day_first_only:  # the column's own dates tell
            return DayOrder.MONTH_FIRST if not self.day_first_only else DayOrder.DAY_FIRST
        month_first = sum(c.month_first_only for c in self.others)
        day_first = sum(c.day_first_only for c in self.others)
        return DayOrder.MONTH_FIRST if month_first and not day_first else DayOrder.DAY_FIRST

    @property
    def follows_others(self) -> bool:
        """Whether the column's day order is its neighbours', its own dates all reading both ways."""
        return not (self.month_first_only or self.day_first_only) and self.order == DayOrder.MONTH_FIRST

    @property
    def says_order(self) -> bool:
        """Whether some date of the column reads one way only (30/11/2005 or 11/30/2005)."""
        return bool(self.day_first_only or self.month_first_only)

    @property
    def mixed(self) -> bool:
        return bool(self.month_first_only and self.day_first_only)

    def resolve(self, value: DateValue, raw: Any) -> dt.date:
        """The date, read in the column's day order."""
        if value.month_first_only and self.order == DayOrder.DAY_FIRST:
            text = str(raw).strip()
            month = re.split(r"[-/. T]", text)[1]
            raise BadValue(
                f"'{text}' reads only with the month first, but this column's other dates put the day "
                f"first (30/11/2005): there is no month {int(month)}"
            )
        if value.ambiguous and self.order == DayOrder.MONTH_FIRST and value.swapped is not None:
            return value.swapped
        return value.value


_MISSING = object()


def read_day_first_unsaid(columns: Iterable[DateColumn]) -> str | None:
    """The note on dates read day first (the rule) when some read both ways (03/01/2006) and no date
    of the file reads one way only: nothing in the file says that the day comes first. Decided
    once per file, from what its date columns learned."""
    columns = list(columns)
    if any(c.says_order for c in columns):
        return None
    unsaid = [c for c in columns if c.both_ways]
    if not unsaid:
        return None
    text, value = next(c.example for c in unsaid if c.example is not None)
    day, month_first = value.value, value.swapped or value.value
    labels = " and ".join(c.label for c in unsaid)
    if all(not c.plain for c in unsaid):
        which = f"every date of {labels} reads both ways ({text})"
    else:
        which = f"dates of {labels} read both ways ({text}), and no date of the file one way only"
    return (
        f"{which}; they were read day first ({day.day} {calendar.month_name[day.month]} {day.year}); "
        f"if the file writes the month first, write the dates as {month_first.isoformat()}"
    )


# --- statuses and the New / Update / Delete flag -------------------------------------------------

STATUS_WORDS: dict[str, ActivityStatus] = {
    "planned": ActivityStatus.PLANNED,
    "plan": ActivityStatus.PLANNED,
    "planning": ActivityStatus.PLANNED,
    "committed": ActivityStatus.PLANNED,
    "not started": ActivityStatus.PLANNED,
    "proposed": ActivityStatus.PLANNED,
    "ongoing": ActivityStatus.ONGOING,
    "on going": ActivityStatus.ONGOING,
    "on-going": ActivityStatus.ONGOING,
    "in progress": ActivityStatus.ONGOING,
    "in-progress": ActivityStatus.ONGOING,
    "started": ActivityStatus.ONGOING,
    "active": ActivityStatus.ONGOING,
    "underway": ActivityStatus.ONGOING,
    "under way": ActivityStatus.ONGOING,
    "completed": ActivityStatus.COMPLETED,
    "complete": ActivityStatus.COMPLETED,
    "done": ActivityStatus.COMPLETED,
    "finished": ActivityStatus.COMPLETED,
    "closed": ActivityStatus.COMPLETED,
    "delivered": ActivityStatus.COMPLETED,
    "distributed": ActivityStatus.COMPLETED,
    "achieved": ActivityStatus.COMPLETED,
}


def read_status(raw: Any) -> ActivityStatus | None:
    refuse_excel_error(raw)
    text = re.sub(r"\s+", " ", text_of(raw)).lower()
    if not text:
        return None
    status = STATUS_WORDS.get(text) or STATUS_WORDS.get(text.replace("_", " "))
    if status is not None:
        return status
    guess = process.extractOne(text, list(STATUS_WORDS), scorer=fuzz.ratio, score_cutoff=70)
    hint = f"; did you mean {STATUS_WORDS[guess[0]].value}?" if guess else ""
    return _refuse(f"'{text_of(raw)}' is not a status (planned, ongoing or completed){hint}")


# New (or empty) adds a row or corrects the stored one of its id; Update, and the words that say
# the row is stored already, correct a stored row, and are refused when the id names none: else a
# mistyped id would add the row a second time, and count its households twice.
UPSERT, UPDATE, DELETE = "upsert", "update", "delete"
ACTION_WORDS: dict[str, str] = {
    **dict.fromkeys(("new", "n", "add", "added"), UPSERT),
    **dict.fromkeys(("update", "u", "updated", "edit", "edited"), UPDATE),
    **dict.fromkeys(("modify", "modified", "change", "changed", "same", "unchanged", "keep"), UPDATE),
    **dict.fromkeys(("delete", "deleted", "d", "del", "remove", "removed", "withdraw", "withdrawn"), DELETE),
    **dict.fromkeys(("cancel", "cancelled", "canceled", "drop", "dropped"), DELETE),
}


def read_action(raw: Any) -> str:
    """`upsert` (New or empty), `update` (Update, Edit, Unchanged …) or `delete` (Delete, Withdraw,
    Cancel)."""
    refuse_excel_error(raw)
    text = text_of(raw).lower()
    if not text:
        return UPSERT
    action = ACTION_WORDS.get(text)
    if action is None:
        return _refuse(f"'{text_of(raw)}' is not an action; write New, Update or Delete")
    return action


def _refuse(reason: str) -> Any:
    raise BadValue(reason)


def read_yes_no(raw: Any) -> bool | None:
    refuse_excel_error(raw)
    text = text_of(raw).lower()
    if not text:
        return None
    if text in {"1", "true", "yes", "y", "x"}:
        return True
    if text in {"0", "false", "no", "n"}:
        return False
    raise BadValue(f"'{text_of(raw)}' is not yes or no")
