"""Fixtures for the reference-data tests: writing input files, running commands, the DB's state."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from reliefops.catalog.models import Item, Kit, KitComponent, PackSize
from reliefops.core.models import AuditEvent
from reliefops.partners.models import Grant, Organisation
from reliefops.places.models import AdminArea, Site
from reliefops.scenarios.kashmir2005 import DATA_DIR

REFERENCE_MODELS = (AdminArea, Site, Organisation, Grant, Item, PackSize, Kit, KitComponent, AuditEvent)


def reference_state() -> dict[str, list[tuple]]:
    """Every row of the reference-data tables (and the audit trail), to compare before and after."""
    return {model.__name__: sorted(model.objects.values_list()) for model in REFERENCE_MODELS}


@pytest.fixture
def write_file(tmp_path) -> Callable[..., Path]:
    """Write an input file: `write_file("areas.csv", "pcode,name\\n...")` (text as UTF-8, or bytes)."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
def run_command(db):
    """Run a reliefops command in-process: returns (stdout, stderr).

    A CommandError propagates, carrying what the command wrote on stderr as `.stderr`.
    """

    def run(*args: str) -> tuple[str, str]:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(*args, stdout=out, stderr=err)
        except CommandError as exc:
            exc.stderr = err.getvalue()  # type: ignore[attr-defined]
            raise
        return out.getvalue(), err.getvalue()

    return run


@pytest.fixture
def places_csv() -> bytes:
    """The scenario's gazetteer file, as shipped (88 areas, no alternate names)."""
    return (DATA_DIR / "places.csv").read_bytes()


@pytest.fixture
def state():
    """A function returning the reference tables' rows, for 'nothing was written' assertions."""
    return reference_state
