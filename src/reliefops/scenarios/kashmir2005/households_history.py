"""Registered households of the Kashmir scenario, two distribution rounds, and their handovers.

Households are registered (through the same file import the operation uses) in the high villages
of Allai, of Bala Kot (Raj Pattian, Jabra, Mang, Sarash, Hangrai, Sat Bani: facts.md §4) and of
Bagh, and in the camps Maira, Siran Sialkot and Thori Park (facts.md §7); a few families are
registered twice, spelt otherwise, for the duplicate review queue. Two rounds follow:

- **WR-2005, the Winter Race** (14 Nov 2005 - 29 Jan 2006): households at home above 5,000 ft whose
  house was destroyed or damaged, highest first ("start high and work down", IOM-DIVA), receive
  10 CGI sheets for a warm room, a winterization kit, and 2 blankets a person, at most 10
  (OCHA-RSSA's rule of thumb), at Bana, Raj Pattian and Bagh town.
- **CAMP-2006, winter in the camps** (2 Jan - 31 Mar 2006): households living in a camp receive a
  quilt a person, at most 8, at Bana (Maira), the Mansehra hub (Siran Sialkot) and Muzaffarabad.

The handovers replace part of the stock history's weekly distributions at those points
(`stock_history.HouseholdHandovers`): each week at most HANDOVER_SHARE of a point's planned
quantity of an item goes to households, whole packages only, and the rest is reported in bulk,
so the published totals still hold exactly. Names, CNICs, phones and villages' households are
illustrative (seeded); place names, camps, items and the rounds' logic come from the sources.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from reliefops.catalog.models import Item
from reliefops.households.models import (
    DistributionRound,
    Entitlement,
    Handover,
    HouseholdImport,
    ImportStatus,
    RoundStatus,
)
from reliefops.households.selectors import entitled_quantities
from reliefops.households.services import (
    PackageInput,
    PointInput,
    cards_issue,
    handover_record,
    household_import_commit,
    household_import_preview,
    round_create,
    round_make_list,
    round_set_status,
)
from reliefops.places.models import AdminArea, Site
from reliefops.scenarios.base import StepContext
from reliefops.scenarios.kashmir2005 import stock_history

SEED = 2006
REGISTRY_FILE = "kashmir-2005-registry.csv"
KEY_PREFIX = "kashmir-2005/households/"
# At most this share of a point's weekly quantity of an item is handed to registered households.
HANDOVER_SHARE = 0.6
# The rounds' lists are made the morning before they start, and each round is closed in the evening
# of its last day (the operation's time, Pakistan Standard Time), so their pages give those days.
OPERATION_TZ = ZoneInfo("Asia/Karachi")
LISTED_AT = dt.time(9, 0)
CLOSED_AT = dt.time(18, 0)

# (origin P-code, village, elevation band, households, camp code or "") — villages of the sources
# (facts.md §4 for Bala Kot; union councils of Allai from the gazetteer); counts illustrative.
SETTLEMENTS: list[tuple[str, str, str, int, str]] = [
    ("PK50401-UC01", "Banna", "above_7000", 70, ""),
    ("PK50401-UC02", "Bateela", "5000_to_7000", 55, ""),
    ("PK50401-UC03", "Batkool", "above_7000", 60, ""),
    ("PK50401-UC04", "Biari", "5000_to_7000", 50, ""),
    ("PK50401-UC05", "Jambera", "5000_to_7000", 45, ""),
    ("PK50401-UC06", "Pashto", "above_7000", 45, ""),
    ("PK50401-UC07", "Rashang", "above_7000", 55, ""),
    ("PK50401-UC08", "Sakargah", "5000_to_7000", 45, ""),
    ("PK52201", "Raj Pattian", "above_7000", 60, ""),
    ("PK52201", "Jabra", "5000_to_7000", 30, ""),
    ("PK52201", "Mang", "5000_to_7000", 30, ""),
    ("PK52201", "Sarash", "5000_to_7000", 25, ""),
    ("PK52201", "Hangrai", "5000_to_7000", 25, ""),
    ("PK52201", "Sat Bani", "above_7000", 25, ""),
    ("PK52201", "Narra", "below_5000", 25, ""),
    ("PK52201", "Hassa", "below_5000", 20, ""),
    ("PK10101", "Sudhan Gali", "5000_to_7000", 60, ""),
    ("PK10101", "Lasdanna", "above_7000", 45, ""),
    ("PK10101", "Birpani", "below_5000", 35, ""),
    ("PK50401-UC03", "Batkool", "above_7000", 45, "CAMP-MAIRA"),
    ("PK50401-UC07", "Rashang", "above_7000", 40, "CAMP-MAIRA"),
    ("PK52201", "Balakot town", "below_5000", 45, "CAMP-SIRAN-SIALKOT"),
    ("PK52201", "Garlat", "5000_to_7000", 30, "CAMP-SIRAN-SIALKOT"),
    ("PK10701", "Muzaffarabad city", "below_5000", 50, "CAMP-THORI-PARK"),
    ("PK10701", "Chella Bandi", "below_5000", 35, "CAMP-THORI-PARK"),
]
# Family names by district of origin (illustrative, common in each area).
FAMILY_NAMES = {
    "PK504": ["Khan", "Swati", "Khan", "Akhunzada", "Syed"],
    "PK522": ["Swati", "Gujjar", "Awan", "Syed", "Tanoli"],
    "PK101": ["Sudhan", "Abbasi", "Rathore", "Mughal", "Khan"],
    "PK107": ["Mughal", "Awan", "Abbasi", "Gilani", "Butt"],
}
DISTRICT_CODES = {"PK504": "13202", "PK522": "13503", "PK101": "82101", "PK107": "82203"}  # illustrative
# Parts of names as they are written in Hazara and AJK (illustrative; a man's name is often
# Muhammad, Abdul or Ghulam and a given name, or two given names, and a family name).
GIVEN = [
    "Aslam",
    "Akram",
    "Iqbal",
    "Bashir",
    "Rashid",
    "Hussain",
    "Zaman",
    "Nawaz",
    "Akbar",
    "Ayub",
    "Yousaf",
    "Saleem",
    "Riaz",
    "Tariq",
    "Javed",
    "Khalid",
    "Sadiq",
    "Latif",
    "Majeed",
    "Qadir",
    "Nabi",
    "Rasool",
    "Hameed",
    "Ishaq",
    "Ilyas",
    "Irfan",
    "Imran",
    "Asif",
    "Arif",
    "Amjad",
    "Anwar",
    "Arshad",
    "Ashraf",
    "Azam",
    "Fazal",
    "Faisal",
    "Farooq",
    "Habib",
    "Haroon",
    "Hassan",
    "Ijaz",
    "Jamil",
    "Karim",
    "Khurshid",
    "Mahmood",
    "Manzoor",
    "Masood",
    "Mumtaz",
    "Munir",
    "Mushtaq",
    "Nadeem",
    "Naeem",
    "Nasir",
    "Nazir",
    "Niaz",
    "Pervez",
    "Qasim",
    "Rafiq",
    "Rahim",
    "Saeed",
    "Sajid",
    "Sarwar",
    "Shabbir",
    "Shafiq",
    "Shahid",
    "Shakeel",
    "Sher",
    "Sultan",
    "Tahir",
    "Usman",
    "Waheed",
    "Wajid",
    "Yaqub",
    "Younas",
    "Zafar",
    "Zahid",
    "Zubair",
    "Altaf",
    "Ibrahim",
    "Idrees",
    "Bahadur",
    "Wali",
    "Jan",
    "Taj",
    "Gul",
    "Daud",
    "Fateh",
    "Hakim",
    "Hanif",
    "Inayat",
    "Sabir",
    "Safdar",
    "Sikandar",
]
PREFIXES = ("Muhammad", "Muhammad", "Muhammad", "Abdul", "Ghulam", "", "", "", "", "")
WOMEN = [
    "Zainab",
    "Fatima",
    "Amina",
    "Khadija",
    "Hajra",
    "Sakina",
    "Safia",
    "Sughra",
    "Kalsoom",
    "Nasreen",
    "Parveen",
    "Shamim",
    "Rukhsana",
    "Shaheen",
    "Shabana",
    "Tahira",
    "Yasmin",
    "Zubaida",
    "Razia",
    "Rehana",
    "Zarina",
    "Nusrat",
    "Khalida",
    "Naseem",
    "Rasheeda",
    "Bilquis",
    "Sharifa",
    "Hanifa",
    "Jamila",
    "Salma",
    "Naheed",
    "Kausar",
    "Farzana",
    "Nargis",
    "Jannat",
    "Maryam",
    "Rabia",
    "Sajida",
    "Samina",
]
WOMEN_SUFFIXES = ("Bibi", "Bibi", "Begum", "Akhtar", "")


def man(rng: random.Random, family: str | None = None) -> str:
    prefix = rng.choice(PREFIXES)
    given = rng.choice(GIVEN) if prefix else f"{rng.choice(GIVEN)} {rng.choice(GIVEN)}"
    return " ".join(part for part in (prefix, given, family or "") if part)


def woman(rng: random.Random) -> str:
    return " ".join(part for part in (rng.choice(WOMEN), rng.choice(WOMEN_SUFFIXES)) if part)


COLLECTORS = [
    "the head",
    "the head",
    "the head",
    "his son",
    "her son",
    "his brother",
    "his wife",
    "her daughter",
]


@dataclass(frozen=True)
class Round:
    code: str
    name: str
    starts_on: dt.date
    ends_on: dt.date
    points: tuple[tuple[str, str], ...]  # (site code, served area P-code)
    package: tuple[tuple[str, int, int, int | None], ...]  # (item, per household, per member, at most)
    living: str
    elevation_bands: tuple[str, ...] = ()
    house_damage: tuple[str, ...] = ()
    note: str = ""

    @property
    def listed_at(self) -> dt.datetime:
        """When its list was made: the morning before its first day."""
        return dt.datetime.combine(self.starts_on - dt.timedelta(days=1), LISTED_AT, OPERATION_TZ)

    @property
    def closed_at(self) -> dt.datetime:
        """When it was closed: the evening of its last day."""
        return dt.datetime.combine(self.ends_on, CLOSED_AT, OPERATION_TZ)


ROUNDS = (
    Round(
        code="WR-2005",
        name="Winter Race: a warm room above 5,000 ft",
        starts_on=dt.date(2005, 11, 14),
        ends_on=dt.date(2006, 1, 29),
        points=(("DP-BANA", "PK50401"), ("DP-RAJ-PATTIAN", "PK52201"), ("DP-BAG-TOWN", "PK101")),
        package=(("CGI-SHEET", 10, 0, None), ("WINTER-KIT", 1, 0, None), ("BLANKET", 0, 2, 10)),
        living="home",
        elevation_bands=("5000_to_7000", "above_7000"),
        house_damage=("destroyed", "damaged"),
        note="Villages above 5,000 ft first, the highest first (IOM-DIVA); CGI for one warm room "
        "(IRIN-Nov11); 2 blankets a person (OCHA-RSSA). Quantities per household illustrative.",
    ),
    Round(
        code="CAMP-2006",
        name="Winter in the camps: a quilt a person",
        starts_on=dt.date(2006, 1, 2),
        ends_on=dt.date(2006, 3, 31),
        points=(("DP-BANA", "PK50401"), ("MNS-HUB", "PK52202"), ("DP-MZD-CITY", "PK10701")),
        package=(("QUILT", 0, 1, 8),),
        living="camp",
        note="1 quilt a person (OCHA-RSSA) for families in Maira, Siran Sialkot and Thori Park camps.",
    ),
)


def _cnic(rng: random.Random, district: str, female: bool) -> str:
    serial = f"{rng.randrange(10**7):07d}"
    last = rng.choice("02468" if female else "13579")
    return f"{DISTRICT_CODES[district]}-{serial}-{last}"


def _members(rng: random.Random, head_female: bool, elderly: bool) -> dict[str, int]:
    size = max(1, min(14, round(rng.gauss(7, 2.5))))
    bands = dict.fromkeys(
        [
            "females_0_5",
            "males_0_5",
            "females_6_17",
            "males_6_17",
            "females_18_59",
            "males_18_59",
            "females_60_plus",
            "males_60_plus",
        ],
        0,
    )
    head_band = ("females" if head_female else "males") + ("_60_plus" if elderly else "_18_59")
    bands[head_band] += 1
    if size > 1 and not head_female:
        bands["females_60_plus" if elderly else "females_18_59"] += 1
    while sum(bands.values()) < size:
        bands[
            rng.choice(
                ["females_0_5", "males_0_5", "females_6_17", "males_6_17", "females_6_17", "males_6_17"]
            )
        ] += 1
    return bands


def registry_rows(rng: random.Random) -> list[dict[str, object]]:
    """The scenario's registration file: households and a few families registered twice."""
    rows: list[dict[str, object]] = []
    registered = dt.date(2005, 10, 24)
    for pcode, village, band, count, camp in SETTLEMENTS:
        district = pcode[:5]
        for _ in range(count):
            female = rng.random() < 0.12  # widows after the quake, wives whose husbands work away
            elderly = rng.random() < 0.08
            family = rng.choice(FAMILY_NAMES[district]) if rng.random() < 0.7 else None
            head = woman(rng) if female else man(rng, family)
            father = man(rng, rng.choice(FAMILY_NAMES[district]) if female else family)
            document = rng.random()
            if document < (0.35 if female else 0.6):
                doc_type, number = "cnic", _cnic(rng, district, female)
            elif document < (0.45 if female else 0.75):
                doc_type, number = (
                    "old_nic",
                    f"{rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10**6):06d}",
                )
            else:
                doc_type, number = "none", ""
            rows.append(
                {
                    "head_name": head,
                    "father_or_husband_name": father,
                    "head_sex": "female" if female else "male",
                    "document_type": doc_type,
                    "document_number": number,
                    "phone": f"03{rng.choice(['00', '01', '33', '45', '46'])}-{rng.randrange(10**7):07d}"
                    if rng.random() < 0.3
                    else "",
                    **_members(rng, female, elderly),
                    "elderly_headed": "yes" if elderly else "no",
                    "disabled_member": "yes" if rng.random() < 0.06 else "no",
                    "landless": "yes" if rng.random() < 0.1 else "no",
                    "origin": pcode,
                    "origin_village": village,
                    "current_site": camp,
                    "house_damage": rng.choices(["destroyed", "damaged", "none"], [80, 15, 5])[0],
                    "elevation_band": band if rng.random() < 0.92 else "",
                    "consent": "yes",
                    "registered_on": (registered + dt.timedelta(days=rng.randrange(0, 20))).isoformat(),
                }
            )
    # A few families registered a second time (at a camp, by another team): spelt otherwise,
    # the card left at home; the batch run and the review queue are there for them.
    for original in rng.sample(rows, 25):
        again = dict(original)
        again["head_name"] = str(original["head_name"]).replace("Muhammad", "Mohd").replace("Bibi", "Begum")
        again["document_type"], again["document_number"] = "none", ""
        rows.append(again)
    return rows


