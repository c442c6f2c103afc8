"""Field hubs are offline: no page and no static file may point the browser at another host."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

import reliefops
from reliefops.core.roles import Role
from tests.web.pages import PAGES

URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'<>)]*""")
# XML namespace names identify a vocabulary; a browser never fetches them.
XML_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
PACKAGE = Path(reliefops.__file__).parent
VENDOR = PACKAGE / "web" / "static" / "web" / "vendor"
# Leaflet's attribution control links to its home page; the map turns that control off
# (checked below), so the link is never put on a page.
VENDORED_LINKS = {VENDOR / "leaflet" / "leaflet.js": ["https://leafletjs.com"]}
MAP_JS = PACKAGE / "reports" / "static" / "reports" / "map.js"
STATIC_FILES = sorted(
    path
    for path in PACKAGE.glob("*/static/**/*")
    if path.is_file() and path.suffix in {".css", ".js", ".svg", ".html", ".map", ".json"}
)


def external_urls(text: str) -> list[str]:
    def host(url: str) -> str | None:
        return urlsplit(url if "://" in url else "http:" + url).hostname

    return [url for url in URL.findall(text) if url not in XML_NAMESPACES and host(url) != "testserver"]


def test_the_pattern_finds_what_it_must():
    # a check that finds nothing must be able to find something
    page = '<link href="https://cdn.example.org/x.css"><script src="//unpkg.com/htmx.org"></script>'
    css = "@import url(http://fonts.googleapis.com/css?family=Roboto);"
    assert external_urls(page) == ["https://cdn.example.org/x.css", "//unpkg.com/htmx.org"]
    assert external_urls(css) == ["http://fonts.googleapis.com/css?family=Roboto"]
    assert external_urls('<svg xmlns="http://www.w3.org/2000/svg">') == []
    assert external_urls('<a href="http://testserver/places/">') == []


def test_static_files_are_found():
    names = {path.name for path in STATIC_FILES}
    assert {"reliefops.css", "htmx.min.js", "favicon.svg"} <= names


def code_of(path: Path) -> str:
    """A static file's text without its block comments (licence headers, links to bug reports)."""
    text = path.read_text(encoding="utf-8")
    return BLOCK_COMMENT.sub("", text) if path.suffix in {".css", ".js"} else text


def test_comments_are_the_only_thing_left_out(tmp_path):
    path = tmp_path / "x.css"
    css = "/* see https://bugs.example.org/1 */ a { background: url(https://cdn.example.org/x.png) }"
    path.write_text(css)
    assert external_urls(code_of(path)) == ["https://cdn.example.org/x.png"]


@pytest.mark.parametrize("path", STATIC_FILES, ids=lambda p: p.name)
def test_static_file_names_no_other_host(path):
    urls = [url for url in external_urls(code_of(path)) if url not in VENDORED_LINKS.get(path, [])]
    assert urls == []


def test_the_map_turns_off_leaflets_linked_attribution():
    assert "attributionControl: false" in MAP_JS.read_text(encoding="utf-8")


@pytest.mark.parametrize(("page_id", "url_of"), PAGES, ids=[page_id for page_id, _ in PAGES])
def test_page_names_no_other_host(kashmir, client_as, page_id, url_of):
    response = client_as(Role.ADMIN).get(url_of(kashmir))
    assert response.status_code == 200
    assert external_urls(response.content.decode()) == []


@pytest.mark.parametrize(
    ("url", "status"),
    [
        pytest.param(reverse("web:login"), 200, id="sign-in"),
        pytest.param("/no/such/page/", 404, id="not-found"),
        pytest.param(reverse("admin:index"), 200, id="admin-index"),
        pytest.param(reverse("admin:places_site_changelist"), 200, id="admin-list"),
    ],
)
def test_other_pages_name_no_other_host(kashmir, client_as, url, status):
    client = client_as(Role.ADMIN) if "admin" in url else client_as(None)
    response = client.get(url)
    assert response.status_code == status
    assert external_urls(response.content.decode()) == []


def test_htmx_is_served_by_the_app(client):
    # the layout loads htmx from the app's own static files
    body = client.get(reverse("web:login")).content.decode()
    match = re.search(r'<script src="([^"]+htmx\.min\.js)"', body)
    assert match is not None
    assert match.group(1).startswith("/static/")
