"""API pieces every router shares: the router itself (a write's right checked first, unknown query
parameters refused, refused values named where they are), the strict shape of request bodies,
pagination, the error body, and the caller's own identity."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar, get_args, get_origin

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.errors import ConfigError, ValidationError
from ninja.operation import Operation
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict, WrapValidator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from reliefops.core.access import (
    access_job_by_id,
    access_jobs,
    job_result_visible,
    require,
    user_organisation_id,
    user_role,
)
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.jobs import jobs_mark_stale
from reliefops.core.roles import ROLE_RIGHTS, Right
from reliefops.core.security import BIG_NUMBER_REASON, impossible_values_found, not_a_day, whole_id
from reliefops.core.text import counted

# --- request bodies: strict -------------------------------------------------------------------------


class BodyIn(Schema):
    """A request body, or a part of one: every value is taken as JSON gives it, never converted.

    A number is refused where a text is asked and a text where a number is (`"quantity": "5"`), a
    JSON boolean where a number is (`"site": true` is not site 1) and a number where a boolean is
    (`"consent": 1`). Pydantic's strict mode does this for every field; the only values that JSON
    can give as text alone, days and choices, are read from their text by the two types below.

    A key the body does not take is refused, not passed over (`lines.0.quantty: unknown field`):
    a misspelt field would otherwise be written as if it had been left out.
    """

    model_config = ConfigDict(strict=True, extra="forbid")


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day_refusal(value: Any) -> str | None:
    """Why a value is no day as the API takes one, its text YYYY-MM-DD; None when it is one."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return None
    if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            # written as asked, but no day of the calendar (2005-02-30, 2005-13-45)
            return f"'{value.strip()}' is no day of the calendar: check the month and the day"
        return None
    return not_a_day(value)


def _iso_day(value: Any) -> Any:
    refused = day_refusal(value)
    if refused is not None:
        raise PydanticCustomError("day", "{reason}", {"reason": refused})
    return value.strip() if isinstance(value, str) else value


# A day in a body: its ISO text (`"2006-01-15"`), not a number (which pydantic would take for a
# timestamp) nor any other text.
Day = Annotated[dt.date, Strict(False), BeforeValidator(_iso_day)]

# A choice in a body (an enumeration's value): its text, as the schema lists it.
TEXT_CHOICE = Strict(False)


def _id_or_text(value: Any, handler: Callable[[Any], Any]) -> Any:
    try:
        return handler(value)
    except PydanticValidationError:
        # One problem for the field, not one per member of the union (`site.int`, `site.str`).
        raise PydanticCustomError(
            "id_or_text", "Input should be an id (a whole number) or a code or name (a text)"
        ) from None


# A reference in a body: an object's id (a JSON number) or its code, reference or name (a text).
IdOrText = Annotated[int | str, WrapValidator(_id_or_text)]


def _id_if_digits(value: Any) -> Any:
    number = whole_id(value) if isinstance(value, str) else None
    return number if number is not None else value


# A reference in a query parameter, which is always text: plain digits are an id, any other text a
# code, reference or name (as a site in an address is).
IdOrTextParam = Annotated[int | str, BeforeValidator(_id_if_digits)]

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 500
OFFSET_MAX = 2**31 - 1


class PageInput(Schema):
    limit: int = Field(
        PAGE_SIZE_DEFAULT,
        ge=1,
        le=PAGE_SIZE_MAX,
        description=f"How many items to return, 1 to {PAGE_SIZE_MAX}.",
    )
    # Bounded so that the database is never asked to skip more rows than its integers hold.
    offset: int = Field(
        0, ge=0, le=OFFSET_MAX, description="How many items to skip, from the start of the list."
    )


class PageOutput(Schema):
    items: list[Any] = Field(description="This page of the list, in the list's stable order.")
    count: int = Field(description="How many items match the filters, across all pages.")


class Page(LimitOffsetPagination):
    """Limit/offset pages of a list, with the total count of matching rows."""

    Input = PageInput  # type: ignore[assignment]
    Output = PageOutput  # type: ignore[assignment]


