"""A refused household file's problems are kept (on the import's page, in its job) after the file
is gone; a file with its columns out of order puts names, identity numbers and phones in any
column. No problem of a household file, form or request quotes a cell's value, whatever its column:
each says what is wrong with it, and what the cell (of a file) or the value (of a form or a request)
holds instead."""

from __future__ import annotations

import json

import pytest

from reliefops.core.errors import InvalidInput
from reliefops.core.jobs import job_run
from reliefops.core.models import Job
from reliefops.households import jobs as household_jobs
from reliefops.households.importers import OPTIONAL, REQUIRED, parse_households
from reliefops.households.models import HouseholdImport, ImportStatus
from reliefops.households.services import Lookups, household_check, household_import_preview, household_update
from tests.households.conftest import household_input, register

COLUMNS = [*REQUIRED, *OPTIONAL]
# What a family's row holds, each value distinctive enough that finding it in a text is no accident.
PERSONAL = [
    "Sher Ali Khan",
    "Mohammad Yousaf Khan",
    "0300-9998887",
    "03001112223",
    "42101-5555444-3",
    "Gul Bibi Jan",
    "0345 7654321",
    "Batkool Bala",
    "Qasim Nawaz Awan",
    "13503-7777777-1",
    "Zarina Begum Shah",
    "0333 5554443",
    "Fazal Rahim Swati",
    "111-22-333444",
    "Noor Jehan Bibi",
    "92 300 4445556",
    "Habibullah Tanoli",
    "Sat Bani Paeen",
    "AB 9988776",
    "Rukhsana Kausar",
    "0312-3332221",
    "Abdul Qayyum Jadoon",
    "54400-1234321-9",
    "Shamim Akhtar",
    "Khwaja Ghulam Farid",
    "3001234321",
    "Nasreen Akhtar Bibi",
    "Dilawar Khan Swati",
    "61101-9876543-2",
]


def _rows(count: int) -> list[list[str]]:
    """Rows whose every cell holds one of the values above, each row shifted by one column."""
    return [
        [PERSONAL[(line + index) % len(PERSONAL)] for index in range(len(COLUMNS))] for line in range(count)
    ]


def _csv(rows: list[list[str]]) -> bytes:
    lines = [",".join(COLUMNS), *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def _quoted(texts: list[str], values: list[str]) -> list[tuple[str, str]]:
    """(text, value) for each value some text holds: a name whole, or a number's digits."""
    found = []
    for text in texts:
        digits_of_text = "".join(c for c in text if c.isdigit())
        for value in values:
            digits = "".join(c for c in value if c.isdigit())
            if value in text or (len(digits) >= 7 and digits in digits_of_text):
                found.append((text, value))
    return found


def test_the_values_are_distinct_and_every_column_holds_each(db):
    # the check below means something: every column of the file holds every value once
    assert len(set(PERSONAL)) == len(PERSONAL) > len(COLUMNS) - 2
    assert all(len(value) >= 10 for value in PERSONAL)


def test_a_file_with_its_columns_out_of_order_is_refused_without_quoting_any_cell(op):
    # given a file whose every cell holds a name, an identity number or a phone, in the wrong column
    rows = _rows(len(PERSONAL))
    # when it is checked
    preview = household_import_preview(actor=op.registrar, filename="mixed.csv", content=_csv(rows))
    # then it is refused with a problem on (nearly) every column of every line
    batch = HouseholdImport.objects.get(pk=preview.batch.pk)
    assert batch.status == ImportStatus.REFUSED
    assert batch.problem_count > 5 * len(rows)
    fields = {p["field"] for p in batch.problems}
    assert {"head_sex", "origin", "house_damage", "consent", "document_type", "females_0_5"} <= fields
    # and no problem it keeps quotes any cell, in its reason or its column
    kept = [f"{p['field']}: {p['reason']}" for p in batch.problems]
    assert _quoted(kept, PERSONAL) == []
    # and each still says what is wrong
    reasons = " | ".join(kept)
    assert "head_sex: not one of female, male (the cell holds" in reasons
    assert "not a number (the cell holds 12 characters: digits and other characters)" in reasons


def test_the_job_of_a_refused_file_keeps_no_cell_either(op):
    # given the same file checked by the worker, as the page does it
    content = _csv(_rows(len(PERSONAL)))
    job = household_jobs.import_preview_start(owner=op.registrar, filename="mixed.csv", content=content).job
    # when the job runs
    job_run(job.pk, household_jobs._preview)
    # then it failed with the file's problems, and nothing it stores quotes a cell
    job = Job.objects.get(pk=job.pk)
    assert job.problems
    stored = [
        job.error,
        json.dumps(job.problems, ensure_ascii=False),
        json.dumps(job.result, ensure_ascii=False),
    ]
    assert _quoted(stored, PERSONAL) == []


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param("=Sher Ali Khan+1", id="equals"),
        pytest.param("+Mohammad(9998887)", id="plus-and-a-call"),
        pytest.param("@Sher!Ali 9998887", id="at-and-a-sheet"),
    ],
)
def test_a_formula_in_any_column_is_refused_without_quoting_it(op, cell):
    header = "head_name,head_sex,females_18_59,origin,house_damage,consent"
    content = f"{header}\nGul Bibi,{cell},1,PK50401,destroyed,yes\n".encode()
    with pytest.raises(InvalidInput) as refused:
        parse_households(content, "a.csv")
    texts = [f"{p.field}: {p.reason}" for p in refused.value.problems]
    assert any("the cell is a spreadsheet formula" in text for text in texts)
    assert _quoted(texts, [cell.lstrip("=+@"), "Sher Ali", "Sher!Ali", "9998887", "Mohammad"]) == []


