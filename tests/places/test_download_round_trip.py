"""The admin areas and sites downloads of the reference pages upload again unchanged: the places
import reads the HXL hashtags they carry and leaves out their read-only columns (a parent's name,
counts of sub-areas and sites, a hub's name)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reliefops.core.roles import Role
from reliefops.places.importers import admin_areas_import_file, sites_import_file
from reliefops.places.models import AdminArea, Site


@pytest.fixture
def gazetteer(run_command, places_csv, write_file):
    """The scenario's admin areas and sites, with other names, a COD version and a closed site."""
    from reliefops.scenarios.kashmir2005 import DATA_DIR

    run_command("places", "import", str(write_file("places.csv", places_csv)))
    run_command("places", "import-sites", str(DATA_DIR / "sites.csv"))
    AdminArea.objects.filter(pcode="PK52201").update(alt_names=["Balakot", "Bala Kot"], cod_version="v02")
    Site.objects.filter(code="DP-BANA").update(is_active=False)


def downloaded(client, url_name: str) -> bytes:
    response = client.get(reverse(url_name), {"format": "csv"})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_admin_areas_download_imports_again_changing_nothing(
    gazetteer, client_as, run_command, write_file, state
):
    # given the admin areas page's download, with its parents' names and counts of sub-areas and sites
    data = downloaded(client_as(Role.VIEWER), "web:adminarea-list")
    text = data.decode("utf-8-sig")
    assert "#adm+code+parent" in text
    assert "#adm+count+children" in text
    assert "Balakot; Bala Kot" in text
    before = state()
    # when it is imported again, as a dry run and for real
    out, _ = run_command("places", "import", str(write_file("admin-areas.csv", data)), "--dry-run")
    result = admin_areas_import_file(actor=None, data=data, filename="admin-areas.csv")
    # then every area is read as it is stored, and nothing changed
    areas = AdminArea.objects.count()
    assert out.strip() == (
        f"admin-areas.csv: dry run, nothing written; the import would give 0 created, 0 updated, "
        f"{areas} unchanged"
    )
    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (0, 0, areas)
    assert state() == before


def test_the_sites_download_imports_again_changing_nothing(
    gazetteer, client_as, run_command, write_file, state
):
    # given the sites page's download, with the admin areas' and hubs' names and "no" for a closed site
    data = downloaded(client_as(Role.VIEWER), "web:site-list")
    text = data.decode("utf-8-sig")
    assert "#loc+code+hub" in text
    assert "#status" in text
    before = state()
    # when it is imported again, as a dry run and for real
    out, _ = run_command("places", "import-sites", str(write_file("sites.csv", data)), "--dry-run")
    counts = sites_import_file(actor=None, data=data)
    # then every site is read as it is stored (the closed one stays closed), and nothing changed
    sites = Site.objects.count()
    assert out.strip() == (
        f"sites.csv: dry run, nothing written; the import would give 0 created, 0 updated, {sites} unchanged"
    )
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, sites)
    assert state() == before
    assert not Site.objects.get(code="DP-BANA").is_active
