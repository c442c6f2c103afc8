"""The sitrep's builder on its own: its file name, its sentences and its hubs."""

from __future__ import annotations

import datetime as dt

import pytest

from reliefops.reports.periods import Period
from reliefops.reports.selectors import ItemFigure
from reliefops.reports.sitrep import build_sitrep, quantities

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("period", "name"),
    [
        pytest.param(
            Period(dt.date(2005, 12, 1), dt.date(2005, 12, 31)), "sitrep-2005-12-01-to-2005-12-31.md"
        ),
        pytest.param(Period(dt.date(1, 1, 1), None), "sitrep-0001-01-01-to-2006-03-31.md", id="year-one"),
        pytest.param(Period(None, dt.date(999, 3, 1)), "sitrep-0999-03-01.md", id="three-digit-year"),
    ],
)
def test_a_sitrep_file_name_writes_every_year_in_four_digits(period, name):
    report = build_sitrep(period=period, today=dt.date(2006, 3, 31))
    assert report.file_name("md") == name


def test_the_hubs_part_counts_stock_and_trucks_on_a_past_period_s_last_day(ledger):
    # given the warehouse supplying the Balakot hub, which supplies its point and a camp; the truck
    # of 30 blankets leaving the warehouse for the hub on 5 Nov 2005, still on the way
    ledger.hub.parent_hub = ledger.warehouse
    ledger.hub.save()
    ledger.camp.parent_hub = ledger.hub
    ledger.camp.save()
    today, blanket = dt.date(2006, 3, 31), ledger.blanket.pk

    def hubs(period: Period):
        report = build_sitrep(period=period, today=today)
        return report, {line.site.code: line for line in report.hubs}

    # when the sitrep of October 2005 is written, before the truck left
    october, lines = hubs(Period(dt.date(2005, 10, 1), dt.date(2005, 10, 31)))
    # then no truck was on its way to the hub, and each hub holds what it held on 31 October
    assert lines["BLK-HUB"].waybills_in == 0
    assert (lines["BLK-HUB"].on_hand, lines["ISB-WH"].on_hand) == ({blanket: 200}, {blanket: 500})
    assert (
        october.hubs_on_hand_caption
        == "On hand on 31 October 2005 at each hub itself (its points hold their own stock)"
    )
    assert october.waybills_heading == "waybills on the way on 31 October 2005"
    # when the sitrep of 1-10 November 2005 is written, the truck on the road
    _, lines = hubs(Period(dt.date(2005, 11, 1), dt.date(2005, 11, 10)))
    assert lines["BLK-HUB"].waybills_in == 1
    assert (lines["BLK-HUB"].on_hand, lines["ISB-WH"].on_hand) == ({blanket: 160}, {blanket: 470})
    # and the sitrep of the whole operation counts them today
    whole, lines = hubs(Period())
    assert lines["BLK-HUB"].waybills_in == 1
    assert whole.hubs_on_hand_caption.startswith("On hand today at each hub")
    assert whole.waybills_heading == "waybills on the way"
    # and "points and camps served" counts the point and the camp, not the hub a warehouse supplies
    assert (lines["BLK-HUB"].served_sites, lines["ISB-WH"].served_sites) == (2, 0)


def figure(code: str, name: str, published_key: str = "") -> ItemFigure:
    return ItemFigure(item_id=0, code=code, name=name, unit="piece", published_key=published_key)


@pytest.mark.parametrize(
    ("pairs", "said"),
    [
        pytest.param(
            [
                (11_768, figure("TENT", "Tent", "tents")),
                (18_989, figure("TARPAULIN", "Tarpaulin", "tarpaulins")),
            ],
            "11,768 tents and 18,989 tarpaulins",
            id="published-names-with-commas-in-figures-only",
        ),
        pytest.param(
            [
                (4_336, figure("KITCHEN-SET", "Kitchen set, family")),
                (5_548, figure("MATTRESS", "Mattress, foam")),
                (463, figure("STOVE", "Stove (bukhari, wood-burning)")),
            ],
            "4,336 of Kitchen set, family; 5,548 of Mattress, foam; and 463 of Stove (bukhari, wood-burning)",
            id="names-with-commas",
        ),
        pytest.param(
            [(4_336, figure("KITCHEN-SET", "Kitchen set, family"))], "4,336 of Kitchen set, family", id="one"
        ),
    ],
)
def test_items_whose_names_hold_commas_are_listed_with_semicolons(pairs, said):
    assert quantities(pairs) == said
