"""Reports over a big ledger: a synthetic ledger of 1 and 10 million lines, then the report timings.

The generator simulates, day by day, a relief operation shaped like the Kashmir 2005 one: 7 sites
(a warehouse and six forward hubs), 20 items, 30 grants of 10 donors, 6 partner organisations.
Receipts come from the donors' pipeline locations; waybills carry stock from the warehouse to the
hubs through one in-transit location each, and deliveries bring it in (a share damaged, to
loss/damage); hubs hand items to households and in bulk to beneficiaries, hand stock to partners,
report losses, count (adjustments both ways) and now and then reverse a distribution. Stock is
taken first-in-first-out by grant exactly as the posting engine takes it, so no physical balance
ever goes below zero, and the balance table is computed from the generated lines.

The ledger is written with bulk SQL: COPY on PostgreSQL, executemany in big transactions on SQLite
(synchronous=OFF while loading only). Secondary indexes and PostgreSQL's foreign keys are dropped
during the load and made again after it, which also checks every foreign key of the loaded rows.

Then, at each size: `stock_on_hand()` for every site and item, and `ledger_verify()`, each beside
raw SQL doing the same reads through the driver, and `reliefops stock verify` once.

    python bench/ledger_size.py                              # 1M and 10M lines, both databases
    python bench/ledger_size.py --lines 200000 --databases sqlite
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import os
import random
import subprocess
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import database
import figures
import machine

START = dt.date(2005, 10, 10)
SEED = 2005

# (code, name, how popular in a household package, quantity per household (low, high))
ITEMS: list[tuple[str, str, float, tuple[int, int]]] = [
    ("TENT", "Winterised tent", 1.0, (1, 1)),
    ("SHELTER-KIT", "Shelter kit", 0.8, (1, 1)),
    ("WINTER-KIT", "Winterization kit", 0.9, (1, 1)),
    ("BLANKET", "Blanket", 2.5, (2, 4)),
    ("QUILT", "Quilt", 1.5, (1, 3)),
    ("CGI-SHEET", "CGI sheet", 1.2, (6, 12)),
    ("TARPAULIN", "Tarpaulin", 1.0, (1, 2)),
    ("PLASTIC-SHEET", "Plastic sheeting roll", 0.4, (1, 1)),
    ("KITCHEN-SET", "Kitchen set", 0.7, (1, 1)),
    ("JERRYCAN", "Jerrycan", 0.8, (1, 2)),
    ("HYGIENE-KIT", "Hygiene kit", 0.9, (1, 1)),
    ("BUCKET", "Steel bucket", 0.5, (1, 2)),
    ("STOVE", "Stove", 0.6, (1, 1)),
    ("MATTRESS", "Mattress", 0.7, (1, 4)),
    ("TOOLKIT", "Shelter tool kit", 0.5, (1, 1)),
    ("ROPE", "Rope coil", 0.3, (1, 2)),
    ("NAILS", "Nails (kg)", 0.3, (1, 3)),
    ("MOSQUITO-NET", "Mosquito net", 0.4, (1, 3)),
    ("SLEEPING-MAT", "Sleeping mat", 0.6, (1, 4)),
    ("LANTERN", "Lantern", 0.4, (1, 1)),
]
# (code, name, kind, share of the households served there)
SITES = [
    ("ISB-WH", "Islamabad warehouse", "warehouse", 0.0),
    ("MNS-HUB", "Mansehra hub", "hub", 0.22),
    ("BLK-HUB", "Balakot hub", "hub", 0.16),
    ("BTG-HUB", "Batagram hub", "hub", 0.12),
    ("MZD-HUB", "Muzaffarabad hub", "hub", 0.24),
    ("BAG-HUB", "Bagh hub", "hub", 0.16),
    ("PEW-HUB", "Peshawar hub", "hub", 0.10),
]
DONORS = ["DFID", "ECHO", "USAID", "CIDA", "AusAID", "JICA", "NORAD", "SIDA", "BMZ", "DGIS"]
PARTNERS = [
    "Pakistan Army",
    "Islamic Relief",
    "Pakistan Red Crescent",
    "Save the Children",
    "Muslim Aid",
    "Care International",
]
PACKAGE_SIZES = (1, 2, 3, 4)
PACKAGE_WEIGHTS = (0.35, 0.30, 0.20, 0.15)
LOSS_REASONS = ("theft", "weather", "spoilage", "damage")


def _cumulative(weights: Sequence[float]) -> list[float]:
    """Cumulative shares ending at exactly 1.0, for picking with bisect(cumulative, random())."""
    total = sum(weights)
    out, running = [], 0.0
    for weight in weights:
        running += weight / total
        out.append(running)
    out[-1] = 1.0
    return out


PACKAGE_CUMULATIVE = _cumulative(PACKAGE_WEIGHTS)

MOVEMENT_COLUMNS = (
    "id",
    "kind",
    "reference",
    "occurred_on",
    "posted_at",
    "posted_by_id",
    "site_id",
    "waybill_id",
    "reverses_id",
    "note",
    "idempotency_key",
)
LINE_COLUMNS = (
    "id",
    "movement_id",
    "item_id",
    "grant_id",
    "quantity",
    "from_location_id",
    "to_location_id",
    "lot",
    "expiry",
    "reason",
)
WAYBILL_COLUMNS = (
    "id",
    "number",
    "from_site_id",
    "to_site_id",
    "transport",
    "vehicle",
    "driver",
    "dispatched_on",
    "expected_on",
    "delivered_on",
    "status",
)
LOCATION_COLUMNS = (
    "id",
    "kind",
    "name",
    "is_physical",
    "site_id",
    "grant_id",
    "organisation_id",
    "waybill_id",
)
BALANCE_COLUMNS = ("id", "location_id", "item_id", "grant_id", "quantity", "is_physical", "fifo_date")


# --- the reference data, made through the project's own code ------------------------------------


@dataclass
class World:
    """Ids of everything the generated ledger refers to."""

    item_ids: list[int]
    site_ids: list[int]  # index 0 is the warehouse
    site_location: list[int]  # the stock location of each site
    grant_ids: list[int]
    grant_items: dict[int, list[int]]  # grant id -> the item ids it funds
    donor_location: dict[int, int]  # grant id -> its pipeline location
    partner_location: list[int]
    beneficiaries: int
    loss: int
    count_adjustment: int
    unattributed_grant: int


def make_world() -> World:
    from reliefops.catalog.models import Item, ItemCategory
    from reliefops.partners.models import Grant, Organisation, OrganisationType
    from reliefops.places.models import AdminArea, AdminLevel, Site
    from reliefops.stock.models import LocationKind
    from reliefops.stock.services import (
        donor_location,
        partner_location,
        singleton_location,
        site_location,
        unattributed_grant,
    )

    rng = random.Random(SEED)
    area = AdminArea.objects.create(
        pcode="PK5", name="North-West Frontier Province", level=AdminLevel.PROVINCE
    )
    items = [
        Item.objects.create(code=code, name=name, category=ItemCategory.NFI) for code, name, _, _ in ITEMS
    ]
    sites = [
        Site.objects.create(code=code, name=name, kind=kind, admin_area=area) for code, name, kind, _ in SITES
    ]
    grants = []
    for donor_name in DONORS:
        donor = Organisation.objects.create(name=donor_name, acronym=donor_name, type=OrganisationType.DONOR)
        grants += [
            Grant.objects.create(donor=donor, reference=f"{donor_name}-2005-{n:02d}") for n in range(1, 4)
        ]
    partners = [
        Organisation.objects.create(name=name, acronym=name[:8].upper(), type=OrganisationType.INGO)
        for name in PARTNERS
    ]
    grant_items = {
        grant.pk: sorted(item.pk for item in rng.sample(items, rng.randint(4, 8))) for grant in grants
    }
    for item in items:  # every item is funded by at least two grants
        funders = [g for g in grant_items if item.pk in grant_items[g]]
        for grant in rng.sample([g.pk for g in grants if g.pk not in funders], max(0, 2 - len(funders))):
            grant_items[grant].append(item.pk)
    return World(
        item_ids=[item.pk for item in items],
        site_ids=[site.pk for site in sites],
        site_location=[site_location(site).pk for site in sites],
        grant_ids=[grant.pk for grant in grants],
        grant_items=grant_items,
        donor_location={grant.pk: donor_location(grant).pk for grant in grants},
        partner_location=[partner_location(p).pk for p in partners],
        beneficiaries=singleton_location(LocationKind.BENEFICIARIES).pk,
        loss=singleton_location(LocationKind.LOSS).pk,
        count_adjustment=singleton_location(LocationKind.COUNT_ADJUSTMENT).pk,
        unattributed_grant=unattributed_grant().pk,
    )


# --- the generator ------------------------------------------------------------------------------


@dataclass
class Batch:
    """Rows generated since the last write, per table."""

    waybills: list[tuple[Any, ...]] = field(default_factory=list)
    locations: list[tuple[Any, ...]] = field(default_factory=list)
    movements: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class Waybill:
    id: int
    transit: int
    to_index: int
    due: dt.date
    lines: list[tuple[int, int, int]]  # item, grant, quantity


class Generator:
    """A deterministic simulation of the operation; it keeps every balance as the engine would."""

    def __init__(self, world: World, vendor: str, first_ids: dict[str, int], lines_per_day: int) -> None:
        self.w = world
        self.vendor = vendor
        self.rng = random.Random(SEED)
        self.lines_per_day = lines_per_day
        self.next_id = dict(first_ids)  # table -> next id
        self.balance: dict[tuple[int, int, int], int] = defaultdict(int)
        self.balance_id: dict[tuple[int, int, int], int] = {}
        self.fifo_date: dict[tuple[int, int, int], dt.date] = {}
        # Per (physical location, item): the grants held, oldest first; and the total held.
        self.queue: dict[tuple[int, int], list[tuple[dt.date, int]]] = defaultdict(list)
        self.on_hand: dict[tuple[int, int], int] = defaultdict(int)
        self.physical = set(world.site_location)
        self.site_of_location = dict(zip(world.site_location, world.site_ids, strict=True))
        self.in_transit_to: dict[tuple[int, int], int] = defaultdict(int)  # (site index, item) -> qty
        self.pending: deque[Waybill] = deque()
        self.delivered: list[tuple[dt.date, int]] = []  # waybills delivered since the last write
        self.batch = Batch()
        self.day = 0
        self.lines = 0
        self.lines_by_kind: dict[str, int] = defaultdict(int)
        self.last_distribution: list[tuple[int, int, int, int]] = []
        self.last_distribution_id = 0
        self.items = world.item_ids
        self.popularity = [p for _, _, p, _ in ITEMS]
        self.quantity_range = {item: q for item, (_, _, _, q) in zip(world.item_ids, ITEMS, strict=True)}
        self.funders = {
            item: [g for g, its in world.grant_items.items() if item in its] for item in self.items
        }
        hubs = range(1, len(SITES))
        self.hubs = list(hubs)
        self.hub_weights = [SITES[i][3] for i in hubs]
        self.hub_cumulative = _cumulative(self.hub_weights)
        self.item_cumulative = _cumulative(self.popularity)
        self.today: tuple[str, Any] = ("", None)
        # What a hub hands out of an item per day on average: its reorder point is a few days of it.
        handovers = lines_per_day / sum(s * w for s, w in zip(PACKAGE_SIZES, PACKAGE_WEIGHTS, strict=True))
        picks = sum(s * w for s, w in zip(PACKAGE_SIZES, PACKAGE_WEIGHTS, strict=True)) / sum(self.popularity)
        self.daily_demand = {
            (hub, item): max(
                1.0,
                handovers
                * self.hub_weights[hub - 1]
                * picks
                * popularity
                * sum(self.quantity_range[item])
                / 2,
            )
            for hub in self.hubs
            for item, popularity in zip(self.items, self.popularity, strict=True)
        }

    # ids and rows

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _date(self) -> dt.date:
        return START + dt.timedelta(days=self.day)

    def _movement(
        self, kind: str, site_index: int | None, reference: str = "", waybill: int | None = None
    ) -> int:
        movement_id = self._id("movement")
        site = self.w.site_ids[site_index] if site_index is not None else None
        day, posted_at = self.today
        self.batch.movements.append(
            (movement_id, kind, reference, day, posted_at, None, site, waybill, None, "", None)
        )
        return movement_id

    def _line(
        self,
        movement: int,
        kind: str,
        item: int,
        grant: int,
        quantity: int,
        src: int,
        dst: int,
        reason: str = "",
    ) -> None:
        self.batch.lines.append(
            (self._id("line"), movement, item, grant, quantity, src, dst, "", None, reason)
        )
        self.lines += 1
        self.lines_by_kind[kind] += 1
        self._add(src, item, grant, -quantity)
        self._add(dst, item, grant, quantity)

    def _add(self, location: int, item: int, grant: int, delta: int) -> None:
        key = (location, item, grant)
        if key not in self.balance_id:
            self.balance_id[key] = self._id("balance")
            self.fifo_date[key] = self._date()
        before = self.balance[key]
        self.balance[key] = before + delta
        if location not in self.physical:
            return
        self.on_hand[(location, item)] += delta
        if delta > 0 and before <= 0:
            # Stock arriving at an empty balance is the newest: first-in-first-out takes it last.
            self.fifo_date[key] = self._date()
            bisect.insort(self.queue[(location, item)], (self._date(), grant))

    def _take(self, location: int, item: int, wanted: int) -> list[tuple[int, int]]:
        """(grant, quantity) parts of up to `wanted` units, oldest grant first, as the engine takes them."""
        parts = []
        queue = self.queue[(location, item)]
        index = 0
        while wanted and index < len(queue):
            grant = queue[index][1]
            held = self.balance[(location, item, grant)]
            part = min(held, wanted)
            parts.append((grant, part))
            wanted -= part
            index += 1
        # Balances taken to zero leave the queue (they are applied by _line right after).
        emptied = sum(1 for grant, part in parts if part == self.balance[(location, item, grant)])
        del queue[:emptied]
        return parts

    # the operation, one day at a time

    def run_until(self, lines: int, write: Callable[[Batch], None], batch_lines: int = 500_000) -> None:
        while self.lines < lines:
            self._one_day(lines)
            if len(self.batch.lines) >= batch_lines or self.lines >= lines:
                write(self.batch)
                self.batch = Batch()

    def _one_day(self, stop_at: int) -> None:
        rng = self.rng
        day = self._date()
        posted = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
        self.today = (
            day.isoformat(),
            posted if self.vendor == "postgresql" else str(posted.replace(tzinfo=None)),
        )
        quota = self.lines + self.lines_per_day
        self._deliveries()
        self._receipts()
        self._dispatches()
        for _ in range(rng.randint(2, 8)):
            self._handover_to_partner()
        for _ in range(rng.randint(0, 3)):
            self._loss()
        if self.day % 14 == 0 and self.day:
            for hub in self.hubs:
                self._count(hub)
        for _ in range(rng.randint(3, 10)):
            self._bulk_distribution()
        tries = 0
        limit = min(quota, stop_at)
        while self.lines < limit and tries < self.lines_per_day:
            tries += 1
            self._household_handover()
            if rng.random() < 0.0005:
                self._reverse_last_distribution()
        self.day += 1

    def _receipts(self) -> None:
        """The warehouse receives when it holds under ten days of the hubs' demand (and hubs, rarely)."""
        rng = self.rng
        warehouse = self.w.site_location[0]
        by_grant: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for item in self.items:
            demand = sum(self.daily_demand[(hub, item)] for hub in self.hubs)
            if self.on_hand[(warehouse, item)] < 10 * demand:
                grant = rng.choice(self.funders[item])
                by_grant[grant].append((item, int(demand * rng.uniform(15, 30))))
        if rng.random() < 0.2:
            hub = rng.choice(self.hubs)
            item = rng.choice(self.items)
            self._receive(hub, rng.choice(self.funders[item]), [(item, rng.randint(200, 2000))])
        for grant, lines in by_grant.items():
            self._receive(0, grant, lines)

    def _receive(self, site_index: int, grant: int, lines: Sequence[tuple[int, int]]) -> None:
        grn = f"GRN-{self.next_id['movement']:08d}"
        movement = self._movement("receipt", site_index, grn)
        for item, quantity in lines:
            self._line(
                movement,
                "receipt",
                item,
                grant,
                quantity,
                self.w.donor_location[grant],
                self.w.site_location[site_index],
            )

    def _dispatches(self) -> None:
        """Each hub is sent what it lacks against a few days of its demand, in trucks or helicopters."""
        rng = self.rng
        warehouse = self.w.site_location[0]
        for hub in self.hubs:
            loads = []
            for item in self.items:
                demand = self.daily_demand[(hub, item)]
                level = self.on_hand[(self.w.site_location[hub], item)] + self.in_transit_to[(hub, item)]
                if level < 3 * demand:
                    loads.append((item, int(demand * rng.uniform(3, 5))))
            rng.shuffle(loads)
            for start in range(0, len(loads), 4):  # up to four items a vehicle
                lines = []
                for item, wanted in loads[start : start + 4]:
                    for grant, part in self._take(warehouse, item, wanted):
                        lines.append((item, grant, part))
                if lines:
                    self._dispatch(hub, lines)

    def _dispatch(self, hub: int, lines: list[tuple[int, int, int]]) -> None:
        rng = self.rng
        waybill = self._id("waybill")
        transit = self._id("location")
        number = f"WB-{waybill:07d}"
        helicopter = rng.random() < 0.2
        today = self._date()
        expected = today + dt.timedelta(days=1 if helicopter else rng.randint(1, 4))
        delay = 0 if rng.random() < 0.85 else rng.randint(1, 6)
        self.batch.waybills.append(
            (
                waybill,
                number,
                self.w.site_ids[0],
                self.w.site_ids[hub],
                "helicopter" if helicopter else "truck",
                f"{'SORTIE' if helicopter else 'LES'}-{rng.randint(100, 9999)}",
                "",
                today.isoformat(),
                expected.isoformat(),
                None,
                "in_transit",
            )
        )
        self.batch.locations.append(
            (transit, "in_transit", f"In transit {number}", False, None, None, None, waybill)
        )
        movement = self._movement("dispatch", 0, number, waybill)
        for item, grant, quantity in lines:
            self._line(movement, "dispatch", item, grant, quantity, self.w.site_location[0], transit)
            self.in_transit_to[(hub, item)] += quantity
        self.pending.append(Waybill(waybill, transit, hub, expected + dt.timedelta(days=delay), lines))

    def _deliveries(self) -> None:
        rng = self.rng
        today = self._date()
        still = deque()
        while self.pending:
            waybill = self.pending.popleft()
            if waybill.due > today:
                still.append(waybill)
                continue
            hub = waybill.to_index
            number = f"WB-{waybill.id:07d}"
            movement = self._movement("delivery", hub, number, waybill.id)
            for item, grant, quantity in waybill.lines:
                damaged = rng.randint(1, max(1, quantity // 20)) if rng.random() < 0.04 else 0
                damaged = min(damaged, quantity)
                if quantity - damaged:
                    self._line(
                        movement,
                        "delivery",
                        item,
                        grant,
                        quantity - damaged,
                        waybill.transit,
                        self.w.site_location[hub],
                    )
                if damaged:
                    self._line(
                        movement,
                        "delivery",
                        item,
                        grant,
                        damaged,
                        waybill.transit,
                        self.w.loss,
                        "damaged in transit",
                    )
                self.in_transit_to[(hub, item)] -= quantity
            self.delivered.append((today, waybill.id))
        self.pending = still

    def _pick_hub(self) -> int:
        return self.hubs[bisect.bisect(self.hub_cumulative, self.rng.random())]

    def _household_handover(self) -> None:
        """A household's package: one to four items, a few of each, as far as the hub holds them."""
        random_ = self.rng.random
        hub = self._pick_hub()
        location = self.w.site_location[hub]
        size = PACKAGE_SIZES[bisect.bisect(PACKAGE_CUMULATIVE, random_())]
        parts = []
        seen = set()
        for _ in range(size):
            index = bisect.bisect(self.item_cumulative, random_())
            if index in seen:
                continue
            seen.add(index)
            item = self.items[index]
            low, high = self.quantity_range[item]
            wanted = min(low + int(random_() * (high - low + 1)), self.on_hand[(location, item)])
            if wanted:
                parts += [(item, grant, part) for grant, part in self._take(location, item, wanted)]
        if not parts:
            return
        movement = self._movement("distribution", hub, f"HH-{self.next_id['movement']:08d}")
        for item, grant, quantity in parts:
            self._line(movement, "distribution", item, grant, quantity, location, self.w.beneficiaries)
        self.last_distribution = [(item, grant, quantity, hub) for item, grant, quantity in parts]
        self.last_distribution_id = movement

    def _bulk_distribution(self) -> None:
        rng = self.rng
        hub = self._pick_hub()
        location = self.w.site_location[hub]
        item = rng.choice(self.items)
        parts = self._take(location, item, min(rng.randint(50, 500), self.on_hand[(location, item)]))
        if parts:
            movement = self._movement("distribution", hub, f"DR-{self.day:04d}-{rng.randint(1, 999):03d}")
            for grant, quantity in parts:
                self._line(movement, "distribution", item, grant, quantity, location, self.w.beneficiaries)

    def _handover_to_partner(self) -> None:
        rng = self.rng
        hub = self._pick_hub()
        location = self.w.site_location[hub]
        partner = rng.choice(self.w.partner_location)
        lines = []
        for item in rng.sample(self.items, rng.randint(1, 3)):
            wanted = min(rng.randint(50, 600), self.on_hand[(location, item)] // 3)
            if wanted > 0:
                lines += [(item, grant, part) for grant, part in self._take(location, item, wanted)]
        if lines:
            movement = self._movement("handover", hub, f"HO-{rng.randint(1000, 99999)}")
            for item, grant, quantity in lines:
                self._line(movement, "handover", item, grant, quantity, location, partner)

    def _loss(self) -> None:
        rng = self.rng
        hub = self._pick_hub()
        location = self.w.site_location[hub]
        item = rng.choice(self.items)
        parts = self._take(location, item, min(rng.randint(5, 120), self.on_hand[(location, item)]))
        if parts:
            movement = self._movement("loss", hub)
            reason = rng.choice(LOSS_REASONS)
            for grant, quantity in parts:
                self._line(movement, "loss", item, grant, quantity, location, self.w.loss, reason)

    def _count(self, hub: int) -> None:
        """A physical count of a few items: shortages first-in-first-out, surpluses unattributed."""
        rng = self.rng
        location = self.w.site_location[hub]
        lines = []
        for item in rng.sample(self.items, 5):
            difference = rng.randint(-15, 10)
            if difference < 0:
                taken = self._take(location, item, min(-difference, self.on_hand[(location, item)]))
                lines += [(item, grant, part, location, self.w.count_adjustment) for grant, part in taken]
            elif difference > 0:
                lines.append((item, self.w.unattributed_grant, difference, self.w.count_adjustment, location))
        if lines:
            movement = self._movement("count", hub)
            for item, grant, quantity, src, dst in lines:
                reason = "count shortage" if src == location else "count surplus"
                self._line(movement, "count", item, grant, quantity, src, dst, reason)

    def _reverse_last_distribution(self) -> None:
        if not self.last_distribution:
            return
        hub = self.last_distribution[0][3]
        movement_id = self._id("movement")
        day, posted_at = self.today
        self.batch.movements.append(
            (
                movement_id,
                "reversal",
                f"reverses #{self.last_distribution_id}",
                day,
                posted_at,
                None,
                self.w.site_ids[hub],
                None,
                self.last_distribution_id,
                "entered twice",
                None,
            )
        )
        for item, grant, quantity, _ in self.last_distribution:
            self._line(
                movement_id,
                "reversal",
                item,
                grant,
                quantity,
                self.w.beneficiaries,
                self.w.site_location[hub],
            )
        self.last_distribution = []

    # the end of a phase

    def balance_rows(self) -> list[tuple[Any, ...]]:
        rows = []
        for key, balance_id in self.balance_id.items():
            location, item, grant = key
            rows.append(
                (
                    balance_id,
                    location,
                    item,
                    grant,
                    self.balance[key],
                    location in self.physical,
                    self.fifo_date[key].isoformat(),
                )
            )
        return rows

    def check(self) -> None:
        """The generated ledger keeps the invariants the real one keeps."""
        sums: dict[tuple[int, int], int] = defaultdict(int)
        for (location, item, grant), quantity in self.balance.items():
            sums[(item, grant)] += quantity
            assert location not in self.physical or quantity >= 0, (location, item, grant, quantity)
        assert not any(sums.values()), "the generated ledger does not sum to zero"


# --- bulk writing ---------------------------------------------------------------------------------


class Loader:
    """Writes generated rows with bulk SQL; indexes and foreign keys are made again at the end."""

    BIG_TABLES = ("stock_movement", "stock_movementline")

    def __init__(self, target: database.Target) -> None:
        self.target = target
        self.sqlite = target.vendor == "sqlite"
        self.conn = database.raw_connection(target)
        self.saved_indexes: list[str] = []
        self.saved_foreign_keys: list[tuple[str, str, str]] = []
        self.timings: dict[str, float] = defaultdict(float)
        if self.sqlite:
            self.conn.execute("PRAGMA synchronous=OFF")  # while loading only
            self.conn.execute("PRAGMA foreign_keys=OFF")
            self.conn.execute("PRAGMA cache_size=-1000000")
        else:
            self.conn.execute("SET synchronous_commit = off")
            self.conn.execute("SET maintenance_work_mem = '1GB'")
            self.conn.commit()

    def first_ids(self) -> dict[str, int]:
        tables = {
            "movement": "stock_movement",
            "line": "stock_movementline",
            "waybill": "stock_waybill",
            "location": "stock_stocklocation",
            "balance": "stock_balance",
        }
        out = {}
        for name, table in tables.items():
            row = self.conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()
            out[name] = int(row[0]) + 1
        if not self.sqlite:
            self.conn.commit()
        return out

    def drop_indexes(self) -> None:
        start = time.perf_counter()
        if self.sqlite:
            marks = ", ".join("?" for _ in self.BIG_TABLES)
            rows = self.conn.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks})",
                self.BIG_TABLES,
            ).fetchall()
            for name, sql in rows:
                self.saved_indexes.append(sql)
                self.conn.execute(f'DROP INDEX "{name}"')
        else:
            with self.conn.cursor() as cursor:
                for table in self.BIG_TABLES:
                    cursor.execute(
                        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = %s::regclass AND contype = 'f'",
                        [table],
                    )
                    for name, definition in cursor.fetchall():
                        self.saved_foreign_keys.append((table, name, definition))
                        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                    cursor.execute(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname "
                        "NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                        [table, table],
                    )
                    for name, definition in cursor.fetchall():
                        self.saved_indexes.append(definition)
                        cursor.execute(f'DROP INDEX "{name}"')
            self.conn.commit()
        self.timings["drop indexes"] += time.perf_counter() - start

    def write(self, batch: Batch) -> None:
        start = time.perf_counter()
        tables = (
            ("stock_waybill", WAYBILL_COLUMNS, batch.waybills),
            ("stock_stocklocation", LOCATION_COLUMNS, batch.locations),
            ("stock_movement", MOVEMENT_COLUMNS, batch.movements),
            ("stock_movementline", LINE_COLUMNS, batch.lines),
        )
        if self.sqlite:
            self.conn.execute("BEGIN")
            for table, columns, rows in tables:
                marks = ", ".join("?" for _ in columns)
                self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            self.conn.execute("COMMIT")
        else:
            with self.conn.cursor() as cursor:
                for table, columns, rows in tables:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            self.conn.commit()
        self.timings["write rows"] += time.perf_counter() - start

    def finish(self, balances: list[tuple[Any, ...]], delivered: Iterable[tuple[dt.date, int]]) -> None:
        """Balances, delivered waybills, indexes and foreign keys, sequences and statistics."""
        start = time.perf_counter()
        updates = [(day.isoformat(), waybill) for day, waybill in delivered]
        if self.sqlite:
            self.conn.execute("BEGIN")
            self.conn.execute("DELETE FROM stock_balance")
            marks = ", ".join("?" for _ in BALANCE_COLUMNS)
            self.conn.executemany(
                f"INSERT INTO stock_balance ({', '.join(BALANCE_COLUMNS)}) VALUES ({marks})", balances
            )
            self.conn.executemany(
                "UPDATE stock_waybill SET status = 'delivered', delivered_on = ? WHERE id = ?", updates
            )
            self.conn.execute("COMMIT")
        else:
            with self.conn.cursor() as cursor:
                cursor.execute("TRUNCATE stock_balance")
                with cursor.copy(f"COPY stock_balance ({', '.join(BALANCE_COLUMNS)}) FROM STDIN") as copy:
                    for row in balances:
                        copy.write_row(row)
                cursor.execute("CREATE TEMPORARY TABLE delivered (on_day date, id bigint) ON COMMIT DROP")
                with cursor.copy("COPY delivered (on_day, id) FROM STDIN") as copy:
                    for row in updates:
                        copy.write_row(row)
                cursor.execute(
                    "UPDATE stock_waybill w SET status = 'delivered', delivered_on = d.on_day "
                    "FROM delivered d WHERE w.id = d.id"
                )
            self.conn.commit()
        self.timings["write balances"] += time.perf_counter() - start
        start = time.perf_counter()
        for sql in self.saved_indexes:
            self.conn.execute(sql)
        self.saved_indexes = []
        if not self.sqlite:
            self.conn.commit()
        self.timings["make indexes"] += time.perf_counter() - start
        start = time.perf_counter()
        if self.sqlite:
            problems = self.conn.execute("PRAGMA foreign_key_check").fetchmany(5)
            assert not problems, f"foreign keys broken: {problems}"
        else:
            for table, name, definition in self.saved_foreign_keys:
                self.conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            self.saved_foreign_keys = []
            self.conn.commit()
        self.timings["check foreign keys"] += time.perf_counter() - start
        start = time.perf_counter()
        if self.sqlite:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            for table in ("stock_movement", "stock_waybill", "stock_stocklocation", "stock_balance"):
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
            self.conn.execute(
                "SELECT setval(pg_get_serial_sequence('stock_movementline', 'id'), "
                "(SELECT MAX(id) FROM stock_movementline))"
            )
            self.conn.commit()
            self.conn.autocommit = True
            # What autovacuum would have done by the time a real ledger is this big.
            self.conn.execute("VACUUM (ANALYZE) stock_movement, stock_movementline, stock_balance")
            self.conn.autocommit = False
        self.timings["checkpoint / vacuum"] += time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


