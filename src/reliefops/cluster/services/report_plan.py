"""How a 4W upload compares with the stored rows: who may report them, duplicates in the file,
locked periods, and the plan of what is added, updated, withdrawn and left alone."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from reliefops.cluster.models import ActivityRow, ActivityType, NeedsBaseline, ReportingPeriod
from reliefops.cluster.services import bulk
from reliefops.cluster.services.report_types import (
    CHANGES_SHOWN,
    DELETE,
    KEPT_AS_STORED,
    UPDATE,
    UPSERT,
    ParsedReport,
    ReportRow,
    RowChange,
    month_label,
    row_fingerprint,
)
from reliefops.cluster.sheets import RowProblem
from reliefops.core.errors import Problem
from reliefops.core.text import counted
from reliefops.partners.models import Organisation
from reliefops.places.models import AdminArea, Site


def locked_months() -> set[dt.date]:
    return set(ReportingPeriod.objects.filter(locked=True).values_list("month", flat=True))


class StoredVersion(NamedTuple):
    id: int
    digest: str
    withdrawn: bool
    period: dt.date
    implementing_org_id: int


_KEY = itemgetter(2, 3)  # (reporting_org_id, row_id) of a ReportRow
_ROW_ID = itemgetter(3)
REPORTING, IMPLEMENTING = itemgetter(2), itemgetter(5)


def check_scope(report: ParsedReport, scope_org_id: int | None, scope_label: str) -> list[Problem]:
    """A partner reports its own organisation's rows: the work it programmes, implements or funds.
    A refusal names the organisations the row does give, and what to write instead."""
    if scope_org_id is None:
        return []
    problems: list[Problem] = []

    def outside(row: ReportRow) -> bool:  # a row of the partner's report, of work it takes no part in
        taking_part = {row.programming_org_id, row.implementing_org_id, row.funding_org_id}
        own = row.reporting_org_id == scope_org_id and row.action != DELETE
        return own and scope_org_id not in taking_part

    named: set[int | None] = {row.reporting_org_id for row in report.rows}
    named.discard(scope_org_id)
    for row in filter(outside, report.rows):
        named |= {row.programming_org_id, row.implementing_org_id, row.funding_org_id}
    named.discard(None)
    names: dict[int | None, str] = (
        {o.pk: str(o) for o in Organisation.objects.filter(pk__in=named)} if named else {}
    )
    for row in report.rows:
        if row.reporting_org_id != scope_org_id:
            whose = names.get(row.reporting_org_id, "another organisation")
            problems.append(
                RowProblem(
                    row.line,
                    report.label("reporting"),
                    f"this row is the report of {whose}, and you report for {scope_label} only; "
                    f"leave the cell empty (or write {scope_label}) for a row of {scope_label}'s own report, "
                    f"or leave the row to {whose} to upload",
                )
            )
        elif outside(row):
            funder = names.get(row.funding_org_id, "") if row.funding_org_id is not None else ""
            given = (
                f"programming {names.get(row.programming_org_id, 'another organisation')}, "
                f"implementing {names.get(row.implementing_org_id, 'another organisation')}, "
                + (f"funding {funder}" if funder else "no funder")
            )
            problems.append(
                RowProblem(
                    row.line,
                    report.label("programming"),
                    f"{scope_label} neither programmes, implements nor funds this activity ({given}); "
                    f"a partner reports its own work: name {scope_label} as the programming, implementing "
                    f"or funding organisation if it takes part, or leave the row to those who do",
                )
            )
    return problems


def check_chosen_organisation(report: ParsedReport, scope_org_id: int | None) -> tuple[list[Problem], str]:
    """The organisation a coordinator chose for an upload reports only the rows that name no
    reporting organisation: a note says so when some rows name another, and a file whose every
    row names another is refused (the wrong file, or the wrong organisation chosen)."""
    chosen = report.reporting_default
    if chosen is None or scope_org_id is not None:  # a partner's rows are checked by check_scope
        return [], ""
    counts = Counter(map(REPORTING, report.rows))
    own = counts.pop(chosen, 0)
    if not counts:
        return [], ""
    names = {o.pk: str(o) for o in Organisation.objects.filter(pk__in=[chosen, *counts])}
    others = sorted(counts, key=lambda pk: (-counts[pk], names.get(pk, "")))
    listed = ", ".join(f"{names.get(pk, pk)} ({counted(counts[pk], 'row')})" for pk in others)
    column = report.label("reporting")
    if not own:
        first = names.get(others[0], others[0])
        reason = (
            f"every row of the file names its own reporting organisation: {listed}; none is a row of "
            f"{names.get(chosen, chosen)}, the organisation chosen for the upload. Choose {first}, or no "
            "organisation to take each row's own"
        )
        return [RowProblem(None, column, reason)], ""
    return [], (
        f"{names.get(chosen, chosen)}, the organisation chosen for the upload, reports only the rows that "
        f"name no reporting organisation ({counted(own, 'row')}); the other rows name their own in "
        f"{column}: {listed}"
    )


def duplicates(report: ParsedReport) -> list[Problem]:
    problems: list[Problem] = []
    # Row ids all distinct (the usual file) say the keys are; only when some repeat are the
    # (organisation, row id) pairs made and counted.
    count = len(report.rows)
    if len(set(map(_ROW_ID, report.rows))) == count or len(set(map(_KEY, report.rows))) == count:
        return problems
    first: dict[tuple[int, str], int] = {}
    for row in report.rows:
        key = (row.reporting_org_id, row.row_id)
        if key in first:
            if row.row_id.startswith("auto-"):
                reason = (
                    f"the same organisations, activity, place and dates as row {first[key]}; "
                    "give the rows ids (#meta+id) to tell them apart"
                )
            else:
                reason = (
                    f"row id {row.row_id} appears twice for the same organisation (first on row {first[key]})"
                )
            problems.append(RowProblem(row.line, report.label("row_id"), reason))
        else:
            first[key] = row.line
    return problems


@dataclass
class Plan:
    adds: list[ReportRow] = field(default_factory=list)
    revived: list[int] = field(default_factory=list)  # withdrawn versions a re-added row closes
    updates: list[tuple[ReportRow, StoredVersion]] = field(default_factory=list)
    withdrawals: list[tuple[ReportRow, StoredVersion]] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Of the columns the file does not have (report.absent), those in which a row it names holds a
    # stored value, kept as stored: the others hold nothing to keep, and are not worth a note.
    kept: tuple[str, ...] = ()

    def written(self) -> list[ReportRow]:
        """The rows the upload writes as new versions: those it adds, then those it updates."""
        return [*self.adds, *(row for row, _ in self.updates)]


def plan_upload(report: ParsedReport, locked: set[dt.date]) -> Plan:
    """Compare the file with the stored current versions of the rows it names."""
    plan = Plan()
    orgs = set(map(REPORTING, report.rows))
    stored = {
        (org, row_id): StoredVersion(pk, digest, withdrawn, period, implementing)
        for org, row_id, pk, digest, withdrawn, period, implementing in bulk.current_versions(orgs)
    }
    id_label, period_label = report.label("row_id"), report.label("end")
    if not stored and _all_added(report.rows, locked):
        # Nothing stored of these organisations (a first upload), no withdrawal or correction asked
        # for, no row in a locked month: every row is added, as the loop below would find row by row.
        plan.adds = list(report.rows)
        return plan

    def lock_problem(row: ReportRow, month: dt.date, as_stored: bool) -> None:
        if as_stored:
            reason = (
                f"row {row.row_id} lies in the reporting period {month_label(month)}, which is locked; "
                "it can no longer change"
            )
            plan.problems.append(RowProblem(row.line, id_label, reason))
        else:
            day = row.end_date or row.start_date
            said = f"{day.isoformat()} falls in " if day is not None else ""
            reason = (
                f"{said}the reporting period {month_label(month)}, which is locked; "
                "ask the cluster coordinator to reopen it"
            )
            plan.problems.append(RowProblem(row.line, period_label, reason))

    # Rows to update in a file without some columns: compared once merged with their stored values.
    merging: list[tuple[ReportRow, StoredVersion]] = []
    absent = report.absent
    for row in report.rows:
        old = stored.get((row.reporting_org_id, row.row_id))
        if row.action == DELETE:
            if old is None:
                reason = (
                    f"there is no row {row.row_id} of this organisation to withdraw; check the row id "
                    "against the organisation's rows (the Rows tab, or the template with its rows)"
                )
                plan.problems.append(RowProblem(row.line, id_label, reason))
            elif old.withdrawn:
                plan.unchanged += 1
            elif old.period in locked:
                lock_problem(row, old.period, True)
            else:
                plan.withdrawals.append((row, old))
            continue
        if old is not None and not old.withdrawn and old.digest == row.digest:
            plan.unchanged += 1
            continue
        if row.action == UPDATE and (old is None or old.withdrawn):
            plan.problems.append(RowProblem(row.line, report.label("action"), _not_stored(row, old)))
            continue
        if absent and old is not None and not old.withdrawn:
            merging.append((row, old))
            continue
        if row.period in locked:
            lock_problem(row, row.period, False)
            continue
        if old is None or old.withdrawn:
            if old is not None:
                if old.period in locked:
                    lock_problem(row, old.period, True)
                    continue
                plan.revived.append(old.id)
            plan.adds.append(row)
        elif old.period in locked:
            lock_problem(row, old.period, True)
        else:
            plan.updates.append((row, old))
    if merging:
        held: set[str] = set()
        for row, old in merged_with_stored(merging, absent, held):
            if row.digest == old.digest:
                plan.unchanged += 1
            elif row.start_date is not None and row.end_date is not None and row.end_date < row.start_date:
                end, start = row.end_date.isoformat(), row.start_date.isoformat()
                if "start" in absent:
                    reason = (
                        f"{end} is before the row's stored start date {start} (the file has no start date "
                        "column); add the column with the new start date"
                    )
                else:
                    reason = (
                        f"the row's stored end date {end} (the file has no end date column) is before the "
                        f"start date {start}; add the column with the new end date"
                    )
                plan.problems.append(RowProblem(row.line, period_label, reason))
            elif row.period in locked:
                lock_problem(row, row.period, False)
            elif old.period in locked:
                lock_problem(row, old.period, True)
            else:
                plan.updates.append((row, old))
        plan.kept = tuple(group for group in absent if group in held)
    return plan


HOUSEHOLDS = itemgetter(20)  # households of a ReportRow
BEYOND_SHOWN = 3


def households_beyond_needs(rows: list[ReportRow]) -> str:
    """A note on the rows an upload writes (Plan.written) that report more households than live in
    their area (or the nearest area above it with a needs baseline): a figure to check (a typo, a
    count of people written as households), not refused, since a baseline may be out of date."""
    baselines = NeedsBaseline.objects.filter(households__isnull=False)
    caps = {
        area: households
        for area, households in baselines.values_list("admin_area_id", "households")
        if households
    }
    smallest = min(caps.values(), default=0)
    if not caps or max(filter(None, map(HOUSEHOLDS, rows)), default=0) <= smallest:
        return ""  # (the usual case, told without looking at each row)
    parent: dict[int, int | None] = dict(AdminArea.objects.values_list("id", "parent_id"))
    illustrative = set(baselines.filter(illustrative=True).values_list("admin_area_id", flat=True))

    def baseline_of(area_id: int | None) -> int | None:
        while area_id is not None and area_id not in caps:
            area_id = parent.get(area_id)
        return area_id

    beyond: list[tuple[ReportRow, int]] = []
    for row in rows:
        if row.households is not None and row.households > smallest:
            area_id = baseline_of(row.admin_area_id)
            if area_id is not None and row.households > caps[area_id]:
                beyond.append((row, area_id))
    if not beyond:
        return ""
    names = {a.pk: f"{a.name} ({a.pcode})" for a in AdminArea.objects.filter(pk__in={a for _, a in beyond})}
    shown = "; ".join(
        f"row {row.line}: {row.households:,} households, where {names[area_id]} counts {caps[area_id]:,}"
        + (" (illustrative)" if area_id in illustrative else "")
        for row, area_id in beyond[:BEYOND_SHOWN]
    )
    more = f", and {counted(len(beyond) - BEYOND_SHOWN, 'row')} more" if len(beyond) > BEYOND_SHOWN else ""
    verb = "reports" if len(beyond) == 1 else "report"
    return (
        f"{counted(len(beyond), 'row')} {verb} more households than live in the area by its needs baseline "
        f"({shown}{more}); check the figures: households, not people?"
    )


RECIPIENT = itemgetter(7)  # the partner a pipeline row hands its items to


def pipeline_households(rows: list[ReportRow]) -> str:
    """A note on the pipeline rows an upload writes (Plan.written) that give households: they are not
    counted as reached (the partner the items went to reports the households it reaches)."""
    given = [row for row in filter(RECIPIENT, rows) if row.households]
    if not given:
        return ""
    lines = ", ".join(str(row.line) for row in given[:BEYOND_SHOWN])
    more = " …" if len(given) > BEYOND_SHOWN else ""
    verb = "gives" if len(given) == 1 else "give"
    return (
        f"{counted(len(given), 'pipeline row')} (handed to a partner) {verb} "
        f"households (row {lines}{more}), which are not counted as reached: the partner the items were "
        "handed to reports the households it reaches"
    )


def _not_stored(row: ReportRow, old: StoredVersion | None) -> str:
    """Why a row whose action says it is stored (Update, Edit, Same …) is refused: the
    organisation has no current row of its id."""
    said = "its action (Update, Edit, Same or the like) says it corrects a stored row"
    if old is not None:
        return f"row {row.row_id}: {said}, but it was withdrawn; write New to report it again"
    if row.row_id.startswith("auto-"):
        return (
            f"{said}, but the file has no row ids (#meta+id), and the organisation has no row with the "
            "same organisations, activity, place and dates to correct; give the rows their ids, or "
            "write New if it is a new activity"
        )
    return (
        f"row {row.row_id}: {said}, but the organisation has no row {row.row_id}; check the row id "
        "against the organisation's rows (the Rows tab, or the template with its rows), or write New "
        "if it is a new activity"
    )


ACTION, PERIOD = itemgetter(1), itemgetter(18)  # of a ReportRow


def _all_added(rows: list[ReportRow], locked: set[dt.date]) -> bool:
    """Whether each row, none of its organisation's stored, is one to add: none is a withdrawal or
    a correction of a stored row (which are refused then), and none lies in a locked month."""
    return set(map(ACTION, rows)) <= {UPSERT} and not (locked and locked & set(map(PERIOD, rows)))


def merged_with_stored(
    pairs: list[tuple[ReportRow, StoredVersion]], absent: tuple[str, ...], held: set[str] | None = None
) -> list[tuple[ReportRow, StoredVersion]]:
    """The rows with the values of the columns the file does not have taken from their stored
    versions, and their fingerprints made again on the merged values. `held` gathers the groups
    of columns (absent's) in which some stored version holds a value."""
    names = [name for group in absent for name in KEPT_AS_STORED[group]]
    group_of = {name: group for group in absent for name in KEPT_AS_STORED[group]}
    dates = "start" in absent or "end" in absent
    merged: list[tuple[ReportRow, StoredVersion]] = []
    for start in range(0, len(pairs), 5000):
        chunk = pairs[start : start + 5000]
        values = {
            found["id"]: found
            for found in ActivityRow.objects.filter(id__in=[old.id for _, old in chunk]).values("id", *names)
        }
        for row, old in chunk:
            kept = values[old.id]
            if held is not None:
                held.update(group_of[name] for name in names if kept[name] not in (None, "", {}))
            row = row._replace(**{name: kept[name] for name in names})
            if dates:
                day = row.end_date or row.start_date
                row = row._replace(period=day.replace(day=1) if day is not None else row.period)
            merged.append((row._replace(digest=row_fingerprint(row)), old))
    return merged


_COMPARED = (
    "programming_org_id",
    "implementing_org_id",
    "funding_org_id",
    "recipient_org_id",
    "activity_id",
    "admin_area_id",
    "site_id",
    "location",
    "status",
    "start_date",
    "end_date",
    "quantity",
    "households",
    "people_female",
    "people_male",
    "extra",
)


def _field_changes(
    updates: list[tuple[ReportRow, StoredVersion]],
) -> dict[int, tuple[tuple[str, str, str], ...]]:
    """The fields each of the first updates changes, as (field, before, after), each value as the
    pages name it: an organisation by its short name, an activity by its code, an admin area by
    its P-code and name, a site by its name."""
    shown = updates[:CHANGES_SHOWN]
    before = {
        values["id"]: values
        for values in ActivityRow.objects.filter(id__in=[old.id for _, old in shown]).values("id", *_COMPARED)
    }
    diffs_of: dict[int, list[tuple[str, Any, Any]]] = {}
    for row, old in shown:
        stored = before.get(old.id, {})
        diffs_of[old.id] = [
            (name, stored.get(name), getattr(row, name))
            for name in _COMPARED
            if stored.get(name) != getattr(row, name)
        ]
    names = _Names.of(diff for diffs in diffs_of.values() for diff in diffs)
    return {
        key: tuple(
            (name.removesuffix("_id"), names.text(name, was), names.text(name, now))
            for name, was, now in diffs
        )
        for key, diffs in diffs_of.items()
    }


@dataclass
class _Names:
    """The names of the organisations, activities, admin areas and sites some values point at."""

    organisations: dict[int, str] = field(default_factory=dict)
    activities: dict[int, str] = field(default_factory=dict)
    areas: dict[int, str] = field(default_factory=dict)
    sites: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, diffs: Any) -> _Names:
        wanted: dict[str, set[int]] = {
            "org": set(),
            "activity_id": set(),
            "admin_area_id": set(),
            "site_id": set(),
        }
        for name, was, now in diffs:
            key = "org" if name.endswith("_org_id") else name
            if key in wanted:
                wanted[key] |= {value for value in (was, now) if value is not None}
        names = cls()
        if wanted["org"]:
            names.organisations = {o.pk: str(o) for o in Organisation.objects.filter(pk__in=wanted["org"])}
        if wanted["activity_id"]:
            names.activities = dict(
                ActivityType.objects.filter(pk__in=wanted["activity_id"]).values_list("pk", "code")
            )
        if wanted["admin_area_id"]:
            names.areas = {
                pk: f"{pcode} ({name})"
                for pk, pcode, name in AdminArea.objects.filter(pk__in=wanted["admin_area_id"]).values_list(
                    "pk", "pcode", "name"
                )
            }
        if wanted["site_id"]:
            names.sites = {
                pk: f"{name} ({code})" if code else name
                for pk, name, code in Site.objects.filter(pk__in=wanted["site_id"]).values_list(
                    "pk", "name", "code"
                )
            }
        return names

    def text(self, name: str, value: Any) -> str:
        if value is None:
            return ""
        if name.endswith("_org_id"):
            return self.organisations.get(value, str(value))
        if name == "activity_id":
            return self.activities.get(value, str(value))
        if name == "admin_area_id":
            return self.areas.get(value, str(value))
        if name == "site_id":
            return self.sites.get(value, str(value))
        return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"  # as an added row's values write a figure
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    return str(value)


