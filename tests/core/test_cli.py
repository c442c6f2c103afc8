"""core.cli: a database the command cannot open is one line saying which, why and what to do.

The tests open databases of their own beside the test database; pytest-django lets a test open a
connection only with its `db` fixture."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQL
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLite
from django.db.utils import DatabaseError

from reliefops.core.cli import ReliefopsCommand, database_unavailable


def opening_error(wrapper: Any) -> DatabaseError:
    with pytest.raises(DatabaseError) as failed:
        wrapper.ensure_connection()
    return failed.value


def sqlite_at(path) -> SQLite:
    """A connection to a SQLite file opened as the settings open one (a PRAGMA on opening)."""
    settings = {
        **connection.settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
    }
    return SQLite(settings)


def postgresql_at(port: int, name: str = "relief") -> PostgreSQL:
    settings = {
        **connection.settings_dict,
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": port,
        "OPTIONS": {"connect_timeout": 5},
    }
    return PostgreSQL(settings)


def test_a_sqlite_database_in_a_missing_folder(db, tmp_path):
    path = tmp_path / "nowhere" / "reliefops.sqlite3"
    assert database_unavailable(opening_error(sqlite_at(path))) == (
        f"cannot open the SQLite database {path}: its folder {path.parent} does not exist; create it, "
        "or correct DATABASE_URL"
    )


def test_a_file_that_is_not_a_sqlite_database(db, tmp_path):
    path = tmp_path / "backup.key"
    path.write_bytes(b"not a database, a key file " * 200)
    assert database_unavailable(opening_error(sqlite_at(path))) == (
        f"cannot open the SQLite database {path}: the file is not a SQLite database; correct "
        "DATABASE_URL, or move the file aside"
    )


def test_a_postgresql_server_that_does_not_answer(db):
    assert database_unavailable(opening_error(postgresql_at(5999))) == (
        "cannot connect to the PostgreSQL database relief at 127.0.0.1:5999: no server answers there "
        "(connection refused); start PostgreSQL, or correct the host and port in DATABASE_URL"
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a PostgreSQL server")
def test_a_postgresql_database_that_does_not_exist(db):
    port = int(connection.settings_dict["PORT"] or 5432)
    wrapper = postgresql_at(port, name="walk_fix_no_such_database")
    wrapper.settings_dict.update(
        {k: connection.settings_dict[k] for k in ("USER", "PASSWORD", "HOST")}, PORT=port
    )
    message = database_unavailable(opening_error(wrapper))
    assert message is not None
    assert message.endswith(
        "there is no such database; create it (createdb walk_fix_no_such_database) or correct DATABASE_URL"
    )


def test_an_error_of_an_open_connection_is_not_taken_for_an_unreachable_database(db):
    # a query that fails on a database that was opened keeps its traceback: it is not "unreachable"
    with pytest.raises(DatabaseError) as failed, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_at_all")
    assert database_unavailable(failed.value) is None


class _Opens(ReliefopsCommand):
    def __init__(self, wrapper: Any) -> None:
        super().__init__(stdout=io.StringIO(), stderr=io.StringIO())
        self.wrapper = wrapper

    def handle(self, *args: Any, **options: Any) -> None:
        self.wrapper.ensure_connection()


def test_a_reliefops_command_turns_an_unopenable_database_into_a_command_error(db, tmp_path):
    path = tmp_path / "gone" / "x.sqlite3"
    with pytest.raises(
        CommandError, match=r"^cannot open the SQLite database .*: its folder .* does not exist"
    ):
        call_command(_Opens(sqlite_at(path)))
    # and with --traceback the operator sees the error itself
    with pytest.raises(OperationalError):
        call_command(_Opens(sqlite_at(path)), traceback=True)
    assert not os.path.exists(path.parent)
