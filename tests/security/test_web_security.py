"""Web security: response headers and the content security policy, production mode's HTTPS settings,
sign-in throttling, password hashing, session expiry and revocable API tokens.

(CSRF on every form and the absence of inline code on every page are checked page by page in
test_web_permissions.py, which knows every page.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client
from django.urls import reverse

from reliefops.core import security
from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.core.services import token_create, token_revoke
from tests.factories import make_user

PASSWORD = "correct-horse-battery"


# --- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_in", "url"),
    [
        pytest.param(False, "/login/", id="login-page"),
        pytest.param(True, "/places/areas/", id="signed-in-page"),
        pytest.param(True, "/no-such-page/", id="not-found"),
        pytest.param(False, "/api/openapi.json", id="api-json"),
        pytest.param(False, "/api/docs", id="api-docs"),
    ],
)
def test_every_response_carries_the_security_headers(client_as, signed_in, url):
    # given a visitor, signed in or not
    client = client_as(Role.VIEWER if signed_in else None)
    # when it asks for a page, a missing page or the API
    response = client.get(url)
    # then the response forbids framing, sniffing and third-party sources, and allows no inline code
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_api_docs_load_their_scripts_from_files():
    # given the interactive API docs (Swagger UI, served from the installed package)
    body = Client().get("/api/docs").content.decode()
    # then every script it runs comes from a file of this server (its settings are JSON data)
    assert "<script>" not in body
    assert 'src="/static/ninja/swagger-ui-bundle.js"' in body


# --- production mode -------------------------------------------------------------------------------

PRODUCTION_PROBE = textwrap.dedent(
    """
    import django, json
    from django.conf import settings
    django.setup()
    from django.test import Client
    client = Client()
    plain = client.get("/login/", HTTP_HOST="relief.example.org")
    secure = client.get("/login/", HTTP_HOST="relief.example.org", HTTP_X_FORWARDED_PROTO="https")
    print(json.dumps({
        "session_secure": settings.SESSION_COOKIE_SECURE,
        "csrf_secure": settings.CSRF_COOKIE_SECURE,
        "first_hasher": settings.PASSWORD_HASHERS[0],
        "plain_status": plain.status_code,
        "plain_location": plain.headers.get("Location"),
        "secure_status": secure.status_code,
        "hsts": secure.headers.get("Strict-Transport-Security"),
        "csrf_cookie_secure": secure.status_code == 200 and bool(secure.cookies["csrftoken"]["secure"]),
    }))
    """
)


def _production(**extra: str) -> dict:
    dropped = {"SECRET_KEY", "ALLOWED_HOSTS", "RELIEFOPS_ENV"}
    environ = {k: v for k, v in os.environ.items() if k not in dropped}
    environ.update(
        {
            "RELIEFOPS_ENV": "production",
            # Long and varied enough for production, which refuses a key Django calls insecure.
            "SECRET_KEY": "Ra7-pQ2_wX9zLk4mN8vB3cT6yH1jF5dG0sE2uI7oP4aZ9qW3xC",
            "ALLOWED_HOSTS": "relief.example.org",
            "DJANGO_SETTINGS_MODULE": "reliefops.settings",
            **extra,
        }
    )
    # A fresh interpreter without pytest: the settings are those a server runs with.
    result = subprocess.run(  # noqa: S603 - this interpreter, a script of this file
        [sys.executable, "-c", PRODUCTION_PROBE], env=environ, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_secure_cookies_hsts_and_redirects_to_https():
    # when the server runs in production mode behind its TLS proxy
    seen = _production()
    # then cookies are Secure, plain HTTP is redirected to HTTPS, and HTTPS answers carry HSTS
    assert seen["session_secure"] is True
    assert seen["csrf_secure"] is True
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://relief.example.org/login/"
    assert seen["secure_status"] == 200
    assert seen["hsts"] == "max-age=31536000"
    assert seen["csrf_cookie_secure"] is True
    # and passwords are hashed with Argon2 first
    assert seen["first_hasher"] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_production_redirect_and_hsts_are_configurable():
    # when the operator lets the proxy redirect, and sets a shorter HSTS age
    seen = _production(RELIEFOPS_SSL_REDIRECT="false", RELIEFOPS_HSTS_SECONDS="600")
    # then Django answers plain HTTP itself, and HTTPS with the age asked for
    assert seen["plain_status"] == 200
    assert seen["hsts"] == "max-age=600"


def test_without_a_trusted_proxy_a_forged_https_header_is_not_believed():
    # when gunicorn faces the network itself (no proxy to trust)
    seen = _production(RELIEFOPS_BEHIND_PROXY="false")
    # then a client's own X-Forwarded-Proto does not make a plain request count as HTTPS
    assert seen["secure_status"] == 301


def test_argon2_hashes_and_checks_passwords():
    # given the Argon2 hasher the server uses first
    hasher = Argon2PasswordHasher()
    # when a password is hashed
    encoded = hasher.encode(PASSWORD, hasher.salt())
    # then it is an argon2id hash that verifies the password and nothing else
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.verify("wrong-horse-battery", encoded)


# --- sign-in throttling ----------------------------------------------------------------------------


def _sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("web:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def amina(db):
    return make_user(Role.REGISTRAR, password=PASSWORD)


def test_a_username_is_locked_after_too_many_failures(amina, settings):
    # given the limit of five failures per username
    settings.LOGIN_MAX_FAILURES = 5
    client = Client()
    # when five wrong passwords are tried
    for _ in range(5):
        response = _sign_in(client, amina.username, "wrong-password-1")
        assert response.status_code == 200
        assert not _signed_in(client)
    # then even the right password is refused, with a message that says why
    response = _sign_in(client, amina.username, PASSWORD)
    assert not _signed_in(client)
    assert "Too many failed sign-ins for this username" in response.content.decode()
    # and every attempt is in the audit trail
    actions = list(AuditEvent.objects.filter(object_id=amina.username).values_list("action", flat=True))
    assert actions.count(security.LOGIN_FAILED) == 5
    assert actions.count(security.LOGIN_REFUSED) == 1
    failed = AuditEvent.objects.filter(action=security.LOGIN_FAILED).first()
    assert failed.after == {"address": "10.0.0.1"}


def test_a_locked_username_opens_again_after_the_window(amina, settings):
    # given a username locked by five failures
    settings.LOGIN_MAX_FAILURES = 5
    client = Client()
    for _ in range(5):
        _sign_in(client, amina.username, "wrong-password-1")
    assert not _signed_in(_sign_in_and_keep(amina.username, PASSWORD))
    # when the lockout window has passed
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS + 1)
    AuditEvent.objects.filter(action=security.LOGIN_FAILED).update(at=past)
    # then the right password signs in
    assert _signed_in(_sign_in_and_keep(amina.username, PASSWORD))


def _sign_in_and_keep(username: str, password: str) -> Client:
    client = Client()
    _sign_in(client, username, password)
    return client


def test_a_successful_sign_in_starts_the_count_again(amina, settings):
    # given four failures, then a successful sign-in
    settings.LOGIN_MAX_FAILURES = 5
    for _ in range(4):
        _sign_in(Client(), amina.username, "wrong-password-1")
    assert _signed_in(_sign_in_and_keep(amina.username, PASSWORD))
    # when one more password is wrong
    _sign_in(Client(), amina.username, "wrong-password-1")
    # then the user may still sign in: the earlier failures no longer count
    assert _signed_in(_sign_in_and_keep(amina.username, PASSWORD))


def test_an_address_is_locked_after_too_many_failures_on_any_usernames(amina, settings):
    # given the limit of three failures per address
    settings.LOGIN_MAX_FAILURES_PER_IP = 3
    # when one address tries three usernames that do not exist
    for n in range(3):
        _sign_in(Client(), f"guess{n}", "wrong-password-1", address="203.0.113.9")
    # then that address cannot sign in, even as a real user with the right password
    refused = _sign_in(Client(), amina.username, PASSWORD, address="203.0.113.9")
    assert "Too many failed sign-ins from this computer" in refused.content.decode()
    # while another address still can
    other = Client()
    _sign_in(other, amina.username, PASSWORD, address="198.51.100.7")
    assert _signed_in(other)


def test_the_data_admin_sign_in_is_throttled_too(db, settings):
    # given an administrator and the limit of two failures
    settings.LOGIN_MAX_FAILURES = 2
    admin = make_user(Role.ADMIN, password=PASSWORD)
    client = Client()
    # when the admin's sign-in page sees two wrong passwords
    for _ in range(2):
        client.post("/admin/login/", {"username": admin.username, "password": "wrong-password-1"})
    # then the right one is refused
    response = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- session expiry ---------------------------------------------------------------------------------


def _session_times(client: Client, *, signed_in_ago: int, seen_ago: int) -> None:
    import time

    session = client.session
    now = int(time.time())
    session[security._STARTED] = now - signed_in_ago
    session[security._SEEN] = now - seen_ago
    session.save()


@pytest.mark.parametrize(
    ("signed_in_ago", "seen_ago", "reason"),
    [
        pytest.param(600, 3601, "1 hour without activity", id="idle"),
        pytest.param(28801, 30, "8 hours signed in", id="too-old"),
    ],
)
def test_a_session_ends_when_idle_or_too_old(client_as, signed_in_ago, seen_ago, reason):
    # given a signed-in user whose first page set the session's clock
    client = client_as(Role.VIEWER)
    assert client.get("/places/areas/").status_code == 200
    # when the session has been idle, or alive, too long
    _session_times(client, signed_in_ago=signed_in_ago, seen_ago=seen_ago)
    response = client.get("/places/areas/")
    # then the user is sent to sign in again, told why, and the expiry is audited
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("web:login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response.headers["Location"]).content.decode()
    assert f"signed out after {reason}" in page
    assert AuditEvent.objects.filter(action=security.SESSION_EXPIRED, after={"reason": reason}).exists()


def test_a_live_session_stays_signed_in(client_as):
    # given a signed-in user active a few minutes ago
    client = client_as(Role.VIEWER)
    client.get("/places/areas/")
    _session_times(client, signed_in_ago=3000, seen_ago=300)
    # when the next page is asked for
    response = client.get("/places/areas/")
    # then it is served, and the last-seen time moves on
    assert response.status_code == 200
    assert client.session[security._SEEN] > client.session[security._STARTED] + 2000


# --- caching ----------------------------------------------------------------------------------------


def test_what_a_signed_in_user_is_shown_is_kept_in_no_cache(db, client_as):
    # given a registrar, signed in to the browser and with an API token
    registrar = make_user(Role.REGISTRAR)
    browser = Client()
    browser.force_login(registrar)
    _, plain = token_create(actor=None, username=registrar.username, name="script")
    script = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    # when it opens the registry (households' names and identity numbers) and the API's list of them
    answers = [browser.get("/households/registry/"), script.get("/api/households/households")]
    # then neither answer may be kept by a browser's cache or a proxy
    for answer in answers:
        assert answer.status_code == 200, answer.content[:200]
        assert answer["Cache-Control"] == "private, no-store"


def test_a_page_that_sets_its_own_caching_and_the_style_sheets_keep_it(db, client):
    # the sign-in page says its own (Django's never_cache), which is kept as it is
    assert client.get("/login/")["Cache-Control"] != "private, no-store"
    client.force_login(make_user(Role.VIEWER))
    style = client.get("/static/web/reliefops.css")
    assert style.status_code == 200
    assert "no-store" not in style.get("Cache-Control", "")


# --- refusals ----------------------------------------------------------------------------------------


def test_a_refused_page_says_in_plain_words_what_was_tried_and_who_may(client_as):
    # given a hub manager, signed in, opening the cluster's gap analysis, which is not for its role
    response = client_as(Role.HUB_MANAGER).get(reverse("cluster:cluster-gaps"))
    # then the page refuses it, saying what it tried, the right it needs and the roles that hold it
    assert response.status_code == 403
    page = " ".join(response.content.decode().split())
    assert (
        "your role, hub manager, may not see the cluster&#x27;s figures (gap analysis, 4W matrix, totals, "
        "needs, sitrep); that needs the right view_cluster, which an admin, a coordinator, a partner "
        "reporter or a viewer holds"
    ) in page
    assert "may not view cluster" not in page


# --- API tokens ---------------------------------------------------------------------------------------


def test_a_revoked_token_no_longer_authenticates(db):
    # given a viewer's API token that works
    user = make_user(Role.VIEWER)
    token, plain = token_create(actor=None, username=user.username, name="laptop")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.get("/api/core/me").status_code == 200
    # when the token is revoked
    token_revoke(actor=None, token_id=token.pk)
    # then it is refused, on every header that carries a token
    assert client.get("/api/core/me").status_code == 401
    assert Client(HTTP_X_API_TOKEN=plain).get("/api/core/me").status_code == 401
    # and a deactivated user's tokens stop working too
    _, other = token_create(actor=None, username=user.username, name="phone")
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {other}").get("/api/core/me").status_code == 401
