"""/api/docs in a real headless Chromium: the page renders the API with no request leaving the server."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_docs_render_offline(browser_context, traffic, live_server):
    # (the browser fixtures record and refuse any request to another host, as it would fail in the field)
    page = browser_context.new_page()
    # when
    page.goto(f"{live_server.url}/api/docs")
    # then nothing was asked of another host, and Swagger UI has drawn the operations
    assert traffic.foreign == []
    page.wait_for_selector('[data-path="/api/places/admin-areas/{pcode}"]', timeout=15_000)
    assert page.locator(".opblock").count() >= 13
