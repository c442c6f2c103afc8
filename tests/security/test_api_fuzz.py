"""API fuzzing: schemathesis generates requests for every operation of `/api/openapi.json` and sends
them through the WSGI application with a real token, of an admin and of a viewer (read-only).

No request may make the server fail (500), and every response must match the schema the API
publishes. `make test` sends a few requests per operation; `make fuzz` (RELIEFOPS_FUZZ=full) sends
many more (its figures are in docs/performance.md, "Security checks").
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from reliefops.core.roles import Role
from reliefops.core.security import BIG_NUMBER_REASON, NUL_REASON
from reliefops.stock.models import Movement
from tests.factories import make_user

FULL = os.environ.get("RELIEFOPS_FUZZ") == "full"
EXAMPLES = 50 if FULL else 3

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def wsgi_in_test_transaction(db):
    """Keep the test's database connection open across requests, as Django's test client does
    (a real server closes it when a request finishes; here it holds the test's transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearers(wsgi_in_test_transaction, reference, token_for) -> dict[str, dict[str, str]]:
    """The Authorization headers of real tokens: an admin's, and a read-only viewer's."""
    return {
        role.value: {"Authorization": f"Bearer {token_for(make_user(role))}"}
        for role in (Role.ADMIN, Role.VIEWER)
    }


# `make test`: a few generated requests per operation. `make fuzz`: many, plus schemathesis's
# explicit phase (the schema's examples and its coverage cases: every boundary and wrong type).
PHASES = [Phase.explicit, Phase.generate] if FULL else [Phase.generate]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    phases=PHASES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_breaks_the_api(bearers, case):
    # given any request schemathesis makes up from the published schema
    for role, headers in bearers.items():
        # when it is sent with an admin's token, then with a viewer's
        # (uncompressed: the WSGI transport hands the body over as sent, and would not unpack gzip)
        response = case.call(headers={**headers, "Accept-Encoding": "identity"})
        # then the server does not fail, and the answer matches the schema
        case.validate_response(response, checks=CHECKS)
        # and a viewer's write is refused for its role, whatever it holds; a refused value is named
        # by its path or its parameter's name, whoever refused it
        _refused_as_the_api_says(case, Role(role), response)


def _refused_as_the_api_says(case, role: Role, response) -> None:
    try:
        body = response.json()
    except ValueError:  # the households' CSV export
        body = None
    problems = body.get("problems") or [] if isinstance(body, dict) else []
    for problem in problems:
        assert not problem["field"].startswith(("body.", "query.", "path.", "header.")), problem
    # (the coverage phase also sends methods an address does not take: 405, whoever asks)
    method = case.method.upper()
    write = method in {"POST", "PUT", "PATCH", "DELETE"} and method == case.operation.method.upper()
    if write and role == Role.VIEWER:
        # Refused for want of the right before any value is read, even a NUL or a number beyond 64
        # bits (which the API refuses with 422 only to a caller who may write).
        # (401: schemathesis sent a made-up token of its own beside the viewer's)
        assert response.status_code in (401, 403), (response.status_code, body)


def test_a_huge_offset_is_refused_not_a_server_error(bearers, client):
    # given an offset beyond what the database's integers hold (fuzzing found it answered 500)
    headers = bearers[Role.ADMIN.value]
    response = client.get(
        "/api/partners/organisations?offset=18117201537134675968", HTTP_AUTHORIZATION=headers["Authorization"]
    )
    # then it is refused as a bad parameter
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"].endswith("offset")


# Full-size fuzzing found these: a NUL character in a JSON string or a query parameter reached
# PostgreSQL, which cannot store one ("A string literal cannot contain NUL"), and a whole number
# beyond 64 bits reached SQLite's driver ("Python int too large to convert to SQLite INTEGER"):
# both answered 500.


def _as_admin(bearers) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": bearers[Role.ADMIN.value]["Authorization"]}


def _post_as_admin(client, bearers, path: str, body: dict):
    return client.post(path, data=json.dumps(body), content_type="application/json", **_as_admin(bearers))


def test_a_nul_character_in_a_json_field_is_refused_naming_the_field(bearers, client, reference):
    # given a distribution whose line's lot holds a NUL character
    before = Movement.objects.count()
    body = {
        "site": reference.point.pk,
        "lines": [{"item": reference.blanket.pk, "quantity": 3, "lot": "A\u0000B", "grant": ""}],
    }
    response = _post_as_admin(client, bearers, "/api/stock/distributions", body)
    # then it is refused as a bad value of that field, and nothing is written
    assert response.status_code == 422
    assert response.json()["problems"] == [{"row": None, "field": "lines.0.lot", "reason": NUL_REASON}]
    assert Movement.objects.count() == before


def test_a_nul_character_in_a_json_key_or_in_a_receipt_is_refused(bearers, client, reference):
    body = {"site": reference.hub.pk, "grant": "G\u0000", "lines": [{"item\u0000": 1}]}
    response = _post_as_admin(client, bearers, "/api/stock/receipts", body)
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == ["grant", "lines.0.'item\\x00'"]


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(bearers, client, reference):
    # given a lot written as the six characters \u0000 (its backslash escaped in the JSON)
    body = {"site": reference.point.pk, "lines": [{"item": 0, "quantity": 3, "lot": "\\u0000"}]}
    response = _post_as_admin(client, bearers, "/api/stock/distributions", body)
    # then the request reaches the API, which judges it on its own terms (here: no such item)
    assert response.status_code != 500
    assert all(p["reason"] != NUL_REASON for p in response.json().get("problems", []))


def test_a_nul_character_in_a_query_parameter_is_refused_by_the_api_and_the_pages(bearers, client):
    response = client.get("/api/cluster/matrix?level=district&within=PK%00", **_as_admin(bearers))
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "within"
    # and a page answers 400 with the parameter's name
    client.force_login(make_user(Role.ADMIN))
    page = client.get("/cluster/matrix/?within=PK%00")
    assert page.status_code == 400
    assert "within" in page.content.decode()


def test_a_whole_number_beyond_64_bits_is_refused_naming_the_field(bearers, client, reference):
    # given a kit to break named by a number no id can be (fuzzing sent 479668836717260439552)
    before = Movement.objects.count()
    body = {"kit": 479668836717260439552, "quantity": 1, "site": reference.hub.pk}
    response = _post_as_admin(client, bearers, "/api/stock/kits/break", body)
    # then it is refused as a bad value of that field, and nothing is written
    assert response.status_code == 422
    assert response.json()["problems"] == [{"row": None, "field": "kit", "reason": BIG_NUMBER_REASON}]
    assert Movement.objects.count() == before
    # and so is such a number in a query parameter
    listed = client.get("/api/cluster/rows?batch=261391344760059867430912", **_as_admin(bearers))
    assert listed.status_code == 422
    assert listed.json()["problems"][0] == {"row": None, "field": "batch", "reason": BIG_NUMBER_REASON}


def test_digits_that_are_no_number_name_no_record_and_break_nothing(bearers, client):
    # given a distribution round whose point is a site written in superscript digits, which Python
    # takes for digits but cannot read as a number (fuzzing sent "²²")
    body = {
        "code": "R-SUP",
        "name": "Round",
        "starts_on": "2005-11-20",
        "ends_on": "2005-11-30",
        "areas": [],
        "points": [{"site": "²²"}],
        "package": [],
    }
    response = _post_as_admin(client, bearers, "/api/households/rounds", body)
    # then the site is looked up by that code, found nowhere, and refused by name (with the round's
    # other problem, its empty package)
    assert response.status_code == 422
    assert {"row": None, "field": "points.0.site", "reason": "unknown site '²²'"} in response.json()[
        "problems"
    ]
    # and so is a stock card of such a site, and an id beyond 64 bits written as text
    for site in ("²", "¹²", "99999999999999999999999"):
        card = client.get(f"/api/stock/sites/{site}/items/TENT/card", **_as_admin(bearers))
        assert card.status_code in (404, 422), site


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/reports/distributed/", {"hub": "²"}),
        ("get", "/stock/post/count/", {"site": "²"}),
        ("post", "/stock/post/count/", {"site": "¹²"}),
        ("post", "/cluster/upload/commit/", {"preview": "²"}),
        ("post", "/households/duplicates/", {"pair": "²", "decision": "²"}),
    ],
)
def test_digits_that_are_no_number_break_no_page(client, reference, method, path, data):
    # given a page's parameter that names a record by id, written in superscript digits
    client.force_login(make_user(Role.ADMIN))
    page = getattr(client, method)(path, data)
    # then the page answers as for any id it does not know (a filter refuses it: 422), not with a
    # server error
    assert page.status_code in (200, 302, 400, 404, 422), page.status_code


def test_the_largest_64_bit_number_goes_through(bearers, client):
    # given the largest number a 64-bit column holds
    largest = client.get("/api/cluster/rows?batch=9223372036854775807", **_as_admin(bearers))
    # then the API judges it on its own terms: no refusal for its size
    assert largest.status_code == 200
    assert largest.json()["count"] == 0
