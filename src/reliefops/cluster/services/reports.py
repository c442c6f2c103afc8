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
import time
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.cluster.services import bulk
from reliefops.cluster.services.report_plan import (
    IMPLEMENTING,
    REPORTING,
    changes_listed,
    check_chosen_organisation,
    check_scope,
    duplicates,
    households_beyond_needs,
    locked_months,
    pipeline_households,
    plan_upload,
    withdrawn_versions,
)
from reliefops.cluster.services.report_types import (
    Actor,
    ParsedReport,
    ReportImportResult,
    ReportRow,
    StoredState,
    refuse,
)
from reliefops.cluster.sheets import RowProblem
from reliefops.core.errors import Conflict
from reliefops.core.services import audit_record, stored_user
from reliefops.core.text import counted, series


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
    chosen_problems, chosen_note = check_chosen_organisation(report, scope_org_id)
    problems = [
        *report.problems,
        *check_scope(report, scope_org_id, scope_label),
        *chosen_problems,
        *duplicates(report),
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
            _refuse_changed_since(previewed, set(map(REPORTING, report.rows)))
        # Compared even when the file has problems already: a row of a locked month is named with
        # the others, in one pass.
        plan = plan_upload(report, locked_months())
        refuse([*problems, *plan.problems])
        result.added, result.updated = len(plan.adds), len(plan.updates)
        result.withdrawn, result.unchanged = len(plan.withdrawals), plan.unchanged
        result.previous_batch_id = (
            ImportBatch.objects.filter(digest=report.digest, reverted_at__isnull=True)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        result.changes = changes_listed(plan)
        if plan.kept:
            kept = ", ".join(_KEPT_LABELS[name] for name in plan.kept)
            result.notes.append(
                f"columns not in the file, kept as stored in the rows it names: {kept} (a column with an "
                "empty cell empties the value; a column the file does not have leaves it as it is)"
            )
        new_rows = plan.written()
        result.notes += filter(None, (households_beyond_needs(new_rows), pipeline_households(new_rows)))
        lap("compare with stored rows")
        if preview and result.changed:
            note = _set_aside_in_file(new_rows)
            if note:
                result.notes.append(note)
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
            notes=list(result.notes),  # the file's, and the figures to check
        )
        closed = [old.id for _, old in plan.updates] + [old.id for _, old in plan.withdrawals] + plan.revived
        bulk.close_versions(ids=closed, batch_id=batch.pk)
        tombstones = withdrawn_versions(plan.withdrawals, batch.pk)
        ids = bulk.reserve_ids(len(new_rows))
        pairs = bulk.pairs_within(new_rows, ids)
        lap("double-counting rule in the file")
        # When every row of the file is added, what was made of its rows as they were read is theirs:
        # the rows written ahead into side files, and the key values gathered.
        whole_file = len(plan.adds) == len(report.rows) == len(new_rows)
        sides = report.sides if whole_file and not outer else []
        known = report.key_values if whole_file else None
        rebuilt, keys_added = bulk.insert_report_rows(
            new_rows, batch_id=batch.pk, ids=ids, counted_in=pairs, sides=sides, known=known
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
        touched = set(map(REPORTING, report.rows)) | set(map(IMPLEMENTING, plan.adds))
        touched |= set(map(IMPLEMENTING, (row for row, _ in plan.updates)))
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
            keys.check(batch_id=batch.pk, rows=new_rows, tombstones=tombstones, known=known)
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


def _set_aside_in_file(rows: list[ReportRow]) -> str:
    """What the double-counting rule will set aside among the rows a previewed upload writes
    (Plan.written; the rows stored before may set more aside: the applied upload says how many)."""
    pairs = bulk.pairs_within(rows, range(1, len(rows) + 1))  # by position: nothing is written yet
    if not pairs:
        return ""
    shown = "; ".join(
        f"row {rows[i].line} ({rows[i].row_id}) in row {rows[own - 1].line} ({rows[own - 1].row_id})"
        for i, own in list(pairs.items())[:3]
    )
    more = " …" if len(pairs) > 3 else ""
    return (
        f"{counted(len(pairs), 'row')} of the file will be set aside when the upload is applied, each "
        f"counted in its implementing partner's own row of the file ({shown}{more}); rows stored before "
        "may set aside more, and the applied upload says how many (the double-counting rule)"
    )