class ProblemOut(Schema):
    row: int | None = Field(
        description="Line of an uploaded file, counted from 1; null for a value of the request itself."
    )
    field: str = Field(
        description="Where the value is: its path in the JSON body (`lines.0.quantity`, lists counted "
        "from 0), a parameter's or header's name (`limit`, `Idempotency-Key`), or an uploaded file's "
        "column (with `row`)."
    )
    reason: str = Field(description="Why the value was refused.")


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in one sentence.")
    problems: list[ProblemOut] | None = Field(
        None,
        description="Every refused value, `{row, field, reason}`: on a 422 (a bad value), and on a 400 "
        "refused by a rule of the ledger (an overdraw). Absent on other errors. Nothing was written.",
    )


# Error responses that every endpoint of a kind may return; spread into `response={200: …, **ERRORS}`.
ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
DETAIL_ERRORS: dict[int, type[Schema]] = {**ERRORS, 404: ErrorOut}


# --- the routers: a write's right first; refused values named where they are -------------------------

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The right each write operation's handler needs, by handler (the operations are cloned when an API
# binds its routers; the handler stays the same function).
_RIGHTS: dict[Callable[..., Any], Right] = {}
Handler = TypeVar("Handler", bound=Callable[..., Any])


class ApiRouter(Router):
    """The router of every app's API.

    A write operation (POST, PUT, PATCH, DELETE) names the right it needs, `right=Right.POST_STOCK`;
    the API checks the caller's role for it as soon as the caller is authenticated, before it reads
    the request's parameters and body. A caller who may not write hears 403 whatever the body holds
    (not 422 for what is wrong with it); the handler still checks the scope (which sites, which
    organisation), the objects named and the values.

    Every problem of a refused request is named as the API's reference says: by its path in the
    JSON body (`lines.0.quantity`, lines counted from 0) or by the parameter's name (`limit`,
    `Idempotency-Key`), whether the schema refused it or a service did. A service names a problem
    of a request's line by its row (counted from 1) and field, as for a file's line; for a request
    whose body has a list of objects (`lines`; `points` and `package`) the row becomes the path.
    Problems of an uploaded file keep the file's line in `row`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A "view" decorator is applied to each operation as the API binds the router, with the
        # API's authentication already set: the one moment to reach the operation itself.
        self.add_decorator(_checked_and_named, mode="view")

    def api_operation(
        self, methods: list[str], path: str, *, right: Right | None = None, **kwargs: Any
    ) -> Callable[[Handler], Handler]:
        writes = sorted(UNSAFE_METHODS & {m.upper() for m in methods})
        if writes and right is None:
            raise ConfigError(f"{'/'.join(writes)} {path}: name the right a write needs (right=Right.…)")
        if right is not None:
            # Published: the right in words in the operation's description, and as `x-right`.
            needs = f"Needs the right `{right.value}`, checked before the request is read (403 without it)."
            kwargs["description"] = "\n\n".join(filter(None, [kwargs.get("description"), needs]))
            kwargs["openapi_extra"] = {**(kwargs.get("openapi_extra") or {}), "x-right": right.value}
        register = super().api_operation(methods, path, **kwargs)

        def decorator(handler: Handler) -> Handler:
            if right is not None:
                _RIGHTS[handler] = right
            return register(handler)

        return decorator

    def post(self, path: str, *, right: Right, **kwargs: Any) -> Callable[[Handler], Handler]:  # type: ignore[override]
        return self.api_operation(["POST"], path, right=right, **kwargs)

    def put(self, path: str, *, right: Right, **kwargs: Any) -> Callable[[Handler], Handler]:  # type: ignore[override]
        return self.api_operation(["PUT"], path, right=right, **kwargs)

    def patch(self, path: str, *, right: Right, **kwargs: Any) -> Callable[[Handler], Handler]:  # type: ignore[override]
        return self.api_operation(["PATCH"], path, right=right, **kwargs)

    def delete(self, path: str, *, right: Right, **kwargs: Any) -> Callable[[Handler], Handler]:  # type: ignore[override]
        return self.api_operation(["DELETE"], path, right=right, **kwargs)


# What ApiRouter relies on in django-ninja (1.7.1): Operation.run authenticates the caller
# (`_run_checks`), then reads the parameters and body with the private `_get_values(request,
# path_params, temporal_response)`, which raises ValidationError, then calls the handler. The right
# alone could be checked in an authentication callback, a public hook; but naming a refused value
# by its place needs the reading itself (with the operation's body schema at hand), and the
# unknown parameters are best refused together with the other bad values of the same reading, so
# one wrap of `_get_values` does all three. tests/api/test_ninja_contract.py fails, saying what
# changed, if an upgrade of django-ninja moves any of this.
NINJA_READ_PARAMETERS = ("self", "request", "path_params", "temporal_response")


def ninja_reads_as_expected(operation: Operation | type[Operation]) -> bool:
    """Whether django-ninja's Operation reads a request as ApiRouter expects (see above)."""
    read = getattr(operation, "_get_values", None)
    if read is None or not callable(getattr(operation, "run", None)):
        return False
    names = tuple(inspect.signature(read).parameters)
    return names in (NINJA_READ_PARAMETERS, NINJA_READ_PARAMETERS[1:])


