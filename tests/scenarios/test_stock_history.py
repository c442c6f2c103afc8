"""The scenario's stock history: realistic, balanced, and exactly the figures IOM published."""

from __future__ import annotations

import io
import json

import pytest
from django.db.models import Count

from reliefops.scenarios.kashmir2005 import DATA_DIR, load
from reliefops.stock.models import LocationKind, Movement, MovementKind, MovementLine, Waybill
from reliefops.stock.selectors import distributed_totals, ledger_verify


@pytest.mark.django_db
def test_history_totals_the_published_figures_and_loads_once():
    # when the scenario is loaded
    load(stdout=io.StringIO())

    # then the items distributed, to households and through partners, are exactly IOM's figures
    published = json.loads((DATA_DIR / "published-figures.json").read_text())["iom_distributed"]
    assert distributed_totals() == published

    # and the ledger is sound
    assert ledger_verify().ok

    # and the history looks like the operation: hundreds of waybills by truck and helicopter,
    # short and damaged deliveries, storm losses, counts, kitting, hand-overs to partners
    kinds = dict(Movement.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds[MovementKind.DISPATCH] >= 200
    assert kinds[MovementKind.DELIVERY] >= 200
    assert kinds[MovementKind.COUNT] > 0
    assert kinds[MovementKind.KITTING] > 0
    assert kinds[MovementKind.LOSS] > 0
    transports = set(Waybill.objects.values_list("transport", flat=True))
    assert {"truck", "helicopter", "jeep"} <= transports
    lost_in_transit = MovementLine.objects.filter(
        movement__kind=MovementKind.DELIVERY, to_location__kind=LocationKind.LOSS
    )
    assert lost_in_transit.exists()
    partners = set(
        MovementLine.objects.filter(to_location__kind=LocationKind.PARTNER).values_list(
            "to_location__organisation__name", flat=True
        )
    )
    assert "Pakistan Army" in partners
    distributing_hubs = set(
        Movement.objects.filter(kind=MovementKind.DISTRIBUTION).values_list(
            "site__parent_hub__code", flat=True
        )
    ) | set(
        Movement.objects.filter(kind=MovementKind.DISTRIBUTION, site__kind="hub").values_list(
            "site__code", flat=True
        )
    )
    assert {"MNS-HUB", "BLK-HUB", "BTG-HUB", "MZD-HUB", "BAG-HUB"} <= distributing_hubs
    assert Waybill.objects.filter(status="in_transit").exists()

    # when it is loaded again, nothing changes
    counts = (Movement.objects.count(), MovementLine.objects.count())
    out = io.StringIO()
    load(stdout=out)
    assert (Movement.objects.count(), MovementLine.objects.count()) == counts
    assert "stock history: already loaded" in out.getvalue()
