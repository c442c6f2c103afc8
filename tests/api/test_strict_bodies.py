"""Request bodies are taken as JSON gives them, never converted: a JSON boolean is not a number
(`"site": true` is not site 1), a text is not a whole number (`"quantity": "5"`), a number is not a
boolean (`"consent": 1`) nor a text, and a day is its ISO text (`"2006-01-15"`), not a number.

Every body of every write operation is checked at once: its schema, and each schema inside it,
derives from `BodyIn` (pydantic's strict mode); the days and choices it holds, which JSON can only
give as text, are read from their text. The walk below proves no body schema is left loose; the
requests after it show what a client hears."""

from __future__ import annotations

import copy
import datetime as dt
import enum
import json
import types
import typing
from typing import Any, Union

import pytest
from django.test import Client
from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict

from reliefops.api import api
from reliefops.core.api import BodyIn, Day
from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.stock.models import Movement
from reliefops.stock.schemas import ReceiptIn, ReceiptLineIn
from tests.api.test_permissions import ACCESS_RULES

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _write_bodies() -> list[tuple[str, type[BaseModel]]]:
    """(operation, body schema) of every write operation of the API, as the API binds them."""
    api.urls  # noqa: B018 - binds the routers
    found = []
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for operation in view.operations:
                if not WRITE_METHODS & set(operation.methods):
                    continue
                for model in operation.models:
                    if model.__ninja_param_source__ == "body":
                        found += [
                            (f"{'/'.join(operation.methods)} {bound.prefix}{path}", field.annotation)
                            for field in model.model_fields.values()
                        ]
    return found


BODIES = _write_bodies()


def _types_in(
    annotation: Any, metadata: tuple[Any, ...] = ()
) -> typing.Iterator[tuple[Any, tuple[Any, ...]]]:
    """Each type an annotation holds (through unions, lists and Annotated), with its metadata."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        yield from _types_in(base, (*metadata, *meta))
    elif origin in (Union, types.UnionType, list, dict, set, tuple):
        for arg in typing.get_args(annotation):
            yield from _types_in(arg, metadata)
    else:
        yield annotation, metadata


def _models_in(model: type[BaseModel], seen: set[type]) -> typing.Iterator[type[BaseModel]]:
    if model in seen:
        return
    seen.add(model)
    yield model
    for field in model.model_fields.values():
        for kind, _ in _types_in(field.annotation, tuple(field.metadata)):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _models_in(kind, seen)


def _loose(model: type[BaseModel]) -> list[str]:
    """What in the model would be converted from another JSON type, or refuse its own JSON text."""
    found = []
    if not issubclass(model, BodyIn) or model.model_config.get("strict") is not True:
        found.append(f"{model.__name__} is not a strict body (derive it from BodyIn)")
    elif model.model_config.get("extra") != "forbid":
        found.append(f"{model.__name__} passes over keys it does not take (keep BodyIn's extra='forbid')")
    for name, field in model.model_fields.items():
        for kind, metadata in _types_in(field.annotation, tuple(field.metadata)):
            text_only = isinstance(kind, type) and (issubclass(kind, enum.Enum | dt.date | dt.time))
            if text_only and Strict(False) not in metadata:
                found.append(f"{model.__name__}.{name}: {kind.__name__} refuses its JSON text in strict mode")
            if kind is dt.date and not any(isinstance(m, BeforeValidator) for m in metadata):
                found.append(f"{model.__name__}.{name}: a day must be `Day` (ISO text only, not a number)")
            if kind in (dt.datetime, dt.time):
                found.append(f"{model.__name__}.{name}: {kind.__name__} has no strict text type yet")
    return found


def test_the_walk_reaches_every_write_operations_body():
    operations = {operation for operation, _ in BODIES}
    assert "POST /stock//receipts" in operations
    assert "PATCH /households//households/{household_id}" in operations
    assert "POST /cluster//periods" in operations
    assert len(operations) >= 20


@pytest.mark.parametrize(("operation", "schema"), BODIES, ids=[op for op, _ in BODIES])
def test_no_body_schema_of_a_write_is_loose(operation, schema):
    # every schema of the body, and every schema inside it (a receipt's lines), is strict
    assert isinstance(schema, type), f"{operation}: a body that is no schema"
    assert issubclass(schema, BaseModel), f"{operation}: a body that is no schema"
    problems = [problem for model in _models_in(schema, set()) for problem in _loose(model)]
    assert problems == []


def test_the_walk_finds_a_loose_schema():
    # the check above can fail: a schema of plain pydantic, and a strict one with a plain day
    class Loose(BaseModel):
        quantity: int

    class PlainDay(BodyIn):
        on: dt.date | None = None
        kept: Day | None = None

    class KeysPassedOver(BodyIn):
        model_config = ConfigDict(extra="ignore")

    assert _loose(Loose) == ["Loose is not a strict body (derive it from BodyIn)"]
    assert _loose(KeysPassedOver) == [
        "KeysPassedOver passes over keys it does not take (keep BodyIn's extra='forbid')"
    ]
    assert _loose(PlainDay) == [
        "PlainDay.on: date refuses its JSON text in strict mode",
        "PlainDay.on: a day must be `Day` (ISO text only, not a number)",
    ]


# --- what a client hears ---------------------------------------------------------------------------


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of the body with the value at a dotted path (`lines.0.quantity`)."""
    body = copy.deepcopy(body)
    *head, last = path.split(".")
    here: Any = body
    for part in head:
        here = here[int(part)] if isinstance(here, list) else here[part]
    if isinstance(here, list):
        here[int(last)] = value
    else:
        here[last] = value
    return body


