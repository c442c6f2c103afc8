"""Importing partners' 4W rows, as a delta, and reverting an import.

An upload is compared with the current versions of the rows it names, by (reporting
organisation, partner's row id):

- a row not stored yet is added; a stored row whose values differ is updated (its version is
  closed and a new one added); a stored row with the same values is left alone;
- a row marked Delete is withdrawn (a withdrawn version is added); rows the file does not
  mention are left alone;
- a row may not be added, changed or withdrawn in a locked reporting period;
- everything is checked before anything is written, and one problem refuses the whole file.

An upload that would change nothing writes nothing (no batch, no audit event) and says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from reliefops.cluster.models import ActivityRow, ActivityType, ImportBatch, ReportingPeriod
from reliefops.cluster.services import bulk
from reliefops.cluster.sheets import RowProblem
from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem
from reliefops.core.services import audit_record, stored_user
from reliefops.core.text import counted, series
from reliefops.partners.models import Organisation
from reliefops.places.models import AdminArea, Site

Actor = AbstractBaseUser | AnonymousUser | None
UPSERT, DELETE = "upsert", "delete"
PROBLEMS_SHOWN = 1000
CHANGES_SHOWN = 200


class ReportRow(NamedTuple):
    """One row of a 4W file, its names resolved: what the import compares and stores."""

    line: int
    action: str  # "upsert" (new or update) or "delete"
    reporting_org_id: int
    row_id: str
    programming_org_id: int | None
    implementing_org_id: int | None
    funding_org_id: int | None
    recipient_org_id: int | None
    activity_id: int | None
    admin_area_id: int | None
    adm1: str
    adm2: str
    adm3: str
    site_id: int | None
    location: str
    status: str
    start_date: dt.date | None
    end_date: dt.date | None
    period: dt.date | None
    quantity: int | None
    households: int | None
    people_female: int | None
    people_male: int | None
    extra: dict[str, str] | None
    digest: str


@dataclass
class ParsedReport:
    """A 4W file read and its names resolved, with every problem found on the way."""

    filename: str
    digest: str
    size_bytes: int
    rows: list[ReportRow]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kept_aside: list[str] = field(default_factory=list)
    sheet: str = ""
    rows_read: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # field -> the column as the file names it
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step of the reading
    # The organisation chosen for the upload: the reporting organisation of the rows that name none.
    reporting_default: int | None = None
    # Rows of the file written ahead into side files, for a faster insert (see bulk.SideRows).
    sides: list[bulk.SideRows] = field(default_factory=list, compare=False, repr=False)
    # The values the file has no column for at all (keys of KEPT_AS_STORED): a row it updates keeps
    # them as stored. Decided once for the file; empty (the usual file) costs nothing.
    absent: tuple[str, ...] = ()

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def close(self) -> None:
        """Let go of the side files, if any (once the import is over, committed or not)."""
        for side in self.sides:
            side.discard()
        self.sides = []


@dataclass(frozen=True)
class RowChange:
    """What an upload does to one row (the first ones are listed in a preview)."""

    line: int
    reporting_org_id: int
    row_id: str
    kind: str  # "add", "update", "withdraw"
    fields: tuple[tuple[str, str, str], ...] = ()  # (field, before, after) of an update
    # An added row's values as read, to look at before applying ("TENTS at PK52201, completed,
    # 2006-03-01 to 2006-03-20, quantity 120, 120 households").
    values: str = ""

    def described(self, arrow: str = "→", empty: str = "—") -> str:
        """An added row's values, or an update's changes with readable field names ("funding
        organisation: NRC → UNHCR; women reached: 200 → —")."""
        if self.values:
            return self.values
        return "; ".join(
            f"{FIELD_LABELS.get(name, name)}: {before or empty} {arrow} {after or empty}"
            for name, before, after in self.fields
        )


# What the previews call the fields an update changes (the API keeps the keys: `funding_org`).
FIELD_LABELS = {
    "programming_org": "programming organisation",
    "implementing_org": "implementing organisation",
    "funding_org": "funding organisation",
    "recipient_org": "handed to partner",
    "activity": "activity",
    "admin_area": "admin area",
    "site": "site",
    "location": "place or site",
    "status": "status",
    "start_date": "start date",
    "end_date": "end date",
    "quantity": "quantity",
    "households": "households",
    "people_female": "women reached",
    "people_male": "men reached",
    "extra": "columns kept aside",
}

# The values a file may have no column for, by the reader's name of the column (or "extra": no
# column kept aside), with the fields of a row they hold: a row the file updates keeps them as
# stored. (The activity, the place and the status are columns every file must have.)
KEPT_AS_STORED: dict[str, tuple[str, ...]] = {
    "programming": ("programming_org_id",),
    "implementing": ("implementing_org_id",),
    "funding": ("funding_org_id",),
    "recipient": ("recipient_org_id",),
    "location": ("location", "site_id"),
    "start": ("start_date",),
    "end": ("end_date",),
    "quantity": ("quantity",),
    "households": ("households",),
    "people_female": ("people_female",),
    "people_male": ("people_male",),
    "extra": ("extra",),
}


def row_fingerprint(row: ReportRow) -> str:
    """The fingerprint of a row's values, to see a stored row unchanged: equal values, equal
    fingerprint. (The reader makes the same text faster, row by row; see the importer's finish().)"""
    orgs = (row.programming_org_id, row.implementing_org_id, row.funding_org_id, row.recipient_org_id)
    values = (
        orgs, row.activity_id, row.admin_area_id, row.site_id, row.location, row.status,
        row.start_date.isoformat() if row.start_date else "",
        row.end_date.isoformat() if row.end_date else "",
        row.quantity, row.households, row.people_female, row.people_male,
        tuple(sorted(row.extra.items())) if row.extra else None,
    )  # fmt: skip
    return hashlib.blake2b(repr(values).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class StoredState:
    """The stored rows as a preview compared the file with: the latest batch and the latest revert
    then, and when. Its apply is refused when a batch touching the same organisations' rows was
    committed or reverted since (the preview would no longer say what the apply does)."""

    last_batch_id: int
    at: dt.datetime
    # None for a preview recorded before reverts were numbered: its apply compares clock times.
    last_revert: int | None = None

    @classmethod
    def now(cls) -> StoredState:
        latest = ImportBatch.objects.aggregate(batch=Max("id"), revert=Max("revert_number"))
        return cls(last_batch_id=latest["batch"] or 0, at=timezone.now(), last_revert=latest["revert"] or 0)

    def as_params(self) -> dict[str, Any]:
        return {
            "seen_batch": self.last_batch_id,
            "seen_at": self.at.isoformat(),
            "seen_revert": self.last_revert,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> StoredState | None:
        if "seen_batch" not in params or "seen_at" not in params:
            return None
        revert = params.get("seen_revert")
        return cls(
            last_batch_id=int(params["seen_batch"]),
            at=dt.datetime.fromisoformat(params["seen_at"]),
            last_revert=int(revert) if revert is not None else None,
        )


@dataclass
class ReportImportResult:
    preview: bool
    filename: str
    digest: str
    sheet: str
    rows_read: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    batch_id: int | None = None
    previous_batch_id: int | None = None  # an earlier batch of the very same file
    changes: list[RowChange] = field(default_factory=list)
    kept_aside: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Rows of the upload (added or updated) that the programming / implementing partner rule sets
    # aside once it is applied: each counted in its implementing partner's own row.
    set_aside: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for the curious
    # The stored rows as a preview saw them: its apply checks that no batch changed them since.
    seen: StoredState | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.withdrawn)

    def counts(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.withdrawn} withdrawn, "
            f"{self.unchanged} unchanged"
        )

    def set_aside_note(self) -> str:
        """What the double-counting rule made of the upload's rows, when it set any aside."""
        count, written = self.set_aside, self.added + self.updated
        if not count:
            return ""
        if count == written:
            which = "the row" if count == 1 else f"all {count:,} rows"
        else:
            which = f"{count:,} of the {written:,} rows"
        verb, pronoun = ("is", "it") if count == 1 else ("are", "each")
        return (
            f"{which} this upload added or updated {verb} set aside: {pronoun} is counted in its "
            "implementing partner's own row (the double-counting rule)"
        )

    def summary(self) -> str:
        """One sentence on what the upload did (or would do)."""
        if not self.changed:
            earlier = (
                f" (this file was imported as batch {self.previous_batch_id})"
                if self.previous_batch_id
                else ""
            )
            return f"Nothing to change: every row of the file is as stored{earlier}. Nothing was written."
        if self.preview:
            return f"Preview: {self.counts()}. Nothing is written until the upload is committed."
        return f"Batch {self.batch_id}: {self.counts()}."


def _sorted(problems: Sequence[Problem]) -> list[Problem]:
    ordered = sorted(problems, key=lambda p: p.row if p.row is not None else 0)
    if len(ordered) > PROBLEMS_SHOWN:
        rest = len(ordered) - PROBLEMS_SHOWN
        ordered = [*ordered[:PROBLEMS_SHOWN], RowProblem(None, "file", f"… and {rest:,} more problems")]
    return ordered


def refuse(problems: Sequence[Problem]) -> None:
    if problems:
        count = len(problems)
        raise InvalidInput(
            _sorted(problems), summary=f"{count:,} problem{'s' if count != 1 else ''}; nothing was written"
        )


def month_label(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def locked_months() -> set[dt.date]:
    return set(ReportingPeriod.objects.filter(locked=True).values_list("month", flat=True))


class _Stored(NamedTuple):
    id: int
    digest: str
    withdrawn: bool
    period: dt.date
    implementing_org_id: int


_KEY = itemgetter(2, 3)  # (reporting_org_id, row_id) of a ReportRow
_ROW_ID = itemgetter(3)
_REPORTING, _IMPLEMENTING = itemgetter(2), itemgetter(5)


def _check_scope(report: ParsedReport, scope_org_id: int | None, scope_label: str) -> list[Problem]:
    """A partner reports its own organisation's rows: the work it programmes, implements or funds."""
    if scope_org_id is None:
        return []
    problems: list[Problem] = []
    others = {row.reporting_org_id for row in report.rows} - {scope_org_id}
    names = {o.pk: str(o) for o in Organisation.objects.filter(pk__in=others)} if others else {}
    for row in report.rows:
        if row.reporting_org_id != scope_org_id:
            whose = names.get(row.reporting_org_id, "another organisation")
            problems.append(
                RowProblem(
                    row.line,
                    report.label("reporting"),
                    f"this row is the report of {whose}; you report for {scope_label} only",
                )
            )
        elif row.action == UPSERT and scope_org_id not in {
            row.programming_org_id,
            row.implementing_org_id,
            row.funding_org_id,
        }:
            problems.append(
                RowProblem(
                    row.line,
                    report.label("programming"),
                    f"{scope_label} neither programmes, implements nor funds this activity; "
                    "a partner reports its own work",
                )
            )
    return problems


def _check_chosen_organisation(report: ParsedReport, scope_org_id: int | None) -> tuple[list[Problem], str]:
    """The organisation a coordinator chose for an upload reports only the rows that name no
    reporting organisation: a note says so when some rows name another, and a file whose every
    row names another is refused (the wrong file, or the wrong organisation chosen)."""
    chosen = report.reporting_default
    if chosen is None or scope_org_id is not None:  # a partner's rows are checked by _check_scope
        return [], ""
    counts = Counter(map(_REPORTING, report.rows))
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


def _duplicates(report: ParsedReport) -> list[Problem]:
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
class _Plan:
    adds: list[ReportRow] = field(default_factory=list)
    revived: list[int] = field(default_factory=list)  # withdrawn versions a re-added row closes
    updates: list[tuple[ReportRow, _Stored]] = field(default_factory=list)
    withdrawals: list[tuple[ReportRow, _Stored]] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)


def _plan(report: ParsedReport, locked: set[dt.date]) -> _Plan:
    """Compare the file with the stored current versions of the rows it names."""
    plan = _Plan()
    orgs = set(map(_REPORTING, report.rows))
    stored = {
        (org, row_id): _Stored(pk, digest, withdrawn, period, implementing)
        for org, row_id, pk, digest, withdrawn, period, implementing in bulk.current_versions(orgs)
    }
    id_label, period_label = report.label("row_id"), report.label("end")

    def lock_problem(row: ReportRow, month: dt.date, as_stored: bool) -> None:
        if as_stored:
            reason = (
                f"row {row.row_id} lies in the reporting period {month_label(month)}, which is locked; "
                "it can no longer change"
            )
            plan.problems.append(RowProblem(row.line, id_label, reason))
        else:
            reason = (
                f"the reporting period {month_label(month)} is locked; "
                "ask the cluster coordinator to reopen it"
            )
            plan.problems.append(RowProblem(row.line, period_label, reason))

    # Rows to update in a file without some columns: compared once merged with their stored values.
    merging: list[tuple[ReportRow, _Stored]] = []
    absent = report.absent
    for row in report.rows:
        old = stored.get((row.reporting_org_id, row.row_id))
        if row.action == DELETE:
            if old is None:
                plan.problems.append(
                    RowProblem(
                        row.line, id_label, f"there is no row {row.row_id} of this organisation to withdraw"
                    )
                )
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
        for row, old in _merged_with_stored(merging, absent):
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
    return plan


def _merged_with_stored(
    pairs: list[tuple[ReportRow, _Stored]], absent: tuple[str, ...]
) -> list[tuple[ReportRow, _Stored]]:
    """The rows with the values of the columns the file does not have taken from their stored
    versions, and their fingerprints made again on the merged values."""
    names = [name for group in absent for name in KEPT_AS_STORED[group]]
    dates = "start" in absent or "end" in absent
    merged: list[tuple[ReportRow, _Stored]] = []
    for start in range(0, len(pairs), 5000):
        chunk = pairs[start : start + 5000]
        values = {
            found["id"]: found
            for found in ActivityRow.objects.filter(id__in=[old.id for _, old in chunk]).values("id", *names)
        }
        for row, old in chunk:
            kept = values[old.id]
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


def _field_changes(updates: list[tuple[ReportRow, _Stored]]) -> dict[int, tuple[tuple[str, str, str], ...]]:
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
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    return str(value)


def _changes(plan: _Plan) -> list[RowChange]:
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
    for row, _ in plan.withdrawals[:CHANGES_SHOWN]:
        listed.append(RowChange(row.line, row.reporting_org_id, row.row_id, "withdraw"))
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


def _withdrawn_versions(withdrawals: list[tuple[ReportRow, _Stored]], batch_id: int) -> list[tuple[Any, ...]]:
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


def activity_report_import(
    *,
    actor: Actor,
    report: ParsedReport,
    scope_org_id: int | None = None,
    scope_label: str = "",
    preview: bool = False,
    before_commit: Callable[[ReportImportResult], None] | None = None,
    previewed: StoredState | None = None,
) -> ReportImportResult:
    """Apply a 4W file as a delta, all or nothing; a preview checks everything and writes nothing.

    `scope_org_id` is the organisation a partner reporter reports for (None: any organisation).
    A row the database refuses after every check passed (a unique index or foreign key built again
    after a large insert, checked at commit) refuses the whole upload as a Conflict.
    `before_commit(result)`, if given, is called with the batch written, inside its transaction,
    just before the commit: the caller's last write goes in with the batch (a job's end).
    `previewed`: the stored rows as the preview of this file saw them (its result's `seen`); the
    upload is refused as a Conflict, nothing written, when a batch touching the same reporting
    organisations' rows was committed or reverted since.
    """
    try:
        with bulk.gc_paused(), bulk.foreign_keys_checked_once(None if preview else len(report.rows)) as keys:
            return _import(
                actor=actor,
                report=report,
                scope_org_id=scope_org_id,
                scope_label=scope_label,
                preview=preview,
                keys=keys,
                before_commit=before_commit,
                previewed=previewed,
            )
    except IntegrityError as exc:
        # The transaction has been rolled back by now: no row, batch or audit event was written.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Conflict(f"the database refused the upload ({reason}); nothing was written") from exc


def _import(
    *,
    actor: Actor,
    report: ParsedReport,
    scope_org_id: int | None,
    scope_label: str,
    preview: bool,
    keys: bulk.ForeignKeys,
    before_commit: Callable[[ReportImportResult], None] | None = None,
    previewed: StoredState | None = None,
) -> ReportImportResult:
    chosen_problems, chosen_note = _check_chosen_organisation(report, scope_org_id)
    problems = [
        *report.problems,
        *_check_scope(report, scope_org_id, scope_label),
        *chosen_problems,
        *_duplicates(report),
    ]
    # A file without a row is refused as an input problem, as an empty file is.
    if not report.rows and not problems and not report.rows_read:
        problems.append(
            RowProblem(
                None,
                "file",
                "the file holds no 4W rows: no row of data under its headers and hashtags; fill in the "
                "template's rows and upload it again",
            )
        )
    result = ReportImportResult(
        timings=dict(report.timings),
        preview=preview,
        filename=report.filename,
        digest=report.digest,
        sheet=report.sheet,
        rows_read=report.rows_read,
        kept_aside=list(report.kept_aside),
        notes=[*report.notes, chosen_note] if chosen_note else list(report.notes),
    )
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.timings[step] = round(now - clock, 3)
        clock = now

    # A side file is attached to the connection until the report is closed: not inside a caller's
    # transaction, which would keep it attached (and locked) after this import.
    outer = transaction.get_connection().in_atomic_block
    with transaction.atomic():
        if not preview and not problems:
            bulk.lock_for_writing()
        if preview:
            result.seen = StoredState.now()  # before the stored rows are read
        elif previewed is not None and not problems:
            _refuse_changed_since(previewed, set(map(_REPORTING, report.rows)))
        # Compared even when the file has problems already: a row of a locked month is named with
        # the others, in one pass.
        plan = _plan(report, locked_months())
        refuse([*problems, *plan.problems])
        result.added, result.updated = len(plan.adds), len(plan.updates)
        result.withdrawn, result.unchanged = len(plan.withdrawals), plan.unchanged
        result.previous_batch_id = (
            ImportBatch.objects.filter(digest=report.digest, reverted_at__isnull=True)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        result.changes = _changes(plan)
        if report.absent and (plan.updates or plan.unchanged):
            kept = ", ".join(_KEPT_LABELS[name] for name in report.absent)
            result.notes.append(
                f"columns not in the file, kept as stored in the rows it names: {kept} (a column with an "
                "empty cell empties the value; a column the file does not have leaves it as it is)"
            )
        lap("compare with stored rows")
        if preview or not result.changed:
            return result
        orgs = {row.reporting_org_id for row in report.rows}
        real_actor = stored_user(actor)
        batch = ImportBatch.objects.create(
            created_by=real_actor,
            created_by_label=real_actor.get_username() if real_actor is not None else "system",
            organisation_id=next(iter(orgs)) if len(orgs) == 1 else None,
            filename=report.filename[:255],
            digest=report.digest,
            size_bytes=report.size_bytes,
            sheet=report.sheet[:120],
            rows_read=report.rows_read,
            added=result.added,
            updated=result.updated,
            unchanged=result.unchanged,
            withdrawn=result.withdrawn,
            kept_aside=report.kept_aside,
            notes=report.notes,
        )
        closed = [old.id for _, old in plan.updates] + [old.id for _, old in plan.withdrawals] + plan.revived
        bulk.close_versions(ids=closed, batch_id=batch.pk)
        tombstones = _withdrawn_versions(plan.withdrawals, batch.pk)
        new_rows = [*plan.adds, *(row for row, _ in plan.updates)]
        ids = bulk.reserve_ids(len(new_rows))
        pairs = bulk.pairs_within(new_rows, ids)
        lap("double-counting rule in the file")
        # Rows written ahead are the file's rows: usable when every row of the file is added.
        sides = report.sides if not outer and len(plan.adds) == len(report.rows) == len(new_rows) else []
        rebuilt, keys_added = bulk.insert_report_rows(
            new_rows, batch_id=batch.pk, ids=ids, counted_in=pairs, sides=sides
        )
        bulk.insert_rows(tombstones)
        lap("write rows")
        if rebuilt:
            result.timings["of which rebuild indexes"] = round(rebuilt, 3)
        if keys_added:
            result.timings["of which add foreign keys back and check them"] = round(keys_added, 3)
        if rebuilt and bulk.is_postgres():
            # Once committed (VACUUM cannot run in a transaction); a failure is logged, not raised:
            # the batch is in by then, and autovacuum does the same work a little later.
            def tidy() -> None:
                if "commit" not in result.timings:  # not when a caller's transaction held this one
                    lap("commit")
                started = time.perf_counter()
                bulk.vacuum_table()
                result.timings["vacuum and analyse the table, after the commit"] = round(
                    time.perf_counter() - started, 3
                )

            transaction.on_commit(tidy, robust=True)
        # The pairs a batch may change are those of who reports and who implements in it; when no
        # other batch holds current rows of theirs, the file's own pairs are all there is.
        touched = set(map(_REPORTING, report.rows)) | set(map(_IMPLEMENTING, plan.adds))
        touched |= set(map(_IMPLEMENTING, (row for row, _ in plan.updates)))
        touched |= {old.implementing_org_id for _, old in [*plan.updates, *plan.withdrawals]}
        touched.discard(None)
        if bulk.others_current(organisation_ids=touched, batch_id=batch.pk):
            marks = bulk.recount_pairs(organisation_ids=touched)
            result.set_aside = sum(1 for row in marks if row in ids)  # ids: a range, of this batch
            lap("double-counting rule across batches")
        else:
            result.set_aside = len(pairs)
        if result.set_aside:  # said with the notes, wherever the result is shown
            result.notes.append(result.set_aside_note())
        if keys.off:
            keys.check(batch_id=batch.pk, rows=new_rows, tombstones=tombstones)
            lap("check foreign keys")
        result.batch_id = batch.pk
        audit_record(
            actor=actor,
            action="cluster.import",
            object_type="import_batch",
            object_id=batch.pk,
            after={
                "filename": batch.filename,
                "digest": batch.digest,
                "sheet": batch.sheet,
                "rows_read": batch.rows_read,
                "added": batch.added,
                "updated": batch.updated,
                "withdrawn": batch.withdrawn,
                "unchanged": batch.unchanged,
                "kept_aside": batch.kept_aside,
            },
        )
        if before_commit is not None:
            before_commit(result)
    if "commit" not in result.timings:  # else timed when the commit was over, before the vacuum
        lap("commit")
    return result


_KEPT_LABELS = {
    "programming": "programming organisation",
    "implementing": "implementing organisation",
    "funding": "funding organisation",
    "recipient": "handed to partner",
    "location": "place or site",
    "start": "start date",
    "end": "end date",
    "quantity": "quantity",
    "households": "households",
    "people_female": "women reached",
    "people_male": "men reached",
    "extra": "the columns kept aside",
}


def _when(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def _refuse_changed_since(seen: StoredState, organisation_ids: set[int]) -> None:
    """Conflict when a batch touching rows of these reporting organisations was committed or
    reverted since a preview saw the stored rows: applying would no longer do what it showed."""
    changes: list[str] = []
    committed = ImportBatch.objects.filter(pk__gt=seen.last_batch_id, reverted_at__isnull=True).order_by("pk")
    for batch in committed:
        if batch.organisation_id is not None:
            touches = batch.organisation_id in organisation_ids
        else:  # a batch of several organisations' rows: does it hold a row of these?
            touches = any(
                rows.filter(reporting_org_id__in=organisation_ids).exists()
                for rows in (
                    ActivityRow.objects.filter(batch_id=batch.pk),
                    ActivityRow.objects.filter(replaced_in_id=batch.pk),
                )
            )
        if touches:
            changes.append(f"batch {batch.pk} by {batch.created_by_label} at {_when(batch.created_at)}")
    # A batch reverted since (and committed before the preview): its rows are gone, so a batch of
    # several organisations counts as touching these. Reverts are numbered under the import lock: a
    # revert under way while the preview read, committed after, has a number the preview did not see.
    reverted = ImportBatch.objects.filter(pk__lte=seen.last_batch_id)
    if seen.last_revert is not None:
        reverted = reverted.filter(revert_number__gt=seen.last_revert)
    else:  # a preview recorded before reverts were numbered
        reverted = reverted.filter(reverted_at__gte=seen.at)
    reverted = reverted.order_by("pk")
    for batch in reverted:
        if batch.organisation_id is None or batch.organisation_id in organisation_ids:
            assert batch.reverted_at is not None  # noqa: S101 - narrowing for the type checker
            changes.append(
                f"the revert of batch {batch.pk} by {batch.reverted_by_label} at {_when(batch.reverted_at)}"
            )
    if changes:
        verb = "changed these rows" if len(changes) == 1 else "changed rows of this file"
        raise Conflict(
            f"{series(changes)} {verb} since your preview; preview the file again to see what it would do "
            "now (nothing was written)"
        )


def _touched_organisations(batch_id: int) -> set[int]:
    """The organisations whose pairs a batch may change: who reports and who implements in it."""
    touched: set[int] = set()
    for rows in (
        ActivityRow.objects.filter(batch_id=batch_id),
        ActivityRow.objects.filter(replaced_in_id=batch_id),
    ):
        for reporting, implementing in (
            rows.order_by().values_list("reporting_org_id", "implementing_org_id").distinct()
        ):
            touched |= {reporting, implementing}
    return touched


@dataclass(frozen=True)
class RevertResult:
    batch_id: int
    removed: int  # versions the batch had added
    restored: int  # versions it had closed, current again


def _later_batches(batch_id: int) -> list[int]:
    """The batches that must be reverted before this one: those that changed its rows, those that
    changed theirs, and so on."""
    found: set[int] = set()
    frontier = {batch_id}
    while frontier:
        changed_by = set(
            ActivityRow.objects.filter(batch_id__in=frontier, replaced_in__isnull=False)
            .order_by()
            .values_list("replaced_in_id", flat=True)
            .distinct()
        )
        frontier = changed_by - found
        found |= frontier
    return sorted(found)


def import_batch_revert(*, actor: Actor, batch_id: int) -> RevertResult:
    """Undo a batch exactly: remove the versions it added and make current those it closed.

    Refused when a later batch has changed the batch's rows (revert it first) or when any of
    its rows lies in a locked reporting period.
    """
    with transaction.atomic():
        bulk.lock_for_writing()
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound(f"no import batch {batch_id}")
        if batch.reverted_at is not None:
            when = timezone.localtime(batch.reverted_at)
            raise Conflict(
                f"batch {batch.pk} was already reverted on {when:%Y-%m-%d %H:%M} by {batch.reverted_by_label}"
            )
        later = _later_batches(batch.pk)
        if later:
            which = f"batch {later[0]}" if len(later) == 1 else f"batches {series([str(n) for n in later])}"
            raise Conflict(
                f"batch {batch.pk} cannot be reverted: {which} changed its rows since; revert "
                f"{'it first' if len(later) == 1 else 'those first, the latest first'}"
            )
        # The months its rows lie in, made distinct by the database (a batch may hold a million rows).
        months: set[dt.date] = set()
        for rows in (
            ActivityRow.objects.filter(batch_id=batch.pk),
            ActivityRow.objects.filter(replaced_in_id=batch.pk),
        ):
            months |= set(rows.order_by().values_list("period", flat=True).distinct())
        blocked = sorted(months & locked_months())
        if blocked:
            names = ", ".join(month_label(m) for m in blocked)
            raise Conflict(f"batch {batch.pk} cannot be reverted: its rows lie in the locked period {names}")
        touched = _touched_organisations(batch.pk)
        removed = bulk.delete_batch_versions(batch_id=batch.pk)
        restored = bulk.reopen_versions(batch_id=batch.pk)
        bulk.recount_pairs(organisation_ids=touched)
        real_actor = stored_user(actor)
        batch.reverted_at = timezone.now()
        batch.reverted_by = real_actor
        batch.reverted_by_label = real_actor.get_username() if real_actor is not None else "system"
        batch.revert_number = (ImportBatch.objects.aggregate(last=Max("revert_number"))["last"] or 0) + 1
        batch.save(update_fields=["reverted_at", "reverted_by", "reverted_by_label", "revert_number"])
        audit_record(
            actor=actor,
            action="cluster.revert",
            object_type="import_batch",
            object_id=batch.pk,
            before={"reverted": False},
            after={"reverted": True, "removed": removed, "restored": restored},
        )
    return RevertResult(batch_id=batch.pk, removed=removed, restored=restored)
