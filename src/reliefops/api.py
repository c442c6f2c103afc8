"""The API root. Each app contributes a router from its own `api.py`, registered in `_register_routers`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.utils import check_csrf

from reliefops import __version__
from reliefops.core.api_errors import answers_outside_operations
from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.services import (
    TokenExpired,
    token_authenticate,
    token_label,
    token_moment,
    token_refused_why,
)
from reliefops.core.text import counted

if TYPE_CHECKING:
    from ninja.openapi.schema import OpenAPISchema
    from ninja.operation import Operation


# A credential that is presented and fails is refused (401) whatever else the request carries: a
# script with a revoked token must hear so, not be let through on another header or a session.


auth_logger = logging.getLogger("reliefops.auth")


class TokenRefused(AuthenticationError):
    """A token that is known and was refused for a reason its holder can act on (it expired): the
    401 says that reason instead of the general one."""


def _token_user(plain: str) -> Any:
    """The user of a token, or None; a token that expired is refused saying so. Each refusal is one
    warning line in the log (the token's id and user, or that it is unknown; never the token), for
    the administrator: the one who issues a new token, or stops a revoked one still in use."""
    try:
        user = token_authenticate(plain)
        if user is None:
            # a revoked token still in use, or one guessed: the administrator should hear of it
            auth_logger.warning("%s", token_refused_why(plain))
        return user
    except TokenExpired as exc:
        token = exc.token
        auth_logger.warning(
            "%s refused: it expired on %s", token_label(token), token_moment(token.expires_at)
        )
        raise TokenRefused(message=exc.message) from exc


class BearerToken(HttpBearer):
    """`Authorization: Bearer rop_…` with a token from `reliefops token create`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = _token_user(token)
        if user is None:
            raise AuthenticationError
        other = request.headers.get(TokenHeader.param_name)
        if other and _token_user(other) != user:
            raise AuthenticationError
        request.user = user
        return user


class TokenHeader(APIKeyHeader):
    """`X-API-Token: rop_…`, for clients that cannot set an Authorization header."""

    param_name = "X-API-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        user = _token_user(key)
        if user is None:
            raise AuthenticationError
        request.user = user
        return user


CSRF_REFUSED = (
    "refused: a request that changes data from a signed-in browser must carry its CSRF token, the "
    "value of the csrftoken cookie in an X-CSRFToken header, sent from this server's own address "
    "(reload the page and try again). A script should send an API token instead of a session: "
    "`Authorization: Bearer <token>` (an administrator creates one with `reliefops token create`)"
)


class SignedInSession(SessionAuth):
    """The browser session of a signed-in user; unsafe methods must carry its CSRF token.

    A caller with no session is passed over (and gets 401) instead of failing the CSRF check (403),
    so an anonymous caller is told to authenticate whatever the method.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def _get_key(self, request: HttpRequest) -> str | None:
        # django-ninja's own check answers "CSRF check Failed", which tells no one what to do. Django
        # logs its own reason (a missing cookie, a wrong token, an untrusted origin) on
        # django.security.csrf, for the administrator.
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, CSRF_REFUSED)
        return request.COOKIES.get(self.param_name)


class ReliefopsAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # `places_admin_area_list` rather than `reliefops_places_api_admin_area_list`
        app = operation.view_func.__module__.split(".")[1]
        return f"{app}_{operation.view_func.__name__}"

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        answers_outside_operations(schema)
        return schema


api = ReliefopsAPI(
    title="reliefops API",
    version=__version__,
    description=(
        "Reference data, stock ledger and coordination data of a relief operation.\n\n"
        "Authenticate with `Authorization: Bearer <token>` or `X-API-Token: <token>` "
        "(create a token with `reliefops token create USERNAME`; it works for 90 days, or the `--days` "
        "asked for, up to 365, and an expired token is answered 401 saying when it expired; an administrator "
        "extends a token with `reliefops token extend TOKEN_ID`); "
        "a signed-in browser session works too, "
        "and then unsafe methods need the `X-CSRFToken` header.\n\n"
        "Lists take `limit` (1-500, default 50) and `offset` and return `{items, count}`. "
        "Errors return `{detail}`, and on 422 also `problems: [{row, field, reason}]`. "
        "An operation that takes a body answers 413 to a body over the server's limit, before reading it. "
        "A method an address has no operation for is answered 405 with the `Allow` header listing "
        "the methods it takes (`components.responses.MethodNotAllowed`)."
    ),
    auth=[BearerToken(), TokenHeader(), SignedInSession()],
    urls_namespace="api",
    # The online validator badge would fetch from the internet; field hubs are offline.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, InvalidInput):
        body["detail"] = exc.message.splitlines()[0]
        if request.method in ("GET", "HEAD") and exc.summary is None:
            # a read refused for its parameters writes nothing, and says so as any refused request
            body["detail"] = f"{counted(len(exc.problems), 'problem')} in the request; nothing was done"
        body["problems"] = [{"row": p.row, "field": p.field, "reason": p.reason} for p in exc.problems]
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = (
        exc.message
        if isinstance(exc, TokenRefused)
        else "authentication required: send `Authorization: Bearer <token>` "
        "with a valid, unexpired, unrevoked token of an active user, or sign in"
    )
    response = api.create_response(request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="reliefops"'
    return response


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [
        {
            "row": None,
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "reason": str(error.get("msg", "invalid value")),
        }
        for error in exc.errors
    ]
    body = {
        "detail": f"{counted(len(problems), 'problem')} in the request; nothing was done",
        "problems": problems,
    }
    return api.create_response(request, body, status=422)


def _register_routers() -> None:
    """The one place where routers join the API (and so its URL table and OpenAPI reference)."""
    from reliefops.catalog.api import router as catalog_router
    from reliefops.cluster.api import router as cluster_router
    from reliefops.core.api import router as core_router
    from reliefops.households.api import router as households_router
    from reliefops.partners.api import router as partners_router
    from reliefops.places.api import router as places_router
    from reliefops.stock.api import router as stock_router

    api.add_router("/core/", core_router)
    api.add_router("/places/", places_router)
    api.add_router("/partners/", partners_router)
    api.add_router("/catalog/", catalog_router)
    api.add_router("/stock/", stock_router)
    api.add_router("/households/", households_router)
    api.add_router("/cluster/", cluster_router)


_register_routers()
