"""Reading a report's period: `START:END` on the command line, two dates from a form."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.core.errors import InvalidInput
from reliefops.reports.periods import Period, parse_period, period_from


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2005-10-08:2006-03-31", Period(dt.date(2005, 10, 8), dt.date(2006, 3, 31)), id="both"),
        pytest.param("2005-12-01:", Period(dt.date(2005, 12, 1), None), id="open-end"),
        pytest.param(":2006-01-31", Period(None, dt.date(2006, 1, 31)), id="open-start"),
        pytest.param(":", Period(), id="whole-operation"),
        pytest.param(
            " 2005-12-01 : 2005-12-31 ", Period(dt.date(2005, 12, 1), dt.date(2005, 12, 31)), id="spaces"
        ),
    ],
)
def test_a_period_is_read_from_start_colon_end(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("2005-12", "has no ':'", id="no-colon"),
        pytest.param("2005-13-01:", "start: 2005-13-01 is no day of the calendar", id="bad-month"),
        pytest.param(
            "2006-01-31:2005-12-01", "end: the period ends (2005-12-01) before it starts", id="reversed"
        ),
    ],
)
def test_a_bad_period_names_its_field_and_reason(text, reason):
    with pytest.raises(InvalidInput) as refused:
        parse_period(text)
    assert [p.field for p in refused.value.problems] == ["period"]
    assert reason in refused.value.problems[0].reason


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        pytest.param("20051201", "'20051201' is not a date; write it as YYYY-MM-DD", id="basic-iso"),
        pytest.param("2005-W48-1", "'2005-W48-1' is not a date; write it as YYYY-MM-DD", id="iso-week"),
        pytest.param("2005-12-1", "'2005-12-1' is not a date; write it as YYYY-MM-DD", id="one-digit-day"),
        pytest.param(
            "0001-01-01",
            "0001-01-01 is outside the days reports cover: write a day from 1990-01-01 to 2099-12-31",
            id="year-one",
        ),
        pytest.param(
            "1989-12-31",
            "1989-12-31 is outside the days reports cover: write a day from 1990-01-01 to 2099-12-31",
            id="before-1990",
        ),
    ],
)
def test_a_day_is_read_only_as_yyyy_mm_dd_within_the_years_reports_cover(start, reason):
    # when a day is written another way than the message asks, or outside the cluster's months
    with pytest.raises(InvalidInput) as refused:
        period_from(start, "")
    # then it is refused beside its field, never read as something else
    assert [(p.field, p.reason) for p in refused.value.problems] == [("start", reason)]


def test_the_last_day_reports_cover_is_the_cluster_s_last():
    assert period_from("", "2099-12-31") == Period(None, dt.date(2099, 12, 31))
    with pytest.raises(InvalidInput) as refused:
        period_from("", "9999-12-31")
    assert [p.field for p in refused.value.problems] == ["end"]


def test_a_period_that_starts_after_today_is_refused():
    today = dt.date(2006, 3, 31)
    # a period may end after today, or start on it
    assert period_from("2006-03-31", "2006-04-30", today=today) == Period(today, dt.date(2006, 4, 30))
    # but not start after it: nothing has happened in it yet
    with pytest.raises(InvalidInput) as refused:
        period_from("2006-04-01", "", today=today)
    assert [(p.field, p.reason) for p in refused.value.problems] == [
        ("start", "the period starts (2006-04-01) after today (2006-03-31): nothing has happened in it yet")
    ]
    with pytest.raises(InvalidInput) as refused:
        parse_period("2006-04-01:", today=today)
    assert "start: the period starts (2006-04-01) after today" in refused.value.problems[0].reason


def test_a_form_period_names_the_field_at_fault():
    with pytest.raises(InvalidInput) as refused:
        period_from("2005-12-01", "31/12/2005")
    assert [(p.field, p.reason) for p in refused.value.problems] == [
        ("end", "'31/12/2005' is not a date; write it as YYYY-MM-DD")
    ]


@pytest.mark.parametrize(
    ("period", "words"),
    [
        pytest.param(Period(), "since the start of the operation", id="open"),
        pytest.param(Period(dt.date(2005, 12, 1), None), "since 1 December 2005", id="since"),
        pytest.param(Period(None, dt.date(2006, 3, 31)), "up to 31 March 2006", id="up-to"),
        pytest.param(
            Period(dt.date(2005, 12, 1), dt.date(2005, 12, 31)),
            "1 December 2005 to 31 December 2005",
            id="both",
        ),
    ],
)
def test_a_period_describes_itself_in_words(period, words):
    assert period.describe() == words