def _csv(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def load_households(context: StepContext) -> str:
    """Registered households (a registration file imported), the rounds, their lists and cards."""
    existing = HouseholdImport.objects.filter(filename=REGISTRY_FILE, status=ImportStatus.COMMITTED).first()
    if existing is not None:
        return f"0 created, 0 updated, {existing.created} households and {len(ROUNDS)} rounds unchanged"
    rng = random.Random(SEED)
    preview = household_import_preview(
        actor=context.actor, filename=REGISTRY_FILE, content=_csv(registry_rows(rng))
    )
    if preview.batch.problems:
        raise ValueError(f"the scenario's registration file has problems: {preview.batch.problems[:3]}")
    result = household_import_commit(actor=context.actor, import_id=preview.batch.pk)
    sites = {s.code: s.pk for s in Site.objects.all()}
    areas = dict(AdminArea.objects.values_list("pcode", "pk"))
    items = dict(Item.objects.values_list("code", "pk"))
    for spec in ROUNDS:
        round_obj = round_create(
            actor=context.actor,
            code=spec.code,
            name=spec.name,
            starts_on=spec.starts_on,
            ends_on=spec.ends_on,
            points=[
                PointInput(site_id=sites[site], serves_area_id=areas[area]) for site, area in spec.points
            ],
            package=[
                PackageInput(items[code], per_household, per_member, at_most)
                for code, per_household, per_member, at_most in spec.package
            ],
            living=spec.living,
            elevation_bands=spec.elevation_bands,
            house_damage=spec.house_damage,
            note=spec.note,
        )
        round_make_list(actor=context.actor, round_id=round_obj.pk, listed_at=spec.listed_at)
        cards_issue(actor=context.actor, round_id=round_obj.pk)
        round_set_status(actor=context.actor, round_id=round_obj.pk, status=RoundStatus.OPEN)
    return (
        f"{result.batch.created} created, 0 updated, 0 unchanged; {len(ROUNDS)} rounds listed, with cards, "
        "and opened (the stock history step closes those whose period ends before its own)"
    )


_BAND_ORDER = {"above_7000": 0, "5000_to_7000": 1, "": 2, "below_5000": 3}


class RoundHandovers:
    """Hands part of a point's weekly distributions to the households listed there (see the module)."""

    def __init__(self, context: StepContext) -> None:
        self.context = context
        self.rng = random.Random(SEED + 1)
        self.rounds = list(
            DistributionRound.objects.filter(code__in=[r.code for r in ROUNDS]).prefetch_related(
                "package__item"
            )
        )
        self.points: dict[str, list[DistributionRound]] = defaultdict(list)
        for round_obj in self.rounds:
            for code in round_obj.points.values_list("site__code", flat=True):
                self.points[code].append(round_obj)
        self.codes = dict(Item.objects.values_list("pk", "code"))
        self.sites = dict(Site.objects.values_list("code", "pk"))
        self.count = 0

    def __call__(self, site: str, quantities: dict[str, int], day: dt.date) -> dict[str, int]:
        handed: dict[str, int] = defaultdict(int)
        for round_obj in self.points.get(site, []):
            if not round_obj.starts_on <= day <= round_obj.ends_on or round_obj.status != RoundStatus.OPEN:
                continue
            budget = {code: int(q * HANDOVER_SHARE) - handed[code] for code, q in quantities.items()}
            for household_id, owed in self._waiting(round_obj, site):
                if any(budget.get(self.codes[item], 0) < quantity for item, quantity in owed.items()):
                    continue
                handover_record(
                    actor=self.context.actor,
                    round_id=round_obj.pk,
                    point_site_id=self.sites[site],
                    household_id=household_id,
                    collected_by=self.rng.choice(COLLECTORS),
                    handed_on=day,
                    idempotency_key=f"{KEY_PREFIX}{round_obj.code}/H{household_id}",
                )
                self.count += 1
                for item, quantity in owed.items():
                    budget[self.codes[item]] -= quantity
                    handed[self.codes[item]] += quantity
        return dict(handed)

    def _waiting(self, round_obj: DistributionRound, site: str) -> list[tuple[int, dict[int, int]]]:
        """Households listed at the point and not yet served, the highest and most vulnerable first."""
        package = list(round_obj.package.all())
        listed = (
            Entitlement.objects.filter(round=round_obj, point__code=site, cancelled_at__isnull=True)
            .exclude(household__in=Handover.objects.filter(round=round_obj).values("household"))
            .values_list(
                "household_id",
                "members",
                "household__elevation_band",
                "household__head_sex",
                "household__elderly_headed",
            )
        )
        ordered = sorted(
            listed, key=lambda row: (_BAND_ORDER[row[2]], row[3] != "female" and not row[4], row[0])
        )
        return [
            (household_id, entitled_quantities(package, members)) for household_id, members, *_ in ordered
        ]


def load_stock_history(context: StepContext) -> str:
    """The stock history (stock_history.py), with part of its distributions at the rounds' points
    handed over to the registered households; the rounds whose period is over before the history's
    last day are then closed. `CAMP-2006` ends on that day (31 March 2006) and stays open: it has
    served every household on its list, and the households guide adds a family to it and hands
    over to it, as a camp round that takes late arrivals does."""
    handovers = RoundHandovers(context)
    summary = stock_history.load_stock_history(context, household_handovers=handovers)
    closed = []
    specs = {spec.code: spec for spec in ROUNDS}
    for round_obj in handovers.rounds:
        if round_obj.ends_on < stock_history.END and round_obj.status == RoundStatus.OPEN:
            round_set_status(
                actor=context.actor,
                round_id=round_obj.pk,
                status=RoundStatus.CLOSED,
                closed_at=specs[round_obj.code].closed_at,
            )
            closed.append(round_obj.code)
    if handovers.count:
        summary += f"; {handovers.count} household handovers"
    if closed:
        one = len(closed) == 1
        said = "round {} closed, its period over" if one else "rounds {} closed, their periods over"
        summary += "; " + said.format(", ".join(sorted(closed)))
    return summary
