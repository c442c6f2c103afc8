"""Importing registration files: CSV or XLSX, checked and previewed, then all or nothing."""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.db import connection, transaction
from openpyxl import Workbook

from reliefops.core.errors import Conflict, InvalidInput
from reliefops.core.models import Job
from reliefops.core.roles import Role
from reliefops.households import jobs
from reliefops.households.models import DuplicatePair, Household, HouseholdImport, ImportStatus, MatchKey
from reliefops.households.selectors import store_match_keys
from reliefops.households.services import (
    household_import_commit,
    household_import_preview,
    household_merge,
    household_update,
)
from reliefops.households.services import imports as import_service
from tests.factories import make_user
from tests.households.conftest import register
from tests.jobs_worker import run_jobs

HEADER = (
    "head_name,father_or_husband_name,head_sex,document_type,document_number,phone,"
    "females_18_59,males_18_59,females_0_5,origin,origin_village,current_site,house_damage,elevation_band,consent"
)
GOOD_ROWS = [
    "Sher Zaman,Gul Zaman,male,cnic,13503-1111111-1,0300-1111111,1,1,2,PK50401,Rashang,,destroyed,,1",
    "Zainab Bibi,Muhammad Iqbal,female,,13503-2222222-2,,1,0,1,Banna,Batkul,CAMP-MAIRA,damaged,,yes",
    "Fazal Rahim,Noor Rahim,male,none,,,1,1,0,Balakot,Sat Bani,,destroyed,5000_to_7000,yes",
]


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_a_clean_file_is_previewed_then_imported_whole(op):
    # when a clean file is previewed
    preview = household_import_preview(actor=op.registrar, filename="allai.csv", content=csv_file(*GOOD_ROWS))
    # then it is kept, ready, and nothing is registered yet
    assert preview.batch.status == ImportStatus.PREVIEWED
    assert preview.batch.rows == 3
    assert not Household.objects.exists()
    # when it is committed
    result = household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    # then every household is registered, the file's content is cleared, and a repeat changes nothing
    assert result.batch.status == ImportStatus.COMMITTED
    assert Household.objects.count() == 3
    assert set(Household.objects.values_list("document_type", flat=True)) == {"cnic", "none"}
    assert Household.objects.get(head_name="Zainab Bibi").current_site == op.maira
    assert bytes(HouseholdImport.objects.get().content) == b""
    again = household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    assert again.replayed
    assert "nothing changed" in again.message
    assert Household.objects.count() == 3


def test_a_file_saved_by_a_european_excel_with_semicolons_is_read_as_its_commas_would_be(op):
    # given the clean file as Excel saves "CSV" where the comma is the decimal mark
    content = csv_file(*GOOD_ROWS).replace(b",", b";")
    # when it is previewed, then its three households are read, as from the file with commas
    preview = household_import_preview(actor=op.registrar, filename="allai.csv", content=content)
    assert preview.batch.status == ImportStatus.PREVIEWED, preview.batch.problems
    assert preview.batch.rows == 3


def test_every_bad_row_is_reported_with_line_field_and_reason_and_nothing_is_kept(op):
    # given a file with good rows and bad ones (line 1 is the header)
    rows = [
        GOOD_ROWS[0],
        "Gul Khan,Sher Khan,male,cnic,13503-123-1,,1,1,0,PK50401,Rashang,,destroyed,,yes",  # line 3
        ",Sher Khan,male,none,,,1,1,0,Atlantis,Rashang,,destroyed,,yes",  # line 4
        "Noor Jan,Gul Jan,female,none,,,1,0,0,PK50401,Rashang,,flattened,,no",  # line 5
        "Sher Zaman,Gul Zaman,male,cnic,13503 1111111 1,,1,1,2,PK50401,Rashang,,destroyed,,yes",  # line 6
        "Akbar Ali,Wali,male,cnic,13503-1111111-1,,1,1,0,PK50401,Rashang,,destroyed,,yes",  # line 7
    ]
    preview = household_import_preview(actor=op.registrar, filename="bad.csv", content=csv_file(*rows))
    # then the file is refused, every problem named, and the file is not kept
    assert preview.batch.status == ImportStatus.REFUSED
    found = {(p["row"], p["field"]) for p in preview.batch.problems}
    assert found == {
        (3, "document_number"),
        (4, "head_name"),
        (4, "origin"),
        (5, "house_damage"),
        (5, "consent"),
        (6, "document_number"),
        (7, "document_number"),
    }
    duplicate = next(p for p in preview.batch.problems if p["row"] == 7)
    assert duplicate["reason"] == "the same identity document as line 2"
    assert bytes(preview.batch.content) == b""
    assert not Household.objects.exists()
    with pytest.raises(Conflict, match="was refused"):
        household_import_commit(actor=op.registrar, import_id=preview.batch.pk)


