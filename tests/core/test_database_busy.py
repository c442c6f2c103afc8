"""While a long transaction holds SQLite's write lock (a large household import's commit), a request
that must write waits for the busy timeout and then answers 503 "busy, try again" with Retry-After,
as a page or as the API's JSON, instead of a server error or "session interrupted"."""

from __future__ import annotations

import sqlite3
import time

import pytest
from django.db import OperationalError, connection
from django.test import Client

from reliefops.core import security
from reliefops.core.roles import Role
from reliefops.core.services import token_create
from tests.factories import make_user
from tests.households.conftest import build_operation, register

BUSY = "The database is busy with a long import; try again in a minute."


@pytest.fixture
def write_lock(monkeypatch):
    """Takes SQLite's write lock on another connection, as the import's commit holds it; this
    test's connections wait a moment for it, not the 20 seconds of the setting."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the whole database")
    holders = []

    def take() -> None:
        connection.close()
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
        holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holders.append(holder)

    yield take
    for holder in holders:
        holder.execute("ROLLBACK")
        holder.close()
    connection.close()


def assert_busy(response, *, api: bool) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "60"
    if api:
        assert response.json() == {"detail": BUSY}
    else:
        assert BUSY in response.content.decode()
        assert "Content-Security-Policy" in response.headers
        # the page names the site's icon, as every page does (else the browser asks for /favicon.ico)
        assert 'rel="icon" href="/static/web/favicon.svg"' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_page_that_writes_while_a_long_import_holds_the_lock_answers_busy_try_again(write_lock):
    op = build_operation()
    register(op)
    client = Client(raise_request_exception=False)
    client.force_login(op.registrar)
    client.get("/households/registry/")  # the session's sign-in time is written
    write_lock()
    # the registry records who looked at its page of households: a write
    assert_busy(client.get("/households/registry/"), api=False)


@pytest.mark.django_db(transaction=True)
def test_a_session_that_cannot_be_saved_while_a_long_import_holds_the_lock_answers_busy(write_lock):
    user = make_user(Role.VIEWER)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    session = client.session
    now = int(time.time())
    session[security._STARTED] = now - 300
    session[security._SEEN] = now - 120  # its last-seen time is due to be written
    session.save()
    write_lock()
    assert_busy(client.get("/reference/"), api=False)


@pytest.mark.django_db(transaction=True)
def test_an_api_call_while_a_long_import_holds_the_lock_answers_busy_as_json(write_lock):
    _, token = token_create(actor=None, username=make_user(Role.VIEWER).username, name="laptop")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)
    write_lock()
    # the token's first use is written down
    assert_busy(client.get("/api/core/jobs"), api=True)


def test_a_locked_database_on_any_page_or_call_answers_busy(db, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("reliefops.web.selectors.reference_overview", locked)
    monkeypatch.setattr("reliefops.api.token_authenticate", locked)
    client = Client(raise_request_exception=False)
    client.force_login(make_user(Role.VIEWER))
    assert_busy(client.get("/reference/"), api=False)
    api = Client(HTTP_AUTHORIZATION="Bearer rop_anything", raise_request_exception=False)
    assert_busy(api.get("/api/core/jobs"), api=True)


def test_another_database_error_is_still_a_server_error(db, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("no such table: web_overview")

    monkeypatch.setattr("reliefops.web.selectors.reference_overview", broken)
    client = Client(raise_request_exception=False)
    client.force_login(make_user(Role.VIEWER))
    response = client.get("/reference/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    # the server's error page names the site's icon and leads back to the dashboard
    page = response.content.decode()
    assert 'rel="icon" href="/static/web/favicon.svg"' in page
    assert '<a href="/">Back to the dashboard</a>' in page
