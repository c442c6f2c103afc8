"""The Kashmir 2005 scenario's reference data, and a load that is all or nothing (the whole scenario
loaded, and loaded again, is in test_whole_scenario.py)."""

from __future__ import annotations

import io
import json

import pytest

from reliefops.catalog.models import Item, Kit
from reliefops.partners.models import Grant, Organisation
from reliefops.places.lookup import place_match
from reliefops.places.models import AdminArea, Site
from reliefops.scenarios import kashmir2005
from reliefops.scenarios.base import StepContext, run_steps
from reliefops.scenarios.kashmir2005 import DATA_DIR, HUB_CODES, PUBLISHED_ITEM_CODES, REFERENCE_STEPS, STEPS
from tests.scenarios.conftest import row_counts


@pytest.fixture
def loaded(db):
    """The scenario's reference data (the steps before the stock history)."""
    run_steps(scenario="kashmir-2005", steps=REFERENCE_STEPS, context=StepContext(DATA_DIR, io.StringIO()))


def test_reference_data_is_there(loaded):
    assert AdminArea.objects.count() == 89  # 88 areas and the country
    assert (
        Organisation.objects.filter(
            acronym__in=["IOM", "UNHCR", "WFP", "FRC", "ERRA", "DFID", "ECHO"]
        ).count()
        == 7
    )
    assert Kit.objects.count() == 3


def test_the_seven_published_items_exist_with_these_codes(loaded):
    figures = json.loads((DATA_DIR / "published-figures.json").read_text())
    assert len(figures["iom_distributed"]) == len(PUBLISHED_ITEM_CODES) == 7
    assert set(Item.objects.filter(code__in=PUBLISHED_ITEM_CODES).values_list("code", flat=True)) == set(
        PUBLISHED_ITEM_CODES
    )


def test_hubs_sit_in_their_real_admin_areas(loaded):
    places = dict(
        Site.objects.filter(code__in=[*HUB_CODES, "PSH-OFF"]).values_list("code", "admin_area__pcode")
    )
    assert places == {
        "ISB-WH": "PK401",
        "MNS-HUB": "PK52202",
        "BLK-HUB": "PK52201",
        "BTG-HUB": "PK50402",
        "MZD-HUB": "PK10701",
        "BAG-HUB": "PK10101",
        "PSH-OFF": "PK528",
    }
    assert Site.objects.get(code="PSH-OFF").kind == "office"
    assert Site.objects.get(code="ISB-WH").kind == "warehouse"


def test_distribution_points_and_camps_are_served_by_a_hub(loaded):
    served = Site.objects.filter(kind__in=["distribution_point", "camp"])
    assert served.count() >= 10
    assert not served.filter(parent_hub__isnull=True).exists()
    assert all(code.startswith(("DP-", "CAMP-")) for code in served.values_list("code", flat=True))
    bana = Site.objects.get(code="DP-BANA")
    assert (bana.admin_area.pcode, bana.parent_hub.code) == ("PK50401", "BTG-HUB")
    al_hadith = Site.objects.get(code="CAMP-AL-HADITH")
    assert (al_hadith.lat, al_hadith.lon, al_hadith.parent_hub.code) == (33.9779, 73.7741, "BAG-HUB")


def test_kits_hold_the_published_contents(loaded):
    winter = Kit.objects.get(item__code="WINTER-KIT")
    assert dict(winter.components.values_list("item__code", "quantity")) == {
        "PLASTIC-SHEET": 1,
        "BUCKET": 1,
        "BLANKET": 3,
        "ROPE": 1,
    }
    shelter = dict(Kit.objects.get(item__code="SHELTER-KIT").components.values_list("item__code", "quantity"))
    assert {"CGI-SHEET", "PLASTIC-SHEET", "TOOL-SET", "NAILS", "WIRE"} <= set(shelter)
    assert Item.objects.get(code="BLANKET").pack_sizes.get(name="bale").quantity == 10


def test_grants_go_to_iom_donors_and_mark_illustrative_amounts(loaded):
    dfid = Grant.objects.get(reference="DFID-2005-07")
    assert (dfid.donor.acronym, dfid.start.isoformat(), dfid.end.isoformat()) == (
        "DFID",
        "2005-10-12",
        "2006-03-31",
    )
    assert "illustrative" in dfid.title
    # the only sourced amount: UNHCR gave IOM US$2.25 m for returns (UNHCR, 5 May 2006)
    assert Grant.objects.get(reference="UNHCR-2006-01").amount_minor == 2_250_000_00
    illustrative = Grant.objects.filter(title__contains="illustrative")
    assert sum(g.amount_minor for g in illustrative) <= 60_500_000_00  # within the IOM appeal


@pytest.mark.parametrize(
    ("name", "pcode"),
    [
        ("Battagram", "PK504"),
        ("Balakot", "PK52201"),
        ("Bala Kot", "PK52201"),
        ("Muzafarabad", "PK107"),
        ("Neelam", "PK108"),
    ],
)
def test_the_scenario_knows_the_2005_spellings(loaded, name, pcode):
    assert place_match(name)[0].area.pcode == pcode


def test_a_failing_step_leaves_nothing_half_loaded(db, monkeypatch):
    # given a step after the reference data that fails
    def load_broken(context):
        raise RuntimeError("disk full")

    monkeypatch.setattr(kashmir2005, "STEPS", [*REFERENCE_STEPS, load_broken])
    before = row_counts()
    # when the scenario is loaded, then the error comes through and nothing stays written
    with pytest.raises(RuntimeError, match="disk full"):
        kashmir2005.load(stdout=io.StringIO())
    assert row_counts() == before


def test_steps_run_in_the_listed_order_with_reference_data_first():
    names = [step.__name__ for step in STEPS]
    assert names[:6] == [
        "load_gazetteer",
        "load_sites",
        "load_organisations",
        "load_grants",
        "load_items",
        "load_kits",
    ]
    assert STEPS[: len(REFERENCE_STEPS)] == REFERENCE_STEPS
