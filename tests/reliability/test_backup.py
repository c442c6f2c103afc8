"""`reliefops backup` and `reliefops restore`: encrypted, consistent, all or nothing.

The commands run as the operator runs them, in child processes, on databases of the test run's
engine (SQLite files, or PostgreSQL databases beside the test database).
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from reliefops.ops.backups import backup_secret
from reliefops.ops.sealing import MAGIC, BackupRefused, SealedWriter, open_chunks
from tests.reliability.conftest import ROOT, Database, check_report, child_env, run
from tests.reliability.operation import is_sound
from tests.scenario_template import ON_THE_SCENARIOS_WORKER

KEY = "correct horse battery staple 2005"
OTHER_KEY = "another key that is long enough 1"
# Rows every operation keeps: each must come back from a backup, one for one.
KEPT = [
    "stock_movement",
    "stock_movementline",
    "stock_balance",
    "stock_waybill",
    "households_household",
    "households_handover",
    "households_handoverdelivery",
    "cluster_activityrow",
    "cluster_importbatch",
    "core_auditevent",
]
OWN_EVENTS = "('backup.made', 'backup.restored')"

# One worker runs the module, with every other test of the scenario, so its backup is made once.
pytestmark = ON_THE_SCENARIOS_WORKER


def _tables(database: Database) -> list[str]:
    with database.connect() as conn:
        if database.vendor == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        else:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        return sorted(row[0] for row in conn.execute(sql).fetchall())


def digest(database: Database) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its rows (in any order); the backups' own audit
    events left out."""
    found: dict[str, tuple[int, str]] = {}
    with database.connect() as conn:
        for table in _tables(database):
            where = f" WHERE action NOT IN {OWN_EVENTS}" if table == "core_auditevent" else ""
            rows = conn.execute(f'SELECT * FROM "{table}"{where}').fetchall()  # noqa: S608 - table names
            hashes = sorted(hashlib.sha256(repr(tuple(row)).encode()).hexdigest() for row in rows)
            found[table] = (len(rows), hashlib.sha256("".join(hashes).encode()).hexdigest())
    return found


