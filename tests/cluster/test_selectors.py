"""The gap analysis at any level, for an activity and a period; needs rolled up; the 4W matrix;
areas with no partner; the headline figures."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.cluster.importers import needs_import_file
from reliefops.cluster.maps import coverage_class
from reliefops.cluster.models import NeedsBaseline
from reliefops.cluster.selectors import (
    HEADLINE_FIGURES,
    coverage_text,
    gap_by_area,
    headline_figures,
    matrix_4w,
    needs_at,
    selection,
)
from reliefops.core.errors import InvalidInput
from tests.cluster.conftest import row

NEEDS = (
    "District P-code,Households in need,Illustrative\n"
    "#adm2+code,#inneed+hh,#meta+illustrative\n"
    "PK504,1000,yes\n"
    "PK522,500,yes\n"
    "PK107,2000,yes\n"
)


@pytest.fixture
def shelter_picture(cluster, upload):
    """Needs per district, and tent rows: Allai served, a district-wide plan in Batagram, IOM's
    pipeline to NRC, Muzaffarabad served beyond its need, Mansehra and Bagh not at all."""
    needs_import_file(actor=None, data=NEEDS.encode(), filename="needs.csv")
    upload(
        [
            row(id="NRC-1", adm2="", adm3="PK50401", qty="300", hh="300"),
            row(
                id="NRC-2",
                adm2="PK504",
                status="planned",
                qty="200",
                hh="200",
                start="2006-01-01",
                end="2006-01-31",
            ),
            row(id="IOM-1", prog="IOM", recipient="NRC", adm2="", adm3="PK50401", qty="300", hh=""),
            row(id="IRW-1", prog="IRW", adm2="PK107", qty="2600", hh="2500"),
            row(id="IRW-2", prog="IRW", adm2="PK107", activity="Blankets distributed", qty="900", hh="300"),
        ]
    )
    return cluster


def by_code(report):
    return {(r.pcode, r.whole_area): r for r in report.rows}


def test_district_gaps_count_households_reached_targeted_coverage_and_gap(shelter_picture):
    report = gap_by_area(selection(level="district", activity="TENTS"))
    rows = by_code(report)
    batagram, muzaffarabad, mansehra = rows["PK504", False], rows["PK107", False], rows["PK522", False]
    # Batagram: 300 reached in Allai (the pipeline's 300 tents are not households reached), 200 planned
    assert (batagram.in_need, batagram.reached, batagram.targeted, batagram.gap) == (1000, 300, 200, 700)
    assert batagram.coverage == pytest.approx(0.3)
    assert (batagram.quantity_reached, batagram.quantity_targeted, batagram.quantity_to_partners) == (
        300,
        200,
        300,
    )
    assert batagram.partners == 2
    # Muzaffarabad: served beyond its need; the gap never goes below zero
    assert (muzaffarabad.reached, muzaffarabad.gap, muzaffarabad.coverage_percent) == (2500, 0, "125%")
    # Mansehra: in need, no tents at all — a gap of its whole need
    assert (mansehra.reached, mansehra.gap, mansehra.partners) == (0, 500, 0)
    # the needs are illustrative, and the report says so
    assert report.illustrative
    assert batagram.illustrative


def test_areas_with_no_partner_are_listed_with_their_need(shelter_picture):
    report = gap_by_area(selection(level="district", activity="TENTS"))
    no_partner = [(info.pcode, need.households if need else None) for info, need in report.no_partner]
    assert no_partner == [("PK522", 500), ("PK101", None)]


def test_tehsil_gaps_keep_district_wide_rows_apart(shelter_picture):
    rows = by_code(gap_by_area(selection(level="tehsil", activity="TENTS")))
    assert rows["PK50401", False].reached == 300
    # the plan reported for Batagram as a whole is shown under Batagram, not spread over its tehsils
    whole = rows["PK504", True]
    assert (whole.name, whole.targeted) == ("Batagram", 200)
    # district baselines say nothing of a tehsil's need
    assert rows["PK50401", False].in_need is None


def test_province_gaps_add_up_the_districts_needs(shelter_picture):
    rows = by_code(gap_by_area(selection(level="province", activity="TENTS")))
    assert (rows["PK5", False].in_need, rows["PK5", False].reached) == (1500, 300)
    assert (rows["PK1", False].in_need, rows["PK1", False].gap) == (2000, 0)


def test_an_areas_own_baseline_wins_over_its_parts(shelter_picture):
    # given a tehsil baseline for Allai under Batagram's district baseline
    needs_import_file(
        actor=None, data=b"P-code,In need\n#adm3+code,#inneed+hh\nPK50401,600\n", filename="n.csv"
    )
    # then the district keeps its own figure, and the tehsil has one now
    assert needs_at("district")["PK504"].households == 1000
    assert needs_at("tehsil")["PK50401"].households == 600
    assert needs_at("province")["PK5"].households == 1500


def test_a_province_adds_up_each_district_or_else_its_tehsils(shelter_picture):
    # given Batagram's district baseline (1,000), and Mansehra's need known by its tehsil only
    NeedsBaseline.objects.filter(admin_area__pcode="PK522").delete()
    needs_import_file(
        actor=None, data=b"P-code,In need\n#adm3+code,#inneed+hh\nPK52201,300\n", filename="n.csv"
    )
    # then the province counts both branches, each at the depth its need is known
    assert needs_at("district")["PK522"].households == 300
    province = needs_at("province")["PK5"]
    assert (province.households, province.baselines) == (1300, 2)


def test_every_activity_at_once_gives_a_row_per_area_and_activity(shelter_picture):
    report = gap_by_area(selection(level="district"))
    muzaffarabad = sorted((r.activity_code, r.reached) for r in report.rows if r.pcode == "PK107")
    assert muzaffarabad == [("BLANKETS", 300), ("TENTS", 2500)]


def test_a_selection_stays_within_an_area_and_a_period(shelter_picture):
    ajk = gap_by_area(selection(level="district", activity="TENTS", within="PK1"))
    assert {r.pcode for r in ajk.rows} == {"PK107"}
    assert [info.pcode for info, _ in ajk.no_partner] == ["PK101"]
    january = gap_by_area(
        selection(
            level="district",
            activity="TENTS",
            period_from=dt.date(2006, 1, 1),
            period_to=dt.date(2006, 1, 31),
        )
    )
    batagram = by_code(january)["PK504", False]
    assert (batagram.reached, batagram.targeted) == (0, 200)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"level": "village"}, "'village' is not a level"),
        ({"activity": "SOAP"}, "'SOAP' is not an activity"),
        ({"within": "PK999"}, "'PK999' is not a P-code"),
        ({"within": "PK5O4"}, r"'PK5O4' is not a P-code of the gazetteer; did you mean PK504 \(Batagram\)\?"),
        ({"within": "Batagram"}, r"'Batagram' is not a P-code of the gazetteer; it names PK504 \(Batagram\)"),
        (
            {"level": "district", "within": "PK504"},
            "not an area above the district level; show the tehsil level within it, or choose a wider area",
        ),
        ({"level": "tehsil", "within": "PK50401"}, r"above the tehsil level; choose a wider area$"),
    ],
)
def test_a_selection_names_what_it_cannot_use(shelter_picture, options, message):
    with pytest.raises(InvalidInput, match=message):
        selection(**options)


def test_the_gap_analysis_takes_a_fixed_number_of_queries(shelter_picture, django_assert_max_num_queries):
    chosen = selection(level="tehsil", activity="TENTS")
    with django_assert_max_num_queries(6):
        gap_by_area(chosen)


def test_the_4w_matrix_shows_who_does_what_where(shelter_picture):
    matrix = matrix_4w(selection(level="district"))
    labels = dict(matrix.organisations)
    nrc = next(pk for pk, label in labels.items() if label == "NRC")
    irw = next(pk for pk, label in labels.items() if label == "IRW")
    assert [a.pcode for a in matrix.areas] == ["PK107", "PK504"]
    assert matrix.cell(irw, "PK107").activities == ["BLANKETS", "TENTS"]
    nrc_in_batagram = matrix.cell(nrc, "PK504")
    assert (nrc_in_batagram.rows, nrc_in_batagram.reached_by_activity) == (2, [("TENTS", 300)])
    assert matrix.cell(nrc, "PK107") is None


def test_headline_figures_use_the_published_keys(shelter_picture):
    figures = headline_figures()
    assert set(figures) == set(HEADLINE_FIGURES)
    assert figures["tents_delivered"] == 2900
    assert figures["blankets_delivered"] == 900


def test_needs_import_reports_problems_and_updates_in_place(cluster):
    with pytest.raises(InvalidInput) as refused:
        needs_import_file(
            actor=None, data=b"P,N\n#adm2+code,#inneed+hh\nPK5O4,10\nPK522,-3\nPK999,-1\n", filename="n.csv"
        )
    assert [str(p) for p in refused.value.problems] == [
        "row 3, #adm2+code: 'PK5O4' is not a P-code; did you mean PK504 (Batagram)?",
        "row 4, #inneed+hh: -3 is negative; write 0 or more, or leave the cell empty",
        # every problem of a row is told, its place's and its figures'
        "row 5, #adm2+code: 'PK999' is not a P-code; check it against the gazetteer (Admin areas)",
        "row 5, #inneed+hh: -1 is negative; write 0 or more, or leave the cell empty",
    ]
    needs_import_file(actor=None, data=NEEDS.encode(), filename="needs.csv")
    again = needs_import_file(actor=None, data=NEEDS.encode(), filename="needs.csv")
    assert not again.changed
    changed = needs_import_file(actor=None, data=NEEDS.replace("1000", "1200").encode(), filename="needs.csv")
    assert (changed.updated, changed.changes) == (1, [("PK504", "households_in_need: 1000 -> 1200")])
    assert NeedsBaseline.objects.get(admin_area=cluster.batagram).households_in_need == 1200


@pytest.mark.parametrize(
    ("reached", "in_need", "shown", "kind"),
    [
        (17_790, 23_764, "74%", "half"),  # 74.86%: not "75%" under the map's "50% to 75%"
        (249, 1_000, "24%", "low"),
        (250, 1_000, "25%", "some"),
        (999, 1_000, "99%", "most"),  # not "100%" while households are still to reach
        (1_000, 1_000, "100%", "full"),
        (2_500, 2_000, "125%", "full"),
    ],
)
def test_the_coverage_shown_and_its_map_class_agree(reached, in_need, shown, kind):
    assert coverage_text(reached, in_need) == shown
    assert coverage_class(reached / in_need, in_need, reached).key == kind
    assert coverage_text(0, None) == ""


@pytest.mark.parametrize(
    ("coverage", "in_need", "reached", "partnered", "kind"),
    [
        pytest.param(None, 300, 0, False, "none", id="need-no-partner"),
        pytest.param(None, None, 0, False, "blank", id="no-need-no-partner"),
        pytest.param(None, None, 120, True, "unknown", id="partners-no-need"),
        pytest.param(0.0, 300, 0, True, "low", id="partners-nothing-reached-yet"),
    ],
)
def test_the_map_tells_an_area_without_partner_from_one_without_baseline(
    coverage, in_need, reached, partnered, kind
):
    assert coverage_class(coverage, in_need, reached, partnered=partnered).key == kind
