"""How requests are written to the server's log.

A refusal (403) is an expected event: someone asked for a page their role does not open. Django
logs a PermissionDenied with its whole traceback, which buries the real errors; the filter below
writes it as one line saying who was refused, where and why. An API call refused gets the same line:
the API answers 403 with the reason in its JSON `detail`, which `RefusalReasonMiddleware` keeps for
the log. A request Django finds suspicious (a `Host` not in ALLOWED_HOSTS, as scanners send by the
thousand) is one warning line too. Server errors (500) keep their traceback.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, SuspiciousOperation

if TYPE_CHECKING:  # the settings import this module: it imports nothing that reads them
    from django.http import HttpRequest, HttpResponse

# Characters that would break a log line or forge another one (newlines, escapes, other controls).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# Django logs a SuspiciousOperation that a request raised on `django.security.<its class name>`:
# these are the ones a request from outside can cause.
SUSPICIOUS_REQUEST_LOGGERS = tuple(
    f"django.security.{name}"
    for name in (
        "DisallowedHost",
        "DisallowedRedirect",
        "RequestDataTooBig",
        "TooManyFieldsSent",
        "TooManyFilesSent",
        "SuspiciousMultipartForm",
        "SuspiciousFileOperation",
        "SuspiciousOperation",
    )
)

# Where the API's reason for a 403 is kept on the request, for the log line.
_REFUSAL_REASON = "reliefops_refusal_reason"


def one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _who(request: object) -> str:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return "an anonymous user"
    return f"user {one_line(user.get_username())}"


class RefusalOnOneLine(logging.Filter):
    """On the `django.request` logger: a PermissionDenied becomes "Forbidden (Permission denied):
    /path: user hub1: <the reason>", without its traceback, and so does an API call answered 403
    with its reason; every other record passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        refused = record.exc_info[1] if record.exc_info else None
        if isinstance(refused, PermissionDenied):
            reason = str(refused)
        elif refused is None and getattr(record, "status_code", None) == 403:
            reason = getattr(request, _REFUSAL_REASON, "")
            if not reason:
                return True
        else:
            return True
        path = one_line(getattr(request, "path", "") or "")
        record.msg = "Forbidden (Permission denied): %s: %s: %s"
        record.args = (path, _who(request), one_line(reason) or "permission denied")
        record.exc_info = None
        record.exc_text = None
        return True


class SuspiciousRequestOnOneLine(logging.Filter):
    """On the `django.security.*` loggers: a request Django refused as suspicious (400) is one
    warning line, "Bad request (DisallowedHost): /path: <Django's message>", without the traceback
    that would otherwise fill the journal with every scanner's visit."""

    def filter(self, record: logging.LogRecord) -> bool:
        refused = record.exc_info[1] if record.exc_info else None
        if not isinstance(refused, SuspiciousOperation):
            return True
        request = getattr(record, "request", None)
        path = one_line(getattr(request, "path", "") or "")
        record.msg = "Bad request (%s): %s: %s"
        record.args = (type(refused).__name__, path, one_line(str(refused)))
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = None
        record.exc_text = None
        return True


class RefusalReasonMiddleware:
    """Keeps the reason of an API call's 403 (its JSON `detail`) on the request, for the log line
    that `RefusalOnOneLine` writes once the response is made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 403
            and request.path.startswith("/api/")
            and not response.streaming
            and response.get("Content-Type", "").startswith("application/json")
        ):
            try:
                detail = json.loads(response.content).get("detail")
            except (ValueError, AttributeError):
                detail = None
            if isinstance(detail, str):
                setattr(request, _REFUSAL_REASON, detail)
        return response


_QUERY = re.compile(r"\?[^\s\"]*")


def without_query(text: str) -> str:
    """A request line or address without its query string: `GET /households/registry/?… HTTP/1.1`.
    A search typed in a list (a name, an identity number, a phone) is part of the address; it is not
    to be kept in a log that people without the right to personal data read."""
    return _QUERY.sub("?…", text)


class QueryStringsLeftOut(logging.Filter):
    """On the development server's request log (`django.server`): each request line without its
    query string (see `without_query`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(without_query(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = without_query(record.msg)
        return True
