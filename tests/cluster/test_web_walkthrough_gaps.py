"""The gap page as a coordinator walks through it: the illustrative note wherever illustrative needs
show (the map's colours, a wider area's need), a district's need beside the rows reported for the
whole district, the empty activity meaning every activity (as in the API and the command line),
and the HXL download offered beside CSV and XLSX."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from reliefops.cluster.importers import needs_import_file
from reliefops.cluster.selectors import gap_by_area, selection
from reliefops.cluster.services import boundaries_import
from reliefops.core.roles import Role
from reliefops.core.services import token_create
from tests.cluster.conftest import row
from tests.factories import make_user

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[73.0, 34.5], [73.3, 34.5], [73.3, 34.9], [73.0, 34.9], [73.0, 34.5]]],
}
NOTE = "Illustrative needs."
GAPS = reverse("cluster:cluster-gaps")
TEHSILS_OF_BATAGRAM = {"level": "tehsil", "activity": "TENTS", "within": "PK504"}


def text(response) -> str:
    return response.content.decode()


def in_need_cell(page: str, pcode: str, *, whole: bool) -> str:
    """The In need cell of an area's row of the gap table (the whole-area row, or the area's own)."""
    rows = re.findall(
        r'<tr class="([^"]*)">\s*<td><span class="code-quiet">([^<]+)</span>(.*?)</tr>', page, re.S
    )
    for classes, code, rest in rows:
        if code == pcode and ("whole-area" in classes) == whole:
            return re.findall(r'<td class="num">(.*?)</td>', rest, re.S)[0]
    raise AssertionError(f"no row of {pcode} (whole area: {whole}) in the gap table")


@pytest.fixture
def batagram_needs(cluster):
    """Batagram's need is known for the district as a whole (400 households, illustrative)."""
    needs_import_file(
        actor=None,
        data=b"P,N,I\n#adm2+code,#inneed+hh,#meta+illustrative\nPK504,400,yes\n",
        filename="needs.csv",
    )
    return cluster


