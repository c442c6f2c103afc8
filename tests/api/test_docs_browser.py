"""/api/docs in a real headless Chromium: the page renders the API with no request leaving the server."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_docs_render_offline(live_server):
    from playwright.sync_api import sync_playwright

    server_host = urlsplit(live_server.url).netloc
    foreign: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()

            def only_this_server(route):
                # Any request to another host is recorded and refused, as it would fail in the field.
                if urlsplit(route.request.url).netloc != server_host:
                    foreign.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()

            page.route("**/*", only_this_server)
            # when
            page.goto(f"{live_server.url}/api/docs")
            # then nothing was asked of another host, and Swagger UI has drawn the operations
            assert foreign == []
            page.wait_for_selector('[data-path="/api/places/admin-areas/{pcode}"]', timeout=15_000)
            assert page.locator(".opblock").count() >= 13
        finally:
            browser.close()
