"""Databases for the reliability tests, outside the test database: they are written by child
processes (`reliefops ...`, tests/reliability/worker.py) that commit, crash and restore.

The tests run on the engine of the test run: SQLite files in a temporary folder, or PostgreSQL
databases named `ops_*` on the server of DATABASE_URL. The Kashmir 2005 scenario is loaded once
per test run into a template database; each test works on its own copy.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from reliefops.env import VAR_DIR, env

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
RELIEFOPS = str(BIN / "reliefops")
SUFFIX = env("RELIEFOPS_TEST_DB_SUFFIX") or ""
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw")
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
_serial = itertools.count(1)


def engine() -> str:
    return "postgresql" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "sqlite"


def _server_url(database: str) -> str:
    config = settings.DATABASES["default"]
    user = config.get("USER") or "postgres"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host, port = config.get("HOST") or "127.0.0.1", config.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{database}"


def _server() -> psycopg.Connection[Any]:
    return psycopg.connect(_server_url("postgres"), autocommit=True)


@dataclass
class Database:
    """One database a child process works on."""

    name: str  # PostgreSQL database name, or SQLite file path
    vendor: str

    @property
    def url(self) -> str:
        return f"sqlite:///{self.name}" if self.vendor == "sqlite" else _server_url(self.name)

    @property
    def path(self) -> Path:
        return Path(self.name)

    def connect(self) -> Any:
        if self.vendor == "sqlite":
            return sqlite3.connect(self.name)
        return psycopg.connect(self.url, autocommit=True)

    def drop(self) -> None:
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.name}{suffix}").unlink(missing_ok=True)
        else:
            with _server() as server:
                server.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def child_env(database: Database, var_dir: Path, **extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RELIEFOPS_BACKUP_", "PYTEST_", "DJANGO_SETTINGS_MODULE"))
    }
    environment.update(DATABASE_URL=database.url, RELIEFOPS_VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT))
    environment.update(extra)
    return environment


def run(
    args: list[str], database: Database, var_dir: Path, *, check: bool = True, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run a `reliefops` command (args[0] == "reliefops") or the worker (args[0] == "worker")."""
    program = [RELIEFOPS] if args[0] == "reliefops" else [sys.executable, "-m", "tests.reliability.worker"]
    result = subprocess.run(  # noqa: S603 - our own programs
        [*program, *args[1:]],
        cwd=ROOT,
        env=child_env(database, var_dir, **extra),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,  # a scenario load on a busy machine
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def _build_template(template: Database, var_dir: Path) -> None:
    template.drop()
    if template.vendor == "postgresql":
        with _server() as server:
            server.execute(f'CREATE DATABASE "{template.name}"')
    run(["reliefops", "migrate", "--no-input", "-v", "0"], template, var_dir)
    run(["reliefops", "scenario", "load", "kashmir-2005"], template, var_dir)
    if template.vendor == "sqlite":
        # One file, no WAL beside it, so that a copy is the whole database.
        with sqlite3.connect(template.name) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="session")
def scenario_template(tmp_path_factory) -> Database:
    """The Kashmir 2005 scenario, loaded once per test run (whichever test worker comes first)."""
    vendor = engine()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    name = f"ops_scenario{SUFFIX}"
    template = Database(str(VAR_DIR / f"{name}.sqlite3") if vendor == "sqlite" else name, vendor)
    marker = VAR_DIR / f"{name}.{vendor}.built"
    with (VAR_DIR / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists() or marker.read_text() != RUN:
            _build_template(template, tmp_path_factory.mktemp("template-var"))
            marker.write_text(RUN)
    return template


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
            with _server() as server:
                server.execute(f'CREATE DATABASE "{database.name}" TEMPLATE "{self.template.name}"')
        return database

    def empty(self) -> Database:
        database = self._new("empty")
        if self.vendor == "postgresql":
            with _server() as server:
                server.execute(f'CREATE DATABASE "{database.name}"')
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
