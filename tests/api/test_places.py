"""API of admin areas and sites: payloads, filters, pagination, errors, queries."""

from __future__ import annotations

import pytest


def test_admin_area_list_is_paged_in_pcode_order(reference, viewer_client):
    # when
    response = viewer_client.get("/api/places/admin-areas", {"limit": 2, "offset": 1})
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [a["pcode"] for a in body["items"]] == ["PK521", "PK522"]


def test_admin_area_list_item_shape(reference, viewer_client):
    body = viewer_client.get("/api/places/admin-areas", {"q": "PK52201"}).json()
    assert body["items"] == [
        {
            "pcode": "PK52201",
            "name": "Bala Kot",
            "level": "tehsil",
            "parent_pcode": "PK522",
            "cod_version": "",
            "lat": 34.5,
            "lon": 73.3,
            "elevation_m": 980,
            "alt_names": ["Balakot"],
        }
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"q": "mansehra"}, ["PK522"], id="q-name-any-case"),
        pytest.param({"q": "Batagram"}, ["PK521"], id="q-alternate-name"),
        pytest.param({"q": "PK522"}, ["PK522", "PK52201"], id="q-pcode"),
        pytest.param({"level": "district"}, ["PK521", "PK522"], id="level"),
        pytest.param({"parent": "PK5"}, ["PK521", "PK522"], id="parent"),
        pytest.param({"parent": "PK5", "q": "Batt"}, ["PK521"], id="parent-and-q"),
        pytest.param({"parent": "pk5"}, ["PK521", "PK522"], id="parent-in-lower-case"),
        pytest.param({"q": "Muzaffarabad"}, [], id="no-match"),
    ],
)
def test_admin_area_filters(reference, viewer_client, params, expected):
    body = viewer_client.get("/api/places/admin-areas", params).json()
    assert [a["pcode"] for a in body["items"]] == expected
    assert body["count"] == len(expected)


def test_admin_area_detail_has_parent_and_children(reference, viewer_client):
    response = viewer_client.get("/api/places/admin-areas/PK522")
    assert response.status_code == 200
    body = response.json()
    assert body["parent"] == {"pcode": "PK5", "name": "N.W.F.P.", "level": "province"}
    assert body["children"] == [{"pcode": "PK52201", "name": "Bala Kot", "level": "tehsil"}]


def test_a_pcode_in_lower_case_is_the_area_stored_in_capitals(reference, viewer_client):
    response = viewer_client.get("/api/places/admin-areas/pk522")
    assert response.status_code == 200
    assert response.json()["pcode"] == "PK522"


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        pytest.param("/api/places/sites", "admin_area", id="sites-admin-area"),
        pytest.param("/api/places/admin-areas", "parent", id="admin-areas-parent"),
    ],
)
def test_an_unknown_pcode_in_a_filter_is_422_naming_the_parameter(reference, viewer_client, url, parameter):
    response = viewer_client.get(url, {parameter: "PK999"})
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        {"row": None, "field": parameter, "reason": "no admin area with P-code 'PK999'"}
    ]
    # a known one, in any case, still filters
    known = viewer_client.get(url, {parameter: "pk522"})
    assert known.status_code == 200
    assert known.json()["count"] >= 1


def test_unknown_pcode_is_404_with_detail(reference, viewer_client):
    response = viewer_client.get("/api/places/admin-areas/PK999")
    assert response.status_code == 404
    assert response.json() == {"detail": "no admin area with pcode=PK999"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"level": "galaxy"}, "level", id="unknown-level"),
        pytest.param({"limit": 0}, "limit", id="limit-zero"),
        pytest.param({"limit": 501}, "limit", id="limit-over-max"),
        pytest.param({"offset": -1}, "offset", id="negative-offset"),
    ],
)
def test_bad_query_is_422_with_problems(reference, viewer_client, params, field):
    response = viewer_client.get("/api/places/admin-areas", params)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("1 problem in")
    assert [(p["row"], p["field"]) for p in body["problems"]] == [(None, field)]
    assert body["problems"][0]["reason"]


def test_site_list_shape_and_order(reference, viewer_client):
    body = viewer_client.get("/api/places/sites").json()
    assert body["count"] == 3
    assert [s["code"] for s in body["items"]] == ["DP-BALAKOT", "HUB-BATAGRAM", "HUB-MANSEHRA"]
    point = body["items"][0]
    assert point["kind"] == "distribution_point"
    assert point["admin_area"] == {"pcode": "PK52201", "name": "Bala Kot", "level": "tehsil"}
    assert point["parent_hub_id"] == reference.hub.pk
    assert point["is_active"] is True


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"kind": "hub"}, ["HUB-BATAGRAM", "HUB-MANSEHRA"], id="kind"),
        pytest.param({"q": "balakot"}, ["DP-BALAKOT"], id="q-name"),
        pytest.param({"q": "HUB-"}, ["HUB-BATAGRAM", "HUB-MANSEHRA"], id="q-code"),
        pytest.param({"admin_area": "PK52201"}, ["DP-BALAKOT"], id="area-itself"),
        pytest.param({"admin_area": "PK522"}, ["DP-BALAKOT", "HUB-MANSEHRA"], id="area-and-below"),
        pytest.param({"admin_area": "PK5"}, ["DP-BALAKOT", "HUB-BATAGRAM", "HUB-MANSEHRA"], id="province"),
        pytest.param({"admin_area": "PK5", "kind": "hub", "q": "mans"}, ["HUB-MANSEHRA"], id="combined"),
    ],
)
def test_site_filters(reference, viewer_client, params, expected):
    body = viewer_client.get("/api/places/sites", params).json()
    assert [s["code"] for s in body["items"]] == expected


def test_site_detail(reference, viewer_client):
    response = viewer_client.get(f"/api/places/sites/{reference.hub.pk}")
    assert response.status_code == 200
    assert response.json()["code"] == "HUB-MANSEHRA"
    assert "notes" in response.json()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/api/places/sites/999999", 404, id="unknown-id"),
        pytest.param("/api/places/sites/abc", 422, id="not-a-number"),
    ],
)
def test_site_detail_errors(reference, viewer_client, path, status):
    assert viewer_client.get(path).status_code == status
