"""Reading the cells of a workbook's sheet that calamine reads as empty: Excel errors, and formulas
whose result the file does not hold."""

from __future__ import annotations

import pytest

from reliefops.cluster.sheets import ExcelError, FormulaWithoutValue, _unread_cells

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet_xml(cell: bytes, prefix: str = "") -> bytes:
    """A sheet's XML holding the cell on row 3, its elements in the main namespace or (as some
    writers make them) under a prefix: <x:c r="Q3">."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    body = cell.decode().replace("<", f"<{p}").replace(f"<{p}/", f"</{p}")
    rows = f'<{p}sheetData><{p}row r="3">{body}</{p}row></{p}sheetData>'
    return f'<{p}worksheet {xmlns}="{MAIN}">{rows}</{p}worksheet>'.encode()


@pytest.mark.parametrize("prefix", ["", "x"], ids=["plain", "prefixed"])
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param(b'<c r="Q3"><f>P3</f><v></v></c>', FormulaWithoutValue("=P3"), id="empty-value"),
        pytest.param(b'<c r="Q3"><f>P3</f></c>', FormulaWithoutValue("=P3"), id="no-value"),
        pytest.param(
            b'<c r="Q3"><f>IF(P3&gt;0,&quot;a&quot;,"")</f></c>',
            FormulaWithoutValue('=IF(P3>0,"a","")'),
            id="escaped",
        ),
        pytest.param(
            b'<c r="P3"><f t="shared" ref="P3:Q3" si="0">O3</f><v>5</v></c>'
            b'<c r="Q3"><f t="shared" si="0"/></c>',
            FormulaWithoutValue("="),
            id="shared",
        ),
        pytest.param(b'<c r="Q3"><f>P3</f><v>120</v></c>', None, id="saved-result"),
        pytest.param(b'<c r="Q3" t="str"><f>P3</f><v></v></c>', None, id="saved-empty-text"),
        pytest.param(b'<c r="Q3" t="e"><f>P3/0</f><v>#DIV/0!</v></c>', ExcelError("#DIV/0!"), id="error"),
        pytest.param(b'<c r="Q3"><v>5</v></c>', None, id="number"),
    ],
)
def test_a_formula_is_read_as_without_value_only_when_its_result_was_not_saved(cell, expected, prefix):
    # given a sheet's XML (its elements with a namespace prefix or without) holding the cell Q3
    # when the cells calamine reads as empty are looked for, then it is one only as expected
    found = _unread_cells(sheet_xml(cell, prefix))
    assert found == ({(2, 16): expected} if expected is not None else {})
    if expected is not None:
        assert type(found[(2, 16)]) is type(expected)
