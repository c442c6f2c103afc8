"""A read refused for a bad period does not say that "nothing was written": reads write nothing. The
API's GETs say "1 problem in the request; nothing was done", as any refused request does; the list
and report pages say that nothing is shown for these filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reliefops.core.roles import Role
from tests.stock.entrypoints.conftest import api_as, stocked, web_as  # noqa: F401
from tests.stock.entrypoints.test_views import text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        pytest.param(
            "/api/stock/movements", {"start": "2005-12-01", "end": "2005-11-01"}, "start", id="movements"
        ),
        pytest.param(
            "/api/stock/sites/BLK-HUB/items/BLANKET/card",
            {"start": "2005-12-01", "end": "2005-11-01"},
            "start",
            id="stock-card",
        ),
        pytest.param(
            "/api/cluster/gaps", {"period_from": "2005-12", "period_to": "2005-11"}, "period_to", id="gaps"
        ),
        pytest.param(
            "/api/cluster/matrix",
            {"period_from": "2005-12", "period_to": "2005-11"},
            "period_to",
            id="matrix",
        ),
        pytest.param("/api/stock/on-hand", {"site": "NO-SUCH-SITE"}, "site", id="on-hand-unknown-site"),
    ],
)
def test_an_api_read_refused_does_not_speak_of_writing(stocked, api_as, path, params, field):  # noqa: F811
    # when a GET is refused for one of its parameters
    response = api_as(Role.ADMIN).client.get(path, params)
    # then it is 422 naming the parameter, in words that fit a read
    assert response.status_code == 422, response.content
    body = response.json()
    assert [problem["field"] for problem in body["problems"]] == [field]
    assert body["detail"] == "1 problem in the request; nothing was done"


def test_a_write_refused_still_says_nothing_was_written(stocked, api_as):  # noqa: F811
    response = api_as(Role.ADMIN).post(
        "/losses", {"site": "BLK-HUB", "reason": "weather", "lines": [], "note": "the roof fell in"}
    )
    assert response.status_code == 422
    assert response.json()["detail"].endswith("; nothing was written")


@pytest.mark.parametrize(
    ("url", "params"),
    [
        pytest.param("stock:movement-list", {"start": "2005-12-01", "end": "2005-11-01"}, id="movements"),
        pytest.param("stock:movement-list", {"start": "2005-13-45"}, id="movements-no-day"),
        pytest.param(
            "stock:onhand-card",
            {"site": "1", "item": "BLANKET", "start": "2005-12-01", "end": "2005-11-01"},
            id="stock-card",
        ),
        pytest.param("reports:distributed", {"start": "2005-12-01", "end": "2005-11-01"}, id="distributed"),
        pytest.param("reports:sitrep", {"start": "2005-13-01"}, id="sitrep"),
        pytest.param("web:home", {"start": "2005-12-01", "end": "2005-11-01"}, id="dashboard"),
    ],
)
def test_a_page_read_refused_says_nothing_is_shown_and_nothing_of_writing(stocked, web_as, url, params):  # noqa: F811
    body = text(web_as(Role.ADMIN).get(reverse(url), params))
    assert "nothing was written" not in body.lower()
    assert "nothing is shown" in body.lower() or "nothing is listed" in body.lower() or "errorlist" in body
