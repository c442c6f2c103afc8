"""The cluster pages' selection form: a P-code read in any case, as everywhere P-codes are read; a
refused value's reason tied to its field (the id its `aria-describedby` names), in plain words."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reliefops.core.roles import Role
from tests.cluster.test_views import picture, text  # noqa: F401

TEHSILS_OF_BATAGRAM = {"level": "tehsil", "activity": "TENTS"}


@pytest.mark.parametrize("page", ["cluster:cluster-gaps", "cluster:cluster-matrix"])
def test_within_is_read_in_any_case(picture, client_as, page):  # noqa: F811
    client = client_as(Role.COORDINATOR)
    # given the tehsils of Batagram asked for with its P-code as stored
    upper = client.get(reverse(page), {**TEHSILS_OF_BATAGRAM, "within": "PK504"})
    assert upper.status_code == 200
    # when the P-code is written in lower case
    lower = client.get(reverse(page), {**TEHSILS_OF_BATAGRAM, "within": "pk504"})
    # then the page is the same, Batagram chosen in the list (its links keep what was written)
    assert lower.status_code == 200, text(lower)[:2000]
    body = text(lower)
    assert re.search(r'<option value="PK504" selected>', body)
    assert "not the P-code" not in body
    assert without_token(body).replace("pk504", "PK504") == without_token(text(upper))


def without_token(body: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def test_the_rows_page_reads_within_in_any_case(picture, client_as):  # noqa: F811
    client = client_as(Role.COORDINATOR)
    response = client.get(reverse("cluster:cluster-rows"), {"within": "pk504"})
    assert response.status_code == 200
    assert "NRC-1" in text(response)


def test_a_month_that_is_not_one_is_said_like_the_other_refusals(picture, client_as):  # noqa: F811
    response = client_as(Role.COORDINATOR).get(reverse("cluster:cluster-gaps"), {"period_from": "2005-13"})
    assert response.status_code == 422
    body = text(response)
    assert "&#x27;2005-13&#x27; is not a month; write it as YYYY-MM" in body
    assert "Enter a valid date" not in body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"period_from": "2005-13"}, "period_from", id="month"),
        pytest.param({"within": "PK999"}, "within", id="within"),
        pytest.param({"activity": "NOPE"}, "activity", id="activity"),
    ],
)
def test_a_refused_fields_description_is_its_reason(picture, client_as, query, field):  # noqa: F811
    # given a filter the gap page cannot read
    response = client_as(Role.COORDINATOR).get(reverse("cluster:cluster-gaps"), query)
    assert response.status_code == 422
    body = text(response)
    # then the field points at an element of the page, and that element holds the reason
    tag = re.search(rf'<(?:input|select)[^>]*\bname="{field}"[^>]*>', body)
    assert tag is not None
    described = re.search(r'aria-describedby="([^"]+)"', tag[0])
    assert described is not None, tag[0]
    assert described[1] == f"id_{field}_error"
    element = re.search(rf'<span id="{described[1]}"><span class="field-error">([^<]+)</span>', body)
    assert element is not None
    assert element[1].strip()
