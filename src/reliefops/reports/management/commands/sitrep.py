"""`reliefops sitrep --period START:END --format md|html [--output FILE]`: the situation report.

The same builder as the sitrep's web page: the figures come from the stock ledger and the
cluster's 4W rows. Markdown or a standalone HTML document (printable, nothing loaded from a
network) goes to stdout, or to the file named by --output.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from reliefops.core.cli import ReliefopsCommand, service_errors, write_output_file
from reliefops.reports.periods import Period, parse_period
from reliefops.reports.sitrep import build_sitrep


class Command(ReliefopsCommand):
    help = "Write the situation report of a period as Markdown or HTML, from the ledger and the 4W rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--period",
            default="",
            metavar="START:END",
            help="days included, YYYY-MM-DD:YYYY-MM-DD; either side may be empty "
            "(default: the whole operation)",
        )
        parser.add_argument("--format", dest="fmt", default="md", choices=["md", "html"])
        parser.add_argument("--activity", metavar="CODE", help="the cluster activity of the gap table")
        parser.add_argument("--output", metavar="FILE", help="write to this file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        with service_errors(self, reads=True):
            today = timezone.localdate()
            period = parse_period(options["period"], today=today) if options["period"] else Period()
            period = period.up_to(today)  # a period ending after today: the figures up to today
            report = build_sitrep(period=period, today=today, activity=options["activity"])
        content = report.markdown() if options["fmt"] == "md" else report.html()
        output = options.get("output")
        if output:
            write_output_file(output, content)
            self.stderr.write(f"wrote {output}")
        else:
            self.stdout.write(content, ending="" if content.endswith("\n") else "\n")
