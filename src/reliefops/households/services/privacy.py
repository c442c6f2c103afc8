"""Personal data: every view and export of it is an audit event, and it is removed past retention.

The audit events name households by id only; no name, identity number or phone is ever written to
the audit trail or to a log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.exports import Table, csv_bytes, iterate
from reliefops.core.models import Job
from reliefops.core.services import audit_record
from reliefops.core.text import counted, day_text
from reliefops.households.exports import REGISTRY
from reliefops.households.models import (
    DuplicatePair,
    HandoverDelivery,
    Household,
    HouseholdCard,
    HouseholdImport,
    ImportStatus,
    MatchKey,
    PairStatus,
)
from reliefops.households.selectors import last_activity
from reliefops.households.services.registration import matching_lock

# An uploaded file not imported within this many days is cleared (it holds personal data).
STAGED_IMPORT_DAYS = 7
# The background jobs that check and import registration files (households.jobs): a refused one
# keeps the file's problems, which quote what was typed (a CNIC, a phone).
IMPORT_JOB_KINDS = ("household_import_preview", "household_import_commit")


def _import_jobs_with_problems(import_ids: Iterable[int]) -> list[int]:
    """The household-import jobs that still hold the problems of one of these imports: a commit names
    its import in its parameters, a check links to the import's page."""
    ids = set(import_ids)
    pages = {reverse("households:import-detail", args=[pk]) for pk in ids}
    found = []
    jobs = Job.objects.filter(kind__in=IMPORT_JOB_KINDS).exclude(problems=[]).only("pk", "params", "result")
    for job in jobs.iterator():
        params = job.params if isinstance(job.params, dict) else {}
        links = (job.result or {}).get("links", []) if isinstance(job.result, dict) else []
        if params.get("import_id") in ids or any(link.get("url") in pages for link in links):
            found.append(job.pk)
    return found


def household_runs(household_ids: Iterable[int]) -> list[int | str]:
    """Every household number, sorted, as the audit trail records it: three or more consecutive
    numbers as one run, `"482-1076"`, the others alone; 100,000 households exported take a few
    entries, not 100,000."""
    runs: list[int | str] = []
    ids = sorted(set(household_ids))
    start = 0
    while start < len(ids):
        end = start
        while end + 1 < len(ids) and ids[end + 1] == ids[end] + 1:
            end += 1
        if end - start >= 2:
            runs.append(f"{ids[start]}-{ids[end]}")
        else:
            runs.extend(ids[start : end + 1])
        start = end + 1
    return runs


def personal_data_viewed(*, actor: Any, household_ids: Sequence[int], where: str) -> None:
    """Record that a user saw the personal data of these households (a page, an API answer)."""
    if not household_ids:
        return
    ids = sorted(set(household_ids))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="household.view_personal_data",
            object_type="household",
            object_id=ids[0] if len(ids) == 1 else "",
            after={"where": where, "households": household_runs(ids), "count": len(ids)},
        )


@dataclass(frozen=True)
class Export:
    content: bytes
    rows: int
    personal: bool


@dataclass(frozen=True)
class ExportStarted:
    """An export that was recorded: its table (personal columns only with the right) and its rows,
    to be written as they are read."""

    table: Table
    rows: Iterable[Any]
    count: int
    personal: bool