LOOSE_VALUES = [
    ("POST /api/stock/receipts", "site", True),
    ("POST /api/stock/receipts", "grant", 1.0),
    ("POST /api/stock/receipts", "lines.0.quantity", "5"),
    ("POST /api/stock/receipts", "lines.0.quantity", True),
    ("POST /api/stock/receipts", "lines.0.quantity", 5.0),
    ("POST /api/stock/receipts", "lines.0.item", False),
    ("POST /api/stock/receipts", "received_on", 20051020),
    ("POST /api/stock/receipts", "received_on", "1129766400"),
    ("POST /api/stock/receipts", "received_on", True),
    ("POST /api/stock/receipts", "grn_number", 17),
    ("POST /api/stock/pledges", "quantity", "500"),
    ("POST /api/stock/pledges", "destination", True),
    ("POST /api/stock/pledges", "expected_on", 0),
    ("POST /api/stock/waybills", "from_site", True),
    ("POST /api/stock/waybills", "transport", 1),
    ("POST /api/stock/waybills/{waybill_id}/delivery", "lines.0.received", "10"),
    ("POST /api/stock/distributions", "lines.0.quantity", True),
    ("POST /api/stock/handovers", "organisation", True),
    ("POST /api/stock/losses", "lines.0.quantity", "5"),
    ("POST /api/stock/counts", "lines.0.counted", "3"),
    ("POST /api/stock/kits/assemble", "quantity", "2"),
    ("POST /api/stock/kits/break", "kit", True),
    ("POST /api/stock/movements/{movement_id}/reversal", "reason", 5),
    ("POST /api/households/households", "consent", 1),
    ("POST /api/households/households", "members.females_18_59", "1"),
    ("POST /api/households/households", "elderly_headed", "true"),
    ("POST /api/households/households", "registered_on", 0),
    ("POST /api/households/households/check", "members.males_0_5", True),
    ("PATCH /api/households/households/{household_id}", "members.females_0_5", "1"),
    ("POST /api/households/households/{household_id}/card", "reason", True),
    ("POST /api/households/duplicates/{pair_id}/decision", "same", 0),
    ("POST /api/households/rounds", "package.0.per_household", "2"),
    ("POST /api/households/rounds", "starts_on", 20051120),
    ("POST /api/households/rounds/{round_id}/status", "status", 1),
    ("POST /api/households/rounds/{round_id}/handovers", "partial", 1),
    ("POST /api/cluster/uploads", "preview", "true"),
    ("POST /api/cluster/needs", "preview", 1),
    ("POST /api/cluster/periods", "locked", 1),
]


