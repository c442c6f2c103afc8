"""The databases a benchmark runs on: create them empty, start Django on one, open raw connections.

A benchmark database is SQLite (a file under RELIEFOPS_VAR_DIR, with the project's own settings:
WAL, synchronous=FULL, BEGIN IMMEDIATE) or PostgreSQL (a database named `bench_*` on the server
given by BENCH_POSTGRES_URL). Only databases whose name starts with `bench_` are ever dropped.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from reliefops.env import VAR_DIR

POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
VENDORS = ("sqlite", "postgresql")
SQLITE_BUSY_TIMEOUT_S = 20


@dataclass(frozen=True)
class Target:
    """One benchmark database."""

    vendor: str  # "sqlite" or "postgresql"
    name: str  # always starts with "bench_"

    def __post_init__(self) -> None:
        if self.vendor not in VENDORS:
            raise ValueError(f"unknown database {self.vendor!r}; choose from {', '.join(VENDORS)}")
        if not self.name.startswith("bench_"):
            raise ValueError("benchmark databases are named bench_*")

    @property
    def path(self) -> Path:
        return VAR_DIR / f"{self.name}.sqlite3"

    @property
    def url(self) -> str:
        if self.vendor == "sqlite":
            return f"sqlite:///{self.path}"
        return f"{POSTGRES_SERVER}/{self.name}"

    @property
    def label(self) -> str:
        return "SQLite" if self.vendor == "sqlite" else "PostgreSQL"


def _server_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True)


def recreate(target: Target) -> None:
    """Make the database exist and be empty."""
    drop(target)
    if target.vendor == "postgresql":
        with _server_connection() as server:
            server.execute(f'CREATE DATABASE "{target.name}"')
    else:
        target.path.parent.mkdir(parents=True, exist_ok=True)


def drop(target: Target) -> None:
    """Remove the database and its files (big ledgers take gigabytes)."""
    if target.vendor == "postgresql":
        with _server_connection() as server:
            server.execute(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{target.path}{suffix}").unlink(missing_ok=True)


def start_django(target: Target) -> None:
    """Point the project's settings at the target and set Django up in this process."""
    os.environ["DATABASE_URL"] = target.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reliefops.settings")
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def raw_connection(target: Target) -> Any:
    """A DB-API connection without Django, set up as the project sets up its own.

    SQLite: autocommit (the caller says BEGIN IMMEDIATE), WAL, synchronous=FULL, foreign keys on.
    PostgreSQL: psycopg with its defaults (a transaction opens at the first statement).
    """
    if target.vendor == "sqlite":
        conn = sqlite3.connect(target.path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn
    return psycopg.connect(target.url)


def size_bytes(target: Target) -> int:
    if target.vendor == "sqlite":
        return sum(
            Path(f"{target.path}{suffix}").stat().st_size
            for suffix in ("", "-wal")
            if Path(f"{target.path}{suffix}").exists()
        )
    with _server_connection() as server:
        row = server.execute("SELECT pg_database_size(%s)", [target.name]).fetchone()
        return int(row[0]) if row else 0


def run_per_database(script: str, argv: list[str], vendors: list[str]) -> list[dict[str, Any]]:
    """Run `script` once per database in a child process (Django reads its database once per process).

    The child gets the same options and `--database VENDOR --json FILE`; its figures come back as JSON.
    """
    forwarded = argv
    for option in ("--json", "--databases"):
        forwarded = _without_option(forwarded, option)
    results = []
    for vendor in vendors:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, script, *forwarded, "--database", vendor, "--json", out.name]
            subprocess.run(command, check=True)  # noqa: S603 - our own script
            results.append(json.loads(Path(out.name).read_text()))
    return results


def _without_option(argv: list[str], name: str) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            out.append(arg)
    return out
