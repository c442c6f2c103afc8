"""Two handovers to one household at the same moment, on the real database (SQLite or PostgreSQL):
one posts, the other is refused, and the ledger holds one movement."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from reliefops.core.errors import InvalidInput
from reliefops.households.models import (
    DuplicatePair,
    DuplicateRun,
    Handover,
    HandoverDelivery,
    Household,
    HouseholdCorrection,
)
from reliefops.households.services import (
    HandoverRefused,
    corrections,
    duplicates,
    duplicates_run,
    handover_record,
    household_update,
    registration,
)
from reliefops.stock.models import Movement, MovementKind
from reliefops.stock.selectors import ledger_verify
from tests.households.conftest import DAY, build_operation, household_input, receive, register, winter_round
from tests.stock.test_concurrency import run_in_threads

THREADS = 6


def _outcome(result) -> str:
    if isinstance(result, HandoverRefused):
        return "refused"
    if isinstance(result, Exception):
        return f"error: {result!r}"
    return "replayed" if result.replayed else "posted"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_key", [False, True], ids=["two-tablets", "one-tablet-sending-twice"])
def test_simultaneous_handovers_to_one_household_post_once(same_key):
    # given a listed household and stock for many packages at its point
    op = build_operation()
    household = register(op)
    receive(op, op.bana, op.cgi, 500, "GRN-1")
    receive(op, op.bana, op.blanket, 500, "GRN-2")
    round_obj = winter_round(op)

    # when several distributors record its handover at the same moment
    def work(i):
        return handover_record(
            actor=op.distributor,
            round_id=round_obj.pk,
            point_site_id=op.bana.pk,
            household_id=household.pk,
            collected_by="the head",
            handed_on=DAY,
            idempotency_key="tablet-1/7" if same_key else f"tablet-{i}/7",
        )

    outcomes = Counter(_outcome(r) for r in run_in_threads(work, THREADS))

    # then exactly one posted; the others were refused (or, with the same key, told it was done)
    expected = "replayed" if same_key else "refused"
    assert outcomes == Counter({"posted": 1, expected: THREADS - 1})
    assert Movement.objects.filter(kind=MovementKind.DISTRIBUTION).count() == 1
    assert HandoverDelivery.objects.count() == 1
    assert Handover.objects.count() == 1
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_two_corrections_giving_one_cnic_to_two_households_at_once_leave_it_with_one():
    # given two households registered without their cards
    op = build_operation()
    first = register(op, document_type="none", document_number="")
    second = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        document_type="none",
        document_number="",
        phone="",
    )

    # when two registrars give both the same CNIC at the same moment
    def work(i):
        return household_update(
            actor=op.registrar,
            household_id=(first, second)[i % 2].pk,
            changes={"document_type": "cnic", "document_number": "13503-1234567-1"},
            reason="card seen",
        )

    results = run_in_threads(work, 2)

    # then one is corrected and the other refused, naming the household that holds the CNIC
    corrected = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert (len(corrected), len(refused)) == (1, 1), results
    holder = corrected[0].household.pk
    assert f"already registered to household {holder}" in refused[0].problems[0].reason
    assert Household.objects.filter(document_number="1350312345671").count() == 1
    assert HouseholdCorrection.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_cnic_taken_by_another_correction_meanwhile_is_refused_not_shown_as_a_likely_duplicate(monkeypatch):
    # given a household that holds a CNIC, and a correction giving the same CNIC to another one
    # whose check of the holder ran before the first correction was committed (the race above,
    # made certain: the first look-up of the holder finds nobody)
    op = build_operation()
    holder = register(op, document_type="cnic", document_number="13503-1234567-1")
    other = register(op, head_name="Sher Zaman", father_or_husband_name="Gul Zaman", phone="",
                     document_type="none", document_number="")  # fmt: skip
    real = corrections._refuse_held
    calls = []

    def late(draft, household_id):
        calls.append(household_id)
        if len(calls) > 1:
            real(draft, household_id)

    monkeypatch.setattr(corrections, "_refuse_held", late)
    # when it is made, then it is refused, naming the holder, and not offered as a likely duplicate
    with pytest.raises(InvalidInput, match=f"already registered to household {holder.pk}"):
        household_update(
            actor=op.registrar,
            household_id=other.pk,
            changes={"document_type": "cnic", "document_number": "13503-1234567-1"},
            reason="card seen",
        )
    assert len(calls) == 2
    assert HouseholdCorrection.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_cnic_registered_meanwhile_is_refused_not_shown_as_a_likely_duplicate(monkeypatch):
    # given a household that holds a CNIC, and a registration of the same CNIC whose check of the
    # holder ran before that household was committed (its first look-up finds nobody)
    op = build_operation()
    holder = register(op, document_type="cnic", document_number="13503-1234567-1")
    real = registration._refuse_held_document
    calls = []

    def late(draft, row=None):
        calls.append(row)
        if len(calls) > 1:
            real(draft, row)

    monkeypatch.setattr(registration, "_refuse_held_document", late)
    # when it is registered (no likely duplicate confirmed), then it is refused, naming the holder,
    # and not offered as a likely duplicate
    with pytest.raises(InvalidInput, match=f"already registered to household {holder.pk}"):
        register(op, document_type="cnic", document_number="13503-1234567-1", seen=())
    assert len(calls) == 2
    assert Household.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_searches_at_once_count_each_new_pair_once(monkeypatch):
    # given one family registered twice, its pair not yet queued
    op = build_operation()
    first = register(op)
    register(op, head_name="Mohd. Aslam", document_type="none", document_number="")
    DuplicatePair.objects.all().delete()
    # and two searches that both compare the registry before either writes what it found
    real = duplicates.find_duplicates
    both_compared = threading.Barrier(2)

    def compared_together(*args, **kwargs):
        found = real(*args, **kwargs)
        both_compared.wait(timeout=30)
        return found

    monkeypatch.setattr(duplicates, "find_duplicates", compared_together)
    # when they run at the same moment
    results = run_in_threads(lambda i: duplicates_run(actor=op.registrar), 2)
    # then the pair is queued once, and counted by one search only
    assert not [r for r in results if isinstance(r, Exception)]
    assert DuplicatePair.objects.filter(first=first).count() == 1
    assert sorted(r.run.queued for r in results) == [0, 1]
    assert sorted(DuplicateRun.objects.values_list("queued", flat=True)) == [0, 1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("document_type", "document_number"),
    [("none", ""), ("cnic", "13503-7654321-1")],
    ids=["likely-duplicate", "same-cnic"],
)
def test_a_second_click_that_meets_the_household_the_first_registered_replays_it(
    monkeypatch, document_type, document_number
):
    # given a registered household, and the family typed in again and confirmed as another
    # household after the likely-duplicate warning
    op = build_operation()
    existing = register(op)
    data = household_input(
        head_name="Mohd Aslam", document_type=document_type, document_number=document_number
    )
    # when "register it" is clicked twice, and the first click's household is committed after the
    # second looked its key up (finding none) and before it looks for duplicates
    real = registration._refuse_held_document
    first = []

    def first_commits_meanwhile(draft, row=None):
        if not first:
            monkeypatch.setattr(registration, "_refuse_held_document", real)
            first.append(
                registration.household_register(
                    actor=op.registrar, data=data, duplicates_seen=[existing.pk], idempotency_key="form-7"
                )
            )
        real(draft, row)

    monkeypatch.setattr(registration, "_refuse_held_document", first_commits_meanwhile)
    second = registration.household_register(
        actor=op.registrar, data=data, duplicates_seen=[existing.pk], idempotency_key="form-7"
    )
    # then the second replays the first: one household registered, and the page goes to it
    assert first
    assert second.replayed
    assert second.household == first[0].household
    assert Household.objects.count() == 2
