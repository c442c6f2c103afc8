"""What the CLI commands share: their base class, reading an input file, and showing a service's
refusal.

A refused import prints every problem (line, field, reason) on stderr and ends with a non-zero
exit status; nothing was written. A database that cannot be opened (no server, no such database, a
file that is not a database) is one line saying which and what to do, not a traceback: the nightly
`stock verify || <alert>` mails what the command printed.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import Error as DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.text import counted


class ReliefopsCommand(BaseCommand):
    """The base of reliefops' own commands. They do not run Django's system checks first: those
    check the code (models, the URL configuration, which imports the whole API), not the data or
    the environment, and cost 0.7 to 1.6 s before every command on a 2-core machine. The tests run
    them, and so does `reliefops check --deploy`, which the operations guide asks for after every
    change of the environment; `migrate` and the server run them as before."""

    requires_system_checks: list[str] = []

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except DatabaseError as exc:
            message = database_unavailable(exc)
            if message is None or options.get("traceback"):
                raise
            raise CommandError(message) from exc


def _connecting(exc: BaseException) -> BaseDatabaseWrapper | None:
    """The database connection whose opening raised `exc`, or None when `exc` arose otherwise (a
    query of an open connection)."""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        wrapper = frame.f_locals.get("self")
        if frame.f_code.co_name == "connect" and isinstance(wrapper, BaseDatabaseWrapper):
            return wrapper
    return None


def _one_line(exc: BaseException) -> str:
    return re.sub(r"\s+", " ", str(exc)).strip()


def database_unavailable(exc: BaseException) -> str | None:
    """One line saying which database could not be opened, why, and what to do; None when `exc` is
    not the failure to open it."""
    wrapper = _connecting(exc)
    if wrapper is None:
        return None
    reason = _one_line(exc)
    config = wrapper.settings_dict
    if wrapper.vendor == "sqlite":
        return _sqlite_unavailable(str(config["NAME"]), reason)
    name = config.get("NAME") or "?"
    host = config.get("HOST")
    where = f"at {host}:{config.get('PORT') or 5432}" if host else "through the local socket"
    what = f"cannot connect to the PostgreSQL database {name} {where}"
    if "does not exist" in reason and f'database "{name}"' in reason:
        return f"{what}: there is no such database; create it (createdb {name}) or correct DATABASE_URL"
    if "Connection refused" in reason or "No such file or directory" in reason:
        return (
            f"{what}: no server answers there (connection refused); start PostgreSQL, or correct the host "
            "and port in DATABASE_URL"
        )
    if "password authentication failed" in reason or ("role" in reason and "does not exist" in reason):
        return f"{what}: the server refused the user or password; correct them in DATABASE_URL"
    if "translate host name" in reason or "Name or service not known" in reason:
        return f"{what}: the host name is unknown; correct it in DATABASE_URL"
    if "timeout" in reason.lower() or "timed out" in reason:
        return (
            f"{what}: the server did not answer in time; check that it runs and that the network reaches it"
        )
    return f"{what}: {reason}; check DATABASE_URL and that the server runs"


def _sqlite_unavailable(name: str, reason: str) -> str:
    path = Path(name)
    what = f"cannot open the SQLite database {path}"
    if "file is not a database" in reason:
        return f"{what}: the file is not a SQLite database; correct DATABASE_URL, or move the file aside"
    if "malformed" in reason:
        return f"{what}: the file is damaged ({reason}); restore the latest backup (`reliefops restore`)"
    if "unable to open" in reason:
        if not path.parent.is_dir():
            return f"{what}: its folder {path.parent} does not exist; create it, or correct DATABASE_URL"
        return (
            f"{what}: this account may not open or create it there; check the permissions of {path.parent}"
            " and of the file, or correct DATABASE_URL"
        )
    return f"{what}: {reason}; check DATABASE_URL"


def read_input_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc


def write_output_file(path: str, content: bytes | str) -> None:
    """Write a command's output file; a folder that does not exist, or one that may not be
    written, is a CommandError naming the file (not a traceback)."""
    try:
        Path(path).write_bytes(content.encode() if isinstance(content, str) else content)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc


@contextmanager
def service_errors(command: BaseCommand, source: str = "", *, reads: bool = False) -> Iterator[None]:
    """Turn a service's refusal into CommandError, listing an InvalidInput's problems on stderr.

    `reads`: the command only reads (a report), so its refusal does not speak of writing."""
    prefix = f"{source}: " if source else ""
    outcome = "" if reads else "; nothing was written"
    try:
        yield
    except InvalidInput as exc:
        for problem in exc.problems:
            command.stderr.write(str(problem))
        summary = exc.summary or f"{counted(len(exc.problems), 'problem')}{outcome}"
        raise CommandError(f"{prefix}{summary}") from exc
    except ServiceError as exc:
        raise CommandError(f"{prefix}{exc.message}") from exc
