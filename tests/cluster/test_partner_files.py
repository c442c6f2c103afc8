"""Partners' files as they come, case by case: what a messy 4W file must never do silently (a count
read a thousand times smaller, a cell cut short, a column's values dropped, a row counted twice),
and the titles, legends and stray words that must not hide the table."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.cluster.models import ActivityRow
from tests.cluster.conftest import COLUMNS, four_w_csv, four_w_xlsx, problems_of, read, row, table

# --- numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "count"), [("1.000", "1,000"), ("12.500", "12,500"), ("2.000.000", "2,000,000")]
)
def test_a_count_with_a_dot_between_thousands_is_refused_not_read_as_a_decimal(cluster, cell, count):
    # given a European spreadsheet's count (1.000 is a thousand there, one elsewhere)
    problems = problems_of(four_w_csv([row(qty=cell, hh=cell)], delimiter=";"))
    # then both readings are named, and the row is refused rather than stored a thousand times smaller
    assert len(problems) == 2
    assert problems[0].startswith(f"row 3, #output+num: '{cell}' could be {count} (a dot between thousands)")
    assert "#reached+hh" in problems[1]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1.0", 1),
        ("1200.00", 1200),
        ("1,200", 1200),
        ("1 200", 1200),
        ("1\u00a0200", 1200),  # a no-break space
        ("12\u202f500", 12500),  # the narrow no-break space of French-locale spreadsheets
        ("1\u2009200", 1200),  # a thin space
        ("1'200", 1200),  # Swiss
    ],
)
def test_counts_that_read_one_way_only_are_still_read(cluster, cell, value):
    assert read(four_w_csv([row(qty=cell)])).rows[0].quantity == value


# --- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["2006-03-20T00:00:00", "2006-03-20T10:15:00Z", "2006-03-20t10:15+05:00"])
def test_a_date_and_time_as_iso_text_is_read_as_its_day(cluster, cell):
    report = read(four_w_csv([row(start="2006-03-01", end=cell)]))
    assert report.rows[0].end_date == dt.date(2006, 3, 20)


def test_a_file_without_ids_whose_dates_read_month_first_keeps_its_rows_ids(cluster, upload):
    # given a file without row ids whose dates write the month first (03/20/2006)
    columns = [c for c in COLUMNS if c[2] != "id"]
    first = upload(data=four_w_csv([row(start="03/01/2006", end="03/20/2006")], columns=columns))
    assert first.added == 1
    # when the same row comes again with its dates written otherwise, then with a new figure
    again = upload(data=four_w_csv([row(start="2006-03-01", end="2006-03-20")], columns=columns))
    corrected = upload(
        data=four_w_csv([row(start="2006-03-01", end="2006-03-20", qty="90")], columns=columns)
    )
    # then it is the same row: unchanged, then updated; never a second row counted twice
    assert not again.changed
    assert (corrected.added, corrected.updated) == (0, 1)
    assert ActivityRow.objects.filter(replaced_in__isnull=True).count() == 1


# --- cells that must not be cut or dropped -------------------------------------------------------------


def test_a_place_longer_than_its_column_is_refused_not_cut(cluster):
    problems = problems_of(four_w_csv([row(place="Village " * 30)]))
    assert problems == ["row 3, #loc+name: 'Village Village Vill…' is longer than 200 characters; shorten it"]


def test_two_columns_of_one_header_keep_both_their_values(cluster):
    # given two columns headed Remarks, neither with a hashtag
    columns = [*COLUMNS, ("Remarks", "", "r1"), ("Remarks", "", "r2")]
    report = read(four_w_csv([row(r1="first remark", r2="second remark")], columns=columns))
    # then each is kept, the second told apart by its letter
    assert report.rows[0].extra == {"Remarks": "first remark", "Remarks (column T)": "second remark"}
    assert any("Remarks, Remarks (column T)" in note for note in report.notes)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_column_without_header_or_hashtag_is_kept_aside_by_its_letter(cluster, kind):
    # given a column with neither header nor hashtag, within the table (a column headed Remarks
    # follows it), holding a value in one row
    columns = [*COLUMNS, ("", "", "donor"), ("Remarks", "", "remarks")]
    rows = [row(donor="ECHO-12"), row(id="NRC-2", remarks="late")]
    data = four_w_csv(rows, columns=columns) if kind == "csv" else four_w_xlsx({"4W": table(rows, columns)})
    report = read(data, filename=f"4w.{kind}")
    # then its value is kept with the row, and the note names the column
    assert [r.extra for r in report.rows] == [{"column S": "ECHO-12"}, {"Remarks": "late"}]
    assert any("kept aside 2 columns outside the 4W schema: column S, Remarks" in n for n in report.notes)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_value_right_of_the_table_is_left_out_with_a_note_in_a_workbook_as_in_a_csv_file(cluster, kind):
    # given a value two columns right of the last column with a header or a hashtag (a workbook's
    # rows come as wide as its widest; a CSV file's header rows may end with empty cells too)
    cells = table([row(), row(id="NRC-2")])
    cells[0] += ["", ""]
    cells[1] += ["", ""]
    cells[3] += ["", "see the annex"]
    if kind == "csv":
        data = ("\n".join(",".join(map(str, line)) for line in cells) + "\n").encode()
    else:
        data = four_w_xlsx({"4W": cells})
    report = read(data, filename=f"4w.{kind}")
    # then the rows are read, nothing is kept aside, and the note names the row whose value was left out
    assert [r.extra for r in report.rows] == [None, None]
    assert not any("kept aside" in note for note in report.notes)
    assert any(
        "left out the values of 1 row in cells beyond the table's last column (row 4)" in n
        for n in report.notes
    )


def test_an_empty_column_without_header_is_not_named(cluster):
    columns = [*COLUMNS, ("", "", "nothing")]
    report = read(four_w_csv([row()], columns=columns))
    assert not any("kept aside" in note for note in report.notes)


def test_values_beyond_the_tables_last_column_are_named_in_a_note(cluster):
    # given data rows longer than the header and hashtag rows, one with a value out there
    data = four_w_csv([row(), row(id="NRC-2")]).decode().splitlines()
    data[3] += ",,see the annex"
    data[2] += ",,"
    report = read(("\n".join(data) + "\n").encode())
    # then the rows are read and the note says which row's values were left out
    assert len(report.rows) == 2
    assert any(
        "left out the values of 1 row in cells beyond the table's last column (row 4)" in n
        for n in report.notes
    )


# --- row ids -----------------------------------------------------------------------------------------


def test_a_spreadsheet_error_is_no_row_id(cluster):
    assert problems_of(four_w_csv([row(id="#N/A")])) == [
        "row 3, #meta+id: the row id is the spreadsheet error #N/A; give the partner's id"
    ]
    data = four_w_xlsx({"4W": table([row(id="x")])}, errors={"4W": {"A3": "#REF!"}})
    assert problems_of(data, "4w.xlsx") == [
        "row 3, #meta+id: the row id is the spreadsheet error #REF!; give the partner's id"
    ]


# --- the table among titles, legends and stray words ----------------------------------------------------


@pytest.mark.parametrize(
    "above",
    [
        [["#PakistanEarthquake NRC shelter 4W"]],
        [["#meta+id = your row id", "#org+prog = who programmes"], ["#adm2+code = district P-code"]],
    ],
)
def test_a_title_or_legend_written_as_hashtags_does_not_hide_the_hashtag_row(cluster, above):
    report = read(four_w_csv([row()], above=above))
    assert len(report.rows) == 1
    assert report.rows[0].quantity == 100


def test_a_plain_word_in_the_hashtag_row_names_its_column(cluster):
    # given a hashtag row with one column written plain (remarks), under no header row
    columns = [*COLUMNS, ("", "remarks", "remarks")]
    lines = four_w_csv([row(remarks="road blocked")], columns=columns).decode().splitlines()
    data = ("\n".join(lines[1:]) + "\n").encode()  # no header row: the hashtags head the table
    # then the table is read under it, and the plain column is kept aside by its word
    report = read(data)
    assert report.rows[0].extra == {"remarks": "road blocked"}


# --- places and organisations: suggestions that point the right way ---------------------------------------


def test_a_name_in_the_p_code_column_is_answered_with_its_p_code(cluster):
    assert problems_of(four_w_csv([row(adm2="Batagram")])) == [
        "row 3, #adm2+code: 'Batagram' is not a P-code; it names PK504 (Batagram): write PK504"
    ]


def test_an_unknown_p_code_beside_a_known_name_gets_one_suggestion_the_names(cluster):
    columns = [*COLUMNS, ("District", "#adm2+name", "district")]
    assert problems_of(four_w_csv([row(adm2="PK599", district="Batagram")], columns=columns)) == [
        "row 3, #adm2+code: 'PK599' is not a P-code; 'Batagram' is PK504 (Batagram)"
    ]


def test_a_district_name_that_contradicts_its_p_code_is_refused(cluster):
    columns = [*COLUMNS, ("District", "#adm2+name", "district")]
    problems = problems_of(four_w_csv([row(adm2="PK522", district="Batagram")], columns=columns))
    assert problems == [
        "row 3, #adm2+name: 'Batagram' is PK504 (Batagram), but the P-code beside it is PK522 (Mansehra); "
        "check the row"
    ]
    # a name that agrees, by its other spelling too, is read
    for name in ("Mansehra", "mansehra", ""):
        assert read(four_w_csv([row(adm2="PK522", district=name)], columns=columns)).rows[0].adm2 == "PK522"
    assert (
        read(four_w_csv([row(adm2="PK504", district="Battagram")], columns=columns)).rows[0].adm2 == "PK504"
    )


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("NRC Pakistan", "Norwegian Refugee Council (NRC)"),
        ("IOM Pakistan", "International Organization for Migration (IOM)"),
    ],
)
def test_an_organisation_written_with_its_country_office_is_pointed_to_the_organisation(
    cluster, written, meant
):
    # given an organisation known as 'CARE Pakistan' too, whose spelling is close
    from tests.factories import OrganisationFactory

    OrganisationFactory(name="CARE International", acronym="CARE", aliases=["CARE Pakistan"])
    OrganisationFactory(name="Government of Pakistan", acronym="GoP")
    problems = problems_of(four_w_csv([row(impl=written)]))
    assert problems == [
        f"row 3, #org+impl: '{written}' is not an organisation of the cluster; did you mean {meant}?"
    ]


def test_a_formula_under_titles_is_refused_by_its_columns_hashtag(cluster):
    # given a formula in the place column of a file whose table sits under a title
    data = four_w_csv([row(place='=HYPERLINK("http://x","map")')], above=[["NRC shelter 4W, December 2005"]])
    # then the refusal names the column by its hashtag, not by the title's first cell or a number
    assert problems_of(data) == [
        'line 4, #loc+name: \'=HYPERLINK("http://x","map")\' is a spreadsheet formula; formulas are not '
        "imported (type the value itself)"
    ]


def test_a_formula_in_a_column_without_a_name_is_called_by_its_letter(cluster):
    columns = [*COLUMNS, ("", "", "formula")]
    data = four_w_csv([row(formula="=1+2")], columns=columns, tags=False)
    assert problems_of(data) == [
        "line 2, column S: '=1+2' is a spreadsheet formula; formulas are not imported (type the value itself)"
    ]


# --- workbooks of several sheets ---------------------------------------------------------------------


def test_a_second_sheet_with_a_4w_table_is_said_unread_not_passed_over(cluster):
    # given a partner's workbook of a sheet a month, May and June, and a sheet of instructions
    workbook = four_w_xlsx(
        {
            "Read me": [["One sheet a month"]],
            "May": table([row(id="NRC-1", start="2006-05-01", end="2006-05-20")]),
            "June": table([row(id="NRC-2", start="2006-06-01", end="2006-06-20")]),
            "July": table([]),  # the template copied for next month, still empty
        }
    )
    report = read(workbook, "nrc.xlsx")
    # then the May sheet is read, and the notes say plainly that June's rows were not
    assert [r.row_id for r in report.rows] == ["NRC-1"]
    assert report.notes[:2] == [
        "read the sheet 'May'; left the other sheets alone ('Read me', 'June', 'July')",
        "the sheet 'June' holds a table with hashtags too, and was not read: one sheet is read per upload; "
        "upload it as a file of its own, or copy its rows under the table of 'May'",
    ]