def test_every_problem_of_a_row_is_listed_its_identity_document_with_the_rest(op):
    # given a household registered with a CNIC
    holder = register(op, document_type="cnic", document_number="13503-5555555-5")
    # and a file where line 2 repeats that CNIC, and line 3 repeats it again with a bad phone
    rows = [
        "Gul Khan,Sher Khan,male,cnic,13503-5555555-5,,1,1,0,PK50401,Rashang,,destroyed,,yes",
        "Gul Khan,Sher Khan,male,cnic,1350355555555,abc123,1,1,0,PK50401,Rashang,,destroyed,,yes",
    ]
    # when it is checked
    preview = household_import_preview(actor=op.registrar, filename="bad.csv", content=csv_file(*rows))
    # then line 3's phone, its repeat of line 2 and the household holding its CNIC are all listed
    assert preview.batch.status == ImportStatus.REFUSED
    assert [(p["row"], p["field"]) for p in preview.batch.problems] == [
        (2, "document_number"),
        (3, "document_number"),
        (3, "document_number"),
        (3, "phone"),
    ]
    assert [p["reason"] for p in preview.batch.problems[:3]] == [
        f"already registered to household {holder.pk}",
        "the same identity document as line 2",
        f"already registered to household {holder.pk}",
    ]
    assert preview.batch.problem_count == 4


def test_an_other_vulnerability_longer_than_its_column_refuses_the_file_with_its_line(op):
    header = "head_name,head_sex,females_18_59,origin,house_damage,consent,other_vulnerability"
    content = csv_file("Zainab Bibi,female,1,PK50401,destroyed,yes," + "w" * 121, header=header)
    preview = household_import_preview(actor=op.registrar, filename="long.csv", content=content)
    assert preview.batch.status == ImportStatus.REFUSED
    assert preview.batch.problems == [
        {"row": 2, "field": "other_vulnerability", "reason": "other vulnerability is at most 120 characters"}
    ]


def test_the_import_jobs_page_shows_the_writing_step_while_the_households_are_written(op, monkeypatch):
    # given a checked file, imported in the background as the page does
    preview = household_import_preview(actor=op.registrar, filename="a.csv", content=csv_file(*GOOD_ROWS))
    seen = []
    write = import_service.households_register_many

    def writing(**kwargs):
        # what the job's page reads while the households are written (the job's row as stored)
        seen.append(Job.objects.filter(kind=jobs.IMPORT_COMMIT).values_list("stage", flat=True).get())
        return write(**kwargs)

    monkeypatch.setattr(import_service, "households_register_many", writing)
    jobs.import_commit_start(owner=op.registrar, import_id=preview.batch.pk, filename="a.csv")
    run_jobs()
    # then the page said the households were being registered, not the search that came before
    assert seen == ["registering the households"]
    assert Household.objects.count() == 3


# Four problems a row: no head's name, an unknown origin, an unknown damage and no consent.
BAD_ROW = ",Sher Khan,male,none,,,1,1,0,Atlantis,Rashang,,flattened,,no"