@pytest.fixture
def token_client(db):
    def make(role: Role):
        user = make_user(role)
        _, plain = token_create(actor=None, username=user.get_username(), name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")

    return make


def _outline_of_batagram() -> None:
    feature = {"type": "Feature", "properties": {"pcode": "PK504"}, "geometry": SQUARE}
    data = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    boundaries_import(actor=None, data=data, attribution="Boundaries: OCHA / WFP, COD-AB, CC BY-IGO.")


# --- 1. the illustrative note -----------------------------------------------------------------------


def test_a_map_coloured_by_illustrative_needs_brings_the_note(batagram_needs, upload, client_as):
    # given tents reported for a tehsil of Batagram only, and Batagram's outline for the map
    _outline_of_batagram()
    upload([row(id="NRC-1", adm2="", adm3="PK50401", hh="100")])
    # when the tehsils of Batagram are shown: no tehsil has a need, but the map colours Batagram
    # by its illustrative district need
    page = text(client_as(Role.VIEWER).get(GAPS, TEHSILS_OF_BATAGRAM))
    assert "Batagram (PK504): 100 of 400 households reached (25%); need illustrative" in page
    assert "illustrative-mark" not in page.split('<table class="data gap-table">')[1]
    # then the page carries the illustrative note, not only the map's tooltip
    assert NOTE in page


def test_a_wider_areas_illustrative_need_beside_its_rows_brings_the_note(batagram_needs, upload, client_as):
    # given tents reported for Batagram as a whole, and no outline (no map)
    upload([row(id="NRC-1", adm2="PK504", hh="100")])
    page = text(client_as(Role.VIEWER).get(GAPS, TEHSILS_OF_BATAGRAM))
    assert '<svg class="coverage-map"' not in page
    # then the district's need shown beside its rows is marked, and the note is on the page
    assert 'title="illustrative">*</span>' in in_need_cell(page, "PK504", whole=True)
    assert NOTE in page


def test_a_page_without_illustrative_needs_has_no_note(cluster, upload, client_as):
    needs_import_file(actor=None, data=b"P,N\n#adm2+code,#inneed+hh\nPK504,400\n", filename="needs.csv")
    _outline_of_batagram()
    upload([row(id="NRC-1", adm2="PK504", hh="100")])
    assert NOTE not in text(client_as(Role.VIEWER).get(GAPS, TEHSILS_OF_BATAGRAM))


# --- 2. a district's need beside its district-wide rows ---------------------------------------------


def test_a_whole_district_row_shows_the_districts_need_and_compares_it_at_district_level(
    batagram_needs, upload, client_as
):
    # given 100 households reached in Allai and 50 reported for Batagram as a whole
    upload([row(id="NRC-1", adm2="", adm3="PK50401", hh="100"), row(id="NRC-2", adm2="PK504", hh="50")])
    client = client_as(Role.VIEWER)
    page = text(client.get(GAPS, TEHSILS_OF_BATAGRAM))
    # then the whole-district row gives the district's need and says where it is compared
    whole = in_need_cell(page, "PK504", whole=True)
    assert "no baseline" not in whole
    assert re.search(
        r"district's need is counted at "
        r'<a href="/cluster/\?level=district&amp;activity=TENTS">district level</a>: 400<span',
        whole,
    )
    # the tehsil still has no need of its own (the district's is not spread over its tehsils)
    assert "no baseline" in in_need_cell(page, "PK50401", whole=False)
    # and the district's need is compared, once, with all its rows at district level
    district = text(client.get(GAPS, {"level": "district", "activity": "TENTS"}))
    assert in_need_cell(district, "PK504", whole=False).startswith("400")
    assert ">37%</span>" in district  # 150 of 400


def test_the_whole_district_row_does_not_count_the_need_twice(batagram_needs, upload, client_as):
    upload([row(id="NRC-1", adm2="", adm3="PK50401", hh="100"), row(id="NRC-2", adm2="PK504", hh="50")])
    report = gap_by_area(selection(level="tehsil", activity="TENTS", within="PK504"))
    whole = next(r for r in report.rows if r.whole_area)
    # the wider area's need rides beside the row; the row's own need, coverage and gap stay empty
    assert (whole.area_level, whole.area_in_need, whole.area_illustrative) == ("district", 400, True)
    assert (whole.in_need, whole.coverage, whole.gap) == (None, None, None)
    # the download leaves the row's households in need empty: adding up the column counts no need twice
    download = client_as(Role.VIEWER).get(GAPS, {**TEHSILS_OF_BATAGRAM, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(text(download))))
    assert [r["Households in need"] for r in rows if r["Rows for the whole area"] == "yes"] == [""]


# --- 3. the empty activity is every activity --------------------------------------------------------


def _activities_shown(page: str) -> set[str]:
    table = page.split('<table class="data gap-table">')[1].split("</table>")[0]
    return set(re.findall(r"<td>((?:Tents|Blankets) distributed)</td>", table))


def test_the_empty_activity_is_every_activity_as_in_the_api(batagram_needs, upload, client_as, token_client):
    upload([row(id="NRC-1", hh="100"), row(id="NRC-2", activity="Blankets distributed", hh="80")])
    page = text(client_as(Role.VIEWER).get(GAPS, {"level": "district", "activity": ""}))
    # the choice is labelled as what it is, and it shows every activity
    assert '<option value="" selected>Every activity</option>' in page
    assert ">—</option>" not in page
    assert "By district, every activity." in page
    assert _activities_shown(page) == {"Tents distributed", "Blankets distributed"}
    # as the API does when no activity is named
    api = token_client(Role.VIEWER).get("/api/cluster/gaps", {"level": "district"}).json()
    assert {r["activity"] for r in api["rows"]} == {"TENTS", "BLANKETS"}
    # and so does the page's own download
    download = client_as(Role.VIEWER).get(GAPS, {"level": "district", "activity": "", "format": "csv"})
    codes = {r["Activity code"] for r in csv.DictReader(io.StringIO(text(download)))}
    assert codes - {"#activity+code"} == {"TENTS", "BLANKETS"}


def test_the_page_opened_without_filters_names_the_activity_it_shows(batagram_needs, upload, client_as):
    # given rows of tents only
    upload([row(id="NRC-1", hh="100")])
    page = text(client_as(Role.VIEWER).get(GAPS))
    # the page opens on the first activity with rows, says so in its form, and its links keep it
    assert '<option value="TENTS" selected>Tents distributed</option>' in page
    assert 'href="/cluster/?level=district&amp;activity=TENTS&amp;format=csv"' in page


def test_every_activity_is_the_matrix_pages_empty_choice_too(batagram_needs, upload, client_as):
    upload([row(id="NRC-1", hh="100"), row(id="NRC-2", activity="Blankets distributed", hh="80")])
    page = text(client_as(Role.VIEWER).get(reverse("cluster:cluster-matrix"), {"activity": ""}))
    assert '<option value="" selected>Every activity</option>' in page
    assert '<span class="activities">BLANKETS (80 hh), TENTS (100 hh)</span>' in page


# --- 4. the HXL download ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query", "filename"),
    [
        ("cluster:cluster-gaps", {"activity": "TENTS"}, "cluster-gaps-district-hxl.csv"),
        ("cluster:cluster-matrix", {"activity": "TENTS"}, "cluster-4w-matrix-district-hxl.csv"),
        ("cluster:cluster-totals", {}, "cluster-totals-hxl.csv"),
    ],
    ids=["gaps", "matrix", "totals"],
)
def test_each_aggregate_page_offers_its_hxl_download(
    batagram_needs, upload, client_as, name, query, filename
):
    upload([row(id="NRC-1", hh="100")])
    client = client_as(Role.VIEWER)
    page = text(client.get(reverse(name), query))
    link = re.search(r'<a [^>]*href="([^"]+)"[^>]*>Download HXL</a>', page)
    assert link is not None
    for other in ("CSV", "XLSX"):
        assert f">Download {other}</a>" in page
    download = client.get(link[1].replace("&amp;", "&"))
    assert download["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert text(download).splitlines()[1].startswith("#")
