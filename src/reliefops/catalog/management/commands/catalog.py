"""`reliefops catalog import FILE` (items) and `reliefops catalog import-kits FILE` (kit components)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from reliefops.catalog.importers import items_import_file, kits_import_file
from reliefops.core.cli import ReliefopsCommand, read_input_file, service_errors


class Command(ReliefopsCommand):
    help = "The catalogue: import items and kits from CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        items = actions.add_parser(
            "import", help="import items: code,name,base_unit,category,weight_kg,volume_m3,packs"
        )
        items.add_argument("file", metavar="FILE")
        items.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        kits = actions.add_parser("import-kits", help="import kits: kit_code,component_code,quantity")
        kits.add_argument("file", metavar="FILE")
        kits.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        source = Path(path).name
        load = items_import_file if options["action"] == "import" else kits_import_file
        what = "items" if options["action"] == "import" else "kits"
        with service_errors(self, source):
            counts = load(actor=None, data=read_input_file(path), dry_run=options["dry_run"])
        if options["dry_run"]:
            self.stdout.write(f"{source}: dry run, nothing written; the import would give {what}: {counts}")
        else:
            self.stdout.write(self.style.SUCCESS(f"{source}: {what}: {counts}"))
