"""The API root. Each app contributes a router from its own `api.py`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from reliefops import __version__
from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.services import token_authenticate


class BearerToken(HttpBearer):
    """`Authorization: Bearer rop_…` with a token from `reliefops token create`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class TokenHeader(APIKeyHeader):
    param_name = "X-API-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = token_authenticate(key or "")
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="reliefops API",
    version=__version__,
    description=(
        "Reference data, stock ledger and coordination data of a relief operation. "
        "Authenticate with `Authorization: Bearer <token>` "
        "(create one with `reliefops token create USERNAME`); a signed-in browser session works too."
    ),
    auth=[BearerToken(), TokenHeader(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, InvalidInput):
        body["problems"] = [{"row": p.row, "field": p.field, "reason": p.reason} for p in exc.problems]
    return api.create_response(request, body, status=exc.status)


def _register_routers() -> None:
    from reliefops.core.api import router as core_router

    api.add_router("/core/", core_router)


_register_routers()
