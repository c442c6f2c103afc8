"""GET /api/core/me: the caller's own identity, role and rights."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from reliefops.core.roles import ROLE_RIGHTS, Role
from tests.factories import OrganisationFactory, make_user


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_me_reports_role_and_its_rights(db, token_for, role):
    # given
    user = make_user(role)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    # when
    response = client.get("/api/core/me")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "username": user.get_username(),
        "role": role.value,
        "organisation_id": None,
        "rights": sorted(r.value for r in ROLE_RIGHTS[role]),
    }


def test_me_reports_the_callers_organisation(db, token_for):
    organisation = OrganisationFactory()
    user = make_user(Role.PARTNER_REPORTER, organisation=organisation)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    assert client.get("/api/core/me").json()["organisation_id"] == organisation.pk


def test_me_without_a_role_has_no_rights(db, token_for):
    user = get_user_model().objects.create_user(username="norole", password="correct-horse-battery")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    assert client.get("/api/core/me").json() == {
        "username": "norole",
        "role": "",
        "organisation_id": None,
        "rights": [],
    }


def test_me_works_with_a_session(db, client_as):
    assert client_as(Role.COORDINATOR).get("/api/core/me").json()["role"] == "coordinator"


def test_me_needs_authentication(db):
    assert Client().get("/api/core/me").status_code == 401
