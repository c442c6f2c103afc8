"""A page address the site cannot read answers with a page of the site's own, naming the reason."""

from __future__ import annotations

import pytest

from reliefops.core.roles import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_nul_character_in_a_page_address_answers_the_sites_own_400_page(client):
    # given a signed-in coordinator who follows an address holding a NUL character
    client.force_login(make_user(Role.ADMIN))
    page = client.get("/cluster/matrix/?within=PK%00")
    # then the answer is a page of the site, in HTML, naming the parameter and what to do
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "<h1>This address cannot be read</h1>" in text
    assert "The parameter within of the address" in text
    assert "Back to the dashboard" in text


def test_djangos_own_bad_requests_use_the_same_page(client, settings):
    # given a request for a host the site does not serve (Django refuses it as a bad request)
    settings.DEBUG = False
    page = client.get("/", HTTP_HOST="elsewhere.invalid")
    # then the page is the site's own, without a reason of the request's making
    assert page.status_code == 400
    assert "This address cannot be read" in page.content.decode()