def test_a_file_with_many_problems_keeps_the_first_thousand_and_says_how_many_more(op):
    # given a file of 300 bad rows: 1,200 problems
    content = csv_file(*[BAD_ROW] * 300)
    # when it is checked in the background, as the page does
    jobs.import_preview_start(owner=op.registrar, filename="bad.csv", content=content)
    run_jobs()
    # then the refused file keeps the first 1,000 problems by line and a last one saying how many more
    batch = HouseholdImport.objects.get()
    assert batch.status == ImportStatus.REFUSED
    assert batch.problem_count == 1200
    assert len(batch.problems) == 1001
    assert batch.problems[0]["row"] == 2
    assert batch.problems[-1] == {"row": None, "field": "file", "reason": "… and 200 more problems"}
    # and so does the job, whose refusal still says how many there were in all
    job = Job.objects.get(kind=jobs.IMPORT_PREVIEW)
    assert job.problems == batch.problems
    assert job.error == "1,200 problems in bad.csv; nothing was imported."


# Identity numbers and phones refused for every reason a number can be, as a registrar types them.
PERSONAL_VALUES_REFUSED = [
    ("cnic", "13503-123-1", "abc123"),  # a CNIC of 9 digits; letters in a phone
    ("cnic", "7777777777777", "3001234567"),  # a placeholder; a phone without its trunk 0
    ("old_nic", "321-54-76", "0345-76"),  # an old NIC of 7 digits; a Pakistani number too short
    ("other", "A!", "+1 234"),  # another document too short; an international number too short
]


def test_a_refused_files_problems_and_its_job_name_no_identity_number_or_phone(op):
    # given a file whose identity numbers and phones are all refused
    rows = [
        f"Gul Khan,Sher Khan,male,{kind},{number},{phone},1,1,0,PK50401,Rashang,,destroyed,,yes"
        for kind, number, phone in PERSONAL_VALUES_REFUSED
    ]
    # when it is checked in the background, as the page does
    jobs.import_preview_start(owner=op.registrar, filename="bad.csv", content=csv_file(*rows))
    run_jobs()
    # then each number and phone is named by its line, column and reason
    job = Job.objects.get(kind=jobs.IMPORT_PREVIEW)
    batch = HouseholdImport.objects.get()
    assert job.problems == batch.problems
    assert [(p["row"], p["field"]) for p in job.problems] == [
        (line, field) for line in (2, 3, 4, 5) for field in ("document_number", "phone")
    ]
    assert job.problems[0]["reason"] == (
        "a CNIC is 13 digits, written 12345-1234567-1 or as 13 digits alone; the number has 9 digits (0-9)"
    )
    # and neither the job nor the refused file holds what was typed
    kept = json.dumps([job.problems, job.result, job.error, batch.problems], ensure_ascii=False)
    for _, number, phone in PERSONAL_VALUES_REFUSED:
        assert number not in kept
        assert phone not in kept


def test_a_formula_in_a_name_is_refused_without_quoting_the_name(op):
    content = csv_file("=Gul Khan,Sher Khan,male,none,,,1,1,0,PK50401,=Rashang,,destroyed,,yes")
    preview = household_import_preview(actor=op.registrar, filename="bad.csv", content=content)
    assert preview.batch.problems == [
        {
            "row": 2,
            "field": "head_name",
            "reason": "the cell is a spreadsheet formula; formulas are not imported (type the value itself)",
        },
        {
            "row": 2,
            "field": "origin_village",
            "reason": "the cell is a spreadsheet formula; formulas are not imported (type the value itself)",
        },
    ]


NO_DOCUMENT_ROWS = [
    "Shahbano Qizilbashi,Tariq Mehmood,female,none,,,1,0,1,PK50401,Kharkot,,destroyed,,yes",
    "Feroza Begum,Ayub Zaman,female,none,,,1,0,0,PK50401,Kharkot,,damaged,,yes",
]