def _checked_and_named(run: Callable[..., Any]) -> Callable[..., Any]:
    """Binds one operation: its right is checked, unknown query parameters refused, and its refused
    values named, as ApiRouter says.

    django-ninja's Operation.run authenticates the caller, then reads the parameters and body
    (`_get_values`, which raises ValidationError), then calls the handler: the right is checked at
    the start of the reading, then the values no field can hold (a NUL character, a number beyond
    64 bits: found by ImpossibleValuesMiddleware, refused here), and the problems renamed as the
    reading or the handler raises them.
    """
    operation = getattr(run, "__self__", None)
    if not isinstance(operation, Operation) or not ninja_reads_as_expected(operation):
        raise ConfigError(
            "ApiRouter expects django-ninja's Operation.run and Operation._get_values(request, "
            "path_params, temporal_response): see NINJA_READ_PARAMETERS in reliefops.core.api"
        )
    handler = operation.view_func
    right = _RIGHTS.get(handler)
    read = operation._get_values
    wrapped_in = _body_attribute(operation)
    body = _body_schema(operation)
    takes = query_parameters(operation)
    days = query_days(operation)

    def get_values(request: HttpRequest, path_params: Any, temporal_response: Any) -> dict[str, Any]:
        if right is not None:
            require(request.user, right)  # AccessDenied: 403, before the request is read
        impossible, too_big_days = _days_apart(impossible_values_found(request), days, body)
        if impossible:
            # Refused before any of the request is read: nothing may carry such a value further. A
            # number beyond 64 bits where a day is asked is refused beside them as no day.
            refused = impossible + [(field, _day_reason(request, field)) for field in too_big_days]
            raise InvalidInput(
                [Problem(None, field, reason) for field, reason in refused[:20]],
                summary=f"{counted(len(refused), 'problem')} in the request; nothing was done",
            )
        unknown = _unknown_parameters(request, takes) + _repeated_parameters(request, takes)
        if wrapped_in is None:
            unknown += _body_not_taken(request)
        # A day in the query string is its text YYYY-MM-DD: pydantic would take `0` for 1 Jan 1970.
        not_days = _query_not_days(request, days)
        try:
            values = read(request, path_params, temporal_response)
        except ValidationError as exc:
            named = [_named_error(error, wrapped_in, body) for error in exc.errors]
            named = [error for error in named if error["loc"] not in {e["loc"] for e in not_days}]
            raise ValidationError(unknown + not_days + named) from None
        if unknown or not_days:
            raise ValidationError(unknown + not_days)
        return values

    operation._get_values = get_values  # type: ignore[method-assign]
    lists = _body_lists(operation)
    if lists:
        operation.view_func = _rows_named(handler, lists)
    return run


def query_parameters(operation: Operation) -> frozenset[str]:
    """The query parameters an operation declares (its filters, and `limit` and `offset` of a list),
    as a client writes them."""
    names: set[str] = set()
    for model in operation.models:
        if model.__ninja_param_source__ != "query":
            continue
        flattened = getattr(model, "__ninja_flatten_map__", None)
        if flattened:
            names.update(flattened)
        else:
            names.update(field.alias or name for name, field in model.model_fields.items())
    return frozenset(names)


def _holds_day(annotation: Any) -> bool:
    """Whether an annotation takes a day (`dt.date`, through Optional, unions and Annotated)."""
    if isinstance(annotation, type):
        return issubclass(annotation, dt.date) and not issubclass(annotation, dt.datetime)
    return any(_holds_day(arg) for arg in get_args(annotation))


