"""The Kashmir scenario's households: registered in the sources' villages and camps, served in the
Winter Race and camp rounds through handovers that replace part of the bulk distributions."""

from __future__ import annotations

import io
import json

import pytest

from reliefops.households.models import DistributionRound, Handover, Household, HouseholdStatus, RoundStatus
from reliefops.households.selectors import round_reconciliation
from reliefops.scenarios.kashmir2005 import DATA_DIR, load
from reliefops.stock.models import Movement
from reliefops.stock.selectors import distributed_totals, ledger_verify


@pytest.mark.django_db
def test_the_scenario_registers_households_and_serves_them_within_the_published_totals():
    # when the scenario is loaded
    out = io.StringIO()
    load(stdout=out)

    # then households are registered in Allai, Bala Kot and Bagh, and in the three camps
    households = Household.objects.filter(status=HouseholdStatus.ACTIVE)
    assert households.count() > 1000
    districts = set(households.values_list("origin_district__pcode", flat=True))
    assert {"PK504", "PK522", "PK101"} <= districts
    camps = set(households.exclude(current_site=None).values_list("current_site__code", flat=True))
    assert camps == {"CAMP-MAIRA", "CAMP-SIRAN-SIALKOT", "CAMP-THORI-PARK"}

    # and the Winter Race served households above 5,000 ft, highest first, and is closed
    winter = DistributionRound.objects.get(code="WR-2005")
    assert winter.status == RoundStatus.CLOSED
    report = round_reconciliation(winter)
    assert report.served_households > 500
    assert report.agrees_with_ledger
    served_bands = set(
        Handover.objects.filter(round=winter).values_list("household__elevation_band", flat=True)
    )
    assert served_bands <= {"5000_to_7000", "above_7000"}
    assert round_reconciliation(DistributionRound.objects.get(code="CAMP-2006")).served_households > 100

    # and every handover is one distribution movement, the published totals still hold exactly
    published = json.loads((DATA_DIR / "published-figures.json").read_text())["iom_distributed"]
    assert distributed_totals() == published
    assert ledger_verify().ok
    assert Movement.objects.filter(household_delivery__isnull=False).count() == Handover.objects.count()

    # and a second load changes nothing
    counts = (Household.objects.count(), Handover.objects.count(), Movement.objects.count())
    again = io.StringIO()
    load(stdout=again)
    assert (Household.objects.count(), Handover.objects.count(), Movement.objects.count()) == counts
    assert "households: 0 created, 0 updated" in again.getvalue()
