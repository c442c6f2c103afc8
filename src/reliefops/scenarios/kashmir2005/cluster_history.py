"""The Emergency Shelter Cluster's picture, October 2005 to spring 2006: activity types, shelter
partners, district outlines, needs per district (illustrative) and three rounds of partners' 4W
reports, consolidated by the cluster, whose totals are exactly the cluster's published figures.

Needs: district figures for 2005 were not found (facts.md), so they are derived from published
totals and marked illustrative: each district's homes are an assumed share (HOMES below); the
share hit is the province's published rate (84% of homes in AJK, 36% in NWFP); the figures are
scaled so that the houses hit total the 611,000 houses ERRA counts (463,000 destroyed, 148,000
damaged). Households are homes, people seven per household.

Reports: the activities each partner delivered are planned first, so that — after the cluster's
double-counting rules — they total exactly 520,102 tents, 549,872 transitional shelters, 6,400,000
blankets, 2,200,000 tarpaulins and plastic sheets, and 5,046,750 CGI sheets (the figure the
scenario states for "more than 5 million"). Around them the rounds carry what makes real 4W data
hard: pipeline rows (IOM, UNHCR and the IFRC hand items to partners), the programming partner's
report of work its implementing partner reports too, plans that later become deliveries, and
rows entered twice by mistake and deleted in the next round. Who did what where and the figures
each partner reports are illustrative (seeded); the organisations took part in the response.

The data files are written by `write_files()` from the seed, and a test checks that the files in
the data folder are exactly what it writes. After changing the plan, write them again with
`reliefops shell -c "from reliefops.scenarios.kashmir2005.cluster_history import write_files; write_files()"`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reliefops.cluster.importers import (
    activity_report_import_file,
    activity_types_import_file,
    needs_import_file,
)
from reliefops.cluster.models import ImportBatch, ReportingPeriod
from reliefops.cluster.services import boundaries_import, reporting_period_set_lock
from reliefops.core.text import counted
from reliefops.partners.importers import organisations_import_file
from reliefops.scenarios.base import StepContext

SEED = 2005
QUAKE = dt.date(2005, 10, 8)  # no activity of the response starts before the earthquake
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "kashmir-2005"
ATTRIBUTION = (
    "Boundaries: OCHA / WFP, Pakistan Subnational Administrative Boundaries (COD-AB), HDX cod-ab-pak, "
    "CC BY-IGO. The boundaries and names shown do not imply official endorsement or acceptance by the "
    "United Nations."
)
CGI_STATED = 5_046_750  # "more than 5 million" CGI sheets: the figure this scenario states
PUBLISHED = {  # activity code -> the cluster's published total (published-figures.json)
    "TENTS": 520_102,
    "T-SHELTERS": 549_872,
    "BLANKETS": 6_400_000,
    "TARPAULINS": 2_200_000,
    "CGI": CGI_STATED,
}
# Activities without a published cluster total: illustrative totals, IOM's own published
# distributions (shelter kits, winterization kits, quilts) among them.
OTHER_TOTALS = {
    "SHELTER-KITS": 96_400,
    "WINTER-KITS": 118_300,
    "NFI-KITS": 62_500,
    "QUILTS": 905_000,
    "REPAIR-KITS": 41_200,
    "ONE-ROOM": 152_600,
    "TRAINING": 48_300,
}
# Households served per unit of each activity (a family tent, 14 blankets: 2 per person of a
# family of 7, 4 tarpaulins, 12 CGI sheets for a room's roof, a kit each).
UNITS_PER_HOUSEHOLD = {
    "TENTS": 1.15,
    "T-SHELTERS": 1,
    "BLANKETS": 14,
    "TARPAULINS": 4,
    "CGI": 12,
    "SHELTER-KITS": 1,
    "WINTER-KITS": 1,
    "NFI-KITS": 1,
    "QUILTS": 7,
    "REPAIR-KITS": 1,
    "ONE-ROOM": 1,
    "TRAINING": 1,
}
# Share of each activity delivered per month, October 2005 to March 2006.
MONTHS = [
    dt.date(2005, 10, 1),
    dt.date(2005, 11, 1),
    dt.date(2005, 12, 1),
    dt.date(2006, 1, 1),
    dt.date(2006, 2, 1),
    dt.date(2006, 3, 1),
]
PROFILE = {
    "TENTS": (35, 40, 15, 6, 3, 1),
    "BLANKETS": (20, 30, 25, 15, 7, 3),
    "TARPAULINS": (25, 30, 20, 13, 8, 4),
    "CGI": (5, 25, 30, 20, 12, 8),
    "T-SHELTERS": (0, 10, 25, 25, 20, 20),
    "SHELTER-KITS": (15, 35, 30, 12, 5, 3),
    "WINTER-KITS": (0, 30, 40, 20, 10, 0),
    "NFI-KITS": (30, 35, 20, 10, 5, 0),
    "QUILTS": (10, 35, 30, 15, 10, 0),
    "REPAIR-KITS": (0, 30, 30, 20, 10, 10),
    "ONE-ROOM": (0, 25, 35, 25, 10, 5),
    "TRAINING": (0, 0, 10, 25, 35, 30),
}
ROUNDS = (dt.date(2005, 12, 15), dt.date(2006, 2, 15), dt.date(2006, 4, 15))
ROUND_FILES = ("cluster-4w-2005-12.csv", "cluster-4w-2006-02.csv", "cluster-4w-2006-04.csv")
LOCKED_MONTHS = (dt.date(2005, 10, 1), dt.date(2005, 11, 1), dt.date(2005, 12, 1), dt.date(2006, 1, 1))
AJK, NWFP = "PK1", "PK5"
HIT_RATE = {AJK: 0.84, NWFP: 0.36}  # share of homes damaged or destroyed (ADB/WB PDNA via IRIN)
HOUSES_HIT, DESTROYED = 611_000, 463_000  # ERRA: 463,000 destroyed and 148,000 damaged
PEOPLE_PER_HOUSEHOLD = 7
# Homes of each affected district before the earthquake: assumed shares (not sourced), the
# districts as the gazetteer has them today (Jhelum Valley was part of Muzaffarabad in 2005,
# Haveli part of Bagh, the three Kohistans one district, Tor Ghar the Kala Dhaka area).
HOMES = {
    "PK107": (AJK, 90_000, "middle"),
    "PK103": (AJK, 30_000, "middle"),
    "PK108": (AJK, 20_000, "high"),
    "PK101": (AJK, 45_000, "middle"),
    "PK104": (AJK, 18_000, "high"),
    "PK109": (AJK, 55_000, "middle"),
    "PK110": (AJK, 30_000, "low"),
    "PK522": (NWFP, 160_000, "middle"),
    "PK504": (NWFP, 45_000, "middle"),
    "PK501": (NWFP, 125_000, "low"),
    "PK529": (NWFP, 60_000, "middle"),
    "PK515": (NWFP, 25_000, "high"),
    "PK516": (NWFP, 25_000, "high"),
    "PK517": (NWFP, 25_000, "high"),
    "PK534": (NWFP, 20_000, "middle"),
}
TEHSILS = {
    "PK107": ("PK10701", "PK10702"),
    "PK103": ("PK10301", "PK10302", "PK10303"),
    "PK108": ("PK10801", "PK10802"),
    "PK101": ("PK10101", "PK10102", "PK10103"),
    "PK104": ("PK10401", "PK10402", "PK10403"),
    "PK109": ("PK10901", "PK10902", "PK10903", "PK10904"),
    "PK110": ("PK11001", "PK11002", "PK11003", "PK11004"),
    "PK522": ("PK52201", "PK52202", "PK52203", "PK52204", "PK52205"),
    "PK504": ("PK50401", "PK50402"),
    "PK501": ("PK50101", "PK50102", "PK50103", "PK50104"),
    "PK529": ("PK52901", "PK52902", "PK52903", "PK52904", "PK52905", "PK52906"),
    "PK515": ("PK51501", "PK51502"),
    "PK516": ("PK51601", "PK51602", "PK51603", "PK51604"),
    "PK517": ("PK51701", "PK51702"),
    "PK534": ("PK53401", "PK53402"),
}

# Partners (cluster-partners.csv): acronym (as the organisation list has it, or its name), row id
# pattern, the activities they deliver, where (districts), and how much of it (weight).
AJK_ALL = ("PK107", "PK103", "PK108", "PK101", "PK104", "PK109", "PK110")
NWFP_ALL = ("PK522", "PK504", "PK501", "PK529", "PK515", "PK516", "PK517", "PK534")


@dataclass(frozen=True)
class Partner:
    name: str
    ids: str  # row id pattern, with {n}
    activities: tuple[str, ...]
    districts: tuple[str, ...]
    weight: float = 1.0


def _read_partners() -> tuple[Partner, ...]:
    """The partners of cluster-partners.csv: who reports, with which row ids, what, where."""
    with (DATA_DIR / "cluster-partners.csv").open(newline="", encoding="utf-8") as handle:
        return tuple(
            Partner(
                name=line["organisation"],
                ids=line["row_ids"],
                activities=tuple(line["activities"].split(";")),
                districts=AJK_ALL + NWFP_ALL
                if line["districts"] == "all"
                else tuple(line["districts"].split(";")),
                weight=float(line["weight"]),
            )
            for line in csv.DictReader(handle)
        )


PARTNERS = _read_partners()
# Who programmes work through whom (the programming partner reports it too) and who hands items
# to partners to distribute (pipeline).
PROGRAMMES = {
    "UNHCR": ("NRC", "IRW", "Muslim Aid", "SRSP"),
    "UN-HABITAT": ("Sungi", "HFHI", "NRSP"),
    "IFRC": ("PRCS",),
}
PIPELINES = {
    "IOM": ("NRC", "SRSP", "Sungi", "CARE", "HFHI", "Mercy Corps"),
    "UNHCR": ("Muslim Aid", "PRCS", "Edhi Foundation"),
}
# IOM's own distributions as published (published-figures.json): delivered directly, or handed to
# partners (its pipeline rows); the partners' own rows count those.
IOM_PUBLISHED = {
    "TENTS": 11_768,
    "SHELTER-KITS": 21_995,
    "WINTER-KITS": 31_594,
    "BLANKETS": 162_222,
    "QUILTS": 74_390,
    "CGI": 120_614,
    "TARPAULINS": 18_989,
}
ACTIVITY_NAMES = {
    "TENTS": "Tents distributed",
    "SHELTER-KITS": "Emergency shelter kits distributed",
    "WINTER-KITS": "Winterization kits distributed",
    "NFI-KITS": "Family NFI kits distributed",
    "BLANKETS": "Blankets distributed",
    "QUILTS": "Quilts distributed",
    "CGI": "CGI sheets distributed",
    "TARPAULINS": "Tarpaulins and plastic sheets distributed",
    "T-SHELTERS": "Transitional shelters built",
    "ONE-ROOM": "One-room shelters built",
    "REPAIR-KITS": "Shelter repair kits distributed",
    "TRAINING": "Households trained in safer building",
    "CASH": "Cash for shelter",
}
COLUMNS = (
    ("Row ID", "#meta+id"),
    ("Action", "#meta+action"),
    ("Reporting organisation", "#org+reporting"),
    ("Programming organisation", "#org+prog"),
    ("Implementing organisation", "#org+impl"),
    ("Funding organisation", "#org+funder"),
    ("Handed to partner (pipeline)", "#org+recipient"),
    ("Activity", "#activity"),
    ("District P-code", "#adm2+code"),
    ("Tehsil P-code", "#adm3+code"),
    ("Status", "#status"),
    ("Start date", "#date+start"),
    ("End date", "#date+end"),
    ("Quantity", "#output+num"),
    ("Households", "#reached+hh"),
    ("Women and girls", "#reached+ind+f"),
    ("Men and boys", "#reached+ind+m"),
)


# --- needs -----------------------------------------------------------------------------------------


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to the weights, in whole numbers that add up exactly."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    parts = [math.floor(r) for r in raw]
    for index in sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))[: total - sum(parts)]:
        parts[index] += 1
    return parts


def needs_rows() -> list[dict[str, object]]:
    """Households in need per district, derived from the published totals (illustrative)."""
    codes = list(HOMES)
    hit_weights = [HOMES[c][1] * HIT_RATE[HOMES[c][0]] for c in codes]
    hit = _split(HOUSES_HIT, hit_weights)
    destroyed = _split(DESTROYED, hit)
    scale = HOUSES_HIT / sum(hit_weights)
    rows = []
    for index, code in enumerate(codes):
        _, homes, band = HOMES[code]
        households = round(homes * scale)
        rows.append(
            {
                "pcode": code,
                "population": households * PEOPLE_PER_HOUSEHOLD,
                "households": households,
                "destroyed": destroyed[index],
                "damaged": hit[index] - destroyed[index],
                "in_need": hit[index],
                "band": band,
            }
        )
    return rows


def needs_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "District P-code",
            "Population",
            "Households",
            "Houses destroyed",
            "Houses damaged",
            "Households in need of shelter",
            "Elevation band",
            "Illustrative",
            "Source",
        ]
    )
    writer.writerow(
        [
            "#adm2+code",
            "#population",
            "#population+hh",
            "#impact+destroyed",
            "#impact+damaged",
            "#inneed+hh",
            "#geo+elevation",
            "#meta+illustrative",
            "#meta+source",
        ]
    )
    source = (
        "illustrative: assumed homes per district x the province's published share of homes hit "
        "(AJK 84%, NWFP 36%), scaled to ERRA's 611,000 houses hit"
    )
    for r in needs_rows():
        writer.writerow(
            [
                r["pcode"],
                r["population"],
                r["households"],
                r["destroyed"],
                r["damaged"],
                r["in_need"],
                r["band"],
                "yes",
                source,
            ]
        )
    return out.getvalue().encode()


# --- 4W reports --------------------------------------------------------------------------------------


@dataclass
class Report:
    """One partner's 4W row across the rounds."""

    row_id: str
    reporting: str
    prog: str
    impl: str
    activity: str
    adm2: str
    adm3: str
    start: dt.date
    end: dt.date
    quantity: int
    funder: str = ""
    recipient: str = ""
    planned_quantity: int = 0
    people: bool = True
    deleted_in: int | None = None  # the round that deletes it
    from_round: int = 0  # the first round that may carry it

    def households(self, quantity: int) -> int | str:
        if self.recipient:
            return ""
        return max(1, round(quantity / UNITS_PER_HOUSEHOLD[self.activity])) if quantity else 0

    def in_round(self, round_index: int) -> list[object] | None:
        """The row as the round's file carries it, or None when the round does not."""
        day = ROUNDS[round_index]
        if round_index < self.from_round or self.start > day + dt.timedelta(days=75):
            return None
        action = "Delete" if self.deleted_in == round_index else ""
        if self.deleted_in is not None and round_index > self.deleted_in:
            return None
        if self.end < day:
            status, quantity = "completed", self.quantity
        elif self.start <= day:
            status = "ongoing"
            share = (day - self.start).days / max((self.end - self.start).days, 1)
            quantity = max(1, int(self.quantity * share))
        else:
            status, quantity = "planned", self.planned_quantity or self.quantity
        households = self.households(quantity)
        female: int | str = ""
        male: int | str = ""
        if self.people and isinstance(households, int) and households:
            people = households * PEOPLE_PER_HOUSEHOLD
            female = people // 2 + (households % 3)
            male = people - female
        return [
            self.row_id,
            action,
            self.reporting,
            self.prog,
            self.impl,
            self.funder,
            self.recipient,
            ACTIVITY_NAMES[self.activity],
            self.adm2,
            self.adm3,
            status,
            self.start.isoformat(),
            self.end.isoformat(),
            quantity,
            households,
            female,
            male,
        ]