def query_days(operation: Operation) -> frozenset[str]:
    """The query parameters of an operation that take a day (`start`, `end`)."""
    names: set[str] = set()
    for model in operation.models:
        if model.__ninja_param_source__ != "query":
            continue
        flattened = getattr(model, "__ninja_flatten_map__", None) or {
            field.alias or name: (name,) for name, field in model.model_fields.items()
        }
        for name, path in flattened.items():
            annotation: Any = model
            for part in path:
                owners = [schema for schema in _schemas_in(annotation) if part in schema.model_fields]
                annotation = owners[0].model_fields[part].annotation if owners else None
            if _holds_day(annotation):
                names.add(name)
    return frozenset(names)


def _is_body_day(body: Any, field: str) -> bool:
    """Whether a dotted path of the JSON body (`lines.0.expiry`) is a field that takes a day."""
    annotation = body
    for part in field.split("."):
        if part.isdigit():
            continue  # an item of a list: _schemas_in looks through the list
        owners = [schema for schema in _schemas_in(annotation) if part in schema.model_fields]
        if len(owners) != 1:
            return False
        annotation = owners[0].model_fields[part].annotation
    return _holds_day(annotation)


def _days_apart(
    found: list[tuple[str, str]], days: frozenset[str], body: Any
) -> tuple[list[tuple[str, str]], list[str]]:
    """The values no field can hold, less the numbers beyond 64 bits where a day is asked (their
    fields apart): such a number is no day, and is refused as one."""
    kept: list[tuple[str, str]] = []
    not_days: list[str] = []
    for field, reason in found:
        is_day = field in days or (body is not None and _is_body_day(body, field))
        if reason == BIG_NUMBER_REASON and is_day:
            not_days.append(field)
        else:
            kept.append((field, reason))
    return kept, not_days


def _day_reason(request: HttpRequest, field: str) -> str:
    """Why the value of a day field found too big is no day, naming the value."""
    if field in request.GET:
        return not_a_day(request.GET[field])
    value: Any = json.loads(request.body)
    for part in field.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return not_a_day(value)


def _query_not_days(request: HttpRequest, days: frozenset[str]) -> list[dict[str, Any]]:
    """A problem for each day in the query string that is not written YYYY-MM-DD."""
    problems = []
    for name in sorted(days & set(request.GET)):
        refused = day_refusal(request.GET[name])
        if refused is not None and request.GET[name].strip():
            problems.append({"loc": (name,), "msg": refused, "type": "day"})
    return problems


def _unknown_parameters(request: HttpRequest, takes: frozenset[str]) -> list[dict[str, Any]]:
    """A problem for each query parameter the operation does not take: a filter it would pass over
    (`?number=…` on a list without that filter) would answer as if it had filtered."""
    if takes:
        reason = f"unknown parameter: this operation takes only {', '.join(sorted(takes))}"
    else:
        reason = "unknown parameter: this operation takes no query parameters"
    return [
        {"loc": (name,), "msg": reason, "type": "unknown_parameter"}
        for name in request.GET
        if name not in takes
    ]


def _repeated_parameters(request: HttpRequest, takes: frozenset[str]) -> list[dict[str, Any]]:
    """A problem for each parameter given more than once (`?site=12&site=4`): each takes one value,
    and the last alone would be read, as if the others had not been asked for."""
    return [
        {
            "loc": (name,),
            "msg": f"given {len(values)} times: it takes one value (ask once for each)",
            "type": "repeated_parameter",
        }
        for name, values in request.GET.lists()
        if name in takes and len(values) > 1
    ]


def _body_not_taken(request: HttpRequest) -> list[dict[str, Any]]:
    """A problem for each key of a JSON object sent to an operation that takes no body."""
    if request.content_type != "application/json" or not request.body:
        return []
    try:
        sent = json.loads(request.body)
    except ValueError:
        return []
    if not isinstance(sent, dict):
        return []
    reason = "unknown field: this operation takes no body"
    return [{"loc": (str(key),), "msg": reason, "type": "extra_forbidden"} for key in sent]


