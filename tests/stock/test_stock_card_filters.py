"""The stock card's filters: the site by its code (in any case) as well as its id, the item by its
code in any case; a value that is none is refused in the field's words, 422, and no card is shown
or downloaded."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reliefops.core.roles import Role
from tests.stock.entrypoints.conftest import stocked, web_as  # noqa: F401
from tests.stock.entrypoints.test_views import text

OCTOBER = {"start": "2005-10-01", "end": "2005-10-31"}


@pytest.mark.parametrize("site", ["BLK-HUB", "blk-hub", "by-id"])
def test_the_card_takes_the_site_by_its_code_or_its_id(stocked, web_as, site):  # noqa: F811
    # given the hub asked for by its code, in any case, or by its id as earlier links wrote it
    chosen = str(stocked.hub.pk) if site == "by-id" else site
    response = web_as(Role.VIEWER).get(
        reverse("stock:onhand-card"), {"site": chosen, "item": "blanket", **OCTOBER}
    )
    # then its card is shown, and the lists show the hub and the item chosen
    assert response.status_code == 200
    body = text(response)
    assert "Stock card: Blanket at Balakot hub" in body
    assert re.search(r"Closing 31 Oct 2005</dt><dd>200</dd>", body)
    assert f'<option value="{stocked.hub.pk}" selected>' in body
    assert '<option value="BLANKET" selected>' in body


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        pytest.param(
            {"site": "BLK-HUB", "item": "NOPE"},
            "item",
            "no item has the code &#x27;NOPE&#x27;; choose one from the list",
            id="item",
        ),
        pytest.param(
            {"site": "NO-SUCH", "item": "BLANKET"},
            "site",
            "no site whose stock you may see has the code &#x27;NO-SUCH&#x27;; choose one from the list",
            id="site",
        ),
        pytest.param(
            {"site": "999999", "item": "BLANKET"},
            "site",
            "no site whose stock you may see has the code &#x27;999999&#x27;; choose one from the list",
            id="site-id",
        ),
        pytest.param(
            {"site": "BLK-HUB", "item": "BLANKET", "start": "2005-13-45"},
            "start",
            "&#x27;2005-13-45&#x27; is not a date; write it as YYYY-MM-DD",
            id="start",
        ),
    ],
)
def test_a_filter_value_that_is_none_is_refused_in_its_fields_words(stocked, web_as, query, field, reason):  # noqa: F811
    client = web_as(Role.VIEWER)
    # when the card is asked for with a value that names nothing
    response = client.get(reverse("stock:onhand-card"), {**OCTOBER, **query})
    body = text(response)
    # then it answers 422, the reason beside its field, and no card
    assert response.status_code == 422
    assert re.search(rf'id="id_{field}_error"><li>{re.escape(reason)}</li>', body), body[-3000:]
    assert "Select a valid choice" not in body
    assert "Enter a valid date" not in body
    assert "Nothing is shown for these filters" in body
    assert "Closing" not in body
    assert "GRN-H1" not in body
    # and no file is made of it
    download = client.get(reverse("stock:onhand-card"), {**OCTOBER, **query, "format": "csv"})
    assert download.status_code == 422
    assert "Content-Disposition" not in download


def test_a_site_the_user_may_not_see_is_refused_as_one_that_is_none(stocked, web_as):  # noqa: F811
    # given a hub manager of Balakot hub, when the warehouse's card is asked for by its code
    response = web_as(Role.HUB_MANAGER).get(
        reverse("stock:onhand-card"), {"site": "ISB-WH", "item": "BLANKET", **OCTOBER}
    )
    # then it is refused as a site that is none, and the warehouse's stock is not shown
    assert response.status_code == 422
    body = text(response)
    assert "no site whose stock you may see has the code &#x27;ISB-WH&#x27;" in body
    assert "GRN-W1" not in body
