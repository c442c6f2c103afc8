"""`reliefops organisations import FILE`: organisations of the response (name,acronym,type,aliases)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from reliefops.core.cli import ReliefopsCommand, read_input_file, service_errors
from reliefops.partners.importers import organisations_import_file


class Command(ReliefopsCommand):
    help = "Import organisations from CSV: name,acronym,type,aliases (aliases separated by ';')."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("import", help="import organisations from a CSV file")
        load.add_argument("file", metavar="FILE")
        load.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        source = Path(path).name
        with service_errors(self, source):
            counts = organisations_import_file(
                actor=None, data=read_input_file(path), dry_run=options["dry_run"]
            )
        if options["dry_run"]:
            self.stdout.write(f"{source}: dry run, nothing written; the import would give {counts}")
        else:
            self.stdout.write(self.style.SUCCESS(f"{source}: {counts}"))
