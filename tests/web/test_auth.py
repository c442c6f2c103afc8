"""Signing in and out of the web UI."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reliefops.core.roles import Role

PASSWORD = "correct-horse-battery"  # the factories' password


def test_sign_in_page_is_open_to_anonymous_users(client):
    response = client.get(reverse("web:login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body
    assert 'type="password"' in body
    assert "csrfmiddlewaretoken" in body


def test_signing_in_leads_to_the_page_asked_for(user_of_role, client):
    # given a viewer who asked for the sites page before signing in
    user = user_of_role(Role.VIEWER)
    # when they sign in through the form
    response = client.post(
        reverse("web:login"),
        {"username": user.username, "password": PASSWORD, "next": reverse("web:site-list")},
    )
    # then they land on that page, signed in
    assert response.status_code == 302
    assert response["Location"] == reverse("web:site-list")
    assert client.get(reverse("web:site-list")).status_code == 200


def test_signing_in_without_a_next_page_leads_home(user_of_role, client):
    user = user_of_role(Role.HUB_MANAGER)
    response = client.post(reverse("web:login"), {"username": user.username, "password": PASSWORD})
    assert response["Location"] == reverse("web:home")


def test_sign_in_refuses_an_off_site_next_page(user_of_role, client):
    user = user_of_role(Role.VIEWER)
    response = client.post(
        reverse("web:login"),
        {"username": user.username, "password": PASSWORD, "next": "https://evil.example.com/"},
    )
    assert response["Location"] == reverse("web:home")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        pytest.param("known", "wrong-password", id="wrong-password"),
        pytest.param("nobody", PASSWORD, id="unknown-user"),
    ],
)
def test_a_wrong_password_shows_the_form_again_with_an_error(user_of_role, client, username, password):
    user = user_of_role(Role.VIEWER)
    response = client.post(
        reverse("web:login"),
        {"username": user.username if username == "known" else username, "password": password},
    )
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert client.get(reverse("web:home")).status_code == 302


def test_a_signed_in_user_opening_the_sign_in_page_goes_home(client_as):
    response = client_as(Role.VIEWER).get(reverse("web:login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")


def test_signing_out_is_a_post_that_ends_the_session(client_as):
    # given a signed-in coordinator
    client = client_as(Role.COORDINATOR)
    # when they sign out
    response = client.post(reverse("web:logout"))
    # then they are on the sign-in page, told so, and signed out
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert "You have signed out." in client.get(response["Location"]).content.decode()
    assert client.get(reverse("web:home")).status_code == 302


def test_signing_out_by_get_is_refused(client_as):
    # a link (or an image tag on another site) must not be able to sign a user out
    client = client_as(Role.VIEWER)
    assert client.get(reverse("web:logout")).status_code == 405
    assert client.get(reverse("web:home")).status_code == 200


def test_a_new_users_password_message_names_where_it_is_changed_and_how_it_is_replaced(db):
    import io

    from django.core.management import call_command

    # given the page where users change their own password
    assert reverse("web:password-change") == "/password/"
    # when an admin creates a user with a generated password
    out = io.StringIO()
    call_command("user", "create", "amina", "--role", "viewer", "--no-input", stdout=out)
    said = out.getvalue()
    # then the message says it is shown once, where the user changes it, and who replaces a lost one
    assert "shown only this once" in said
    assert "Change password, at the top of every page" in said
    assert "reliefops user password USERNAME" in said
