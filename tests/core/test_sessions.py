"""Reading stored sessions: one signed with an earlier SECRET_KEY is passed over without a warning."""

from __future__ import annotations

import io
import logging

from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client, override_settings

from reliefops.core.roles import Role
from reliefops.core.sessions import SessionStore, session_data_quietly

EARLIER_KEY = "an-earlier-key-Qz3vNw8pL2xR9mT4bY6cJ1hF5dS0aG8eK2nV7uW3iO9pZ4qX"


def session_of_an_earlier_key() -> str:
    with override_settings(SECRET_KEY=EARLIER_KEY):
        store = SessionStore()
        store["_auth_user_id"] = "1"
        store.create()
    return str(store.session_key)


def test_a_session_of_an_earlier_key_reads_as_none_without_a_warning(db, caplog):
    key = session_of_an_earlier_key()
    with caplog.at_level(logging.WARNING):
        assert session_data_quietly(Session.objects.get(pk=key).session_data) is None
    assert caplog.records == []


def test_deactivating_a_user_after_a_key_change_ends_their_session_quietly(user_of_role, caplog):
    # given a user signed in now, and a session left from before SECRET_KEY was changed
    user = user_of_role(Role.VIEWER)
    Client().force_login(user)
    earlier = session_of_an_earlier_key()
    # when the user is deactivated
    out = io.StringIO()
    with caplog.at_level(logging.WARNING):
        call_command("user", "deactivate", user.username, stdout=out)
    # then their session ends, the earlier one is passed over, and nothing is said of it
    assert "1 session ended" in out.getvalue()
    assert Session.objects.filter(pk=earlier).exists()
    assert not [r for r in caplog.records if "corrupted" in r.getMessage()]
