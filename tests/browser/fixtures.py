"""Browser tests in a real headless Chromium (Debian's), driven by Playwright's sync API.

Fixtures for any app's browser tests (a plugin of the root conftest, so that each is defined once
and a test worker starts one Playwright and one Chromium, whichever folder its tests are in):
- `browser`: one Chromium per test process (per xdist worker);
- `browser_context`: a fresh context per test, against pytest-django's `live_server`, that records
  every request and refuses (and fails the test for) any request to another host: field hubs are
  offline, so a page must load nothing from the internet;
- `page`: a page of that context, nobody signed in;
- `signed_in_page(role, **scope)`: a page signed in as a new user of the role.

Chromium is found at RELIEFOPS_CHROMIUM (default /usr/bin/chromium). When it is missing the tests
are skipped, unless RELIEFOPS_REQUIRE_BROWSER=1 (as in CI), which makes them fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from reliefops.core.roles import Role
from reliefops.env import env
from tests.factories import make_user

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told that this is safe (it is: the loop never runs Django code).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery"  # the factories' password
TIMEOUT_MS = 15_000


def chromium_executable(environ: Mapping[str, str] | None = None) -> str:
    """The Chromium to drive; skips the test when there is none, or fails it when one is required."""
    source = os.environ if environ is None else environ
    path = str(env("RELIEFOPS_CHROMIUM", source))
    if Path(path).is_file() and os.access(path, os.X_OK):
        return path
    message = (
        f"no Chromium at {path}: install it (`apt-get install chromium` on Debian/Ubuntu) "
        "or set RELIEFOPS_CHROMIUM to the path of a Chromium executable"
    )
    if source.get("RELIEFOPS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (RELIEFOPS_REQUIRE_BROWSER=1 makes a missing browser a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return chromium_executable()


@pytest.fixture(scope="session")
def playwright(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Any, chromium_path: str) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Traffic:
    """What the pages of one test asked for."""

    server: str
    requested: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [urlsplit(url).path for url in self.requested]


@pytest.fixture
def traffic(live_server: Any) -> Traffic:
    return Traffic(server=urlsplit(live_server.url).netloc)


@pytest.fixture
def browser_context(browser: Any, live_server: Any, traffic: Traffic) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)

    def only_this_server(route: Any) -> None:
        url = route.request.url
        traffic.requested.append(url)
        if urlsplit(url).netloc != traffic.server and not url.startswith(("data:", "blob:")):
            traffic.foreign.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", only_this_server)
    yield context
    context.close()
    assert traffic.foreign == [], f"pages asked another host for {traffic.foreign}"
    assert traffic.page_errors == [], f"scripts failed: {traffic.page_errors}"


def _watch(page: Any, traffic: Traffic) -> Any:
    page.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
    return page


@pytest.fixture
def page(browser_context: Any, traffic: Traffic) -> Any:
    """A page of a fresh context, nobody signed in."""
    return _watch(browser_context.new_page(), traffic)


@pytest.fixture
def signed_in_page(browser_context: Any, live_server: Any, traffic: Traffic) -> Callable[..., Any]:
    """`signed_in_page(Role.HUB_MANAGER, hubs=[site])`: a page signed in as a new user of the role.

    The session is made on the server and handed to the browser as its cookie; the sign-in form
    itself is tested in test_sign_in.py.
    """

    def sign_in(role: Role, **scope: Any) -> Any:
        user = make_user(role, **scope)
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        browser_context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        new_page = _watch(browser_context.new_page(), traffic)
        new_page.user = user
        return new_page

    return sign_in


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """A test that drives Chromium must be marked `browser`: `make test` runs the browser tests once,
    on SQLite (`-m "not browser"` leaves them out of the PostgreSQL run), so one left unmarked would
    run twice, or be missed by whoever selects the browser tests by their mark."""
    unmarked = [
        item.nodeid
        for item in items
        if "browser" in getattr(item, "fixturenames", ()) and item.get_closest_marker("browser") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests drive Chromium but are not marked @pytest.mark.browser: " + ", ".join(unmarked)
        )
