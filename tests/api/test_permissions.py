"""The API permission matrix: every endpoint x every role (and anonymous, and a user without a role).

The endpoints come from the API's own route table (its OpenAPI paths), so a new endpoint is
tested as soon as it exists — and fails until its access rule is declared in ACCESS_RULES below.

To declare an endpoint, add one line:

    "POST /api/stock/sites/{site_id}/receipts": Access(
        Right.POST_STOCK,
        params=lambda ref: {"site_id": ref.hub.pk},       # an object every test caller may reach
        missing=lambda ref: {"site_id": 0},               # an object that does not exist
        body=lambda ref: {...},                           # JSON body of a valid request
        ok=201,                                           # the status of a permitted call
        scoped={Role.DISTRIBUTOR: 403},                   # roles whose scope shuts them out here
    ),

The expected status is then: anonymous 401; a user without a role 403 (200 if `right` is None);
a role that lacks `right` 403; a role listed in `scoped` that status; any other role `ok`.
With `missing` params, whoever holds the right gets 404 (whatever the scope) and whoever does not
still gets 403, so the API does not tell outsiders which objects exist. Test users of scoped roles work at
`ref.hub` and `ref.point` (see `scope_for` in conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from reliefops.api import api
from reliefops.core.roles import Right, Role, role_has
from tests.api.conftest import Reference, scope_for
from tests.factories import make_user

Params = Callable[[Reference], dict[str, Any]]


def _no_params(ref: Reference) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Access:
    """The access rule of one operation of the API."""

    right: Right | None  # the right it needs; None: any signed-in user, whatever the role
    params: Params = _no_params  # path parameters naming an object every test caller may reach
    missing: Params | None = None  # path parameters naming an object that does not exist
    body: Params | None = None  # JSON body of a valid request (unsafe methods)
    ok: int = 200  # status of a permitted call
    scoped: Mapping[Role, int] = field(default_factory=dict)  # roles that the scope shuts out


ACCESS_RULES: dict[str, Access] = {
    # core
    "GET /api/core/me": Access(None),
    # places
    "GET /api/places/admin-areas": Access(Right.VIEW_REFERENCE),
    "GET /api/places/admin-areas/{pcode}": Access(
        Right.VIEW_REFERENCE,
        params=lambda ref: {"pcode": ref.tehsil.pcode},
        missing=lambda ref: {"pcode": "PK0"},
    ),
    "GET /api/places/sites": Access(Right.VIEW_REFERENCE),
    "GET /api/places/sites/{site_id}": Access(
        Right.VIEW_REFERENCE,
        params=lambda ref: {"site_id": ref.other_hub.pk},
        missing=lambda ref: {"site_id": 0},
    ),
    # partners
    "GET /api/partners/organisations": Access(Right.VIEW_REFERENCE),
    "GET /api/partners/organisations/{organisation_id}": Access(
        Right.VIEW_REFERENCE,
        params=lambda ref: {"organisation_id": ref.donor.pk},
        missing=lambda ref: {"organisation_id": 0},
    ),
    "GET /api/partners/grants": Access(Right.VIEW_REFERENCE),
    "GET /api/partners/grants/{grant_id}": Access(
        Right.VIEW_REFERENCE,
        params=lambda ref: {"grant_id": ref.grant.pk},
        missing=lambda ref: {"grant_id": 0},
    ),
    # catalog
    "GET /api/catalog/items": Access(Right.VIEW_REFERENCE),
    "GET /api/catalog/items/{code}": Access(
        Right.VIEW_REFERENCE,
        params=lambda ref: {"code": ref.blanket.code},
        missing=lambda ref: {"code": "NONE"},
    ),
    "GET /api/catalog/kits": Access(Right.VIEW_REFERENCE),
    "GET /api/catalog/kits/{code}": Access(
        Right.VIEW_REFERENCE,
        params=lambda ref: {"code": ref.kit.item.code},
        missing=lambda ref: {"code": "NONE"},
    ),
}

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
ANONYMOUS = "anonymous"
NO_ROLE = "no-role"
CALLERS: list[str] = [ANONYMOUS, NO_ROLE, *(role.value for role in Role)]


def _route_table() -> list[str]:
    """Every operation of the API, as `METHOD /path`, from the API's own OpenAPI paths."""
    paths = api.get_openapi_schema()["paths"]
    return sorted(
        f"{method.upper()} {path}" for path, ops in paths.items() for method in ops if method in HTTP_METHODS
    )


