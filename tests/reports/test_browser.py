"""The report pages in a real browser: the Print button prints once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reliefops.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Counts the calls of window.print() instead of opening the print dialogue.
COUNT_PRINTS = "window.__prints = 0; window.print = function () { window.__prints += 1; };"


@pytest.mark.parametrize("page_name", ["sitrep", "donor-report"])
def test_one_click_on_print_prints_once(ledger, signed_in_page, page_name):
    # given the sitrep or a donor report, opened by a viewer
    page = signed_in_page(Role.VIEWER)
    page.add_init_script(COUNT_PRINTS)
    url = (
        reverse("reports:donor-report", args=[ledger.dfid.pk])
        if page_name == "donor-report"
        else reverse("reports:sitrep")
    )
    page.goto(url)
    page.wait_for_load_state("load")
    # when Print is clicked once
    page.get_by_role("button", name="Print").click()
    # then the page is printed once, not once per script that listens
    page.wait_for_timeout(200)
    assert page.evaluate("window.__prints") == 1
