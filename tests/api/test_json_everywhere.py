"""Every answer under /api/ is JSON with a `detail`, also for the errors the API's own handlers
never see: an unknown address, a method the address does not take, a body over the size limit."""

from __future__ import annotations

import base64
import json

from django.conf import settings

from reliefops.core.roles import Role


def test_an_unknown_address_under_the_api_answers_json_404(viewer_client):
    answer = viewer_client.get("/api/nope")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/json")
    assert "/api/nope" in answer.json()["detail"]


def test_a_method_the_address_does_not_take_answers_json_405_with_the_allowed_methods(viewer_client):
    answer = viewer_client.delete("/api/core/me")
    assert answer.status_code == 405
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json()["detail"] == "DELETE is not allowed on /api/core/me; allowed: GET"
    assert answer["Allow"] == "GET"


def test_a_body_over_the_limit_answers_json_413_naming_the_limit(viewer_client):
    content = base64.b64encode(b"x" * 3_000_000).decode()
    body = json.dumps({"filename": "big.csv", "content_base64": content})
    answer = viewer_client.post("/api/cluster/uploads", body, content_type="application/json")
    assert answer.status_code == 413
    assert answer["Content-Type"].startswith("application/json")
    limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes"
    assert limit in answer.json()["detail"]


def test_pages_outside_the_api_keep_their_html_404(client):
    answer = client.get("/nope-not-a-page")
    assert answer.status_code == 404
    assert not answer["Content-Type"].startswith("application/json")


def test_a_body_that_is_not_json_answers_json_400(api_client):
    answer = api_client(Role.COORDINATOR).post(
        "/api/cluster/uploads", "{not json", content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "Cannot parse request body"
