"""Two handovers to one household at the same moment, on the real database (SQLite or PostgreSQL):
one posts, the other is refused, and the ledger holds one movement. Two look-alike households
registered at the same moment are queued as a pair."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections

from reliefops.core.errors import InvalidInput
from reliefops.households.models import (
    DuplicatePair,
    DuplicateRun,
    Handover,
    HandoverDelivery,
    Household,
    HouseholdCorrection,
    HouseholdImport,
    ImportStatus,
)
from reliefops.households.services import (
    HandoverRefused,
    corrections,
    duplicates,
    duplicates_run,
    handover_record,
    household_update,
    imports,
    registration,
)
from reliefops.stock.models import Movement, MovementKind
from reliefops.stock.selectors import ledger_verify
from tests.households.conftest import DAY, build_operation, household_input, receive, register, winter_round
from tests.stock.test_concurrency import run_in_threads

THREADS = 6
ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgres")


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


@pytest.mark.django_db(transaction=True)
def test_a_correction_sent_twice_at_once_with_one_key_is_saved_once_and_the_second_says_so(monkeypatch):
    # given a household, and its correction form submitted twice (a double click), the first
    # submission committed after the second looked its key up (finding none) and before it reads
    # the household
    op = build_operation()
    household = register(op)
    real = corrections.matching_lock
    first = []

    def first_commits_meanwhile():
        if not first:
            monkeypatch.setattr(corrections, "matching_lock", real)
            first.append(correct())
        real()

    def correct():
        return household_update(
            actor=op.registrar,
            household_id=household.pk,
            changes={"phone": "0345-7654321"},
            reason="new phone",
            idempotency_key="form-3",
        )

    monkeypatch.setattr(corrections, "matching_lock", first_commits_meanwhile)
    second = correct()
    # then the second is the first one's submission, saved before, not a correction that found
    # nothing to change
    assert first
    assert first[0].fields == ["phone"]
    assert second.replayed
    assert second.correction == first[0].correction
    assert "saved before: nothing changed" in second.message
    assert HouseholdCorrection.objects.count() == 1


def pause_after_first_call(monkeypatch, module, name):
    """Make the first call of `module.name`, once it has run, wait until `go` is set (inside the
    transaction that made it); `reached` is set when it waits, and `calls` holds each call's
    arguments."""
    real = getattr(module, name)
    reached, go = threading.Event(), threading.Event()
    calls = []

    def paused(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(args)
        if len(calls) == 1:
            reached.set()
            go.wait(timeout=60)
        return result

    monkeypatch.setattr(module, name, paused)
    return reached, go, calls


def _waits_for_a_lock() -> bool:
    """Whether a connection to this database waits for an advisory lock (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0] > 0


def second_while_first_paused(first, second, reached, go):
    """Run `first` in a thread until it pauses, then `second` in another; the first goes on once the
    second has ended or waits for a lock. Returns what each returned or raised, and whether the
    second was still waiting when the first went on."""
    results = {}

    def run(name, work):
        try:
            results[name] = work()
        except Exception as exc:
            results[name] = exc
        finally:
            connections.close_all()

    one = threading.Thread(target=run, args=("first", first))
    two = threading.Thread(target=run, args=("second", second))
    one.start()
    try:
        assert reached.wait(timeout=30), "the first never reached its pause"
        two.start()
        deadline = time.monotonic() + 30
        while two.is_alive() and not _waits_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.02)
        waited = two.is_alive()
    finally:
        go.set()
        one.join(timeout=60)
        if two.ident is not None:  # started
            two.join(timeout=60)
    return results.get("first"), results.get("second"), waited


