"""The reports' selectors on their own: what they hand to the pages' links."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.reports.selectors import ClusterPicture


@pytest.mark.parametrize(
    ("first", "last", "query"),
    [
        pytest.param(
            dt.date(2005, 12, 1), dt.date(2006, 1, 1), "period_from=2005-12&period_to=2006-01", id="kashmir"
        ),
        pytest.param(dt.date(1, 1, 1), None, "period_from=0001-01", id="year-one-padded"),
        pytest.param(None, dt.date(999, 3, 1), "period_to=0999-03", id="three-digit-year-padded"),
    ],
)
def test_the_cluster_months_are_written_as_the_cluster_pages_read_them(first, last, query):
    picture = ClusterPicture(
        totals=[], headline={}, gaps=None, activity=None, month_from=first, month_to=last
    )
    assert picture.months_query == query
