"""The 4W reader splits CSV lines without quotes itself and hands the others to the csv module:
what it reads must be what csv.reader reads, row for row, with the line each row starts on."""

from __future__ import annotations

import csv
import io
import random

import pytest

from reliefops.cluster.sheets import csv_rows
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
