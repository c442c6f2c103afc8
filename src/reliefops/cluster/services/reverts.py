"""Reverting a 4W import batch exactly: the versions it added removed, those it closed current again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.cluster.services import bulk
from reliefops.cluster.services.report_plan import locked_months
from reliefops.cluster.services.report_types import (
    Actor,
    month_label,
)
from reliefops.core.errors import Conflict, NotFound
from reliefops.core.services import audit_record, stored_user
from reliefops.core.text import series


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
