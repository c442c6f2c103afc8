"""`reliefops places import FILE` (gazetteer), `places import-sites FILE`, `places match NAME`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from reliefops.core.cli import ReliefopsCommand, read_input_file, service_errors
from reliefops.places.importers import admin_areas_import_file, sites_import_file
from reliefops.places.lookup import place_match
from reliefops.places.models import AdminLevel


class Command(ReliefopsCommand):
    help = "The gazetteer and the sites: import files, match a place name to its P-code."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        areas = actions.add_parser(
            "import",
            help="import admin areas from CSV (pcode,name,level,parent_pcode,lat,lon,elevation_m) or GeoJSON",
        )
        areas.add_argument("file", metavar="FILE")
        areas.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        areas.add_argument(
            "--cod-version", metavar="V", help="COD version for rows that do not give their own"
        )
        sites = actions.add_parser(
            "import-sites", help="import sites from CSV (code,name,kind,admin_pcode,parent_hub,lat,lon,...)"
        )
        sites.add_argument("file", metavar="FILE")
        sites.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        match = actions.add_parser("match", help="the admin areas a place name may mean, with a score")
        match.add_argument("name", metavar="NAME")
        match.add_argument("--level", choices=AdminLevel.values)
        match.add_argument("--limit", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self._import_areas(options)
        elif action == "import-sites":
            self._import_sites(options)
        else:
            self._match(options)

    def _import_areas(self, options: dict[str, Any]) -> None:
        path = options["file"]
        source = Path(path).name
        with service_errors(self, source):
            result = admin_areas_import_file(
                actor=None,
                data=read_input_file(path),
                filename=path,
                cod_version=options["cod_version"],
                dry_run=options["dry_run"],
            )
        self._done(source, str(result), dry_run=options["dry_run"])

    def _import_sites(self, options: dict[str, Any]) -> None:
        path = options["file"]
        source = Path(path).name
        with service_errors(self, source):
            counts = sites_import_file(actor=None, data=read_input_file(path), dry_run=options["dry_run"])
        self._done(source, str(counts), dry_run=options["dry_run"])

    def _done(self, source: str, summary: str, *, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write(f"{source}: dry run, nothing written; the import would give {summary}")
        else:
            self.stdout.write(self.style.SUCCESS(f"{source}: {summary}"))

    def _match(self, options: dict[str, Any]) -> None:
        matches = place_match(options["name"], level=options["level"], limit=options["limit"])
        if not matches:
            self.stdout.write(f"no admin area matches {options['name']!r}")
            return
        for found in matches:
            area = found.area
            where = f", in {area.parent.name}" if area.parent is not None else ""
            alias = f"  (as {found.matched_name!r})" if found.matched_name != area.name else ""
            self.stdout.write(f"{found.score:.2f}  {area.pcode:<14} {area.name} ({area.level}{where}){alias}")
