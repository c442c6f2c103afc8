"""Databases for the reliability tests, outside the test database: they are written by child
processes (`reliefops ...`, tests/reliability/worker.py) that commit, crash and restore.

The tests run on the engine of the test run: SQLite files in a temporary folder, or PostgreSQL
databases named `ops_*` on the server of DATABASE_URL. The Kashmir 2005 scenario is loaded once
per test run into a template database, shared with the whole-scenario tests
(tests/scenario_template.py); each test here works on its own copy.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scenario_template import (  # noqa: F401 - the reliability tests import them from here
    ROOT,
    SUFFIX,
    Database,
    child_env,
    engine,
    run,
    server,
)

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw")
_serial = itertools.count(1)


class Databases:
    """`copy()`: a copy of the scenario; `empty()`: a database with nothing in it; `drop_all()`."""

    def __init__(self, template: Database, folder: Path) -> None:
        self.template, self.folder, self.vendor = template, folder, template.vendor
        self.made: list[Database] = []

    def _new(self, label: str) -> Database:
        name = f"ops_{label}_{WORKER}_{os.getpid()}_{next(_serial)}{SUFFIX}".lower()
        path = str(self.folder / f"{name}.sqlite3")
        database = Database(path if self.vendor == "sqlite" else name, self.vendor)
        self.made.append(database)
        return database

    def copy(self) -> Database:
        database = self._new("copy")
        if self.vendor == "sqlite":
            with sqlite3.connect(self.template.name) as source, sqlite3.connect(database.name) as target:
                source.backup(target)
        else:
            with server() as connection:
                connection.execute(f'CREATE DATABASE "{database.name}" TEMPLATE "{self.template.name}"')
        return database

    def empty(self) -> Database:
        database = self._new("empty")
        if self.vendor == "postgresql":
            with server() as connection:
                connection.execute(f'CREATE DATABASE "{database.name}"')
        return database

    def drop_all(self) -> None:
        for database in self.made:
            database.drop()


@pytest.fixture
def databases(tmp_path, scenario_template) -> Iterator[Databases]:
    made = Databases(scenario_template, tmp_path)
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def module_databases(tmp_path_factory, scenario_template) -> Iterator[Databases]:
    made = Databases(scenario_template, tmp_path_factory.mktemp("databases"))
    yield made
    made.drop_all()


@pytest.fixture
def var_dir(tmp_path) -> Path:
    folder = tmp_path / "var"
    folder.mkdir()
    return folder


def check_report(database: Database, var_dir: Path) -> dict[str, Any]:
    return json.loads(run(["worker", "check"], database, var_dir).stdout)