def test_the_same_file_again_is_recognised_by_its_content_and_imports_nothing(op):
    content = csv_file(*NO_DOCUMENT_ROWS)
    first = household_import_preview(actor=op.registrar, filename="kharkot.csv", content=content)
    household_import_commit(actor=op.registrar, import_id=first.batch.pk)
    assert Household.objects.count() == 2
    # when the same file is uploaded again, under another name
    again = household_import_preview(actor=op.registrar, filename="kharkot (2).csv", content=content)
    # then the preview names the import of the same file, and when it was imported
    assert again.same_as == first.batch
    assert f"the same file as import {first.batch.pk} (kharkot.csv), imported on" in again.message
    assert "importing it again changes nothing" in again.message
    assert again.batch.rows == 0
    # and committing it changes nothing and says so
    done = household_import_commit(actor=op.registrar, import_id=again.batch.pk)
    assert "nothing was imported again" in done.message
    assert done.batch.status == ImportStatus.PREVIEWED
    assert Household.objects.count() == 2


def test_two_previews_of_one_file_committed_one_after_the_other_import_it_once(op):
    content = csv_file(*NO_DOCUMENT_ROWS)
    colleague = make_user(Role.REGISTRAR)
    first = household_import_preview(actor=op.registrar, filename="a.csv", content=content)
    second = household_import_preview(actor=colleague, filename="a.csv", content=content)
    assert second.batch != first.batch  # each registrar's check is kept as their own
    household_import_commit(actor=op.registrar, import_id=first.batch.pk)
    done = household_import_commit(actor=op.registrar, import_id=second.batch.pk)
    assert done.same_as == first.batch
    assert "nothing was imported again" in done.message
    assert Household.objects.count() == 2
    # a file that differs by one byte is another file
    other = household_import_preview(actor=op.registrar, filename="a.csv", content=content + b"\n")
    assert other.same_as is None


def test_the_same_file_checked_again_by_the_same_person_keeps_no_second_copy(op):
    content = csv_file(*NO_DOCUMENT_ROWS)
    first = household_import_preview(actor=op.registrar, filename="a.csv", content=content)
    # given a look-alike of the file's first row registered since the first check
    lookalike = register(
        op, head_name="Shahbano Qizilbash", father_or_husband_name="Tariq Mehmood", head_sex="female",
        document_type="none", document_number="", phone="", origin="PK50401", origin_village="Kharkot",
    )  # fmt: skip
    # when the same person checks the same file again, under another name
    again = household_import_preview(actor=op.registrar, filename="a (1).csv", content=content)
    # then the waiting check is answered, checked again (the look-alike is among its duplicates),
    # and no second copy of the file is kept
    assert again.repeated
    assert again.batch == first.batch
    assert HouseholdImport.objects.count() == 1
    assert again.message.startswith(f"This file waits to be imported already, as import {first.batch.pk}; ")
    assert "2 households in a.csv are ready to import; 1 likely duplicate to look at first." in again.message
    assert [d.get("household") for d in again.batch.duplicates] == [lookalike.pk]
    assert HouseholdImport.objects.get().duplicates == again.batch.duplicates
    # and committing it imports the file once
    household_import_commit(actor=op.registrar, import_id=again.batch.pk)
    assert Household.objects.count() == 3


def test_a_file_checked_again_after_its_import_or_with_problems_is_kept_apart(op):
    content = csv_file(*NO_DOCUMENT_ROWS)
    first = household_import_preview(actor=op.registrar, filename="a.csv", content=content)
    # a file that now has a problem (an identity document registered meanwhile) is refused anew;
    # the waiting check stays as it was
    with_document = csv_file(GOOD_ROWS[0])
    waiting = household_import_preview(actor=op.registrar, filename="b.csv", content=with_document)
    register(op, document_number="13503-1111111-1")
    refused = household_import_preview(actor=op.registrar, filename="b.csv", content=with_document)
    assert not refused.repeated
    assert refused.batch.status == ImportStatus.REFUSED
    assert HouseholdImport.objects.get(pk=waiting.batch.pk).status == ImportStatus.PREVIEWED
    # once imported, the same file checked again is told so, as before
    household_import_commit(actor=op.registrar, import_id=first.batch.pk)
    after = household_import_preview(actor=op.registrar, filename="a.csv", content=content)
    assert not after.repeated
    assert after.same_as == first.batch


