"""The 4W template (XLSX with an HXL row and lists of valid values; CSV), partners' rows in the
template's layout (they upload again unchanged), and the gap, matrix and totals exports."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.test import Client
from openpyxl import load_workbook

from reliefops.cluster.exports import (
    NEEDS,
    TEMPLATE_COLUMNS,
    gap_export,
    matrix_export,
    template_csv,
    template_xlsx,
    totals_export,
)
from reliefops.cluster.importers import needs_import_file
from reliefops.cluster.models import ActivityRow
from reliefops.cluster.selectors import activity_totals, gap_by_area, matrix_4w, needs_table, selection
from reliefops.core.errors import InvalidInput
from reliefops.core.exports import csv_bytes
from reliefops.core.roles import Role
from reliefops.places.models import AdminLevel
from tests.cluster.conftest import COLUMNS, four_w_csv, row
from tests.factories import AdminAreaFactory


def test_the_xlsx_template_has_the_hashtag_row_and_lists_of_valid_values(cluster):
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    assert workbook.sheetnames == ["4W", "Lists", "Read me"]
    sheet = workbook["4W"]
    assert [c.value for c in sheet[1]] == [c.header for c in TEMPLATE_COLUMNS]
    assert [c.value for c in sheet[2]] == [c.tag for c in TEMPLATE_COLUMNS]
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    status = validations["M3:M5002"]
    assert (status.type, status.formula1) == ("list", "Lists!$D$2:$D$4")
    lists = workbook["Lists"]
    assert [c.value for c in lists["D"]][:4] == ["Statuses", "planned", "ongoing", "completed"]
    assert "PK504 Batagram" in [c.value for c in lists["G"]]
    assert "Norwegian Refugee Council" in [c.value for c in lists["A"]]
    assert validations["P3:P5002"].type == "whole"
    # and its read-me says what the reader does: Update corrects a stored row only, and a P-code
    # column takes the P-code as the lists write it, not a name alone
    read_me = " ".join(str(c.value) for c in workbook["Read me"]["A"] if c.value)
    assert "a row id that no stored row has is then refused" in read_me
    assert "a name alone goes in a name column (#adm2+name, #adm3+name)" in read_me
    assert "either is read" not in read_me


def test_the_empty_template_filled_in_with_its_own_list_values_uploads(cluster, upload):
    # given the template filled in as its lists offer the values (P-codes with their names)
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    sheet = workbook["4W"]
    values = ["NRC-1", "New", "Norwegian Refugee Council", "Norwegian Refugee Council", "", "", "",
              "Tents distributed", "", "PK504 Batagram", "PK50401 Allai", "Bana", "completed",
              "2005-11-01", "2005-11-30", 40, 40, 100, 90]  # fmt: skip
    for index, value in enumerate(values, start=1):
        sheet.cell(row=3, column=index, value=value)
    out = io.BytesIO()
    workbook.save(out)
    # when it is uploaded, then the row is read from the 4W sheet, the other sheets left alone
    result = upload(data=out.getvalue(), filename="template.xlsx")
    assert result.added == 1
    stored = ActivityRow.objects.get()
    assert (stored.admin_area, stored.people_female, stored.people_male) == (cluster.allai, 100, 90)


def test_a_list_value_whose_name_contradicts_its_p_code_is_refused(cluster, upload):
    from reliefops.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="'PK504 Mansehra': PK504 is Batagram, not Mansehra"):
        upload([row(adm2="PK504 Mansehra")])


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_partners_rows_in_the_template_upload_again_unchanged(cluster, upload, fmt):
    # given NRC's rows, with every kind of value, and columns of the partner's own beside the 4W's
    given = [
        row(id="NRC-1", impl="IRW", funder="DFID", adm2="", adm3="PK50401", f="50", m="45", place="Bana"),
        row(id="NRC-2", prog="NRC", recipient="IRW", status="ongoing", hh="", start="", end="2005-12-31"),
        # texts that start like a formula: a CSV download puts an apostrophe before them
        row(id="-NRC-77", place="-Bana camp", remarks="donor code ABC"),
        row(id="@NRC-78", place="+Allai", donor_ref="#DF-1"),
    ]
    own = [("Remarks", "", "remarks"), ("", "#meta+donor", "donor_ref")]
    upload(data=four_w_csv(given, columns=[*COLUMNS, *own]))
    rows = ActivityRow.objects.filter(replaced_in__isnull=True, reporting_org=cluster.nrc)
    assert rows.get(row_id="-NRC-77").extra == {"Remarks": "donor code ABC"}
    assert rows.get(row_id="@NRC-78").extra == {"#meta+donor": "#DF-1"}
    # when they are downloaded in the template and uploaded again as they are
    data = template_xlsx(rows=rows) if fmt == "xlsx" else template_csv(rows=rows)
    result = upload(data=data, filename=f"nrc.{fmt}")
    # then nothing changes
    assert (result.unchanged, result.changed) == (4, False)


def test_a_partners_empty_template_uploaded_as_downloaded_holds_no_rows(cluster, upload, user_of_role):
    # given a partner's reporter, who downloads the empty template from the upload page
    reporter = user_of_role(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    client = Client()
    client.force_login(reporter)
    data = client.get("/cluster/template.xlsx").content
    # then its 4W sheet holds no row under the headers and hashtags, not even the organisation
    assert load_workbook(io.BytesIO(data))["4W"].max_row == 2
    # and uploaded as it is, it is refused as a file without rows, not with the problems of a row
    with pytest.raises(InvalidInput) as refused:
        upload(data=data, filename="cluster-4w-template.xlsx", actor=reporter)
    assert [str(p) for p in refused.value.problems] == [
        "whole file: the file holds no 4W rows: no row of data under its headers and hashtags; fill in the "
        "template's rows and upload it again"
    ]


def test_a_row_of_a_union_council_downloads_with_its_own_p_code_and_uploads_again_unchanged(cluster, upload):
    # given a union council of Allai tehsil, and NRC's row reported there
    banna = AdminAreaFactory(
        pcode="PK50401-UC01", name="Banna", level=AdminLevel.UNION_COUNCIL, parent=cluster.allai
    )
    upload(data=four_w_csv([row(id="NRC-UC", adm2="", adm3="PK50401-UC01")]))
    rows = ActivityRow.objects.filter(replaced_in__isnull=True, reporting_org=cluster.nrc)
    assert rows.get().admin_area == banna
    # when it is downloaded, in the template or as the rows' CSV, and uploaded again as it is
    for data, name in ((template_csv(rows=rows), "nrc.csv"), (template_xlsx(rows=rows), "nrc.xlsx")):
        assert b"PK50401-UC01" in data or name.endswith(".xlsx")
        again = upload(data=data, filename=name)
        # then nothing changes: the row stays in Banna, not moved to Allai
        assert (again.unchanged, again.changed) == (1, False)
    assert rows.get().admin_area == banna


def test_a_batch_that_withdrew_a_row_downloads_it_marked_delete_and_uploads_again_unchanged(cluster, upload):
    # given NRC's row, then a batch that withdraws it
    from reliefops.cluster.exports import rows_export

    upload(data=four_w_csv([row(id="NRC-1"), row(id="NRC-2")]))
    withdrawal = upload(data=four_w_csv([row(id="NRC-1", action="Delete")]))
    # when the batch is downloaded (as its page's CSV link gives it) and uploaded again
    table, values = rows_export(
        ActivityRow.objects.filter(batch_id=withdrawal.batch_id).order_by("line", "id")
    )
    data = csv_bytes(table, values)
    assert list(csv.reader(io.StringIO(data.decode())))[2][:2] == ["NRC-1", "Delete"]
    again = upload(data=data, filename="batch.csv")
    # then nothing changes: the row stays withdrawn, not added back
    assert not again.changed
    assert not ActivityRow.objects.filter(row_id="NRC-1", replaced_in__isnull=True, withdrawn=False).exists()


def test_the_needs_download_uploads_again_unchanged(cluster):
    # given a baseline whose source starts like a formula ("'- field estimate" in the CSV)
    needs_import_file(
        actor=None,
        data=b"P,N,Source\n#adm2+code,#inneed+hh,#meta+source\nPK504,1000,- field estimate\n",
        filename="n.csv",
    )
    data = csv_bytes(NEEDS, needs_table())
    assert b"'- field estimate" in data
    # when the download is uploaded again, then nothing changes
    result = needs_import_file(actor=None, data=data, filename="needs.csv", preview=True)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)


def test_the_gap_table_exports_as_csv_hxl_and_xlsx(cluster, upload):
    needs_import_file(
        actor=None,
        data=b"P,N,I\n#adm2+code,#inneed+hh,#meta+illustrative\nPK504,1000,yes\n",
        filename="n.csv",
    )
    upload([row(hh="250")])
    report = gap_by_area(selection(level="district", activity="TENTS"))
    plain = list(csv.reader(io.StringIO(gap_export(report, "csv").content.decode())))
    hxl = list(csv.reader(io.StringIO(gap_export(report, "hxl").content.decode())))
    assert plain[0][:4] == ["Parent P-code", "Parent", "P-code", "Area"]
    assert hxl[1][8:14] == [
        "#inneed+hh",
        "#meta+illustrative",
        "#targeted+hh",
        "#reached+hh",
        "#reached+hh+pct",
        "#inneed+hh+gap",
    ]
    batagram = next(r for r in plain[1:] if r[2] == "PK504")
    assert batagram[8:14] == ["1000", "yes", "0", "250", "25.0", "750"]
    export = gap_export(report, "xlsx")
    assert export.filename == "cluster-gaps-district.xlsx"
    workbook = load_workbook(io.BytesIO(export.content))
    assert workbook.sheetnames == ["Gaps", "About"]
    assert any("illustrative" in str(c.value) for c in workbook["About"]["A"])


def test_the_matrix_and_totals_export(cluster, upload):
    upload([row(), row(id="NRC-2", activity="Blankets distributed", qty="500")])
    matrix = list(csv.reader(io.StringIO(matrix_export(matrix_4w(selection()), "hxl").content.decode())))
    assert matrix[2:] == [
        ["NRC", "PK504", "Batagram", "BLANKETS", "1", "100", "500"],
        ["NRC", "PK504", "Batagram", "TENTS", "1", "100", "100"],
    ]
    totals = totals_export(activity_totals(), "xlsx")
    with zipfile.ZipFile(io.BytesIO(totals.content)) as archive:
        assert "xl/worksheets/sheet1.xml" in archive.namelist()
