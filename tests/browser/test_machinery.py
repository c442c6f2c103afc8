"""The browser fixtures: a missing Chromium skips the browser tests, or fails them in CI."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import chromium_executable, pytest_collection_modifyitems


def test_a_missing_chromium_skips_with_how_to_install_it(tmp_path):
    environ = {"RELIEFOPS_CHROMIUM": str(tmp_path / "no-chromium")}
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install chromium.*RELIEFOPS_CHROMIUM"):
        chromium_executable(environ)


def test_a_missing_chromium_fails_when_a_browser_is_required(tmp_path):
    environ = {"RELIEFOPS_CHROMIUM": str(tmp_path / "no-chromium"), "RELIEFOPS_REQUIRE_BROWSER": "1"}
    with pytest.raises(pytest.fail.Exception, match="RELIEFOPS_REQUIRE_BROWSER=1"):
        chromium_executable(environ)


def test_a_file_that_cannot_run_is_no_chromium(tmp_path):
    not_executable = tmp_path / "chromium"
    not_executable.write_text("")
    with pytest.raises(pytest.skip.Exception):
        chromium_executable({"RELIEFOPS_CHROMIUM": str(not_executable)})


def test_an_executable_is_used(tmp_path):
    executable = tmp_path / "chromium"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    assert chromium_executable({"RELIEFOPS_CHROMIUM": str(executable)}) == str(executable)


class _Item:
    def __init__(self, nodeid: str, fixtures: tuple[str, ...], marked: bool) -> None:
        self.nodeid, self.fixturenames, self.marked = nodeid, fixtures, marked

    def get_closest_marker(self, name: str) -> object | None:
        return object() if self.marked and name == "browser" else None


def test_a_test_driving_chromium_without_the_browser_mark_stops_the_run():
    # given tests of which one uses the browser fixtures without the mark that selects them
    items = [
        _Item("t.py::marked", ("page", "browser"), marked=True),
        _Item("t.py::no_browser", ("db",), marked=False),
        _Item("t.py::unmarked", ("signed_in_page", "browser_context", "browser"), marked=False),
    ]
    # when they are collected, the run stops naming that one alone
    with pytest.raises(pytest.UsageError, match=r"not marked @pytest.mark.browser: t.py::unmarked$"):
        pytest_collection_modifyitems(None, items)
    # and without it, collection goes on
    pytest_collection_modifyitems(None, items[:2])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_request_to_another_host_is_refused_and_recorded(page, traffic):
    # given a blank page (this server's pages carry a content security policy that stops such a
    # request in the browser before the fixture could see it)
    page.goto("about:blank")
    # when a script asks another host for something
    outcome = page.evaluate("fetch('https://cdn.example.org/lib.js').then(() => 'loaded', () => 'refused')")
    # then the request never leaves the machine, and is on record for the fixture to fail the test
    assert outcome == "refused"
    assert traffic.foreign == ["https://cdn.example.org/lib.js"]
    traffic.foreign.clear()  # this test wanted it; any other test would fail at teardown
