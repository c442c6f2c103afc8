"""Fixtures of the cluster tests: a slice of the Kashmir gazetteer, shelter partners, activity
types, and builders of 4W files (CSV and XLSX, with their HXL row)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from reliefops.catalog.models import Item, ItemCategory
from reliefops.cluster.importers import activity_report_import_file, parse_activity_file
from reliefops.cluster.models import ActivityType
from reliefops.cluster.services import ActivityTypeRow, activity_types_import
from reliefops.core.errors import InvalidInput
from reliefops.partners.models import Organisation, OrganisationType
from reliefops.places.models import AdminArea, AdminLevel
from tests.factories import AdminAreaFactory, ItemFactory, OrganisationFactory

# (header, HXL tag, key of the row dict)
COLUMNS: list[tuple[str, str, str]] = [
    ("Row ID", "#meta+id", "id"),
    ("Action", "#meta+action", "action"),
    ("Reporting organisation", "#org+reporting", "reporting"),
    ("Programming organisation", "#org+prog", "prog"),
    ("Implementing organisation", "#org+impl", "impl"),
    ("Funding organisation", "#org+funder", "funder"),
    ("Handed to partner", "#org+recipient", "recipient"),
    ("Activity", "#activity", "activity"),
    ("District P-code", "#adm2+code", "adm2"),
    ("Tehsil P-code", "#adm3+code", "adm3"),
    ("Place", "#loc+name", "place"),
    ("Status", "#status", "status"),
    ("Start", "#date+start", "start"),
    ("End", "#date+end", "end"),
    ("Quantity", "#output+num", "qty"),
    ("Households", "#reached+hh", "hh"),
    ("Women and girls", "#reached+ind+f", "f"),
    ("Men and boys", "#reached+ind+m", "m"),
]
DEFAULTS: dict[str, Any] = {
    "id": "NRC-1",
    "action": "",
    "reporting": "",
    "prog": "NRC",
    "impl": "",
    "funder": "",
    "recipient": "",
    "activity": "Tents distributed",
    "adm2": "PK504",
    "adm3": "",
    "place": "",
    "status": "completed",
    "start": "2005-11-01",
    "end": "2005-11-20",
    "qty": "100",
    "hh": "100",
    "f": "",
    "m": "",
}


# UNHCR's transitional shelters in Bala Kot (December 2005), which IRW implements and reports too.
SHELTERS_BY_IRW = {
    "activity": "Transitional shelters built",
    "adm2": "",
    "adm3": "PK52201",
    "start": "2005-12-01",
    "end": "2005-12-20",
}


def problems_of(data: bytes, filename: str = "4w.csv") -> list[str]:
    """Every problem of a 4W file, as the user reads them (none: an empty list)."""
    try:
        report = parse_activity_file(data, filename=filename)
    except InvalidInput as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in report.problems]


def read(data: bytes, filename: str = "4w.csv") -> Any:
    """A 4W file read without a problem."""
    report = parse_activity_file(data, filename=filename)
    assert [str(p) for p in report.problems] == []
    return report


def row(**values: Any) -> dict[str, Any]:
    """A 4W row: the defaults (NRC, 100 tents to 100 households in Batagram, November 2005)."""
    return {**DEFAULTS, **values}


def paired_rows() -> list[dict[str, Any]]:
    """UNHCR-8 and IRW-31: the same shelters reported by the programming and the implementing
    partner; UNHCR-8 is set aside, counted in IRW-31."""
    return [
        row(id="UNHCR-8", prog="UNHCR", impl="IRW", qty="200", hh="200", **SHELTERS_BY_IRW),
        row(id="IRW-31", reporting="IRW", prog="UNHCR", impl="IRW", qty="196", hh="196", **SHELTERS_BY_IRW),
    ]


def four_w_csv(
    rows: Sequence[dict[str, Any]],
    *,
    columns: Sequence[tuple[str, str, str]] = COLUMNS,
    above: Sequence[Sequence[str]] = (),
    tags: bool = True,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> bytes:
    """A 4W CSV: any rows `above` (titles, legends), the header, the HXL row, the data rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for cells in above:
        writer.writerow(cells)
    writer.writerow([header for header, _, _ in columns])
    if tags:
        writer.writerow([tag for _, tag, _ in columns])
    for values in rows:
        writer.writerow([values.get(key, "") for _, _, key in columns])
    return out.getvalue().encode(encoding)


