"""Searches of households' personal data, kept out of the page's address.

A name, a father's name, an identity number, a phone or a village in an address stays in the
browser's history, in its address bar's suggestions and in the Referer header of the next request,
on laptops, tablets and phones that several staff share. So a page that searches personal data
takes its search by POST (with the CSRF token), keeps the words in the user's session under a
short random handle, and redirects (303) to its own address with `?s=<handle>` beside the filters
that are not personal (a status, a point, a day), which paging, downloads and the back button keep.
An address that still carries the words (`?q=`, an old bookmark) is redirected the same way.

A handle is read only in the session that made it, for the user who made it and on the page it was
made for: it ends with the session (signing out, or its idle or age limit) and when it is one of
the oldest beyond SEARCHES_KEPT. A handle that is not kept shows the page with an empty search and
a short message, never an error.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict

HANDLE = "s"
# What a search of households' personal data is typed into: the filter forms' `q`.
PERSONAL = ("q",)
# The searches a session keeps: the back button reaches this many; older ones are forgotten.
SEARCHES_KEPT = 20
# Characters kept of a search: more than any search field takes, so that its form still refuses
# a search too long, and few enough that a session stays small.
LONGEST = 1000
STALE = (
    "That search is no longer kept: a search stays only while you are signed in, on the device "
    "where you typed it. Type it again."
)

_SESSION_KEY = "reliefops_searches"
# Neither words nor state: not carried into the address.
_DROPPED = {"csrfmiddlewaretoken", HANDLE, "page"}


@dataclass(frozen=True)
class KeptSearch:
    """What a page's filter form reads (the address's filters and the words kept for its handle),
    and whether the address named a handle that is not kept."""

    data: QueryDict
    stale: bool


def search_redirect(
    request: HttpRequest, *, page: str | None = None, personal: Sequence[str] = PERSONAL
) -> HttpResponse | None:
    """The redirect to `page` (the request's own address when not given) for a search posted to
    it, or for an address that carries its words; None when there is nothing to move."""
    if request.method == "POST":
        source = request.POST
    elif any(name in request.GET for name in personal):
        source = request.GET
    else:
        return None
    target = page or request.path
    query = QueryDict(mutable=True)
    for key, values in source.lists():
        given = [value for value in values if value != ""]  # an empty filter is not set
        if key not in _DROPPED and key not in personal and given:
            query.setlist(key, given)
    words = {name: source.get(name, "")[:LONGEST] for name in personal}
    if any(text.strip() for text in words.values()):
        query[HANDLE] = _keep(request, target, words)
    response = HttpResponseRedirect(f"{target}?{query.urlencode()}" if query else target)
    response.status_code = 303  # a POST's answer is fetched with GET, by a browser and by htmx
    return response


def kept_search(request: HttpRequest, *, personal: Sequence[str] = PERSONAL) -> KeptSearch:
    """The filters of the address with the words kept for its handle (`?s=`)."""
    data = request.GET.copy()
    for name in personal:
        data.pop(name, None)
    handle = data.pop(HANDLE, [""])[-1]
    if not handle:
        return KeptSearch(data=data, stale=False)
    entry = request.session.get(_SESSION_KEY, {}).get(handle)
    if not _belongs(entry, request, request.path):
        return KeptSearch(data=data, stale=True)
    for name in personal:
        data[name] = entry["words"].get(name, "")
    return KeptSearch(data=data, stale=False)


def _belongs(entry: Any, request: HttpRequest, path: str) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("user") == request.user.pk
        and entry.get("page") == path
        and isinstance(entry.get("words"), dict)
    )


def _keep(request: HttpRequest, page: str, words: dict[str, str]) -> str:
    """The handle of these words on this page in the user's session: the one they already have,
    or a new one (the oldest handles beyond SEARCHES_KEPT are forgotten)."""
    kept: dict[str, Any] = dict(request.session.get(_SESSION_KEY, {}))
    entry = {"user": request.user.pk, "page": page, "words": words}
    handle = next((h for h, e in kept.items() if e == entry), None)
    if handle is None:
        handle = secrets.token_urlsafe(6)
        while handle in kept:
            handle = secrets.token_urlsafe(6)
    kept.pop(handle, None)
    kept[handle] = entry  # the newest last: the session keeps the order
    for oldest in list(kept)[:-SEARCHES_KEPT]:
        del kept[oldest]
    request.session[_SESSION_KEY] = kept
    return handle