def changes_listed(plan: Plan) -> list[RowChange]:
    fields = _field_changes(plan.updates)
    listed: list[RowChange] = []
    shown = plan.adds[:CHANGES_SHOWN]
    codes = dict(ActivityType.objects.values_list("pk", "code")) if shown else {}
    # The P-code of each row's own area: a union council's, not its tehsil's.
    places = (
        dict(AdminArea.objects.filter(pk__in={row.admin_area_id for row in shown}).values_list("pk", "pcode"))
        if shown
        else {}
    )
    for row in shown:
        listed.append(
            RowChange(row.line, row.reporting_org_id, row.row_id, "add", values=_values(row, codes, places))
        )
    for row, old in plan.updates[:CHANGES_SHOWN]:
        listed.append(RowChange(row.line, row.reporting_org_id, row.row_id, "update", fields.get(old.id, ())))
    withdrawn = plan.withdrawals[:CHANGES_SHOWN]
    stored = _stored_values([old.id for _, old in withdrawn]) if withdrawn else {}
    for row, old in withdrawn:
        listed.append(
            RowChange(row.line, row.reporting_org_id, row.row_id, "withdraw", values=stored.get(old.id, ""))
        )
    listed.sort(key=lambda change: change.line)
    return listed[:CHANGES_SHOWN]


