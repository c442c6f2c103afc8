"""The weekly bar charts: SVG with a title and a description, a bar per week, nothing to fetch."""

from __future__ import annotations

import datetime as dt
import re

from reliefops.reports.charts import weekly_bars

WEEKS = [dt.date(2005, 10, 10) + dt.timedelta(weeks=n) for n in range(4)]


def test_a_chart_has_a_bar_per_week_a_title_and_a_description():
    svg = weekly_bars(ident="c1", title="Blankets <winter>", weeks=WEEKS, values=[10, 0, 35, 5])
    assert svg.count('class="bar"') == 4
    assert '<title id="c1-title">Blankets &lt;winter&gt;</title>' in svg
    assert "50 in 4 weeks; the busiest week began 24 Oct 2005 with 35" in svg
    assert "week of 10 Oct 2005: 10" in svg
    assert ">10 Oct 2005</text>" in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights[1] == 0
    assert heights[2] > heights[0] > heights[3] > 0
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_the_axis_top_is_a_round_number_above_the_busiest_week():
    svg = weekly_bars(ident="c2", title="t", weeks=WEEKS, values=[120, 0, 0, 0])
    assert '<text x="44" y="12" class="tick" text-anchor="end">200</text>' in svg


def test_a_chart_of_no_week_is_empty_but_valid():
    svg = weekly_bars(ident="c3", title="t", weeks=[], values=[])
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert 'class="bar"' not in svg