def four_w_xlsx(
    sheets: dict[str, list[list[Any]]],
    errors: dict[str, dict[str, str]] | None = None,
    results: dict[str, dict[str, str]] | None = None,
) -> bytes:
    """A workbook with the given sheets (rows of cells); `errors` puts Excel errors in cells
    (`{"4W": {"D5": "#N/A"}}`). A cell written `=…` holds a formula, saved without its result, as
    openpyxl saves it; `results` saves the result of some (`{"4W": {"P3": "100"}}`), as a
    spreadsheet program does ("" for a text formula's empty result)."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for cells in rows:
            sheet.append(cells)
        for ref, error in (errors or {}).get(name, {}).items():
            sheet[ref].value = error
            sheet[ref].data_type = "e"
    out = io.BytesIO()
    workbook.save(out)
    return _with_results(out.getvalue(), list(sheets), results) if results else out.getvalue()


def _with_results(data: bytes, names: list[str], results: dict[str, dict[str, str]]) -> bytes:
    """The workbook with the given formulas' results saved in it (openpyxl saves none)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            body = source.read(entry.filename)
            for number, name in enumerate(names, 1):
                if entry.filename != f"xl/worksheets/sheet{number}.xml":
                    continue
                for ref, result in results.get(name, {}).items():
                    kind = ' t="str"' if result == "" else ""
                    body, found = re.subn(
                        rf'<c r="{ref}"([^>]*)>(<f>[^<]*</f>)<v\s*/>'.encode(),
                        rf'<c r="{ref}"\1{kind}>\2<v>{result}</v>'.encode(),
                        body,
                    )
                    assert found == 1, f"no formula in {ref}"
            target.writestr(entry, body)
    return out.getvalue()


def table(
    rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]] = COLUMNS
) -> list[list[Any]]:
    """Header, HXL row and data rows, as the cells of a sheet."""
    return [
        [header for header, _, _ in columns],
        [tag for _, tag, _ in columns],
        *[[values.get(key, "") for _, _, key in columns] for values in rows],
    ]


@dataclass
class Cluster:
    """The reference data of the cluster tests."""

    ajk: AdminArea
    muzaffarabad: AdminArea
    muzaffarabad_tehsil: AdminArea
    bagh: AdminArea
    kp: AdminArea
    batagram: AdminArea
    allai: AdminArea
    batagram_tehsil: AdminArea
    mansehra: AdminArea
    balakot: AdminArea
    iom: Organisation
    unhcr: Organisation
    nrc: Organisation
    irw: Organisation
    oxfam: Organisation
    dfid: Organisation
    tents: ActivityType
    blankets: ActivityType
    cgi: ActivityType
    shelters: ActivityType


def _area(pcode: str, name: str, level: AdminLevel, parent: AdminArea | None, *alt: str) -> AdminArea:
    return AdminAreaFactory(pcode=pcode, name=name, level=level, parent=parent, alt_names=list(alt))


