"""core.logs: a refusal is one line of the server's log (who, where, why); a server error keeps its
traceback."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.test import Client
from django.urls import reverse

from reliefops.core.logs import QueryStringsLeftOut, RefusalOnOneLine, SuspiciousRequestOnOneLine
from reliefops.core.roles import Role
from reliefops.core.services import token_create
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_refusal_is_logged_on_one_line_with_who_where_and_why(caplog, user_of_role):
    # given a hub manager, who sees only their own sites
    manager = user_of_role(Role.HUB_MANAGER, hubs=[SiteFactory()])
    client = Client()
    client.force_login(manager)
    # when they open the donor reports, which add up every site
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("reports:donor-list"))
    # then they are refused, and the log says so in one line, with no traceback
    assert response.status_code == 403
    [record] = request_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        f"Forbidden (Permission denied): /reports/donors/: user {manager.username}: "
        "this report adds up the stock of every site; your role sees only your own sites"
    )
    assert "Traceback" not in caplog.text


def test_an_anonymous_caller_is_sent_to_sign_in_and_no_refusal_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = Client().get(reverse("reports:donor-list"))
    # the page sends them to sign in: nothing is refused, nothing is logged as refused
    assert response.status_code == 302
    assert not [r for r in request_records(caplog) if "Forbidden" in r.getMessage()]


def test_a_reason_cannot_forge_a_second_log_line(rf):
    # given a refusal whose reason carries a line break (site names come from reference data)
    refused = PermissionDenied("you may not post stock at Bagh\nERROR forged line")
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Forbidden (Permission denied): %s",
        ("/x",),
        (PermissionDenied, refused, None),
    )
    record.request = rf.get("/x")
    # when the filter writes it
    assert RefusalOnOneLine().filter(record)
    # then it stays one line
    assert record.getMessage() == (
        "Forbidden (Permission denied): /x: an anonymous user: "
        "you may not post stock at Bagh\\nERROR forged line"
    )


def test_a_server_error_keeps_its_traceback(caplog, user_of_role, monkeypatch):
    # given a page that fails
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("reliefops.web.views.selectors.reference_overview", broken)
    client = Client(raise_request_exception=False)
    client.force_login(user_of_role(Role.VIEWER))
    # when it is opened
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("web:reference"))
    # then the error is logged with its traceback
    assert response.status_code == 500
    [record] = request_records(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert "RuntimeError: the disk is full" in caplog.text
    assert "Traceback" in caplog.text


# --- API refusals and suspicious requests ---------------------------------------------------------


def test_an_api_refusal_is_logged_on_one_line_with_who_and_why(caplog, user_of_role):
    # given a viewer calling the API with a token
    viewer = user_of_role(Role.VIEWER)
    _, token = token_create(actor=None, username=viewer.username)
    # when they ask for the households' register, which their role does not open
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = Client().get("/api/households/households", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then they are refused with a reason, and the log gives who and that reason on one line
    assert response.status_code == 403
    reason = response.json()["detail"]
    [record] = request_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"Forbidden (Permission denied): /api/households/households: user {viewer.username}: {reason}"
    )


def test_an_api_call_refused_for_want_of_sign_in_keeps_djangos_line(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = Client().get("/api/households/households")
    assert response.status_code == 401
    assert [r.getMessage() for r in request_records(caplog)] == ["Unauthorized: /api/households/households"]


def test_a_request_for_an_unknown_host_is_one_warning_line(caplog):
    # when a scanner asks for a host name the server does not answer to
    with caplog.at_level(logging.WARNING, logger="django.security"):
        response = Client(HTTP_HOST="evil.com").get("/login/")
    # then it gets 400, and the log has one line saying so, without a traceback
    assert response.status_code == 400
    [record] = [r for r in caplog.records if r.name.startswith("django.security")]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        "Bad request (DisallowedHost): /login/: Invalid HTTP_HOST header: 'evil.com'. "
        "You may need to add 'evil.com' to ALLOWED_HOSTS."
    )
    assert "Traceback" not in caplog.text


def test_a_forged_host_cannot_forge_a_log_line(rf):
    record = logging.LogRecord(
        "django.security.DisallowedHost", logging.ERROR, __file__, 1, "%s", ("x",),
        (DisallowedHost, DisallowedHost("Invalid HTTP_HOST header: 'a\nERROR forged'"), None),
    )  # fmt: skip
    record.request = rf.get("/x")
    assert SuspiciousRequestOnOneLine().filter(record)
    assert (
        record.getMessage()
        == "Bad request (DisallowedHost): /x: Invalid HTTP_HOST header: 'a\\nERROR forged'"
    )


def test_the_development_servers_request_lines_leave_out_each_query_string():
    # given the request line of a search by identity number, as the development server logs it
    line = "GET /households/registry/?q=13202-7435618&page=2 HTTP/1.1"
    logger = logging.getLogger("django.server")
    written: list[str] = []

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.append(record.getMessage())

    kept = Kept()
    logger.addHandler(kept)
    try:
        logger.info('"%s" %s %s', line, "200", "6238")
    finally:
        logger.removeHandler(kept)
    # then the logger reliefops configures for it keeps the path and leaves out the search
    assert any(isinstance(f, QueryStringsLeftOut) for f in logger.filters)
    assert written == ['"GET /households/registry/?… HTTP/1.1" 200 6238']


def test_gunicorns_access_log_leaves_out_query_strings_and_referrers():
    from reliefops import gunicorn_config

    # the path without its query (%(U)s), never the request line (%(r)s), the query (%(q)s), the
    # address with its query (%({raw_uri}e)s) or the referring page (%(f)s), which holds its query
    kept = gunicorn_config.access_log_format
    assert "%(U)s" in kept
    assert not any(atom in kept for atom in ("%(r)s", "%(q)s", "%(f)s", "raw_uri"))
    assert gunicorn_config.accesslog == "-"
