"""API of relief items and kits: payloads, filters, pagination, errors."""

from __future__ import annotations

import pytest


def test_item_list_shape_and_order(reference, viewer_client):
    body = viewer_client.get("/api/catalog/items").json()
    assert [i["code"] for i in body["items"]] == ["BLANKET", "KIT-WINTER", "TARPAULIN"]
    blanket = body["items"][0]
    assert blanket == {
        "code": "BLANKET",
        "name": "Blanket",
        "base_unit": "piece",
        "category": "nfi",
        "weight_kg": 1.5,
        "volume_m3": None,
        "is_active": True,
        "is_kit": False,
        "pack_sizes": [{"name": "bale", "quantity": 10}],
    }
    assert body["items"][1]["is_kit"] is True


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"q": "tarp"}, ["TARPAULIN"], id="q-name"),
        pytest.param({"q": "kit-"}, ["KIT-WINTER"], id="q-code"),
        pytest.param({"category": "shelter"}, ["TARPAULIN"], id="category"),
        pytest.param({"limit": 1, "offset": 2}, ["TARPAULIN"], id="page"),
    ],
)
def test_item_filters(reference, viewer_client, params, expected):
    body = viewer_client.get("/api/catalog/items", params).json()
    assert [i["code"] for i in body["items"]] == expected


def test_item_detail_and_404(reference, viewer_client):
    body = viewer_client.get("/api/catalog/items/BLANKET").json()
    assert body["pack_sizes"] == [{"name": "bale", "quantity": 10}]
    assert "description" in body
    response = viewer_client.get("/api/catalog/items/NOPE")
    assert response.status_code == 404
    assert response.json()["detail"] == "no item with code=NOPE"
    # a code in small letters is the item of that code, as the filters and postings read it
    assert viewer_client.get("/api/catalog/items/blanket").json()["code"] == "BLANKET"
    assert viewer_client.get("/api/catalog/kits/kit-winter").json()["code"] == "KIT-WINTER"


def test_kit_list_has_components_by_item_code(reference, viewer_client):
    body = viewer_client.get("/api/catalog/kits").json()
    assert body["count"] == 1
    assert body["items"][0] == {
        "code": "KIT-WINTER",
        "name": "Winterization kit",
        "source": "IOM 2006",
        "components": [
            {"item_code": "BLANKET", "item_name": "Blanket", "base_unit": "piece", "quantity": 2},
            {"item_code": "TARPAULIN", "item_name": "Tarpaulin", "base_unit": "piece", "quantity": 1},
        ],
    }


@pytest.mark.parametrize(
    ("params", "count"),
    [pytest.param({"q": "winter"}, 1, id="q-name"), pytest.param({"q": "blanket"}, 0, id="no-match")],
)
def test_kit_filter(reference, viewer_client, params, count):
    assert viewer_client.get("/api/catalog/kits", params).json()["count"] == count


def test_kit_detail_and_404(reference, viewer_client):
    assert viewer_client.get("/api/catalog/kits/KIT-WINTER").json()["name"] == "Winterization kit"
    assert viewer_client.get("/api/catalog/kits/BLANKET").status_code == 404
