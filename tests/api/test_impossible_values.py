"""A value no field can hold (a NUL character, a whole number beyond 64 bits), in the query string or
a JSON body, is refused as any bad value is: a caller who may not write hears 403 first, whatever
the request holds; one who may hears 422 naming each such value. Either way the value reaches no
database query."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Right, Role, refusal
from reliefops.core.security import BIG_NUMBER_REASON, NUL_REASON
from reliefops.stock.models import Movement
from tests.api.test_permissions import ACCESS_RULES

RECEIPTS = "/api/stock/receipts"

IMPOSSIBLE = [
    pytest.param("grn_number", "GRN\u00001", "", NUL_REASON, id="a-nul-in-the-body"),
    pytest.param("pledge", 2**64, "", BIG_NUMBER_REASON, id="a-huge-number-in-the-body"),
    pytest.param(None, None, "?note=a%00b", NUL_REASON, id="a-nul-in-the-query"),
]


def _send(client, reference, field, value, query):
    body = ACCESS_RULES[f"POST {RECEIPTS}"].body(reference)
    if field is not None:
        body[field] = value
    with CaptureQueriesContext(connection) as queries:
        response = client.post(RECEIPTS + query, json.dumps(body), content_type="application/json")
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize(("field", "value", "query", "reason"), IMPOSSIBLE)
def test_a_caller_who_may_not_write_hears_403_first(reference, api_client, field, value, query, reason):
    # given a viewer, who may not post stock, posting a receipt holding a value no field can hold
    client = api_client(Role.VIEWER)
    response, sql = _send(client, reference, field, value, query)
    # then it hears its role may not post stock, as for any other body
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": refusal(Role.VIEWER, Right.POST_STOCK)}
    # and the value reached no query of the database
    assert not [statement for statement in sql if "\x00" in statement or str(2**64) in statement]


@pytest.mark.parametrize(("field", "value", "query", "reason"), IMPOSSIBLE)
def test_a_caller_who_may_write_hears_422_naming_the_value(
    reference, api_client, field, value, query, reason
):
    # given an admin posting the same receipt
    client = api_client(Role.ADMIN)
    before = (AuditEvent.objects.count(), Movement.objects.count())
    response, sql = _send(client, reference, field, value, query)
    # then it is refused naming the value, before anything of the request is read or written
    assert response.status_code == 422, response.content
    assert response.json() == {
        "detail": "1 problem in the request; nothing was done",
        "problems": [{"row": None, "field": field or "note", "reason": reason}],
    }
    assert not [statement for statement in sql if "\x00" in statement or str(2**64) in statement]
    assert (AuditEvent.objects.count(), Movement.objects.count()) == before


def test_a_read_with_a_nul_is_refused_before_it_is_made(reference, api_client):
    with CaptureQueriesContext(connection) as queries:
        response = api_client(Role.VIEWER).get("/api/places/sites?q=Mans%00ehra")
    assert response.status_code == 422
    assert response.json()["problems"] == [{"row": None, "field": "q", "reason": NUL_REASON}]
    assert not [q for q in queries.captured_queries if "\x00" in q["sql"]]


def test_an_address_that_is_no_operation_is_answered_as_without_the_nul(db):
    # the API's own reference and an unknown address read no parameter: they answer as they would
    assert Client().get("/api/openapi.json?x=%00").status_code == 200
    assert Client().get("/api/no-such-thing?x=%00").status_code == 404