@pytest.fixture
def cluster(db) -> Cluster:
    country = _area("PK", "Pakistan", AdminLevel.COUNTRY, None)
    ajk = _area("PK1", "Azad Kashmir", AdminLevel.PROVINCE, country, "AJK")
    muzaffarabad = _area("PK107", "Muzaffarabad", AdminLevel.DISTRICT, ajk, "Muzafarabad")
    muzaffarabad_tehsil = _area("PK10701", "Muzaffarabad", AdminLevel.TEHSIL, muzaffarabad)
    bagh = _area("PK101", "Bagh", AdminLevel.DISTRICT, ajk)
    kp = _area("PK5", "Khyber Pakhtunkhwa", AdminLevel.PROVINCE, country, "NWFP")
    batagram = _area("PK504", "Batagram", AdminLevel.DISTRICT, kp, "Battagram")
    allai = _area("PK50401", "Allai", AdminLevel.TEHSIL, batagram, "Alai")
    batagram_tehsil = _area("PK50402", "Batagram", AdminLevel.TEHSIL, batagram, "Battagram")
    mansehra = _area("PK522", "Mansehra", AdminLevel.DISTRICT, kp)
    balakot = _area("PK52201", "Bala Kot", AdminLevel.TEHSIL, mansehra, "Balakot")

    def org(name: str, acronym: str, kind: str, *aliases: str) -> Organisation:
        return OrganisationFactory(name=name, acronym=acronym, type=kind, aliases=list(aliases))

    iom = org("International Organization for Migration", "IOM", OrganisationType.UN)
    unhcr = org("Office of the United Nations High Commissioner for Refugees", "UNHCR", OrganisationType.UN)
    nrc = org("Norwegian Refugee Council", "NRC", OrganisationType.INGO)
    irw = org("Islamic Relief Worldwide", "IRW", OrganisationType.INGO, "Islamic Relief")
    oxfam = org("Oxfam GB", "Oxfam", OrganisationType.INGO, "Oxfam International")
    dfid = org("Department for International Development", "DFID", OrganisationType.DONOR, "UK Aid")
    items = {
        code: ItemFactory(code=code, name=name, category=ItemCategory.SHELTER)
        for code, name in (("TENT", "Tent, family"), ("BLANKET", "Blanket"), ("CGI-SHEET", "CGI sheet"))
    }
    activity_types_import(
        actor=None,
        rows=[
            ActivityTypeRow("TENTS", "Tents distributed", "tent", "TENT", ("tent distribution", "tents")),
            ActivityTypeRow("BLANKETS", "Blankets distributed", "blanket", "BLANKET", ("blankets",)),
            ActivityTypeRow("CGI", "CGI sheets distributed", "sheet", "CGI-SHEET", ("CGI",)),
            ActivityTypeRow("T-SHELTERS", "Transitional shelters built", "shelter", "", ("t-shelter",)),
        ],
    )
    assert Item.objects.filter(code__in=items).count() == 3
    activity = {a.code: a for a in ActivityType.objects.all()}
    return Cluster(
        ajk=ajk,
        muzaffarabad=muzaffarabad,
        muzaffarabad_tehsil=muzaffarabad_tehsil,
        bagh=bagh,
        kp=kp,
        batagram=batagram,
        allai=allai,
        batagram_tehsil=batagram_tehsil,
        mansehra=mansehra,
        balakot=balakot,
        iom=iom,
        unhcr=unhcr,
        nrc=nrc,
        irw=irw,
        oxfam=oxfam,
        dfid=dfid,
        tents=activity["TENTS"],
        blankets=activity["BLANKETS"],
        cgi=activity["CGI"],
        shelters=activity["T-SHELTERS"],
    )


def make_children_fail(monkeypatch) -> None:
    """From now on, a child forked to read part of a file runs out of memory instead (its further
    work, if any, is not reached)."""
    from reliefops.cluster import parallel

    real = parallel.in_child

    def failing(function, then=None):
        def broken():
            raise MemoryError("the child ran out of memory")

        return real(broken, then)

    monkeypatch.setattr(parallel, "in_child", failing)


@pytest.fixture
def upload(cluster) -> Callable[..., Any]:
    """Apply a 4W file: `upload(rows)` builds a CSV from row dicts; `upload(data=b"...")` takes bytes."""

    def apply(
        rows: Sequence[dict[str, Any]] | None = None,
        *,
        data: bytes | None = None,
        filename: str = "4w.csv",
        actor: Any = None,
        **options: Any,
    ):
        content = data if data is not None else four_w_csv(rows or [])
        return activity_report_import_file(actor=actor, data=content, filename=filename, **options)

    return apply
