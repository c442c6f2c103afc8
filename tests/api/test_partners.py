"""API of organisations and grants: payloads, filters, pagination, errors."""

from __future__ import annotations

import pytest

from tests.factories import GrantFactory


def test_organisation_list_in_name_order(reference, viewer_client):
    body = viewer_client.get("/api/partners/organisations").json()
    assert body["count"] == 2
    assert [o["acronym"] for o in body["items"]] == ["DFID", "IOM"]
    assert body["items"][1] == {
        "id": reference.iom.pk,
        "name": "International Organization for Migration",
        "acronym": "IOM",
        "type": "un",
        "aliases": [],
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"q": "iom"}, ["IOM"], id="q-acronym"),
        pytest.param({"q": "migration"}, ["IOM"], id="q-name"),
        pytest.param({"type": "donor"}, ["DFID"], id="type"),
        pytest.param({"type": "nngo"}, [], id="type-none"),
    ],
)
def test_organisation_filters(reference, viewer_client, params, expected):
    body = viewer_client.get("/api/partners/organisations", params).json()
    assert [o["acronym"] for o in body["items"]] == expected


def test_organisation_alias_is_searched(reference, viewer_client):
    reference.iom.aliases = ["OIM"]
    reference.iom.save()
    body = viewer_client.get("/api/partners/organisations", {"q": "oim"}).json()
    assert [o["acronym"] for o in body["items"]] == ["IOM"]


def test_organisation_detail_and_404(reference, viewer_client):
    assert viewer_client.get(f"/api/partners/organisations/{reference.donor.pk}").json()["acronym"] == "DFID"
    response = viewer_client.get("/api/partners/organisations/999999")
    assert response.status_code == 404
    assert response.json()["detail"] == "no organisation 999999"


def test_grant_list_shape(reference, viewer_client):
    body = viewer_client.get("/api/partners/grants").json()
    assert body["count"] == 1
    assert body["items"][0] == {
        "id": reference.grant.pk,
        "reference": "DFID-2005-ESC-01",
        "title": "Emergency shelter",
        "donor": {
            "id": reference.donor.pk,
            "name": "Department for International Development",
            "acronym": "DFID",
        },
        "start": None,
        "end": None,
        "currency": "USD",
        "amount_minor": 100_000_00,
    }


def test_grant_donor_filter_and_order(reference, viewer_client):
    # given a second grant of the same donor and one of another donor
    GrantFactory(donor=reference.donor, reference="DFID-2005-ESC-00")
    GrantFactory(reference="ECHO-2005-01")
    # when
    body = viewer_client.get("/api/partners/grants", {"donor": reference.donor.pk}).json()
    # then
    assert [g["reference"] for g in body["items"]] == ["DFID-2005-ESC-00", "DFID-2005-ESC-01"]
    assert body["count"] == 2


def test_grant_detail_and_404(reference, viewer_client):
    assert viewer_client.get(f"/api/partners/grants/{reference.grant.pk}").json()["currency"] == "USD"
    assert viewer_client.get("/api/partners/grants/999999").status_code == 404
