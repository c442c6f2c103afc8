"""`reliefops scenario load NAME` (and `scenario list`): load a reference scenario's data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from reliefops.core.cli import ReliefopsCommand, service_errors
from reliefops.scenarios.registry import SCENARIOS


class Command(ReliefopsCommand):
    help = "Load a scenario (reference data and history) into the database; loading twice changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("load", help="load a scenario")
        load.add_argument("name", metavar="NAME", help=f"one of: {', '.join(SCENARIOS)}")
        actions.add_parser("list", help="the scenarios there are")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for name, (description, _) in SCENARIOS.items():
                self.stdout.write(f"{name}  {description}")
            return
        name = options["name"]
        if name not in SCENARIOS:
            raise CommandError(f"no scenario {name!r}; there are: {', '.join(SCENARIOS)}")
        self.stdout.write(f"Loading scenario {name}")
        _, load = SCENARIOS[name]
        with service_errors(self, name):
            load(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Scenario {name} loaded."))
