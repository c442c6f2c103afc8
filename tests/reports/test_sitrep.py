"""The sitrep's builder on its own: its file name, its sentences and its hubs."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.reports.periods import Period
from reliefops.reports.sitrep import build_sitrep

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("period", "name"),
    [
        pytest.param(
            Period(dt.date(2005, 12, 1), dt.date(2005, 12, 31)), "sitrep-2005-12-01-to-2005-12-31.md"
        ),
        pytest.param(Period(dt.date(1, 1, 1), None), "sitrep-0001-01-01-to-2006-03-31.md", id="year-one"),
        pytest.param(Period(None, dt.date(999, 3, 1)), "sitrep-0999-03-01.md", id="three-digit-year"),
    ],
)
def test_a_sitrep_file_name_writes_every_year_in_four_digits(period, name):
    report = build_sitrep(period=period, today=dt.date(2006, 3, 31))
    assert report.file_name("md") == name
