"""How requests are written to the server's log.

A refusal (403) is an expected event: someone asked for a page their role does not open. Django
logs a PermissionDenied with its whole traceback, which buries the real errors; the filter below
writes it as one line saying who was refused, where and why. Server errors (500) keep their
traceback.
"""

from __future__ import annotations

import logging
import re

from django.core.exceptions import PermissionDenied

# Characters that would break a log line or forge another one (newlines, escapes, other controls).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _who(request: object) -> str:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return "an anonymous user"
    return f"user {_one_line(user.get_username())}"


class RefusalOnOneLine(logging.Filter):
    """On the `django.request` logger: a PermissionDenied becomes "Forbidden (Permission denied):
    /path: user hub1: <the reason>", without its traceback; every other record passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        refused = record.exc_info[1] if record.exc_info else None
        if not isinstance(refused, PermissionDenied):
            return True
        request = getattr(record, "request", None)
        path = _one_line(getattr(request, "path", "") or "")
        reason = _one_line(str(refused)) or "permission denied"
        record.msg = "Forbidden (Permission denied): %s: %s: %s"
        record.args = (path, _who(request), reason)
        record.exc_info = None
        record.exc_text = None
        return True
