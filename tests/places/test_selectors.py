"""places.selectors: reads of the gazetteer and sites."""

from __future__ import annotations

import pytest

from reliefops.places import selectors
from reliefops.places.models import AdminArea
from reliefops.places.services import AdminAreaRow, SiteRow, admin_areas_import, sites_import


@pytest.fixture
def allai(db):
    admin_areas_import(
        actor=None,
        rows=[
            AdminAreaRow(pcode="PK5", name="Khyber Pakhtunkhwa", level="province", parent_pcode="PK"),
            AdminAreaRow(pcode="PK504", name="Batagram", level="district", parent_pcode="PK5"),
            AdminAreaRow(pcode="PK50401", name="Allai", level="tehsil", parent_pcode="PK504"),
        ],
    )
    return AdminArea.objects.get(pcode="PK50401")


def test_ancestors_nearest_first(allai):
    assert [a.pcode for a in selectors.admin_area_ancestors(allai)] == ["PK504", "PK5", "PK"]


def test_descendants_at_every_depth(allai):
    country = AdminArea.objects.get(pcode="PK")
    found = selectors.admin_area_descendant_ids(country)
    assert set(AdminArea.objects.filter(pk__in=found).values_list("pcode", flat=True)) == {
        "PK5",
        "PK504",
        "PK50401",
    }


def test_sites_served_by_a_hub_and_lookup_by_code(allai):
    sites_import(
        actor=None,
        rows=[
            SiteRow(code="BTG-HUB", name="Batagram hub", kind="hub", admin_pcode="PK504"),
            SiteRow(
                code="DP-BANA",
                name="Bana",
                kind="distribution_point",
                admin_pcode="PK50401",
                parent_hub="BTG-HUB",
            ),
        ],
    )
    hub = selectors.site_by_code(" btg-hub ")
    assert hub is not None
    assert [s.code for s in selectors.sites_served_by(hub)] == ["DP-BANA"]
    assert [s.code for s in selectors.supplying_sites()] == ["BTG-HUB"]