def test_a_missing_column_refuses_the_file(op):
    preview = household_import_preview(
        actor=op.registrar, filename="x.csv", content=csv_file("A,male", header="head_name,head_sex")
    )
    assert {p["field"] for p in preview.batch.problems} >= {"origin", "house_damage", "consent"}


def test_a_misspelt_or_unknown_column_refuses_the_file_naming_the_nearest(op):
    # given a file whose phone column is misspelt and which carries a column of its own
    header = HEADER.replace(",phone,", ",phnoe,") + ",remarks"
    rows = [row + "," for row in GOOD_ROWS]
    # when it is checked, then it is refused on its header, and no household is registered
    preview = household_import_preview(
        actor=op.registrar, filename="x.csv", content=csv_file(*rows, header=header)
    )
    problems = {p["field"]: p["reason"] for p in preview.batch.problems}
    assert problems["phnoe"].startswith("not a column of this file: did you mean phone?")
    assert problems["remarks"].startswith("not a column of this file (its columns: head_name")
    assert {p["row"] for p in preview.batch.problems} == {1}
    assert not Household.objects.exists()


def test_the_preview_lists_likely_duplicates_in_the_file_and_in_the_registry(op):
    # given a registered household
    existing = register(op, head_name="Muhammad Aslam", document_number="13503-9999999-1")
    rows = [
        *GOOD_ROWS,
        "Mohd Aslam,Ghulam Rasool,male,none,,0300-1234567,1,1,0,PK50401-UC01,Batkul,,destroyed,above_7000,y",
        "Sher Zamaan,Gul Zaman,male,none,,0300-1111111,1,1,2,PK50401,Rashang,,destroyed,above_7000,yes",
    ]
    preview = household_import_preview(actor=op.registrar, filename="dup.csv", content=csv_file(*rows))
    assert preview.batch.status == ImportStatus.PREVIEWED
    pairs = {(d["line"], d.get("household"), d.get("other_line")) for d in preview.batch.duplicates}
    assert (5, existing.pk, None) in pairs
    assert (6, None, 2) in pairs
    # and the commit sends them to the review queue
    household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    assert DuplicatePair.objects.filter(first=existing).exists()
    assert DuplicatePair.objects.count() >= 2


def seek_then(monkeypatch, meanwhile):
    """The commit's search for likely duplicates, followed by `meanwhile()`: what other users do
    after the file's duplicates were sought and before its households are written."""
    seek = import_service.file_matches

    def seek_then_act(drafts, progress=None):
        found = seek(drafts, progress)
        meanwhile()
        return found

    monkeypatch.setattr(import_service, "file_matches", seek_then_act)


def test_a_household_registered_while_the_file_is_matched_is_paired_with_its_look_alike_in_it(
    op, monkeypatch
):
    # given a file with Sher Zaman, and his look-alike registered at a desk while the file's
    # duplicates are sought (neither sees the other then)
    preview = household_import_preview(actor=op.registrar, filename="a.csv", content=csv_file(*GOOD_ROWS))
    late = []
    seek_then(
        monkeypatch,
        lambda: late.append(
            register(
                op,
                head_name="Sher Zamaan",
                father_or_husband_name="Gul Zaman",
                document_type="none",
                document_number="",
                phone="0300-1111111",
                origin="PK50401",
                origin_village="Rashang",
            )
        ),
    )
    # when the file is committed
    household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    # then the pair is queued for review all the same
    sher = Household.objects.get(head_name="Sher Zaman")
    assert late[0].pk < sher.pk
    assert DuplicatePair.objects.filter(first=late[0], second=sher).exists()


