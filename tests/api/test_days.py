"""A day, in a query parameter or a JSON body, is its text YYYY-MM-DD. Anything else is refused as no
date, saying how to write one: a number (never taken for a Unix timestamp), a text of another form, a
day the calendar does not have, and a whole number beyond 64 bits (refused as no date, not as a
number too large for any field)."""

from __future__ import annotations

import copy
import json

import pytest

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.core.security import BIG_NUMBER_REASON
from reliefops.stock.models import Movement
from tests.api.conftest import scope_for
from tests.api.test_permissions import ACCESS_RULES

HUGE = "99999999999999999999"
NOT_A_DATE = "is not a date; write it as YYYY-MM-DD, e.g. 2005-10-08"
# A value that may be a person's data typed in the wrong field (a word, as a name is; eleven digits
# or more, as a phone or an identity number has) is told by its length, not repeated.
UNQUOTED_HUGE = f"a value of {len(HUGE)} characters {NOT_A_DATE}"


def _problems(response):
    assert response.status_code == 422, response.content
    return {p["field"]: p["reason"] for p in response.json()["problems"]}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(HUGE, UNQUOTED_HUGE, id="beyond-64-bits"),
        pytest.param("0", f"'0' {NOT_A_DATE}", id="zero-is-no-timestamp"),
        pytest.param("1128729600", f"'1128729600' {NOT_A_DATE}", id="a-timestamp"),
        pytest.param("yesterday", f"a value of 9 characters {NOT_A_DATE}", id="a-word"),
        pytest.param("0300-1234567", f"a value of 12 characters {NOT_A_DATE}", id="a-phone-number"),
        pytest.param("", f"an empty value {NOT_A_DATE}", id="empty"),
        pytest.param(
            "2005-13-45",
            "'2005-13-45' is no day of the calendar: check the month and the day",
            id="no-such-day",
        ),
    ],
)
def test_a_query_day_that_is_none_is_refused_saying_how_to_write_one(reference, api_client, value, reason):
    # given a viewer listing movements from a day that is none
    response = api_client(Role.VIEWER).get(f"/api/stock/movements?start={value}")
    # then the day is refused, saying it is not a date and how to write one
    assert _problems(response) == {"start": reason}


def test_a_query_day_written_as_asked_is_taken(reference, api_client):
    response = api_client(Role.VIEWER).get("/api/stock/movements?start=2005-10-08&end=2005-10-31")
    assert response.status_code == 200, response.content


def test_a_huge_number_for_a_day_is_named_with_the_other_problems(reference, api_client):
    # given a stock card asked from a huge number to a day the calendar does not have, at a site
    # whose id is a huge number too
    site = reference.hub.code
    response = api_client(Role.VIEWER).get(
        f"/api/stock/sites/{site}/items/{reference.blanket.code}/card?start={HUGE}&end=2005-02-30"
    )
    # then both days are refused as days, in one answer
    assert _problems(response) == {
        "start": UNQUOTED_HUGE,
        "end": "'2005-02-30' is no day of the calendar: check the month and the day",
    }
    # and a huge number where a number is asked is still refused as too large, beside the day
    response = api_client(Role.VIEWER).get(f"/api/stock/movements?start={HUGE}&site={HUGE}")
    assert _problems(response) == {"start": UNQUOTED_HUGE, "site": BIG_NUMBER_REASON}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        pytest.param("received_on", int(HUGE), UNQUOTED_HUGE, id="huge-number"),
        pytest.param("received_on", HUGE, UNQUOTED_HUGE, id="huge-number-as-text"),
        pytest.param("lines.0.expiry", int(HUGE), UNQUOTED_HUGE, id="huge-number-in-a-line"),
        pytest.param("received_on", True, f"true {NOT_A_DATE}", id="a-boolean"),
    ],
)
def test_a_body_day_that_is_none_is_refused_saying_how_to_write_one(
    reference, api_client, field, value, reason
):
    # given a hub manager posting a receipt whose day is none
    body = copy.deepcopy(ACCESS_RULES["POST /api/stock/receipts"].body(reference))
    if field.startswith("lines.0."):
        body["lines"][0][field.rsplit(".", 1)[1]] = value
    else:
        body[field] = value
    client = api_client(Role.HUB_MANAGER, **scope_for(Role.HUB_MANAGER, reference))
    before = (AuditEvent.objects.count(), Movement.objects.count())
    response = client.post("/api/stock/receipts", json.dumps(body), content_type="application/json")
    # then the day is refused as no date, named where it is, and nothing is written
    assert _problems(response) == {field: reason}
    assert (AuditEvent.objects.count(), Movement.objects.count()) == before


def test_a_huge_number_for_a_day_beside_another_impossible_value_is_refused_with_it(reference, api_client):
    # given a receipt with a huge number for its day and one for a line's quantity
    body = copy.deepcopy(ACCESS_RULES["POST /api/stock/receipts"].body(reference))
    body["received_on"] = int(HUGE)
    body["lines"][0]["quantity"] = int(HUGE)
    client = api_client(Role.HUB_MANAGER, **scope_for(Role.HUB_MANAGER, reference))
    response = client.post("/api/stock/receipts", json.dumps(body), content_type="application/json")
    # then both are refused before anything is read: the day as no date, the quantity as too large
    assert _problems(response) == {
        "received_on": UNQUOTED_HUGE,
        "lines.0.quantity": BIG_NUMBER_REASON,
    }
