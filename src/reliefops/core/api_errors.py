"""Every answer under /api/ is JSON: the errors made outside the API's own handlers (no such
address, a method the address does not take, a body over the size limit, a server error) are
answered `{"detail": …}` too, as the API's documentation promises."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from reliefops.core.text import counted


def _body_too_large(request: HttpRequest) -> int | None:
    """The limit the request's declared body exceeds, or None."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.content_type == "multipart/form-data":  # its files do not count towards the limit
        return None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return limit if limit is not None and length > limit else None


def _detail(request: HttpRequest, response: HttpResponse) -> str:
    if response.status_code == 404:
        return f"no such address in the API: {request.path} (see /api/docs for every operation)"
    if response.status_code == 405:
        allowed = ", ".join(sorted(m.strip() for m in response.get("Allow", "").split(",") if m.strip()))
        return f"{request.method} is not allowed on {request.path}; allowed: {allowed or 'none'}"
    if response.status_code >= 500:
        return "the server failed to answer; nothing was done (the error is in the server's log)"
    return f"the request was refused ({response.status_code} {response.reason_phrase})"


class ApiErrorsAsJsonMiddleware:
    """Answers a too-large body under /api/ with 413 naming the limit before anything reads it, and
    turns any other non-JSON error answer under /api/ into `{"detail": …}` with the same status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        limit = _body_too_large(request)
        if limit is not None:
            # Django would read none of it and answer an HTML 400 with no reason.
            return JsonResponse(
                {
                    "detail": f"the request body is {counted(int(request.META['CONTENT_LENGTH']), 'byte')}, "
                    f"more than the limit of {counted(limit, 'byte')}; nothing was done"
                },
                status=413,
            )
        response = self.get_response(request)
        if (
            response.status_code < 400
            or response.streaming
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        answer = JsonResponse({"detail": _detail(request, response)}, status=response.status_code)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                answer[header] = response[header]
        return answer
