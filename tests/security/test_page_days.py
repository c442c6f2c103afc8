"""A whole number beyond 64 bits typed into a page's day or month filter is refused by the filter as
not a date (or not a month), saying how to write one, as any other such value is; not as a number
too large for any field. Anywhere else in a page's address it is still refused before the page runs."""

from __future__ import annotations

import pytest
from django.test import Client

from reliefops.core.roles import Role
from reliefops.core.security import PAGE_DAY_PARAMETERS
from tests.factories import make_user

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"

DAY_FILTERS = [
    pytest.param("/stock/movements/", "start", "is not a date; write it as YYYY-MM-DD", id="movements-from"),
    pytest.param("/stock/movements/", "end", "is not a date; write it as YYYY-MM-DD", id="movements-to"),
    pytest.param(
        "/reports/distributed/", "start", "is not a date; write it as YYYY-MM-DD", id="distributed-from"
    ),
    pytest.param("/reports/sitrep/", "end", "is not a date; write it as YYYY-MM-DD", id="sitrep-to"),
    pytest.param("/cluster/", "period_from", "is not a month; write it as YYYY-MM", id="gaps-from-month"),
    pytest.param(
        "/cluster/matrix/", "period_to", "is not a month; write it as YYYY-MM", id="matrix-to-month"
    ),
]


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    return client


@pytest.mark.parametrize(("url", "parameter", "refusal"), DAY_FILTERS)
def test_a_huge_number_in_a_day_filter_is_refused_as_no_date(admin_client, url, parameter, refusal):
    # given an admin who typed a huge number into a page's day (or month) filter
    page = admin_client.get(f"{url}?{parameter}={HUGE}")
    # then the page itself refuses the filter, saying it is not a date and how to write one
    assert page.status_code == 422, page.content[:300]
    assert f"&#x27;{HUGE}&#x27; {refusal}" in page.content.decode()
    assert "beyond what any field holds" not in page.content.decode()


def test_every_day_parameter_the_pages_let_through_is_a_day_filter():
    # the pages' parameters let through are exactly those whose filters are checked above, and `on`
    checked = {param.values[1] for param in DAY_FILTERS}
    assert checked | {"on"} == PAGE_DAY_PARAMETERS


def test_a_huge_number_anywhere_else_in_a_page_address_is_still_refused(admin_client):
    page = admin_client.get(f"/stock/movements/?start=2005-10-08&site={HUGE}")
    assert page.status_code == 400
    assert "The parameter site of the address is a whole number beyond what any field holds" in (
        page.content.decode()
    )
