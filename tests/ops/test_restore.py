"""`reliefops restore`: what it tells the operator after a restore."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from reliefops.ops.backups import RestoreResult
from reliefops.ops.management.commands import restore

PENDING = [f"stock.{n:04d}_step" for n in range(1, 8)]


def restored(monkeypatch, pending: list[str]) -> str:
    """The output of `reliefops restore` of a backup that lacks the `pending` migrations."""
    result = RestoreResult(
        engine="sqlite", database="reliefops.sqlite3", created_at="2006-03-31T01:30:02+00:00",
        replaced=False, pending_migrations=pending, seconds=0.5,
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
