"""A caller who may not write hears 403 whatever the request holds: every write operation (POST,
PUT, PATCH, DELETE) checks the caller's right as soon as the caller is authenticated, before its
parameters and body are read. The operations come from the API's own OpenAPI paths, so a new write
is walked as soon as it exists; each names its right, published as `x-right`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from ninja.errors import ConfigError

from reliefops.api import api
from reliefops.core.api import ApiRouter
from reliefops.core.models import AuditEvent
from reliefops.core.roles import ROLE_RIGHTS, Right, Role, refusal
from tests.api.conftest import scope_for
from tests.api.test_permissions import ACCESS_RULES
from tests.factories import make_user

WRITE_METHODS = {"post", "put", "patch", "delete"}


def _writes() -> list[tuple[str, str, dict[str, Any]]]:
    paths = api.get_openapi_schema()["paths"]
    return sorted(
        (method.upper(), path, operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in WRITE_METHODS
    )


WRITES = _writes()

# Bodies no write operation can take: not JSON at all, JSON of the wrong shape, values of the wrong
# type, an empty object, no body.
GARBAGE: list[tuple[str, str | None]] = [
    ("not-json", "}{ this is not JSON"),
    ("a-list", "[1, 2, 3]"),
    ("wrong-types", json.dumps({"site": True, "lines": "many", "quantity": "5", "consent": 1})),
    ("empty-object", "{}"),
    ("no-body", None),
]


def _url(path: str) -> str:
    # Path parameters of no object, and not even of the right type: they are not read either.
    return path.replace("{", "").replace("}", "").replace("_id", "-x")


def _send(client: Client, method: str, path: str, body: str | None):
    if body is None:
        return client.generic(method, _url(path))
    return client.generic(method, _url(path), body, content_type="application/json")


def test_the_walk_finds_every_write_of_the_api():
    # the stock postings, the households' writes and the cluster's uploads are all walked
    assert len(WRITES) >= 30
    assert ("POST", "/api/stock/receipts") in {(m, p) for m, p, _ in WRITES}
    assert ("PATCH", "/api/households/households/{household_id}") in {(m, p) for m, p, _ in WRITES}


@pytest.mark.parametrize(("method", "path", "operation"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_every_write_publishes_the_right_its_access_rule_declares(method, path, operation):
    # the right the router checks first is the one the permission matrix expects
    assert operation.get("x-right"), f"{method} {path} names no right"
    assert Right(operation["x-right"]) == ACCESS_RULES[f"{method} {path}"].right
    assert f"Needs the right `{operation['x-right']}`" in operation["description"]


@pytest.mark.parametrize(("method", "path", "operation"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_a_caller_who_may_not_write_hears_403_whatever_the_body(
    reference, token_for, method, path, operation
):
    right = Right(operation["x-right"])
    refused = [role for role in Role if right not in ROLE_RIGHTS[role]]
    assert Role.VIEWER in refused
    # given a caller of each role without the right (a viewer, and every other such role)
    clients = {
        role: Client(HTTP_AUTHORIZATION=f"Bearer {token_for(make_user(role, **scope_for(role, reference)))}")
        for role in refused
    }
    before = AuditEvent.objects.count()
    for role, client in clients.items():
        for name, body in GARBAGE:
            # when it sends the operation a body it could never take
            response = _send(client, method, path, body)
            # then it is refused for its role, not for its body
            assert response.status_code == 403, (role, name, response.content)
            assert response.json() == {"detail": refusal(role, right)}
    # and nothing was done or recorded
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(("method", "path", "operation"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_a_user_without_a_role_hears_403_and_an_anonymous_caller_401(
    reference, token_for, method, path, operation
):
    norole = get_user_model().objects.create_user(username="norole", password="correct-horse-battery")
    nobody = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(norole)}")
    for name, body in GARBAGE:
        assert _send(nobody, method, path, body).status_code == 403, name
        assert _send(Client(), method, path, body).status_code == 401, name


def test_a_caller_who_may_write_still_hears_what_is_wrong_with_the_body(reference, api_client):
    # given a hub manager, who may post stock, sending an incomplete receipt
    response = api_client(Role.HUB_MANAGER, **scope_for(Role.HUB_MANAGER, reference)).post(
        "/api/stock/receipts", json.dumps({"site": reference.hub.code}), content_type="application/json"
    )
    # then the body's problems are answered
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["problems"]} == {"grant", "grn_number", "lines"}


def test_a_session_without_the_right_hears_403_before_its_body_is_read(reference, client):
    # given a viewer signed in to the browser (the session authenticates; its CSRF token is sent)
    client.force_login(make_user(Role.VIEWER))
    response = client.post("/api/stock/counts", "}{", content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == refusal(Role.VIEWER, Right.POST_STOCK)


def test_a_write_that_names_no_right_is_refused_when_declared():
    router = ApiRouter(tags=["test"])
    with pytest.raises(ConfigError, match="name the right a write needs"):
        router.api_operation(["POST"], "/things")
    with pytest.raises(TypeError):
        router.post("/things")  # type: ignore[call-arg]
    # a read needs none: its handler checks what it shows
    router.api_operation(["GET"], "/things")
