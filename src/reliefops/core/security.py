"""Web security that Django does not give by itself: a content security policy on every response,
sessions that end when idle or too old, and sign-in throttling.

- `SecurityHeadersMiddleware` sends a Content-Security-Policy that allows scripts, styles, images
  and connections from this server only, with no inline script or style: a page that needs
  behaviour loads a static file. (Django's own settings send nosniff, the referrer policy and
  frame denial.) Being the outermost of ours, it also answers 503 "busy, try again" (with
  Retry-After) to a request that SQLite kept waiting past its busy timeout while another
  transaction held the write lock (a large import's commit): from the page or API call itself, or
  from the save of its session, which `SessionExpiryMiddleware` watches for it. What it answers to
  a signed-in user (or an API token) is marked `Cache-Control: private, no-store`, unless the view
  set its own: households' personal data is not left in a shared laptop's browser cache.
- `SessionExpiryMiddleware` signs a browser session out after `RELIEFOPS_SESSION_IDLE` seconds
  without a request, or `RELIEFOPS_SESSION_AGE` seconds after sign-in, whichever comes first.
- `ImpossibleValuesMiddleware` refuses a request whose address or JSON body holds a NUL character
  (`%00`, `\u0000`) or a whole number beyond 64 bits: no field of ours holds one, PostgreSQL cannot
  store a NUL and SQLite's driver fails on such a number, and a NUL byte cut short by one layer and
  not by another is an old trick. (Django's form fields refuse a NUL already.) An API request is
  refused by the API's router, after the caller's right is checked and before anything is read.
- `ThrottledAuthenticationForm` refuses to check a password once a username (or an address) has
  failed too often within `RELIEFOPS_LOGIN_LOCKOUT` seconds. Failures are counted from the audit
  trail, so the count is shared by every server process and every failure is on record.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, empty

from reliefops.core.logs import one_line
from reliefops.core.models import AuditEvent
from reliefops.core.services import audit_record

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# A downloaded standalone document (the sitrep as HTML) carries its own styles and nothing else.
STANDALONE_DOCUMENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

LOGIN_FAILED = "auth.login_failed"
LOGIN_REFUSED = "auth.login_refused"
LOGIN_SUCCEEDED = "auth.login"
SESSION_EXPIRED = "auth.session_expired"

# Session keys: when the session signed in, and when it was last seen (seconds since the epoch).
_STARTED = "reliefops_signed_in_at"
_SEEN = "reliefops_seen_at"
# The last-seen time is written at most this often, so that reading pages does not write the session.
_SEEN_RESOLUTION = 60


logger = logging.getLogger("reliefops.requests")
auth_logger = logging.getLogger("reliefops.auth")

DATABASE_BUSY = "The database is busy with a long import; try again in a minute."
DATABASE_BUSY_RETRY_AFTER = 60  # seconds


def database_is_locked(exc: BaseException | None) -> bool:
    """Whether an error is, or arose from, SQLite's "database is locked": another connection held
    the write lock for longer than the busy timeout (RELIEFOPS_SQLITE_BUSY_TIMEOUT)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OperationalError) and "database is locked" in str(exc):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def database_busy_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON `{detail}` for the API, a short page for the rest. The page uses
    no context processor, so that answering it reads nothing from the database."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": DATABASE_BUSY}, status=503)
    else:
        page = render_to_string("503.html", {"message": DATABASE_BUSY})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(DATABASE_BUSY_RETRY_AFTER)
    return response


SIGNED_IN_CACHE_CONTROL = "private, no-store"