def _values(row: ReportRow, codes: dict[int, str], places: dict[int, str] | None = None) -> str:
    """An added row's values as the importer read them: what a partner checks before applying (a
    date read the wrong way round, a place, a quantity)."""
    place = (places or {}).get(row.admin_area_id) or row.adm3 or row.adm2 or row.adm1  # type: ignore[arg-type]
    days = " to ".join(day.isoformat() for day in (row.start_date, row.end_date) if day is not None)
    activity = codes.get(row.activity_id, "") if row.activity_id is not None else ""
    parts = [f"{activity} at {place}", row.status, days]
    if row.quantity is not None:
        parts.append(f"quantity {row.quantity:,}")
    if row.households is not None:
        parts.append(counted(row.households, "household"))
    return ", ".join(part for part in parts if part)


def _stored_values(ids: list[int]) -> dict[int, str]:
    """The stored values of rows to withdraw, written as an added row's are: what a partner checks
    is the row meant before it stops counting."""
    found = ActivityRow.objects.filter(id__in=ids).values_list(
        "id",
        "activity__code",
        "admin_area__pcode",
        "status",
        "start_date",
        "end_date",
        "quantity",
        "households",
    )
    described: dict[int, str] = {}
    for pk, activity, place, status, start, end, quantity, households in found:
        days = " to ".join(day.isoformat() for day in (start, end) if day is not None)
        parts = [f"{activity} at {place}", status, days]
        if quantity is not None:
            parts.append(f"quantity {quantity:,}")
        if households is not None:
            parts.append(counted(households, "household"))
        described[pk] = ", ".join(part for part in parts if part)
    return described


def withdrawn_versions(
    withdrawals: list[tuple[ReportRow, StoredVersion]], batch_id: int
) -> list[tuple[Any, ...]]:
    """The withdrawn versions: the stored values, marked withdrawn, on the line of the Delete row."""
    line_of = {old.id: row.line for row, old in withdrawals}
    ids = list(line_of)
    out = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        values = ActivityRow.objects.filter(id__in=chunk).values_list("id", *bulk.INSERT_COLUMNS[1:])
        for stored_id, *rest in values:
            rest[0] = line_of[stored_id]  # line
            rest[bulk.INSERT_COLUMNS.index("withdrawn") - 1] = True
            out.append((batch_id, *rest))
    return out