def _body_attribute(operation: Operation) -> str | None:
    """The handler's parameter that holds the whole JSON body (`payload`), if one does."""
    for model in operation.models:
        if model.__ninja_param_source__ == "body":
            return getattr(model, "__read_from_single_attr__", None)
    return None


def _body_schema(operation: Operation) -> Any:
    """The schema of the operation's JSON body (`ReceiptIn`), if it takes one."""
    wrapped_in = _body_attribute(operation)
    for model in operation.models:
        if model.__ninja_param_source__ == "body" and wrapped_in is not None:
            return model.model_fields[wrapped_in].annotation
    return None


def _schemas_in(annotation: Any) -> list[type[BaseModel]]:
    """The schemas an annotation holds, through Optional, unions, lists and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [schema for arg in get_args(annotation) for schema in _schemas_in(arg)]


def _fields_at(body: Any, place: Sequence[Any]) -> list[str] | None:
    """The fields of the object at a path of the body (`lines.0`: item, quantity, …), if known."""
    annotation = body
    for part in place:
        if isinstance(part, int):
            continue  # an item of a list: _schemas_in looks through the list
        owners = [schema for schema in _schemas_in(annotation) if part in schema.model_fields]
        if len(owners) != 1:
            return None
        annotation = owners[0].model_fields[part].annotation
    schemas = _schemas_in(annotation)
    return list(schemas[0].model_fields) if len(schemas) == 1 else None


# Pydantic's refusals of a value that is no day ("Input should be a valid date or datetime, input is
# too short"), said as every other refusal of a day is.
_NOT_A_DAY_ERRORS = frozenset(
    {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}
)


def _named_error(error: dict[str, Any], wrapped_in: str | None, body: Any = None) -> dict[str, Any]:
    """A schema's refusal with its `loc` as the API names a field: ("body", "payload", "lines", 0,
    "quantity") is lines.0.quantity, ("query", "limit") is limit; the body itself is `body`. A key
    the body does not take is an `unknown field`, with the fields its object takes."""
    source, *place = error.get("loc", ()) or ("body",)
    if source == "body" and wrapped_in is not None and place[:1] == [wrapped_in]:
        place = place[1:]
    named = {**error, "loc": tuple(place) or (source,)}
    if str(error.get("type", "")) in _NOT_A_DAY_ERRORS:
        named["msg"] = not_a_day(error.get("input"))
    if error.get("type") == "extra_forbidden" and source == "body" and place:
        fields = _fields_at(body, place[:-1])
        where = ".".join(str(part) for part in place[:-1]) or "the body"
        named["msg"] = f"unknown field: {where} takes only {', '.join(fields)}" if fields else "unknown field"
    return named


def _body_lists(operation: Operation) -> tuple[str, ...]:
    """The fields of the operation's JSON body that are lists of objects (`lines`), in order."""
    wrapped_in = _body_attribute(operation)
    for model in operation.models:
        if model.__ninja_param_source__ != "body" or wrapped_in is None:
            continue
        body = model.model_fields[wrapped_in].annotation
        if not isinstance(body, type) or not issubclass(body, BaseModel):
            return ()
        return tuple(
            name
            for name, field in body.model_fields.items()
            if get_origin(field.annotation) is list
            and any(isinstance(a, type) and issubclass(a, BaseModel) for a in get_args(field.annotation))
        )
    return ()


def _row_in_body(problem: Problem, lists: Sequence[str]) -> Problem:
    """A service's problem of a request's row named by its path in the body: row 2, `item` is
    `lines.1.item` (the body's one list), row 1, `points.site` is `points.0.site`."""
    if problem.row is None or not lists:
        return problem
    head, _, rest = problem.field.partition(".")
    if head in lists and rest:
        return Problem(None, f"{head}.{problem.row - 1}.{rest}", problem.reason)
    if len(lists) == 1:
        return Problem(None, f"{lists[0]}.{problem.row - 1}.{problem.field}", problem.reason)
    return problem