def export_recorded(
    *, actor: Any, object_type: str, table: Table, rows: Iterable[Any], household_ids: Sequence[int],
    count: int, with_personal_data: bool, where: str,
) -> ExportStarted:  # fmt: skip
    """Record an export of households' data in the audit trail (every household's number, as runs,
    never a name) and hand back what to write; personal columns are dropped unless
    `with_personal_data` (the caller decides it from core.access)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="household.export",
            object_type=object_type,
            after={
                "where": where,
                "rows": count,
                "personal_data": with_personal_data,
                "households": household_runs(household_ids),
            },
        )
    shown = table if with_personal_data else table.without_personal()
    return ExportStarted(shown, rows, count, with_personal_data)


def households_export_start(
    *, actor: Any, households: Any, with_personal_data: bool, where: str
) -> ExportStarted:
    """The households (registry columns), recorded as an export before the first row is written."""
    ordered = households.order_by("pk")
    return export_recorded(
        actor=actor,
        object_type="household",
        table=REGISTRY,
        rows=iterate(ordered, REGISTRY),
        household_ids=list(ordered.values_list("pk", flat=True)),
        count=ordered.count(),
        with_personal_data=with_personal_data,
        where=where,
    )


def households_export(*, actor: Any, households: Any, with_personal_data: bool, where: str) -> Export:
    """The households as CSV with HXL tags; personal columns only for users with the export right
    (the caller decides `with_personal_data` from core.access). The export is an audit event."""
    started = households_export_start(
        actor=actor, households=households, with_personal_data=with_personal_data, where=where
    )
    return Export(csv_bytes(started.table, started.rows), started.count, with_personal_data)


@dataclass(frozen=True)
class AnonymiseResult:
    households: int
    imports_cleared: int
    cutoff: dt.date
    dry_run: bool
    pairs_closed: int = 0  # likely duplicate pairs nobody can decide any more

    @property
    def message(self) -> str:
        cutoff = day_text(self.cutoff)

        def done(count: int) -> str:
            return "would be" if self.dry_run else "was" if count == 1 else "were"

        households, files, pairs = self.households, self.imports_cleared, self.pairs_closed
        text = (
            f"{counted(households, 'household')} last registered or served before {cutoff} "
            f"{done(households)} anonymised; {counted(files, 'staged import file')} {done(files)} cleared"
        )
        if pairs:
            text += (
                f"; {counted(pairs, 'pair')} of likely duplicates waiting for a decision {done(pairs)} closed"
            )
        return text + "."


def households_anonymise(
    *, actor: Any, retention_days: int, today: dt.date | None = None, dry_run: bool = False
) -> AnonymiseResult:
    """Remove names, identity numbers, phones, villages and collectors' names from households whose
    last registration or delivery is older than the retention period; counts, entitlements,
    handovers and the ledger stay as they are."""
    if isinstance(retention_days, bool) or not isinstance(retention_days, int) or retention_days < 1:
        raise InvalidInput([Problem(None, "retention_days", "a whole number of days, 1 or more")])
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=retention_days)
    stale = (
        last_activity()
        .filter(anonymised_at__isnull=True, registered_on__lt=cutoff)
        .filter(Q(last_delivery__isnull=True) | Q(last_delivery__lt=cutoff))
    )
    ids = list(stale.values_list("pk", flat=True))
    # A pair waiting for a decision is closed with its household: nobody can compare a family whose
    # names and documents are gone (merging one is refused), and "different" would not be true.
    waiting = _pairs_waiting(ids)
    staged_before = timezone.now() - dt.timedelta(days=STAGED_IMPORT_DAYS)
    clearable = HouseholdImport.objects.filter(
        Q(created_at__lt=staged_before) | Q(status__in=[ImportStatus.COMMITTED, ImportStatus.REFUSED])
    )
    imports = clearable.exclude(content=b"", problems=[], duplicates=[])
    import_ids = list(imports.values_list("pk", flat=True))
    # Those cleared before as well: their jobs may still hold the problems (kept before this was done).
    job_ids = _import_jobs_with_problems(clearable.values_list("pk", flat=True))
    if dry_run:
        return AnonymiseResult(len(ids), len(import_ids), cutoff, dry_run=True, pairs_closed=len(waiting))
    now = timezone.now()
    with transaction.atomic():
        # The files first: a file's commit locks its import before it takes the lock below.
        HouseholdImport.objects.filter(pk__in=import_ids).update(content=b"", problems=[], duplicates=[])
        # The job's copy of a refused file's problems goes with the file's own.
        Job.objects.filter(pk__in=job_ids).update(problems=[])
        if ids:
            # The households' blocking keys go: a registration or a file's commit at the same moment
            # reads the registry before or after, not during.
            matching_lock()
        for start in range(0, len(ids), 2_000):
            part = ids[start : start + 2_000]
            Household.objects.filter(pk__in=part).update(
                head_name="",
                father_or_husband_name="",
                document_number="",
                phone="",
                origin_village="",
                other_vulnerability="",
                anonymised_at=now,
            )
            MatchKey.objects.filter(household_id__in=part).delete()
            HouseholdCard.objects.filter(household_id__in=part, voided_at__isnull=True).update(
                voided_at=now, void_reason="household anonymised"
            )
            HandoverDelivery.objects.filter(
                Q(handover__household_id__in=part) | Q(handover__received_by_household_id__in=part)
            ).update(collected_by="")
        closed = _pairs_waiting(ids)
        for start in range(0, len(closed), 2_000):
            DuplicatePair.objects.filter(
                pk__in=closed[start : start + 2_000], status=PairStatus.PENDING
            ).update(status=PairStatus.CLOSED, decided_at=now, decided_by=None)
        audit_record(
            actor=actor,
            action="household.anonymise",
            object_type="household",
            after={
                "households": len(ids),
                "retention_days": retention_days,
                "cutoff": cutoff.isoformat(),
                "imports_cleared": len(import_ids),
                "import_jobs_cleared": len(job_ids),
                "ids": household_runs(ids),  # every household anonymised, as runs ("482-1076")
                "pairs_closed": closed,
            },
        )
    return AnonymiseResult(len(ids), len(import_ids), cutoff, dry_run=False, pairs_closed=len(closed))


def _pairs_waiting(household_ids: Sequence[int]) -> list[int]:
    """The pairs of likely duplicates waiting for a decision that name one of these households."""
    found: set[int] = set()
    for start in range(0, len(household_ids), 2_000):
        part = household_ids[start : start + 2_000]
        found.update(
            DuplicatePair.objects.filter(status=PairStatus.PENDING)
            .filter(Q(first_id__in=part) | Q(second_id__in=part))
            .values_list("pk", flat=True)
        )
    return sorted(found)
