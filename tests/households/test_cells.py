"""What a refused value holds is told without repeating it, whatever characters it holds."""

from __future__ import annotations

import pytest

from reliefops.households.cells import value_holds


@pytest.mark.parametrize(
    ("value", "in_file", "said"),
    [
        pytest.param("Gul Zaman", False, "the value holds 9 characters: letters and spaces", id="name"),
        pytest.param(
            "13503-111", True, "the cell holds 9 characters: digits and other characters", id="number"
        ),
        # a numeral that is neither a letter nor a digit (¼, Ⅻ) is an other character, not nothing
        pytest.param("\u00bc", True, "the cell holds 1 character: other characters", id="vulgar-fraction"),
        pytest.param(
            "x\u216b", False, "the value holds 2 characters: letters and other characters", id="roman-numeral"
        ),
        pytest.param("  ", True, "the cell is empty", id="blank"),
    ],
)
def test_a_value_is_described_by_its_kinds_of_characters(value, in_file, said):
    assert value_holds(value, in_file=in_file) == said
