"""`reliefops cluster ACTION`: import partners' 4W files, revert an import, lock reporting periods,
print the gap analysis, the 4W matrix and the totals, load needs, activity types and boundaries.

With `--as USERNAME` an action runs with that user's rights and scope, checked in core.access as
for the API (a partner reporter imports only its own organisation's rows). Without it the action
is the console operator's, with every right.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from reliefops.cluster import exports, selectors
from reliefops.cluster.importers import (
    activity_report_import_file,
    activity_types_import_file,
    needs_import_file,
)
from reliefops.cluster.services import (
    ReportImportResult,
    boundaries_import,
    import_batch_revert,
    parse_month,
    reporting_period_set_lock,
)
from reliefops.core.access import (
    access_activity_rows,
    access_cluster_aggregates,
    access_cluster_management,
    access_import_batch_by_id,
    access_import_batches,
    access_reporting_organisation,
    reporting_scope,
    require,
)
from reliefops.core.cli import ReliefopsCommand, read_input_file, service_errors, write_output_file
from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.jobs import command_progress
from reliefops.core.roles import Right
from reliefops.core.text import counted
from reliefops.partners.selectors import organisation_find

TABLE_FORMATS = ("table", "csv", "hxl", "xlsx", "json")
# Actions that only read: a refusal of theirs does not say that nothing was written.
READING_ACTIONS = frozenset({"batches", "gaps", "matrix", "totals"})


def _month(text: str) -> Any:
    try:
        return parse_month(text)
    except ServiceError as exc:
        raise argparse.ArgumentTypeError(f"not a month: {text!r}; write it as 2005-11") from exc


def _in_need(row: selectors.GapRow) -> int | str:
    """The gap table's households in need as the command line writes them: the area's baseline,
    'no baseline', or beside rows for a whole wider area that area's need, at its own level."""
    if row.whole_area:
        if row.area_in_need is None:
            return "no baseline"
        return f"at {row.area_level} level: {row.area_in_need:,}"
    return "no baseline" if row.in_need is None else row.in_need


# The option of each filter of a report, as the selection's refusals name its field.
_OPTION_OF = {
    "level": "--level",
    "activity": "--activity",
    "within": "--within",
    "period_from": "--from",
    "period_to": "--to",
}


def _table(headers: list[str], rows: list[list[Any]], right: frozenset[int] = frozenset()) -> str:
    """A plain text table, numbers right-aligned (and the columns numbered in `right`)."""
    cells = [
        headers,
        *[["" if v is None else (f"{v:,}" if isinstance(v, int) else str(v)) for v in r] for r in rows],
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        i in right
        or all(isinstance(r[i], int | float) or r[i] in (None, "") or str(r[i]).endswith("%") for r in rows)
        for i in range(len(headers))
    ]

    def line(row: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths).rstrip()
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _content(export: exports.ExportFile, fmt: str) -> bytes | str:
    return export.content if fmt == "xlsx" else export.content.decode("utf-8")


