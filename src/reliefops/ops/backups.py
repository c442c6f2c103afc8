"""Backups of the whole database, encrypted with the operator's key, and their restore.

SQLite is copied with its online backup API (a consistent snapshot while the server keeps
writing) into a private folder beside the database, then sealed; PostgreSQL is dumped with
`pg_dump --format=custom` inside an exported snapshot, streamed straight into the sealed file.
A restore authenticates the whole file before it writes anything, refuses a database that already
holds tables unless told to replace it, and refuses a backup made by a newer schema than the code
knows; a backup older than the code is restored and the operator is told to run `migrate`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from reliefops.core.services import audit_record
from reliefops.core.sqlite.base import create_private
from reliefops.env import env
from reliefops.ops.sealing import CHUNK_SIZE, BackupRefused, SealedWriter, check_secret, open_chunks

ENGINES = {"sqlite", "postgresql"}  # the vendors a backup is made of
BACKUP_ACTION = "backup.made"
RESTORE_ACTION = "backup.restored"

__all__ = ["BackupRefused", "backup_create", "backup_inspect", "backup_restore", "backup_secret"]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str
    database: str
    migrations: int
    plaintext_bytes: int
    file_bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreResult:
    engine: str
    database: str
    created_at: str
    replaced: bool
    pending_migrations: list[str] = field(default_factory=list)
    seconds: float = 0.0


def backup_secret(*, key_file: str | None = None) -> str:
    """The operator's backup key: from `key_file`, else RELIEFOPS_BACKUP_KEY_FILE, else
    RELIEFOPS_BACKUP_KEY. Refused when none is given, when two are, or when it is too short."""
    from_env_file = env("RELIEFOPS_BACKUP_KEY_FILE")
    direct = env("RELIEFOPS_BACKUP_KEY")
    path = key_file or from_env_file
    if path and direct and not key_file:
        raise BackupRefused(
            "both RELIEFOPS_BACKUP_KEY and RELIEFOPS_BACKUP_KEY_FILE are set: keep one, so that there is "
            "no doubt which key a backup was made with"
        )
    if path:
        try:
            _check_key_file_mode(Path(path))
            secret = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise BackupRefused(f"cannot read the backup key file {path}: {exc.strerror or exc}") from exc
        return check_secret(secret)
    if direct:
        return check_secret(str(direct))
    raise BackupRefused(
        "no backup key: set RELIEFOPS_BACKUP_KEY_FILE to a file holding the key (or pass --key-file); "
        "backups hold households' personal data and are always encrypted"
    )


# Who may not touch a key file: other users at all, nor its group to change it (the operations guide
# lets the service's group read a key that root owns, mode 640).
_KEY_FILE_FORBIDDEN = stat.S_IRWXO | stat.S_IWGRP


def _check_key_file_mode(path: Path) -> None:
    """Refuse a key file that other users of the machine may read or change: whoever reads the key
    and a backup reads the households' personal data."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & _KEY_FILE_FORBIDDEN:
        raise BackupRefused(
            f"the backup key file {path} is open to other users of this machine (mode {mode:o}): "
            f"chmod 600 {path} (or 640 when root owns it and the service reads it through its group), "
            "then try again"
        )