def test_a_household_corrected_into_a_look_alike_while_the_file_is_matched_is_paired(op, monkeypatch):
    # given Akbar Ali registered, and a file with Sher Zaman
    akbar = register(
        op, head_name="Akbar Ali", father_or_husband_name="Wali Khan", document_number="13503-3333333-3"
    )
    preview = household_import_preview(actor=op.registrar, filename="a.csv", content=csv_file(*GOOD_ROWS))
    # when his registration is corrected, while the file's duplicates are sought, into what
    # turns out to be Sher Zaman's family registered without its card
    seek_then(
        monkeypatch,
        lambda: household_update(
            actor=op.registrar,
            household_id=akbar.pk,
            changes={
                "head_name": "Sher Zamaan",
                "father_or_husband_name": "Gul Zaman",
                "document_type": "none",
                "document_number": "",
                "phone": "0300-1111111",
                "origin": "PK50401",
                "origin_village": "Rashang",
            },
            reason="names mistyped at registration",
            duplicates_seen=range(1, 10_000),
        ),
    )
    household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    # then the pair is queued: he is sought again as he reads now
    sher = Household.objects.get(head_name="Sher Zaman")
    assert DuplicatePair.objects.filter(first=akbar, second=sher).exists()


def test_a_likely_duplicate_corrected_away_while_the_file_is_matched_is_not_paired(op, monkeypatch):
    # given Muhammad Aslam registered, and a file row that looks like him
    aslam = register(op, head_name="Muhammad Aslam", document_number="13503-9999999-1")
    row = "Mohd Aslam,Ghulam Rasool,male,none,,0300-1234567,1,1,0,PK50401-UC01,Batkul,,destroyed,above_7000,y"
    preview = household_import_preview(actor=op.registrar, filename="a.csv", content=csv_file(row))
    assert aslam.pk in {d.get("household") for d in preview.batch.duplicates}
    # when his names, found mistyped, are corrected while the file's duplicates are sought
    seek_then(
        monkeypatch,
        lambda: household_update(
            actor=op.registrar,
            household_id=aslam.pk,
            changes={"head_name": "Zarin Gul", "father_or_husband_name": "Sher Dil", "phone": "0345-7654321"},
            reason="names mistyped at registration",
        ),
    )
    household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    # then the pair found with what he no longer reads is not queued
    new = Household.objects.get(head_name="Mohd Aslam")
    assert not DuplicatePair.objects.filter(first=aslam, second=new).exists()


def test_a_registration_that_lands_with_a_lower_id_while_the_file_is_matched_is_paired(op, monkeypatch):
    # given Sher Zaman's look-alike, whose registration (and its blocking keys) is not yet visible
    # when the file's duplicates are sought, though its id is already given: on PostgreSQL a
    # transaction takes its id when it writes and shows its rows when it commits
    late = register(
        op,
        head_name="Sher Zamaan",
        father_or_husband_name="Gul Zaman",
        document_type="none",
        document_number="",
        phone="0300-1111111",
        origin="PK50401",
        origin_village="Rashang",
    )
    MatchKey.objects.filter(household=late).delete()
    register(op, head_name="Bibi Hajra", document_number="13503-5555555-2")  # a later id, committed first
    preview = household_import_preview(actor=op.registrar, filename="a.csv", content=csv_file(*GOOD_ROWS))
    # when it commits while the file is matched
    seek_then(monkeypatch, lambda: store_match_keys([late.pk]))
    household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    # then it is paired with Sher Zaman all the same
    sher = Household.objects.get(head_name="Sher Zaman")
    assert DuplicatePair.objects.filter(first=late, second=sher).exists()


def test_a_likely_duplicate_merged_while_the_file_is_matched_is_not_paired(op, monkeypatch):
    # given Muhammad Aslam registered, and a file row that looks like him
    aslam = register(op, head_name="Muhammad Aslam", document_number="13503-9999999-1")
    survivor = register(
        op, head_name="Muhammad Aslam", document_number="13503-8888888-1", phone="0345-7654321"
    )
    row = "Mohd Aslam,Ghulam Rasool,male,none,,0300-1234567,1,1,0,PK50401-UC01,Batkul,,destroyed,above_7000,y"
    preview = household_import_preview(actor=op.registrar, filename="a.csv", content=csv_file(row))
    assert aslam.pk in {d.get("household") for d in preview.batch.duplicates}
    # when he is merged into another household while the file's duplicates are sought
    seek_then(
        monkeypatch,
        lambda: household_merge(actor=op.registrar, survivor_id=survivor.pk, merged_id=aslam.pk),
    )
    household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    # then no pair names the merged household, and the one he was merged into is paired
    new = Household.objects.get(head_name="Mohd Aslam")
    assert not DuplicatePair.objects.filter(first=aslam, second=new).exists()
    assert DuplicatePair.objects.filter(first=survivor, second=new).exists()


