"""places.importers: gazetteer files (CSV, HXL, GeoJSON) and sites files, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliefops.core.errors import InvalidInput
from reliefops.core.models import AuditEvent
from reliefops.core.uploads import formula_problem
from reliefops.places.importers import admin_areas_import_file, geometry_centroid, sites_import_file
from reliefops.places.models import AdminArea, AdminLevel, Site
from reliefops.scenarios.kashmir2005 import DATA_DIR

DOCS = Path(__file__).resolve().parents[2] / "docs"

HEADER = "pcode,name,level,parent_pcode,lat,lon,elevation_m\n"
PROVINCE = "PK5,Khyber Pakhtunkhwa,province,PK,34.036,72.263,\n"


def import_csv(text: str, **kwargs):
    return admin_areas_import_file(actor=None, data=text.encode(), filename="areas.csv", **kwargs)


def refused(text: str | bytes, filename: str = "areas.csv") -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(InvalidInput) as caught:
        admin_areas_import_file(actor=None, data=data, filename=filename)
    return [str(p) for p in caught.value.problems]


# --- happy paths ---------------------------------------------------------------------------------


def test_gazetteer_csv_creates_every_area_and_the_country(db, places_csv):
    # when the scenario's gazetteer is imported into an empty database
    result = admin_areas_import_file(actor=None, data=places_csv, filename="places.csv")
    # then every row is created, and the country PK it hangs from as well
    assert str(result) == "88 created, 0 updated, 0 unchanged (country PK created)"
    assert AdminArea.objects.count() == 89
    batagram = AdminArea.objects.get(pcode="PK504")
    assert (batagram.name, batagram.level, batagram.parent.pcode) == ("Batagram", "district", "PK5")
    assert (batagram.lat, batagram.lon) == (34.762, 73.137)
    assert AdminArea.objects.get(pcode="PK").level == AdminLevel.COUNTRY
    union_council = AdminArea.objects.get(pcode="PK50401-UC01")
    assert (union_council.parent.pcode, union_council.lat, union_council.level) == (
        "PK50401",
        None,
        "union_council",
    )


def test_reimporting_the_same_file_changes_nothing(db, places_csv, state):
    # given the gazetteer imported once
    admin_areas_import_file(actor=None, data=places_csv, filename="places.csv")
    before = state()
    # when it is imported again
    result = admin_areas_import_file(actor=None, data=places_csv, filename="places.csv")
    # then nothing changes, not even the audit trail, and the summary says so
    assert str(result) == "0 created, 0 updated, 88 unchanged"
    assert state() == before


def test_a_changed_row_is_updated_in_place_with_before_and_after(db):
    # given an area
    import_csv(HEADER + PROVINCE + "PK504,Batagram,district,PK5,34.762,73.137,\n")
    area_id = AdminArea.objects.get(pcode="PK504").pk
    # when the file comes back with a new name and latitude
    result = import_csv(HEADER + PROVINCE + "PK504,Battagram,district,PK5,34.8,73.137,\n")
    # then the same row is updated, and the audit keeps only what changed
    assert str(result.counts) == "0 created, 1 updated, 1 unchanged"
    area = AdminArea.objects.get(pcode="PK504")
    assert (area.pk, area.name, area.lat) == (area_id, "Battagram", 34.8)
    event = AuditEvent.objects.filter(action="admin_area.update").get()
    assert event.before == {"name": "Batagram", "lat": 34.762}
    assert event.after == {"name": "Battagram", "lat": 34.8}


def test_parents_may_come_later_in_the_file_or_be_stored_already(db):
    # given a province already stored
    import_csv(HEADER + PROVINCE)
    # when a tehsil comes before its district in the file
    result = import_csv(
        HEADER + "PK50401,Allai,tehsil,PK504,34.811,73.201,\nPK504,Batagram,district,PK5,34.762,73.137,\n"
    )
    # then both are created under the right parents
    assert str(result.counts) == "2 created, 0 updated, 0 unchanged"
    assert AdminArea.objects.get(pcode="PK50401").parent.pcode == "PK504"


def test_optional_columns_alt_names_notes_and_cod_version(db):
    # given a file with the optional columns, one row with its own COD version
    text = (
        "pcode,name,level,parent_pcode,lat,lon,elevation_m,notes,alt_names,cod_version\n"
        "PK5,Khyber Pakhtunkhwa,province,PK,,,,2005: NWFP,NWFP; North-West Frontier Province ;,\n"
        "PK504,Batagram,district,PK5,,,1030,,Battagram,v02\n"
    )
    # when it is imported with a COD version for the rest
    import_csv(text, cod_version="v01")
    # then alternate names are split on ';' and each row has its version
    province = AdminArea.objects.get(pcode="PK5")
    assert province.alt_names == ["NWFP", "North-West Frontier Province"]
    assert (province.notes, province.cod_version) == ("2005: NWFP", "v01")
    district = AdminArea.objects.get(pcode="PK504")
    assert (district.cod_version, district.elevation_m) == ("v02", 1030)


def test_columns_the_file_lacks_are_left_as_stored(db):
    # given an area with notes and coordinates
    import_csv("pcode,name,level,parent_pcode,lat,lon,notes\nPK5,KP,province,PK,34.0,72.2,kept\n")
    # when a file without those columns renames it
    import_csv("pcode,name,level,parent_pcode\nPK5,Khyber Pakhtunkhwa,province,PK\n")
    # then the name changes and the rest stays
    area = AdminArea.objects.get(pcode="PK5")
    assert (area.name, area.lat, area.notes) == ("Khyber Pakhtunkhwa", 34.0, "kept")


def test_dry_run_counts_but_writes_nothing(db, places_csv, state):
    before = state()
    result = admin_areas_import_file(actor=None, data=places_csv, filename="places.csv", dry_run=True)
    assert str(result.counts) == "88 created, 0 updated, 0 unchanged"
    assert state() == before


def test_hxl_row_under_the_header_is_skipped_and_lines_still_count(db):
    # given an HXL row under the header and a bad value on the file's 4th line
    text = (
        HEADER
        + "#adm2+code,#adm2+name,,#adm1+code,#geo+lat,#geo+lon,\n"
        + PROVINCE
        + "PK504,Batagram,district,PK5,north,73.1,\n"
    )
    # when it is imported, then the problem is reported on line 4
    assert refused(text) == ["line 4, lat: not a number: 'north'"]
    # and without the bad value, the HXL row is not taken for an area
    import_csv(text.replace("north", "34.7"))
    assert set(AdminArea.objects.values_list("pcode", flat=True)) == {"PK", "PK5", "PK504"}


def test_hxl_hashtags_place_columns_with_other_headers(db):
    # given a file whose headers are not ours but whose hashtags say what each column is
    import_csv(HEADER + PROVINCE)
    text = (
        "District code,District,Province code,Latitude,Longitude\n"
        "#adm2+code,#adm2+name,#adm1+code,#geo+lat,#geo+lon\n"
        "PK504,Batagram,PK5,34.762,73.137\n"
    )
    # when it is imported
    import_csv(text)
    # then the deepest code is the P-code, the next one up the parent, and the level follows
    area = AdminArea.objects.get(pcode="PK504")
    assert (area.name, area.parent.pcode, area.level, area.lat) == ("Batagram", "PK5", "district", 34.762)


def test_district_boundaries_geojson_takes_centroids_as_coordinates(db):
    # given the provinces
    import_csv(HEADER + PROVINCE + "PK1,Azad Kashmir,province,PK,,,\nPK4,Islamabad,province,PK,,,\n")
    # when the scenario's district polygons are imported
    data = (DATA_DIR / "district-boundaries.geojson").read_bytes()
    result = admin_areas_import_file(actor=None, data=data, filename="district-boundaries.geojson")
    # then each district is created at its polygon's centroid, close to the published centroid
    assert str(result.counts) == "17 created, 0 updated, 0 unchanged"
    bagh = AdminArea.objects.get(pcode="PK101")
    assert (bagh.level, bagh.parent.pcode) == ("district", "PK1")
    assert bagh.lat == pytest.approx(34.003, abs=0.05)
    assert bagh.lon == pytest.approx(73.731, abs=0.05)


def feature(properties, geometry=None):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_geojson_with_cod_style_properties_and_inferred_level(db):
    # given a province, and features with COD-AB property names, or no level at all
    import_csv(HEADER + PROVINCE)
    data = collection(
        feature(
            {"ADM2_PCODE": "PK504", "ADM2_EN": "Batagram", "ADM1_PCODE": "PK5"},
            {"type": "Point", "coordinates": [73.137, 34.762]},
        ),
        feature({"pcode": "PK50401", "name": "Allai", "parent_pcode": "PK504", "elevation_m": 2000}),
    )
    # when imported
    admin_areas_import_file(actor=None, data=data, filename="areas.geojson")
    # then the COD names are understood, and a missing level is one below the parent's
    district = AdminArea.objects.get(pcode="PK504")
    assert (district.name, district.level, district.lat, district.lon) == (
        "Batagram",
        "district",
        34.762,
        73.137,
    )
    tehsil = AdminArea.objects.get(pcode="PK50401")
    assert (tehsil.level, tehsil.elevation_m, tehsil.lat) == ("tehsil", 2000, None)


def test_centroid_of_a_square_with_a_hole_and_of_a_multipolygon():
    square = [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    lat, lon = geometry_centroid({"type": "Polygon", "coordinates": square})
    # (16 x 2 - 1 x 0.5) / 15
    assert (lat, lon) == (pytest.approx(2.1), pytest.approx(2.1))
    two = [[[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]], [[[10, 0], [12, 0], [12, 2], [10, 2], [10, 0]]]]
    assert geometry_centroid({"type": "MultiPolygon", "coordinates": two}) == (
        pytest.approx(1),
        pytest.approx(6),
    )


# --- P-codes are upper-case, however a file writes them -----------------------------------------


def test_a_lower_case_pcode_is_the_stored_area_and_references_find_it(db):
    # given the province and Batagram, stored in capitals
    import_csv(HEADER + PROVINCE + "PK504,Batagram,district,PK5,34.762,73.137,\n")
    # when a file writes Batagram's P-code and its parent's in lower case, and adds a tehsil under it
    result = import_csv(
        HEADER + "pk504,Batagram,district,pk5,34.762,73.137,\n pk50401 ,Allai,tehsil,Pk504,,,\n"
    )
    # then Batagram is the area stored, unchanged, and the tehsil is stored in capitals beneath it
    assert str(result.counts) == "1 created, 0 updated, 1 unchanged"
    assert sorted(AdminArea.objects.values_list("pcode", flat=True)) == ["PK", "PK5", "PK504", "PK50401"]
    assert AdminArea.objects.get(pcode="PK50401").parent.pcode == "PK504"
    assert AuditEvent.objects.filter(action="admin_area.create", object_id="PK50401").exists()


def test_a_pcode_written_twice_in_two_cases_is_a_duplicate(db, state):
    before = state()
    text = HEADER + PROVINCE + "PK504,Batagram,district,PK5,,,\npk504,Battagram,district,PK5,,,\n"
    assert refused(text) == ["line 4, pcode: duplicate P-code PK504 (first at line 3)"]
    assert state() == before


def test_a_geojson_pcode_in_lower_case_is_stored_in_capitals(db):
    import_csv(HEADER + PROVINCE)
    data = collection(feature({"pcode": "pk504", "name": "Batagram", "parent_pcode": "pk5"}))
    admin_areas_import_file(actor=None, data=data, filename="areas.geojson")
    assert AdminArea.objects.get(pcode="PK504").parent.pcode == "PK5"


# --- bad input: nothing written, every problem with its line, field and reason --------------------

BAD_CSV = [
    pytest.param(
        HEADER + PROVINCE + "PK504,Batagram,district,PK999,,,\n",
        ["line 3, parent_pcode: unknown parent P-code PK999 (not in the file or the gazetteer)"],
        id="unknown-parent",
    ),
    pytest.param(
        HEADER + PROVINCE + "PK504,Batagram,district,PK5,,,\nPK504,Battagram,district,PK5,,,\n",
        ["line 4, pcode: duplicate P-code PK504 (first at line 3)"],
        id="duplicate-pcode",
    ),
    pytest.param(
        HEADER + "PK5,Khyber Pakhtunkhwa,province,PK,95,72.2,\n",
        ["line 2, lat: latitude 95.0 is out of range (-90 to 90)"],
        id="latitude-out-of-range",
    ),
    pytest.param(
        HEADER + "PK5,Khyber Pakhtunkhwa,province,PK,34,-190,\n",
        ["line 2, lon: longitude -190.0 is out of range (-180 to 180)"],
        id="longitude-out-of-range",
    ),
    pytest.param(
        HEADER + "PK5,Khyber Pakhtunkhwa,province,PK,34.1,,\n",
        ["line 2, lon: a latitude is given without a longitude"],
        id="latitude-without-longitude",
    ),
    pytest.param(
        HEADER + "PK5,Khyber Pakhtunkhwa,province,PK,34°N,72.2,\n",
        ["line 2, lat: not a number: '34°N'"],
        id="non-numeric-latitude",
    ),
    pytest.param(
        HEADER + "PK5,Khyber Pakhtunkhwa,province,PK,,,1200.5\n",
        ["line 2, elevation_m: not a whole number: '1200.5'"],
        id="fractional-elevation",
    ),
    pytest.param(
        HEADER + "PK5,Khyber Pakhtunkhwa,province,PK,,,9500\n",
        ["line 2, elevation_m: 9500 m is out of range (-450 to 8900 m)"],
        id="elevation-out-of-range",
    ),
    pytest.param(
        HEADER + "PK5,Khyber Pakhtunkhwa,county,PK,,,\n",
        [
            "line 2, level: unknown level 'county'; "
            "use one of country, province, district, tehsil, union_council, village"
        ],
        id="unknown-level",
    ),
    pytest.param(
        HEADER + PROVINCE + "PK504,,district,PK5,,,\n",
        ["line 3, name: the name is empty"],
        id="empty-name",
    ),
    pytest.param(
        HEADER + PROVINCE + "PK504,Batagram,district,,,,\n",
        ["line 3, parent_pcode: a district needs a parent P-code"],
        id="missing-parent",
    ),
    pytest.param(
        HEADER + PROVINCE + "PK50401,Allai,tehsil,PK5,,,\nPK504,Batagram,district,PK50401,,,\n",
        ["line 4, parent_pcode: PK50401 is a tehsil, which cannot hold a district"],
        id="parent-below-child",
    ),
    pytest.param(
        "pcode,name,level,lat,lon\nPK5,Khyber Pakhtunkhwa,province,,\n",
        ["line 1, parent_pcode: required column is missing from the header"],
        id="missing-column",
    ),
    pytest.param(
        HEADER + PROVINCE + "PK504,Batagram,district,PK5,,,,extra\n",
        ["line 3, row: 8 values but the header has 7 columns"],
        id="too-many-values",
    ),
    pytest.param("", ["whole file: the file is empty; it needs a header row"], id="empty-file"),
    pytest.param(
        "pcode,name,level,parent_pcode,elevaton_m\nPK5,Khyber Pakhtunkhwa,province,PK,1200\n",
        [
            "line 1, elevaton_m: not a column of this file: did you mean elevation_m? "
            "Rename the column or remove it"
        ],
        id="misspelt-column",
    ),
    pytest.param(
        "pcode,name,level,parent_pcod,district\nPK5,Khyber Pakhtunkhwa,province,PK,x\n",
        [
            "line 1, parent_pcode: required column is missing from the header",
            "line 1, parent_pcod: not a column of this file: did you mean parent_pcode? "
            "Rename the column or remove it",
            "line 1, district: not a column of this file (its columns: pcode, name, level, parent_pcode, "
            "lat, lon, elevation_m, notes, alt_names, cod_version); rename it or remove it",
        ],
        id="missing-misspelt-and-unknown-columns",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CSV)
def test_bad_csv_is_refused_whole_with_line_field_and_reason(db, state, text, expected):
    # given an empty gazetteer
    before = state()
    # when a file with one bad row is imported, then the import is refused with that row's problem
    assert refused(text) == expected
    # and nothing was written, not even the good rows or the country
    assert state() == before


def test_every_problem_of_a_file_is_reported_at_once_in_line_order(db, state):
    text = (
        HEADER
        + "PK5,Khyber Pakhtunkhwa,province,PK,,,\n"
        + "PK504,Batagram,district,PK999,north,73,\n"
        + "PK504,,district,PK5,,,\n"
    )
    before = state()
    assert refused(text) == [
        "line 3, lat: not a number: 'north'",
        "line 3, parent_pcode: unknown parent P-code PK999 (not in the file or the gazetteer)",
        "line 4, pcode: duplicate P-code PK504 (first at line 3)",
        "line 4, name: the name is empty",
    ]
    assert state() == before


def test_a_file_that_is_not_utf8_is_refused(db, state):
    before = state()
    data = (HEADER + "PK5,Khyber Pakhtunkhwa,province,PK,,,\nPK504,Mänsehra,district,PK5,,,\n").encode(
        "latin-1"
    )
    assert refused(data) == ["line 3, file: not UTF-8 text (byte 0xe4); save the file as UTF-8 (CSV UTF-8)"]
    assert state() == before


def test_an_hxl_file_may_carry_columns_of_other_hashtags_which_are_left_out(db):
    # given an HXL file with a column of its own dataset (its hashtag is not one the gazetteer reads)
    text = (
        "pcode,name,level,parent_pcode,Valid on\n"
        "#adm1+code,#adm1+name,,#country+code,#date+valid_on\n"
        "PK5,Khyber Pakhtunkhwa,province,PK,2026-01-26\n"
    )
    # when it is imported, then that column is left out and the area is created
    assert str(import_csv(text).counts) == "1 created, 0 updated, 0 unchanged"
    # but a column without a hashtag is refused as in any file
    problems = refused(text.replace(",#date+valid_on", ","))
    assert problems == [
        "line 1, valid_on: not a column of this file (its columns: pcode, name, level, parent_pcode, "
        "lat, lon, elevation_m, notes, alt_names, cod_version); rename it or remove it"
    ]


def test_the_guide_quotes_the_refusals_of_a_whole_file_as_they_read(db):
    # given the reference-data guide, its lines joined as a reader reads them
    guide = " ".join((DOCS / "user-guide" / "reference-data.md").read_text().split())
    # when an empty file and a JSON document that is not a FeatureCollection are imported
    for data, filename in [(b"", "areas.csv"), (b'{"type": "Feature"}', "areas.geojson")]:
        (problem,) = refused(data, filename)
        # then the guide quotes their problem as the import prints it
        assert f"`{problem}`" in guide


BAD_GEOJSON = [
    pytest.param(
        b'{"type": "FeatureCollection", "features": [', "line 1, file: not valid JSON", id="bad-json"
    ),
    pytest.param(
        b'{"type": "Feature"}', "whole file: not a GeoJSON FeatureCollection", id="not-a-collection"
    ),
    pytest.param(
        collection(
            feature({"pcode": "PK5", "name": "KP", "parent_pcode": "PK", "level": "province"}),
            feature(
                {"pcode": "PK504", "name": "Batagram", "parent_pcode": "PK5"},
                {"type": "Polygon", "coordinates": [[[73.1, 34.7], [73.2, 94.7]]]},
            ),
        ),
        "feature 2, geometry: position [73.2, 94.7] is out of range",
        id="geometry-out-of-range",
    ),
    pytest.param(
        collection(
            feature({"pcode": "PK504", "name": "Batagram", "parent_pcode": "PK999", "level": "district"})
        ),
        "feature 1, parent_pcode: unknown parent P-code PK999",
        id="unknown-parent",
    ),
    pytest.param(
        collection(
            feature({"pcode": "PK5", "name": "KP", "parent_pcode": "PK", "level": "province", "lat": "x"})
        ),
        "feature 1, lat: not a number: 'x'",
        id="non-numeric-property",
    ),
]


@pytest.mark.parametrize(("data", "expected"), BAD_GEOJSON)
def test_bad_geojson_is_refused_with_feature_field_and_reason(db, state, data, expected):
    before = state()
    problems = refused(data, filename="areas.geojson")
    assert len(problems) == 1
    assert problems[0].startswith(expected)
    assert state() == before


# --- sites ---------------------------------------------------------------------------------------

SITES_HEADER = "code,name,kind,admin_pcode,parent_hub,lat,lon,elevation_m,notes\n"


@pytest.fixture
def batagram(db):
    import_csv(HEADER + PROVINCE + "PK504,Batagram,district,PK5,,,\nPK50401,Allai,tehsil,PK504,,,\n")


def test_sites_csv_creates_hubs_before_the_sites_they_supply(batagram):
    text = (
        SITES_HEADER
        + "DP-BANA,Bana helipad,distribution point,PK50401,btg-hub,34.83,73.15,1400,estimate\n"
        + "BTG-HUB,IOM Batagram hub,hub,PK504,,34.678,73.024,1030,\n"
    )
    counts = sites_import_file(actor=None, data=text.encode())
    assert str(counts) == "2 created, 0 updated, 0 unchanged"
    bana = Site.objects.get(code="DP-BANA")
    assert (bana.kind, bana.parent_hub.code, bana.admin_area.pcode, bana.elevation_m) == (
        "distribution_point",
        "BTG-HUB",
        "PK50401",
        1400,
    )
    assert str(sites_import_file(actor=None, data=text.encode())) == "0 created, 0 updated, 2 unchanged"


def test_a_site_names_its_admin_area_by_p_code_in_any_case(batagram):
    # when a site's admin area is written in lower case
    sites_import_file(actor=None, data=(SITES_HEADER + "btg-hub,Batagram hub,hub,pk504,,,,,\n").encode())
    # then it lies in that area, as its own code is kept in capitals
    assert Site.objects.get(code="BTG-HUB").admin_area.pcode == "PK504"
    event = AuditEvent.objects.get(action="site.create")
    assert event.after["admin_area"] == "PK504"


BAD_SITES = [
    pytest.param(
        "DP-X,Point,distribution_point,PK999,,,,,\n",
        "line 2, admin_pcode: unknown P-code PK999 (not in the gazetteer)",
        id="unknown-admin-area",
    ),
    pytest.param(
        "DP-X,Point,depot,PK504,,,,,\n", "line 2, kind: unknown site kind 'depot'", id="unknown-kind"
    ),
    pytest.param(
        "CAMP-X,Camp,camp,PK504,,,,,\nDP-X,Point,distribution_point,PK504,CAMP-X,,,,\n",
        "line 3, parent_hub: CAMP-X is a camp; a parent hub is a hub or warehouse",
        id="parent-not-a-hub",
    ),
    pytest.param(
        "HUB-A,A,hub,PK504,HUB-B,,,,\nHUB-B,B,hub,PK504,HUB-A,,,,\n",
        "line 2, parent_hub: the parent hubs form a loop through HUB-A",
        id="supply-loop",
    ),
    pytest.param(
        "DP-X,Point,distribution_point,PK504,HUB-Z,,,,\n",
        "line 2, parent_hub: unknown site code HUB-Z",
        id="unknown-hub",
    ),
    pytest.param(
        "DP X,Point,distribution_point,PK504,,,,,\n", "line 2, code: 'DP X' is not a site code", id="bad-code"
    ),
]


def test_a_sites_file_with_a_misspelt_column_is_refused(batagram, state):
    before = state()
    with pytest.raises(InvalidInput) as caught:
        sites_import_file(
            actor=None, data=b"code,name,kind,admin_pcode,elevation\nDP-X,Point,dp,PK504,1400\n"
        )
    assert [str(p) for p in caught.value.problems] == [
        "line 1, elevation: not a column of this file: did you mean elevation_m? "
        "Rename the column or remove it"
    ]
    assert state() == before


@pytest.mark.parametrize(("body", "expected"), BAD_SITES)
def test_bad_sites_are_refused_with_line_field_and_reason(batagram, state, body, expected):
    before = state()
    with pytest.raises(InvalidInput) as caught:
        sites_import_file(actor=None, data=(SITES_HEADER + body).encode())
    assert str(caught.value.problems[0]).startswith(expected)
    assert state() == before


# --- properties ----------------------------------------------------------------------------------

names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30
).filter(
    # a name a spreadsheet would run as a formula ("=…") is refused by every importer
    lambda s: (
        s.strip() == s and "," not in s and '"' not in s and not formula_problem(s, row=None, field="name")
    )
)
districts = st.lists(
    st.tuples(
        st.integers(min_value=100, max_value=999),
        names,
        st.one_of(
            st.none(), st.floats(min_value=-90, max_value=90, allow_nan=False).map(lambda f: round(f, 4))
        ),
        st.one_of(st.none(), st.integers(min_value=-450, max_value=8900)),
    ),
    max_size=8,
    unique_by=lambda t: t[0],
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=districts)
def test_any_valid_file_imports_then_reimports_unchanged(db, rows):
    lines = [PROVINCE] + [
        f"PK5{code},{name},district,PK5,{'' if lat is None else lat},{'' if lat is None else 73.0},"
        f"{'' if elevation is None else elevation}\n"
        for code, name, lat, elevation in rows
    ]
    text = HEADER + "".join(lines)
    with transaction.atomic():
        first = import_csv(text)
        second = import_csv(text)
        assert (first.counts.created, second.counts.unchanged) == (len(rows) + 1, len(rows) + 1)
        assert second.counts.created == second.counts.updated == 0
        transaction.set_rollback(True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200) | st.text(alphabet=',\n"#PKabc123.-;', max_size=200).map(str.encode))
def test_any_file_is_either_imported_or_refused_with_nothing_written(db, state, data):
    before = state()
    problems = None
    try:
        with transaction.atomic():
            admin_areas_import_file(actor=None, data=HEADER.encode() + data, filename="x.csv")
            transaction.set_rollback(True)
    except InvalidInput as refusal:
        problems = refusal.problems
    # a refusal always says where and why; and whatever happened, nothing stays written
    assert problems is None or (problems and all(p.field and p.reason for p in problems))
    assert state() == before
