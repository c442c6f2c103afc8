"""Personal data: exports leave it out without the export right; views and exports are audited;
anonymisation past retention removes it and keeps the counts and the ledger."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from reliefops.core.errors import Conflict
from reliefops.core.models import AuditEvent, Job
from reliefops.households import jobs
from reliefops.households.models import (
    DuplicatePair,
    HandoverDelivery,
    Household,
    HouseholdCard,
    HouseholdImport,
    MatchKey,
    PairStatus,
)
from reliefops.households.selectors import duplicate_queue, household_counts, round_reconciliation
from reliefops.households.services import (
    cards_issue,
    duplicates_run,
    handover_record,
    household_import_preview,
    households_anonymise,
    households_export,
    pair_decide,
    personal_data_viewed,
)
from reliefops.households.services.privacy import household_runs
from reliefops.stock.models import Movement, MovementLine
from tests.households.conftest import receive, register, winter_round
from tests.jobs_worker import run_jobs


def _rows(export):
    return list(csv.reader(io.StringIO(export.content.decode())))


def test_an_export_leaves_personal_fields_out_unless_asked_with_the_right_and_is_audited(op):
    register(op)
    without = households_export(
        actor=op.registrar, households=Household.objects.all(), with_personal_data=False, where="test"
    )
    header, hxl, _ = _rows(without)
    assert not {"head_name", "father_or_husband_name", "document_number", "phone"} & set(header)
    assert hxl[0] == "#household+id"
    assert "Aslam" not in without.content.decode()
    with_data = households_export(
        actor=op.registrar, households=Household.objects.all(), with_personal_data=True, where="test"
    )
    assert "13503-1234567-1" in with_data.content.decode()
    events = list(
        AuditEvent.objects.filter(action="household.export").order_by("pk").values_list("after", flat=True)
    )
    assert [e["personal_data"] for e in events] == [False, True]
    assert all("Aslam" not in str(e) for e in events)


def test_a_view_of_personal_data_is_an_audit_event_naming_households_by_id(op):
    household = register(op)
    personal_data_viewed(actor=op.registrar, household_ids=[household.pk], where="household page")
    event = AuditEvent.objects.get(action="household.view_personal_data")
    assert event.object_id == str(household.pk)
    assert event.after == {"where": "household page", "households": [household.pk], "count": 1}


def test_an_export_or_view_of_more_than_500_households_names_every_one_in_its_audit_event(op):
    # given 600 households, one of them (the 481st) merged away
    first = register(op)
    copies = []
    for n in range(599):
        copy = Household.objects.get(pk=first.pk)
        copy.pk = None
        copy.document_type, copy.document_number, copy.head_name = "none", "", f"Copy {n}"
        copies.append(copy)
    Household.objects.bulk_create(copies)
    ids = sorted(Household.objects.values_list("pk", flat=True))
    gap = ids[480]
    Household.objects.filter(pk=gap).delete()
    kept = Household.objects.all()
    # when they are exported with their names, and all seen at once
    export = households_export(actor=op.registrar, households=kept, with_personal_data=True, where="test")
    personal_data_viewed(actor=op.registrar, household_ids=[h.pk for h in kept], where="printed list")
    # then each audit event names every household, the last one too, as runs of numbers
    runs = [f"{ids[0]}-{ids[479]}", f"{ids[481]}-{ids[-1]}"]
    exported = AuditEvent.objects.get(action="household.export").after
    assert (export.rows, exported["rows"], exported["households"]) == (599, 599, runs)
    viewed = AuditEvent.objects.get(action="household.view_personal_data").after
    assert (viewed["count"], viewed["households"]) == (599, runs)


def test_households_are_recorded_alone_or_as_runs_of_three_or_more_numbers():
    assert household_runs([]) == []
    assert household_runs([7]) == [7]
    assert household_runs([5, 4, 9, 9]) == [4, 5, 9]
    assert household_runs([1, 2, 3, 5, 6, 8, 10, 11, 12, 13]) == ["1-3", 5, 6, 8, "10-13"]
    assert household_runs(range(1, 100_001)) == ["1-100000"]


def test_anonymise_removes_personal_data_past_retention_and_keeps_counts_and_ledger(op):
    # given a household served in December 2005 and one registered recently
    old = register(op)
    receive(op, op.bana, op.cgi, 30, "GRN-1")
    receive(op, op.bana, op.blanket, 30, "GRN-2")
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=old.pk,
        collected_by="Ali, his son",
        handed_on=dt.date(2005, 12, 1),
    )
    recent = register(
        op,
        head_name="Sher Zaman",
        document_number="13503-0000002-1",
        registered_on=dt.date(2007, 6, 1),
        phone="",
    )
    counts = household_counts()
    ledger = (Movement.objects.count(), list(MovementLine.objects.values_list("pk", "quantity")))
    report = round_reconciliation(round_obj)

    # when a dry run, then the anonymisation, runs on 1 Jan 2008 with two years' retention
    dry = households_anonymise(actor=None, retention_days=365, today=dt.date(2008, 1, 1), dry_run=True)
    assert dry.households == 1
    assert Household.objects.get(pk=old.pk).head_name == "Muhammad Aslam"
    result = households_anonymise(actor=None, retention_days=365, today=dt.date(2008, 1, 1))

    # then the old household has no name, number, phone or village left, no keys and no valid card
    old.refresh_from_db()
    assert result.households == 1
    assert (
        old.head_name,
        old.father_or_husband_name,
        old.document_number,
        old.phone,
        old.origin_village,
    ) == ("",) * 5
    assert old.anonymised_at is not None
    assert not MatchKey.objects.filter(household=old).exists()
    assert not HouseholdCard.objects.filter(household=old, voided_at__isnull=True).exists()
    assert HandoverDelivery.objects.get().collected_by == ""
    # and the recent one is untouched
    recent.refresh_from_db()
    assert recent.head_name == "Sher Zaman"
    # and the counts, the round's figures and the ledger are as before
    assert household_counts().active == counts.active
    assert household_counts().members == counts.members
    assert round_reconciliation(round_obj).items == report.items
    assert (Movement.objects.count(), list(MovementLine.objects.values_list("pk", "quantity"))) == ledger
    # and running it again finds nothing more
    assert households_anonymise(actor=None, retention_days=365, today=dt.date(2008, 1, 1)).households == 0
    event = AuditEvent.objects.filter(action="household.anonymise").order_by("pk").first()
    assert event.after["households"] == 1
    assert event.after["ids"] == [old.pk]  # every household anonymised is named by its number
    assert "Aslam" not in str(event.after)


def test_anonymise_clears_the_problems_a_refused_import_job_kept(op):
    # given a file refused in the background for a mistyped CNIC, and one refused at its commit
    header = "head_name,head_sex,document_number,females_18_59,origin,house_damage,consent\n"
    typed = header + "Zainab Bibi,female,37405-123456-7,1,PK50401,destroyed,yes\n"
    jobs.import_preview_start(owner=op.registrar, filename="typed.csv", content=typed.encode())
    clean = household_import_preview(
        actor=op.registrar,
        filename="clean.csv",
        content=(header + "Gul Bibi,female,13503-7777777-2,1,PK50401,destroyed,yes\n").encode(),
    ).batch
    register(op, head_name="Gul Jan", document_number="13503-7777777-2", phone="")
    jobs.import_commit_start(owner=op.registrar, import_id=clean.pk, filename=clean.filename)
    run_jobs()
    refused = Job.objects.get(kind=jobs.IMPORT_PREVIEW)
    at_commit = Job.objects.get(kind=jobs.IMPORT_COMMIT)
    # (their problems name the line, column and reason, not the number typed)
    assert [(p["row"], p["field"]) for p in refused.problems] == [(2, "document_number")]
    assert "37405-123456-7" not in str(refused.problems)
    assert "already registered" in str(at_commit.problems)
    HouseholdImport.objects.filter(pk=clean.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    # when the personal data past retention is removed
    households_anonymise(actor=None, retention_days=30, today=dt.date(2005, 11, 21))
    # then the jobs' copies of the problems go with the imports' own
    refused.refresh_from_db()
    at_commit.refresh_from_db()
    assert (refused.problems, at_commit.problems) == ([], [])
    assert not HouseholdImport.objects.exclude(problems=[]).exists()
    assert refused.error  # what happened, without what was typed, is kept


def test_anonymising_a_household_closes_the_pairs_nobody_can_decide_any_more(op):
    # given a pair waiting for a decision whose one household is past retention, and another pair
    old = register(op, registered_on=dt.date(2005, 11, 20))
    twin = register(
        op,
        head_name="Mohd Aslam",
        document_type="none",
        document_number="",
        registered_on=dt.date(2007, 6, 1),
    )
    third = register(
        op,
        head_name="Muhammad Aslam Khan",
        document_type="none",
        document_number="",
        registered_on=dt.date(2007, 6, 2),
    )
    DuplicatePair.objects.all().delete()
    closing = DuplicatePair.objects.create(first=old, second=twin, score=80, reasons=["same phone"])
    kept = DuplicatePair.objects.create(first=twin, second=third, score=80, reasons=["same phone"])
    assert household_counts().pending_pairs == 2
    # when the old household is anonymised (the dry run says so first)
    dry = households_anonymise(actor=None, retention_days=365, today=dt.date(2008, 1, 1), dry_run=True)
    assert dry.pairs_closed == 1
    assert "1 pair of likely duplicates waiting for a decision would be closed" in dry.message
    result = households_anonymise(actor=None, retention_days=365, today=dt.date(2008, 1, 1))
    # then its pair is closed, not decided "different", and leaves the queue and its count
    closing.refresh_from_db()
    assert closing.status == PairStatus.CLOSED
    assert closing.decided_at is not None
    assert result.pairs_closed == 1
    assert list(duplicate_queue()) == [kept]
    assert household_counts().pending_pairs == 1
    event = AuditEvent.objects.get(action="household.anonymise")
    assert event.after["pairs_closed"] == [closing.pk]
    # and a decision on it is refused, whichever
    for same, survivor in ((False, None), (True, twin.pk)):
        with pytest.raises(Conflict, match="closed when a household of it was anonymised"):
            pair_decide(actor=op.registrar, pair_id=closing.pk, same=same, survivor_id=survivor)
    # and a search of the registry does not queue it again
    duplicates_run(actor=None)
    assert DuplicatePair.objects.filter(first=old, second=twin).count() == 1


def test_the_migration_closes_the_pairs_of_households_anonymised_before(op):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "reliefops.households.migrations.0007_round_key_closed_at_pair_closed"
    )
    old = register(op)
    twin = register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    DuplicatePair.objects.all().delete()
    pair = DuplicatePair.objects.create(first=old, second=twin, score=80, reasons=["same phone"])
    Household.objects.filter(pk=old.pk).update(anonymised_at=timezone.now(), head_name="")
    migration.close_pairs_of_anonymised_households(apps, None)
    migration.close_pairs_of_anonymised_households(apps, None)  # idempotent
    pair.refresh_from_db()
    assert pair.status == PairStatus.CLOSED
    assert household_counts().pending_pairs == 0
