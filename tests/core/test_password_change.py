"""A signed-in user changes their own password: the page, its rules, its audit and its lockout."""

from __future__ import annotations

import io
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role

PASSWORD = "correct-horse-battery"  # the factories' password
NEW_PASSWORD = "monsoon-tarpaulin-47"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change(client: Client, *, old: str = PASSWORD, new: str = NEW_PASSWORD, again: str | None = None):
    return client.post(
        reverse("web:password-change"),
        {"old_password": old, "new_password1": new, "new_password2": new if again is None else again},
    )


def test_the_page_asks_a_signed_out_visitor_to_sign_in(client):
    response = client.get(reverse("web:password-change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_every_page_header_links_to_it(user_of_role):
    client = signed_in(user_of_role(Role.VIEWER))
    body = client.get(reverse("web:reference")).content.decode()
    assert f'href="{reverse("web:password-change")}"' in body
    assert "Change password" in body


def test_a_user_changes_their_password_and_stays_signed_in(user_of_role):
    # given a registrar signed in in two browsers
    user = user_of_role(Role.REGISTRAR)
    here, elsewhere = signed_in(user), signed_in(user)
    # when they change their password in one
    response = change(here)
    # then the new password is theirs, this browser stays signed in and the other is signed out
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    assert here.get(reverse("web:reference")).status_code == 200
    assert elsewhere.get(reverse("web:reference"))["Location"].startswith(reverse("web:login"))
    # and the change is audited as theirs, without the password
    event = AuditEvent.objects.get(action="user.password_changed")
    assert (event.actor_label, event.object_id) == (user.username, str(user.pk))
    assert NEW_PASSWORD not in str(event.after) + str(event.before)


@pytest.mark.parametrize(
    ("new", "again", "said"),
    [
        pytest.param("short1!", None, "too short", id="too-short"),
        pytest.param("password123", None, "too common", id="common"),
        pytest.param("4729183650", None, "entirely numeric", id="digits"),
        pytest.param(NEW_PASSWORD, NEW_PASSWORD + "x", "match", id="mismatch"),
    ],
)
def test_a_weak_or_mistyped_new_password_is_refused(user_of_role, new, again, said):
    user = user_of_role(Role.VIEWER)
    response = change(signed_in(user), new=new, again=again)
    assert response.status_code == 200
    assert said in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()


def test_a_wrong_current_password_counts_as_a_failed_sign_in_and_locks(user_of_role, settings, caplog):
    # given a session whose user's current password is being guessed
    settings.LOGIN_MAX_FAILURES = 3
    user = user_of_role(Role.VIEWER)
    client = signed_in(user)
    with caplog.at_level(logging.WARNING, logger="reliefops"):
        for _ in range(3):
            assert change(client, old="guess-" + PASSWORD).status_code == 200
        # when the right one is typed after the lockout
        response = change(client)
    # then it is refused as a sign-in would be, the password is unchanged and the log says so
    assert "Too many failed sign-ins" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id=user.username).count() == 3
    assert AuditEvent.objects.filter(action="auth.login_refused", object_id=user.username).count() == 1
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("reliefops")]
    assert sum(f"failed sign-in for username '{user.username}'" in m for m in logged) == 3
    assert any(f"sign-in refused for username '{user.username}'" in m for m in logged)
    assert not any(PASSWORD in m for m in logged)


@pytest.mark.parametrize("action", ["create", "password"])
def test_a_generated_password_message_says_where_to_change_it(db, action):
    if action == "password":
        get_user_model().objects.create_user(username="amina", password=PASSWORD)
        args = ["password", "amina", "--no-input"]
    else:
        args = ["create", "amina", "--role", "viewer", "--no-input"]
    out = io.StringIO()
    call_command("user", *args, stdout=out)
    assert "Change password, at the top of every page" in out.getvalue()