@dataclass
class Plan:
    rng: random.Random
    reports: list[Report] = field(default_factory=list)
    sequence: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def new_id(self, partner: str) -> str:
        self.sequence[partner] += 1
        return BY_NAME[partner].ids.format(n=self.sequence[partner])

    def dates(self, month: dt.date, days: tuple[int, int] = (2, 12)) -> tuple[dt.date, dt.date]:
        last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        start = max(month + dt.timedelta(days=self.rng.randint(0, 18)), QUAKE)
        end = min(start + dt.timedelta(days=self.rng.randint(*days)), last)
        return start, end


BY_NAME = {p.name: p for p in PARTNERS}


def _delivery_plan(plan: Plan, activity: str, total: int, iom_share: int) -> list[Report]:
    """Split an activity's total over districts (by need), months (by its profile) and partners."""
    rng = plan.rng
    needs = {r["pcode"]: int(r["in_need"]) for r in needs_rows()}  # type: ignore[call-overload]
    partners = [p for p in PARTNERS if activity in p.activities and p.name != "IOM"]
    districts = [d for d in HOMES if any(d in p.districts for p in partners)]
    by_district = _split(total - iom_share, [needs[d] * rng.uniform(0.85, 1.15) for d in districts])
    deliveries: list[Report] = []
    profile = PROFILE[activity]
    for district, amount in zip(districts, by_district, strict=True):
        months = [m for m, share in zip(MONTHS, profile, strict=True) if share]
        for month, quantity in zip(months, _split(amount, [s for s in profile if s]), strict=True):
            here = [p for p in partners if district in p.districts]
            size = {"BLANKETS": 12000, "CGI": 9000, "TARPAULINS": 5000, "QUILTS": 6000}.get(activity, 800)
            pieces = max(1, min(16, quantity // size))
            pieces = rng.randint(max(1, pieces // 2), max(1, pieces))
            weights = [rng.uniform(0.5, 1.5) for _ in range(pieces)]
            for part in _split(quantity, weights):
                if not part:
                    continue
                partner = rng.choices(here, weights=[p.weight for p in here])[0]
                start, end = plan.dates(month)
                tehsil = rng.choice(TEHSILS[district]) if rng.random() > 0.15 else ""
                deliveries.append(
                    Report(
                        plan.new_id(partner.name),
                        partner.name,
                        partner.name,
                        partner.name,
                        activity,
                        district,
                        tehsil,
                        start,
                        end,
                        part,
                        people=rng.random() > 0.3,
                    )
                )
    # IOM's direct distributions, at its hubs' districts
    iom = BY_NAME["IOM"]
    for district, amount in zip(iom.districts, _split(iom_share, [3, 4, 4, 3, 1]), strict=True):
        for month, quantity in zip(MONTHS, _split(amount, [max(s, 1) for s in profile]), strict=True):
            if quantity:
                start, end = plan.dates(month)
                deliveries.append(
                    Report(
                        plan.new_id("IOM"),
                        "IOM",
                        "IOM",
                        "IOM",
                        activity,
                        district,
                        rng.choice(TEHSILS[district]),
                        start,
                        end,
                        quantity,
                    )
                )
    return deliveries


def _pairs(plan: Plan, deliveries: list[Report]) -> list[Report]:
    """Work a programming partner funds through an implementing one: both report it; the
    implementing partner's row counts, the programming partner's is set aside."""
    added = []
    for report in deliveries:
        programme = next((p for p, partners in PROGRAMMES.items() if report.impl in partners), None)
        if programme is None or plan.rng.random() > 0.45:
            continue
        if plan.rng.random() < 0.5:
            report.prog = programme  # the implementing partner names the programme ...
        else:
            report.funder = programme  # ... or names it as its funder
        own = max(1, round(report.quantity, -1) if report.quantity > 50 else report.quantity)
        added.append(
            Report(
                plan.new_id(programme),
                programme,
                programme,
                report.impl,
                report.activity,
                report.adm2,
                report.adm3,
                report.start,
                report.end,
                own,
                people=False,
            )
        )
    return added


def _recipients(supplier: str, activity: str, deliveries: list[Report]) -> set[str]:
    """The partners a supplier hands an activity's items to: its usual partners that deliver the
    activity, else any partner that delivers it in the supplier's districts."""
    delivering = {r.impl for r in deliveries if r.impl != supplier}
    usual = set(PIPELINES[supplier]) & delivering
    if usual or supplier != "IOM":
        return usual
    districts = set(BY_NAME[supplier].districts)
    return {
        r.impl
        for r in deliveries
        if r.impl not in {supplier, "Pakistan Army", "FRC", "ERRA"} and r.adm2 in districts
    }


def _pipelines(plan: Plan, deliveries: list[Report], activity: str, iom_pipeline: int) -> list[Report]:
    """Items handed to partners before they distribute them: one pipeline row per partner,
    district and month, for the quantity the partner then distributed there (IOM's rows add up to
    the share of its published distributions that went through partners)."""
    rows: list[Report] = []
    groups: dict[tuple[str, str, str, dt.date], list[Report]] = defaultdict(list)
    for supplier in PIPELINES:
        if activity not in BY_NAME[supplier].activities:
            continue
        recipients = _recipients(supplier, activity, deliveries)
        for report in deliveries:
            if report.impl in recipients:
                groups[(supplier, report.impl, report.adm2, report.start.replace(day=1))].append(report)
    remaining_iom = iom_pipeline
    last_iom: Report | None = None
    for (supplier, partner, district, month), covered in sorted(
        groups.items(), key=lambda g: (g[0][3], g[0][:3])
    ):
        quantity = sum(r.quantity for r in covered)
        if supplier == "IOM":
            if remaining_iom <= 0:
                continue
            quantity = min(quantity, remaining_iom)
            remaining_iom -= quantity
        elif plan.rng.random() > 0.5:
            continue
        first = min(r.start for r in covered)
        handed = max(first - dt.timedelta(days=plan.rng.randint(1, 6)), month - dt.timedelta(days=5), QUAKE)
        rows.append(
            Report(
                plan.new_id(supplier),
                supplier,
                supplier,
                supplier,
                activity,
                district,
                "",
                handed,
                handed,
                quantity,
                recipient=partner,
                people=False,
            )
        )
        if supplier == "IOM":
            last_iom = rows[-1]
    if remaining_iom > 0:
        # More than the partners distributed that month: they distributed the rest later.
        if last_iom is None:
            raise ValueError(f"no partner takes IOM's {activity}")
        last_iom.quantity += remaining_iom
    return rows


def make_plan(seed: int = SEED) -> Plan:
    plan = Plan(random.Random(seed))
    totals = {**PUBLISHED, **OTHER_TOTALS}
    for activity in sorted(totals):
        iom_total = IOM_PUBLISHED.get(activity, 0)
        iom_pipeline = round(iom_total * 0.4)
        deliveries = _delivery_plan(plan, activity, totals[activity], iom_total - iom_pipeline)
        pipelines = _pipelines(plan, deliveries, activity, iom_pipeline)
        pairs = _pairs(plan, deliveries)
        plan.reports += deliveries + pipelines + pairs
    # Plans for the reconstruction phase (April to June 2006): targets, not reached.
    for partner in ("ERRA", "UN-HABITAT", "NRC", "CARE", "SRSP", "NRSP"):
        for _ in range(plan.rng.randint(4, 9)):
            district = plan.rng.choice([d for d in BY_NAME[partner].districts if d in HOMES])
            month = plan.rng.choice([dt.date(2006, 4, 1), dt.date(2006, 5, 1), dt.date(2006, 6, 1)])
            start, end = plan.dates(month, (20, 40))
            activity = "T-SHELTERS" if "T-SHELTERS" in BY_NAME[partner].activities else "TRAINING"
            plan.reports.append(
                Report(
                    plan.new_id(partner),
                    partner,
                    partner,
                    partner,
                    activity,
                    district,
                    plan.rng.choice(TEHSILS[district]),
                    start,
                    end,
                    plan.rng.randint(40, 900),
                    from_round=2,
                )
            )
    # Plans known early are corrected when delivered.
    for report in plan.reports:
        report.planned_quantity = max(1, round(report.quantity * plan.rng.uniform(0.8, 1.25)))
    # Rows entered twice by mistake in the first round, deleted in the second.
    completed_early = [r for r in plan.reports if r.end < ROUNDS[0] and not r.recipient]
    for original in plan.rng.sample(completed_early, 24):
        plan.reports.append(
            Report(
                original.row_id + "-B",
                original.reporting,
                original.prog,
                original.impl,
                original.activity,
                original.adm2,
                original.adm3,
                original.start,
                original.end,
                original.quantity,
                funder=original.funder,
                deleted_in=1,
            )
        )
    return plan


def round_csv(plan: Plan, round_index: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([header for header, _ in COLUMNS])
    writer.writerow([tag for _, tag in COLUMNS])
    rows = [r.in_round(round_index) for r in plan.reports]
    for values in sorted((v for v in rows if v is not None), key=lambda v: (str(v[2]), str(v[0]))):
        writer.writerow(values)
    return out.getvalue().encode()


def activity_types_csv() -> bytes:
    items = {
        "TENTS": "TENT",
        "SHELTER-KITS": "SHELTER-KIT",
        "WINTER-KITS": "WINTER-KIT",
        "NFI-KITS": "NFI-KIT",
        "BLANKETS": "BLANKET",
        "QUILTS": "QUILT",
        "CGI": "CGI-SHEET",
        "TARPAULINS": "TARPAULIN",
    }
    units = {
        "TENTS": "tent",
        "SHELTER-KITS": "kit",
        "WINTER-KITS": "kit",
        "NFI-KITS": "kit",
        "BLANKETS": "blanket",
        "QUILTS": "quilt",
        "CGI": "sheet",
        "TARPAULINS": "sheet",
        "T-SHELTERS": "shelter",
        "ONE-ROOM": "shelter",
        "REPAIR-KITS": "kit",
        "TRAINING": "household",
        "CASH": "PKR",
    }
    aliases = {
        "TENTS": "tents;tent distribution;family tents;winterized tents",
        "SHELTER-KITS": "shelter kits;ESK;emergency shelter kit",
        "WINTER-KITS": "winter kits;winterisation kits;winterization kit",
        "NFI-KITS": "NFI kits;non-food item kits;family kits",
        "BLANKETS": "blankets;blanket distribution",
        "QUILTS": "quilts;razai",
        "CGI": "CGI;CGI sheets;corrugated iron sheets;roofing sheets",
        "TARPAULINS": "tarpaulins;plastic sheets;tarpaulins/plastic sheets;plastic sheeting",
        "T-SHELTERS": "transitional shelters;T-shelters;temporary shelters",
        "ONE-ROOM": "one-room shelters;warm rooms;one warm room",
        "REPAIR-KITS": "repair kits;shelter repair kits",
        "TRAINING": "training;safer construction training",
        "CASH": "cash for shelter;cash grants",
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "unit", "item", "aliases", "sort_order"])
    for order, (code, name) in enumerate(ACTIVITY_NAMES.items(), start=1):
        writer.writerow([code, name, units[code], items.get(code, ""), aliases[code], order * 10])
    return out.getvalue().encode()


def write_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """Write the scenario's cluster files from the seed; returns their paths."""
    plan = make_plan()
    files = {
        "cluster-activity-types.csv": activity_types_csv(),
        "needs-districts.csv": needs_csv(),
        **{name: round_csv(plan, index) for index, name in enumerate(ROUND_FILES)},
    }
    paths = []
    for name, content in files.items():
        path = data_dir / name
        path.write_bytes(content)
        paths.append(path)
    return paths


# --- the steps -----------------------------------------------------------------------------------


def load_cluster_reference(context: StepContext) -> str:
    """The cluster's activity types, its shelter partners, and district outlines for the map."""
    kinds = activity_types_import_file(actor=context.actor, data=context.data("cluster-activity-types.csv"))
    partners = organisations_import_file(actor=context.actor, data=context.data("cluster-organisations.csv"))
    boundaries = boundaries_import(
        actor=context.actor, data=context.data("district-boundaries.geojson"), attribution=ATTRIBUTION
    )
    return f"activity types {kinds}; partners {partners}; district outlines {boundaries}"


def load_cluster_needs(context: StepContext) -> str:
    """Households in need of shelter per district (illustrative, derived from published totals)."""
    result = needs_import_file(
        actor=context.actor, data=context.data("needs-districts.csv"), filename="needs-districts.csv"
    )
    return f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged (illustrative)"


def load_cluster_reports(context: StepContext) -> str:
    """Three rounds of partners' 4W reports, then the winter months locked."""
    done = []
    for name in ROUND_FILES:
        data = context.data(name)
        result = None
        from reliefops.cluster.importers import file_digest

        if not ImportBatch.objects.filter(digest=file_digest(data), reverted_at__isnull=True).exists():
            result = activity_report_import_file(actor=context.actor, data=data, filename=name)
        done.append(f"{name}: {result.counts() if result else 'already loaded'}")
    locked = 0
    for month in LOCKED_MONTHS:
        if not ReportingPeriod.objects.filter(month=month, locked=True).exists():
            reporting_period_set_lock(actor=context.actor, month=month, locked=True, note="winter closed")
            locked += 1
    return "; ".join(done) + f"; {counted(locked, 'month')} locked"
