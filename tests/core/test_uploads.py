"""core.uploads: the quick test of whether a CSV text may hold a formula cell."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reliefops.core.errors import InvalidInput
from reliefops.core.tabular import read_csv
from reliefops.core.uploads import (
    check_cells,
    check_line_count,
    may_hold_escaped_text,
    may_hold_formulas,
    unescaped,
)

# The definition the quick test must agree with: a cell starting, after spaces, with =, +, - or @;
# a cell starts at the start of a line (a lone carriage return ends one too, as in old Mac files),
# after a delimiter or after a quote.
DEFINITION = re.compile(r"(?:^|[,;\t\"\r])\s*[=+\-@]", re.MULTILINE)


def test_cells_starting_with_a_formula_character_are_found_wherever_they_sit():
    for text in ("=1", " =1", "a,=1", "a;  @x", 'a,"=HYPERLINK(x)"', "a\r\n+cmd", "a\t-1", "a,b\n  -x"):
        assert may_hold_formulas(text), text


def test_dates_hyphenated_names_and_signs_inside_cells_are_passed_over():
    for text in ("2005-11-03,PK-A1", "Muslim Aid-UK,a+b", "x@example.org,1", "a = b,c", "", "a,b\nc,d"):
        assert not may_hold_formulas(text), text


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab1 ,;\t"\n\r=+-@\u00a0')), max_size=40))
def test_the_quick_test_agrees_with_the_definition(text: str) -> None:
    assert may_hold_formulas(text) == (DEFINITION.search(text) is not None)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab1 ,;\t"\n\r=+-@\x0b\x1c\x01')), max_size=40))
def test_the_quick_test_of_ascii_text_agrees_with_the_definition(text: str) -> None:
    assert may_hold_formulas(text) == (DEFINITION.search(text) is not None)


def test_a_nul_character_in_a_text_file_is_refused_with_its_line():
    with pytest.raises(InvalidInput) as refused:
        read_csv(b"code,name\nA,Bala\x00kot\n", required=("code",))
    assert refused.value.problems[0].row == 2
    assert "NUL character" in refused.value.problems[0].reason


def test_a_nul_character_in_a_workbook_cell_is_refused_with_its_cell():
    with pytest.raises(InvalidInput) as refused:
        check_cells([["code", "name"], ["A", "Bala\x00kot"]], headers=["code", "name"])
    problem = refused.value.problems[0]
    assert (problem.row, problem.field) == (2, "name")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a,'-b\n", True),
        ("'-b", True),
        ('a,"\'@x"', True),
        ("a;'=1", True),
        ("a\t'+1", True),
        ("x\r'\tquoted", True),
        ("D'-x", False),  # inside a cell
        ("a, '-b", False),  # after a space: not the apostrophe of a download
        ("Children's camp,'plain", False),
        ("", False),
    ],
)
def test_a_cell_starting_with_an_apostrophe_before_a_formula_character_is_found(text, found):
    assert may_hold_escaped_text(text) is found


def test_only_the_apostrophe_before_a_formula_character_is_taken_off():
    assert [unescaped(c) for c in ("'-5", "'=A1", "'plain", "'", "-5", "")] == [
        "-5",
        "=A1",
        "'plain",
        "'",
        "-5",
        "",
    ]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR alone"])
def test_a_text_file_with_more_lines_than_an_import_reads_is_refused_whatever_its_line_ends(end, settings):
    settings.IMPORT_MAX_ROWS = 5
    check_line_count(end.join(["a,b"] * 5).encode())  # five lines: read
    with pytest.raises(InvalidInput, match=r"the file has 6 lines; an import reads at most 5 rows"):
        check_line_count((end.join(["a,b"] * 6) + end).encode())
