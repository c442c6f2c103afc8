"""Fixtures of the stock entry points (API, web pages, CLI): clients of each role, stocked sites."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from reliefops.core.roles import Role
from reliefops.core.services import token_create
from reliefops.stock.services import StockLine, waybill_dispatch
from tests.factories import make_user
from tests.stock.conftest import DAY, receive


def scope_at(op, role: Role) -> dict[str, Any]:
    """Scoped roles work at the Balakot hub and its distribution point; nowhere else."""
    if role == Role.HUB_MANAGER:
        return {"hubs": [op.hub], "distribution_points": [op.point]}
    if role == Role.DISTRIBUTOR:
        return {"distribution_points": [op.point]}
    return {}


class Api:
    """A token client of the stock API that sends and reads JSON."""

    def __init__(self, client: Client, user) -> None:
        self.client = client
        self.user = user

    def get(self, path: str, params: dict[str, Any] | None = None):
        return self.client.get(f"/api/stock{path}", params or {})

    def post(self, path: str, body: dict[str, Any], key: str | None = None):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return self.client.post(
            f"/api/stock{path}", json.dumps(body, default=str), content_type="application/json", **headers
        )


@pytest.fixture
def api_as(op):
    """`api_as(Role.HUB_MANAGER)`: a token client of a new user of the role, scoped as in `scope_at`."""

    def make(role: Role) -> Api:
        user = make_user(role, **scope_at(op, role))
        _, plain = token_create(actor=None, username=user.get_username(), name="test")
        return Api(Client(HTTP_AUTHORIZATION=f"Bearer {plain}"), user)

    return make


@pytest.fixture
def admin_api(api_as) -> Api:
    return api_as(Role.ADMIN)


@pytest.fixture
def manager_api(api_as) -> Api:
    return api_as(Role.HUB_MANAGER)


@pytest.fixture
def manager(op) -> str:
    """The username of a hub manager scoped as in `scope_at` (for the command line)."""
    return make_user(Role.HUB_MANAGER, **scope_at(op, Role.HUB_MANAGER)).username


@pytest.fixture
def admin(op) -> str:
    """The username of an administrator (for the command line)."""
    return make_user(Role.ADMIN).username


@pytest.fixture
def web_as(op):
    """`web_as(Role.HUB_MANAGER)`: a browser client signed in as a new user of the role."""

    def make(role: Role) -> Client:
        client = Client()
        client.force_login(make_user(role, **scope_at(op, role)))
        return client

    return make


@pytest.fixture
def stocked(op):
    """500 blankets (DFID) at the warehouse, 200 blankets (DFID) and 50 buckets (ECHO) at the hub,
    100 blankets (ECHO) at the distribution point."""
    receive(op, op.warehouse, op.blanket, 500, op.dfid, "GRN-W1")
    receive(op, op.hub, op.blanket, 200, op.dfid, "GRN-H1")
    receive(op, op.hub, op.bucket, 50, op.echo, "GRN-H2")
    receive(op, op.point, op.blanket, 100, op.echo, "GRN-P1")
    return op


@pytest.fixture
def waybill(stocked):
    """A truck of 120 blankets from the warehouse to the hub, in transit since DAY."""
    op = stocked
    return waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=120)],
        dispatched_on=DAY,
        expected_on=DAY + dt.timedelta(days=2),
        vehicle="LES-4411",
        driver="Gul Khan",
    ).waybill
