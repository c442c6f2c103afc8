"""A SQLite database that `reliefops restore` creates is readable by its owner alone."""

from __future__ import annotations

import io
import os
import sqlite3
import stat

import pytest

from reliefops.ops import backups

SECRET = "a-backup-key-long-enough-for-scrypt"


@pytest.fixture
def usual_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_restored_sqlite_database_is_the_owners_alone(tmp_path, monkeypatch, usual_umask):
    # given a backup of a small SQLite database
    source = tmp_path / "source.sqlite3"
    with sqlite3.connect(source) as db:
        db.execute("CREATE TABLE django_migrations (app TEXT, name TEXT)")
        db.execute("CREATE TABLE household (name TEXT)")
        db.execute("INSERT INTO household VALUES ('Bibi')")
    db.close()
    monkeypatch.setattr(backups, "_sqlite_path", lambda: source)
    sealed = io.BytesIO()
    backups._backup_sqlite(sealed, SECRET)
    backup = tmp_path / "source.backup"
    backup.write_bytes(sealed.getvalue())
    # when it is restored where no database is yet, in a folder others may read
    restored_folder = tmp_path / "restored"
    restored_folder.mkdir(mode=0o755)
    target = restored_folder / "reliefops.sqlite3"
    monkeypatch.setattr(backups, "_sqlite_path", lambda: target)
    backups._restore_sqlite(backup, SECRET)
    # then it holds the data, and only its owner may read it
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT name FROM household").fetchall() == [("Bibi",)]
    db.close()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
