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

A rule may also name `given`, a function that sets up what the call needs (stock at a site, a
waybill in transit) before it is made.

The expected status is then: anonymous 401; a user without a role 403 (200 if `right` is None);
a role that lacks `right` 403; a role listed in `scoped` that status; any other role `ok`.
With `missing` params, whoever holds the right gets 404 (whatever the scope) and whoever does not
still gets 403, so the API does not tell outsiders which objects exist. Test users of scoped roles work at
`ref.hub` and `ref.point` (see `scope_for` in conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from reliefops.api import api
from reliefops.core.roles import Right, Role, role_has
from reliefops.core.services import token_create
from reliefops.stock.models import Movement, Pledge, Waybill
from reliefops.stock.services import ReceiptLine, StockLine, pledge_create, stock_receive, waybill_dispatch
from tests.api.conftest import ANONYMOUS, CALLERS, NO_ROLE, Reference, make_reference, user_for
from tests.cluster import permission_setup as cl
from tests.households import permission_setup as hh
from tests.module_data import kept_for_the_module

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
    given: Callable[[Reference], None] | None = None  # sets up what the call needs, before it


# --- what the stock endpoints need before they are called -----------------------------------------

STOCK_DAY = dt.date(2005, 10, 20)
_LINES = [{"item": "BLANKET", "quantity": 5}]


def _receive(ref: Reference, site: Any, item: Any, quantity: int, grn: str) -> None:
    stock_receive(
        actor=None,
        site_id=site.pk,
        grant_id=ref.grant.pk,
        grn_number=grn,
        received_on=STOCK_DAY,
        lines=[ReceiptLine(item_id=item.pk, quantity=quantity)],
    )


def _stock_at_hub(ref: Reference) -> None:
    _receive(ref, ref.hub, ref.blanket, 100, "GRN-HUB-1")
    _receive(ref, ref.hub, ref.tarpaulin, 100, "GRN-HUB-2")
    _receive(ref, ref.hub, ref.kit.item, 10, "GRN-HUB-3")


def _stock_at_point(ref: Reference) -> None:
    _receive(ref, ref.point, ref.blanket, 100, "GRN-POINT-1")


def _stock_at_point_and_a_partner(ref: Reference) -> None:
    """Stock at the point, and a partner to hand it over to (not the operation's own organisation)."""
    from reliefops.partners.models import OrganisationType
    from tests.factories import OrganisationFactory

    _stock_at_point(ref)
    OrganisationFactory(name="Norwegian Refugee Council", acronym="NRC", type=OrganisationType.INGO)


def _waybill_to_hub(ref: Reference) -> None:
    _receive(ref, ref.other_hub, ref.blanket, 100, "GRN-OTHER-1")
    waybill_dispatch(
        actor=None,
        from_site_id=ref.other_hub.pk,
        to_site_id=ref.hub.pk,
        lines=[StockLine(item_id=ref.blanket.pk, quantity=10)],
        dispatched_on=STOCK_DAY,
    )


def _pledge_to_hub(ref: Reference) -> None:
    pledge_create(
        actor=None,
        grant_id=ref.grant.pk,
        item_id=ref.blanket.pk,
        quantity=500,
        destination_site_id=ref.hub.pk,
        expected_on=STOCK_DAY,
    )


def _the_pledge(ref: Reference) -> dict[str, Any]:
    return {"pledge_id": Pledge.objects.get().pk}


def _the_waybill(ref: Reference) -> dict[str, Any]:
    return {"waybill_id": Waybill.objects.get().pk}


def _a_receipt_at_hub(ref: Reference) -> dict[str, Any]:
    return {"movement_id": Movement.objects.filter(site=ref.hub).order_by("pk").first().pk}


ACCESS_RULES: dict[str, Access] = {
    # core
    "GET /api/core/me": Access(None),
    "GET /api/core/jobs": Access(Right.VIEW_REFERENCE),
    # Jobs are their owner's: another user's job, or none, answers 404 to any role.
    "GET /api/core/jobs/{job_id}": Access(
        Right.VIEW_REFERENCE, params=lambda ref: {"job_id": 0}, missing=lambda ref: {"job_id": 0}, ok=404
    ),
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
    # stock: postings (scoped users work at ref.hub and ref.point)
    "POST /api/stock/receipts": Access(
        Right.POST_STOCK,
        body=lambda ref: {
            "site": ref.hub.code,
            "grant": ref.grant.reference,
            "grn_number": "G-1",
            "lines": _LINES,
        },
        ok=201,
    ),
    "POST /api/stock/pledges": Access(
        Right.POST_STOCK,
        body=lambda ref: {
            "grant": ref.grant.reference,
            "item": "BLANKET",
            "quantity": 500,
            "destination": ref.hub.pk,
            "expected_on": "2005-11-01",
        },
        ok=201,
    ),
    "POST /api/stock/pledges/{pledge_id}/cancellation": Access(
        Right.POST_STOCK,
        given=_pledge_to_hub,
        params=_the_pledge,
        missing=lambda ref: {"pledge_id": 0},
        body=lambda ref: {"reason": "the donor will not send it"},
    ),
    "POST /api/stock/waybills": Access(
        Right.POST_STOCK,
        given=_stock_at_hub,
        body=lambda ref: {"from_site": ref.hub.pk, "to_site": ref.other_hub.code, "lines": _LINES},
        ok=201,
    ),
    "POST /api/stock/waybills/{waybill_id}/delivery": Access(
        Right.POST_STOCK,
        given=_waybill_to_hub,
        params=_the_waybill,
        missing=lambda ref: {"waybill_id": 0},
        body=lambda ref: {"lines": [{"item": "BLANKET", "received": 10}]},
        ok=201,
    ),
    "POST /api/stock/distributions": Access(
        Right.DISTRIBUTE,
        given=_stock_at_point,
        body=lambda ref: {"site": ref.point.code, "lines": _LINES},
        ok=201,
    ),
    "POST /api/stock/handovers": Access(
        Right.DISTRIBUTE,
        given=_stock_at_point_and_a_partner,
        body=lambda ref: {"site": ref.point.code, "organisation": "NRC", "lines": _LINES},
        ok=201,
    ),
    "POST /api/stock/losses": Access(
        Right.POST_STOCK,
        given=_stock_at_hub,
        body=lambda ref: {
            "site": ref.hub.code,
            "reason": "weather",
            "note": "roof torn off",
            "lines": _LINES,
        },
        ok=201,
    ),
    "POST /api/stock/counts": Access(
        Right.POST_STOCK,
        body=lambda ref: {"site": ref.hub.code, "lines": [{"item": "BLANKET", "counted": 3}]},
        ok=201,
    ),
    "POST /api/stock/kits/assemble": Access(
        Right.POST_STOCK,
        given=_stock_at_hub,
        body=lambda ref: {"site": ref.hub.code, "kit": ref.kit.item.code, "quantity": 2},
        ok=201,
    ),
    "POST /api/stock/kits/break": Access(
        Right.POST_STOCK,
        given=_stock_at_hub,
        body=lambda ref: {"site": ref.hub.code, "kit": ref.kit.item.code, "quantity": 2},
        ok=201,
    ),
    "POST /api/stock/movements/{movement_id}/reversal": Access(
        Right.POST_STOCK,
        given=_stock_at_hub,
        params=_a_receipt_at_hub,
        missing=lambda ref: {"movement_id": 0},
        body=lambda ref: {"reason": "posted twice"},
        ok=201,
    ),
    # stock: reads (hub managers see their own sites; the donor report adds up every site)
    "GET /api/stock/on-hand": Access(Right.VIEW_STOCK, given=_stock_at_hub),
    "GET /api/stock/sites/{site}/items/{code}/card": Access(
        Right.VIEW_STOCK,
        given=_stock_at_hub,
        params=lambda ref: {"site": ref.hub.code, "code": "BLANKET"},
        missing=lambda ref: {"site": "NONE", "code": "BLANKET"},
    ),
    "GET /api/stock/pipeline": Access(Right.VIEW_STOCK, given=_waybill_to_hub),
    "GET /api/stock/grants/{grant}/report": Access(
        Right.VIEW_STOCK,
        given=_stock_at_hub,
        params=lambda ref: {"grant": ref.grant.reference},
        missing=lambda ref: {"grant": "NONE"},
        scoped={Role.HUB_MANAGER: 403},
    ),
    "GET /api/stock/distributed": Access(Right.VIEW_STOCK),
    "GET /api/stock/waybills": Access(Right.VIEW_STOCK, given=_waybill_to_hub),
    "GET /api/stock/waybills/{waybill_id}": Access(
        Right.VIEW_STOCK,
        given=_waybill_to_hub,
        params=_the_waybill,
        missing=lambda ref: {"waybill_id": 0},
    ),
    "GET /api/stock/movements": Access(Right.VIEW_STOCK, given=_stock_at_hub),
    "GET /api/stock/movements/{movement_id}": Access(
        Right.VIEW_STOCK,
        given=_stock_at_hub,
        params=_a_receipt_at_hub,
        missing=lambda ref: {"movement_id": 0},
    ),
    # households: counts for every role; personal data for registrars and admins; distribution lists
    # (names, card tokens) and handovers at the caller's own points (scoped users work at ref.point)
    "GET /api/households/counts": Access(Right.VIEW_HOUSEHOLD_COUNTS, given=hh.a_household),
    "GET /api/households/households": Access(Right.VIEW_PERSONAL_DATA, given=hh.a_household),
    "GET /api/households/households/export": Access(Right.VIEW_PERSONAL_DATA, given=hh.a_household),
    "GET /api/households/households/{household_id}": Access(
        Right.VIEW_PERSONAL_DATA,
        given=hh.a_household,
        params=hh.the_household,
        missing=lambda ref: {"household_id": 0},
    ),
    "POST /api/households/households": Access(Right.REGISTER_HOUSEHOLDS, body=hh.registration, ok=201),
    "POST /api/households/households/check": Access(Right.REGISTER_HOUSEHOLDS, body=hh.registration),
    "PATCH /api/households/households/{household_id}": Access(
        Right.REGISTER_HOUSEHOLDS,
        given=hh.a_household,
        params=hh.the_household,
        missing=lambda ref: {"household_id": 0},
        body=lambda ref: {"reason": "the baby was not counted", "members": {"females_0_5": 1}},
    ),
    "POST /api/households/households/{household_id}/card": Access(
        Right.REGISTER_HOUSEHOLDS,
        given=hh.a_household,
        params=hh.the_household,
        missing=lambda ref: {"household_id": 0},
        body=lambda ref: {"reason": "lost"},
        ok=201,
    ),
    "POST /api/households/imports": Access(Right.REGISTER_HOUSEHOLDS, body=hh.import_body, ok=201),
    "GET /api/households/imports/{import_id}": Access(
        Right.REGISTER_HOUSEHOLDS, given=hh.a_preview, params=hh.the_import, missing=hh.no_import
    ),
    "POST /api/households/imports/{import_id}/commit": Access(
        Right.REGISTER_HOUSEHOLDS, given=hh.a_preview, params=hh.the_import, missing=hh.no_import
    ),
    "GET /api/households/duplicates": Access(Right.REGISTER_HOUSEHOLDS, given=hh.a_pair),
    "POST /api/households/duplicates/search": Access(Right.REGISTER_HOUSEHOLDS, ok=202),
    "POST /api/households/import-jobs": Access(Right.REGISTER_HOUSEHOLDS, body=hh.import_body, ok=202),
    "POST /api/households/imports/{import_id}/commit-job": Access(
        Right.REGISTER_HOUSEHOLDS, given=hh.a_preview, params=hh.the_import, missing=hh.no_import, ok=202
    ),
    "POST /api/households/duplicates/{pair_id}/decision": Access(
        Right.REGISTER_HOUSEHOLDS,
        given=hh.a_pair,
        params=hh.the_pair,
        missing=lambda ref: {"pair_id": 0},
        body=lambda ref: {"same": False},
    ),
    "GET /api/households/rounds": Access(Right.VIEW_HOUSEHOLD_COUNTS, given=hh.an_open_round),
    "POST /api/households/rounds": Access(Right.MANAGE_ROUNDS, body=hh.round_body, ok=201),
    "GET /api/households/rounds/{round_id}": Access(
        Right.VIEW_HOUSEHOLD_COUNTS, given=hh.an_open_round, params=hh.the_round, missing=hh.no_round
    ),
    "POST /api/households/rounds/{round_id}/list": Access(
        Right.MANAGE_ROUNDS, given=hh.an_open_round, params=hh.the_round, missing=hh.no_round
    ),
    "POST /api/households/rounds/{round_id}/status": Access(
        Right.MANAGE_ROUNDS,
        given=hh.an_open_round,
        params=hh.the_round,
        missing=hh.no_round,
        body=lambda ref: {"status": "closed"},
    ),
    "POST /api/households/rounds/{round_id}/list/removals": Access(
        Right.MANAGE_ROUNDS,
        given=hh.an_open_round,
        params=hh.the_round,
        missing=hh.no_round,
        body=hh.unlist_body,
    ),
    "POST /api/households/rounds/{round_id}/cards": Access(
        Right.MANAGE_ROUNDS, given=hh.an_open_round, params=hh.the_round, missing=hh.no_round
    ),
    "GET /api/households/rounds/{round_id}/distribution-list": Access(
        Right.VIEW_DISTRIBUTION_LISTS,
        given=hh.an_open_round,
        params=hh.the_round,
        missing=hh.no_round,
    ),
    "POST /api/households/rounds/{round_id}/handovers": Access(
        Right.DISTRIBUTE,
        given=hh.an_open_round,
        params=hh.the_round,
        missing=hh.no_round,
        body=hh.handover_body,
        ok=201,
    ),
    "GET /api/households/rounds/{round_id}/reconciliation": Access(
        Right.VIEW_HOUSEHOLD_COUNTS, given=hh.an_open_round, params=hh.the_round, missing=hh.no_round
    ),
    # cluster: aggregates for VIEW_CLUSTER; rows, uploads and batches for REPORT_ACTIVITIES (a partner
    # reporter's own organisation's: the matrix's reporter works for IOM); periods for MANAGE_CLUSTER
    "POST /api/cluster/uploads": Access(
        Right.REPORT_ACTIVITIES, given=cl.activity_types, body=cl.upload_body, ok=201
    ),
    "POST /api/cluster/upload-jobs": Access(
        Right.REPORT_ACTIVITIES, given=cl.activity_types, body=cl.upload_body, ok=202
    ),
    "GET /api/cluster/rows": Access(Right.REPORT_ACTIVITIES, given=cl.iom_batch),
    "GET /api/cluster/batches": Access(Right.REPORT_ACTIVITIES, given=cl.iom_batch),
    "GET /api/cluster/batches/{batch_id}": Access(
        Right.REPORT_ACTIVITIES, given=cl.iom_batch, params=cl.the_batch, missing=cl.no_batch
    ),
    "POST /api/cluster/batches/{batch_id}/revert": Access(
        Right.REPORT_ACTIVITIES, given=cl.iom_batch, params=cl.the_batch, missing=cl.no_batch
    ),
    "GET /api/cluster/gaps": Access(Right.VIEW_CLUSTER, given=cl.iom_batch),
    "GET /api/cluster/matrix": Access(Right.VIEW_CLUSTER, given=cl.iom_batch),
    "GET /api/cluster/totals": Access(Right.VIEW_CLUSTER, given=cl.iom_batch),
    "GET /api/cluster/needs": Access(Right.VIEW_CLUSTER),
    "POST /api/cluster/needs": Access(Right.MANAGE_CLUSTER, body=cl.needs_body, ok=201),
    "GET /api/cluster/activity-types": Access(Right.VIEW_REFERENCE, given=cl.activity_types),
    "GET /api/cluster/periods": Access(Right.VIEW_CLUSTER),
    "POST /api/cluster/periods": Access(
        Right.MANAGE_CLUSTER, body=lambda ref: {"month": "2005-11", "locked": True}
    ),
}

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


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


def _token(caller: str, reference: Reference) -> str:
    """The plain API token of a new user who calls as `caller` (not anonymous)."""
    return token_create(actor=None, username=user_for(caller, reference).get_username(), name="test")[1]


@dataclass
class Callers:
    """The reference objects and a token of each caller, made once for the module (nearly a thousand
    tests use them; each test's own changes are rolled back after it, see tests/module_data.py)."""

    reference: Reference
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def callers(django_db_setup, django_db_blocker) -> Iterator[Callers]:
    with kept_for_the_module(django_db_blocker):
        reference = make_reference()
        yield Callers(
            reference, {caller: _token(caller, reference) for caller in CALLERS if caller != ANONYMOUS}
        )


@pytest.fixture
def reference(db, callers) -> Reference:
    return callers.reference


def _client(caller: str, callers: Callers) -> Client:
    if caller == ANONYMOUS:
        return Client()
    return Client(HTTP_AUTHORIZATION=f"Bearer {callers.tokens[caller]}")


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
def test_access_matrix(reference, callers, operation, caller):
    # given the operation's declared rule and a caller
    rule = _rule(operation)
    client = _client(caller, callers)
    if rule.given is not None:
        rule.given(reference)
    # when the caller calls it on an object every caller may reach
    response = _call(client, operation, rule, rule.params(reference), reference)
    # then the status is the one the rule gives
    assert response.status_code == _expected(rule, caller), response.content
    if response.status_code in {401, 403, 404}:
        assert response.json()["detail"]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", OPERATIONS_WITH_PARAMS)
def test_unknown_object_is_404_only_to_callers_who_may_look(reference, callers, operation, caller):
    # given the operation's declared rule and a caller
    rule = _rule(operation)
    if rule.missing is None:
        pytest.fail(f"declare `missing` path parameters for {operation} in ACCESS_RULES of {__name__}")
    client = _client(caller, callers)
    if rule.given is not None:
        rule.given(reference)
    # when the caller names an object that does not exist
    response = _call(client, operation, rule, rule.missing(reference), reference)
    # then whoever may use the endpoint learns it is missing; whoever may not is refused first
    assert response.status_code == _expected_for_missing_object(rule, caller), response.content
