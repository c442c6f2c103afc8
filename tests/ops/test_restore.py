"""`reliefops restore`: what it tells the operator after a restore."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from reliefops.ops.backups import RestoreResult
from reliefops.ops.management.commands import restore

PENDING = [f"stock.{n:04d}_step" for n in range(1, 8)]


def restored(monkeypatch, pending: list[str], *, replaced: bool = False) -> str:
    """The output of `reliefops restore` of a backup that lacks the `pending` migrations."""
    result = RestoreResult(
        engine="sqlite", database="reliefops.sqlite3", created_at="2006-03-31T01:30:02+00:00",
        replaced=replaced, pending_migrations=pending, seconds=0.5,
    )  # fmt: skip
    monkeypatch.setattr(restore, "backup_secret", lambda **kwargs: "k" * 32)
    monkeypatch.setattr(restore, "backup_restore", lambda **kwargs: result)
    out = io.StringIO()
    call_command("restore", "old.backup", stdout=out, no_color=True)
    return out.getvalue()


def test_an_old_backup_names_five_missing_migrations_and_counts_the_rest(monkeypatch):
    out = restored(monkeypatch, PENDING)
    assert (
        "the backup predates 7 migrations of this code (stock.0001_step, stock.0002_step, stock.0003_step, "
        "stock.0004_step, stock.0005_step and 2 more): run `reliefops migrate` now, then "
        "`reliefops stock verify`"
    ) in out


@pytest.mark.parametrize("count", [1, 5])
def test_a_few_missing_migrations_are_all_named(monkeypatch, count):
    out = restored(monkeypatch, PENDING[:count])
    assert f"({', '.join(PENDING[:count])}): run `reliefops migrate` now" in out
    assert "more" not in out


@pytest.mark.parametrize(
    ("replaced", "first_line"),
    [
        (
            False,
            "restored into the sqlite database reliefops.sqlite3 the backup made "
            "2006-03-31T01:30:02+00:00 in 0.5 s",
        ),
        (
            True,
            "replaced the contents of the sqlite database reliefops.sqlite3 with the backup made "
            "2006-03-31T01:30:02+00:00 in 0.5 s",
        ),
    ],
    ids=["into-an-empty-database", "forced-over-one"],
)
def test_the_first_line_says_where_the_backup_went(monkeypatch, replaced, first_line):
    # given a backup restored into an empty database, or forced over one that held tables
    # when the command reports it, then its first line says which
    assert restored(monkeypatch, [], replaced=replaced).splitlines()[0] == first_line


def test_an_old_backup_forced_back_tells_how_to_go_back_to_its_version(monkeypatch):
    # given a backup made before an upgrade, forced back over the upgraded database
    out = restored(monkeypatch, PENDING[:1], replaced=True)
    # then the operator going back is told to install that version rather than migrate
    assert out.splitlines()[1].endswith(
        "run `reliefops migrate` now, then `reliefops stock verify` (or, when going back to the "
        "version that made the backup, install that version instead)"
    )
