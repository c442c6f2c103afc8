"""`reliefops backup --output FILE`: an encrypted, consistent copy of the whole database.

The key comes from `--key-file`, else RELIEFOPS_BACKUP_KEY_FILE, else RELIEFOPS_BACKUP_KEY.
`reliefops restore FILE` puts it back; `reliefops restore FILE --check` only verifies it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from reliefops.core.cli import ReliefopsCommand
from reliefops.ops.backups import BackupRefused, backup_create, backup_secret


class Command(ReliefopsCommand):
    help = "Back up the whole database into one encrypted file (SQLite online backup or pg_dump)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", required=True, metavar="FILE", help="the new backup file")
        parser.add_argument(
            "--key-file", metavar="FILE", help="file with the backup key (default: RELIEFOPS_BACKUP_KEY_FILE)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            secret = backup_secret(key_file=options["key_file"])
            result = backup_create(output=Path(options["output"]), secret=secret)
        except BackupRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"backed up the {result.engine} database {result.database} "
            f"({result.migrations} migrations applied) "
            f"to {result.path}: {result.plaintext_bytes:,} bytes of data, {result.file_bytes:,} bytes "
            f"encrypted, in {result.seconds:.1f} s"
        )
