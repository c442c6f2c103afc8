"""Duplicates: the batch run fills the review queue; a merge re-points handovers (the ledger is
never touched), flags double receipts and keeps the audit; "different" is never proposed again."""

from __future__ import annotations

import pytest

from reliefops.core.errors import Conflict, InvalidInput
from reliefops.core.models import AuditEvent
from reliefops.households.models import (
    DuplicatePair,
    DuplicateRun,
    Entitlement,
    Handover,
    HouseholdCard,
    HouseholdStatus,
    MatchKey,
    PairStatus,
)
from reliefops.households.selectors import (
    duplicate_queue,
    likely_duplicates,
    matching_person,
    round_reconciliation,
)
from reliefops.households.services import (
    cards_issue,
    duplicates,
    duplicates_run,
    handover_record,
    household_merge,
    pair_decide,
    round_make_list,
)
from reliefops.stock.models import Movement, MovementLine
from tests.households.conftest import DAY, receive, register, winter_round


def family(op):
    """One family registered three times (spelt otherwise, without the card, by the wife) and a
    brother of the head in the same village with his own card."""
    first = register(op)
    again = register(op, head_name="Mohd. Aslam", document_type="none", document_number="")
    wife = register(
        op,
        head_name="Zainab Bibi",
        father_or_husband_name="Muhammad Aslam",
        head_sex="female",
        document_number="13503-7654321-2",
    )
    brother = register(
        op,
        head_name="Muhammad Akram",
        document_number="13503-5554443-1",
        members={"males_6_17": 2},
        phone="0333-7654321",
    )
    return first, again, wife, brother


def test_a_run_queues_the_likely_pairs_once_and_leaves_out_the_brother(op):
    # given one family registered three times and a brother in the same village
    first, again, wife, _brother = family(op)
    DuplicatePair.objects.all().delete()  # the queue the registrations filled: the run must find them itself
    # when the batch run compares the registry
    result = duplicates_run(actor=op.registrar)
    # then the three registrations of the family are queued in pairs, the brother in none
    pairs = set(DuplicatePair.objects.values_list("first_id", "second_id"))
    assert pairs == {(first.pk, again.pk), (first.pk, wife.pk), (again.pk, wife.pk)}
    assert result.run.queued == 3
    assert result.stats.households == 4
    assert all(pair.run == result.run for pair in DuplicatePair.objects.all())
    # and a second run queues nothing again
    assert duplicates_run(actor=op.registrar).run.queued == 0
    assert DuplicateRun.objects.count() == 2


def test_a_run_counts_only_the_pairs_it_queued_itself_not_those_queued_meanwhile(op, monkeypatch):
    # given one family registered three times, its pairs not yet queued
    first, again, wife, _brother = family(op)
    DuplicatePair.objects.all().delete()
    real = duplicates.find_duplicates

    def and_meanwhile(*args, **kwargs):
        found = real(*args, **kwargs)
        # another search (or a registration) queues one of the pairs while this one compares
        DuplicatePair.objects.create(first=first, second=again, score=90, reasons=["same CNIC"])
        return found

    monkeypatch.setattr(duplicates, "find_duplicates", and_meanwhile)
    # when the search writes what it found
    result = duplicates_run(actor=op.registrar)
    # then it counts the two pairs it queued, not the one queued by the other
    assert result.run.queued == 2
    assert set(DuplicatePair.objects.filter(run=result.run).values_list("first_id", "second_id")) == {
        (first.pk, wife.pk),
        (again.pk, wife.pk),
    }
    assert AuditEvent.objects.get(action="household.duplicates_run").after["queued"] == 2


def test_different_is_remembered_and_never_proposed_again(op):
    first, again, _, _ = family(op)
    pair = DuplicatePair.objects.get(first=first, second=again)
    result = pair_decide(actor=op.registrar, pair_id=pair.pk, same=False)
    assert "will not be proposed again" in result.message
    # not at registration time, not in a run, not in the queue
    assert again.pk not in [m.second_id for m in likely_duplicates(matching_person(first))]
    duplicates_run(actor=op.registrar)
    assert DuplicatePair.objects.filter(first=first, second=again).count() == 1
    assert pair not in duplicate_queue()
    # a repeated decision changes nothing and says so; merging it now is refused
    assert pair_decide(actor=op.registrar, pair_id=pair.pk, same=False).replayed
    with pytest.raises(Conflict, match="different households"):
        pair_decide(actor=op.registrar, pair_id=pair.pk, same=True, survivor_id=first.pk)


