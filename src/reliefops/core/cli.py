"""What the CLI commands share: their base class, reading an input file, and showing a service's
refusal.

A refused import prints every problem (line, field, reason) on stderr and ends with a non-zero
exit status; nothing was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.text import counted


class ReliefopsCommand(BaseCommand):
    """The base of reliefops' own commands. They do not run Django's system checks first: those
    check the code (models, the URL configuration, which imports the whole API), not the data or
    the environment, and cost 0.7 to 1.6 s before every command on a 2-core machine. The tests run
    them, and so does `reliefops check --deploy`, which the operations guide asks for after every
    change of the environment; `migrate` and the server run them as before."""

    requires_system_checks: list[str] = []


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