def _engine() -> str:
    vendor = str(connection.vendor)
    if vendor not in ENGINES:
        raise BackupRefused(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def _database_label() -> str:
    name = str(settings.DATABASES["default"]["NAME"])
    return Path(name).name if _engine() == "sqlite" else name


def _applied(cursor: Any) -> list[str]:
    cursor.execute("SELECT app, name FROM django_migrations")
    return sorted(f"{app}.{name}" for app, name in cursor.fetchall())


def code_migrations() -> set[str]:
    """Every migration the installed code holds, as 'app.name'."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def _version() -> str:
    try:
        return metadata.version("reliefops")
    except metadata.PackageNotFoundError:
        return "unknown"


def _base_header(migrations: list[str]) -> dict[str, Any]:
    return {
        "engine": _engine(),
        "database": _database_label(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "migrations": migrations,
        "reliefops": _version(),
    }


# --- backing up -----------------------------------------------------------------------------------


def backup_create(*, output: Path, secret: str) -> BackupResult:
    """Write an encrypted, consistent copy of the whole database to `output` (a new file, mode 600).

    The file appears under its name only once complete; a failed backup leaves no file behind.
    """
    started = time.monotonic()
    engine = _engine()
    if output.exists():
        raise BackupRefused(f"{output} already exists: give the new backup its own name")
    if not output.parent.is_dir():
        raise BackupRefused(f"no folder {output.parent} to write the backup in")
    partial = output.with_name(output.name + ".partial")
    # The partial file is this backup's alone: a second backup to the same name (the timer's, and
    # the same unit started by hand) would otherwise write into it at once and publish a mixture.
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupRefused(
            f"{partial} exists: another backup to {output.name} is being written; wait for it to end, "
            f"or, if none is running (one stopped by a power cut), remove {partial} and try again"
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            # Checked again while holding the partial name: a backup that finished in the meantime
            # published its file before letting the name go, and is not to be written over.
            if output.exists():
                raise BackupRefused(f"{output} already exists: give the new backup its own name")
            writer = _backup_sqlite(out, secret) if engine == "sqlite" else _backup_postgresql(out, secret)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    result = BackupResult(
        path=output,
        engine=engine,
        database=_database_label(),
        migrations=len(writer.header["migrations"]),
        plaintext_bytes=writer.plaintext_bytes,
        file_bytes=output.stat().st_size,
        seconds=time.monotonic() - started,
    )
    with transaction.atomic():
        audit_record(
            actor=None,
            action=BACKUP_ACTION,
            object_type="database",
            object_id=result.database,
            after={"file": output.name, "engine": engine, "bytes": result.file_bytes},
        )
    return result


class _Writer(SealedWriter):
    def __init__(self, out: IO[bytes], *, secret: str, header: dict[str, Any]) -> None:
        super().__init__(out, secret=secret, header=header)
        self.header = header


def _stream(source: IO[bytes], writer: SealedWriter) -> None:
    while chunk := source.read(CHUNK_SIZE):
        writer.write(chunk)
    writer.close()


def _sqlite_path() -> Path:
    return Path(str(settings.DATABASES["default"]["NAME"]))


def _backup_sqlite(out: IO[bytes], secret: str) -> _Writer:
    database = _sqlite_path()
    if not database.exists():
        raise BackupRefused(f"no SQLite database at {database}")
    check_secret(secret)
    # The plain snapshot lives for a moment beside the database, on the same disk and under the
    # same owner as the database itself, in a folder only this user can read.
    with tempfile.TemporaryDirectory(dir=database.parent, prefix=".backup-") as folder:
        snapshot = Path(folder) / "snapshot.sqlite3"
        source = sqlite3.connect(database, timeout=env("RELIEFOPS_SQLITE_BUSY_TIMEOUT"))
        target = sqlite3.connect(snapshot)
        try:
            # One step: the copy reads inside one read transaction, a consistent snapshot, while
            # writers go on in WAL mode.
            source.backup(target)
            migrations = _applied(target.cursor())
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            source.close()
            target.close()
        writer = _Writer(out, secret=secret, header=_base_header(migrations))
        with snapshot.open("rb") as plain:
            _stream(plain, writer)
    return writer


_MAJOR = re.compile(r"\(PostgreSQL\)\s+(\d+)")


def _pg_tool(name: str) -> tuple[str, int]:
    """The path and major version of a PostgreSQL client program, refused when it is missing."""
    path = shutil.which(name)
    if path is None:
        raise BackupRefused(
            f"{name} is not on the PATH: install the PostgreSQL client programs "
            "(Debian: apt install postgresql-client) of the server's major version or newer"
        )
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    found = _MAJOR.search(output)
    if found is None:
        raise BackupRefused(f"cannot tell the version of {path} (it printed {output.strip()!r})")
    return path, int(found.group(1))


def _pg_environment() -> dict[str, str]:
    config = settings.DATABASES["default"]
    environment = dict(os.environ)
    for variable, key in (
        ("PGDATABASE", "NAME"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
    ):
        if config.get(key):
            environment[variable] = str(config[key])
    if config.get("OPTIONS", {}).get("sslmode"):
        environment["PGSSLMODE"] = str(config["OPTIONS"]["sslmode"])
    return environment


def _stderr_tail(handle: IO[bytes], limit: int = 2000) -> str:
    handle.seek(0)
    text = handle.read().decode("utf-8", "replace").strip()
    return text[-limit:] or "(no message)"


def _backup_postgresql(out: IO[bytes], secret: str) -> _Writer:
    check_secret(secret)
    pg_dump, dump_major = _pg_tool("pg_dump")
    connection.ensure_connection()
    server_major = int(connection.pg_version) // 10000  # type: ignore[attr-defined]
    if dump_major < server_major:
        raise BackupRefused(
            f"pg_dump is version {dump_major}, older than the server ({server_major}): install the "
            f"client programs of PostgreSQL {server_major} or newer"
        )
    with transaction.atomic(), connection.cursor() as cursor, tempfile.TemporaryFile() as errors:
        # The dump and the migration state recorded in the header read one snapshot.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        header = _base_header(_applied(cursor))
        header.update({"server_version": server_major, "pg_dump_version": dump_major})
        writer = _Writer(out, secret=secret, header=header)
        process = subprocess.Popen(  # noqa: S603 - a fixed program with our own arguments
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password"],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=_pg_environment(),
        )
        if process.stdout is None:  # pragma: no cover - stdout=PIPE always gives one
            raise BackupRefused("pg_dump gave no output stream")
        try:
            _stream(process.stdout, writer)
        finally:
            process.stdout.close()
            code = process.wait()
        if code != 0:
            raise BackupRefused(f"pg_dump failed (exit {code}): {_stderr_tail(errors)}")
    return writer


# --- inspecting and restoring ---------------------------------------------------------------------


def _drain(chunks: Iterable[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def backup_inspect(*, path: Path, secret: str) -> tuple[dict[str, Any], int]:
    """Authenticate every chunk of a backup file; its header and plaintext size. Writes nothing."""
    try:
        with path.open("rb") as handle:
            header, chunks = open_chunks(handle, secret=secret)
            return header, _drain(chunks)
    except FileNotFoundError as exc:
        raise BackupRefused(f"no backup file {path}") from exc


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def backup_restore(*, path: Path, secret: str, force: bool = False) -> RestoreResult:
    """Restore a backup into the configured database, all or nothing.

    Refused, with nothing written, on a wrong key or a damaged file, a backup of the other engine,
    a backup made by a newer schema than this code's, or a target that holds tables (unless
    `force`, which replaces them).
    """
    started = time.monotonic()
    engine = _engine()
    header, _ = backup_inspect(path=path, secret=secret)
    if header.get("engine") != engine:
        raise BackupRefused(
            f"this is a backup of a {header.get('engine')} database; the configured database is {engine}: "
            "restore it into a database of the same kind (set DATABASE_URL)"
        )
    in_backup = set(header.get("migrations", []))
    in_code = code_migrations()
    unknown = sorted(in_backup - in_code)
    if unknown:
        raise BackupRefused(
            f"the backup was made by a newer version of reliefops: {len(unknown)} of its migrations are "
            f"unknown to this code ({', '.join(unknown[:5])}{', …' if len(unknown) > 5 else ''}); "
            "install that version or a newer one, then restore"
        )
    tables = _tables()
    if tables and not force:
        raise BackupRefused(
            f"the database {_database_label()} is not empty: it holds {len(tables)} tables "
            f"({', '.join(tables[:3])}, …); restore into an empty database, or pass --force to replace "
            "everything in it"
        )
    connection.close()
    if engine == "sqlite":
        _restore_sqlite(path, secret)
    else:
        _restore_postgresql(path, secret, header, replace=bool(tables))
    connection.close()
    pending = sorted(in_code - in_backup)
    result = RestoreResult(
        engine=engine,
        database=_database_label(),
        created_at=str(header.get("created_at", "")),
        replaced=bool(tables),
        pending_migrations=pending,
        seconds=time.monotonic() - started,
    )
    if not pending:
        # With the schema current, the restore is written into the restored audit trail.
        with transaction.atomic():
            audit_record(
                actor=None,
                action=RESTORE_ACTION,
                object_type="database",
                object_id=result.database,
                after={"file": path.name, "created_at": result.created_at, "replaced": result.replaced},
            )
    return result


def _restore_sqlite(path: Path, secret: str) -> None:
    database = _sqlite_path()
    database.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=database.parent, prefix=".restore-") as folder:
        plain = Path(folder) / "restore.sqlite3"
        with path.open("rb") as handle, plain.open("wb") as out:
            _, chunks = open_chunks(handle, secret=secret)
            for chunk in chunks:
                out.write(chunk)
        source = sqlite3.connect(plain)
        try:
            verdict = source.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupRefused(f"the database in the backup fails SQLite's integrity check: {verdict}")
            create_private(database)  # a new database file is its owner's alone, as the server makes it
            target = sqlite3.connect(database, timeout=env("RELIEFOPS_SQLITE_BUSY_TIMEOUT"))
            try:
                # The backup API replaces the target's pages under its write lock, all or nothing.
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()


def _send_backup(stream: IO[bytes], path: Path, secret: str) -> None:
    """The backup's plain bytes into pg_restore's input, which is then closed. A pg_restore that
    stopped early ends the sending: its exit status and message say why."""
    try:
        with path.open("rb") as handle:
            _, chunks = open_chunks(handle, secret=secret)
            for chunk in chunks:
                stream.write(chunk)
        stream.close()
    except BrokenPipeError:
        pass


def _restore_postgresql(path: Path, secret: str, header: dict[str, Any], *, replace: bool) -> None:
    pg_restore, restore_major = _pg_tool("pg_restore")
    dump_major = int(header.get("pg_dump_version", 0))
    if restore_major < dump_major:
        raise BackupRefused(
            f"pg_restore is version {restore_major}; the backup was dumped by pg_dump {dump_major}: "
            f"install the client programs of PostgreSQL {dump_major} or newer"
        )
    if replace:
        _replace_postgresql(pg_restore, path, secret)
        return
    command = [
        pg_restore,
        "--single-transaction",  # all or nothing
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--no-password",
        f"--dbname={settings.DATABASES['default']['NAME']}",
    ]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - a fixed program with our own arguments
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, env=_pg_environment()
        )
        if process.stdin is None:  # pragma: no cover - stdin=PIPE always gives one
            raise BackupRefused("pg_restore gave no input stream")
        try:
            _send_backup(process.stdin, path, secret)
        except BaseException:
            # The file changed since it was checked: pg_restore's one transaction is rolled back.
            process.kill()
            process.wait()
            raise
        code = process.wait()
        if code != 0:
            raise BackupRefused(f"pg_restore failed (exit {code}): {_stderr_tail(errors)}")


# What --force runs before the backup's own statements, in the same transaction: everything in the
# database goes, tables and keys a newer migration added among them, which pg_restore's --clean
# (it drops only what the backup holds) would leave, or fail on.
_REPLACE_FIRST = b"BEGIN;\nDROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n"


def _replace_postgresql(pg_restore: str, path: Path, secret: str) -> None:
    """Replace everything in the database with the backup, all or nothing: pg_restore writes the
    backup as SQL into psql, after the statements that empty the database; psql commits only once
    pg_restore has read the whole backup without fault, and a fault on either side rolls it all back."""
    psql, _ = _pg_tool("psql")
    environment = _pg_environment()
    to_sql = [pg_restore, "--no-owner", "--no-privileges", "--file=-"]
    run_sql = [
        psql,
        "--no-psqlrc",
        "--quiet",
        "--no-password",
        "--set=ON_ERROR_STOP=1",
        f"--dbname={settings.DATABASES['default']['NAME']}",
    ]
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        runner = subprocess.Popen(  # noqa: S603 - a fixed program with our own arguments
            run_sql, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=environment
        )
        if runner.stdin is None:  # pragma: no cover - stdin=PIPE always gives one
            raise BackupRefused("psql gave no input stream")
        reader: subprocess.Popen[bytes] | None = None
        committed = False
        try:
            runner.stdin.write(_REPLACE_FIRST)
            runner.stdin.flush()
            reader = subprocess.Popen(  # noqa: S603 - a fixed program with our own arguments
                to_sql, stdin=subprocess.PIPE, stdout=runner.stdin, stderr=restore_errors, env=environment
            )
            if reader.stdin is None:  # pragma: no cover - stdin=PIPE always gives one
                raise BackupRefused("pg_restore gave no input stream")
            _send_backup(reader.stdin, path, secret)
            read = reader.wait()
            if read != 0:
                raise BackupRefused(
                    f"pg_restore failed (exit {read}): {_stderr_tail(restore_errors)}"
                    + (f"; psql: {_stderr_tail(psql_errors)}" if runner.poll() else "")
                )
            try:
                runner.stdin.write(b"COMMIT;\n")
                runner.stdin.close()
            except BrokenPipeError:
                pass  # psql stopped on an error: its exit status and message say why
            code = runner.wait()
            if code != 0:
                raise BackupRefused(f"psql failed (exit {code}): {_stderr_tail(psql_errors)}")
            committed = True
        finally:
            if not committed:
                # Without its COMMIT, psql's transaction is rolled back when it is stopped.
                for process in (reader, runner):
                    if process is not None and process.poll() is None:
                        process.kill()
                        process.wait()