def _rows_named(handler: Handler, lists: tuple[str, ...]) -> Handler:
    @functools.wraps(handler)
    def named(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except InvalidInput as exc:
            # The same refusal (its status, its sentence), its problems named by their place.
            exc.problems = [_row_in_body(p, lists) for p in exc.problems]
            raise

    return named  # type: ignore[return-value]


router = ApiRouter(tags=["core"])


class MeOut(Schema):
    username: str = Field(description="The caller's username.")
    role: str = Field(description="The caller's role (`admin`, `coordinator`, …); empty if none is set.")
    organisation_id: int | None = Field(description="The organisation the caller works for, if any.")
    rights: list[str] = Field(description="The rights the caller's role carries, sorted.")


@router.get(
    "/me",
    response={200: MeOut, 401: ErrorOut, 422: ErrorOut},
    summary="Who am I: the caller's role and rights",
)
def me(request: HttpRequest) -> MeOut:
    role = user_role(request.user)
    return MeOut(
        username=request.user.get_username(),
        role=role.value if role else "",
        organisation_id=user_organisation_id(request.user),
        rights=sorted(r.value for r in ROLE_RIGHTS[role]) if role else [],
    )


# --- background jobs ----------------------------------------------------------------------------------


class JobOut(Schema):
    id: int = Field(description="The job's id; poll `GET /api/core/jobs/{id}` until `status` is final.")
    kind: str = Field(description="What runs: `household_import_preview`, `cluster_upload_commit`, …")
    label: str = Field(description="What the job does, in words.")
    owner: str = Field(description="Username of who started it.")
    status: str = Field(description="`queued`, `running`, then `succeeded` or `failed`.")
    refused: bool = Field(
        description="True for a `failed` job that was refused for what it was given (a file's problems, "
        "listed in `problems`; a rule such as a locked month, in `error`): nothing was written and "
        "nothing went wrong on the server; correct the input and start again. False for a job that "
        "stopped on an error of the server or of its worker, and for every other status."
    )
    stage: str = Field(description="What it is doing now.")
    done: int = Field(description="Units of work done in this stage (rows, households, pairs).")
    total: int = Field(description="Units of work in this stage; 0 while unknown.")
    created_at: datetime = Field(description="When it was started.")
    started_at: datetime | None = Field(description="When the worker took it; null while queued.")
    finished_at: datetime | None = Field(description="When it ended; null until then.")
    result: dict[str, Any] | None = Field(
        description="Once succeeded: `summary`, `figures`, `notes`, `links` (to web pages), `action` "
        "and `table` (`caption`, `head`, `rows`; `rows_total`, the rows there are, and `truncated`, true "
        "when `rows` holds only the first 200 of them). A 4W upload's job (`cluster_upload_preview`, "
        "`cluster_upload_commit`) also gives its outcome by name, as `POST /api/cluster/uploads` "
        "answers it: `batch_id` (null for a preview, or an upload that changes nothing), `preview`, "
        "`changed`, `rows_read`, `added`, `updated`, `withdrawn`, `unchanged`, `set_aside`. "
        "Null while running, or when the caller's role no longer carries the right it needs."
    )
    error: str = Field(description="Why it failed; empty otherwise.")
    problems: list[ProblemOut] = Field(
        description="Each refused value of a refused input: row, field, reason."
    )
    url: str = Field(description="The job's web page, with its progress bar and result.")

    @staticmethod
    def resolve_owner(obj: Any) -> str:
        return str(obj.owner.get_username())

    @staticmethod
    def resolve_result(obj: Any, context: dict[str, Any]) -> Any:
        return obj.result if job_result_visible(context["request"].user, obj) else None

    @staticmethod
    def resolve_problems(obj: Any, context: dict[str, Any]) -> Any:
        return obj.problems if job_result_visible(context["request"].user, obj) else []

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return reverse("jobs:job-detail", args=[obj.pk])


@router.get(
    "/jobs",
    response={200: list[JobOut], **ERRORS},
    summary="Background jobs: the caller's own, newest first (an admin's: everyone's)",
)
@paginate(Page)
def job_list(request: HttpRequest) -> Any:
    return access_jobs(request.user).defer("input")


@router.get(
    "/jobs/{job_id}",
    response={200: JobOut, **DETAIL_ERRORS},
    summary="One background job: its status, progress and result",
)
def job_detail(request: HttpRequest, job_id: int) -> Any:
    job = access_job_by_id(request.user, job_id)
    if not job.finished and jobs_mark_stale():
        job = access_job_by_id(request.user, job_id)
    return job