def _key_file(folder: Path) -> Path:
    path = folder / "backup.key"
    path.write_text(KEY + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def key_file(tmp_path) -> Path:
    return _key_file(tmp_path)


def _backup(
    database: Database, var_dir: Path, key_file: Path, output: Path
) -> subprocess.CompletedProcess[str]:
    return run(
        ["reliefops", "backup", "--output", str(output)],
        database,
        var_dir,
        RELIEFOPS_BACKUP_KEY_FILE=str(key_file),
    )


def _restore(
    database: Database, var_dir: Path, key_file: Path, backup: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    return run(
        ["reliefops", "restore", str(backup), *options],
        database,
        var_dir,
        check=False,
        RELIEFOPS_BACKUP_KEY_FILE=str(key_file),
    )


@pytest.fixture(scope="module")
def scenario_backup(module_databases, tmp_path_factory) -> tuple[Database, Path]:
    """A copy of the scenario and its backup, made once for the tests that only read them."""
    folder = tmp_path_factory.mktemp("scenario-backup")
    source = module_databases.copy()
    output = folder / "kashmir.backup"
    _backup(source, folder, _key_file(folder), output)
    return source, output


def test_a_backup_restored_into_an_empty_database_holds_every_row(
    databases, var_dir, key_file, scenario_backup
):
    # Given a backup of the Kashmir 2005 scenario
    source, backup = scenario_backup
    assert backup.stat().st_mode & 0o077 == 0, "a backup holds personal data: only its owner may read it"
    assert b"Muhammad" not in backup.read_bytes(), "the backup is not encrypted"

    # When it is restored into an empty database
    target = databases.empty()
    restored = _restore(target, var_dir, key_file, backup)

    # Then every table holds the same rows as the source, the ledger is sound, and the restore is audited
    assert restored.returncode == 0, restored.stderr
    assert "restored into" in restored.stdout
    assert "migrate" not in restored.stdout, "the backup's schema is the code's: nothing to migrate"
    before, after = digest(source), digest(target)
    for table in KEPT:
        assert before[table][0] > 0, f"the scenario has no {table} rows to compare"
    assert after == before
    verify = run(["reliefops", "stock", "verify"], target, var_dir)
    assert "the ledger is sound" in verify.stdout
    with target.connect() as conn:
        events = conn.execute(
            "SELECT count(*) FROM core_auditevent WHERE action = 'backup.restored'"
        ).fetchone()
    assert events[0] == 1


def test_check_reads_the_whole_backup_and_restores_nothing(databases, var_dir, key_file, scenario_backup):
    # Given a backup
    _, backup = scenario_backup
    target = databases.empty()

    # When it is checked
    checked = _restore(target, var_dir, key_file, backup, "--check")

    # Then it is reported sound, with its engine, and no table was made
    assert checked.returncode == 0, checked.stderr
    assert f"a sound backup of the {target.vendor} database" in checked.stdout
    assert _tables(target) == []


def test_a_wrong_key_is_refused_and_nothing_is_restored(databases, var_dir, scenario_backup, tmp_path):
    # Given a backup and a key file with another key
    _, backup = scenario_backup
    wrong = tmp_path / "wrong.key"
    wrong.write_text(OTHER_KEY)
    wrong.chmod(0o600)
    target = databases.empty()

    # When it is restored with that key
    restored = _restore(target, var_dir, wrong, backup)

    # Then the restore is refused with the reason, and the target stays empty
    assert restored.returncode == 1
    assert "the key does not open this backup" in restored.stderr
    assert "nothing was restored" in restored.stderr
    assert _tables(target) == []


# The header fields SealedWriter writes itself; the rest (engine, versions, counts) is the backup's own.
SEALING_FIELDS = {"cipher", "kdf", "salt", "key_check", "nonce_prefix", "chunk_size"}


@pytest.fixture(scope="module")
def chunked_backup(scenario_backup, tmp_path_factory) -> Path:
    """The scenario's backup sealed again in chunks small enough for several: a PostgreSQL dump of
    the scenario is compressed below one chunk of the default size."""
    _, backup = scenario_backup
    with backup.open("rb") as handle:
        header, chunks = open_chunks(handle, secret=KEY)
        payload = b"".join(chunks)
    output = tmp_path_factory.mktemp("chunked") / "kashmir-chunked.backup"
    with (
        mock.patch("reliefops.ops.sealing.CHUNK_SIZE", max(8192, len(payload) // 8)),
        output.open("wb") as out,
    ):
        writer = SealedWriter(
            out, secret=KEY, header={k: v for k, v in header.items() if k not in SEALING_FIELDS}
        )
        writer.write(payload)
        writer.close()
    return output


def _chunk_offsets(data: bytes) -> list[int]:
    """Where each sealed chunk of a backup file starts."""
    start = len(MAGIC) + 1
    (header_length,) = struct.unpack(">I", data[start : start + 4])
    offset, offsets = start + 4 + header_length, []
    while offset < len(data):
        offsets.append(offset)
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        offset += 4 + length
    return offsets


def _damaged(data: bytes, damage: str) -> bytes:
    damaged = bytearray(data)
    offsets = _chunk_offsets(data)
    assert len(offsets) >= 3, "the scenario's backup spans several chunks"
    if damage == "cut-inside-a-chunk":
        return bytes(damaged[: len(damaged) - 5000])
    if damage == "last-chunk-dropped":
        return bytes(damaged[: offsets[-1]])
    if damage == "one-byte-changed":
        damaged[offsets[1] + 1000] ^= 0x01
        return bytes(damaged)
    if damage == "header-changed":
        damaged = damaged.replace(b'"engine": "', b'"engine":  "', 1)
        damaged[len(MAGIC) + 1 : len(MAGIC) + 5] = struct.pack(">I", offsets[0] - len(MAGIC) - 5 + 1)
        return bytes(damaged)
    if damage == "bytes-appended":
        return bytes(damaged) + b"\x00" * 20
    first, second, third = offsets[0], offsets[1], offsets[2]
    return bytes(damaged[:first] + damaged[second:third] + damaged[first:second] + damaged[third:])


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("cut-inside-a-chunk", "the backup is truncated"),
        ("last-chunk-dropped", "the backup is truncated"),
        ("one-byte-changed", "the backup is damaged or was altered"),
        ("header-changed", "the backup is damaged or was altered"),
        ("chunks-swapped", "the backup is damaged or was altered"),
        ("bytes-appended", "bytes follow its last chunk"),
    ],
)
def test_a_damaged_backup_is_refused_before_anything_is_given_out_whole(chunked_backup, damage, reason):
    # Given a backup damaged in one way
    damaged = io.BytesIO(_damaged(chunked_backup.read_bytes(), damage))

    # When it is read with the right key, then it is refused with the reason before its end
    _, chunks = open_chunks(damaged, secret=KEY)
    with pytest.raises(BackupRefused, match=reason):
        for _ in chunks:
            pass


@pytest.mark.parametrize("damage", ["one-byte-changed", "last-chunk-dropped"])
def test_restoring_a_damaged_backup_restores_nothing(
    databases, var_dir, key_file, chunked_backup, tmp_path, damage
):
    # Given a damaged backup (the refusal comes after most of the file has been read)
    damaged = tmp_path / f"{damage}.backup"
    damaged.write_bytes(_damaged(chunked_backup.read_bytes(), damage))
    target = databases.empty()

    # When it is restored
    restored = _restore(target, var_dir, key_file, damaged)

    # Then the restore is refused with the reason, and the target stays empty
    assert restored.returncode == 1, restored.stdout
    assert "nothing was restored" in restored.stderr
    assert _tables(target) == []


def test_restore_refuses_a_database_that_holds_tables_unless_forced(
    databases, var_dir, key_file, scenario_backup
):
    # Given a backup and a database with an operation of its own (a copy of the scenario, with a new round)
    source, backup = scenario_backup
    target = databases.copy()
    run(["worker", "seed", "--households", "3", "--code", "OTHER"], target, var_dir)
    own = digest(target)

    # When it is restored there without --force, then with it
    refused = _restore(target, var_dir, key_file, backup)
    unchanged = digest(target)
    forced = _restore(target, var_dir, key_file, backup, "--force")

    # Then the first is refused and changes nothing; the second replaces everything with the backup
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
    assert unchanged == own
    assert forced.returncode == 0, forced.stderr
    assert "replaced the contents of" in forced.stdout
    assert digest(target) == digest(source)


@pytest.mark.parametrize("damage", ["one-byte-changed", "last-chunk-dropped"])
def test_a_damaged_backup_forced_over_a_database_leaves_it_as_it_was(
    databases, var_dir, key_file, chunked_backup, tmp_path, damage
):
    # Given a database with an operation in it, and a damaged backup
    target = databases.copy()
    own = digest(target)
    damaged = tmp_path / f"{damage}.backup"
    damaged.write_bytes(_damaged(chunked_backup.read_bytes(), damage))

    # When the backup is forced over the database
    restored = _restore(target, var_dir, key_file, damaged, "--force")

    # Then the restore is refused, and the database holds what it held, every table and row
    assert restored.returncode == 1, restored.stdout
    assert "nothing was restored" in restored.stderr
    assert digest(target) == own


def test_an_older_backup_forced_over_a_newer_database_replaces_everything(
    databases, var_dir, key_file, tmp_path
):
    # Given a backup made before an upgrade (only core's first migration), and the upgraded
    # database: the scenario with every migration, and a table of its own that refers to another
    source = databases.empty()
    run(["reliefops", "migrate", "core", "0001", "--no-input", "-v", "0"], source, var_dir)
    older = tmp_path / "older.backup"
    _backup(source, var_dir, key_file, older)
    target = databases.copy()
    with target.connect() as conn:
        conn.execute(
            "CREATE TABLE zz_extra (id integer PRIMARY KEY, "
            "household_id integer REFERENCES households_household (id))"
        )
        if target.vendor == "sqlite":
            conn.commit()

    # When the older backup is forced over it (going back after a failed upgrade)
    restored = _restore(target, var_dir, key_file, older, "--force")

    # Then the database is the backup's, and nothing else: not the newer tables, not its own
    assert restored.returncode == 0, restored.stderr
    assert _tables(target) == _tables(source)
    assert digest(target) == digest(source)
    migrated = run(["reliefops", "migrate", "--no-input", "-v", "0"], target, var_dir, check=False)
    assert migrated.returncode == 0, migrated.stderr


def test_a_backup_of_a_newer_schema_is_refused(databases, var_dir, key_file, tmp_path):
    # Given a backup whose database has a migration this code does not know
    target = databases.empty()
    future = tmp_path / "future.backup"
    with future.open("wb") as out:
        writer = SealedWriter(
            out,
            secret=KEY,
            header={"engine": target.vendor, "database": "x", "created_at": "2030-01-01T00:00:00+00:00",
                    "migrations": ["core.0001_initial", "stock.9999_from_the_future"], "pg_dump_version": 15},
        )  # fmt: skip
        writer.write(b"not restored")
        writer.close()

    # When it is restored
    restored = _restore(target, var_dir, key_file, future)

    # Then it is refused, naming the unknown migration, and nothing is written
    assert restored.returncode == 1
    assert "made by a newer version of reliefops" in restored.stderr
    assert "stock.9999_from_the_future" in restored.stderr
    assert _tables(target) == []


def test_an_older_backup_is_restored_and_the_operator_told_to_migrate(databases, var_dir, key_file, tmp_path):
    # Given a backup of a database migrated only as far as core's first migration (and what it needs)
    source = databases.empty()
    run(["reliefops", "migrate", "core", "0001", "--no-input", "-v", "0"], source, var_dir)
    older = tmp_path / "older.backup"
    _backup(source, var_dir, key_file, older)

    # When it is restored into an empty database
    target = databases.empty()
    restored = _restore(target, var_dir, key_file, older)

    # Then it is restored, and the operator is told which migrations to run
    assert restored.returncode == 0, restored.stderr
    assert "run `reliefops migrate` now" in restored.stdout
    migrated = run(["reliefops", "migrate", "--no-input", "-v", "0"], target, var_dir, check=False)
    assert migrated.returncode == 0, migrated.stderr


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="SQLite's online backup: SQLite only"
)
def test_sqlite_backup_while_another_process_writes(databases, var_dir, key_file, tmp_path):
    # Given a copy of the scenario and a process dispatching and confirming waybills without pause
    source = databases.copy()
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(
        run(["worker", "seed", "--households", "1", "--code", "BUSY"], source, var_dir).stdout
    )
    writer = subprocess.Popen(  # noqa: S603 - our own worker
        [sys.executable, "-m", "tests.reliability.worker", "waybills", str(seed_file)],
        cwd=ROOT,
        env=child_env(source, var_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        for _ in range(5):
            assert writer.stdout.readline().startswith("done"), "the writer does not write"

        # When the database is backed up while it writes
        backup = tmp_path / "busy.backup"
        _backup(source, var_dir, key_file, backup)
        for _ in range(5):
            assert writer.stdout.readline().startswith("done"), "the backup stopped the writer"
    finally:
        writer.kill()
        writer.wait()

    # Then the backup restores into a sound database: the ledger and the waybills as of one moment
    target = databases.empty()
    restored = _restore(target, var_dir, key_file, backup)
    assert restored.returncode == 0, restored.stderr
    report = check_report(target, var_dir)
    assert is_sound(report), report
    with source.connect() as conn:
        written_in_all = conn.execute("SELECT count(*) FROM stock_waybill").fetchone()[0]
    assert 0 < report["counts"]["waybills"] < written_in_all


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="pg_dump checks: PostgreSQL only"
)
@pytest.mark.parametrize(
    ("program", "reason"),
    [
        (None, "pg_dump is not on the PATH"),
        ("pg_dump (PostgreSQL) 9.6.24", "pg_dump is version 9, older than"),
    ],
    ids=["missing", "older-than-the-server"],
)
def test_backup_refuses_a_missing_or_older_pg_dump(databases, var_dir, key_file, tmp_path, program, reason):
    # Given a PATH without pg_dump, or with one older than the server
    source = databases.empty()
    tools = tmp_path / "bin"
    tools.mkdir()
    if program:
        fake = tools / "pg_dump"
        fake.write_text(f"#!/bin/sh\necho '{program}'\n")
        fake.chmod(0o755)

    # When a backup is asked for
    output = tmp_path / "none.backup"
    made = run(
        ["reliefops", "backup", "--output", str(output)],
        source,
        var_dir,
        check=False,
        RELIEFOPS_BACKUP_KEY_FILE=str(key_file),
        PATH=str(tools),
    )

    # Then it is refused with the reason, and no file is left
    assert made.returncode == 1
    assert reason in made.stderr
    assert not output.exists()
    assert list(tmp_path.glob("none.backup*")) == []


# --- the key and the sealed format, in this process ---------------------------------------------


def test_the_key_comes_from_the_key_file_and_a_short_or_doubled_key_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("RELIEFOPS_BACKUP_KEY", raising=False)
    monkeypatch.delenv("RELIEFOPS_BACKUP_KEY_FILE", raising=False)
    with pytest.raises(BackupRefused, match="no backup key"):
        backup_secret()
    short = tmp_path / "short.key"
    short.write_text("tooshort")
    short.chmod(0o600)
    with pytest.raises(BackupRefused, match="at least 20"):
        backup_secret(key_file=str(short))
    good = tmp_path / "good.key"
    good.write_text(KEY + "\n")
    good.chmod(0o600)
    monkeypatch.setenv("RELIEFOPS_BACKUP_KEY_FILE", str(good))
    assert backup_secret() == KEY
    monkeypatch.setenv("RELIEFOPS_BACKUP_KEY", OTHER_KEY)
    with pytest.raises(BackupRefused, match="keep one"):
        backup_secret()


def test_sealed_chunks_stream_back_exactly(monkeypatch):
    # Given a payload of several chunks (small ones, to keep the test fast)
    monkeypatch.setattr("reliefops.ops.sealing.CHUNK_SIZE", 1000)
    payload = os.urandom(4321)
    sealed = io.BytesIO()
    writer = SealedWriter(sealed, secret=KEY, header={"engine": "sqlite"})
    for start in range(0, len(payload), 777):
        writer.write(payload[start : start + 777])
    writer.close()

    # When it is opened with the key, then with another
    sealed.seek(0)
    header, chunks = open_chunks(sealed, secret=KEY)
    pieces = list(chunks)

    # Then the chunks come back as written, at most a chunk each, and the other key is refused
    assert header["engine"] == "sqlite"
    assert b"".join(pieces) == payload
    assert max(len(piece) for piece in pieces) <= 1000
    sealed.seek(0)
    with pytest.raises(BackupRefused, match="does not open"):
        open_chunks(sealed, secret=OTHER_KEY)


def test_something_that_is_not_a_backup_is_refused():
    with pytest.raises(BackupRefused, match="not a reliefops backup"):
        open_chunks(io.BytesIO(b"SQLite format 3\x00" + bytes(100)), secret=KEY)
