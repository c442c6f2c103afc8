"""Every status the API answers is one its reference declares for the operation: a client generated
from the reference knows each answer it can get. Each operation of the reference is sent requests
whose answer is known (no credentials, a parameter it does not take, a body that is not JSON, a
write by a role without the right), and each answer's status is looked up in its declared
responses."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from reliefops.core.management.commands.export_openapi import openapi_text
from reliefops.core.roles import Role

SCHEMA = json.loads(openapi_text())
OPERATIONS = sorted(
    f"{method.upper()} {path}" for path, operations in SCHEMA["paths"].items() for method in operations
)


def _known_answers(operation: str, admin: Client, viewer: Client) -> list[tuple[str, int, int | None]]:
    """(what was sent, the status answered, the status it must be, or None when it depends on the
    data) for each request the operation is sent."""
    method, path = operation.split(" ")
    declared = SCHEMA["paths"][path][method.lower()]
    url = re.sub(
        r"\{[^}]+\}", "1", path
    )  # the id or code 1: every request here is refused before it is looked up
    sent = [
        ("no credentials", Client().generic(method, url).status_code, 401),
        (
            "a parameter it does not take",
            admin.generic(method, f"{url}?no_such_parameter=1").status_code,
            422,
        ),
        (
            "a viewer's request",
            viewer.generic(method, url).status_code,
            403 if "x-right" in declared else None,
        ),
    ]
    if "requestBody" in declared:
        not_json = admin.generic(method, url, "{not json", content_type="application/json")
        sent.append(("a body that is not JSON", not_json.status_code, 400))
    return sent


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_answer_of_an_operation_is_declared_in_its_reference(api_client, operation):
    # given an admin, who holds every right, and a viewer, who may write nothing
    admin, viewer = api_client(Role.ADMIN), api_client(Role.VIEWER)
    method, path = operation.split(" ")
    declared = set(SCHEMA["paths"][path][method.lower()]["responses"])
    # when the operation is sent requests whose answers are known
    answers = _known_answers(operation, admin, viewer)
    # then each is answered as expected, with a status the operation's reference declares
    assert [(what, status) for what, status, expected in answers if expected not in (None, status)] == []
    assert [(what, status) for what, status, _ in answers if str(status) not in declared] == []


def test_households_check_declares_the_400_of_a_body_that_is_not_json():
    responses = SCHEMA["paths"]["/api/households/households/check"]["post"]["responses"]
    assert responses["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
