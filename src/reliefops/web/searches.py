"""Searches of households' personal data, kept out of the page's address.

A name, a father's name, an identity number, a phone or a village in an address stays in the
browser's history, in its address bar's suggestions and in the Referer header of the next request,
on laptops, tablets and phones that several staff share. So a page that searches personal data
takes its search by POST (with the CSRF token), seals the words into a handle that only the
user's session can read, and redirects (303) to its own address with `?s=<handle>` beside the filters
that are not personal (a status, a point, a day), which paging, downloads and the back button keep.
An address that still carries the words (`?q=`, an old bookmark) is redirected the same way.

A handle is the words sealed (AES-GCM) with a key made of the session's own key and the site's
secret key, bound to the user and the page it was made for: it is read only in the session that
made it, by that user, on that page, and it ends with the session (signing out, or its idle or age
limit), since no other session has its key. Nothing is stored on the server: two searches typed at
once (two tabs, a slow answer to search-as-you-type) cannot undo each other. The same words on the
same page give the same handle. A handle that cannot be read shows the page with an empty search
and a short message, never an error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict

HANDLE = "s"
# What a search of households' personal data is typed into: the filter forms' `q`.
PERSONAL = ("q",)
# Characters kept of a search: more than any search field takes, so that its form still refuses
# a search too long, and few enough that its address stays short.
LONGEST = 200
# A handle longer than any this module makes is not read.
HANDLE_MAX = 4 * LONGEST
STALE = (
    "That search is no longer kept: a search stays only while you are signed in, on the device "
    "where you typed it. Type it again."
)

_NONCE = 12  # bytes, as AES-GCM takes them
# Neither words nor state: not carried into the address.
_DROPPED = {"csrfmiddlewaretoken", HANDLE, "page"}


@dataclass(frozen=True)
class KeptSearch:
    """What a page's filter form reads (the address's filters and the words its handle holds), and
    whether the address named a handle that cannot be read."""

    data: QueryDict
    stale: bool

    @property
    def stale_message(self) -> str:
        """What the page says of a handle it could not read (STALE), or nothing."""
        return STALE if self.stale else ""


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
    """The filters of the address with the words its handle (`?s=`) holds."""
    data = request.GET.copy()
    for name in personal:
        data.pop(name, None)
    handle = data.pop(HANDLE, [""])[-1]
    if not handle:
        return KeptSearch(data=data, stale=False)
    words = _open(request, request.path, handle)
    if words is None:
        return KeptSearch(data=data, stale=True)
    for name in personal:
        text = words.get(name, "")
        data[name] = text if isinstance(text, str) else ""
    return KeptSearch(data=data, stale=False)


def _key(request: HttpRequest) -> bytes | None:
    """This session's key for its searches: none for a request without a session key."""
    session_key = request.session.session_key
    if not session_key:
        return None
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, b"reliefops.web.searches:" + session_key.encode(), hashlib.sha256).digest()


def _bound_to(request: HttpRequest, page: str) -> bytes:
    return f"{request.user.pk}:{page}".encode()


def _keep(request: HttpRequest, page: str, words: dict[str, str]) -> str:
    """The handle of these words on this page for this user, in this session: the words sealed.
    Its nonce is drawn from the words and the page, so that the same search has the same handle
    (one entry in the browser's history, however often it is typed again)."""
    if request.session.session_key is None:
        request.session.save()
    key = _key(request)
    assert key is not None  # noqa: S101 - saved just above
    text = json.dumps(words, sort_keys=True, separators=(",", ":")).encode()
    bound = _bound_to(request, page)
    nonce = hmac.new(key, bound + b"\0" + text, hashlib.sha256).digest()[:_NONCE]
    sealed = nonce + AESGCM(key).encrypt(nonce, text, bound)
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def _open(request: HttpRequest, page: str, handle: str) -> dict[str, object] | None:
    """The words a handle holds, or None when this session, user and page did not make it."""
    key = _key(request)
    if key is None or len(handle) > HANDLE_MAX:
        return None
    try:
        sealed = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4))
        text = AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], _bound_to(request, page))
        words = json.loads(text)
    except (binascii.Error, ValueError, InvalidTag):
        return None
    return words if isinstance(words, dict) else None
