"""The Kashmir 2005 scenario, loaded once per test run into a template database and shared.

A load takes a minute or more, so the first test worker that needs the scenario builds the
template (`reliefops migrate` and `reliefops scenario load kashmir-2005`, in child processes) and
keeps what the load printed beside it; the others wait for it and use it. The reliability tests
copy it into databases of their own (tests/reliability/conftest.py); the whole-scenario tests fill
the worker's test database with it (`fill_test_database`).

The template is an SQLite file in RELIEFOPS_VAR_DIR, or the PostgreSQL database
`ops_scenario<RELIEFOPS_TEST_DB_SUFFIX>` on the server of DATABASE_URL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from reliefops.env import VAR_DIR, env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RELIEFOPS = str(BIN / "reliefops")
SUFFIX = env("RELIEFOPS_TEST_DB_SUFFIX") or ""
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
SCENARIO = "kashmir-2005"
# Every test that needs the scenario runs on one test worker (`--dist loadgroup`): the first of
# them waits for the template to be built, and a worker of its own would only have waited with it
# (a minute on PostgreSQL). xdist sends the largest group first, so this one starts at once while
# the other worker runs the rest of the suite.
ON_THE_SCENARIOS_WORKER = pytest.mark.xdist_group("scenario")


def engine() -> str:
    return "postgresql" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "sqlite"


def server_url(database: str) -> str:
    config = settings.DATABASES["default"]
    user = config.get("USER") or "postgres"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host, port = config.get("HOST") or "127.0.0.1", config.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{database}"


def server() -> psycopg.Connection[Any]:
    return psycopg.connect(server_url("postgres"), autocommit=True)


@dataclass
class Database:
    """One database a child process works on."""

    name: str  # PostgreSQL database name, or SQLite file path
    vendor: str

    @property
    def url(self) -> str:
        return f"sqlite:///{self.name}" if self.vendor == "sqlite" else server_url(self.name)

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
            with server() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Template(Database):
    """The scenario's template database, and what its load printed (as `load(stdout=...)` does)."""

    printed: str = ""


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


def what_load_printed(stdout: str) -> str:
    """The lines `load(stdout=...)` writes: the command's output less its first and last lines."""
    lines = stdout.splitlines(keepends=True)
    assert lines[0] == f"Loading scenario {SCENARIO}\n", stdout
    assert lines[-1] == f"Scenario {SCENARIO} loaded.\n", stdout
    return "".join(lines[1:-1])


def _build_template(template: Database, var_dir: Path) -> str:
    """Load the scenario into a new database; returns what the load printed."""
    template.drop()
    if template.vendor == "postgresql":
        with server() as connection:
            connection.execute(f'CREATE DATABASE "{template.name}"')
    run(["reliefops", "migrate", "--no-input", "-v", "0"], template, var_dir)
    printed = what_load_printed(run(["reliefops", "scenario", "load", SCENARIO], template, var_dir).stdout)
    if template.vendor == "sqlite":
        # One file, no WAL beside it, so that a copy is the whole database.
        with contextlib.closing(sqlite3.connect(template.name)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return printed


@pytest.fixture(scope="session")
def scenario_template(tmp_path_factory) -> Template:
    """The Kashmir 2005 scenario, loaded once per test run (whichever test worker comes first).
    Nothing in it depends on the worker's SECRET_KEY or var folder (card tokens are random, not
    keyed; no file is kept), so the template's own var folder serves."""
    vendor = engine()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    name = f"ops_scenario{SUFFIX}"
    template = Template(str(VAR_DIR / f"{name}.sqlite3") if vendor == "sqlite" else name, vendor)
    marker = VAR_DIR / f"{name}.{vendor}.built"
    printed = VAR_DIR / f"{name}.{vendor}.printed"
    with (VAR_DIR / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists() or marker.read_text() != RUN:
            marker.unlink(missing_ok=True)
            printed.write_text(_build_template(template, tmp_path_factory.mktemp("template-var")))
            marker.write_text(RUN)
    template.printed = printed.read_text()
    return template


def fill_test_database(template: Database) -> None:
    """Replace the test database (Django's default connection) with a copy of the template.

    Outside any transaction: on SQLite the template's pages are written over the test database
    through Django's own connection (sqlite3's backup API); on PostgreSQL the test database is
    dropped and made again from the template, and Django connects to it again when next asked.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, connections

    assert not connection.in_atomic_block, "the test database is filled outside a transaction"
    if template.vendor == "sqlite":
        connection.ensure_connection()
        with contextlib.closing(sqlite3.connect(template.name)) as source:
            source.backup(connection.connection)
    else:
        name = connection.settings_dict["NAME"]
        connections.close_all()
        with server() as connection_to_server:
            connection_to_server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection_to_server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.name}"')
    ContentType.objects.clear_cache()  # the ids are the template's now
