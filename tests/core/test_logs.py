"""core.logs: a refusal is one line of the server's log (who, where, why); a server error keeps its
traceback."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from reliefops.core.logs import RefusalOnOneLine
from reliefops.core.roles import Role
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