def _signed_in(request: HttpRequest) -> bool:
    """Whether a signed-in user (or an API token's) was served: a request whose user was looked at
    and is authenticated. A user never looked at is not looked up now (a query, which a locked
    database would refuse); a static asset is no user's."""
    if request.path.startswith(f"/{settings.STATIC_URL.strip('/')}/"):
        return False
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject) and getattr(user, "_wrapped", empty) is empty:
        return False
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    """Adds the content security policy to every response that does not set its own; answers 503
    to a request that found the database locked by a long write (SQLite)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(getattr(request, "session", None), "database_busy", False):
            # Its session could not be saved (core.sessions): Django answered 400, "session interrupted".
            response = database_busy_response(request)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        if "Cache-Control" not in response.headers and _signed_in(request):
            # What a signed-in user is shown (households' names and identity numbers, stock, 4W rows)
            # is kept in no cache: not on the disk of a shared field laptop after sign-out, nor by a
            # proxy. Style sheets and scripts set their own caching.
            response.headers["Cache-Control"] = SIGNED_IN_CACHE_CONTROL
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_is_locked(exception):
            return None
        logger.warning(
            "%s %s: the database is locked by another writer; answered 503", request.method, request.path
        )
        return database_busy_response(request)


NUL_REASON = "holds a NUL character (\\u0000, %00); no value may hold one: remove it"
BIG_NUMBER_REASON = "is a whole number beyond what any field holds (at most 9223372036854775807)"
_INT64_MAX = 2**63 - 1
# "\u0000" in a JSON text, unless its backslash is itself escaped ("\\u0000" is six characters).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_LONG_DIGITS = re.compile(rb"\d{19}")
_WHOLE_NUMBER = re.compile(r"\s*[+-]?\d{19,}\s*")


def _too_big(number: int) -> bool:
    return abs(number) > _INT64_MAX


def whole_id(text: object) -> int | None:
    """The id a text names: plain digits 0-9 (spaces around them allowed) of a number that fits a
    64-bit id; None for anything else. (`str.isdigit()` also takes digits that `int()` refuses, as
    in '²', and says nothing of the size.)"""
    value = str(text).strip()
    if not value or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return None if _too_big(number) else number


def _impossible_values(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(dotted path, reason) of a parsed JSON value's keys, strings and numbers that no field holds."""
    where = ".".join(path) or "body"
    if isinstance(value, str):
        if "\x00" in value:
            yield where, NUL_REASON
    elif isinstance(value, int) and not isinstance(value, bool):
        if _too_big(value):
            yield where, BIG_NUMBER_REASON
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield ".".join((*path, repr(key))), NUL_REASON
            yield from _impossible_values(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _impossible_values(item, (*path, str(index)))


# The query parameters in which the pages take a day (the filters of stock movements and cards, the
# reports' periods, the day a handover page keeps) or a month (the cluster's reporting months). A
# number beyond 64 bits typed there is let through, as no day can harm: the page's filter refuses it
# as not a date, or not a month, in the words it uses for any other such value (the handover page
# keeps no day that is none). tests/security/test_page_days.py checks each.
PAGE_DAY_PARAMETERS = frozenset({"start", "end", "on", "period_from", "period_to"})


def not_a_day(value: object) -> str:
    """Why a value is refused where a day is asked, and how to write one. The value is quoted unless
    it may be a person's data typed in the wrong field (a text with letters other than a time's T
    and Z, as a name has; eleven digits or more outside a time, as a phone or an identity number
    has): that is told by its length, never repeated."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "an empty value is not a date; write it as YYYY-MM-DD, e.g. 2005-10-08"
    text = value.strip() if isinstance(value, str) else json.dumps(value, default=str)
    named = isinstance(value, str) and _LETTERS_NOT_OF_A_TIME.search(text) is not None
    numbered = sum(c.isdigit() for c in text) >= 11 and ":" not in text
    if named or numbered:
        return f"a value of {len(text)} characters is not a date; write it as YYYY-MM-DD, e.g. 2005-10-08"
    shown = f"'{text}'" if isinstance(value, str) else text
    if len(shown) > 40:
        shown = f"{shown[:36]}…{shown[-1]}" if isinstance(value, str) else f"{shown[:36]}…"
    return f"{shown} is not a date; write it as YYYY-MM-DD, e.g. 2005-10-08"


_LETTERS_NOT_OF_A_TIME = re.compile(r"[^\W\d_TtZz]")


def _query_problem(key: str, values: list[str], *, days: frozenset[str] = frozenset()) -> str | None:
    if "\x00" in key or any("\x00" in v for v in values):
        return NUL_REASON
    if key not in days and any(_WHOLE_NUMBER.fullmatch(v) and _too_big(int(v)) for v in values):
        return BIG_NUMBER_REASON
    return None


# The request's attribute where ImpossibleValuesMiddleware leaves what it found under /api/.
_IMPOSSIBLE_VALUES = "reliefops_impossible_values"


def impossible_values_found(request: HttpRequest) -> list[tuple[str, str]]:
    """(field, reason) of each value of the request no field can hold, as ImpossibleValuesMiddleware
    found them; the API's router refuses the request with them once the caller's right is checked."""
    found: list[tuple[str, str]] = getattr(request, _IMPOSSIBLE_VALUES, [])
    return found


class ImpossibleValuesMiddleware:
    """Refuses a request whose query string or JSON body holds a value no field of ours can hold: a
    NUL character, which PostgreSQL cannot store either, or a whole number beyond 64 bits, which no
    database column holds (SQLite's driver fails on one).

    A page is answered 400 naming the parameter; nothing behind it runs. An API request is passed on
    with what was found (`impossible_values_found`): the API authenticates the caller and checks a
    write's right first (401, 403), as for any body, then refuses it with 422 naming each field,
    before it reads a parameter or the body. Nothing that reads the query string or the body comes
    before that; an address under /api/ that is no operation (the docs, 404, 405) reads neither.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found: list[tuple[str, str]] = []
        api = request.path.startswith("/api/")
        for key, values in request.GET.lists():
            # The API's router knows each operation's days and refuses such a number there as no date.
            reason = _query_problem(key, values, days=frozenset() if api else PAGE_DAY_PARAMETERS)
            if reason is not None:
                found.append((key, reason))
        if request.content_type == "application/json" and (
            _JSON_NUL.search(request.body) or _LONG_DIGITS.search(request.body)
        ):
            with contextlib.suppress(ValueError):  # not JSON after all: the API says so itself
                found += list(_impossible_values(json.loads(request.body)))
        if not found:
            return self.get_response(request)
        if api:
            setattr(request, _IMPOSSIBLE_VALUES, found)
            return self.get_response(request)
        field, reason = found[0]
        # A page of the site's own (standing alone: the session and the user are not read yet)
        reason = f"The parameter {field} of the address {reason}."
        return HttpResponseBadRequest(render_to_string("400.html", {"reason": reason}))


class SessionExpiryMiddleware:
    """Ends a signed-in session that has been idle, or alive, for too long."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            expired = self._expired(request)
            if expired:
                with transaction.atomic():
                    audit_record(
                        actor=user,
                        action=SESSION_EXPIRED,
                        object_type="user",
                        object_id=user.pk,
                        after={"reason": expired},
                    )
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(request, f"You were signed out after {expired}. Please sign in again.")
                    return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    @staticmethod
    def _expired(request: HttpRequest) -> str | None:
        """Why the session has expired (None while it is live); notes the request's time."""
        now = int(time.time())
        session = request.session
        started, seen = session.get(_STARTED), session.get(_SEEN)
        if not isinstance(started, int) or not isinstance(seen, int):
            session[_STARTED] = session[_SEEN] = now
            return None
        idle, age = settings.SESSION_IDLE_TIMEOUT, settings.SESSION_COOKIE_AGE
        if now - seen > idle:
            return f"{_duration(idle)} without activity"
        if now - started > age:
            return f"{_duration(age)} signed in"
        if now - seen >= _SEEN_RESOLUTION:
            session[_SEEN] = now
        return None


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


# --- sign-in throttling ---------------------------------------------------------------------------


def client_address(request: HttpRequest | None) -> str:
    """The caller's IP address: the proxy's last X-Forwarded-For entry when a proxy is trusted."""
    if request is None:
        return ""
    if settings.TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            # The proxy appends the address it saw; anything before it came from the client.
            return forwarded.split(",")[-1].strip()[:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _username_key(username: str) -> str:
    return username.strip().lower()[:64]


def login_refusal(*, username: str, address: str) -> str | None:
    """Why a sign-in must be refused without checking its password (None when it may proceed)."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    since = timezone.now() - timedelta(seconds=window)
    key = _username_key(username)
    last_success = (
        AuditEvent.objects.filter(action=LOGIN_SUCCEEDED, object_type="user", object_id=key, at__gte=since)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    failures = AuditEvent.objects.filter(
        action=LOGIN_FAILED, object_type="user", object_id=key, at__gte=last_success or since
    )
    minutes = max(1, window // 60)
    if key and failures.count() >= settings.LOGIN_MAX_FAILURES:
        return (
            f"Too many failed sign-ins for this username: sign-in is refused for {minutes} minutes "
            "after the last failure. Ask an administrator if you have forgotten your password."
        )
    if address:
        from_address = AuditEvent.objects.filter(action=LOGIN_FAILED, at__gte=since, after__address=address)
        if from_address.count() >= settings.LOGIN_MAX_FAILURES_PER_IP:
            return (
                f"Too many failed sign-ins from this computer's address: sign-in is refused for {minutes} "
                "minutes after the last failure."
            )
    return None


def login_attempt_record(*, username: str, address: str, outcome: str) -> None:
    """Record a sign-in attempt (LOGIN_SUCCEEDED, LOGIN_FAILED or LOGIN_REFUSED) in the audit trail;
    a failure and a refusal are also a warning in the log (the username typed, never the password),
    for whoever watches the log for passwords being guessed."""
    if outcome == LOGIN_FAILED:
        auth_logger.warning("failed sign-in for username '%s'", one_line(username))
    elif outcome == LOGIN_REFUSED:
        auth_logger.warning(
            "sign-in refused for username '%s': too many failed sign-ins (locked for %s)",
            one_line(username),
            _duration(settings.LOGIN_LOCKOUT_SECONDS),
        )
    with transaction.atomic():
        audit_record(
            actor=None,
            action=outcome,
            object_type="user",
            object_id=_username_key(username),
            after={"address": address},
        )


class ThrottledLoginMixin:
    """Refuses a sign-in while its username or address is locked; records every attempt."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        address = client_address(self.request)
        refusal = login_refusal(username=username, address=address)
        if refusal:
            login_attempt_record(username=username, address=address, outcome=LOGIN_REFUSED)
            raise ValidationError(refusal, code="throttled")
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError:
            login_attempt_record(username=username, address=address, outcome=LOGIN_FAILED)
            raise
        login_attempt_record(username=username, address=address, outcome=LOGIN_SUCCEEDED)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """The sign-in form of the web pages."""


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The sign-in form of the data admin."""


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The form where a signed-in user changes their password. Its current password is checked as a
    sign-in's is: refused while the username or address is locked, and a wrong one counts as a failed
    sign-in (a stolen open session cannot try passwords without limit)."""

    def __init__(self, user: Any, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self) -> str:
        username = self.user.get_username()
        address = client_address(self.request)
        refusal = login_refusal(username=username, address=address)
        if refusal:
            login_attempt_record(username=username, address=address, outcome=LOGIN_REFUSED)
            raise ValidationError(refusal, code="throttled")
        try:
            password: str = super().clean_old_password()
        except ValidationError:
            login_attempt_record(username=username, address=address, outcome=LOGIN_FAILED)
            raise
        return password
