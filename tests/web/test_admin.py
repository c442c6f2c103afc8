"""The Django admin: every model of core, places, partners and catalog, read-only, for admins only."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from reliefops.core.admin import ReadOnlyAdmin
from reliefops.core.models import ApiToken
from reliefops.core.roles import Role
from reliefops.core.services import token_create
from reliefops.households.jobs import duplicates_run_start
from reliefops.households.matching import LIKELY_DUPLICATE

APP_LABELS = ["core", "places", "partners", "catalog"]
MODELS = [model for label in APP_LABELS for model in apps.get_app_config(label).get_models()]
MODEL_IDS = [model._meta.label for model in MODELS]
BROWSABLE = [*MODELS, get_user_model()]
BROWSABLE_IDS = [model._meta.label for model in BROWSABLE]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_every_model_is_registered_read_only(model):
    assert admin.site.is_registered(model)
    assert isinstance(admin.site._registry[model], ReadOnlyAdmin)


def test_users_are_read_only_and_groups_are_not_offered():
    assert isinstance(admin.site._registry[get_user_model()], ReadOnlyAdmin)
    assert not admin.site.is_registered(Group)


@pytest.fixture
def admin_client_of_role(kashmir, user_of_role, client):
    """A signed-in admin, with one row of every model in the database (an API token too)."""
    user = user_of_role(Role.ADMIN)
    token_create(actor=None, username=user.username, name="laptop")
    duplicates_run_start(owner=user, threshold=LIKELY_DUPLICATE)  # a background job, queued
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", BROWSABLE, ids=BROWSABLE_IDS)
def test_admin_lists_every_model_without_add_or_bulk_delete(admin_client_of_role, model):
    # when an admin opens the model's list
    response = admin_client_of_role.get(admin_url(model, "changelist"))
    # then it is shown, with no add link and no bulk actions
    assert response.status_code == 200
    body = response.content.decode()
    assert admin_url(model, "add") not in body
    assert 'name="action"' not in body


@pytest.mark.parametrize("model", BROWSABLE, ids=BROWSABLE_IDS)
def test_admin_cannot_add_change_or_delete(admin_client_of_role, model):
    # given a stored row of the model (the fixture and the signed-in admin made one of each)
    row = model._default_manager.order_by("pk").first()
    assert row is not None, f"the fixture has no {model._meta.label}"
    before = model._default_manager.count()
    # when an admin tries to add, change or delete through the admin
    add = admin_client_of_role.post(admin_url(model, "add"), {})
    change = admin_client_of_role.post(admin_url(model, "change", row.pk), {})
    delete = admin_client_of_role.post(admin_url(model, "delete", row.pk), {"post": "yes"})
    # then every write is refused and nothing changed
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert model._default_manager.count() == before


@pytest.mark.parametrize("model", BROWSABLE, ids=BROWSABLE_IDS)
def test_admin_shows_a_row_read_only(admin_client_of_role, model):
    row = model._default_manager.order_by("pk").first()
    response = admin_client_of_role.get(admin_url(model, "change", row.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="_save"' not in body
    assert 'name="_continue"' not in body
    assert "Close" in body


def test_api_token_hash_is_never_shown(admin_client_of_role):
    token = ApiToken.objects.get()
    body = admin_client_of_role.get(admin_url(ApiToken, "change", token.pk)).content.decode()
    assert token.prefix in body
    assert token.key_hash not in body


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN], ids=lambda r: r.value)
def test_other_roles_do_not_get_into_the_admin(kashmir, client_as, role):
    response = client_as(role).get(reverse("admin:places_adminarea_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_staff_user_without_the_admin_role_sees_no_model(kashmir, client):
    # given a staff account made outside the service, with no role
    user = get_user_model().objects.create_user(username="staffer", password="x", is_staff=True)
    client.force_login(user)
    # when it opens the admin, then no model is offered and lists are refused
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:places_adminarea_changelist") not in index
    assert client.get(reverse("admin:places_adminarea_changelist")).status_code == 403


def test_a_user_page_shows_neither_password_nor_permissions(admin_client_of_role):
    user = get_user_model().objects.order_by("pk").first()
    body = admin_client_of_role.get(admin_url(get_user_model(), "change", user.pk)).content.decode()
    assert user.username in body
    assert "Password" not in body
    assert user.password.split("$")[0] not in body  # not even the hash's algorithm
    assert "User permissions" not in body


ICON = '<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">'


def test_the_admin_pages_name_the_site_s_icon_and_keep_their_header(admin_client_of_role):
    # when the admin's sign-in page, its index and a list are opened
    pages = [
        Client().get(reverse("admin:login")),
        admin_client_of_role.get(reverse("admin:index")),
        admin_client_of_role.get(admin_url(get_user_model(), "changelist")),
    ]
    for response in pages:
        # then each names the web app's icon (without it the browser asks for /favicon.ico, a 404)
        assert response.status_code == 200
        body = response.content.decode()
        assert ICON in body
        # and keeps the admin's own header and title
        assert "reliefops data admin (read-only)" in body
        assert "| reliefops data admin</title>" in body
