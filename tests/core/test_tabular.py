"""core.tabular: CSV files into rows that keep their line numbers, and typed cells."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reliefops.core.errors import InvalidInput
from reliefops.core.tabular import Cells, ImportCounts, read_csv


def test_line_numbers_follow_the_file_through_quoted_newlines_and_blank_lines():
    data = b'code,notes\nA,"two\nlines"\n\nB,plain\n'
    table = read_csv(data, required=("code",))
    assert [(r.line, r.get("code")) for r in table.rows] == [(2, "A"), (5, "B")]
    assert table.rows[0].get("notes") == "two\nlines"


def test_the_apostrophe_a_csv_download_puts_before_a_formula_like_text_is_taken_off():
    # a reliefops CSV writes "-Bana" as "'-Bana", so that a spreadsheet shows it as text
    data = b"code,name\nA,'-Bana\nB,\"'@home, upper\"\nC,'=SUM(1)\nD,'plain\nE,D'Souza\nF,'\n"
    table = read_csv(data, required=("code",))
    names = ["-Bana", "@home, upper", "=SUM(1)", "'plain", "D'Souza", "'"]
    assert [r.get("name") for r in table.rows] == names


def test_a_byte_order_mark_and_header_case_and_spaces_are_ignored():
    table = read_csv("\ufeffCode , Parent PCode\nA,B\n".encode(), required=("code", "parent_pcode"))
    assert table.rows[0].values == {"code": "A", "parent_pcode": "B"}


def test_hxl_row_is_skipped_and_maps_unknown_headers():
    data = b"Latitude,code\n#geo+lat,#item +code\n34.5,A\n"
    table = read_csv(data, required=("code",), optional=("lat",), hxl_tags={"#geo+lat": "lat"})
    assert table.columns == ["lat", "code"]
    assert [(r.line, r.values) for r in table.rows] == [(3, {"lat": "34.5", "code": "A"})]
    assert table.hxl_tags == {"lat": "#geo+lat", "code": "#item +code"}


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolons", "tabs"])
def test_a_file_whose_header_parts_its_columns_by_semicolons_or_tabs_is_read_so(delimiter):
    # as Excel saves "CSV" in many European locales, or a table copied out of a spreadsheet
    data = delimiter.join(["code", "name", "note"]).encode() + b"\n"
    data += delimiter.join(["A", "Bala Kot", "tents, 12"]).encode() + b"\n"
    table = read_csv(data, required=("code", "name"), optional=("note",))
    assert table.rows[0].values == {"code": "A", "name": "Bala Kot", "note": "tents, 12"}


def test_a_header_with_commas_keeps_the_comma_whatever_its_cells_hold():
    table = read_csv(b"code,note\nA,x;y; z\n", required=("code",), optional=("note",))
    assert table.rows[0].values == {"code": "A", "note": "x;y; z"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"code,code\nA,B\n", "line 1, code: the column appears twice in the header"),
        (b"name\nA\n", "line 1, code: required column is missing from the header"),
        (b'code\n"A\n', "line 2, file: not readable as CSV"),
        (b"\n\n", "whole file: the file is empty; it needs a header row"),
    ],
    ids=["duplicate-column", "missing-column", "unterminated-quote", "blank"],
)
def test_badly_shaped_files_are_refused(data, expected):
    with pytest.raises(InvalidInput) as caught:
        read_csv(data, required=("code",))
    assert str(caught.value.problems[0]).startswith(expected)


def test_cells_parse_types_and_record_every_bad_value():
    table = read_csv(
        b'a,b,c,d,e\n"1,250,000.50",2.0,2006-03-31,yes,x;y; x\nabc,2.5,31/03/2006,maybe,\n',
        required=("a", "b", "c", "d", "e"),
    )
    problems: list = []
    good = Cells(table.rows[0], problems)
    assert good.decimal("a") == Decimal("1250000.50")
    assert good.integer("b") == 2
    assert good.date("c").isoformat() == "2006-03-31"
    assert good.boolean("d") is True
    assert good.split("e") == ["x", "y"]
    assert problems == []
    bad = Cells(table.rows[1], problems)
    assert (bad.decimal("a"), bad.integer("b"), bad.date("c"), bad.boolean("d"), bad.number("e")) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert [str(p) for p in problems] == [
        "line 3, a: not a number: 'abc'",
        "line 3, b: not a whole number: '2.5'",
        "line 3, c: not a date: '31/03/2006'; write it as YYYY-MM-DD",
        "line 3, d: not yes/no: 'maybe'",
    ]
    assert bad.bad == {"a", "b", "c", "d"}


def test_a_whole_number_is_bounded_by_the_column_it_goes_into():
    table = read_csv(
        b"a,b,c,d\n2147483647,-2147483648,2147483648,-2147483649\n32768,,,\n",
        required=("a", "b", "c", "d"),
    )
    problems: list = []
    first = Cells(table.rows[0], problems)
    assert (first.integer("a"), first.integer("b")) == (2147483647, -2147483648)
    assert (first.integer("c"), first.integer("d")) == (None, None)
    assert Cells(table.rows[1], problems).integer("a", maximum=32767) is None
    assert [str(p) for p in problems] == [
        "line 2, c: '2147483648' is out of range: at most 2,147,483,647",
        "line 2, d: '-2147483649' is out of range: at least -2,147,483,648",
        "line 3, a: '32768' is out of range: at most 32,767",
    ]


def test_import_counts_read_as_a_sentence():
    assert str(ImportCounts(created=1, unchanged=87)) == "1 created, 0 updated, 87 unchanged"
    assert ImportCounts(updated=1).changed
    assert not ImportCounts(unchanged=3).changed