LOOK_ALIKE = {"head_name": "Mohd. Aslam", "document_type": "none", "document_number": ""}


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="on SQLite the write lock makes registrations follow one another"
)
@pytest.mark.django_db(transaction=True)
def test_two_look_alikes_registered_at_the_same_moment_are_queued_as_a_pair(monkeypatch):
    # given one family registered at two desks at the same moment: the first registration has
    # sought its likely duplicates (none) and written the household, and has not yet committed
    op = build_operation()
    reached, go, written = pause_after_first_call(monkeypatch, registration, "store_match_keys")

    def first():
        return registration.household_register(actor=op.registrar, data=household_input())

    def second():
        ((first_id,),) = written[0]
        return registration.household_register(
            actor=op.registrar, data=household_input(**LOOK_ALIKE), duplicates_seen=[first_id]
        )

    # when the second is registered meanwhile
    one, two, waited = second_while_first_paused(first, second, reached, go)

    # then the second waited for the first, found it, and the pair went to the review queue
    assert not isinstance(one, Exception), one
    assert not isinstance(two, Exception), two
    assert DuplicatePair.objects.filter(first=one.household, second=two.household).exists()
    assert [m.second_id for m in two.duplicates] == [one.household.pk]
    assert waited


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="on SQLite the write lock makes registrations follow one another"
)
@pytest.mark.django_db(transaction=True)
def test_a_look_alike_registered_while_a_file_is_written_is_queued_with_the_files_household(monkeypatch):
    # given a registration file's household being written: its likely duplicates sought again, among
    # them the households changed since the file was matched, and the transaction not yet committed
    op = build_operation()
    draft, problems = registration.household_check(
        household_input(), lookups=registration.Lookups.load(), row=2
    )
    assert not problems
    reached, go, queued = pause_after_first_call(monkeypatch, registration, "_queue_file_pairs")

    def file_commit():
        return registration.households_register_many(actor=op.registrar, drafts=[(2, draft)])

    def desk():
        (file_ids, _) = queued[0]
        return registration.household_register(
            actor=op.registrar, data=household_input(**LOOK_ALIKE), duplicates_seen=list(file_ids)
        )

    # when a clerk registers a look-alike of the file's household meanwhile
    written, registered, waited = second_while_first_paused(file_commit, desk, reached, go)

    # then the registration waited for the file, found its household, and the pair was queued
    assert not isinstance(written, Exception), written
    assert not isinstance(registered, Exception), registered
    (from_file,) = written
    assert DuplicatePair.objects.filter(first=from_file, second=registered.household).exists()
    assert [m.second_id for m in registered.duplicates] == [from_file.pk]
    assert waited


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="on SQLite the write lock makes corrections follow registrations"
)
@pytest.mark.django_db(transaction=True)
def test_a_correction_into_a_look_alike_of_a_household_registered_meanwhile_is_queued_with_it(monkeypatch):
    # given another family's household, and a registration written but not yet committed
    op = build_operation()
    other = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        document_type="none",
        document_number="",
        phone="",
    )
    reached, go, written = pause_after_first_call(monkeypatch, registration, "store_match_keys")

    def first():
        return registration.household_register(actor=op.registrar, data=household_input())

    def correction():
        ((first_id,),) = written[0]
        return household_update(
            actor=op.registrar,
            household_id=other.pk,
            changes={"head_name": "Mohd. Aslam", "father_or_husband_name": "Ghulam Rasool"},
            reason="names mistyped at registration",
            duplicates_seen=[first_id],
        )

    # when the other household's names are corrected into the registered family's meanwhile
    one, corrected, waited = second_while_first_paused(first, correction, reached, go)

    # then the correction waited for the registration, found it, and the pair was queued
    assert not isinstance(one, Exception), one
    assert not isinstance(corrected, Exception), corrected
    first_id, second_id = sorted((one.household.pk, other.pk))
    assert DuplicatePair.objects.filter(first_id=first_id, second_id=second_id).exists()
    assert [m.second_id for m in corrected.duplicates] == [one.household.pk]
    assert waited


@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="on SQLite the write lock makes the two checks follow one another"
)
@pytest.mark.django_db(transaction=True)
def test_two_checks_of_one_file_at_the_same_moment_keep_one_copy(monkeypatch):
    # given one registrar's two clicks on Check for one file: the first check has looked for a
    # waiting check of the file (none), kept its own and not yet committed
    op = build_operation()
    content = (
        b"head_name,head_sex,females_18_59,origin,house_damage,consent\n"
        b"Zainab Bibi,female,1,PK50401,destroyed,yes\n"
    )
    reached, go, _ = pause_after_first_call(monkeypatch, imports, "audit_record")

    def check():
        return imports.household_import_preview(actor=op.registrar, filename="a.csv", content=content)

    # when the second check runs meanwhile
    one, two, waited = second_while_first_paused(check, check, reached, go)

    # then it waited for the first and answered with it: one copy of the file is kept
    assert not isinstance(one, Exception), one
    assert not isinstance(two, Exception), two
    assert waited
    assert two.repeated
    assert two.batch == one.batch
    assert HouseholdImport.objects.filter(status=ImportStatus.PREVIEWED).count() == 1