@pytest.mark.django_db(transaction=True)
def test_other_users_write_while_the_commit_checks_the_file_and_seeks_its_duplicates(op, monkeypatch):
    # given a previewed file
    preview = household_import_preview(actor=op.registrar, filename="a.csv", content=csv_file(*GOOD_ROWS))
    seen = {}

    def another_user_registers():
        # The commit holds no transaction while it seeks: on SQLite it does not hold the write lock.
        seen["in a transaction"] = transaction.get_connection().in_atomic_block

        def desk():
            try:
                seen["registered"] = register(
                    op, head_name="Bibi Hajra", document_number="13503-5555555-2"
                ).pk
            finally:
                connection.close()

        worker = threading.Thread(target=desk)
        worker.start()
        worker.join(timeout=60)

    seek_then(monkeypatch, another_user_registers)
    # when it is committed, and another user registers a household meanwhile
    household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    # then that registration went through at once, and so did the file
    assert seen["in a transaction"] is False
    assert Household.objects.filter(pk=seen["registered"]).exists()
    assert Household.objects.count() == 4


def test_the_commit_checks_the_file_again_and_imports_nothing_when_the_registry_changed(op):
    preview = household_import_preview(actor=op.registrar, filename="a.csv", content=csv_file(*GOOD_ROWS))
    register(op, head_name="Sher Zaman", document_number="13503-1111111-1")
    with pytest.raises(InvalidInput, match="nothing was imported"):
        household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    assert Household.objects.count() == 1


def test_an_xlsx_file_is_read_from_its_first_sheet_with_excel_numbers(op):
    # given a workbook where Excel turned the CNIC and counts into numbers
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "Sher Zaman",
            "Gul Zaman",
            "male",
            "cnic",
            1350311111111,
            "0300-1111111",
            1,
            1,
            2,
            "PK50401",
            "Rashang",
            None,
            "destroyed",
            "above_7000",
            "yes",
        ]
    )
    sheet.append(
        [
            "Gul Khan",
            "Sher Khan",
            "male",
            "cnic",
            135031,
            None,
            1,
            1,
            0,
            "PK50401",
            "Rashang",
            None,
            "destroyed",
            None,
            True,
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when it is previewed
    preview = household_import_preview(actor=op.registrar, filename="allai.xlsx", content=buffer.getvalue())
    # then the bad row is named by its row number in the sheet
    assert preview.batch.status == ImportStatus.REFUSED
    assert [(p["row"], p["field"]) for p in preview.batch.problems] == [(3, "document_number")]
    # and without it the file imports, the CNIC read from the number
    sheet.delete_rows(3)
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = household_import_preview(actor=op.registrar, filename="allai.xlsx", content=buffer.getvalue())
    household_import_commit(actor=op.registrar, import_id=preview.batch.pk)
    assert Household.objects.get().document_number == "1350311111111"


def test_a_name_longer_than_its_field_is_refused_naming_the_field_and_its_limit_not_quoting_it(op):
    # given a file whose line 2 has a head's name of 130 characters
    long_name = "Sher Zaman " * 12
    row = GOOD_ROWS[0].replace("Sher Zaman", long_name.strip(), 1)
    preview = household_import_preview(actor=op.registrar, filename="long.csv", content=csv_file(row))
    # then the row is refused naming the field and its limit, and the name is not repeated
    assert preview.batch.status == ImportStatus.REFUSED
    assert preview.batch.problems == [
        {"row": 2, "field": "head_name", "reason": "the head's name is at most 120 characters"}
    ]