# --- the measurements -------------------------------------------------------------------------------


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


RAW_ON_HAND = """
SELECT l.site_id, b.item_id, SUM(b.quantity)
FROM stock_balance b JOIN stock_stocklocation l ON l.id = b.location_id
WHERE b.is_physical AND b.quantity <> 0
GROUP BY l.site_id, b.item_id
"""
# The same three reads as ledger_verify(): each side grouped in the order of its covering index.
RAW_VERIFY = (
    "SELECT to_location_id, item_id, grant_id, SUM(quantity), COUNT(*) FROM stock_movementline "
    "GROUP BY item_id, to_location_id, grant_id",
    "SELECT from_location_id, item_id, grant_id, SUM(quantity), COUNT(*) FROM stock_movementline "
    "GROUP BY item_id, from_location_id, grant_id",
    "SELECT location_id, item_id, grant_id, quantity, is_physical FROM stock_balance",
)
RAW_SCAN = "SELECT COUNT(*), SUM(quantity) FROM stock_movementline"
# Other ways to make the same recomputation, measured beside it. SQLite has no hash aggregation: a
# GROUP BY that no index covers sorts. "location first" groups in another order (SQLite matches the
# terms to the covering index in any order, so it walks it too), "table scan" forces a plain scan
# and a sort (as before the covering indexes), "one pass" groups both sides in one sort.
VERIFY_ALTERNATIVES = {
    "location first": (
        "SELECT to_location_id, item_id, grant_id, SUM(quantity), COUNT(*) FROM stock_movementline "
        "GROUP BY to_location_id, item_id, grant_id",
        "SELECT from_location_id, item_id, grant_id, SUM(quantity), COUNT(*) FROM stock_movementline "
        "GROUP BY from_location_id, item_id, grant_id",
        RAW_VERIFY[2],
    ),
    "table scan": tuple(
        sql.replace("FROM stock_movementline", "FROM stock_movementline NOT INDEXED")
        for sql in RAW_VERIFY[:2]
    )
    + RAW_VERIFY[2:],
    "one pass": (
        "SELECT from_location_id, to_location_id, item_id, grant_id, SUM(quantity), COUNT(*) "
        "FROM stock_movementline GROUP BY from_location_id, to_location_id, item_id, grant_id",
        RAW_VERIFY[2],
    ),
}
RAW_LINES = "SELECT from_location_id, to_location_id, item_id, grant_id, quantity FROM stock_movementline"


