"""`reliefops export_openapi PATH`: write the API's OpenAPI reference, byte-for-byte stable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from ninja.responses import NinjaJSONEncoder

from reliefops.core.cli import ReliefopsCommand


def openapi_text() -> str:
    """The OpenAPI schema of the API as JSON text: sorted keys, two-space indent, final newline."""
    from reliefops.api import api

    schema = api.get_openapi_schema()
    return json.dumps(schema, cls=NinjaJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(ReliefopsCommand):
    help = "Write the API's OpenAPI schema (sorted keys, stable) to PATH, or to standard output with '-'."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="file to write, e.g. docs/api/openapi.json; '-' for standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        text = openapi_text()
        if options["path"] == "-":
            self.stdout.write(text, ending="")
            return
        path = Path(options["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
