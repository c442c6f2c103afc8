"""Fixtures of the web tests: the Kashmir slice and a signed-in user without a role."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.web.scenario import build_kashmir


@pytest.fixture
def kashmir(db):
    return build_kashmir()


@pytest.fixture
def unprofiled_client(db):
    """A client signed in as a user without a role (made outside the service, as a stray account)."""
    user = get_user_model().objects.create_user(username="stray", password="correct-horse-battery")
    client = Client()
    client.force_login(user)
    return client