def test_a_file_without_its_header_is_refused_naming_none_of_its_first_line(op):
    # given a file whose header was left out: its first line is a family's
    rows = _rows(3)
    content = ("\n".join(",".join(row) for row in rows) + "\n").encode()
    # when it is checked
    preview = household_import_preview(actor=op.registrar, filename="noheader.csv", content=content)
    # then the problem says the header is missing, without naming the first line's cells
    problems = preview.batch.problems
    assert [p["field"] for p in problems] == ["header"]
    assert "head_name, head_sex, origin, house_damage, consent" in problems[0]["reason"]
    assert _quoted([f"{p['field']}: {p['reason']}" for p in problems], PERSONAL) == []


def test_a_form_or_request_with_values_in_the_wrong_fields_is_refused_without_quoting_them(op):
    # given a household as a form or a request may send it, its fields mixed up
    data = household_input(
        head_sex="Sher Ali Khan",
        document_type="42101-5555444-3",
        document_number="",
        origin="Mohammad Yousaf Khan",
        current_site="0300-9998887",
        house_damage="Gul Bibi Jan",
        elevation_band="03001112223",
        members={"females_18_59": 3001112223, "males_18_59": -3001112},
    )
    # when it is checked
    draft, problems = household_check(data, lookups=Lookups.load())
    # then every problem is named, and none quotes what was sent
    assert draft is None
    texts = [f"{p.field}: {p.reason}" for p in problems]
    assert {"head_sex", "document_type", "origin", "current_site", "house_damage", "elevation_band"} <= {
        p.field for p in problems
    }
    assert _quoted(texts, ["Sher Ali Khan", "42101-5555444-3", "Mohammad Yousaf Khan", "0300-9998887"]) == []
    assert _quoted(texts, ["Gul Bibi Jan", "03001112223", "3001112223", "3001112"]) == []
    # and each says what the value holds, as a form's field or a request's, not a file's cell
    assert "origin: neither a P-code nor a place name of the gazetteer (the value holds 20 characters: " in (
        " | ".join(texts)
    )
    assert "house_damage: not one of destroyed, damaged, none (the value holds 12 characters: " in (
        " | ".join(texts)
    )
    assert not [text for text in texts if "the cell" in text]


def test_a_correction_of_the_wrong_kind_is_refused_without_quoting_it(op):
    household = register(op)
    with pytest.raises(InvalidInput) as refused:
        household_update(
            actor=op.registrar,
            household_id=household.pk,
            changes={"phone": 3001112223, "landless": "Sher Ali Khan"},
            reason="mixed up",
        )
    texts = [f"{p.field}: {p.reason}" for p in refused.value.problems]
    assert {"landless: yes or no (true or false), not text", "phone: text, not a number"} <= set(texts)
    assert _quoted([str(refused.value)], ["Sher Ali Khan", "3001112223"]) == []
