"""The apps' static files, served by the application: the same files and headers as whitenoise's own
middleware gives, with the table of files made once per process."""

from __future__ import annotations

from unittest import mock

from django.test import Client, override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

from reliefops.core.static import StaticFilesMiddleware


def _table(middleware) -> dict[str, str]:
    """Each URL's file paths and headers, as whitenoise holds them (a redirect: what it answers)."""
    table = {}
    for url, served in middleware.files.items():
        if hasattr(served, "alternatives"):
            table[url] = repr([(path, headers) for _, path, headers in served.alternatives])
        else:
            table[url] = repr(served.response.headers)
    return table


def _cache_control(middleware, url: str) -> str:
    return dict(middleware.files[url].alternatives[-1][2])["Cache-Control"]


def test_the_table_is_whitenoises_own():
    # given whitenoise's middleware and ours, made under the same settings
    theirs = WhiteNoiseMiddleware(get_response=lambda request: None)
    ours = StaticFilesMiddleware(get_response=lambda request: None)
    # then both serve the same files, from the same paths, with the same headers
    assert _table(ours) == _table(theirs)
    assert "/static/web/reliefops.css" in ours.files


def test_a_second_middleware_takes_the_first_ones_table_without_looking_at_the_files_again():
    # given a middleware made once already (its table kept)
    first = StaticFilesMiddleware(get_response=lambda request: None)
    # when another one is made, as the test client does for every client
    with mock.patch.object(WhiteNoiseMiddleware, "add_files_from_finders") as scan:
        second = StaticFilesMiddleware(get_response=lambda request: None)
    # then it does not scan the apps again, and it serves the same files
    scan.assert_not_called()
    assert _table(second) == _table(first)


def test_other_settings_make_a_table_of_their_own():
    # given the table made under the usual settings
    usual = StaticFilesMiddleware(get_response=lambda request: None)
    # when the files are to be kept in caches for another time
    with override_settings(WHITENOISE_MAX_AGE=12345):
        other = StaticFilesMiddleware(get_response=lambda request: None)
    # then the headers are those of the new setting, and the usual table is left as it was
    css = "/static/web/reliefops.css"
    assert "max-age=12345" in _cache_control(other, css)
    assert "max-age=12345" not in _cache_control(usual, css)
    assert "max-age=12345" not in _cache_control(StaticFilesMiddleware(lambda request: None), css)


def test_a_style_sheet_is_served_by_the_application():
    # when a browser asks for the style sheet
    response = Client().get("/static/web/reliefops.css")
    # then the application serves it
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"".join(response.streaming_content)