def _summed_in_python(conn: Any) -> float:
    """One plain scan of the lines, the balances recomputed in a dict: no sort at all."""
    start = time.perf_counter()
    totals: dict[tuple[int, int, int], int] = defaultdict(int)
    cursor = conn.cursor()
    cursor.execute(RAW_LINES)
    while rows := cursor.fetchmany(10_000):
        for src, dst, item, grant, quantity in rows:
            totals[(dst, item, grant)] += quantity
            totals[(src, item, grant)] -= quantity
    cursor.execute(RAW_VERIFY[2])
    cursor.fetchall()
    cursor.close()
    return time.perf_counter() - start


def _raw_reads(conn: Any, statements: Sequence[str]) -> float:
    start = time.perf_counter()
    for sql in statements:
        cursor = conn.cursor()
        cursor.execute(sql)
        cursor.fetchall()
        cursor.close()
    elapsed = time.perf_counter() - start
    if hasattr(conn, "rollback"):
        conn.rollback()
    return elapsed


def _plan(target: database.Target, sql: str, *, analyze: bool) -> str:
    """The query plan (PostgreSQL: with actual times when `analyze`)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if target.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {'(ANALYZE, BUFFERS) ' if analyze else ''}{sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(
    target: database.Target, repeats: int, verify_repeats: int, alternatives_too: bool = True
) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reliefops.stock.selectors import ledger_verify, stock_on_hand

    raw = database.raw_connection(target)
    first, rows = _timed(stock_on_hand)
    on_hand: list[float] = []
    on_hand_grant: list[float] = []
    on_hand_raw: list[float] = []
    for _ in range(repeats):
        on_hand.append(_timed(stock_on_hand)[0])
        on_hand_grant.append(_timed(lambda: stock_on_hand(by_grant=True))[0])
        on_hand_raw.append(_raw_reads(raw, [RAW_ON_HAND]))
    with CaptureQueriesContext(connection) as captured:
        stock_on_hand()
    query = captured.captured_queries[0]["sql"]
    plan = _plan(target, query, analyze=True)
    verify_plan = _plan(target, RAW_VERIFY[0], analyze=False)
    verify: list[float] = []
    verify_raw: list[float] = []
    alternatives: dict[str, list[float]] = defaultdict(list)
    scan: list[float] = []
    result = None
    for repeat in range(verify_repeats):
        seconds, result = _timed(ledger_verify)
        verify.append(seconds)
        verify_raw.append(_raw_reads(raw, RAW_VERIFY))
        # The other ways are evidence, not the figure: once is enough for them.
        for name, statements in VERIFY_ALTERNATIVES.items():
            if repeat == 0 and alternatives_too and (target.vendor == "sqlite" or name == "one pass"):
                alternatives[name].append(_raw_reads(raw, statements))
        if repeat == 0 and alternatives_too and target.vendor == "sqlite":
            alternatives["summed in Python"].append(_summed_in_python(raw))
        scan.append(_raw_reads(raw, [RAW_SCAN]))
    raw.close()
    assert result is not None
    return {
        "on_hand_rows": len(rows),
        "on_hand_first_s": first,
        "on_hand_s": on_hand,
        "on_hand_by_grant_s": on_hand_grant,
        "on_hand_raw_s": on_hand_raw,
        "on_hand_sql": query,
        "on_hand_plan": plan,
        "verify_plan": verify_plan,
        "verify_s": verify,
        "verify_raw_s": verify_raw,
        "verify_alternatives_s": dict(alternatives),
        "scan_s": scan,
        "verify_ok": result.ok,
        "verify_lines": result.lines,
        "verify_balances": result.balances,
    }


def cli_verify_seconds(target: database.Target) -> tuple[float, int]:
    """`reliefops stock verify` as an operator runs it: a new process, Django start-up included."""
    env = dict(os.environ, DATABASE_URL=target.url)
    command = [str(Path(sys.executable).with_name("reliefops")), "stock", "verify"]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: S603
    return time.perf_counter() - start, done.returncode


def table_sizes(target: database.Target) -> dict[str, int]:
    conn = database.raw_connection(target)
    out = {}
    for table in (
        "stock_movement",
        "stock_movementline",
        "stock_balance",
        "stock_waybill",
        "stock_stocklocation",
    ):
        out[table] = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    conn.close()
    return out


def bench_database(target: database.Target, args: argparse.Namespace) -> dict[str, Any]:
    database.recreate(target)
    database.start_django(target)
    database.migrate()
    from django.db import connections

    print(f"\n== {target.label} ==", flush=True)
    world = make_world()
    connections.close_all()
    loader = Loader(target)
    generator = Generator(world, target.vendor, loader.first_ids(), args.lines_per_day)
    phases = []
    for size in args.sizes:
        loader.drop_indexes()
        start = time.perf_counter()
        generate_start = time.process_time()
        before = dict(loader.timings)
        generator.run_until(size, loader.write)
        generator.check()
        loader.finish(generator.balance_rows(), generator.delivered)
        generator.delivered = []
        wall = time.perf_counter() - start
        steps = {k: v - before.get(k, 0.0) for k, v in loader.timings.items()}
        print(
            f"  generated and wrote {generator.lines:,} lines in {wall:,.1f} s "
            f"({(generator.lines - (phases[-1]['lines'] if phases else 0)) / wall:,.0f} lines/s this phase; "
            + ", ".join(f"{k} {v:,.1f} s" for k, v in steps.items())
            + f"; generator CPU {time.process_time() - generate_start:,.1f} s), "
            f"{generator.day} days from {START}",
            flush=True,
        )
        connections.close_all()
        figures_now = measure(target, args.repeats, args.verify_repeats)
        cli_runs = [cli_verify_seconds(target) for _ in range(args.verify_repeats if args.cli else 0)]
        sizes = table_sizes(target)
        phase = {
            "lines": generator.lines,
            "days": generator.day,
            "lines_by_kind": dict(generator.lines_by_kind),
            "tables": sizes,
            "bytes": database.size_bytes(target),
            "load_s": wall,
            "load_steps_s": steps,
            "cli_verify_s": [seconds for seconds, _ in cli_runs],
            "cli_verify_status": sorted({status for _, status in cli_runs}),
            **figures_now,
        }
        phases.append(phase)
        _print_phase(phase, show_plans=size == args.sizes[-1])
    analyzed = None
    if target.vendor == "sqlite" and args.sqlite_analyze:
        # The project never runs ANALYZE on SQLite; with statistics the planner may read differently.
        start = time.perf_counter()
        loader.conn.execute("ANALYZE")
        analyze_s = time.perf_counter() - start
        connections.close_all()
        analyzed = {"analyze_s": analyze_s, **measure(target, args.repeats, args.verify_repeats)}
        print(
            f"  after ANALYZE ({analyze_s:,.1f} s): stock_on_hand() "
            f"{figures.millis(figures.median(analyzed['on_hand_s']))}, ledger_verify() "
            f"{figures.millis(figures.median(analyzed['verify_s']))} ok={analyzed['verify_ok']}; plan of its "
            f"first aggregation: {' / '.join(analyzed['verify_plan'].splitlines())}",
            flush=True,
        )
    loader.close()
    connections.close_all()
    return {"database": target.vendor, "phases": phases, "sqlite_analyzed": analyzed}


def _print_phase(phase: dict[str, Any], *, show_plans: bool) -> None:
    median = figures.median
    print(
        f"  {phase['lines']:,} lines, {phase['tables']['stock_movement']:,} movements, "
        f"{phase['tables']['stock_balance']:,} balances, {phase['tables']['stock_waybill']:,} waybills, "
        f"{phase['bytes'] / 1024**3:.2f} GiB"
    )
    print(
        f"    stock_on_hand(): {figures.millis(median(phase['on_hand_s']))} "
        f"(first {figures.millis(phase['on_hand_first_s'])}, {phase['on_hand_rows']} rows; by grant "
        f"{figures.millis(median(phase['on_hand_by_grant_s']))}); "
        f"raw SQL {figures.millis(median(phase['on_hand_raw_s']))}"
    )
    print(
        f"    ledger_verify(): {figures.millis(median(phase['verify_s']))} ok={phase['verify_ok']} "
        f"({phase['verify_lines']:,} lines, {phase['verify_balances']:,} balances); raw SQL of its three "
        f"reads {figures.millis(median(phase['verify_raw_s']))}"
        + "".join(
            f"; {name} {figures.millis(median(values))}"
            for name, values in phase["verify_alternatives_s"].items()
        )
        + f"; one scan (count, sum) "
        f"{figures.millis(median(phase['scan_s']))}; "
        f"`reliefops stock verify` {figures.millis(median(phase['cli_verify_s']))} "
        f"({figures.spread(phase['cli_verify_s'], figures.millis)}, exit {phase['cli_verify_status']})"
    )
    if show_plans:
        # PostgreSQL's plan with actual times is long: its scans, aggregates and times tell the story.
        keep = ("Scan", "Aggregate", "Sort ", "Time:", "SCAN", "SEARCH", "USE TEMP")
        plan = [line for line in phase["on_hand_plan"].splitlines() if any(k in line for k in keep)]
        print("    plan of stock_on_hand's query:\n      " + "\n      ".join(plan))
        print(
            "    plan of ledger_verify's first aggregation:\n      "
            + phase["verify_plan"].replace("\n", "\n      ")
        )


def _best_alternative(phase: dict[str, Any]) -> str:
    medians = {name: figures.median(values) for name, values in phase["verify_alternatives_s"].items()}
    if not medians:
        return ""
    name = min(medians, key=lambda n: medians[n])
    return f"{figures.millis(medians[name])} ({name})"


def print_summary(results: list[dict[str, Any]]) -> None:
    median = figures.median
    print("\n== Reports over a big ledger (median of runs; raw SQL through the driver beside each) ==")
    rows = []
    for result in results:
        for phase in result["phases"]:
            rows.append(
                [
                    result["database"],
                    f"{phase['lines']:,}",
                    f"{phase['tables']['stock_balance']:,}",
                    figures.millis(median(phase["on_hand_s"])),
                    figures.millis(median(phase["on_hand_raw_s"])),
                    figures.ratio(median(phase["on_hand_raw_s"]), median(phase["on_hand_s"])),
                    figures.millis(median(phase["verify_s"])),
                    figures.millis(median(phase["verify_raw_s"])),
                    figures.ratio(median(phase["verify_raw_s"]), median(phase["verify_s"])),
                    _best_alternative(phase),
                    figures.millis(median(phase["scan_s"])),
                    "yes" if phase["verify_ok"] else "NO",
                    figures.millis(median(phase["cli_verify_s"])),
                    f"{phase['bytes'] / 1024**3:.2f} GiB",
                ]
            )
    print(
        figures.table(
            [
                "database",
                "lines",
                "balances",
                "stock_on_hand()",
                "raw SQL",
                "raw ÷ service",
                "ledger_verify()",
                "raw SQL",
                "raw ÷ service",
                "best other way",
                "one scan",
                "ok",
                "CLI verify",
                "size",
            ],
            rows,
        )
    )
    for result in results:
        phases = result["phases"]
        if len(phases) > 1:
            a, b = phases[0], phases[-1]
            growth = b["lines"] / a["lines"]
            print(
                f"{result['database']}: lines x{growth:.1f} -> stock_on_hand() "
                f"x{median(b['on_hand_s']) / median(a['on_hand_s']):.1f}, ledger_verify() "
                f"x{median(b['verify_s']) / median(a['verify_s']):.1f}"
            )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument(
        "--lines",
        default="1000000,10000000",
        help="ledger sizes to measure at, comma-separated (grown in order)",
    )
    parser.add_argument("--lines-per-day", type=int, default=6000, help="how busy the simulated operation is")
    parser.add_argument("--repeats", type=int, default=7, help="runs of stock_on_hand() (median reported)")
    parser.add_argument(
        "--verify-repeats", type=int, default=3, help="runs of ledger_verify() (median reported)"
    )
    parser.add_argument(
        "--no-cli", dest="cli", action="store_false", help="skip timing `reliefops stock verify`"
    )
    parser.add_argument(
        "--no-sqlite-analyze",
        dest="sqlite_analyze",
        action="store_false",
        help="skip measuring SQLite again after ANALYZE at the largest size",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases afterwards")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--database", help=argparse.SUPPRESS)  # one database, in a child process
    args = parser.parse_args(argv)
    args.sizes = sorted(int(n.replace("_", "")) for n in args.lines.split(","))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.database:
        target = database.Target(args.database, "bench_ledger_size")
        try:
            result = bench_database(target, args)
        finally:
            if not args.keep:
                from django.db import connections

                connections.close_all()
                database.drop(target)
        figures.write_json(args.json, result)
        return 0
    facts = machine.print_facts()
    argv = argv if argv is not None else sys.argv[1:]
    results = database.run_per_database(__file__, argv, args.databases.split(","))
    print_summary(results)
    print(f"\nfinished {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    figures.write_json(args.json, {"machine": facts, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
