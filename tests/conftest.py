"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.test import Client

from reliefops.core.roles import Role
from tests.factories import make_user

# The browser fixtures (one Playwright and one Chromium per test worker), and the Kashmir 2005
# scenario loaded once per test run (`scenario_template`), for any folder's tests.
pytest_plugins = ["tests.browser.fixtures", "tests.scenario_template"]


@pytest.fixture
def user_of_role(db):
    """Make a signed-in-able user of a role: `user_of_role(Role.HUB_MANAGER, hubs=[site])`."""

    def make(role: Role, **scope):
        return make_user(role, **scope)

    return make


@pytest.fixture
def client_as(user_of_role):
    """A test client signed in as a fresh user of the given role."""

    def make(role: Role | None, **scope) -> Client:
        client = Client()
        if role is not None:
            client.force_login(user_of_role(role, **scope))
        return client

    return make
