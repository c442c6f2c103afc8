"""The title of a page says where the user is, and that a form of it was refused."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from reliefops.core.roles import Role
from tests.factories import make_user


def title(response) -> str:
    match = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert match, "the page has no title"
    return match.group(1)


@pytest.fixture
def viewer_client(kashmir):
    client = Client()
    client.force_login(make_user(Role.VIEWER))
    return client


def test_a_page_is_titled_after_where_the_user_is(viewer_client):
    assert title(viewer_client.get(reverse("web:site-list"))) == "Sites · reliefops"
    assert title(viewer_client.get(reverse("web:site-list"), {"kind": "hub"})) == "Sites · reliefops"
    assert title(viewer_client.get(reverse("web:password-change"))) == "Change your password · reliefops"


def test_a_refused_filter_says_so_in_the_title(viewer_client):
    response = viewer_client.get(reverse("web:site-list"), {"kind": "castle"})
    assert response.status_code == 422
    assert title(response) == "Problem: Sites · reliefops"


def test_a_refused_sign_in_says_so_in_the_title(kashmir, client):
    user = make_user(Role.VIEWER)
    response = client.post(reverse("web:login"), {"username": user.username, "password": "not-the-password"})
    assert title(response) == "Problem: Sign in · reliefops"


def test_a_refused_password_change_says_so_in_the_title(viewer_client):
    response = viewer_client.post(
        reverse("web:password-change"),
        {"old_password": "not-the-password", "new_password1": "a-long-passphrase", "new_password2": "x"},
    )
    assert title(response) == "Problem: Change your password · reliefops"
