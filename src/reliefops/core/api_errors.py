"""Every answer under /api/ is JSON: the errors made outside the API's own handlers (no such
address, a method the address does not take, a body over the size limit, a server error) are
answered `{"detail": …}` too, as the API's documentation promises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


# --- the same answers in the API's reference -------------------------------------------------------

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}


def answers_outside_operations(schema: dict[str, Any]) -> dict[str, Any]:
    """The reference with the answers made here, not by an operation: 413 on every operation that
    takes a body, and 405 once, as a shared response (`components.responses.MethodNotAllowed`).

    A 405 is the answer of an address to a method it has no operation for, so no operation of the
    reference can hear it: listed on each, it would tell a generated client that a call it makes
    may be refused for its method, which never happens."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None:
        too_large = {
            "description": f"Content Too Large: the request body is more than {counted(limit, 'byte')} "
            "(base64 included); nothing was done",
            "content": _ERROR_BODY,
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if "requestBody" in operation:
                    operation["responses"][413] = too_large  # ninja keys the statuses by number
    schema.setdefault("components", {}).setdefault("responses", {})["MethodNotAllowed"] = {
        "description": "Method Not Allowed: the address has no operation for the method; "
        "the `Allow` header lists the methods it takes",
        "headers": {
            "Allow": {
                "description": "The methods the address takes, separated by commas (`GET, POST`).",
                "schema": {"type": "string"},
            }
        },
        "content": _ERROR_BODY,
    }
    return schema
