"""A refused value is named one way, whoever refused it: the schema (a value of the wrong type, a
missing field) or a service (an unknown item, a quantity of zero, more than a site holds).

In the problems of a 422 (and of a 400 refused by a rule of the ledger), `field` is the value's path
in the JSON body, lists counted from 0 (`lines.0.quantity`), or the name of a query parameter, a
path parameter or a header (`limit`, `waybill_id`, `Idempotency-Key`); `row` is null. Only the
problems of an uploaded file's lines give the file's line in `row` and its column in `field`."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from reliefops.core.roles import Role
from reliefops.places.models import SiteKind
from tests.api.conftest import Reference, scope_for
from tests.api.test_permissions import ACCESS_RULES, _receive
from tests.factories import ItemFactory, SiteFactory
from tests.households import permission_setup as hh

README = Path(__file__).resolve().parents[2] / "docs" / "api" / "README.md"


def _post(client: Client, path: str, body: Any, **headers: str):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def _named(response) -> list[tuple[int | None, str]]:
    return [(p["row"], p["field"]) for p in response.json()["problems"]]


@pytest.fixture
def admin(api_client) -> Client:
    return api_client(Role.ADMIN)


def _receipt(ref: Reference, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"site": ref.hub.code, "grant": ref.grant.reference, "grn_number": "G-1", "lines": list(lines)}


# --- the same field, refused by the schema or by a service --------------------------------------


@pytest.mark.parametrize(
    ("line", "refused_by"),
    [
        pytest.param({"item": "BLANKET", "quantity": "many"}, "the schema", id="schema-not-a-number"),
        pytest.param({"item": "BLANKET"}, "the schema", id="schema-missing"),
        pytest.param({"item": "BLANKET", "quantity": 0}, "the ledger", id="service-zero"),
        pytest.param({"item": "BLANKET", "quantity": -3}, "the ledger", id="service-negative"),
    ],
)
def test_a_lines_quantity_is_named_by_its_path_whoever_refuses_it(reference, admin, line, refused_by):
    # given a receipt whose second line's quantity is refused by the schema or by the ledger
    response = _post(
        admin, "/api/stock/receipts", _receipt(reference, {"item": "TARPAULIN", "quantity": 5}, line)
    )
    # then the problem names the quantity of the line counted from 0, with no row
    assert response.status_code == 422, response.content
    assert _named(response) == [(None, "lines.1.quantity")], refused_by


def test_a_lines_item_is_named_by_its_path_whoever_refuses_it(reference, admin):
    # an item the schema refuses (a boolean) and an item no one knows, on two lines of one request
    by_schema = _post(admin, "/api/stock/receipts", _receipt(reference, {"item": True, "quantity": 1}))
    by_service = _post(
        admin,
        "/api/stock/receipts",
        _receipt(reference, {"item": "BLANKET", "quantity": 1}, {"item": "NOPE", "quantity": 1}),
    )
    assert _named(by_schema) == [(None, "lines.0.item")]
    assert by_service.json()["problems"] == [
        {"row": None, "field": "lines.1.item", "reason": "unknown item 'NOPE'"}
    ]


def test_every_line_of_a_refused_posting_is_named_by_its_path(reference, admin):
    # given a count of three lines, two of them wrong in different ways
    body = {
        "site": reference.hub.code,
        "lines": [
            {"item": "BLANKET", "counted": 3},
            {"item": "NOPE", "counted": 1},
            {"item": "TARPAULIN", "counted": -1},
        ],
    }
    response = _post(admin, "/api/stock/counts", body)
    assert response.status_code == 422
    assert _named(response) == [(None, "lines.1.item"), (None, "lines.2.counted")]


def test_an_overdraw_refused_by_the_ledger_names_the_quantity_of_its_line(reference, admin):
    # given a hub holding 10 blankets, and a distribution of 3 tarpaulins and 50 blankets there
    _receive(reference, reference.hub, reference.blanket, 10, "GRN-1")
    _receive(reference, reference.hub, reference.tarpaulin, 10, "GRN-2")
    body = {
        "site": reference.hub.code,
        "lines": [{"item": "TARPAULIN", "quantity": 3}, {"item": "BLANKET", "quantity": 50}],
    }
    response = _post(admin, "/api/stock/distributions", body)
    # then the rule of the ledger (400) names the second line's quantity
    assert response.status_code == 400, response.content
    assert _named(response) == [(None, "lines.1.quantity")]
    assert "has 10 blankets" in response.json()["problems"][0]["reason"].lower()


def test_a_delivery_names_its_lines_by_path(reference, admin):
    rule = ACCESS_RULES["POST /api/stock/waybills/{waybill_id}/delivery"]
    rule.given(reference)
    body = {"lines": [{"item": "BLANKET", "received": 4}]}  # 6 short, and no reason said
    response = _post(
        admin, "/api/stock/waybills/{waybill_id}/delivery".format(**rule.params(reference)), body
    )
    assert response.status_code == 422, response.content
    assert _named(response) == [(None, "lines.0.short_reason")]


def test_a_header_is_named_as_it_is_sent(reference, admin):
    body = _receipt(reference, {"item": "BLANKET", "quantity": 5})
    response = _post(admin, "/api/stock/receipts", body, HTTP_IDEMPOTENCY_KEY="k" * 81)
    assert response.status_code == 422
    assert _named(response) == [(None, "Idempotency-Key")]


# --- parameters are named by their names -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        pytest.param("/api/places/admin-areas?level=galaxy&limit=0", ["level", "limit"], id="schema-query"),
        pytest.param("/api/places/sites?admin_area=PK999", ["admin_area"], id="handler-query"),
        pytest.param("/api/stock/movements?start=2005-11-02&end=2005-11-01", ["start"], id="service-query"),
        pytest.param("/api/stock/movements?start=yesterday", ["start"], id="schema-query-day"),
        pytest.param("/api/stock/waybills?item=NOPE", ["item"], id="unknown-item-filter"),
        pytest.param(
            "/api/households/households?status=gone&area=PK999", ["status", "area"], id="households"
        ),
        pytest.param("/api/cluster/rows?within=PK999", ["within"], id="cluster-service-query"),
        pytest.param("/api/stock/waybills/first", ["waybill_id"], id="path"),
    ],
)
def test_a_parameter_is_named_by_its_name(reference, admin, url, fields):
    response = admin.get(url)
    assert response.status_code == 422, response.content
    assert _named(response) == [(None, field) for field in fields]


# --- households: points, package lines and age bands -------------------------------------------------


def test_a_rounds_points_and_package_lines_are_named_by_their_paths(reference, api_client):
    registrar = api_client(Role.REGISTRAR)
    body = hh.round_body(reference) | {
        "code": "WR-9",
        "points": [{"site": reference.point.code}, {"site": "NOWHERE"}],
        "package": [{"item": "BLANKET", "per_household": 2}, {"item": "NOPE", "per_member": -1}],
    }
    refused = _post(registrar, "/api/households/rounds", body)
    assert refused.status_code == 422, refused.content
    assert _named(refused) == [
        (None, "points.1.site"),
        (None, "package.1.item"),
        (None, "package.1.per_member"),
    ]
    # and a value of the wrong type in the same place is named the same way by the schema
    typed = _post(
        registrar, "/api/households/rounds", body | {"package": [{"item": "BLANKET", "per_member": "1"}]}
    )
    assert _named(typed) == [(None, "package.0.per_member")]


def test_a_households_age_band_is_named_by_its_path_whoever_refuses_it(reference, api_client):
    registrar = api_client(Role.REGISTRAR)
    members = {"females_18_59": 1, "males_0_5": -2}
    by_service = _post(registrar, "/api/households/households", hh.registration(reference, members=members))
    by_schema = _post(
        registrar, "/api/households/households", hh.registration(reference, members={"males_0_5": "2"})
    )
    checked = _post(
        registrar, "/api/households/households/check", hh.registration(reference, members=members)
    )
    assert by_service.status_code == 422, by_service.content
    assert _named(by_service) == [(None, "members.males_0_5")]
    assert _named(by_schema) == [(None, "members.males_0_5")]
    # the check answers its problems in a 200, named the same way
    assert [(p["row"], p["field"]) for p in checked.json()["problems"]] == [(None, "members.males_0_5")]


def test_a_correction_names_an_age_band_by_its_path(reference, api_client):
    hh.a_household(reference)
    registrar = api_client(Role.REGISTRAR, **scope_for(Role.REGISTRAR, reference))
    path = "/api/households/households/{household_id}".format(**hh.the_household(reference))
    body = {"reason": "recounted", "members": {"females_0_5": -1}}
    response = registrar.patch(path, json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    assert _named(response) == [(None, "members.females_0_5")]


def test_an_uploaded_files_lines_keep_their_row_and_column(reference, api_client):
    # given a registration file whose first household has a sex the file format does not know
    csv = (
        "head_name,head_sex,females_18_59,origin,house_damage,consent\n"
        f"Zainab Bibi,unknown,1,{reference.tehsil.pcode},destroyed,yes\n"
    )
    body = {"filename": "households.csv", "content_base64": base64.b64encode(csv.encode()).decode()}
    response = _post(api_client(Role.REGISTRAR), "/api/households/imports", body)
    # then the problem is of the file's line 2, column head_sex
    assert response.status_code == 422, response.content
    assert _named(response) == [(2, "head_sex")]


# --- the reference's example ---------------------------------------------------------------------


def _refused_examples() -> list[tuple[str, str | None, str]]:
    """(url, body or None, answer) of each refused request the reference shows with its answer."""
    text = README.read_text(encoding="utf-8")
    examples = []
    # a command (its lines continued by a backslash), then the answer on the lines right below it
    pattern = r"\$ (curl (?:[^\n]*\\\n)*[^\n]*)\n(\{\"detail\".*?\]\})\n"
    for command, answer in re.findall(pattern, text, re.S):
        command = command.replace("\\\n", " ")
        url = re.search(r'"http://127\.0\.0\.1:8000(/api/[^"]+)"', command)
        body = re.search(r"-d '([^']*)'", command)
        assert url, command
        examples.append((url.group(1), body.group(1) if body else None, answer))
    return examples


def test_the_api_reference_shows_refused_requests():
    assert len(_refused_examples()) >= 2


@pytest.mark.parametrize(("url", "body", "answer"), _refused_examples())
def test_the_api_references_examples_of_refused_requests_are_what_the_api_answers(
    reference, admin, url, body, answer
):
    # given the names the reference's examples use (the demo's Balakot hub, its items)
    SiteFactory(code="BLK-HUB", name="Balakot hub", kind=SiteKind.HUB, admin_area=reference.tehsil)
    ItemFactory(code="QUILT", name="Quilt")
    # when the request shown is made
    response = admin.get(url) if body is None else admin.post(url, body, content_type="application/json")
    # then the answer is the one shown, field for field
    assert response.status_code in (400, 422)
    assert response.json() == json.loads(answer)
