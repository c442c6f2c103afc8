"""What ApiRouter relies on in django-ninja, checked so that an upgrade which changes it fails here,
saying what changed, instead of letting a write's right be checked after its body (or not at all).

ApiRouter wraps each bound operation's private `Operation._get_values` (see NINJA_READ_PARAMETERS in
reliefops.core.api, and docs/api/README.md, "How a request is checked"): django-ninja's `run` must
authenticate the caller, then read the request through it, then call the handler."""

from __future__ import annotations

import inspect
import re

from ninja.operation import Operation

from reliefops.api import api
from reliefops.core.api import NINJA_READ_PARAMETERS, ninja_reads_as_expected

CHANGED = (
    "django-ninja changed what ApiRouter relies on ({}): a write's right (403) may no longer be "
    "checked before its body is read, nor unknown parameters refused, nor refused values named. Read "
    "the new Operation.run and _get_values, mend _checked_and_named in reliefops/core/api.py, then "
    "update NINJA_READ_PARAMETERS and this test."
)


def test_the_reading_of_a_request_takes_what_the_router_passes_on():
    names = tuple(inspect.signature(Operation._get_values).parameters)
    assert names == NINJA_READ_PARAMETERS, CHANGED.format(f"Operation._get_values{names}")
    assert ninja_reads_as_expected(Operation), CHANGED.format("ninja_reads_as_expected(Operation)")


def test_run_authenticates_then_reads_then_calls_the_handler():
    source = inspect.getsource(Operation.run)
    steps = [
        ("authenticate", r"self\._run_checks\(request\)"),
        ("read", r"values = self\._get_values\(request, kw, temporal_response\)"),
        ("call the handler", r"self\.view_func\(request, \*\*values\)"),
    ]
    found = {step: re.search(pattern, source) for step, pattern in steps}
    missing = [step for step, match in found.items() if match is None]
    assert not missing, CHANGED.format(f"Operation.run no longer seen to {', '.join(missing)}")
    starts = [found[step].start() for step, _ in steps]  # type: ignore[union-attr]
    assert starts == sorted(starts), CHANGED.format("Operation.run's order of its steps")


def _bound_operations() -> list[Operation]:
    api.urls  # noqa: B018 - binds the routers
    return [
        operation
        for bound in api._get_bound_routers()
        for view in bound.path_operations.values()
        for operation in view.operations
    ]


def test_every_operation_of_the_api_reads_through_the_router():
    # every bound operation's reading is the router's (no operation of a plain Router, none missed)
    plain = [
        f"{'/'.join(op.methods)} {op.path}"
        for op in _bound_operations()
        if getattr(op._get_values, "__qualname__", "") != "_checked_and_named.<locals>.get_values"
    ]
    assert plain == [], CHANGED.format(f"operations read without the router's check: {plain}")


def test_the_check_can_fail():
    class Changed(Operation):
        def _get_values(self, request, kw):  # type: ignore[override]
            return {}

    assert not ninja_reads_as_expected(Changed)
