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
        pytest.param("2005-13-01:", "start: '2005-13-01' is not a date", id="bad-month"),
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
