"""places.services: rules of the gazetteer and sites imports that need the stored data."""

from __future__ import annotations

import pytest

from reliefops.core.errors import InvalidInput
from reliefops.core.models import AuditEvent
from reliefops.places.models import AdminArea, Site
from reliefops.places.services import AdminAreaRow, SiteRow, admin_areas_import, sites_import


def area(pcode, name, level, parent, **extra):
    return AdminAreaRow(pcode=pcode, name=name, level=level, parent_pcode=parent, **extra)


@pytest.fixture
def gazetteer(db):
    admin_areas_import(
        actor=None,
        rows=[
            area("PK5", "Khyber Pakhtunkhwa", "province", "PK"),
            area("PK504", "Batagram", "district", "PK5"),
            area("PK50401", "Allai", "tehsil", "PK504"),
        ],
    )


def test_rows_from_code_are_imported_like_a_file(db):
    result = admin_areas_import(
        actor=None, rows=[area("PK1", "Azad Kashmir", "adm1", "PK", lat=33.9, lon=73.9)]
    )
    assert result.countries_created == ("PK",)
    assert AdminArea.objects.get(pcode="PK1").level == "province"
    assert AuditEvent.objects.filter(action="admin_area.create", object_id="PK1").exists()


def test_a_level_change_that_strands_stored_children_is_refused(gazetteer):
    # when Batagram is made a tehsil while Allai, a tehsil, is stored below it
    with pytest.raises(InvalidInput) as caught:
        admin_areas_import(actor=None, rows=[area("PK504", "Batagram", "tehsil", "PK5", line=2)])
    # then the change is refused and names the child
    assert [str(p) for p in caught.value.problems] == [
        "line 2, level: PK50401 below it is a tehsil, which a tehsil cannot hold"
    ]
    assert AdminArea.objects.get(pcode="PK504").level == "district"


def test_moving_an_area_to_another_parent_is_audited(gazetteer):
    admin_areas_import(actor=None, rows=[area("PK522", "Mansehra", "district", "PK5")])
    admin_areas_import(actor=None, rows=[area("PK50401", "Allai", "tehsil", "PK522")])
    assert AdminArea.objects.get(pcode="PK50401").parent.pcode == "PK522"
    event = AuditEvent.objects.get(action="admin_area.update", object_id="PK50401")
    assert (event.before, event.after) == ({"parent": "PK504"}, {"parent": "PK522"})


def site(code, kind, pcode="PK504", parent="", **extra):
    return SiteRow(code=code, name=code.title(), kind=kind, admin_pcode=pcode, parent_hub=parent, **extra)


def test_a_changed_site_is_updated_with_before_and_after(gazetteer):
    sites_import(
        actor=None, rows=[site("BTG-HUB", "hub"), site("DP-BANA", "distribution_point", "PK50401", "BTG-HUB")]
    )
    counts = sites_import(
        actor=None, rows=[site("DP-BANA", "distribution_point", "PK50401", "BTG-HUB", elevation_m=1400)]
    )
    assert str(counts) == "0 created, 1 updated, 0 unchanged"
    event = AuditEvent.objects.get(action="site.update")
    assert (event.before, event.after) == ({"elevation_m": None}, {"elevation_m": 1400})


def test_a_hub_that_still_supplies_sites_cannot_become_a_camp(gazetteer):
    sites_import(
        actor=None, rows=[site("BTG-HUB", "hub"), site("DP-BANA", "distribution_point", "PK50401", "BTG-HUB")]
    )
    with pytest.raises(InvalidInput, match="it still supplies DP-BANA"):
        sites_import(actor=None, rows=[site("BTG-HUB", "camp", line=2)])
    assert Site.objects.get(code="BTG-HUB").kind == "hub"


def test_a_supply_loop_through_stored_sites_is_refused(gazetteer):
    sites_import(actor=None, rows=[site("HUB-A", "hub"), site("HUB-B", "hub", parent="HUB-A")])
    with pytest.raises(InvalidInput, match="loop"):
        sites_import(actor=None, rows=[site("HUB-A", "hub", parent="HUB-B", line=2)])
    assert Site.objects.get(code="HUB-A").parent_hub is None


def test_dry_run_of_sites_writes_nothing(gazetteer):
    counts = sites_import(actor=None, rows=[site("BTG-HUB", "hub")], dry_run=True)
    assert str(counts) == "1 created, 0 updated, 0 unchanged"
    assert not Site.objects.exists()
