"""`reliefops restore FILE`: put an encrypted backup back into the configured database.

The whole file is authenticated before anything is written; a database that holds tables is left
alone unless `--force`. `--check` verifies the file and prints what it holds, restoring nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from reliefops.core.cli import ReliefopsCommand
from reliefops.core.text import counted
from reliefops.ops.backups import BackupRefused, backup_inspect, backup_restore, backup_secret

# How many of the migrations a restored backup lacks are named; the rest are counted.
SHOWN_MIGRATIONS = 5


class Command(ReliefopsCommand):
    help = "Restore an encrypted backup into the configured (empty) database, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="a file made by `reliefops backup`")
        parser.add_argument(
            "--key-file", metavar="FILE", help="file with the backup key (default: RELIEFOPS_BACKUP_KEY_FILE)"
        )
        parser.add_argument(
            "--force", action="store_true", help="replace the contents of a database that is not empty"
        )
        parser.add_argument(
            "--check", action="store_true", help="only verify the file with the key and show what it holds"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            secret = backup_secret(key_file=options["key_file"])
            if options["check"]:
                header, size = backup_inspect(path=path, secret=secret)
                self.stdout.write(
                    f"{path}: a sound backup of the {header.get('engine')} database "
                    f"{header.get('database')}, "
                    f"made {header.get('created_at')} by reliefops {header.get('reliefops')}, "
                    f"{len(header.get('migrations', []))} migrations applied, {size:,} bytes of data"
                )
                return
            result = backup_restore(path=path, secret=secret, force=options["force"])
        except BackupRefused as exc:
            raise CommandError(f"{exc}; nothing was restored") from exc
        database = f"the {result.engine} database {result.database}"
        if result.replaced:
            done = f"replaced the contents of {database} with the backup made {result.created_at}"
        else:
            done = f"restored into {database} the backup made {result.created_at}"
        self.stdout.write(f"{done} in {result.seconds:.1f} s")
        if result.pending_migrations:
            pending = result.pending_migrations
            named = ", ".join(pending[:SHOWN_MIGRATIONS])
            if len(pending) > SHOWN_MIGRATIONS:
                named += f" and {len(pending) - SHOWN_MIGRATIONS} more"
            self.stdout.write(
                self.style.WARNING(
                    f"the backup predates {counted(len(pending), 'migration')} of this code ({named}): "
                    "run `reliefops migrate` now, then `reliefops stock verify` (or, when going back to "
                    "the version that made the backup, install that version instead)"
                )
            )
        else:
            self.stdout.write("next: `reliefops stock verify` checks the restored ledger")
