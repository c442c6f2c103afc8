"""API authentication: tokens (Bearer and X-API-Token), sessions, CSRF, and the 401/403 answers."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reliefops.api import CSRF_REFUSED
from reliefops.core.models import ApiToken, AuditEvent
from reliefops.core.roles import ROLE_RIGHTS, Role
from reliefops.core.services import TokenExpired, token_authenticate, token_revoke
from tests.factories import make_user

SITES = "/api/places/sites"


def test_anonymous_gets_401_telling_how_to_authenticate(db):
    # when
    response = Client().get(SITES)
    # then
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda t: {"HTTP_AUTHORIZATION": f"Bearer {t}"}, id="bearer"),
        pytest.param(lambda t: {"HTTP_AUTHORIZATION": f"bearer {t}"}, id="bearer-lower-case"),
        pytest.param(lambda t: {"HTTP_X_API_TOKEN": t}, id="x-api-token"),
    ],
)
def test_token_authenticates(reference, token_for, header):
    # given
    user = make_user(Role.VIEWER)
    client = Client(**header(token_for(user)))
    # when
    response = client.get("/api/core/me")
    # then
    assert response.status_code == 200
    assert response.json()["username"] == user.get_username()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_AUTHORIZATION": "Bearer rop_not-a-real-token"}, id="unknown-token"),
        pytest.param({"HTTP_AUTHORIZATION": "Bearer not-our-prefix"}, id="foreign-token"),
        pytest.param({"HTTP_AUTHORIZATION": "Bearer "}, id="empty-bearer"),
        pytest.param({"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}, id="basic-auth"),
        pytest.param({"HTTP_X_API_TOKEN": "rop_not-a-real-token"}, id="unknown-x-api-token"),
    ],
)
def test_bad_credentials_get_401(db, headers):
    assert Client(**headers).get(SITES).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda t: {"HTTP_AUTHORIZATION": "Bearer bad", "HTTP_X_API_TOKEN": t}, id="bad-bearer"),
        pytest.param(
            lambda t: {"HTTP_AUTHORIZATION": f"Bearer {t}", "HTTP_X_API_TOKEN": "bad"}, id="bad-header"
        ),
    ],
)
def test_a_bad_credential_gets_401_whatever_valid_one_comes_with_it(db, token_for, headers):
    user = make_user(Role.VIEWER)
    response = Client(**headers(token_for(user))).get("/api/core/me")
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_bearer_token_gets_401_even_with_a_signed_in_session(db):
    client = Client()
    client.force_login(make_user(Role.VIEWER))
    assert client.get("/api/core/me").status_code == 200
    assert client.get("/api/core/me", HTTP_AUTHORIZATION="Bearer bad").status_code == 401


def test_revoked_token_gets_401(db, token_for):
    # given a token that worked
    user = make_user(Role.VIEWER)
    plain = token_for(user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.get(SITES).status_code == 200
    # when it is revoked
    token_revoke(actor=None, token_id=ApiToken.objects.get(user=user).pk)
    # then
    assert client.get(SITES).status_code == 401


# A moment long past and one to come, written out: 05:00 UTC is 10:00 in Pakistan (UTC+5).
EXPIRED_AT = dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC)
ENDS_AT = dt.datetime(2031, 3, 1, 5, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda t: {"HTTP_AUTHORIZATION": f"Bearer {t}"}, id="bearer"),
        pytest.param(lambda t: {"HTTP_X_API_TOKEN": t}, id="x-api-token"),
    ],
)
def test_an_expired_token_gets_401_saying_when_it_expired_and_what_to_do(db, token_for, caplog, header):
    # given a token of an active viewer that expired on 1 March 2026, 10:00 in Pakistan
    user = make_user(Role.VIEWER)
    plain = token_for(user)
    token = ApiToken.objects.get(user=user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=EXPIRED_AT)
    events = AuditEvent.objects.count()
    # when it is used
    with caplog.at_level(logging.WARNING):
        response = Client(**header(plain)).get(SITES)
    # then it is refused (401), saying when it expired and whom to ask
    assert response.status_code == 401
    assert response.json() == {
        "detail": "this API token expired on 2026-03-01 10:00 (Asia/Karachi time); "
        f"ask an administrator to extend it (token {token.pk}) or for a new one"
    }
    assert response["WWW-Authenticate"].startswith("Bearer")
    # and the log says which token of whom, never the token itself; as for other refused tokens,
    # nothing is added to the audit trail and its last use is not recorded
    auth = [r.getMessage() for r in caplog.records if r.name == "reliefops.auth"]
    assert auth == [
        f"API token {token.pk} ({token.prefix}…) of user '{user.get_username()}' refused: "
        "it expired on 2026-03-01 10:00"
    ]
    assert plain not in caplog.text
    assert AuditEvent.objects.count() == events
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None


def test_an_expired_token_is_refused_even_with_a_signed_in_session_or_a_valid_token_beside_it(db, token_for):
    # given a viewer signed in, with a valid token and an expired one
    user = make_user(Role.VIEWER)
    valid, expired = token_for(user), token_for(user)
    ApiToken.objects.filter(key_hash=hashlib.sha256(expired.encode()).hexdigest()).update(
        expires_at=EXPIRED_AT
    )
    client = Client()
    client.force_login(user)
    # then the expired one is refused, whatever comes with it
    for headers in (
        {"HTTP_AUTHORIZATION": f"Bearer {expired}"},
        {"HTTP_AUTHORIZATION": f"Bearer {valid}", "HTTP_X_API_TOKEN": expired},
        {"HTTP_AUTHORIZATION": f"Bearer {expired}", "HTTP_X_API_TOKEN": valid},
    ):
        response = client.get("/api/core/me", **headers)
        assert response.status_code == 401, headers
        assert "expired on 2026-03-01 10:00" in response.json()["detail"]


@pytest.mark.parametrize(
    ("at", "works"),
    [
        pytest.param(ENDS_AT - dt.timedelta(microseconds=1), True, id="the-last-moment-before"),
        pytest.param(ENDS_AT, False, id="the-moment-it-expires"),
        pytest.param(ENDS_AT + dt.timedelta(days=1), False, id="a-day-after"),
    ],
)
def test_a_token_works_until_the_moment_it_expires_and_not_from_then(db, token_for, at, works):
    # given a token that expires on 1 March 2031 at 05:00 UTC
    user = make_user(Role.VIEWER)
    plain = token_for(user)
    ApiToken.objects.filter(user=user).update(expires_at=ENDS_AT)
    # when it is presented at a given moment
    if works:
        # then before that moment it authenticates its user
        assert token_authenticate(plain, at=at) == user
    else:
        # then from that moment on it is refused, saying so
        with pytest.raises(TokenExpired, match="expired on 2031-03-01 10:00"):
            token_authenticate(plain, at=at)


def test_inactive_users_token_gets_401(db, token_for):
    # given a token that worked
    user = make_user(Role.COORDINATOR)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    assert client.get(SITES).status_code == 200
    # when the user is deactivated
    user.is_active = False
    user.save(update_fields=["is_active"])
    # then
    assert client.get(SITES).status_code == 401


def test_token_is_stored_only_as_a_hash(db, token_for):
    # given
    plain = token_for(make_user(Role.VIEWER))
    # then its hash is stored ...
    assert ApiToken.objects.filter(key_hash=hashlib.sha256(plain.encode()).hexdigest()).exists()
    # ... and the plain token appears in no row of any table (audit trail included)
    for model in apps.get_models():
        for row in model._default_manager.values():
            assert plain not in str(row), f"plain token found in {model.__name__}"


def _token_updates(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].upper().startswith("UPDATE") and "api" in q["sql"].lower()]


def test_last_use_is_written_at_most_once_a_minute(db, token_for):
    # given a token used once
    user = make_user(Role.VIEWER)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    client.get(SITES)
    token = ApiToken.objects.get(user=user)
    first_use = token.last_used_at
    assert first_use is not None
    # when it is used again within the minute, then nothing is written
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SITES).status_code == 200
    assert _token_updates(queries) == []
    token.refresh_from_db()
    assert token.last_used_at == first_use
    # when its last use is older than a minute, then the next use is recorded
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SITES).status_code == 200
    assert len(_token_updates(queries)) == 1
    token.refresh_from_db()
    assert token.last_used_at >= first_use
    assert token.last_used_at <= timezone.now()


def test_user_without_a_role_gets_403_with_detail(db, token_for):
    # given a user made outside the user service, without a role
    user = get_user_model().objects.create_user(username="norole", password="correct-horse-battery")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    # when
    response = client.get(SITES)
    # then
    assert response.status_code == 403
    assert response.json() == {"detail": "sign in with an account that has a role"}


def test_role_without_the_right_gets_403_saying_what_was_tried_and_who_may(db, api_client, monkeypatch):
    # given a viewer whose role has lost the right to view reference data
    monkeypatch.setitem(ROLE_RIGHTS, Role.VIEWER, frozenset())
    client = api_client(Role.VIEWER)
    # when
    response = client.get(SITES)
    # then
    assert response.status_code == 403
    assert response.json() == {
        "detail": "your role, viewer, may not see the reference data (admin areas, sites, organisations, "
        "grants, items and kits); that needs the right view_reference, which an admin, a coordinator, a hub "
        "manager, a registrar, a distributor or a partner reporter holds"
    }


def test_session_authenticates_reads(db, client_as):
    assert client_as(Role.REGISTRAR).get(SITES).status_code == 200


def test_inactive_users_session_gets_401(db, user_of_role):
    # given a signed-in user who is then deactivated
    user = user_of_role(Role.VIEWER)
    client = Client()
    client.force_login(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    # then
    assert client.get(SITES).status_code == 401


# --- unsafe methods: the session needs its CSRF token, a token does not -------------------------


@pytest.mark.urls("tests.api.probe_urls")
@pytest.mark.parametrize(
    "cookie_and_header",
    [
        pytest.param({}, id="no-cookie-no-header"),
        pytest.param({"cookie": "a" * 32}, id="cookie-without-header"),
        pytest.param({"cookie": "a" * 32, "header": "b" * 32}, id="wrong-header"),
    ],
)
def test_session_post_without_its_csrf_token_is_refused_saying_what_to_send(
    db, user_of_role, cookie_and_header
):
    # given a signed-in browser whose request does not carry the right CSRF token
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_of_role(Role.COORDINATOR))
    if "cookie" in cookie_and_header:
        client.cookies["csrftoken"] = cookie_and_header["cookie"]
    headers = {"HTTP_X_CSRFTOKEN": cookie_and_header["header"]} if "header" in cookie_and_header else {}
    # when it posts
    response = client.post("/probe/echo", **headers)
    # then it is refused (403), told which cookie goes in which header, and that a script uses a token
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert detail == CSRF_REFUSED
    assert "CSRF check Failed" not in detail
    assert "csrftoken cookie in an X-CSRFToken header" in detail
    assert "Authorization: Bearer <token>" in detail


@pytest.mark.urls("tests.api.probe_urls")
def test_session_post_with_csrf_token_passes(db, user_of_role):
    # given a signed-in browser that holds its CSRF cookie
    user = user_of_role(Role.COORDINATOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = "a" * 32
    # when it sends the token back in the header
    response = client.post("/probe/echo", HTTP_X_CSRFTOKEN="a" * 32)
    # then
    assert response.status_code == 200
    assert response.json() == {"username": user.get_username()}


@pytest.mark.urls("tests.api.probe_urls")
def test_token_post_needs_no_csrf_token(db, token_for):
    user = make_user(Role.COORDINATOR)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    assert client.post("/probe/echo").status_code == 200


@pytest.mark.urls("tests.api.probe_urls")
def test_anonymous_post_gets_401_not_a_csrf_error(db):
    assert Client(enforce_csrf_checks=True).post("/probe/echo").status_code == 401


def test_a_revoked_an_unknown_or_a_deactivated_users_token_is_logged_never_itself(db, token_for, caplog):
    # given a revoked token, a token of a deactivated user, an unknown token and a foreign one
    revoked_user, gone_user = make_user(Role.VIEWER), make_user(Role.VIEWER)
    revoked, gone = token_for(revoked_user), token_for(gone_user)
    revoked_token = ApiToken.objects.get(user=revoked_user)
    token_revoke(actor=None, token_id=revoked_token.pk)
    ApiToken.objects.filter(pk=revoked_token.pk).update(revoked_at=EXPIRED_AT)
    gone_token = ApiToken.objects.get(user=gone_user)
    get_user_model().objects.filter(pk=gone_user.pk).update(is_active=False)
    unknown = "rop_NoSuchTokenAtAll0123456789"
    # when each is used
    with caplog.at_level(logging.WARNING):
        answers = [
            Client(HTTP_AUTHORIZATION=f"Bearer {plain}").get(SITES).status_code
            for plain in (revoked, gone, unknown, "sk_live_abc")
        ]
    # then each is refused (401), and the log says which token of whom, or that it is unknown
    assert answers == [401] * 4
    auth = [r.getMessage() for r in caplog.records if r.name == "reliefops.auth"]
    assert auth == [
        f"API token {revoked_token.pk} ({revoked_token.prefix}…) of user '{revoked_user.get_username()}' "
        "refused: it was revoked on 2026-03-01 10:00",
        f"API token {gone_token.pk} ({gone_token.prefix}…) of user '{gone_user.get_username()}' "
        "refused: the user is deactivated",
        "an unknown API token (rop_NoSuchTo…) refused",
        "an API token refused: it is not one of reliefops's (they begin rop_)",
    ]
    # and never a token itself
    for plain in (revoked, gone, unknown):
        assert plain not in caplog.text