class Command(ReliefopsCommand):
    help = "Cluster 4W: import partners' reports, revert, lock periods, gaps, matrix, totals, needs."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def action(name: str, help_text: str) -> CommandParser:
            sub: CommandParser = actions.add_parser(name, help=help_text)
            sub.add_argument("--as", dest="username", metavar="USERNAME", help="act with this user's rights")
            # Also after the action, as people write it (`cluster import f.csv -v 2`); left out, the
            # command's own -v (before the action) or its default holds.
            sub.add_argument(
                "-v",
                "--verbosity",
                type=int,
                choices=[0, 1, 2, 3],
                default=argparse.SUPPRESS,
                help="0 quiet, 1 normal, 2 the time of each step of an import",
            )
            return sub

        imp = action("import", "import a 4W file (CSV, XLSX, XLS, ODS; the template or any HXL-tagged file)")
        imp.add_argument("file", metavar="FILE")
        imp.add_argument("--preview", action="store_true", help="show what would change; write nothing")
        imp.add_argument(
            "--org",
            metavar="ORG",
            help="the reporting organisation of the rows that name none (#org+reporting); a file whose "
            "every row names another is refused (without --org: each row's own, else its programming one)",
        )

        revert = action("revert", "undo an import batch exactly")
        revert.add_argument("batch", type=int, metavar="BATCH")

        batches = action("batches", "list import batches")
        batches.add_argument("--limit", type=int, default=30)

        for name, verb in (("lock", "lock"), ("unlock", "reopen")):
            sub = action(name, f"{verb} a reporting period (a month)")
            sub.add_argument("period", type=_month, metavar="YYYY-MM")
            sub.add_argument("--note", default="")

        def selection_options(sub: CommandParser) -> None:
            sub.add_argument("--level", default="district", choices=list(selectors.LEVELS))
            sub.add_argument("--activity", metavar="CODE", help="one activity (code or name); else all")
            sub.add_argument("--from", dest="period_from", type=_month, metavar="YYYY-MM")
            sub.add_argument("--to", dest="period_to", type=_month, metavar="YYYY-MM")
            sub.add_argument("--within", metavar="PCODE", help="only areas within this one")
            sub.add_argument("--format", default="table", choices=TABLE_FORMATS)
            sub.add_argument("--output", metavar="FILE", help="write to a file (XLSX needs one)")

        selection_options(action("gaps", "the gap analysis: households in need, targeted, reached, gap"))
        selection_options(action("matrix", "the 4W matrix: organisations x areas x activities"))
        totals = action("totals", "the cluster's totals after the double-counting rules")
        totals.add_argument("--format", default="table", choices=TABLE_FORMATS)
        totals.add_argument("--output", metavar="FILE")

        needs = action("needs", "import needs baselines (HXL-tagged CSV or workbook)")
        needs.add_argument("file", metavar="FILE")
        needs.add_argument("--preview", action="store_true")

        kinds = action("activity-types", "import activity types (CSV: code, name, unit, item, aliases)")
        kinds.add_argument("file", metavar="FILE")

        bounds = action("boundaries", "import area outlines for the coverage map (GeoJSON with pcode)")
        bounds.add_argument("file", metavar="FILE")
        bounds.add_argument("--attribution", required=True, help="the line the licence asks to show")

        template = action("template", "write the 4W template (XLSX or CSV by the file's suffix)")
        template.add_argument("file", metavar="FILE")
        template.add_argument("--rows", action="store_true", help="pre-fill with the current rows to correct")

    def handle(self, *args: Any, **options: Any) -> None:
        self.user = self._user(options.get("username"))
        method = getattr(self, "do_" + options["action"].replace("-", "_"))
        reads = options["action"] in READING_ACTIONS
        with service_errors(self, options.get("file", ""), reads=reads):
            method(options)

    def _user(self, username: str | None) -> Any:
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no active user {username!r}") from exc

    def _write(self, content: bytes | str, output: str | None) -> None:
        if output:
            write_output_file(output, content)
            self.stdout.write(f"wrote {output}")
        elif isinstance(content, bytes):
            raise CommandError("a workbook goes to a file: add --output FILE.xlsx")
        else:
            self.stdout.write(content.rstrip("\n"))

    # --- imports ---------------------------------------------------------------------------------

    def do_import(self, options: dict[str, Any]) -> None:
        data = read_input_file(options["file"])
        scope = organisation = None
        if self.user is not None:
            organisation = access_reporting_organisation(self.user, options.get("org"))
            scope = reporting_scope(self.user)
        elif options.get("org"):
            found = organisation_find(options["org"])
            if len(found) != 1:
                raise CommandError(f"no single organisation named {options['org']!r}")
            organisation = found[0]
        with command_progress(self, quiet=options["verbosity"] == 0) as progress:
            result = activity_report_import_file(
                actor=self.user,
                data=data,
                filename=Path(options["file"]).name,
                reporting_org_id=organisation.pk if organisation else None,
                scope_org_id=scope.pk if scope else None,
                scope_label=str(scope) if scope else "",
                preview=options["preview"],
                progress=progress,
            )
        self._report(result)
        if options["verbosity"] >= 2:
            self.stdout.write(
                "timings: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in result.timings.items())
            )

    def _report(self, result: ReportImportResult) -> None:
        for note in result.notes:
            self.stdout.write(f"note: {note}")
        for change in result.changes[:50]:
            detail = change.described("->", "-")
            self.stdout.write(
                f"  row {change.line}: {change.kind} {change.row_id}{'  ' + detail if detail else ''}"
            )
        if len(result.changes) > 50 or result.added + result.updated + result.withdrawn > len(result.changes):
            self.stdout.write("  …")
        self.stdout.write(result.summary())

    def do_revert(self, options: dict[str, Any]) -> None:
        if self.user is not None:
            access_import_batch_by_id(self.user, options["batch"])
        result = import_batch_revert(actor=self.user, batch_id=options["batch"])
        self.stdout.write(
            f"Batch {result.batch_id} reverted: {counted(result.removed, 'version')} removed, "
            f"{result.restored} restored."
        )

    def do_batches(self, options: dict[str, Any]) -> None:
        from reliefops.cluster.models import ImportBatch

        batches = access_import_batches(self.user) if self.user is not None else ImportBatch.objects.all()
        rows = [
            [b.pk, f"{timezone.localtime(b.created_at):%Y-%m-%d %H:%M}", b.created_by_label,
             str(b.organisation or "several"),
             b.filename, b.added, b.updated, b.withdrawn, "reverted" if b.is_reverted else ""]
            for b in selectors.batch_summaries(batches)[: options["limit"]]
        ]  # fmt: skip
        headers = ["batch", "when", "who", "reporting", "file", "added", "updated", "withdrawn", ""]
        self.stdout.write(_table(headers, rows) if rows else "No import batch yet.")

    def do_lock(self, options: dict[str, Any], locked: bool = True) -> None:
        if self.user is not None:
            access_cluster_management(self.user)
        change = reporting_period_set_lock(
            actor=self.user, month=options["period"], locked=locked, note=options["note"]
        )
        self.stdout.write(change.describe(f"Reporting period {change.period.month:%Y-%m}"))

    def do_unlock(self, options: dict[str, Any]) -> None:
        self.do_lock(options, locked=False)

    def do_needs(self, options: dict[str, Any]) -> None:
        if self.user is not None:
            access_cluster_management(self.user)
        result = needs_import_file(
            actor=self.user, data=read_input_file(options["file"]), filename=Path(options["file"]).name,
            preview=options["preview"],
        )  # fmt: skip
        for pcode, change in result.changes[:50]:
            self.stdout.write(f"  {pcode}: {change}")
        self.stdout.write(result.summary())

    def do_activity_types(self, options: dict[str, Any]) -> None:
        if self.user is not None:
            access_cluster_management(self.user)
        counts = activity_types_import_file(actor=self.user, data=read_input_file(options["file"]))
        self.stdout.write(str(counts))

    def do_boundaries(self, options: dict[str, Any]) -> None:
        if self.user is not None:
            access_cluster_management(self.user)
        counts = boundaries_import(
            actor=self.user, data=read_input_file(options["file"]), attribution=options["attribution"]
        )
        self.stdout.write(str(counts))

    def do_template(self, options: dict[str, Any]) -> None:
        rows = None
        if options["rows"]:
            if self.user is not None:
                rows = access_activity_rows(self.user).filter(withdrawn=False)
            else:
                from reliefops.cluster.models import ActivityRow

                rows = ActivityRow.objects.filter(replaced_in__isnull=True, withdrawn=False)
        elif self.user is not None:
            require(self.user, Right.REPORT_ACTIVITIES)
        path = options["file"]
        content = (
            exports.template_csv(rows=rows)
            if path.lower().endswith(".csv")
            else exports.template_xlsx(rows=rows)
        )
        self._write(content, path)

    # --- reports -----------------------------------------------------------------------------------

    def _selection(self, options: dict[str, Any]) -> selectors.Selection:
        """The report's selection; a refused filter is named by its option (`--activity: 'NOPE' is
        not an activity; …`), as the page names its field and the API its parameter."""
        if self.user is not None:
            access_cluster_aggregates(self.user)
        try:
            return selectors.selection(
                level=options["level"],
                activity=options.get("activity"),
                period_from=options.get("period_from"),
                period_to=options.get("period_to"),
                within=options.get("within"),
            )
        except InvalidInput as exc:
            said = [f"{_OPTION_OF.get(p.field, p.field)}: {p.reason}" for p in exc.problems]
            raise CommandError("\n".join(said)) from exc

    def do_gaps(self, options: dict[str, Any]) -> None:
        report = selectors.gap_by_area(self._selection(options))
        fmt = options["format"]
        if fmt == "json":
            payload = exports.gap_payload(report)
            self._write(json.dumps(payload, indent=2), options.get("output"))
            return
        if fmt != "table":
            self._write(_content(exports.gap_export(report, fmt), fmt), options.get("output"))
            return
        headers = [
            "area",
            "",
            "activity",
            "in need",
            "targeted",
            "reached",
            "coverage",
            "gap",
            "qty reached",
            "partners",
        ]
        rows = [
            [f"{r.pcode} {r.name}" + (" (whole area)" if r.whole_area else ""),
             "*" if r.illustrative or (r.whole_area and r.area_illustrative) else "",
             r.activity_code, _in_need(r), r.targeted, r.reached, r.coverage_percent, r.gap,
             r.quantity_reached, r.partners]
            for r in report.rows
        ]  # fmt: skip
        table = _table(headers, rows, right=frozenset({3}))
        lines = [f"Gap analysis {report.selection.describe()} (households)", table]
        whole = [r for r in report.rows if r.whole_area]
        if report.illustrative or any(r.area_illustrative for r in whole):
            lines.append("* needs are illustrative: derived for the scenario from published totals")
        if whole:
            level = whole[0].area_level or "its own"
            lines.append(
                "(whole area): rows reported for the whole area, not for one of its parts; the area's need, "
                f"beside them, is compared with all its rows at {level} level (--level {level})"
                if whole[0].area_level
                else "(whole area): rows reported for the whole area, not for one of its parts"
            )
        if report.no_partner:
            names = ", ".join(f"{info.pcode} {info.name}" for info, _ in report.no_partner)
            lines.append(f"No partner: {names}")
        self._write("\n".join(lines), options.get("output"))

    def do_matrix(self, options: dict[str, Any]) -> None:
        matrix = selectors.matrix_4w(self._selection(options))
        fmt = options["format"]
        if fmt == "json":
            self._write(json.dumps(matrix.entries, indent=2), options.get("output"))
        elif fmt != "table":
            self._write(_content(exports.matrix_export(matrix, fmt), fmt), options.get("output"))
        else:
            headers = ["organisation", *[a.pcode for a in matrix.areas]]
            rows = [
                [
                    label,
                    *[
                        ",".join(c.activities) if (c := matrix.cell(pk, a.pcode)) else ""
                        for a in matrix.areas
                    ],
                ]
                for pk, label in matrix.organisations
            ]
            self._write(_table(headers, rows), options.get("output"))

    def do_totals(self, options: dict[str, Any]) -> None:
        if self.user is not None:
            access_cluster_aggregates(self.user)
        totals = selectors.activity_totals()
        fmt = options["format"]
        if fmt == "json":
            self._write(json.dumps(selectors.headline_figures(totals), indent=2), options.get("output"))
        elif fmt != "table":
            self._write(_content(exports.totals_export(totals, fmt), fmt), options.get("output"))
        else:
            headers = [
                "activity",
                "unit",
                "reached",
                "households",
                "targeted",
                "to partners",
                "as reported",
                "set aside",
            ]
            rows = [
                [t.name, t.unit, t.quantity_reached, t.households_reached, t.quantity_targeted,
                 t.quantity_to_partners, t.quantity_as_reported, t.rows_set_aside]
                for t in totals
            ]  # fmt: skip
            self._write(_table(headers, rows) if rows else "No 4W row yet.", options.get("output"))
