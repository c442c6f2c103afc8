"""Duplicate households: the batch run that fills the review queue, and a person's decision on a pair.

A merge keeps one household (the survivor) and marks the other as merged into it. The merged
household's handovers are re-pointed to the survivor — the ledger movements they posted are never
touched — and where both had received the same round's package, the later handover is flagged as a
double receipt, listed in that round's reconciliation for follow-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem
from reliefops.core.services import audit_record, stored_user
from reliefops.core.text import counted
from reliefops.households.matching import LIKELY_DUPLICATE, METHOD_VERSION, RunStats, find_duplicates
from reliefops.households.models import (
    DuplicatePair,
    DuplicateRun,
    Entitlement,
    Handover,
    Household,
    HouseholdCard,
    HouseholdStatus,
    MatchKey,
    PairStatus,
)
from reliefops.households.selectors import decided_pairs, people_for_matching
from reliefops.households.services.registration import matching_lock


@dataclass(frozen=True)
class RunResult:
    run: DuplicateRun
    stats: RunStats


def duplicates_run(
    *,
    actor: Any,
    threshold: int = LIKELY_DUPLICATE,
    progress: Callable[[str, int, int], None] | None = None,
    before_commit: Callable[[RunResult], None] | None = None,
) -> RunResult:
    """Compare the whole registry with itself and queue every likely pair not seen before.

    Pairs already decided (merged or "different") and pairs already in the queue are not queued
    again. The registry is read outside a transaction; the new pairs are written in one.
    `before_commit(result)`, if given, is called inside that transaction just before its commit
    (a job's end goes in with the pairs).
    """
    if not 50 <= threshold <= 100:
        raise InvalidInput([Problem(None, "threshold", "a score from 50 to 100")])
    started = time.perf_counter()
    if progress:
        progress("reading the registry", 0, 0)
    known = decided_pairs([PairStatus.SAME, PairStatus.DIFFERENT, PairStatus.CLOSED, PairStatus.PENDING])

    def step(done: int, total: int) -> None:
        if progress:
            progress("comparing", done, total)

    matches, stats = find_duplicates(people_for_matching(), threshold=threshold, skip=known, progress=step)
    with transaction.atomic():
        run = DuplicateRun.objects.create(
            started_by=stored_user(actor),
            method=METHOD_VERSION,
            threshold=threshold,
            households=stats.households,
            compared=stats.compared,
            found=stats.found,
        )
        # A pair queued meanwhile (by another search, or at a registration) is left as it is; the
        # insert skips it without saying so, and so the pairs this run queued are those that name it.
        DuplicatePair.objects.bulk_create(
            [
                DuplicatePair(
                    first_id=m.first_id,
                    second_id=m.second_id,
                    score=m.score,
                    reasons=list(m.reasons),
                    run=run,
                )
                for m in matches
            ],
            batch_size=2_000,
            ignore_conflicts=True,
        )
        run.queued = DuplicatePair.objects.filter(run=run).count()
        run.finished_at = timezone.now()
        run.seconds = round(time.perf_counter() - started, 2)
        run.save(update_fields=["queued", "finished_at", "seconds"])
        audit_record(
            actor=actor,
            action="household.duplicates_run",
            object_type="duplicate_run",
            object_id=run.pk,
            after={
                "households": stats.households,
                "compared": stats.compared,
                "queued": run.queued,
                "threshold": threshold,
                "oversized_blocks": stats.oversized_blocks,
            },
        )
        result = RunResult(run, stats)
        if before_commit is not None:
            before_commit(result)
    return result


@dataclass(frozen=True)
class MergeResult:
    survivor: Household
    merged: Household
    handovers_repointed: list[int] = field(default_factory=list)
    double_receipts: list[int] = field(default_factory=list)
    entitlements_cancelled: list[int] = field(default_factory=list)
    replayed: bool = False

    @property
    def message(self) -> str:
        if self.replayed:
            return f"Household {self.merged.pk} was already merged into {self.survivor.pk}: nothing changed."
        text = f"Household {self.merged.pk} merged into {self.survivor.pk}"
        if self.handovers_repointed:
            repointed = len(self.handovers_repointed)
            count = "counts" if repointed == 1 else "count"
            text += f"; {counted(repointed, 'handover')} now {count} for {self.survivor.pk}"
        if self.double_receipts:
            text += f"; {counted(len(self.double_receipts), 'double receipt')} flagged for follow-up"
        return text + "."


def _first_delivered(handover: Handover) -> tuple[Any, int]:
    first = handover.deliveries.aggregate(at=Min("recorded_at"))["at"]
    return (first or handover.created_at, handover.pk)


def household_merge(*, actor: Any, survivor_id: int, merged_id: int) -> MergeResult:
    """Merge one household into another: the merged one is kept with a pointer, its handovers and
    entitlements move to the survivor, a round served twice is flagged as a double receipt."""
    if survivor_id == merged_id:
        raise InvalidInput([Problem(None, "survivor", "a household cannot be merged into itself")])
    with transaction.atomic():
        # The merged household's blocking keys go: a registration or a file's commit at the same
        # moment reads the registry before or after the merge, not during it.
        matching_lock()
        locked = {
            h.pk: h
            for h in Household.objects.select_for_update()
            .filter(pk__in=[survivor_id, merged_id])
            .order_by("pk")
        }
        survivor, merged = locked.get(survivor_id), locked.get(merged_id)
        if survivor is None or merged is None:
            raise NotFound(f"no household {survivor_id if survivor is None else merged_id}")
        if merged.status == HouseholdStatus.MERGED and merged.merged_into_id == survivor_id:
            return MergeResult(survivor, merged, replayed=True)
        for household in (survivor, merged):
            if household.status != HouseholdStatus.ACTIVE:
                raise Conflict(f"household {household.pk} was merged into {household.merged_into_id} already")
            if household.anonymised_at is not None:
                raise Conflict(f"household {household.pk} is anonymised: it can no longer be compared")
        now = timezone.now()

        cancelled: list[int] = []
        for entitlement in Entitlement.objects.select_for_update().filter(
            household=merged, cancelled_at__isnull=True
        ):
            if Entitlement.objects.filter(
                round_id=entitlement.round_id, household=survivor, cancelled_at__isnull=True
            ).exists():
                entitlement.cancelled_at = now
                entitlement.cancel_reason = (
                    f"household merged into {survivor.pk}, which is listed in this round"
                )
                entitlement.save(update_fields=["cancelled_at", "cancel_reason"])
                cancelled.append(entitlement.pk)
            else:
                entitlement.household = survivor
                entitlement.save(update_fields=["household"])

        repointed: list[int] = []
        doubles: list[int] = []
        for handover in Handover.objects.select_for_update().filter(household=merged).order_by("pk"):
            if not handover.double_receipt:
                kept = Handover.objects.filter(
                    round_id=handover.round_id, household=survivor, double_receipt=False
                ).first()
                if kept is not None:
                    later, earlier = sorted([handover, kept], key=_first_delivered, reverse=True)
                    later.double_receipt = True
                    later.double_receipt_note = (
                        f"households {merged.pk} and {survivor.pk} were one; both received round "
                        f"{handover.round.code} (first by handover {earlier.pk})"
                    )
                    later.save(update_fields=["double_receipt", "double_receipt_note"])
                    doubles.append(later.pk)
            handover.household = survivor
            handover.save(update_fields=["household"])
            repointed.append(handover.pk)

        HouseholdCard.objects.filter(household=merged, voided_at__isnull=True).update(
            voided_at=now, void_reason=f"household merged into {survivor.pk}"
        )
        MatchKey.objects.filter(household=merged).delete()
        merged.status = HouseholdStatus.MERGED
        merged.merged_into = survivor
        merged.merged_at = now
        merged.save(update_fields=["status", "merged_into", "merged_at"])

        first, second = sorted((survivor.pk, merged.pk))
        pair, _ = DuplicatePair.objects.get_or_create(
            first_id=first, second_id=second, defaults={"score": 0, "reasons": ["merged by hand"]}
        )
        pair.status = PairStatus.SAME
        pair.survivor = survivor
        pair.decided_at = now
        pair.decided_by = stored_user(actor)
        pair.save(update_fields=["status", "survivor", "decided_at", "decided_by"])
        audit_record(
            actor=actor,
            action="household.merge",
            object_type="household",
            object_id=merged.pk,
            before={"status": HouseholdStatus.ACTIVE},
            after={
                "status": HouseholdStatus.MERGED,
                "merged_into": survivor.pk,
                "pair": pair.pk,
                "handovers_repointed": repointed,
                "double_receipts": doubles,
                "entitlements_cancelled": cancelled,
            },
        )
    return MergeResult(survivor, merged, repointed, doubles, cancelled)


@dataclass(frozen=True)
class DecisionResult:
    pair: DuplicatePair
    merge: MergeResult | None = None
    replayed: bool = False

    @property
    def message(self) -> str:
        if self.merge is not None:
            return self.merge.message
        pair = f"{self.pair.first_id} and {self.pair.second_id}"
        if self.replayed:
            return f"Households {pair} were already marked different: nothing changed."
        return f"Households {pair} are different: they will not be proposed again."


def pair_decide(*, actor: Any, pair_id: int, same: bool, survivor_id: int | None = None) -> DecisionResult:
    """Decide a pair: the same household (merge into `survivor_id`) or different (remembered)."""
    with transaction.atomic():
        if same:
            # Taken before any row lock, as the merge below does (it takes it again, which holds it
            # no longer): a decision and a merge of one pair never wait for each other's rows.
            matching_lock()
        pair = DuplicatePair.objects.select_for_update().filter(pk=pair_id).first()
        if pair is None:
            raise NotFound(f"no duplicate pair {pair_id}")
        ids = {pair.first_id, pair.second_id}
        if pair.status == PairStatus.CLOSED:
            raise Conflict(
                "this pair was closed when a household of it was anonymised: its names and documents are "
                "gone, and there is nothing left to compare"
            )
        if same:
            if survivor_id not in ids:
                raise InvalidInput(
                    [
                        Problem(
                            None,
                            "survivor",
                            f"name the household that stays: {pair.first_id} or {pair.second_id}",
                        )
                    ]
                )
            if pair.status == PairStatus.DIFFERENT:
                raise Conflict("this pair was decided to be two different households")
            (merged_id,) = ids - {survivor_id}
            if pair.status == PairStatus.SAME:
                if pair.survivor_id == survivor_id:
                    result = household_merge(actor=actor, survivor_id=survivor_id, merged_id=merged_id)
                    return DecisionResult(pair, result, replayed=True)
                raise Conflict(f"this pair was merged already, keeping household {pair.survivor_id}")
            merge = household_merge(actor=actor, survivor_id=survivor_id, merged_id=merged_id)
            pair.refresh_from_db()
            return DecisionResult(pair, merge)
        if pair.status == PairStatus.DIFFERENT:
            return DecisionResult(pair, replayed=True)
        if pair.status == PairStatus.SAME:
            raise Conflict(f"this pair was merged already, keeping household {pair.survivor_id}")
        pair.status = PairStatus.DIFFERENT
        pair.decided_at = timezone.now()
        pair.decided_by = stored_user(actor)
        pair.save(update_fields=["status", "decided_at", "decided_by"])
        audit_record(
            actor=actor,
            action="household.pair_different",
            object_type="duplicate_pair",
            object_id=pair.pk,
            before={"status": PairStatus.PENDING},
            after={"status": PairStatus.DIFFERENT, "households": sorted(ids)},
        )
    return DecisionResult(pair)