def test_a_merge_repoints_handovers_flags_the_double_receipt_and_keeps_the_audit(op):
    # given a family registered twice, both served in the Winter Race round (one at each visit)
    first = register(op)
    again = register(op, head_name="Mohd. Aslam", document_type="none", document_number="")
    receive(op, op.bana, op.cgi, 100, "GRN-1")
    receive(op, op.bana, op.blanket, 100, "GRN-2")
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    early = handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=first.pk,
        collected_by="the head",
        handed_on=DAY,
    )
    late = handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=again.pk,
        collected_by="the head",
        handed_on=DAY,
    )
    ledger = list(MovementLine.objects.order_by("pk").values_list("pk", "movement_id", "item_id", "quantity"))
    movements = list(Movement.objects.order_by("pk").values_list("pk", "reference", "kind"))
    pair = DuplicatePair.objects.get(first=first, second=again)

    # when the reviewer decides they are one household, keeping the first
    result = pair_decide(actor=op.registrar, pair_id=pair.pk, same=True, survivor_id=first.pk)

    # then the second is kept as merged, pointing at the first, with no keys and no valid card
    again.refresh_from_db()
    assert again.status == HouseholdStatus.MERGED
    assert again.merged_into == first
    assert not MatchKey.objects.filter(household=again).exists()
    assert not HouseholdCard.objects.filter(household=again, voided_at__isnull=True).exists()
    # and both handovers now count for the first; the later one is a double receipt
    early.handover.refresh_from_db()
    late.handover.refresh_from_db()
    assert early.handover.household == late.handover.household == first
    assert late.handover.received_by_household == again
    assert (early.handover.double_receipt, late.handover.double_receipt) == (False, True)
    assert result.merge.double_receipts == [late.handover.pk]
    # and the second's entitlement is cancelled (the first is listed already)
    assert Entitlement.objects.get(household=again).cancel_reason.startswith(
        f"household merged into {first.pk}"
    )
    # and the ledger is untouched
    assert (
        list(MovementLine.objects.order_by("pk").values_list("pk", "movement_id", "item_id", "quantity"))
        == ledger
    )
    assert list(Movement.objects.order_by("pk").values_list("pk", "reference", "kind")) == movements
    # and the round counts the household once and lists the double receipt for follow-up
    report = round_reconciliation(round_obj)
    assert report.served_households == 1
    assert report.entitled_households == 1
    assert [h.pk for h in report.double_receipts] == [late.handover.pk]
    # and the audit keeps what happened, by id
    event = AuditEvent.objects.get(action="household.merge")
    assert event.object_id == str(again.pk)
    assert event.actor == op.registrar
    assert event.after["merged_into"] == first.pk
    assert event.after["double_receipts"] == [late.handover.pk]
    assert sorted(event.after["handovers_repointed"]) == [late.handover.pk]
    # and the pair says who survived; deciding it again changes nothing
    pair.refresh_from_db()
    assert (pair.status, pair.survivor) == (PairStatus.SAME, first)
    assert pair_decide(actor=op.registrar, pair_id=pair.pk, same=True, survivor_id=first.pk).replayed


def test_a_merge_moves_the_entitlement_of_a_household_not_listed_itself(op):
    first = register(op)
    round_obj = winter_round(op)
    later = register(op, head_name="Mohd. Aslam", document_type="none", document_number="", elevation_band="")
    round_make_list(actor=op.registrar, round_id=round_obj.pk)
    household_merge(actor=op.registrar, survivor_id=later.pk, merged_id=first.pk)
    assert Entitlement.objects.get(cancelled_at__isnull=True).household == later
    assert Handover.objects.count() == 0


def test_merge_refusals(op):
    first, again, _, _ = family(op)
    with pytest.raises(InvalidInput, match="into itself"):
        household_merge(actor=op.registrar, survivor_id=first.pk, merged_id=first.pk)
    pair = DuplicatePair.objects.get(first=first, second=again)
    with pytest.raises(InvalidInput, match="name the household that stays"):
        pair_decide(actor=op.registrar, pair_id=pair.pk, same=True, survivor_id=None)
    household_merge(actor=op.registrar, survivor_id=first.pk, merged_id=again.pk)
    with pytest.raises(Conflict, match="was merged into"):
        household_merge(actor=op.registrar, survivor_id=again.pk, merged_id=first.pk)
