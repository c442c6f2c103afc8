"""The 4W import as a delta: add, update, leave alone, withdraw; idempotent re-upload; revert;
locked periods; all or nothing; a partner's scope."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections, transaction

from reliefops.cluster.models import ActivityRow, ActivityStatus, ImportBatch, ReportingPeriod
from reliefops.cluster.services import bulk, import_batch_revert, reporting_period_set_lock
from reliefops.core.errors import Conflict, InvalidInput
from reliefops.core.models import AuditEvent
from tests.cluster.conftest import row


def live():
    return ActivityRow.objects.filter(replaced_in__isnull=True, withdrawn=False)


def snapshot():
    """Every version of every row, to compare before and after."""
    return sorted(
        ActivityRow.objects.values_list("id", "row_id", "quantity", "status", "withdrawn", "replaced_in_id")
    )


def test_a_new_file_adds_its_rows_in_one_batch(upload, cluster):
    # when a file of two rows is uploaded
    result = upload([row(id="NRC-1"), row(id="NRC-2", adm2="", adm3="PK50401", qty="250", hh="240")])
    # then both rows are stored, in one batch recorded with the file's digest and counts
    assert (result.added, result.updated, result.unchanged, result.withdrawn) == (2, 0, 0, 0)
    batch = ImportBatch.objects.get()
    assert (batch.pk, batch.digest, batch.added) == (result.batch_id, result.digest, 2)
    stored = live().get(row_id="NRC-2")
    # and the row carries its province, district and tehsil P-codes and its reporting month
    assert (stored.adm1, stored.adm2, stored.adm3) == ("PK5", "PK504", "PK50401")
    assert stored.period == dt.date(2005, 11, 1)
    assert (stored.reporting_org, stored.implementing_org) == (cluster.nrc, cluster.nrc)
    assert (stored.quantity, stored.households, stored.status) == (250, 240, ActivityStatus.COMPLETED)
    assert AuditEvent.objects.filter(action="cluster.import", object_id=str(batch.pk)).exists()


def test_uploading_the_same_file_again_changes_nothing_and_says_so(upload):
    # given a file uploaded once
    rows = [row(id="NRC-1"), row(id="NRC-2", qty="7")]
    first = upload(rows)
    before, batches, events = snapshot(), ImportBatch.objects.count(), AuditEvent.objects.count()
    # when the very same file is uploaded again
    again = upload(rows)
    # then nothing is written — no version, no batch, no audit event — and the result says why
    assert (again.changed, again.unchanged, again.batch_id) == (False, 2, None)
    assert again.previous_batch_id == first.batch_id
    assert again.summary() == (
        f"Nothing to change: every row of the file is as stored (this file was imported as batch "
        f"{first.batch_id}). Nothing was written."
    )
    assert snapshot() == before
    assert (ImportBatch.objects.count(), AuditEvent.objects.count()) == (batches, events)


def test_an_updated_file_updates_named_rows_and_leaves_the_others_alone(upload):
    # given three rows
    upload([row(id="NRC-1"), row(id="NRC-2"), row(id="NRC-3", status="ongoing")])
    # when a later file names two of them, one changed (completed now), and adds one
    result = upload([row(id="NRC-2"), row(id="NRC-3", status="completed", qty="120"), row(id="NRC-4")])
    # then one row is added, one updated, one unchanged, and the row not mentioned is left alone
    assert (result.added, result.updated, result.unchanged, result.withdrawn) == (1, 1, 1, 0)
    assert sorted(live().values_list("row_id", flat=True)) == ["NRC-1", "NRC-2", "NRC-3", "NRC-4"]
    current = live().get(row_id="NRC-3")
    assert (current.status, current.quantity) == ("completed", 120)
    # and the old version is kept, closed by the new batch
    old = ActivityRow.objects.get(row_id="NRC-3", replaced_in__isnull=False)
    assert (old.status, old.replaced_in_id) == ("ongoing", result.batch_id)
    # and the preview listed what changes, field by field
    change = next(c for c in result.changes if c.kind == "update")
    assert ("status", "ongoing", "completed") in change.fields


@pytest.mark.parametrize("flag", ["Delete", "deleted", "D", "withdraw"])
def test_a_row_marked_deleted_is_withdrawn_and_a_repeat_changes_nothing(upload, flag):
    # given two rows
    upload([row(id="NRC-1"), row(id="NRC-2")])
    # when a file marks one of them deleted (only its id and organisation matter)
    deletion = [row(id="NRC-2", action=flag, activity="", adm2="", status="", qty="", hh="")]
    result = upload(deletion)
    # then it is withdrawn: no longer live, its history kept
    assert result.withdrawn == 1
    assert list(live().values_list("row_id", flat=True)) == ["NRC-1"]
    tombstone = ActivityRow.objects.get(row_id="NRC-2", replaced_in__isnull=True)
    assert (tombstone.withdrawn, tombstone.quantity) == (True, 100)
    # and the change listed names the row withdrawn by its stored values, to check it is the one meant
    stored = "TENTS at PK504, completed, 2005-11-01 to 2005-11-20, quantity 100, 100 households"
    assert [(c.row_id, c.kind, c.described()) for c in result.changes] == [("NRC-2", "withdraw", stored)]
    # and deleting it again changes nothing
    assert not upload(deletion).changed


def test_deleting_a_row_that_was_never_reported_is_refused(upload):
    upload([row(id="NRC-1")])
    with pytest.raises(InvalidInput) as refused:
        upload([row(id="NRC-9", action="delete")])
    assert [str(p) for p in refused.value.problems] == [
        "row 3, #meta+id: there is no row NRC-9 of this organisation to withdraw; check the row id against "
        "the organisation's rows (the Rows tab, or the template with its rows)"
    ]


def test_a_withdrawn_row_comes_back_when_reported_again(upload):
    upload([row(id="NRC-1")])
    upload([row(id="NRC-1", action="delete")])
    result = upload([row(id="NRC-1", qty="80")])
    assert result.added == 1
    assert live().get(row_id="NRC-1").quantity == 80


def test_one_bad_row_refuses_the_whole_file(upload):
    # given a stored row
    upload([row(id="NRC-1")])
    before = snapshot()
    # when a file with a good change and a bad row is uploaded
    with pytest.raises(InvalidInput) as refused:
        upload([row(id="NRC-1", qty="150"), row(id="NRC-2", adm2="PK5O4")])
    # then nothing is written, and the problem names the row, the column, the value and a suggestion
    assert snapshot() == before
    [problem] = refused.value.problems
    assert str(problem) == "row 4, #adm2+code: 'PK5O4' is not a P-code; did you mean PK504 (Batagram)?"


def test_a_preview_checks_everything_and_writes_nothing(upload):
    upload([row(id="NRC-1")])
    before, batches = snapshot(), ImportBatch.objects.count()
    result = upload([row(id="NRC-1", qty="99"), row(id="NRC-2")], preview=True)
    assert (result.preview, result.added, result.updated) == (True, 1, 1)
    assert "Preview" in result.summary()
    assert snapshot() == before
    assert ImportBatch.objects.count() == batches


def test_the_same_row_id_twice_in_a_file_is_refused(upload):
    with pytest.raises(InvalidInput, match=r"row 4, #meta\+id: row id NRC-1 appears twice .*first on row 3"):
        upload([row(id="NRC-1"), row(id="NRC-1", qty="5")])


def test_the_same_row_id_of_two_organisations_is_two_rows(upload):
    result = upload([row(id="1"), row(id="1", prog="IRW"), row(id="2", prog="IRW")])
    assert result.added == 3
    with pytest.raises(InvalidInput, match=r"row 5, #meta\+id: row id 2 appears twice .*first on row 4"):
        upload([row(id="1"), row(id="2", prog="IRW"), row(id="2", prog="IRW", qty="5")])


# --- revert ---------------------------------------------------------------------------------------


def test_reverting_a_batch_restores_the_rows_as_they_were(upload):
    # given a first batch, then a second that adds, updates and withdraws
    upload([row(id="NRC-1"), row(id="NRC-2"), row(id="NRC-3")])
    before = snapshot()
    second = upload([row(id="NRC-1", qty="5"), row(id="NRC-3", action="delete"), row(id="NRC-4")])
    assert second.changed
    # when the second batch is reverted
    result = import_batch_revert(actor=None, batch_id=second.batch_id)
    # then the rows are exactly as after the first batch, and the batch is marked reverted
    assert snapshot() == before
    assert (result.removed, result.restored) == (3, 2)
    assert ImportBatch.objects.get(pk=second.batch_id).is_reverted
    # and a second revert is refused
    with pytest.raises(Conflict, match="already reverted"):
        import_batch_revert(actor=None, batch_id=second.batch_id)


def test_a_batch_changed_by_a_later_one_cannot_be_reverted_first(upload):
    first = upload([row(id="NRC-1")])
    second = upload([row(id="NRC-1", qty="5")])
    with pytest.raises(Conflict, match=f"batch {second.batch_id} changed its rows since"):
        import_batch_revert(actor=None, batch_id=first.batch_id)
    import_batch_revert(actor=None, batch_id=second.batch_id)
    import_batch_revert(actor=None, batch_id=first.batch_id)
    assert not ActivityRow.objects.exists()


def test_the_refusal_names_the_later_batches_in_plain_english(upload):
    # given a batch whose rows two later batches changed, and one whose rows one later batch changed
    first = upload([row(id="NRC-1"), row(id="NRC-2")])
    second = upload([row(id="NRC-1", qty="5")])
    third = upload([row(id="NRC-2", qty="6")])
    # when each is reverted too early, then the refusal names the later batches as a sentence would
    with pytest.raises(Conflict) as refused:
        import_batch_revert(actor=None, batch_id=first.batch_id)
    assert refused.value.message == (
        f"batch {first.batch_id} cannot be reverted: batches {second.batch_id} and {third.batch_id} "
        "changed its rows since; revert those first, the latest first"
    )
    fourth = upload([row(id="NRC-1", qty="7")])
    with pytest.raises(Conflict) as refused:
        import_batch_revert(actor=None, batch_id=second.batch_id)
    assert refused.value.message == (
        f"batch {second.batch_id} cannot be reverted: batch {fourth.batch_id} changed its rows since; "
        "revert it first"
    )


def test_the_refusal_names_every_batch_that_must_go_first_not_only_the_next(upload):
    # given three uploads that each changed NRC-1 after the one before
    first = upload([row(id="NRC-1")])
    second = upload([row(id="NRC-1", qty="5")])
    third = upload([row(id="NRC-1", qty="6")])
    # when the first is reverted, then the refusal names both later batches, not the second alone
    with pytest.raises(Conflict) as refused:
        import_batch_revert(actor=None, batch_id=first.batch_id)
    assert refused.value.message == (
        f"batch {first.batch_id} cannot be reverted: batches {second.batch_id} and {third.batch_id} "
        "changed its rows since; revert those first, the latest first"
    )
    # and reverting them the latest first, then the first, leaves nothing
    for batch in (third, second, first):
        import_batch_revert(actor=None, batch_id=batch.batch_id)
    assert not ActivityRow.objects.exists()


def test_after_a_revert_the_same_file_can_be_uploaded_again(upload):
    rows = [row(id="NRC-1")]
    first = upload(rows)
    import_batch_revert(actor=None, batch_id=first.batch_id)
    again = upload(rows)
    assert (again.added, again.previous_batch_id) == (1, None)


# --- locked periods -------------------------------------------------------------------------------


def test_rows_in_a_locked_period_are_refused_with_a_clear_message(upload):
    # given November 2005 locked
    reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=True)
    # when a file reports a November row, then it is refused
    with pytest.raises(InvalidInput) as refused:
        upload([row(id="NRC-1"), row(id="NRC-2", start="2005-12-01", end="2005-12-10")])
    assert [str(p) for p in refused.value.problems] == [
        "row 3, #date+end: 2005-11-20 falls in the reporting period 2005-11, which is locked; ask the "
        "cluster coordinator to reopen it"
    ]


def test_a_lock_note_longer_than_its_column_is_refused_not_cut(cluster):
    with pytest.raises(InvalidInput, match="note: at most 200 characters"):
        reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=True, note="n" * 201)
    assert not ReportingPeriod.objects.exists()
    change = reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=True, note="n" * 200)
    assert change.period.note == "n" * 200


@pytest.mark.django_db(transaction=True)
def test_locking_a_month_waits_for_an_upload_under_way(cluster):
    # given an upload under way: it holds the table and has read which months are locked
    holding, release = threading.Event(), threading.Event()

    def upload_under_way() -> None:
        try:
            with transaction.atomic():
                bulk.lock_for_writing()
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def lock() -> None:
        try:
            reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=True)
        finally:
            connections.close_all()

    uploader, locker = threading.Thread(target=upload_under_way), threading.Thread(target=lock)
    uploader.start()
    assert holding.wait(timeout=30)
    # when the coordinator locks its month, then the lock is not confirmed while the upload runs
    locker.start()
    locker.join(timeout=1.0)
    assert locker.is_alive()
    # and it is once the upload has ended
    release.set()
    uploader.join(timeout=30)
    locker.join(timeout=30)
    assert not locker.is_alive()
    assert ReportingPeriod.objects.get(month=dt.date(2005, 11, 1)).locked


def test_a_stored_row_of_a_locked_period_can_neither_change_nor_be_withdrawn(upload):
    first = upload([row(id="NRC-1"), row(id="NRC-2")])
    reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=True)
    with pytest.raises(InvalidInput, match="row NRC-1 lies in the reporting period 2005-11, which is locked"):
        upload([row(id="NRC-1", start="2005-12-01", end="2005-12-02")])
    with pytest.raises(InvalidInput, match="locked"):
        upload([row(id="NRC-2", action="delete")])
    with pytest.raises(Conflict, match="locked period 2005-11"):
        import_batch_revert(actor=None, batch_id=first.batch_id)
    # and once reopened, the change goes through
    reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=False)
    assert upload([row(id="NRC-2", action="delete")]).withdrawn == 1


def test_unchanged_rows_of_a_locked_period_do_not_block_an_upload(upload):
    upload([row(id="NRC-1")])
    reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=True)
    result = upload([row(id="NRC-1"), row(id="NRC-2", start="2005-12-01", end="2005-12-10")])
    assert (result.added, result.unchanged) == (1, 1)


# --- a partner's scope ----------------------------------------------------------------------------


def test_a_partner_reports_only_its_own_rows(upload, cluster):
    # when NRC's reporter uploads a row reported by IRW, it is refused
    with pytest.raises(InvalidInput) as refused:
        upload(
            [row(id="X-1", prog="IRW")],
            reporting_org_id=cluster.nrc.pk,
            scope_org_id=cluster.nrc.pk,
            scope_label="NRC",
        )
    # naming the organisations the row gives, and what to write instead
    assert [str(p) for p in refused.value.problems] == [
        "row 3, #org+prog: NRC neither programmes, implements nor funds this activity (programming IRW, "
        "implementing IRW, no funder); a partner reports its own work: name NRC as the programming, "
        "implementing or funding organisation if it takes part, or leave the row to those who do"
    ]
    with pytest.raises(InvalidInput) as funded:
        upload(
            [row(id="X-1", prog="IRW", impl="UNHCR", funder="IRW")],
            reporting_org_id=cluster.nrc.pk,
            scope_org_id=cluster.nrc.pk,
            scope_label="NRC",
        )
    assert "(programming IRW, implementing UNHCR, funding IRW)" in str(funded.value.problems[0])
    # and its own work (implementing for UNHCR) is accepted, reported by NRC
    result = upload(
        [row(id="X-2", prog="UNHCR", impl="NRC")],
        reporting_org_id=cluster.nrc.pk,
        scope_org_id=cluster.nrc.pk,
        scope_label="NRC",
    )
    stored = live().get(row_id="X-2")
    assert (result.added, stored.reporting_org, stored.programming_org) == (1, cluster.nrc, cluster.unhcr)


def test_a_partners_row_of_another_organisation_is_refused_naming_that_organisation(upload, cluster):
    with pytest.raises(InvalidInput) as refused:
        upload(
            [row(id="IR-19", reporting="IRW", prog="IRW")],
            reporting_org_id=cluster.nrc.pk,
            scope_org_id=cluster.nrc.pk,
            scope_label="NRC",
        )
    assert [str(p) for p in refused.value.problems] == [
        "row 3, #org+reporting: this row is the report of IRW, and you report for NRC only; leave "
        "the cell empty (or write NRC) for a row of NRC's own report, or leave the row to IRW to upload"
    ]


def test_a_row_naming_no_organisation_says_where_one_is_named(upload, cluster):
    with pytest.raises(InvalidInput) as refused:
        upload([row(id="NRC-2", prog="", action="Delete")])
    assert [str(p) for p in refused.value.problems] == [
        "row 3, #org+prog: the organisation is empty: name the reporting (#org+reporting) or the "
        "programming organisation, or choose the organisation the file reports for"
    ]


def test_the_same_row_id_of_two_organisations_are_two_rows(upload, cluster):
    upload([row(id="R-1", prog="NRC"), row(id="R-1", prog="IRW")])
    assert set(live().values_list("reporting_org__acronym", flat=True)) == {"NRC", "IRW"}


# --- valid, invalid and mixed files, in every form a partner sends --------------------------------

# The conftest row keys in the template's column order.
TEMPLATE_KEYS = ["id", "action", "reporting", "prog", "impl", "funder", "recipient", "activity", "adm1",
                 "adm2", "adm3", "place", "status", "start", "end", "qty", "hh", "f", "m"]  # fmt: skip
GOOD = [
    row(id="NRC-1"),
    row(id="NRC-2", adm2="", adm3="PK50401", qty="250", hh="240", f="600", m="550"),
    row(id="NRC-3", impl="IRW", funder="DFID", status="planned", end="2005-12-15"),
]
BAD = [
    row(id="NRC-4", adm2="PK5O4"),
    row(id="NRC-5", status="Compleeted"),
]


def as_file(rows: list[dict], form: str) -> tuple[bytes, str]:
    """The rows as a partner would send them: `form` is hxl-csv, hxl-xlsx, template-xlsx or
    template-csv (the template's own layout, downloaded and filled in)."""
    import csv
    import io

    from openpyxl import load_workbook

    from reliefops.cluster.exports import template_csv, template_xlsx
    from tests.cluster.conftest import four_w_csv, four_w_xlsx, table

    if form == "hxl-csv":
        return four_w_csv(rows, above=[["NRC shelter 4W, November 2005"]]), "nrc.csv"
    if form == "hxl-xlsx":
        return four_w_xlsx({"Notes": [["How we fill this in"]], "4W": table(rows)}), "nrc.xlsx"
    if form == "template-xlsx":
        workbook = load_workbook(io.BytesIO(template_xlsx()))
        sheet = workbook["4W"]
        for number, values in enumerate(rows, start=3):
            for column, key in enumerate(TEMPLATE_KEYS, start=1):
                sheet.cell(row=number, column=column, value=values.get(key, ""))
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue(), "template.xlsx"
    text = io.StringIO(template_csv().decode("utf-8").rstrip("\n") + "\n")
    text.seek(0, io.SEEK_END)
    csv.writer(text, lineterminator="\n").writerows([[v.get(k, "") for k in TEMPLATE_KEYS] for v in rows])
    return text.getvalue().encode("utf-8"), "template.csv"


FORMS = ["hxl-csv", "hxl-xlsx", "template-xlsx", "template-csv"]


@pytest.mark.parametrize("form", FORMS)
def test_a_valid_file_goes_in_whole(upload, cluster, form):
    data, name = as_file(GOOD, form)
    result = upload(data=data, filename=name)
    assert (result.added, result.changed) == (3, True)
    assert sorted(live().values_list("row_id", "households", "status")) == [
        ("NRC-1", 100, "completed"),
        ("NRC-2", 240, "completed"),
        ("NRC-3", 100, "planned"),
    ]
    assert live().get(row_id="NRC-3").implementing_org == cluster.irw


@pytest.mark.parametrize("form", FORMS)
def test_an_invalid_file_is_refused_with_every_problem(upload, cluster, form):
    data, name = as_file(BAD, form)
    first = 4 if form == "hxl-csv" else 3  # the CSV has a title above its headers
    with pytest.raises(InvalidInput) as refused:
        upload(data=data, filename=name)
    assert [(p.row, p.field) for p in refused.value.problems] == [
        (first, "#adm2+code"),
        (first + 1, "#status"),
    ]
    assert "did you mean PK504 (Batagram)?" in refused.value.problems[0].reason
    assert "did you mean completed?" in refused.value.problems[1].reason
    assert not ActivityRow.objects.exists()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("form", FORMS)
def test_a_mixed_file_is_refused_whole_and_its_good_rows_go_in_alone(upload, cluster, form):
    # given a stored row, and a file that changes it, adds good rows and has bad ones among them
    upload([row(id="NRC-1", qty="90")])
    before, events = snapshot(), AuditEvent.objects.count()
    mixed = [GOOD[0], BAD[0], *GOOD[1:], BAD[1]]
    data, name = as_file(mixed, form)
    first = 4 if form == "hxl-csv" else 3
    # when it is uploaded, then only the bad rows are named and nothing is written
    with pytest.raises(InvalidInput) as refused:
        upload(data=data, filename=name)
    assert [p.row for p in refused.value.problems] == [first + 1, first + 4]
    assert snapshot() == before
    assert AuditEvent.objects.count() == events
    # and once the bad rows are taken out, the same file goes in: one update, two added
    data, name = as_file(GOOD, form)
    result = upload(data=data, filename=name)
    assert (result.added, result.updated, result.unchanged) == (2, 1, 0)
