"""The 4W reader splits CSV lines without quotes itself and hands the others to the csv module:
what it reads must be what csv.reader reads, row for row, with the line each row starts on."""

from __future__ import annotations

import csv
import io
import random

import pytest

from reliefops.cluster.sheets import LineRows, ReadWhole, csv_rows, split_csv
from reliefops.core.errors import InvalidInput


def _as_csv_reads_it(text: str, delimiter: str) -> tuple[list[list[str]], list[int] | None]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, starts, line = [], [], 1
    for row in reader:
        rows.append(row)
        starts.append(line)
        line = reader.line_num + 1
    return rows, (None if reader.line_num == len(rows) else starts)


PIECES = ["a", "b", " ", "é", ",", ";", "\t", '"', '"', "\n", "\r", "\r\n"]
# Characters that str.splitlines() takes for line ends and csv does not.
OTHER_ENDS = ["\x0b", "\x0c", "\x1c", "\x85", "\u2028"]


@pytest.mark.parametrize("pieces", [PIECES, PIECES + OTHER_ENDS], ids=["plain", "other-line-ends"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_random_texts_read_as_the_csv_module_reads_them(pieces, delimiter):
    rng = random.Random(f"{delimiter}{len(pieces)}")
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        assert csv_rows(text, delimiter) == _as_csv_reads_it(text, delimiter), repr(text)


def test_a_quoted_cell_over_several_lines_keeps_the_line_numbers_of_the_rows_after_it():
    text = 'id,note\nR1,plain\nR2,"two\nlines, and ""quotes"""\n\nR3,after\r\nR4,"x"\n'
    rows, starts = csv_rows(text)
    assert rows == [
        ["id", "note"], ["R1", "plain"], ["R2", 'two\nlines, and "quotes"'], [], ["R3", "after"], ["R4", "x"],
    ]  # fmt: skip
    assert starts == [1, 2, 3, 5, 6, 7]


def test_lines_without_quotes_are_numbered_one_to_one():
    assert csv_rows("a,b\r\nc,\n\n,d") == ([["a", "b"], ["c", ""], [], ["", "d"]], None)


def test_a_cell_over_the_size_limit_is_refused_with_its_line():
    previous = csv.field_size_limit(10)
    try:
        with pytest.raises(InvalidInput) as refused:
            csv_rows("a,b\nc,d\nshort,this cell is too long\n")
    finally:
        csv.field_size_limit(previous)
    (problem,) = refused.value.problems
    assert problem.row == 3
    assert "field larger than field limit" in problem.reason


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_line_rows_split_the_lines_of_a_text_without_quotes_as_csv_rows_does(delimiter):
    # given random texts of cells, delimiters and line ends, none holding a quote
    rng = random.Random(f"lines{delimiter}")
    pieces = [p for p in PIECES if p != '"']
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        expected, _ = csv_rows(text, delimiter)
        # when their lines are read as LineRows, row after row, by position and by slice
        rows = LineRows(text.splitlines(), delimiter)
        # then each is the row csv_rows reads (an empty line: no cell at all)
        assert len(rows) == len(expected), repr(text)
        assert list(rows) == expected, repr(text)
        assert [rows[i] for i in range(len(rows))] == expected, repr(text)
        assert rows[1:3] == expected[1:3], repr(text)


def test_line_rows_give_each_reader_a_row_of_its_own():
    # the importer appends a cell to each row it reads: a row read again is as in the text
    rows = LineRows(["a,b", "", "c"], ",")
    first = next(iter(rows))
    first.append("")
    assert list(rows) == [["a", "b"], [], ["c"]]
    assert rows[0] == ["a", "b"]


def test_a_part_with_a_cell_over_the_size_limit_is_read_whole():
    # given a large file split in two, whose second part holds a cell longer than the limit
    lines = ["#meta+id,#org,#loc"] + [f"R{n},NRC,{'x' * 20}" for n in range(200)]
    lines[180] = "R180,NRC," + "y" * 120
    split = split_csv("\n".join(lines).encode(), "4w.csv", share=0.5)
    assert split is not None
    previous = csv.field_size_limit(100)
    try:
        # then the first part reads, row after row, and the second is left to be read whole
        assert len(split.part(0).rows) == split.lines_before
        with pytest.raises(ReadWhole):
            split.part(1)
    finally:
        csv.field_size_limit(previous)
