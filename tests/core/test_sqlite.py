"""core.sqlite: a SQLite database file reliefops creates, and its -wal and -shm files, are readable
by their owner alone, under the usual umask."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
from django.conf import settings
from django.db import connection

from reliefops.core.sqlite.base import DatabaseWrapper, create_private


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_settings_open_sqlite_through_the_private_backend():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings; this run is on PostgreSQL")
    assert settings.DATABASES["default"]["ENGINE"] == "reliefops.core.sqlite"


def test_a_new_database_and_its_wal_and_shm_files_are_the_owners_alone(db, tmp_path, usual_umask):
    # given a database path where nothing is yet, in a folder others may read
    tmp_path.chmod(0o755)
    path = tmp_path / "reliefops.sqlite3"
    wrapper = DatabaseWrapper(
        {
            **connection.settings_dict,
            "ENGINE": "reliefops.core.sqlite",
            "NAME": str(path),
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
        }
    )
    # when reliefops opens it and writes, in WAL mode
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE household (name TEXT)")
            cursor.execute("INSERT INTO household VALUES ('Bibi')")
        # then the database, its write-ahead log and its shared memory are readable by the owner only
        assert mode(path) == 0o600
        assert mode(f"{path}-wal") == 0o600
        assert mode(f"{path}-shm") == 0o600
    finally:
        wrapper.close()


def test_a_database_that_exists_keeps_its_mode(tmp_path, usual_umask):
    path = tmp_path / "shared.sqlite3"
    sqlite3.connect(path).close()
    path.chmod(0o640)
    create_private(path)
    assert mode(path) == 0o640


@pytest.mark.parametrize("name", [":memory:", "file:memorydb_default?mode=memory&cache=shared", ""])
def test_an_in_memory_database_makes_no_file(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    create_private(name)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_left_for_sqlite_to_refuse(tmp_path):
    create_private(tmp_path / "nowhere" / "x.sqlite3")
    assert not (tmp_path / "nowhere").exists()