OPERATIONS = _route_table()
OPERATIONS_WITH_PARAMS = [op for op in OPERATIONS if "{" in op]


def _rule(operation: str) -> Access:
    rule = ACCESS_RULES.get(operation)
    if rule is None:
        pytest.fail(f"declare the access rule of {operation} in ACCESS_RULES of {__name__}")
    return rule


def _expected(rule: Access, caller: str) -> int:
    if caller == ANONYMOUS:
        return 401
    if caller == NO_ROLE:
        return rule.ok if rule.right is None else 403
    role = Role(caller)
    if rule.right is not None and not role_has(role, rule.right):
        return 403
    return rule.scoped.get(role, rule.ok)


def _expected_for_missing_object(rule: Access, caller: str) -> int:
    # The lookup comes after the right is checked and before the scope is: 404 to whoever may look.
    if caller == ANONYMOUS:
        return 401
    if caller == NO_ROLE:
        return 404 if rule.right is None else 403
    if rule.right is not None and not role_has(Role(caller), rule.right):
        return 403
    return 404


def _client(caller: str, reference: Reference, token_for) -> Client:
    if caller == ANONYMOUS:
        return Client()
    if caller == NO_ROLE:
        user = get_user_model().objects.create_user(username="norole", password="correct-horse-battery")
    else:
        role = Role(caller)
        user = make_user(role, **scope_for(role, reference))
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")


def _call(client: Client, operation: str, rule: Access, params: dict[str, Any], reference: Reference):
    method, path = operation.split(" ", 1)
    url = path.format(**params)
    if rule.body is None:
        return client.generic(method, url)
    return client.generic(method, url, json.dumps(rule.body(reference)), content_type="application/json")


def test_every_operation_declares_its_access_rule():
    undeclared = [op for op in OPERATIONS if op not in ACCESS_RULES]
    assert not undeclared, "declare the access rule of " + ", ".join(undeclared)


def test_every_declared_rule_names_an_operation_of_the_api():
    stale = sorted(set(ACCESS_RULES) - set(OPERATIONS))
    assert not stale, f"these rules name no operation of the API (renamed or removed?): {stale}"


def test_every_operation_with_path_parameters_declares_a_missing_object():
    without = [op for op in OPERATIONS_WITH_PARAMS if op in ACCESS_RULES and ACCESS_RULES[op].missing is None]
    assert not without, f"declare `missing` path parameters (an object that does not exist) for {without}"


def test_route_table_covers_every_url_of_the_api():
    # An endpoint left out of the OpenAPI schema would escape the matrix; the URL table shows it.
    urls = {
        "/api/" + str(p.pattern).replace("<", "{").replace(">", "}")
        for p in api.urls[0]
        if p.name not in {"openapi-json", "openapi-view", "api-root"}
    }
    in_schema = {op.split(" ", 1)[1] for op in OPERATIONS}
    assert urls == in_schema, f"endpoints missing from the OpenAPI schema: {sorted(urls - in_schema)}"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_access_matrix(reference, token_for, operation, caller):
    # given the operation's declared rule and a caller
    rule = _rule(operation)
    client = _client(caller, reference, token_for)
    # when the caller calls it on an object every caller may reach
    response = _call(client, operation, rule, rule.params(reference), reference)
    # then the status is the one the rule gives
    assert response.status_code == _expected(rule, caller), response.content
    if response.status_code in {401, 403, 404}:
        assert response.json()["detail"]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", OPERATIONS_WITH_PARAMS)
def test_unknown_object_is_404_only_to_callers_who_may_look(reference, token_for, operation, caller):
    # given the operation's declared rule and a caller
    rule = _rule(operation)
    if rule.missing is None:
        pytest.fail(f"declare `missing` path parameters for {operation} in ACCESS_RULES of {__name__}")
    client = _client(caller, reference, token_for)
    # when the caller names an object that does not exist
    response = _call(client, operation, rule, rule.missing(reference), reference)
    # then whoever may use the endpoint learns it is missing; whoever may not is refused first
    assert response.status_code == _expected_for_missing_object(rule, caller), response.content
