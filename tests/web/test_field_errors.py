"""A refused filter's reason is tied to its field: the field's `aria-describedby` names an element
of the page that holds the reason, so that a screen reader reads it with the field."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reliefops.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "field"),
    [
        pytest.param(reverse("web:home") + "?start=garbage", "start", id="dashboard-period"),
        pytest.param(reverse("reports:sitrep") + "?end=2005-13-01", "end", id="sitrep-period"),
        pytest.param(reverse("web:adminarea-list") + "?level=x", "level", id="list-filter"),
    ],
)
def test_a_refused_fields_description_is_its_reason(kashmir, client_as, url, field):
    # given a filter the page cannot read
    response = client_as(Role.COORDINATOR).get(url)
    assert response.status_code == 422
    body = response.content.decode()
    # then the field points at its description, and the page holds it, with the reason inside
    tag = re.search(rf'<(?:input|select)[^>]*\bname="{field}"[^>]*>', body)
    assert tag is not None
    described = re.search(r'aria-describedby="([^"]+)"', tag[0])
    assert described is not None, tag[0]
    for ident in described[1].split():
        element = re.search(rf'<[a-z]+[^>]*\bid="{ident}"[^>]*>(.*?)</span>', body, re.S)
        assert element is not None, ident
    error = body.split(f'id="id_{field}_error"', 1)[1].split("</span>", 1)[0]
    assert re.sub(r"<[^>]+>", "", error.split(">", 1)[1]).strip()
