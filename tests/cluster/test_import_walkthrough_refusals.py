"""The walk-through of refused files: a site in another area than the row's, a tehsil named under
the wrong district, a locked month beside other problems, a file of headers alone, an elevation
band, an organisation the cluster does not know, a CSV file named .xls, a hashtag row too far down,
and a hashtag written oddly: each refusal says what is wrong and what to write."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from reliefops.cluster.importers import needs_import_file
from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.cluster.services import reporting_period_set_lock
from reliefops.core.errors import InvalidInput
from reliefops.core.roles import Role
from tests.cluster.conftest import COLUMNS, four_w_csv, paired_rows, problems_of, row
from tests.factories import OrganisationFactory, SiteFactory, make_user


def refused(upload, *args, **kwargs) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        upload(*args, **kwargs)
    return [str(p) for p in caught.value.problems]


# --- #4 a site in another area ---------------------------------------------------------------------


def test_a_site_that_lies_in_another_area_refuses_the_row(cluster):
    SiteFactory(code="BLK-HUB", name="IOM Balakot hub", admin_area=cluster.balakot)
    data = four_w_csv([row(adm2="PK504", adm3="PK50401", place="IOM Balakot hub")])
    assert problems_of(data) == [
        "row 3, #loc+name: IOM Balakot hub (BLK-HUB) lies in Bala Kot, PK52201, not in Allai, PK50401; "
        "check the row's place"
    ]


def test_a_site_within_the_rows_area_or_of_its_wider_area_is_taken(cluster):
    SiteFactory(code="BLK-HUB", name="IOM Balakot hub", admin_area=cluster.balakot)
    SiteFactory(code="MNS-WH", name="Mansehra warehouse", admin_area=cluster.mansehra)
    data = four_w_csv(
        [
            row(id="A", adm2="PK522", adm3="", place="IOM Balakot hub"),
            row(id="B", adm2="", adm3="PK52201", place="Mansehra warehouse"),
        ]
    )
    assert problems_of(data) == []


# --- #6 a tehsil named under another district ------------------------------------------------------


def test_a_tehsil_named_under_another_district_says_whose_tehsil_it_is(cluster):
    columns = [c for c in COLUMNS if c[2] not in {"adm2", "adm3"}] + [
        ("District", "#adm2+name", "district"),
        ("Tehsil", "#adm3+name", "tehsil"),
    ]
    data = four_w_csv([row(district="Batagram", tehsil="Balakot")], columns=columns)
    assert problems_of(data) == [
        "row 3, #adm3+name: Balakot (PK52201) is a tehsil of Mansehra, not of Batagram (PK504); check the row"
    ]


# --- #7 a locked month beside other problems -------------------------------------------------------


def test_a_row_of_a_locked_month_is_named_beside_the_files_other_problems(cluster, upload):
    reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=True)
    problems = refused(
        upload,
        [
            row(id="NRC-1", status="Compleeted", end="2005-12-20"),
            row(id="NRC-2", qty="12.5", end="2005-12-20"),
            row(id="NRC-3", end="2005-11-20"),
        ],
    )
    assert problems == [
        "row 3, #status: 'Compleeted' is not a status (planned, ongoing or completed); did you mean "
        "completed?",
        "row 4, #output+num: '12.5' is not a whole number; write a whole count (12 or 13)",
        "row 5, #date+end: 2005-11-20 falls in the reporting period 2005-11, which is locked; ask the "
        "cluster coordinator to reopen it",
    ]
    assert not ActivityRow.objects.exists()


# --- #8 a file of headers alone --------------------------------------------------------------------


def test_a_file_of_headers_alone_is_refused_as_holding_no_rows(cluster, upload):
    assert refused(upload, []) == [
        "whole file: the file holds no 4W rows: no row of data under its headers and hashtags; fill in the "
        "template's rows and upload it again"
    ]


def test_the_command_line_and_the_api_refuse_it_too(cluster, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(four_w_csv([]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem; nothing was written"):
        call_command("cluster", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert "the file holds no 4W rows" in err.getvalue()
    from reliefops.core.services import token_create

    user = make_user(Role.COORDINATOR)
    _, plain = token_create(actor=None, username=user.get_username(), name="test")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    body = {"filename": "empty.csv", "content": four_w_csv([]).decode(), "preview": True}
    answer = client.post("/api/cluster/uploads", json.dumps(body), content_type="application/json")
    assert answer.status_code == 422
    assert "the file holds no 4W rows" in answer.content.decode()


# --- #9 refusals made clearer ----------------------------------------------------------------------


def test_an_elevation_band_that_is_not_one_names_the_values_to_write(cluster):
    data = b"District P-code,Elevation\n#adm2+code,#geo+elevation\nPK504,medium\n"
    with pytest.raises(InvalidInput) as caught:
        needs_import_file(actor=None, data=data, filename="needs.csv", preview=True)
    assert [str(p) for p in caught.value.problems] == [
        "row 3, #geo+elevation: 'medium' is not an elevation band; write one of: below 5,000 ft, "
        "5,000-7,000 ft, above 7,000 ft (or low, middle, high), or leave the cell empty"
    ]


def test_an_unknown_organisation_is_answered_with_those_whose_name_holds_its_words(cluster):
    OrganisationFactory(name="International Committee of the Red Cross", acronym="ICRC", aliases=[])
    OrganisationFactory(
        name="International Federation of Red Cross and Red Crescent Societies", acronym="IFRC", aliases=[]
    )
    OrganisationFactory(name="Pakistan Red Crescent Society", acronym="PRCS", aliases=[])
    OrganisationFactory(name="Croix-Rouge française", acronym="FRC", aliases=["French Red Cross"])
    assert problems_of(four_w_csv([row(prog="Red Cross")])) == [
        "row 3, #org+prog: 'Red Cross' is not an organisation of the cluster; organisations whose name "
        "holds 'red cross': Croix-Rouge française (FRC), International Committee of the Red Cross (ICRC), "
        "International Federation of Red Cross and Red Crescent Societies (IFRC); write one of them, or "
        "add it to the organisations first"
    ]


def test_a_csv_file_named_xls_is_read_as_the_csv_file_it_is(cluster, upload):
    result = upload(data=four_w_csv([row()]), filename="nrc.xls", preview=True)
    assert result.added == 1
    assert result.sheet == ""
    assert "the file is named .xls but holds text: read as a CSV file" in result.notes


def test_a_web_page_named_xls_is_refused_with_what_to_do(cluster, upload):
    page = b"<html><body><table><tr><td>#meta+id</td></tr></table></body></html>"
    assert refused(upload, data=page, filename="export.xls") == [
        "whole file: the file is named .xls but is a web page or XML text, not a workbook; open it in the "
        "spreadsheet program and save it as XLSX or CSV"
    ]


def test_a_hashtag_row_below_the_rows_searched_says_where_it_is_and_how_far_the_reader_looks(cluster):
    data = four_w_csv([row()], above=[[f"note {n}"] for n in range(33)])
    assert problems_of(data) == [
        "whole file: the hashtag row is on row 35, but the reader looks for it in the first 30 rows only; "
        "delete the rows above the table's headers"
    ]


# --- #10 a hashtag written oddly -------------------------------------------------------------------


def test_a_problem_names_the_column_by_its_normal_hashtag_and_the_files_spelling(cluster):
    columns = [(h, "#ORG +prog" if key == "prog" else tag, key) for h, tag, key in COLUMNS]
    assert problems_of(four_w_csv([row(prog="Nobody at all")], columns=columns)) == [
        "row 3, #org+prog (written #ORG +prog): 'Nobody at all' is not an organisation of the cluster; add "
        "it to the organisations first, or write its name as the organisation list has it"
    ]


def test_a_kept_aside_column_written_oddly_is_kept_under_its_own_spelling(cluster, upload):
    columns = [(h, t, k) for h, t, k in COLUMNS] + [("", "#Meta +Remarks", "remarks")]
    upload(data=four_w_csv([row(remarks="road cut")], columns=columns))
    assert ActivityRow.objects.get().extra == {"#Meta +Remarks": "road cut"}


# --- Update of a row that is not stored ------------------------------------------------------------


def test_a_row_marked_update_whose_id_names_no_stored_row_is_refused(cluster, upload):
    # given NRC's stored row NRC-0042
    upload([row(id="NRC-0042")])
    # when a file corrects it under a mistyped id, marked Update
    problems = refused(upload, [row(id="NRC-042", action="Update", qty="150")])
    # then the row is refused, naming the id and what to do, and nothing is added
    assert problems == [
        "row 3, #meta+action: row NRC-042: its action (Update, Edit, Same or the like) says it corrects a "
        "stored row, but the organisation has no row NRC-042; check the row id against the organisation's "
        "rows (the Rows tab, or the template with its rows), or write New if it is a new activity"
    ]
    assert ActivityRow.objects.count() == 1
    # while the same row marked New (or with no action) adds it
    assert upload([row(id="NRC-042", action="New", qty="150")]).added == 1


@pytest.mark.parametrize("word", ["Update", "edited", "Unchanged", "modify"])
def test_every_word_that_says_the_row_is_stored_corrects_a_stored_row(cluster, upload, word):
    upload([row(id="NRC-1")])
    assert upload([row(id="NRC-1", action=word, qty="150")]).updated == 1
    assert "says it corrects a stored row" in refused(upload, [row(id="NRC-2", action=word)])[0]


def test_a_withdrawn_row_marked_update_is_refused_and_marked_new_reported_again(cluster, upload):
    upload([row(id="NRC-1")])
    upload([row(id="NRC-1", action="Delete")])
    assert refused(upload, [row(id="NRC-1", action="Update")]) == [
        "row 3, #meta+action: row NRC-1: its action (Update, Edit, Same or the like) says it corrects a "
        "stored row, but it was withdrawn; write New to report it again"
    ]
    assert upload([row(id="NRC-1", action="New")]).added == 1


def test_a_file_without_ids_marked_update_corrects_nothing_it_cannot_match(cluster, upload):
    columns = [c for c in COLUMNS if c[2] != "id"]
    upload(data=four_w_csv([row()], columns=columns))
    # the same row again, marked Update: found by what it says, unchanged
    assert upload(data=four_w_csv([row(action="Update")], columns=columns)).unchanged == 1
    # with another end date it is another row to the reader, and Update cannot add it
    problems = refused(upload, data=four_w_csv([row(action="Update", end="2005-11-25")], columns=columns))
    assert len(problems) == 1
    assert "the file has no row ids (#meta+id)" in problems[0]
    assert ActivityRow.objects.count() == 1


# --- dates that cannot be ------------------------------------------------------------------------


def test_a_date_before_the_operation_began_is_refused(cluster, settings):
    settings.OPERATION_START = dt.date(2005, 10, 8)
    data = four_w_csv([row(start="2004-11-01", end="2004-11-20")])
    assert problems_of(data) == [
        "row 3, #date+start: 2004-11-01 is before the operation began (2005-10-08); check the year",
        "row 3, #date+end: 2004-11-20 is before the operation began (2005-10-08); check the year",
    ]
    # a month written alone reads as its first day: the operation's first month is taken whole
    assert problems_of(four_w_csv([row(start="Oct 2005", end="Oct 2005")])) == []


def test_a_date_that_reads_both_ways_is_checked_as_it_finally_reads(cluster, settings):
    settings.OPERATION_START = dt.date(2005, 10, 8)
    # 03/11/2005 reads 3 November day first; the last row shows the column writes the month first,
    # so it is 11 March 2005, before the earthquake
    data = four_w_csv(
        [row(id="A", start="03/11/2005", end="04/11/2005"), row(id="B", start="11/29/2005", end="11/30/2005")]
    )
    assert problems_of(data) == [
        "row 3, #date+start: 2005-03-11 is before the operation began (2005-10-08); check the year",
        "row 3, #date+end: 2005-04-11 is before the operation began (2005-10-08); check the year",
    ]


def _month_after_next() -> dt.date:
    today = timezone.localdate()
    return (today.replace(day=1) + dt.timedelta(days=62)).replace(day=1)


def test_a_completed_row_of_a_month_still_to_come_is_refused_and_a_planned_one_taken(cluster, upload):
    later = _month_after_next()
    day = later.replace(day=10).isoformat()
    data = four_w_csv([row(start=day, end=day)])
    assert problems_of(data) == [
        f"row 3, #date+end: the row is completed, but {day} falls in a month still to come (today is "
        f"{timezone.localdate().isoformat()}); check the year, or write the status planned or ongoing"
    ]
    assert upload([row(start=day, end=day, status="planned")]).added == 1
    # a completed row ending later this month is taken: a month's report may be written ahead of its end
    today = timezone.localdate()
    last = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    assert problems_of(four_w_csv([row(id="NRC-2", start=today.isoformat(), end=last.isoformat())])) == []


# --- households beyond the area's -------------------------------------------------------------------


def test_a_row_of_more_households_than_live_in_its_area_is_noted_not_refused(cluster, upload):
    # given Batagram's baseline: 58,000 households (illustrative)
    needs_import_file(
        actor=None,
        data=b"P,Households,Illustrative\n#adm2+code,#population+hh,#meta+illustrative\nPK504,58000,yes\n",
        filename="needs.csv",
    )
    # when rows of Batagram and of its tehsil Allai report 5,000,000 and 60,000 households
    result = upload(
        [
            row(id="NRC-1", hh="5000000"),
            row(id="NRC-2", adm3="PK50401", hh="60000"),
            row(id="NRC-3", hh="58000"),
            row(id="NRC-4", adm2="PK522", hh="900000"),  # Mansehra: no baseline, nothing to compare
        ]
    )
    # then they are added, and the result says which to check, against the baseline of the nearest area
    assert result.added == 4
    assert (
        "2 rows report more households than live in the area by its needs baseline (row 3: 5,000,000 "
        "households, where Batagram (PK504) counts 58,000 (illustrative); row 4: 60,000 households, where "
        "Batagram (PK504) counts 58,000 (illustrative)); check the figures: households, not people?"
    ) in result.notes
    # and the batch keeps the note, for the coordinator who opens it later
    assert ImportBatch.objects.get(pk=result.batch_id).notes == result.notes
    # and a file whose rows all fit says nothing of it; one row is told in the singular
    assert not any("needs baseline" in note for note in upload([row(id="NRC-5", hh="100")]).notes)
    one = upload([row(id="NRC-6", hh="70000")]).notes
    assert any(note.startswith("1 row reports more households than live in the area") for note in one)


def test_a_pipeline_row_that_gives_households_is_told_they_are_not_counted(cluster, upload):
    result = upload([row(id="NRC-1", recipient="IRW", hh="300"), row(id="NRC-2", recipient="IRW", hh="")])
    assert result.added == 2
    assert (
        "1 pipeline row (handed to a partner) gives households (row 3), which are not counted as reached: "
        "the partner the items were handed to reports the households it reaches"
    ) in result.notes


def test_a_corrected_figure_is_written_with_its_thousands_as_an_added_row_writes_it(cluster, upload):
    upload([row(id="NRC-1", qty="12000")])
    result = upload([row(id="NRC-1", qty="12500")])
    assert result.changes[0].fields == (("quantity", "12,000", "12,500"),)


# --- a file of withdrawals ---------------------------------------------------------------------------

WITHDRAWALS = [c for c in COLUMNS if c[2] in {"id", "action", "reporting"}]


def test_a_file_of_withdrawals_needs_only_the_row_ids_and_the_action(cluster, upload):
    upload([row(id="NRC-1"), row(id="NRC-2"), row(id="NRC-3")])
    # when NRC withdraws two rows with a file of ids, actions and its name alone
    result = upload(
        data=four_w_csv(
            [
                row(id="NRC-1", action="Delete", reporting="NRC"),
                row(id="NRC-3", action="Delete", reporting="NRC"),
            ],
            columns=WITHDRAWALS,
        )
    )
    # then they are withdrawn, and the third is left alone
    assert (result.withdrawn, result.added, result.updated) == (2, 0, 0)
    current = ActivityRow.objects.filter(replaced_in__isnull=True)
    assert set(current.filter(withdrawn=False).values_list("row_id", flat=True)) == {"NRC-2"}


def test_a_row_that_is_no_withdrawal_in_such_a_file_asks_for_the_columns_it_lacks(cluster, upload):
    upload([row(id="NRC-1")])
    data = four_w_csv(
        [row(id="NRC-1", action="Delete", reporting="NRC"), row(id="NRC-9", action="New", reporting="NRC")],
        columns=WITHDRAWALS,
    )
    problems = refused(upload, data=data)
    hint = "; a file of withdrawals alone (Delete) needs only the row ids and the action"
    assert problems[:2] == [
        f"row 2, #activity: the file has no column for the activity (#activity){hint}",
        "row 2, #adm2+code: the file has no column for the place: the P-code of the province, district or "
        f"tehsil (#adm2+code){hint}",
    ]
    assert not any("not a withdrawal" in p for p in problems)
    assert ActivityRow.objects.filter(withdrawn=True).count() == 0


def test_the_preview_names_the_rows_the_rule_will_set_aside_among_the_files_own(cluster, upload):
    # given UNHCR's row and IRW's own row of the same shelters, in one file (as a coordinator uploads)
    preview = upload(paired_rows(), preview=True)
    # then the preview says which row will be counted in which, as the applied upload then does
    assert (
        "1 row of the file will be set aside when the upload is applied, each counted in its implementing "
        "partner's own row of the file (row 3 (UNHCR-8) in row 4 (IRW-31)); rows stored before may set "
        "aside more, and the applied upload says how many (the double-counting rule)"
    ) in preview.notes
    assert upload(paired_rows()).set_aside == 1


def test_a_first_upload_is_checked_as_any_other(cluster, upload):
    # nothing of the organisation is stored yet: every row is added, unless it asks otherwise
    reporting_period_set_lock(actor=None, month=dt.date(2005, 10, 1), locked=True, note="closed")
    problems = refused(
        upload,
        [
            row(id="NRC-1", action="Update"),
            row(id="NRC-2", action="Delete"),
            row(id="NRC-3", start="2005-10-10", end="2005-10-20"),
            row(id="NRC-4"),
        ],
    )
    assert [p.split(":")[0] for p in problems] == [
        "row 3, #meta+action",
        "row 4, #meta+id",
        "row 5, #date+end",
    ]
    assert not ActivityRow.objects.exists()
    assert upload([row(id="NRC-4")]).added == 1