@pytest.mark.parametrize(
    ("operation", "field", "value"), LOOSE_VALUES, ids=[f"{op} {f}={v!r}" for op, f, v in LOOSE_VALUES]
)
def test_a_value_of_another_json_type_is_refused_naming_its_field(
    reference, api_client, operation, field, value
):
    # given an admin and a valid request of the operation
    rule = ACCESS_RULES[operation]
    assert rule.body is not None
    if rule.given is not None:
        rule.given(reference)
    client = api_client(Role.ADMIN)
    body = _set(rule.body(reference), field, value)
    before = (AuditEvent.objects.count(), Movement.objects.count())
    # when one of its values is of another JSON type
    method, path = operation.split(" ", 1)
    response = client.generic(
        method, path.format(**rule.params(reference)), json.dumps(body), content_type="application/json"
    )
    # then it is refused, naming the field, and nothing is written
    assert response.status_code == 422, response.content
    assert [(p["row"], p["field"]) for p in response.json()["problems"]] == [(None, field)]
    assert (AuditEvent.objects.count(), Movement.objects.count()) == before


def test_a_day_is_taken_as_its_iso_text(reference, api_client):
    # given a receipt dated by its ISO text, and a waybill whose transport is a choice's text
    client = api_client(Role.ADMIN)
    body = ACCESS_RULES["POST /api/stock/receipts"].body(reference) | {"received_on": "2005-10-20"}
    received = client.post("/api/stock/receipts", json.dumps(body), content_type="application/json")
    # then they are taken
    assert received.status_code == 201, received.content
    assert received.json()["movement"]["occurred_on"] == "2005-10-20"
    waybill = {
        "from_site": reference.hub.code,
        "to_site": reference.other_hub.code,
        "dispatched_on": "2005-10-21",
        "transport": "helicopter",
        "lines": [{"item": reference.blanket.pk, "quantity": 5, "expiry": "2007-01-31"}],
    }
    sent = client.post("/api/stock/waybills", json.dumps(waybill), content_type="application/json")
    assert sent.status_code == 201, sent.content
    assert (sent.json()["waybill"]["transport"], sent.json()["waybill"]["dispatched_on"]) == (
        "helicopter",
        "2005-10-21",
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(
            "20051020", "'20051020' is not a date; write it as YYYY-MM-DD, e.g. 2005-10-08", id="basic-iso"
        ),
        pytest.param(
            "2005-10-20T00:00:00",
            "'2005-10-20T00:00:00' is not a date; write it as YYYY-MM-DD, e.g. 2005-10-08",
            id="time",
        ),
        pytest.param(
            1129766400, "1129766400 is not a date; write it as YYYY-MM-DD, e.g. 2005-10-08", id="timestamp"
        ),
        pytest.param(
            "2005-13-01",
            "'2005-13-01' is no day of the calendar: check the month and the day",
            id="no-such-month",
        ),
        pytest.param(
            "2005-02-30",
            "'2005-02-30' is no day of the calendar: check the month and the day",
            id="no-such-day",
        ),
    ],
)
def test_a_day_that_is_not_iso_text_is_refused(reference, api_client, value, reason):
    body = ACCESS_RULES["POST /api/stock/receipts"].body(reference) | {"received_on": value}
    response = api_client(Role.ADMIN).post(
        "/api/stock/receipts", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["field"] == "received_on"
    assert problem["reason"] == reason


def test_an_id_or_a_code_is_one_problem_of_its_field(reference, api_client):
    # given a site that is neither an id nor a code (a JSON boolean)
    body = ACCESS_RULES["POST /api/stock/receipts"].body(reference) | {"site": True}
    response = api_client(Role.ADMIN).post(
        "/api/stock/receipts", json.dumps(body), content_type="application/json"
    )
    # then the field is named once, not once per kind of reference it could have been
    assert response.json()["problems"] == [
        {
            "row": None,
            "field": "site",
            "reason": "Input should be an id (a whole number) or a code or name (a text)",
        }
    ]


def test_an_id_and_a_code_are_both_still_taken(reference, api_client):
    client: Client = api_client(Role.ADMIN)
    for site in (reference.hub.pk, reference.hub.code):
        body = ACCESS_RULES["POST /api/stock/receipts"].body(reference) | {
            "site": site,
            "grn_number": f"G-{site}",
        }
        response = client.post("/api/stock/receipts", json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content
        assert response.json()["movement"]["site"]["id"] == reference.hub.pk


# --- keys a body does not take ----------------------------------------------------------------------

UNKNOWN_KEYS = [
    pytest.param(
        "lines.0.quantty",
        f"unknown field: lines.0 takes only {', '.join(ReceiptLineIn.model_fields)}",
        id="a-misspelt-field-of-a-line",
    ),
    pytest.param(
        "receivedon",
        f"unknown field: the body takes only {', '.join(ReceiptIn.model_fields)}",
        id="a-misspelt-field-of-the-body",
    ),
]


@pytest.mark.parametrize(("field", "reason"), UNKNOWN_KEYS)
def test_a_key_the_body_does_not_take_is_refused_naming_it(reference, api_client, field, reason):
    # given an admin's valid receipt with one more key, misspelt (its line still has its quantity)
    rule = ACCESS_RULES["POST /api/stock/receipts"]
    body = _set(rule.body(reference), field, 7)
    client = api_client(Role.ADMIN)
    before = (AuditEvent.objects.count(), Movement.objects.count())
    # when it is posted
    response = client.post("/api/stock/receipts", json.dumps(body), content_type="application/json")
    # then it is refused, naming the key and the fields its object takes, and nothing is written
    assert response.status_code == 422, response.content
    assert response.json() == {
        "detail": "1 problem in the request; nothing was done",
        "problems": [{"row": None, "field": field, "reason": reason}],
    }
    assert (AuditEvent.objects.count(), Movement.objects.count()) == before


def test_unknown_keys_are_named_with_the_other_bad_values(reference, api_client):
    # given a receipt with a misspelt key, a value of the wrong type and a key of a nested object
    body = ACCESS_RULES["POST /api/stock/receipts"].body(reference)
    body = _set(_set(_set(body, "grn_numbr", "G-9"), "lines.0.quantity", "5"), "lines.0.unit", "bale")
    response = api_client(Role.ADMIN).post(
        "/api/stock/receipts", json.dumps(body), content_type="application/json"
    )
    # then every problem is named, each by its path
    assert response.status_code == 422
    assert sorted(p["field"] for p in response.json()["problems"]) == [
        "grn_numbr",
        "lines.0.quantity",
        "lines.0.unit",
    ]


def test_a_body_sent_to_an_operation_that_takes_none_is_refused(reference, api_client):
    # given a registration officer who starts a duplicate search (it takes no body) with options
    client = api_client(Role.ADMIN)
    response = client.post(
        "/api/households/duplicates/search", json.dumps({"all": True}), content_type="application/json"
    )
    # then the options are refused rather than passed over; nothing is started
    assert response.status_code == 422, response.content
    assert response.json()["problems"] == [
        {"row": None, "field": "all", "reason": "unknown field: this operation takes no body"}
    ]
    # and an empty object, or no body at all, is still taken
    for sent in ("{}", ""):
        started = client.generic(
            "POST", "/api/households/duplicates/search", sent, content_type="application/json"
        )
        assert started.status_code in (200, 202), started.content  # 200: the search already queued
