"""Reading partners' 4W files as they come: template or any HXL-tagged CSV or workbook, messy
layouts, Excel errors, dates, spellings; and every refusal names row, column, value and a fix."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.cluster.importers import parse_activity_file
from reliefops.cluster.models import ActivityRow
from reliefops.cluster.services import reporting_period_set_lock
from reliefops.core.errors import InvalidInput
from tests.cluster.conftest import COLUMNS, four_w_csv, four_w_xlsx, problems_of, read, row, table

# --- workbooks -------------------------------------------------------------------------------------


def test_a_workbook_is_read_from_its_4w_sheet_below_titles_and_legends(cluster, upload):
    # given a workbook with a read-me sheet, a lists sheet, and the 4W sheet whose hashtag row sits
    # under a title, a legend and the header row
    rows = table([row(id="NRC-1", start=dt.date(2005, 11, 2), end=dt.date(2005, 11, 30), qty=120, hh=118)])
    data = four_w_xlsx(
        {
            "Read me": [["How to fill in the 4W"], ["One row per activity and place"]],
            "Lists": [["Status"], ["planned"], ["ongoing"], ["completed"]],
            "4W": [["Emergency Shelter Cluster 4W — NRC"], ["Legend: grey columns are optional"], [], *rows],
        }
    )
    # when it is uploaded
    result = upload(data=data, filename="nrc-4w.xlsx")
    # then the 4W sheet is read, and the notes say which sheet and where the table starts
    assert result.added == 1
    assert result.sheet == "4W"
    assert any("read the sheet '4W'" in note for note in result.notes)
    stored = ActivityRow.objects.get()
    assert (stored.start_date, stored.end_date, stored.quantity, stored.households) == (
        dt.date(2005, 11, 2),
        dt.date(2005, 11, 30),
        120,
        118,
    )
    assert stored.line == 6


def test_excel_error_cells_are_refused_where_a_value_is_needed_and_kept_where_it_is_not(cluster):
    # given a workbook whose quantity cell and a remarks cell hold #N/A and #VALUE!
    columns = [*COLUMNS, ("Remarks", "#description", "remarks")]
    rows = table([row(id="NRC-1", qty=5, remarks="x"), row(id="NRC-2", qty=7, remarks="y")], columns)
    data = four_w_xlsx({"4W": rows}, errors={"4W": {"O3": "#N/A", "S4": "#VALUE!"}})
    # when it is read, then the quantity's error is a problem, and the remark's is kept aside as text
    report = parse_activity_file(data, filename="4w.xlsx")
    assert [str(p) for p in report.problems] == [
        "row 3, #output+num: the cell holds the Excel error #N/A; enter the value itself or leave it empty"
    ]
    assert report.rows[-1].extra == {"Remarks": "#VALUE!"}


def unsaved(formula: str) -> str:
    return (
        f"the cell holds a formula ({formula}) whose result was not saved in the file; open the file in a "
        "spreadsheet program and save it again, or type the value"
    )


def test_a_formula_whose_result_was_not_saved_is_refused_naming_its_cell_not_read_as_empty(cluster):
    # given a workbook saved by a program that does not compute formulas: formulas in the counts,
    # the end date, the place, a row id and a remark, and in a total row; one formula saved with
    # its result, one text formula with its empty result; a Delete row with a formula in its quantity
    columns = [*COLUMNS, ("Remarks", "#description", "remarks")]
    rows = [
        row(id="NRC-1", qty="120", hh="=O3", f="=ROUND(P3*3.5,0)"),
        row(id="NRC-2", qty="=100+20"),
        row(id="NRC-3", place='="Camp "&A5'),
        row(id='="NRC-"&ROW()'),
        row(id="NRC-5", end="=DATE(2005,11,20)", remarks="=A8&B8"),
        row(id="NRC-6", qty="=90+10", hh="=O9", remarks="=A9"),
        row(id="NRC-7", action="Delete", qty="=1+1"),
        row(id="Total", prog="", activity="", adm2="", status="", qty="=SUM(O3:O9)"),
    ]
    data = four_w_xlsx({"4W": table(rows, columns)}, results={"4W": {"O8": "100", "P8": "100", "S8": ""}})
    # when it is read
    report = parse_activity_file(data, filename="4w.xlsx")
    # then each formula without its result is a problem naming its cell, and the others are read
    assert [str(p) for p in report.problems] == [
        f"row 3, #reached+hh: {unsaved('=O3')}",
        f"row 3, #reached+ind+f: {unsaved('=ROUND(P3*3.5,0)')}",
        f"row 4, #output+num: {unsaved('=100+20')}",
        f"row 5, #loc+name: {unsaved('=' + chr(34) + 'Camp ' + chr(34) + '&A5')}",
        f"row 6, #meta+id: {unsaved('=' + chr(34) + 'NRC-' + chr(34) + '&ROW()')}",
        f"row 7, #date+end: {unsaved('=DATE(2005,11,20)')}",
        f"row 7, #description: {unsaved('=A8&B8')}",
    ]
    assert [(r.row_id, r.action, r.quantity, r.households, r.extra) for r in report.rows] == [
        ("NRC-6", "upsert", 100, 100, None),
        ("NRC-7", "delete", None, None, None),
    ]
    assert any("left out 1 total row (row 10)" in note for note in report.notes)


def test_a_formula_without_its_result_in_a_locked_month_is_refused_for_the_formula(cluster, upload):
    # given NRC-1's 100 households stored, and November 2005 locked since
    upload([row(id="NRC-1", qty="120", hh="100")])
    reporting_period_set_lock(actor=None, month=dt.date(2005, 11, 1), locked=True)
    # when the partner's file, saved again by a program that does not compute formulas, gives its
    # households as a formula without its result
    data = four_w_xlsx({"4W": table([row(id="NRC-1", qty="120", hh="=O3")])})
    with pytest.raises(InvalidInput) as refused:
        upload(data=data, filename="4w.xlsx")
    # then the file is refused for the formula (not for the locked month, nor emptying the households)
    assert [str(p) for p in refused.value.problems] == [f"row 3, #reached+hh: {unsaved('=O3')}"]
    assert ActivityRow.objects.get().households == 100


def test_excel_errors_written_as_text_in_a_csv_are_recognised(cluster):
    data = four_w_csv([row(hh="#DIV/0!")])
    assert problems_of(data) == [
        "row 3, #reached+hh: the cell holds the Excel error #DIV/0!; enter the value itself or leave it empty"
    ]


# --- hashtags and headers --------------------------------------------------------------------------


def test_hashtags_with_spaces_and_odd_case_are_read(cluster):
    columns = [(h, tag.upper().replace("+", " +"), key) for h, tag, key in COLUMNS]
    report = read(four_w_csv([row(impl="IRW")], columns=columns))
    assert report.rows[0].implementing_org_id == cluster.irw.pk


def test_columns_outside_the_schema_are_kept_aside_with_each_row(cluster, upload):
    columns = [*COLUMNS, ("Remarks", "#description", "remarks"), ("Donor code", "", "code")]
    result = upload(data=four_w_csv([row(remarks="road blocked", code="D-7")], columns=columns))
    assert result.kept_aside == ["Remarks (#description)", "Donor code"]
    assert ActivityRow.objects.get().extra == {"Remarks": "road blocked", "Donor code": "D-7"}


def test_a_file_without_hashtags_is_read_by_the_templates_headers(cluster):
    report = read(four_w_csv([row()], tags=False))
    assert len(report.rows) == 1
    assert any("recognised by the template's headers" in n for n in report.notes)


def test_a_file_without_hashtags_or_known_headers_is_refused_with_the_way_out(cluster):
    data = b"Agency,What,Where\nNRC,tents,Batagram\n"
    [problem] = problems_of(data)
    assert problem.startswith("whole file: no HXL hashtag row (#meta+id, #meta+action")
    assert "download the template" in problem


def test_two_columns_for_one_field_are_refused(cluster):
    columns = [*COLUMNS, ("Agency again", "#org+impl", "impl")]
    [problem] = problems_of(four_w_csv([row()], columns=columns))
    assert "two columns stand for implementing organisation (#org+impl): column E and column S" in problem


def test_missing_columns_are_all_listed(cluster):
    columns = [c for c in COLUMNS if c[2] not in {"status", "start", "end"}]
    assert problems_of(four_w_csv([row()], columns=columns)) == [
        "row 2, #status: the file has no column for the status (planned, ongoing or completed)",
        "row 2, #date+end: the file has no column for the dates (#date+start, #date+end)",
    ]


def test_total_rows_are_left_out_and_said_so(cluster):
    data = four_w_csv([row(id="NRC-1"), row(id="", prog="Total", qty="100", hh="100")])
    report = read(data)
    assert len(report.rows) == 1
    assert "left out 1 total row (row 4)" in report.notes


TOTAL_BY_ID = {"activity": "", "adm2": "", "status": "", "start": "", "end": "", "qty": "480", "hh": "470"}


@pytest.mark.parametrize("word", ["Total", "Grand total", "GRAND TOTAL", "Sub-total"])
def test_a_total_row_named_in_the_row_id_column_is_left_out(cluster, word):
    # given a file whose last row says "Total" in the row id column, with the figures added up and
    # no activity, place, status or dates
    data = four_w_csv([row(id="NRC-1"), row(id="NRC-2"), row(id=word, **TOTAL_BY_ID)])
    # when it is read
    report = read(data)
    # then the total row is left out, and said so
    assert [r.row_id for r in report.rows] == ["NRC-1", "NRC-2"]
    assert "left out 1 total row (row 5)" in report.notes
    assert report.rows_read == 2


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"activity": "Tents distributed"}, id="an activity"),
        pytest.param({"adm2": "PK504"}, id="a place"),
        pytest.param({"place": "Allai camp"}, id="a place name"),
        pytest.param({"status": "completed"}, id="a status"),
        pytest.param({"action": "Delete"}, id="marked Delete"),
    ],
)
def test_a_row_named_total_that_says_what_was_done_where_is_a_row(cluster, values):
    # given a row whose id is "Total" but which names an activity, a place or a status, or is
    # marked Delete: a partner's row so named
    data = four_w_csv([row(id="NRC-1"), row(id="Total", **{**TOTAL_BY_ID, **values})])
    # when it is read, then it is not left out: it is a row, refused when it is incomplete
    report = parse_activity_file(data, filename="4w.csv")
    assert not any(note.startswith("left out") for note in report.notes)
    assert report.rows_read == 2
    if values.get("action") == "Delete":
        assert [(r.row_id, r.action) for r in report.rows][1] == ("Total", "delete")
    else:
        assert report.problems


def test_a_complete_row_named_total_is_imported(cluster, upload):
    # given a complete row whose partner named it "Total"
    result = upload([row(id="Total")])
    # then it is imported as any row
    assert result.added == 1
    assert ActivityRow.objects.get().row_id == "Total"


@pytest.mark.parametrize(
    ("encoding", "delimiter", "note"),
    [
        ("cp1252", ",", "not UTF-8: read as Windows-1252 (Excel's 'CSV' on Windows)"),
        ("utf-8", ";", "columns separated by semicolons"),
        ("utf-16", "\t", "columns separated by tabs"),
    ],
)
def test_csv_files_in_other_encodings_and_delimiters_are_read(cluster, encoding, delimiter, note):
    report = read(
        four_w_csv([row(place="Banna \u2013 Médecins camp")], encoding=encoding, delimiter=delimiter)
    )
    assert report.rows[0].location == "Banna \u2013 Médecins camp"
    assert note in report.notes


# --- organisations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "NRC",
        "nrc",
        "Norwegian  Refugee Council",
        "norwegian refugee council ",
        "N.R.C.",
        "Norwegian Refugee Council (NRC)",
    ],
)
def test_organisation_names_vary_in_case_spacing_and_punctuation(cluster, written):
    assert read(four_w_csv([row(prog=written)])).rows[0].programming_org_id == cluster.nrc.pk


def test_another_name_of_an_organisation_resolves_to_it(cluster):
    report = read(four_w_csv([row(prog="Islamic Relief", funder="UK Aid")]))
    assert (report.rows[0].programming_org_id, report.rows[0].funding_org_id) == (
        cluster.irw.pk,
        cluster.dfid.pk,
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "Norwegian Refugee Counsel",
            "'Norwegian Refugee Counsel' is not an organisation of the cluster; "
            "did you mean Norwegian Refugee Council (NRC)?",
        ),
        (
            "Oxfam Intl",
            "'Oxfam Intl' is not an organisation of the cluster; "
            "did you mean Oxfam GB (Oxfam), also known as 'Oxfam International'?",
        ),
        (
            "Shelter for All",
            "'Shelter for All' is not an organisation of the cluster; add it to the organisations first, "
            "or write its name as the organisation list has it",
        ),
    ],
)
def test_an_unknown_organisation_is_refused_with_the_nearest_one(cluster, written, expected):
    assert problems_of(four_w_csv([row(impl=written)])) == [f"row 3, #org+impl: {expected}"]


def test_a_pipeline_row_to_itself_is_refused(cluster):
    [problem] = problems_of(four_w_csv([row(prog="IOM", recipient="IOM")]))
    assert "hands the items to itself" in problem


# --- places --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"adm2": "PK5O4"}, "row 3, #adm2+code: 'PK5O4' is not a P-code; did you mean PK504 (Batagram)?"),
        ({"adm2": "PK5044"}, "row 3, #adm2+code: 'PK5044' is not a P-code; did you mean PK504 (Batagram)?"),
        (
            {"adm2": "PK504", "adm3": "PK52201"},
            "row 3, #adm2+code: PK52201 (Bala Kot) does not lie in PK504 (Batagram); "
            "check the P-codes of this row",
        ),
        (
            {"adm2": "", "adm3": ""},
            "row 3, #adm2+code: no place: give the P-code of the tehsil, district or province",
        ),
    ],
)
def test_a_bad_p_code_is_refused_with_the_nearest_one(cluster, values, expected):
    assert problems_of(four_w_csv([row(**values)])) == [expected]


def test_a_bad_p_code_is_explained_by_the_name_in_the_same_row(cluster):
    columns = [*COLUMNS, ("District", "#adm2+name", "district")]
    [problem] = problems_of(four_w_csv([row(adm2="PK599", district="Battagram")], columns=columns))
    assert problem.endswith("; 'Battagram' is PK504 (Batagram)")


def test_place_names_stand_in_for_missing_p_codes(cluster):
    columns = [c for c in COLUMNS if c[2] not in {"adm2", "adm3"}]
    columns += [("District", "#adm2+name", "district"), ("Tehsil", "#adm3+name", "tehsil")]
    report = read(four_w_csv([row(district="Battagram", tehsil="Alai")], columns=columns))
    assert report.rows[0].admin_area_id == cluster.allai.pk


def test_an_ambiguous_place_name_asks_for_the_p_code(cluster):
    from tests.factories import AdminAreaFactory

    AdminAreaFactory(pcode="PK10109", name="Allai", level="tehsil", parent=cluster.bagh)
    columns = [c for c in COLUMNS if c[2] not in {"adm2", "adm3"}] + [("Tehsil", "#adm3+name", "tehsil")]
    assert problems_of(four_w_csv([row(tehsil="Allai")], columns=columns)) == [
        "row 3, #adm3+name: 'Allai' could be PK10109 (Allai) or PK50401 (Allai); give the P-code"
    ]


def test_a_known_site_gives_the_row_its_place(cluster):
    from tests.factories import SiteFactory

    site = SiteFactory(code="DP-BANA", name="Bana helipad", admin_area=cluster.allai)
    report = read(four_w_csv([row(adm2="", place="Bana helipad")]))
    assert (report.rows[0].site_id, report.rows[0].admin_area_id) == (site.pk, cluster.allai.pk)


# --- activities, statuses, numbers ---------------------------------------------------------------------


def test_the_item_names_the_activity_when_the_activity_is_not_one_of_ours(cluster):
    columns = [*COLUMNS, ("Item", "#item+name", "item")]
    report = read(four_w_csv([row(activity="NFI distribution", item="Blanket")], columns=columns))
    assert report.rows[0].activity_id == cluster.blankets.pk


@pytest.mark.parametrize(
    ("item", "activity"),
    [
        ("Blanket", "blankets"),
        ("Blankets", "blankets"),  # a plural names the item as its singular does
        ("CGI sheets", "cgi"),
        ("Tents distributed", "tents"),  # the activity's own name, written under #item+name
        ("tents", "tents"),  # one of its other names
        ("TENTS", "tents"),  # its code
    ],
)
def test_the_item_alone_names_the_activity_by_its_item_or_by_the_activitys_own_names(cluster, item, activity):
    columns = [*COLUMNS, ("Item", "#item+name", "item")]
    report = read(four_w_csv([row(activity="", item=item)], columns=columns))
    assert not report.problems
    assert report.rows[0].activity_id == getattr(cluster, activity).pk


def test_an_item_alone_that_names_no_activity_says_what_it_is_and_which_activity_is_nearest(cluster):
    from tests.factories import ItemFactory

    ItemFactory(code="TENT-WINTER", name="Family tent (winterized)")
    columns = [*COLUMNS, ("Item", "#item+name", "item")]
    winter, mats, error = problems_of(
        four_w_csv(
            [row(activity="", item="Family tent (winterized)"), row(activity="", item="Sleeping mats"),
             row(activity="", item="#N/A")],
            columns=columns,
        )
    )  # fmt: skip
    listing = "use one of: Tents distributed, Blankets distributed, CGI sheets distributed, "
    listing += "Transitional shelters built"
    assert winter == (
        "row 3, #item+name: 'Family tent (winterized)' is the catalogue's Family tent (winterized) "
        f"(TENT-WINTER), which no activity of the cluster counts; give the activity (#activity): {listing}"
    )
    assert (
        mats
        == f"row 4, #item+name: 'Sleeping mats' names no activity; give the activity (#activity): {listing}"
    )
    assert (
        error
        == "row 5, #item+name: the cell holds the Excel error #N/A; enter the value itself or leave it empty"
    )


def test_an_item_that_is_not_the_activitys_is_refused(cluster):
    columns = [*COLUMNS, ("Item", "#item+name", "item")]
    [problem] = problems_of(four_w_csv([row(activity="Tents distributed", item="Blanket")], columns=columns))
    assert problem == "row 3, #item+name: 'Blanket' is not the item of tents distributed (Tent, family)"


def test_an_unknown_activity_is_refused_with_the_nearest_one(cluster):
    assert problems_of(four_w_csv([row(activity="Tent distributions")])) == [
        "row 3, #activity: 'Tent distributions' is not an activity of the cluster; "
        "did you mean Tents distributed?"
    ]


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("Completed", "completed"),
        ("done", "completed"),
        ("On-going", "ongoing"),
        ("in progress", "ongoing"),
        ("Planned", "planned"),
    ],
)
def test_statuses_are_read_in_their_usual_spellings(cluster, written, status):
    assert read(four_w_csv([row(status=written)])).rows[0].status == status


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"status": "Compleeted"},
            "#status: 'Compleeted' is not a status (planned, ongoing or completed); did you mean completed?",
        ),
        ({"status": ""}, "#status: the status is empty; write planned, ongoing or completed"),
        ({"qty": "-5"}, "#output+num: -5 is negative; write 0 or more, or leave the cell empty"),
        ({"qty": "12.5"}, "#output+num: '12.5' is not a whole number; write a whole count (12 or 13)"),
        ({"qty": "lots"}, "#output+num: 'lots' is not a number; write it in digits, as 1200 or 1,200"),
        ({"qty": "", "hh": ""}, "#output+num: give the quantity or the households reached"),
        (
            {"start": "2005-12-01", "end": "2005-11-01"},
            "#date+end: 2005-11-01 is before the start date 2005-12-01; "
            "are the start and the end dates swapped?",
        ),
        ({"start": "", "end": ""}, "#date+end: give the end date (or the start date)"),
        (
            {"end": "31/02/2006"},
            "#date+end: '31/02/2006' is not a date (no day 31 in month 2 of 2006, which has 28 days; "
            "check the day)",
        ),
        ({"end": "1905-11-20"}, "#date+end: '1905-11-20' is outside 1990-2099; check the year"),
        (
            {"end": "30-Foo-2005"},
            "#date+end: '30-Foo-2005' is not a date: 'foo' is not a month; write it as 30-Nov-2005 or "
            "2005-11-30",
        ),
        (
            {"end": "13/14/2005"},
            "#date+end: '13/14/2005' is not a date: neither 13 nor 14 is a month; write it as 2005-11-30",
        ),
        ({"id": ""}, "#meta+id: the row id is empty; every row needs the partner's own id"),
        ({"action": "maybe"}, "#meta+action: 'maybe' is not an action; write New, Update or Delete"),
    ],
)
def test_every_bad_value_is_refused_with_its_column_value_and_reason(cluster, values, expected):
    assert problems_of(four_w_csv([row(**values)])) == [f"row 3, {expected}"]


@pytest.mark.parametrize(
    ("written", "number"), [("1,200", 1200), ("1 200", 1200), ("1200.0", 1200), ("-", None)]
)
def test_numbers_are_read_as_people_write_them(cluster, written, number):
    assert read(four_w_csv([row(qty=written)])).rows[0].quantity == number


# --- dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "2005-11-30",
        "30/11/2005",
        "30-11-2005",
        "30.11.05",
        "30 Nov 2005",
        "30-Nov-05",
        "Nov 30, 2005",
        "November 30 2005",
        "38686",
        "2005/11/30",
        "20051130",
    ],
)
def test_dates_are_read_in_the_formats_people_use(cluster, written):
    assert read(four_w_csv([row(start="", end=written)])).rows[0].end_date == dt.date(2005, 11, 30)


def test_a_date_written_as_eight_digits_in_a_workbook_number_cell_is_read(cluster):
    # given a workbook whose end dates are numbers as a database exported them (20051130)
    data = four_w_xlsx({"4W": table([row(start="", end=20051130)])})
    # then the number is read as the day it writes, not as an Excel day number
    assert read(data, filename="4w.xlsx").rows[0].end_date == dt.date(2005, 11, 30)
    # and eight digits that are no day are refused, saying why
    bad = four_w_csv([row(start="", end="20051131")])
    assert problems_of(bad) == [
        "row 3, #date+end: '20051131' is not a date "
        "(no day 31 in month 11 of 2005, which has 30 days; check the day)"
    ]


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        pytest.param("2006-13-01", "there is no month 13; write it as 2006-12-01 or 01/12/2006", id="iso"),
        pytest.param("2006-00-15", "there is no month 0; write it as 2006-01-15 or 15/01/2006", id="month-0"),
        pytest.param(
            "15/00/2006", "there is no month 0; write it as 2006-01-15 or 15/01/2006", id="day-first"
        ),
        pytest.param(
            "20061301", "there is no month 13; write it as 2006-12-01 or 01/12/2006", id="eight-digits"
        ),
        pytest.param("2006-13", "there is no month 13; write it as 2006-12 or Dec 2006", id="year-month"),
        pytest.param("13/2006", "there is no month 13; write it as 2006-12 or Dec 2006", id="month-year"),
    ],
)
def test_a_date_with_no_such_month_is_refused_saying_so(cluster, written, reason):
    # given an end date whose month is outside 1-12, when it is read, then the refusal names the month
    assert problems_of(four_w_csv([row(start="", end=written)])) == [
        f"row 3, #date+end: '{written}' is not a date: {reason}"
    ]


@pytest.mark.parametrize(
    ("start", "end", "suggestion"),
    [
        pytest.param("2006-12-15", "2006-01-10", "did you mean 2007-01-10, in the next year?", id="new-year"),
        pytest.param("2005-12-01", "2005-11-01", "are the start and the end dates swapped?", id="swapped"),
    ],
)
def test_an_end_before_its_start_is_refused_with_the_likely_slip(cluster, start, end, suggestion):
    [problem] = problems_of(four_w_csv([row(start=start, end=end)]))
    assert problem == f"row 3, #date+end: {end} is before the start date {start}; {suggestion}"


def test_ambiguous_dates_are_read_day_first_as_in_pakistan(cluster):
    assert read(four_w_csv([row(start="", end="03/11/2005")])).rows[0].end_date == dt.date(2005, 11, 3)


@pytest.mark.parametrize(
    ("dates", "note"),
    [
        pytest.param(
            [("3/1/2006", "3/10/2006"), ("4/1/2006", "4/5/2006")],
            "every date of #date+start and #date+end reads both ways (3/1/2006); they were read day first "
            "(3 January 2006); if the file writes the month first, write the dates as 2006-03-01",
            id="every-date",
        ),
        pytest.param(
            [("2006-01-03", "3/10/2006"), ("2006-01-04", "2006-01-20")],
            "dates of #date+end read both ways (3/10/2006), and no date of the file one way only; they were "
            "read day first (3 October 2006); if the file writes the month first, write the dates as "
            "2006-03-10",
            id="some-dates",
        ),
    ],
)
def test_dates_that_read_both_ways_and_nothing_else_are_read_day_first_and_said_so(cluster, dates, note):
    # given a file whose dates read both ways, none of them one way only (a US-locale Excel's 3/1/2006)
    rows = [row(id=f"NRC-{n}", start=start, end=end) for n, (start, end) in enumerate(dates)]
    # when it is read, then they are read day first, and a note says so, with how to write them
    report = read(four_w_csv(rows))
    assert report.rows[0].end_date.day == 3
    assert [n for n in report.notes if "both ways" in n] == [note]


@pytest.mark.parametrize(
    "dates",
    [
        pytest.param([("3/1/2006", "25/01/2006")], id="a-date-reads-day-first-only"),
        pytest.param([("1/3/2006", "01/25/2006")], id="a-date-reads-month-first-only"),
        pytest.param([("1/1/2006", "2006-01-20")], id="none-reads-both-ways"),
    ],
)
def test_no_note_on_dates_read_both_ways_when_the_file_says_the_order(cluster, dates):
    rows = [row(id=f"NRC-{n}", start=start, end=end) for n, (start, end) in enumerate(dates)]
    assert not [n for n in read(four_w_csv(rows)).notes if "both ways" in n]


def test_an_ambiguous_date_read_day_first_is_still_checked_against_the_other_date(cluster):
    # given a start date that reads both ways (1 December or 12 January), read day first, after the
    # end date
    data = four_w_csv([row(start="1/12/2005", end="2005-11-20"), row(id="NRC-2", start="", end="03/11/2005")])
    # then the row is refused for it, as a start written 2005-12-01 would be
    assert problems_of(data) == [
        "row 3, #date+end: 2005-11-20 is before the start date 2005-12-01; "
        "are the start and the end dates swapped?"
    ]


def test_a_column_that_writes_the_month_first_is_read_month_first(cluster):
    report = read(four_w_csv([row(start="", end="11/30/2005"), row(id="NRC-2", start="", end="12/03/2005")]))
    assert [r.end_date for r in report.rows] == [dt.date(2005, 11, 30), dt.date(2005, 12, 3)]
    assert any("month first" in note for note in report.notes)


def test_a_date_column_whose_dates_read_both_ways_follows_the_files_other_date_column(cluster):
    # given an end column that writes the month first (20 March) and start dates that read both
    # ways (3 January or 1 March)
    report = read(
        four_w_csv(
            [
                row(start="03/01/2006", end="03/20/2006"),
                row(id="NRC-2", start="02/01/2006", end="02/28/2006"),
            ]
        )
    )
    # then the starts are read month first too, and a note says why
    assert [(r.start_date, r.end_date) for r in report.rows] == [
        (dt.date(2006, 3, 1), dt.date(2006, 3, 20)),
        (dt.date(2006, 2, 1), dt.date(2006, 2, 28)),
    ]
    assert any("#date+start" in note and "other date column" in note for note in report.notes), report.notes
    # and an ambiguous end read month first is still checked against its start
    data = four_w_csv(
        [row(start="03/01/2006", end="03/20/2006"), row(id="NRC-2", start="03/25/2006", end="03/02/2006")]
    )
    assert problems_of(data) == [
        "row 4, #date+end: 2006-03-02 is before the start date 2006-03-25; "
        "are the start and the end dates swapped?"
    ]


def test_a_date_column_with_day_first_dates_of_its_own_keeps_its_order(cluster):
    # the start column writes the day first (25/01/2006), the end column the month first (03/20/2006):
    # each is read its own way, and the start's ambiguous dates stay day first
    report = read(
        four_w_csv(
            [
                row(start="25/01/2006", end="03/20/2006"),
                row(id="NRC-2", start="03/01/2006", end="03/21/2006"),
            ]
        )
    )
    assert [r.start_date for r in report.rows] == [dt.date(2006, 1, 25), dt.date(2006, 1, 3)]
    assert [r.end_date for r in report.rows] == [dt.date(2006, 3, 20), dt.date(2006, 3, 21)]


def test_a_column_mixing_day_first_and_month_first_dates_is_refused_where_it_breaks(cluster):
    data = four_w_csv(
        [
            row(start="", end="30/11/2005"),
            row(id="NRC-2", start="", end="25/11/2005"),
            row(id="NRC-3", start="", end="11/28/2005"),
        ]
    )
    [problem] = problems_of(data)
    assert problem.startswith("row 5, #date+end: '11/28/2005' reads only with the month first")


def test_a_month_alone_ends_on_the_last_day_of_the_month(cluster):
    report = read(four_w_csv([row(start="Nov 2005", end="Dec 2005")]))
    assert (report.rows[0].start_date, report.rows[0].end_date) == (
        dt.date(2005, 11, 1),
        dt.date(2005, 12, 31),
    )


# --- files without row ids -----------------------------------------------------------------------------


def test_a_file_without_row_ids_matches_rows_by_what_they_say(cluster, upload):
    columns = [c for c in COLUMNS if c[2] != "id"]
    rows = [row(qty="100"), row(adm2="PK522", qty="40")]
    first = upload(data=four_w_csv(rows, columns=columns))
    assert first.added == 2
    assert any("no row ids" in n for n in first.notes)
    # a corrected figure updates the row; the same file again changes nothing
    assert upload(data=four_w_csv([row(qty="90"), rows[1]], columns=columns)).updated == 1
    assert not upload(data=four_w_csv([row(qty="90"), rows[1]], columns=columns)).changed


def test_rows_without_ids_that_say_the_same_thing_are_refused(cluster, upload):
    columns = [c for c in COLUMNS if c[2] != "id"]
    with pytest.raises(InvalidInput, match="the same organisations, activity, place and dates as row 3"):
        upload(data=four_w_csv([row(), row(qty="5")], columns=columns))


def test_each_rows_fingerprint_is_that_of_its_values(cluster):
    """The reader writes a row's fingerprint from parts it makes once per organisation and date;
    it must be row_digest() of the row's values, as finish() computes it, whatever the values."""
    from reliefops.cluster.importers.activities import finish
    from tests.factories import SiteFactory

    SiteFactory(code="DP-BANA", name="Bana helipad", admin_area=cluster.allai)
    columns = [*COLUMNS, ("Remarks", "#description", "remarks")]
    rows = [
        row(id="A-1"),
        row(
            id="A-2",
            impl="IRW",
            funder="",
            recipient="",
            place="O'Brien's camp \"north\"",
            remarks="it's late",
        ),
        row(id="A-3", adm2="", place="Bana helipad", start="", end="Nov 2005", qty="", hh="40", f="7", m="0"),
        row(id="A-4", status="planned", start="2005-12-01", end="", qty="12", hh="", remarks="é ü"),
        row(id="A-5", recipient="IRW", hh=""),
    ]
    report = read(four_w_csv(rows, columns=columns))
    assert len(report.rows) == 5
    assert [r.digest for r in report.rows] == [finish(r, True).digest for r in report.rows]
    assert len({r.digest for r in report.rows}) == 5
