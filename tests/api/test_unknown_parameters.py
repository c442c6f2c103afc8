"""A query parameter an operation does not take is refused (422 naming it, with the parameters the
operation takes), not passed over: `?number=WB-1` on the waybills list would otherwise answer the
whole list as if it had been filtered. The parameters taken are each operation's declared ones (its
filters, a list's `limit` and `offset`), the same the OpenAPI reference publishes; the check is made
once, by the router, for every operation, after the caller's right and before anything is read."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ObjectDoesNotExist

from reliefops.api import api
from reliefops.core.api import query_parameters
from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.stock.models import Movement
from tests.api.test_permissions import ACCESS_RULES


def _bound_operations() -> list[tuple[str, object]]:
    """(`GET /api/stock/waybills`, operation) of every operation, as the API binds them."""
    api.urls  # noqa: B018 - binds the routers
    found = []
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for operation in view.operations:
                route = f"/api/{bound.prefix.strip('/')}{path}"
                found += [(f"{method} {route}", operation) for method in operation.methods]
    return found


OPERATIONS = _bound_operations()
SCHEMA = api.get_openapi_schema()


def _published(operation: str) -> set[str]:
    method, path = operation.split(" ", 1)
    parameters = SCHEMA["paths"][path][method.lower()].get("parameters", [])
    return {p["name"] for p in parameters if p["in"] == "query"}


def test_the_walk_reaches_every_operation():
    names = {name for name, _ in OPERATIONS}
    assert "GET /api/stock/waybills" in names
    assert "POST /api/stock/receipts" in names
    assert len(names) == sum(len(methods) for methods in SCHEMA["paths"].values())


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[name for name, _ in OPERATIONS])
def test_the_parameters_taken_are_those_the_reference_publishes(name, operation):
    assert query_parameters(operation) == _published(name)


def test_a_list_takes_its_page_and_filters():
    # the waybills list: its filters and the page's limit and offset, and no `number`
    [waybills] = [op for name, op in OPERATIONS if name == "GET /api/stock/waybills"]
    assert {"limit", "offset", "site", "status"} <= query_parameters(waybills)
    assert "number" not in query_parameters(waybills)


def test_a_filter_the_list_does_not_take_is_refused_naming_it(reference, api_client):
    # given an admin who filters the waybills by a number, which the list does not take
    client = api_client(Role.ADMIN)
    response = client.get("/api/stock/waybills?number=WB-1&limit=10")
    # then it is refused, naming the parameter and the ones the list takes, not answered unfiltered
    assert response.status_code == 422, response.content
    takes = ", ".join(sorted(_published("GET /api/stock/waybills")))
    assert response.json() == {
        "detail": "1 problem in the request; nothing was done",
        "problems": [
            {
                "row": None,
                "field": "number",
                "reason": f"unknown parameter: this operation takes only {takes}",
            }
        ],
    }
    # and the list with the parameters it takes still answers
    assert client.get("/api/stock/waybills?limit=10&offset=0&status=in_transit").status_code == 200


def test_a_parameter_given_twice_is_refused_not_read_as_its_last_value(reference, api_client):
    # given a script that asks for the waybills of two sites in one request
    client = api_client(Role.ADMIN)
    response = client.get("/api/stock/waybills?site=12&site=4&limit=10")
    # then it is refused naming the parameter, not answered with the second site's waybills alone
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        {"row": None, "field": "site", "reason": "given 2 times: it takes one value (ask once for each)"}
    ]


def test_an_unknown_parameter_is_named_with_the_other_bad_values(reference, api_client):
    response = api_client(Role.ADMIN).get("/api/places/admin-areas?levle=district&limit=0")
    assert response.status_code == 422
    assert sorted(p["field"] for p in response.json()["problems"]) == ["levle", "limit"]


def test_an_operation_without_parameters_says_it_takes_none(reference, api_client):
    response = api_client(Role.VIEWER).get("/api/core/me?verbose=1")
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "row": None,
            "field": "verbose",
            "reason": "unknown parameter: this operation takes no query parameters",
        }
    ]


@pytest.mark.parametrize(
    ("name", "operation"),
    [(name, op) for name, op in OPERATIONS if name in ACCESS_RULES],
    ids=[name for name, _ in OPERATIONS if name in ACCESS_RULES],
)
def test_every_operation_refuses_a_parameter_it_does_not_take(reference, api_client, name, operation):
    # given an admin, who may do anything, calling the operation with one parameter too many
    rule = ACCESS_RULES[name]
    method, path = name.split(" ", 1)
    # (of an object that does not exist, where the path names one: the call is refused before any
    # lookup)
    url = path.format(**(rule.missing or rule.params)(reference)) + "?dry_run=1"
    client = api_client(Role.ADMIN)
    before = (AuditEvent.objects.count(), Movement.objects.count())
    if rule.body is None:
        response = client.generic(method, url)
    else:
        try:
            body = rule.body(reference)
        except ObjectDoesNotExist:  # a body naming what the rule's `given` would make: send none
            body = {}
        response = client.generic(method, url, json.dumps(body), content_type="application/json")
    # then the call is refused naming it, and nothing is done
    assert response.status_code == 422, response.content
    assert "dry_run" in [p["field"] for p in response.json()["problems"]]
    assert (AuditEvent.objects.count(), Movement.objects.count()) == before


def test_a_caller_who_may_not_write_hears_403_before_an_unknown_parameter(reference, api_client):
    # given a viewer posting a receipt with a parameter the operation does not take
    body = ACCESS_RULES["POST /api/stock/receipts"].body(reference)
    response = api_client(Role.VIEWER).post(
        "/api/stock/receipts?dry_run=1", json.dumps(body), content_type="application/json"
    )
    # then it hears its role may not post stock, as for any request it sends
    assert response.status_code == 403
