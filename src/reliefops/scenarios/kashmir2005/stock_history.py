"""A seeded, realistic stock history of IOM's relief operation, October 2005 to March 2006.

Donors' goods arrive at the Islamabad warehouse (Chaklala), go by truck and helicopter to the
forward hubs (Mansehra, Balakot, Batagram, Muzaffarabad, Bagh), on to their distribution points by
jeep and helicopter, and are handed over to families or to partners. Deliveries arrive short or
damaged now and then, the winter storms of late December and January destroy stock at Bagh and
Muzaffarabad, hubs count their stock every month, and the Islamabad warehouse assembles
winterization kits. Everything is posted through the ledger's own services.

The history is planned so that the items distributed — to households and through partners —
total exactly the figures IOM published (published-figures.json): the plan fixes every
distribution first, then ships what each distribution needs, so losses and short deliveries are
made up by more shipments, never by changing a distribution.

The dates, quantities, routes and losses are illustrative (seeded), within the sourced facts
(facts.md): the hubs and their roles, Allai served by helicopter through the Bana helipad, 2,000
CGI sheets and 425 winterised tents handed to the Army for Raj Pattian, 771 DFID winterisation
kits to Narra and Hassa, the storms that collapsed tents and grounded helicopters.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Sum

from reliefops.catalog.models import Item
from reliefops.partners.models import Grant, Organisation
from reliefops.places.models import Site
from reliefops.scenarios.base import StepContext
from reliefops.stock.models import Balance, Movement
from reliefops.stock.selectors import PUBLISHED_ITEMS
from reliefops.stock.services import (
    CountLine,
    DeliveryLine,
    ReceiptLine,
    StockLine,
    kits_assemble,
    pledge_create,
    stock_count,
    stock_distribute,
    stock_handover_to_partner,
    stock_receive,
    stock_report_loss,
    waybill_confirm_delivery,
    waybill_dispatch,
)

SEED = 2005
KEY_PREFIX = "kashmir-2005/"
# The key of the history's first posting (a receipt): whether the history is loaded is one look-up
# of it in the unique index, where a match on the prefix scans every movement on SQLite.
FIRST_KEY = f"{KEY_PREFIX}{1:06d}"
START = dt.date(2005, 10, 17)  # the first Monday IOM's hubs distributed from
END = dt.date(2006, 3, 31)  # the relief phase ended (published-figures.json)
WAREHOUSE = "ISB-WH"

# Forward hubs: their share of each item, and their distribution points with the point's share
# of the hub's distributions (the rest is distributed at the hub itself).
HUBS: dict[str, tuple[float, dict[str, float]]] = {
    "MNS-HUB": (0.16, {"DP-GARHI-HABIBULLAH": 0.5}),
    "BLK-HUB": (0.24, {"DP-RAJ-PATTIAN": 0.15, "DP-NARRA": 0.1, "DP-HASSA": 0.1}),
    "BTG-HUB": (0.24, {"DP-BANA": 0.6}),
    "MZD-HUB": (0.22, {"DP-MZD-CITY": 0.5}),
    "BAG-HUB": (0.14, {"DP-BAG-TOWN": 0.5}),
}
# Helicopter sorties served the high valleys; trucks the roads.
BY_AIR = {"DP-BANA", "DP-RAJ-PATTIAN"}

# Which grants paid for which items (illustrative donor attribution).
GRANTS_BY_ITEM: dict[str, tuple[str, ...]] = {
    "TENT": ("ECHO-2005-11", "JPN-2005-01"),
    "SHELTER-KIT": ("DFID-2005-07", "USAID-2005-03", "CIDA-2005-02"),
    "WINTER-KIT": ("DFID-2005-07", "SIDA-2005-05"),
    "BLANKET": ("ECHO-2005-11", "JPN-2005-01", "KSA-2005-06"),
    "QUILT": ("KSA-2005-06", "ECHO-2005-11"),
    "CGI-SHEET": ("NOR-2005-04", "USAID-2005-03"),
    "TARPAULIN": ("DFID-2005-07", "USAID-2005-03"),
    "STOVE": ("ECHO-2005-11",),
    "MATTRESS": ("JPN-2005-01",),
    "KITCHEN-SET": ("ECHO-2005-11",),
    "TOOL-SET": ("USAID-2005-03",),
    "PLASTIC-SHEET": ("SIDA-2005-05",),
    "BUCKET": ("SIDA-2005-05",),
    "ROPE": ("SIDA-2005-05",),
}
# Other non-food items distributed beside the published ones ("hundreds of tonnes").
OTHER_NFI = {"STOVE": 9000, "MATTRESS": 15000, "KITCHEN-SET": 12000, "TOOL-SET": 6000}
# Winterization kits assembled at Islamabad from components (the rest arrived packed).
KITS_ASSEMBLED = 6000

# Stock handed to partners to distribute (facts.md §4; the Habitat and PRCS amounts are illustrative).
HANDOVERS: list[tuple[str, str, str, int, dt.date, str]] = [
    (
        "BLK-HUB",
        "Pakistan Army",
        "CGI-SHEET",
        2000,
        dt.date(2005, 12, 6),
        "for Raj Pattian, Jabra, Mang, Sarash, Hangrai and Sat Bani (IOM-Cold)",
    ),
    (
        "BLK-HUB",
        "Pakistan Army",
        "TENT",
        425,
        dt.date(2005, 12, 6),
        "winterised tents for Raj Pattian and the villages above Balakot (IOM-Cold)",
    ),
    (
        "BLK-HUB",
        "Habitat for Humanity International",
        "WINTER-KIT",
        1500,
        dt.date(2006, 3, 8),
        "IOM winter kits distributed by Habitat at Balakot",
    ),
    (
        "MZD-HUB",
        "Pakistan Red Crescent Society",
        "BLANKET",
        6000,
        dt.date(2005, 12, 20),
        "blankets for PRCS distributions in Muzaffarabad",
    ),
]
# Fixed distributions from the facts: 771 DFID winterisation kits to Narra and Hassa.
FIXED = {("DP-NARRA", "WINTER-KIT"): 400, ("DP-HASSA", "WINTER-KIT"): 371}


# Part of a week's distributions at a site may be handed to registered households instead of being
# reported in bulk (households_history.py): the callable gets (site code, {item code: quantity}, day),
# posts household handovers for at most those quantities, and returns what it handed over; the rest
# is reported in bulk, so the history still totals the published figures exactly.
HouseholdHandovers = Callable[[str, dict[str, int], dt.date], dict[str, int]]


def weeks() -> list[dt.date]:
    out, day = [], START
    while day + dt.timedelta(days=6) <= END:
        out.append(day)
        day += dt.timedelta(days=7)
    return out


def week_weights(count: int) -> list[float]:
    """The Winter Race: distributions rise through November, peak in December, taper to March."""
    weights = []
    for index in range(count):
        position = index / max(count - 1, 1)
        weights.append(0.35 + 1.6 * max(0.0, 1 - abs(position - 0.33) / 0.45))
    return weights


def split(total: int, weights: list[float]) -> list[int]:
    """Split a whole number over weights; the parts add up to exactly `total`."""
    scale = sum(weights)
    parts = [int(total * w / scale) for w in weights]
    remainder = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: -(total * weights[i] / scale - parts[i]))
    for i in order[:remainder]:
        parts[i] += 1
    return parts


@dataclass
class Plan:
    """Every distribution of the history: (site code, item code, week index) -> quantity."""

    distributions: dict[tuple[str, str, int], int] = field(default_factory=lambda: defaultdict(int))

    def for_week(self, week: int) -> Iterator[tuple[str, str, int]]:
        for (site, item, index), quantity in sorted(self.distributions.items()):
            if index == week and quantity > 0:
                yield site, item, quantity


def published_targets(context: StepContext) -> dict[str, int]:
    figures = json.loads(context.data("published-figures.json"))["iom_distributed"]
    return {code: int(figures[key]) for code, key in PUBLISHED_ITEMS.items()}


def make_plan(targets: dict[str, int], rng: random.Random) -> Plan:
    """Spread each item's distributions (less the partners' share) over hubs, points and weeks."""
    plan = Plan()
    count = len(weeks())
    weights = week_weights(count)
    for item, total in sorted(targets.items()):
        to_households = total - sum(q for _, _, code, q, _, _ in HANDOVERS if code == item)
        fixed = {site: q for (site, code), q in FIXED.items() if code == item}
        # Points with a sourced figure get exactly it; the hubs' split covers the rest.
        hub_totals = split(to_households - sum(fixed.values()), [share for share, _ in HUBS.values()])
        for (hub, (_, points)), hub_total in zip(HUBS.items(), hub_totals, strict=True):
            shares = {site: share for site, share in points.items() if site not in fixed}
            shares[hub] = 1 - sum(points.values())
            site_totals = dict(zip(shares, split(hub_total, list(shares.values())), strict=True))
            site_totals.update({site: q for site, q in fixed.items() if site in points})
            for site, site_total in sorted(site_totals.items()):
                jitter = [w * rng.uniform(0.7, 1.3) for w in weights]
                for index, quantity in enumerate(split(site_total, jitter)):
                    plan.distributions[(site, item, index)] += quantity
    return plan


class History:
    """Posts the history week by week, shipping what each week's distributions need."""

    def __init__(
        self, context: StepContext, rng: random.Random, household_handovers: HouseholdHandovers | None = None
    ) -> None:
        self.context = context
        self.rng = rng
        self.household_handovers = household_handovers
        self.sites = {s.code: s for s in Site.objects.all()}
        self.items = {i.code: i for i in Item.objects.all()}
        self.grants = {g.reference: g for g in Grant.objects.all()}
        self.seq = 0
        self.grant_turn: dict[str, int] = defaultdict(int)
        self.counts: dict[str, int] = defaultdict(int)

    # --- plumbing --------------------------------------------------------------------------------

    def key(self) -> str:
        self.seq += 1
        return f"{KEY_PREFIX}{self.seq:06d}"

    def on_hand(self, site: str, items: Iterable[str]) -> dict[str, int]:
        """What the site holds of each of these items (all grants), in one query."""
        codes = {self.items[code].pk: code for code in items}
        held = dict.fromkeys(codes.values(), 0)
        totals = (
            Balance.objects.filter(location__site=self.sites[site], item__in=codes)
            .values_list("item")
            .annotate(t=Sum("quantity"))
        )
        for item_id, total in totals:
            held[codes[item_id]] = int(total or 0)
        return held

    def lines(self, quantities: dict[str, int]) -> list[StockLine]:
        return [
            StockLine(item_id=self.items[c].pk, quantity=q) for c, q in sorted(quantities.items()) if q > 0
        ]

    # --- operations ------------------------------------------------------------------------------

    def receive(self, item: str, quantity: int, day: dt.date) -> None:
        grants = GRANTS_BY_ITEM[item]
        grant = self.grants[grants[self.grant_turn[item] % len(grants)]]
        self.grant_turn[item] += 1
        key = self.key()
        stock_receive(
            actor=self.context.actor,
            site_id=self.sites[WAREHOUSE].pk,
            grant_id=grant.pk,
            grn_number=f"GRN-ISB-{self.seq:05d}",
            received_on=day,
            idempotency_key=key,
            lines=[ReceiptLine(item_id=self.items[item].pk, quantity=quantity)],
        )
        self.counts["receipts"] += 1

    def ship(self, source: str, target: str, needs: dict[str, int], day: dt.date) -> None:
        """Dispatch and confirm waybills until `target` holds what `needs` asks for."""
        for _ in range(4):
            held = self.on_hand(target, needs)
            missing = {item: need - held[item] for item, need in needs.items()}
            missing = {item: q for item, q in missing.items() if q > 0}
            if not missing:
                return
            # Ship a little more than needed, rounded up to whole loads of 50.
            load = {item: -(-int(q * self.rng.uniform(1.02, 1.12)) // 50) * 50 for item, q in missing.items()}
            if source == WAREHOUSE:
                # (a receipt of one item leaves what the warehouse holds of the others as it was)
                stocked = self.on_hand(WAREHOUSE, load)
                for item, quantity in load.items():
                    short = quantity - stocked[item]
                    if short > 0:
                        self.receive(item, short + self.rng.randint(0, 4) * 500, day - dt.timedelta(days=1))
            air = target in BY_AIR or (target == "BTG-HUB" and self.rng.random() < 0.25)
            transport = "helicopter" if air else ("jeep" if source != WAREHOUSE else "truck")
            sent_on = day
            result = waybill_dispatch(
                actor=self.context.actor,
                from_site_id=self.sites[source].pk,
                to_site_id=self.sites[target].pk,
                lines=self.lines(load),
                dispatched_on=sent_on,
                expected_on=sent_on + dt.timedelta(days=2),
                transport=transport,
                vehicle=self.vehicle(transport),
                driver=self.driver(transport),
                idempotency_key=self.key(),
            )
            self.counts["waybills"] += 1
            self.confirm(result.waybill.pk, load, sent_on + dt.timedelta(days=1))

    def confirm(self, waybill_id: int, load: dict[str, int], day: dt.date) -> None:
        lines = []
        for item, quantity in sorted(load.items()):
            damaged = short = 0
            if self.rng.random() < 0.08:
                damaged = max(1, int(quantity * self.rng.uniform(0.005, 0.03)))
            if self.rng.random() < 0.05:
                short = max(1, int(quantity * self.rng.uniform(0.005, 0.02)))
            lines.append(
                DeliveryLine(
                    item_id=self.items[item].pk,
                    received=quantity - damaged - short,
                    damaged=damaged,
                    damage_reason="wet or crushed in transit" if damaged else "",
                    short_reason="missing on arrival; reported to the transporter" if short else "",
                )
            )
        waybill_confirm_delivery(
            actor=self.context.actor,
            waybill_id=waybill_id,
            delivered_on=day,
            lines=lines,
            idempotency_key=self.key(),
        )

    def vehicle(self, transport: str) -> str:
        if transport == "helicopter":
            return f"UNHAS sortie {self.rng.randint(100, 999)}"
        return f"{self.rng.choice(['LES', 'RIM', 'ISB', 'MNS'])}-{self.rng.randint(1000, 9999)}"

    def driver(self, transport: str) -> str:
        if transport == "helicopter":
            return "UNHAS crew"
        first = self.rng.choice(["Muhammad", "Abdul", "Gul", "Sher", "Zahid", "Tariq", "Imran", "Fazal"])
        return f"{first} {self.rng.choice(['Khan', 'Shah', 'Awan', 'Swati', 'Tanoli', 'Abbasi'])}"

    def distribute(self, site: str, quantities: dict[str, int], day: dt.date) -> None:
        if self.household_handovers is not None:
            handed = self.household_handovers(site, dict(quantities), day)
            quantities = {item: q - handed.get(item, 0) for item, q in quantities.items()}
            if not any(q > 0 for q in quantities.values()):
                return
        stock_distribute(
            actor=self.context.actor,
            site_id=self.sites[site].pk,
            distributed_on=day,
            reference=f"DIST-{site}-{day:%Y%m%d}",
            lines=self.lines(quantities),
            idempotency_key=self.key(),
        )
        self.counts["distributions"] += 1

    # --- the weeks -------------------------------------------------------------------------------

    def run(self, plan: Plan) -> None:
        handovers = sorted(HANDOVERS, key=lambda h: h[4])
        for index, monday in enumerate(weeks()):
            week = list(plan.for_week(index))
            if index == 0:
                self.assemble_kits(monday)
            by_site: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for site, item, quantity in week:
                by_site[site][item] += quantity
            due = [h for h in handovers if monday <= h[4] < monday + dt.timedelta(days=7)]
            for hub, (_, points) in HUBS.items():
                # A hub keeps enough for its own distributions and hand-overs, and for what its
                # points need with the margin that shipping to them adds.
                needs: dict[str, int] = defaultdict(int)
                for item, quantity in by_site.get(hub, {}).items():
                    needs[item] += quantity
                for point in points:
                    for item, quantity in by_site.get(point, {}).items():
                        needs[item] += int(quantity * 1.3) + 200
                for h_hub, _, item, quantity, _, _ in due:
                    if h_hub == hub:
                        needs[item] += quantity
                if needs:
                    self.ship(WAREHOUSE, hub, dict(needs), monday)
                for point in points:
                    if by_site.get(point):
                        self.ship(hub, point, dict(by_site[point]), monday + dt.timedelta(days=2))
            for hub, organisation, item, quantity, day, note in due:
                stock_handover_to_partner(
                    actor=self.context.actor,
                    site_id=self.sites[hub].pk,
                    organisation_id=Organisation.objects.get(name=organisation).pk,
                    handed_on=day,
                    reference=f"HO-{hub}-{day:%Y%m%d}",
                    note=note,
                    idempotency_key=self.key(),
                    lines=self.lines({item: quantity}),
                )
                self.counts["hand-overs"] += 1
            for site, quantities in sorted(by_site.items()):
                if any(quantities.values()):
                    self.distribute(site, quantities, monday + dt.timedelta(days=5))
            self.storms_and_counts(monday)
        self.closing_pipeline()

    def assemble_kits(self, day: dt.date) -> None:
        """Islamabad assembles winterization kits from SIDA's components (IOM winter kit 2006)."""
        for item, per_kit in (("PLASTIC-SHEET", 1), ("BUCKET", 1), ("BLANKET", 3), ("ROPE", 1)):
            self.receive_for_kits(item, per_kit * KITS_ASSEMBLED, day)
        kits_assemble(
            actor=self.context.actor,
            site_id=self.sites[WAREHOUSE].pk,
            kit_item_id=self.items["WINTER-KIT"].pk,
            quantity=KITS_ASSEMBLED,
            assembled_on=day,
            grant_id=self.grants["SIDA-2005-05"].pk,
            idempotency_key=self.key(),
        )
        self.counts["kitting"] += 1

    def receive_for_kits(self, item: str, quantity: int, day: dt.date) -> None:
        key = self.key()
        stock_receive(
            actor=self.context.actor,
            site_id=self.sites[WAREHOUSE].pk,
            grant_id=self.grants["SIDA-2005-05"].pk,
            grn_number=f"GRN-ISB-{self.seq:05d}",
            received_on=day - dt.timedelta(days=2),
            idempotency_key=key,
            lines=[ReceiptLine(item_id=self.items[item].pk, quantity=quantity)],
        )
        self.counts["receipts"] += 1

    def storms_and_counts(self, monday: dt.date) -> None:
        sunday = monday + dt.timedelta(days=6)
        # Late December and January: snow collapses tents and soaks stores at Bagh and Muzaffarabad.
        if dt.date(2005, 12, 26) <= monday <= dt.date(2006, 1, 16):
            for hub in ("BAG-HUB", "MZD-HUB"):
                stored = self.on_hand(hub, ("TENT", "BLANKET", "QUILT"))
                lost = {
                    item: int(stored[item] * self.rng.uniform(0.02, 0.06))
                    for item in ("TENT", "BLANKET", "QUILT")
                }
                if any(lost.values()):
                    stock_report_loss(
                        actor=self.context.actor,
                        site_id=self.sites[hub].pk,
                        reason="weather",
                        occurred_on=sunday,
                        note="winter storm: tents collapsed, stores flooded",
                        lines=self.lines(lost),
                        idempotency_key=self.key(),
                    )
                    self.counts["losses"] += 1
        # The last week of each month: every hub counts; a few items come up short.
        if (sunday + dt.timedelta(days=7)).month != sunday.month:
            for hub in HUBS:
                counted = []
                stored = self.on_hand(hub, PUBLISHED_ITEMS)
                for item in sorted(PUBLISHED_ITEMS):
                    held = stored[item]
                    if held:
                        gap = self.rng.choice([0, 0, 0, 0, 1, 2, 5]) if held > 10 else 0
                        counted.append(CountLine(item_id=self.items[item].pk, counted=held - gap))
                if counted:
                    stock_count(
                        actor=self.context.actor,
                        site_id=self.sites[hub].pk,
                        counted_on=sunday,
                        counts=counted,
                        note="monthly count",
                        idempotency_key=self.key(),
                    )
                    self.counts["counts"] += 1

    def closing_pipeline(self) -> None:
        """On 31 March 2006 three trucks are still on the road (two of them overdue) and two pledges
        are still to come: the pipeline of the history's last day. What became of them closes the
        history, so that on any later day the pipeline is what it was then, not trucks and pledges
        still awaited twenty years on: the trucks arrive whole on 1 April, and the pledged
        tarpaulins and CGI sheets on the days they were expected."""
        arrivals = []
        for hub, days_late in (("BTG-HUB", 3), ("BAG-HUB", 0), ("MNS-HUB", -2)):
            sent_on = END - dt.timedelta(days=3 + days_late)
            load = {"BLANKET": 500, "TARPAULIN": 200}
            stocked = self.on_hand(WAREHOUSE, load)
            for item, quantity in load.items():
                if stocked[item] < quantity:
                    self.receive(item, quantity * 2, sent_on - dt.timedelta(days=1))
            result = waybill_dispatch(
                actor=self.context.actor,
                from_site_id=self.sites[WAREHOUSE].pk,
                to_site_id=self.sites[hub].pk,
                lines=self.lines(load),
                dispatched_on=sent_on,
                expected_on=sent_on + dt.timedelta(days=2),
                vehicle=self.vehicle("truck"),
                driver=self.driver("truck"),
                idempotency_key=self.key(),
            )
            self.counts["waybills"] += 1
            arrivals.append(
                (result.waybill.pk, load, max(END + dt.timedelta(days=1), sent_on + dt.timedelta(days=2)))
            )
        pledges = []
        for grant, item, quantity, day in (
            ("DFID-2005-07", "TARPAULIN", 5000, dt.date(2006, 4, 12)),
            ("UNHCR-2006-01", "CGI-SHEET", 14000, dt.date(2006, 4, 20)),
        ):
            pledge = pledge_create(
                actor=self.context.actor,
                grant_id=self.grants[grant].pk,
                item_id=self.items[item].pk,
                quantity=quantity,
                destination_site_id=self.sites[WAREHOUSE].pk,
                expected_on=day,
                reference=f"PLEDGE-{grant}",
            )
            pledges.append((pledge.pk, grant, item, quantity, day))
        # After the history's last day: the trucks are confirmed and the pledges received.
        for waybill_id, load, day in arrivals:
            waybill_confirm_delivery(
                actor=self.context.actor,
                waybill_id=waybill_id,
                delivered_on=day,
                lines=[
                    DeliveryLine(item_id=self.items[item].pk, received=quantity)
                    for item, quantity in sorted(load.items())
                ],
                idempotency_key=self.key(),
            )
        for pledge_id, grant, item, quantity, day in pledges:
            key = self.key()
            stock_receive(
                actor=self.context.actor,
                site_id=self.sites[WAREHOUSE].pk,
                grant_id=self.grants[grant].pk,
                grn_number=f"GRN-ISB-{self.seq:05d}",
                received_on=day,
                pledge_id=pledge_id,
                idempotency_key=key,
                lines=[ReceiptLine(item_id=self.items[item].pk, quantity=quantity)],
            )
            self.counts["receipts"] += 1


def other_nfi_targets() -> dict[str, int]:
    return dict(OTHER_NFI)


def load_stock_history(context: StepContext, *, household_handovers: HouseholdHandovers | None = None) -> str:
    """Receipts, waybills, deliveries, losses, counts, kitting, hand-overs and distributions."""
    if Movement.objects.filter(idempotency_key=FIRST_KEY).exists():
        count = Movement.objects.filter(idempotency_key__startswith=KEY_PREFIX).count()
        return f"already loaded ({count} movements): unchanged"
    rng = random.Random(SEED)
    targets = {**published_targets(context), **other_nfi_targets()}
    history = History(context, rng, household_handovers)
    history.run(make_plan(targets, rng))
    summary = ", ".join(f"{n} {what}" for what, n in sorted(history.counts.items()))
    return f"{history.seq} movements: {summary}"
