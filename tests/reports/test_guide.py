"""The dashboard guide (docs/user-guide/dashboard.md) says what the pages do: how many items get a
chart, which pages take a period, how to run the command, which map it describes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from reliefops.core.roles import Role
from reliefops.reports.views import CHARTED_ITEMS

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "user-guide" / "dashboard.md"


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def section(title: str) -> str:
    text = guide()
    start = text.index(title)
    following = re.search(r"\n#{2,3} ", text[start + len(title) :])
    return text[start : start + len(title) + following.start()] if following else text[start:]


def test_the_guide_says_how_many_items_get_a_chart():
    week_by_week = next(line for line in guide().splitlines() if line.startswith("| **Week by week**"))
    assert f"a bar chart for each of the {CHARTED_ITEMS} items handed over most" in week_by_week
    assert "one bar chart per item" not in guide()


def test_the_guides_commands_run_as_written_from_the_project():
    commands = [line for line in guide().splitlines() if line.startswith("$ ")]
    assert commands
    assert all(line.startswith("$ .venv/bin/reliefops ") for line in commands), commands


def test_the_guide_says_the_dashboards_map_is_not_the_cluster_pages_map():
    the_map = section("### The map")
    assert "Leaflet" in the_map
    assert "drawn on the server as SVG" in the_map
    assert "It is not the coverage map of the cluster's" in the_map


@pytest.mark.django_db
def test_the_guide_names_the_pages_with_a_period_and_the_donor_reports_have_none(ledger, client_as):
    the_period = section("## The period")
    assert "Every page has a **From**" not in the_period
    assert "The donor reports have none" in the_period
    client = client_as(Role.VIEWER)
    for name in ("web:home", "reports:distributed", "reports:sitrep"):
        assert 'name="start"' in client.get(reverse(name)).content.decode(), name
    donor = client.get(reverse("reports:donor-report", args=[ledger.dfid.pk])).content.decode()
    assert 'name="start"' not in donor
