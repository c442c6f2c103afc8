"""The OpenAPI reference (/api/openapi.json, docs/api/openapi.json) and the interactive docs (/api/docs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema_rs
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from reliefops.core.management.commands.export_openapi import openapi_text

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "docs" / "api" / "openapi.json"


def test_committed_reference_is_current():
    # The committed reference is what the code produces now; a changed endpoint needs a refresh.
    assert COMMITTED.exists(), "docs/api/openapi.json is missing: run `make docs-api`"
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        "docs/api/openapi.json is out of date with the API: run `make docs-api` and commit the result"
    )


def test_export_openapi_writes_a_stable_sorted_schema(tmp_path):
    # when the schema is exported twice
    first, second = tmp_path / "a" / "openapi.json", tmp_path / "b.json"
    call_command("export_openapi", str(first))
    call_command("export_openapi", str(second))
    # then both files are the same bytes, with sorted keys
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_served_schema_is_the_exported_one(db):
    # the schema is public: it describes the API, not its data
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(openapi_text())


def test_schema_describes_every_operation_field_and_parameter():
    schema = json.loads(openapi_text())
    undescribed = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not operation.get("summary"):
                undescribed.append(f"{method.upper()} {path}: summary")
            undescribed += [
                f"{method.upper()} {path}: parameter {p['name']}"
                for p in operation.get("parameters", [])
                if not p.get("description") and p["in"] != "path"
            ]
    for name, component in schema["components"]["schemas"].items():
        if name.startswith("Paged"):  # generated wrappers of {items, count}
            continue
        undescribed += [
            f"{name}.{field}"
            for field, spec in component.get("properties", {}).items()
            if not spec.get("description")
        ]
    assert undescribed == []


def test_schema_declares_the_three_ways_to_authenticate():
    schemes = json.loads(openapi_text())["components"]["securitySchemes"]
    assert schemes == {
        "BearerToken": {"scheme": "bearer", "type": "http"},
        "TokenHeader": {"in": "header", "name": "X-API-Token", "type": "apiKey"},
        "SignedInSession": {"in": "cookie", "name": "sessionid", "type": "apiKey"},
    }


def test_docs_page_loads_nothing_from_another_host(db):
    # when
    response = Client().get("/api/docs")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, flags=re.IGNORECASE), html
    # the online validator (which would call validator.swagger.io) is switched off
    assert '"validatorUrl": null' in html


def test_docs_page_assets_are_served_by_the_app(db):
    # given the scripts, styles and icons the docs page references
    html = Client().get("/api/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets)
    assert any(a.endswith(".css") for a in assets)
    # then every one of them is a local path that the app itself serves
    for asset in assets:
        assert asset.startswith("/"), asset
        assert not asset.startswith("//"), asset
        response = Client().get(asset)
        assert response.status_code == 200, asset


def test_the_error_schema_says_problems_come_with_a_400_of_the_ledger_too():
    schema = json.loads(openapi_text())
    problems = schema["components"]["schemas"]["ErrorOut"]["properties"]["problems"]
    assert "400" in problems["description"]
    assert "only on 422" not in problems["description"]


def _operations_with_a_body() -> list[str]:
    schema = json.loads(openapi_text())
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    )


def _declared_schema(schema: dict, status: str, operation: dict) -> jsonschema_rs.Validator:
    """A validator of the JSON body an operation's reference declares for a status."""
    body = operation["responses"][status]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**body, "components": schema["components"]})


def test_every_operation_that_takes_a_body_declares_413_with_the_error_body():
    schema = json.loads(openapi_text())
    undeclared = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
        and operation["responses"].get("413", {}).get("content", {}).get("application/json", {}).get("schema")
        != {"$ref": "#/components/schemas/ErrorOut"}
    ]
    assert _operations_with_a_body(), "the API has operations that take a body"
    assert undeclared == []


def test_no_operation_without_a_body_declares_413():
    schema = json.loads(openapi_text())
    assert [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" not in operation and "413" in operation["responses"]
    ] == []


@pytest.mark.parametrize("operation", _operations_with_a_body())
def test_the_413_of_an_operation_is_the_body_its_reference_declares(db, operation):
    # given a body one byte over the server's limit, sent to an operation that takes a body
    schema = json.loads(openapi_text())
    method, path = operation.split(" ")
    declared = schema["paths"][path][method.lower()]
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    # when
    answer = Client().generic(method, re.sub(r"\{[^}]+\}", "1", path), body, content_type="application/json")
    # then the server answers 413 with the body the reference declares for it
    assert answer.status_code == 413
    assert answer["Content-Type"].startswith("application/json")
    errors = [e.message for e in _declared_schema(schema, "413", declared).iter_errors(answer.json())]
    assert errors == [], answer.json()
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes" in answer.json()["detail"]


def test_405_is_declared_once_as_a_shared_answer_with_its_allow_header(db):
    # given the reference's shared 405 answer
    schema = json.loads(openapi_text())
    shared = schema["components"]["responses"]["MethodNotAllowed"]
    assert "405" in schema["info"]["description"]
    assert "Allow" in shared["headers"]
    # when an address is asked with a method it has no operation for
    answer = Client().delete("/api/core/me")
    # then the answer is the shared one: its body and its Allow header
    assert answer.status_code == 405
    assert answer["Allow"] == "GET"
    validator = jsonschema_rs.validator_for(
        {**shared["content"]["application/json"]["schema"], "components": schema["components"]}
    )
    assert [e.message for e in validator.iter_errors(answer.json())] == []
