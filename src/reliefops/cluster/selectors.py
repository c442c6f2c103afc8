"""Named reads of the cluster: the gap analysis at any admin level, the 4W matrix, the totals,
areas with no partner, and the rows and batches behind them.

Every figure counts live rows only (the current version of each row, not withdrawn) and applies
the double-counting rules:

- a pipeline row (items handed to another partner) is not "reached": its quantity is shown as
  handed to partners, and the receiving partner's own rows count the households;
- a row set aside by the programming / implementing partner rule (`counted_in`) is not counted:
  the implementing partner's own row counts the activity once.

Need and coverage are counted in households: reached = households of completed rows, targeted =
households of planned and ongoing rows, coverage = reached / in need, gap = in need - reached,
never below zero. Each row carries its province, district and tehsil P-codes, so a roll-up to any
level is one GROUP BY.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from reliefops.cluster.models import ActivityRow, ActivityStatus, ActivityType, ImportBatch, NeedsBaseline
from reliefops.cluster.names import AreaIndex
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.models import AuditEvent
from reliefops.partners.models import Organisation
from reliefops.places.models import AdminArea, AdminLevel

LEVELS: dict[str, tuple[str, int]] = {
    AdminLevel.PROVINCE.value: ("adm1", 1),
    AdminLevel.DISTRICT.value: ("adm2", 2),
    AdminLevel.TEHSIL.value: ("adm3", 3),
}
OPEN = (ActivityStatus.PLANNED.value, ActivityStatus.ONGOING.value)

# The Emergency Shelter Cluster's headline figures (the keys it publishes) and the activity each is.
HEADLINE_FIGURES: dict[str, str] = {
    "transitional_shelters_built": "T-SHELTERS",
    "tents_delivered": "TENTS",
    "cgi_sheets_delivered_more_than": "CGI",
    "blankets_delivered": "BLANKETS",
    "tarpaulins_or_plastic_sheets_delivered": "TARPAULINS",
}


def live_rows() -> QuerySet[ActivityRow]:
    """Current, not withdrawn rows.

    On SQLite the condition is written so that the table is scanned: written `replaced_in IS
    NULL`, it would let SQLite's planner read every current row through the partial unique index,
    one table look-up each, several times slower than a scan (an activity's rows still come
    through the pairing index). PostgreSQL is asked plainly: it then knows from its statistics how
    many rows are current and reads the pairing index alone, in parallel, where the written-around
    condition made it expect 0.5% of the rows and sort all of them on disk (a million rows, every
    activity: 0.58 s instead of 1.28 s)."""
    if connection.vendor == "postgresql":
        return ActivityRow.objects.filter(replaced_in__isnull=True, withdrawn=False)
    return ActivityRow.objects.alias(current=Coalesce("replaced_in", Value(0))).filter(
        current=0, withdrawn=False
    )


COUNTED = Q(recipient_org__isnull=True, counted_in__isnull=True)
REACHED = COUNTED & Q(status=ActivityStatus.COMPLETED)
TARGETED = COUNTED & Q(status__in=OPEN)
TO_PARTNERS = Q(recipient_org__isnull=False, status=ActivityStatus.COMPLETED)


def _sum(column: str, condition: Q) -> Coalesce:
    """The column added up over the rows that meet the condition (0 when none does).

    Written as an aggregate's FILTER (both databases have it; Django falls back to CASE where one
    does not): a million rows, every activity, took 0.51 s on SQLite where the same sums written
    `SUM(CASE WHEN … THEN … ELSE 0 END)` took 0.62 to 0.64 s, for the same tallies."""
    return Coalesce(Sum(column, filter=condition), Value(0), output_field=IntegerField())


@dataclass(frozen=True)
class Selection:
    """What a report covers: the admin level, one activity or all, a range of reporting months,
    and an area to stay within."""

    level: str = AdminLevel.DISTRICT.value
    activity: ActivityType | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    within: AdminArea | None = None
    within_depth: int = 0

    @property
    def column(self) -> str:
        return LEVELS[self.level][0]

    @property
    def depth(self) -> int:
        return LEVELS[self.level][1]

    def describe(self) -> str:
        parts = [f"by {self.level}", self.activity.name.lower() if self.activity else "every activity"]
        if self.within is not None:
            parts.append(f"in {self.within.name} ({self.within.pcode})")
        if self.period_from or self.period_to:
            start = f"{self.period_from:%b %Y}" if self.period_from else "the start"
            end = f"{self.period_to:%b %Y}" if self.period_to else "now"
            parts.append(f"reported {start} to {end}")
        return ", ".join(parts)


def selection(
    *,
    level: str = AdminLevel.DISTRICT.value,
    activity: str | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    within: str | None = None,
) -> Selection:
    """A Selection from the names people give (`district`, `TENTS`, `PK1`); InvalidInput otherwise."""
    problems: list[Problem] = []
    if level not in LEVELS:
        problems.append(Problem(None, "level", f"'{level}' is not a level; use {', '.join(LEVELS)}"))
    chosen = None
    if activity:
        chosen = ActivityType.objects.filter(Q(code__iexact=activity) | Q(name__iexact=activity)).first()
        if chosen is None:
            codes = ", ".join(ActivityType.objects.values_list("code", flat=True))
            problems.append(Problem(None, "activity", f"'{activity}' is not an activity; use one of {codes}"))
    area, depth = None, 0
    if within:
        area = AdminArea.objects.filter(pcode__iexact=within.strip()).first()
        if area is None:
            hint = AreaIndex.build().suggest_code(within.strip(), depth=-1)  # an area of any level
            problems.append(Problem(None, "within", f"'{within}' is not a P-code of the gazetteer; {hint}"))
        else:
            depth = LEVELS.get(area.level, ("", 0))[1]
            if not depth or (level in LEVELS and depth >= LEVELS[level][1]):
                below = next((name for name, (_, d) in LEVELS.items() if depth and d == depth + 1), "")
                hint = (
                    f"show the {below} level within it, or choose a wider area"
                    if below
                    else "choose a wider area"
                )
                reason = f"{area.name} ({area.pcode}) is not an area above the {level} level; {hint}"
                problems.append(Problem(None, "within", reason))
    if period_from and period_to and period_to < period_from:
        problems.append(Problem(None, "period_to", "the period ends before it starts"))
    if problems:
        raise InvalidInput(problems)
    return Selection(
        level=level,
        activity=chosen,
        period_from=period_from.replace(day=1) if period_from else None,
        period_to=period_to.replace(day=1) if period_to else None,
        within=area,
        within_depth=depth,
    )


# --- areas and needs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaInfo:
    id: int
    pcode: str
    name: str
    level: str
    depth: int  # 1 province, 2 district, 3 tehsil, 4 below; 0 the country
    parent_pcode: str
    parent_name: str
    ancestors: frozenset[str]
    codes: tuple[str, str, str]  # its province, district and tehsil P-codes ('' above its level)

    def at(self, depth: int) -> str:
        """Its area's P-code at a depth (1-3), '' when it lies above that depth."""
        return self.codes[depth - 1]


class Areas:
    """Every admin area by P-code and by id, with parents and ancestors (one query)."""

    def __init__(self) -> None:
        rows = list(AdminArea.objects.values_list("id", "pcode", "name", "level", "parent_id"))
        by_id = {r[0]: r for r in rows}
        self.by_pcode: dict[str, AreaInfo] = {}
        self.by_id: dict[int, AreaInfo] = {}
        for pk, pcode, name, level, parent_id in rows:
            chain = [by_id[pk]]
            while chain[-1][4] is not None and chain[-1][4] in by_id:
                chain.append(by_id[chain[-1][4]])
            by_depth = {LEVELS[n[3]][1]: n[1] for n in chain if n[3] in LEVELS}
            parent = by_id.get(parent_id)
            info = AreaInfo(
                id=pk,
                pcode=pcode,
                name=name,
                level=level,
                depth=LEVELS[level][1] if level in LEVELS else (0 if parent is None else 4),
                parent_pcode=parent[1] if parent else "",
                parent_name=parent[2] if parent else "",
                ancestors=frozenset(n[1] for n in chain),
                codes=(by_depth.get(1, ""), by_depth.get(2, ""), by_depth.get(3, "")),
            )
            self.by_pcode[pcode] = info
            self.by_id[pk] = info

    def get(self, pcode: str) -> AreaInfo | None:
        return self.by_pcode.get(pcode)


@dataclass(frozen=True)
class Need:
    households: int | None  # in need of shelter
    illustrative: bool
    baselines: int  # how many baselines the figure adds up


class _Baseline(NamedTuple):
    codes: tuple[str, str, str]  # its province, district and tehsil P-codes
    depth: int  # of its own area: 1 a province ... 4 below a tehsil
    households: int | None
    illustrative: bool


def _making_up(baselines: list[_Baseline], depth: int) -> list[_Baseline]:
    """The baselines that make up the need of an area at `depth`: its own; else, part by part, the
    baselines that make up each part's, so that a district counts its own figure or its tehsils',
    never both, and a province adds up each district at the depth its need is known."""
    own = [b for b in baselines if b.depth == depth]
    if own:
        return own
    if depth >= 3:  # below a tehsil, parts have no code of their own: the shallowest of them
        shallowest = min(b.depth for b in baselines)
        return [b for b in baselines if b.depth == shallowest]
    parts: dict[str, list[_Baseline]] = defaultdict(list)
    for baseline in baselines:
        parts[baseline.codes[depth]].append(baseline)  # by its P-code one level down
    return [b for part in parts.values() for b in _making_up(part, depth + 1)]


# A needs baseline as read: province, district and tehsil P-codes, level, households in need, illustrative.
BaselineValues = tuple[str, str, str, str, int | None, bool]


def _baseline_values() -> list[BaselineValues]:
    """Every needs baseline: its province, district and tehsil P-codes, its area's level, its
    households in need and whether it is illustrative (one query)."""
    return list(
        NeedsBaseline.objects.values_list(
            "adm1", "adm2", "adm3", "admin_area__level", "households_in_need", "illustrative"
        )
    )


def needs_at(level: str, *, baselines: list[BaselineValues] | None = None) -> dict[str, Need]:
    """Households in need per area of a level: the area's own baseline, or else what its parts'
    baselines make up, branch by branch (see `_making_up`). `baselines`: read already."""
    column, depth = LEVELS[level]
    groups: dict[str, list[_Baseline]] = defaultdict(list)
    for adm1, adm2, adm3, area_level, households, illustrative in (
        baselines if baselines is not None else _baseline_values()
    ):
        code = {"adm1": adm1, "adm2": adm2, "adm3": adm3}[column]
        own_depth = LEVELS[area_level][1] if area_level in LEVELS else 4
        if code and own_depth >= depth:
            groups[code].append(_Baseline((adm1, adm2, adm3), own_depth, households, illustrative))
    needs: dict[str, Need] = {}
    for code, group in groups.items():
        counted = _making_up(group, depth)
        known = [b.households for b in counted if b.households is not None]
        needs[code] = Need(
            households=sum(known) if known else None,
            illustrative=any(b.illustrative for b in counted),
            baselines=len(counted),
        )
    return needs


# --- gap analysis ----------------------------------------------------------------------------------


def coverage_text(reached: int, in_need: int | None) -> str:
    """Coverage as shown, in whole percents rounded down, so that the figure and the map's class
    (under 25%, 25% to 50% … 100% or more) never disagree: 74.9% shows as 74%, not 75%."""
    return f"{reached * 100 // in_need}%" if in_need else ""


@dataclass(frozen=True)
class GapRow:
    """One area (and activity) of the gap table, in households, with item quantities beside."""

    pcode: str
    name: str
    parent_pcode: str
    parent_name: str
    activity_code: str
    activity_name: str
    unit: str
    in_need: int | None
    illustrative: bool
    targeted: int
    reached: int
    quantity_targeted: int
    quantity_reached: int
    quantity_to_partners: int
    partners: int
    rows: int
    whole_area: bool = False  # rows reported for the parent area as a whole, not for one of its parts
    # Of a whole-area row: the need of that wider area at its own level (`area_level`). Shown beside
    # the row, never compared with it: that need covers the rows of the area's parts too, and is
    # compared with all of them at the area's own level (counted here, it would be counted twice).
    area_level: str = ""
    area_in_need: int | None = None
    area_illustrative: bool = False

    @property
    def coverage(self) -> float | None:
        if not self.in_need:
            return None
        return self.reached / self.in_need

    @property
    def gap(self) -> int | None:
        if self.in_need is None:
            return None
        return max(self.in_need - self.reached, 0)

    @property
    def coverage_percent(self) -> str:
        return coverage_text(self.reached, self.in_need)

    @property
    def beyond_need(self) -> bool:
        """More households reached than in need: a figure to check (a row's households, or the
        baseline), marked where it is shown."""
        return bool(self.in_need) and self.reached > (self.in_need or 0)


@dataclass
class GapReport:
    selection: Selection
    rows: list[GapRow]
    no_partner: list[tuple[AreaInfo, Need | None]]
    illustrative: bool
    activities: list[ActivityType] = field(default_factory=list)

    @property
    def level(self) -> str:
        return self.selection.level


class Tally(NamedTuple):
    """The live rows of one activity, admin area and implementing organisation, added up."""

    activity_id: int
    area_id: int
    organisation_id: int
    reached: int
    targeted: int
    quantity_reached: int
    quantity_targeted: int
    quantity_to_partners: int
    quantity_as_reported: int
    rows: int
    set_aside: int


def tallies(chosen: Selection) -> list[Tally]:
    """The selection's live rows added up per activity, admin area and implementing organisation.

    One GROUP BY that the pairing index answers on its own — its leading columns are the groups'
    and it holds every column the sums read — so a million rows are read in index order, without a
    sort and without visiting the table; the reports roll these few thousand tallies up to any level.
    """
    rows = live_rows()
    if chosen.activity is not None:
        rows = rows.filter(activity_id=chosen.activity.pk)
    if chosen.period_from is not None:
        rows = rows.filter(period__gte=chosen.period_from)
    if chosen.period_to is not None:
        rows = rows.filter(period__lte=chosen.period_to)
    found = (
        rows.order_by()
        .values_list("activity_id", "admin_area_id", "implementing_org_id")
        .annotate(
            reached=_sum("households", REACHED),
            targeted=_sum("households", TARGETED),
            quantity_reached=_sum("quantity", REACHED),
            quantity_targeted=_sum("quantity", TARGETED),
            quantity_to_partners=_sum("quantity", TO_PARTNERS),
            quantity_as_reported=_sum("quantity", Q(status=ActivityStatus.COMPLETED)),
            n=Count("*"),
            set_aside=Count("counted_in"),  # COUNT of a column leaves out its NULLs
        )
    )
    return [Tally(*values) for values in found]


def _within(chosen: Selection, areas: Areas, tally: Tally) -> bool:
    if chosen.within is None:
        return True
    info = areas.by_id.get(tally.area_id)
    return info is not None and chosen.within.pcode in info.ancestors


def _bucket(info: AreaInfo, depth: int, areas: Areas) -> tuple[AreaInfo, bool]:
    """The area of the level a row counts in, and whether the row is for a wider area as a whole."""
    code = info.at(depth)
    if code:
        return areas.by_pcode[code], False
    for shallower in range(depth - 1, 0, -1):
        if info.at(shallower):
            return areas.by_pcode[info.at(shallower)], True
    return info, True


@dataclass
class _Sums:
    reached: int = 0
    targeted: int = 0
    quantity_reached: int = 0
    quantity_targeted: int = 0
    quantity_to_partners: int = 0
    rows: int = 0
    partners: set[int] = field(default_factory=set)

    def add(self, tally: Tally) -> None:
        self.reached += tally.reached
        self.targeted += tally.targeted
        self.quantity_reached += tally.quantity_reached
        self.quantity_targeted += tally.quantity_targeted
        self.quantity_to_partners += tally.quantity_to_partners
        self.rows += tally.rows
        self.partners.add(tally.organisation_id)


def gap_by_area(chosen: Selection) -> GapReport:
    """The gap table of a selection: per area of its level (and per activity when all are shown),
    households in need, targeted, reached, coverage and gap; and the areas with no partner."""
    areas = Areas()
    baselines = _baseline_values()
    needs = needs_at(chosen.level, baselines=baselines)
    wider: dict[str, dict[str, Need]] = {}  # the needs of the levels above, for whole-area rows
    depth = chosen.depth
    activities = {a.pk: a for a in ActivityType.objects.select_related("item")}
    groups: dict[tuple[str, bool, int], _Sums] = defaultdict(_Sums)
    for tally in tallies(chosen):
        info = areas.by_id.get(tally.area_id)
        if info is None or not _within(chosen, areas, tally):
            continue
        area, whole = _bucket(info, depth, areas)
        groups[(area.pcode, whole, tally.activity_id)].add(tally)
    in_scope = [
        info
        for info in areas.by_pcode.values()
        if info.level == chosen.level and (chosen.within is None or chosen.within.pcode in info.ancestors)
    ]
    table: list[GapRow] = []
    served = {code for code, whole, _ in groups if not whole}
    for (code, whole, activity_id), sums in groups.items():
        area, activity = areas.by_pcode[code], activities[activity_id]
        need = None if whole else needs.get(code)
        area_need = None
        if whole and area.level in LEVELS:
            if area.level not in wider:
                wider[area.level] = needs_at(area.level, baselines=baselines)
            area_need = wider[area.level].get(code)
        table.append(
            GapRow(
                pcode=code,
                name=area.name,
                parent_pcode=code if whole else area.parent_pcode,
                parent_name=area.name if whole else area.parent_name,
                activity_code=activity.code,
                activity_name=activity.name,
                unit=activity.unit,
                in_need=need.households if need else None,
                illustrative=bool(need and need.illustrative),
                targeted=sums.targeted,
                reached=sums.reached,
                quantity_targeted=sums.quantity_targeted,
                quantity_reached=sums.quantity_reached,
                quantity_to_partners=sums.quantity_to_partners,
                partners=len(sums.partners),
                rows=sums.rows,
                whole_area=whole,
                area_level=area.level if whole else "",
                area_in_need=area_need.households if area_need else None,
                area_illustrative=bool(area_need and area_need.illustrative),
            )
        )
    no_partner = sorted(
        ((info, needs.get(info.pcode)) for info in in_scope if info.pcode not in served),
        key=lambda pair: (-(pair[1].households or 0) if pair[1] else 1, pair[0].pcode),
    )
    if chosen.activity is not None:
        # Areas in need where the activity has no row at all are gaps too: list them in the table.
        for info, need in no_partner:
            if need is not None and need.households:
                table.append(
                    GapRow(
                        pcode=info.pcode,
                        name=info.name,
                        parent_pcode=info.parent_pcode,
                        parent_name=info.parent_name,
                        activity_code=chosen.activity.code,
                        activity_name=chosen.activity.name,
                        unit=chosen.activity.unit,
                        in_need=need.households,
                        illustrative=need.illustrative,
                        targeted=0,
                        reached=0,
                        quantity_targeted=0,
                        quantity_reached=0,
                        quantity_to_partners=0,
                        partners=0,
                        rows=0,
                    )
                )
    order = {a.code: (a.sort_order, a.name) for a in activities.values()}
    table.sort(
        key=lambda r: (
            r.parent_pcode if not r.whole_area else r.pcode,
            r.whole_area,
            r.pcode,
            order[r.activity_code],
        )
    )
    shown_needs = [needs[r.pcode] for r in table if not r.whole_area and r.pcode in needs]
    shown_needs += [need for _, need in no_partner if need is not None]
    return GapReport(
        selection=chosen,
        rows=table,
        no_partner=no_partner,
        illustrative=any(n.illustrative for n in shown_needs),
        activities=sorted(activities.values(), key=lambda a: (a.sort_order, a.name)),
    )


def default_activity() -> ActivityType | None:
    """The activity a gap page opens on: the first, in the cluster's order, that has live rows."""
    first = None
    for activity in ActivityType.objects.order_by("sort_order", "name"):
        first = first or activity
        if live_rows().filter(activity_id=activity.pk).exists():
            return activity
    return first


# --- the 4W matrix ---------------------------------------------------------------------------------


@dataclass
class MatrixCell:
    """One organisation's work in one area. Households are counted by activity, never added across
    activities: a household given a tent and blankets is one household reached by each."""

    activities: list[str] = field(default_factory=list)  # activity codes
    rows: int = 0
    reached: dict[str, int] = field(default_factory=dict)  # households by activity code, after the rules

    @property
    def reached_by_activity(self) -> list[tuple[str, int]]:
        return [(code, self.reached.get(code, 0)) for code in self.activities]


@dataclass
class Matrix:
    """Who does what where: implementing organisations x areas, each cell the activities there."""

    selection: Selection
    organisations: list[tuple[int, str]]  # (id, label)
    areas: list[AreaInfo]
    cells: dict[tuple[int, str], MatrixCell]
    entries: list[dict[str, Any]]  # organisation x area x activity, for exports

    def cell(self, organisation_id: int, pcode: str) -> MatrixCell | None:
        return self.cells.get((organisation_id, pcode))


def matrix_4w(chosen: Selection) -> Matrix:
    """The 4W matrix: per implementing organisation and area, the activities, rows, households and
    quantities reached (after the double-counting rules)."""
    areas = Areas()
    activities = dict(ActivityType.objects.values_list("id", "code"))
    grouped: dict[tuple[int, str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for tally in tallies(chosen):
        info = areas.by_id.get(tally.area_id)
        if info is None or not _within(chosen, areas, tally):
            continue
        area, _ = _bucket(info, chosen.depth, areas)
        sums = grouped[(tally.organisation_id, area.pcode, tally.activity_id)]
        sums[0] += tally.rows
        sums[1] += tally.reached
        sums[2] += tally.quantity_reached
    organisations = {
        o.pk: str(o)
        for o in Organisation.objects.filter(pk__in={key[0] for key in grouped}).only("name", "acronym")
    }
    cells: dict[tuple[int, str], MatrixCell] = {}
    entries: list[dict[str, Any]] = []
    for (org_id, code, activity_id), (n, households, quantity) in grouped.items():
        cell = cells.setdefault((org_id, code), MatrixCell())
        cell.activities.append(activities[activity_id])
        cell.rows += n
        cell.reached[activities[activity_id]] = households
        entries.append(
            {
                "organisation": organisations.get(org_id, ""),
                "pcode": code,
                "area": areas.by_pcode[code].name,
                "activity": activities[activity_id],
                "rows": n,
                "households_reached": households,
                "quantity_reached": quantity,
            }
        )
    for cell in cells.values():
        cell.activities.sort()
    shown = sorted(
        (areas.by_pcode[c] for c in {code for _, code, _ in grouped}), key=lambda a: (a.parent_pcode, a.pcode)
    )
    entries.sort(key=lambda e: (e["organisation"].lower(), e["pcode"], e["activity"]))
    return Matrix(
        selection=chosen,
        organisations=sorted(organisations.items(), key=lambda pair: pair[1].lower()),
        areas=shown,
        cells=cells,
        entries=entries,
    )


# --- totals --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityTotal:
    code: str
    name: str
    unit: str
    quantity_reached: int  # completed, after the double-counting rules
    households_reached: int
    quantity_targeted: int
    quantity_to_partners: int  # handed to partners (pipeline), not reached
    quantity_as_reported: int  # completed rows summed as reported, before the rules
    rows: int
    rows_set_aside: int  # counted in the implementing partner's own row


def activity_totals(chosen: Selection | None = None) -> list[ActivityTotal]:
    """Per activity type, what the cluster delivered, before and after the double-counting rules."""
    sums: dict[int, list[int]] = defaultdict(lambda: [0] * 7)
    for tally in tallies(chosen or Selection()):
        total = sums[tally.activity_id]
        for index, value in enumerate(
            (tally.quantity_reached, tally.reached, tally.quantity_targeted, tally.quantity_to_partners,
             tally.quantity_as_reported, tally.rows, tally.set_aside)
        ):  # fmt: skip
            total[index] += value
    return [
        ActivityTotal(activity.code, activity.name, activity.unit, *sums[activity.pk])
        for activity in ActivityType.objects.order_by("sort_order", "name")
        if activity.pk in sums
    ]


# The name under which the cluster published each headline figure (the JSON and the command line
# keep the keys). The page names each figure by its activity, as the rows and the By activity table
# do, and gives the published name beside it: a tent "delivered" there is a tent "distributed" here.
HEADLINE_LABELS: dict[str, str] = {
    "transitional_shelters_built": "transitional shelters built",
    "tents_delivered": "tents delivered",
    "cgi_sheets_delivered_more_than": "CGI sheets delivered (more than)",
    "blankets_delivered": "blankets delivered",
    "tarpaulins_or_plastic_sheets_delivered": "tarpaulins or plastic sheets delivered",
}


@dataclass(frozen=True)
class HeadlineFigure:
    """One of the cluster's headline figures: its published key and name, and the activity whose
    quantity reached (after the double-counting rules) it is."""

    key: str
    published_as: str
    activity_code: str
    activity_name: str
    value: int


def headline_figures(totals: list[ActivityTotal] | None = None) -> dict[str, int]:
    """The cluster's published figures, by their published keys, from the rows."""
    by_code = {t.code: t.quantity_reached for t in (totals if totals is not None else activity_totals())}
    return {key: by_code.get(code, 0) for key, code in HEADLINE_FIGURES.items()}


def headline_table(totals: list[ActivityTotal]) -> list[HeadlineFigure]:
    """The headline figures as the totals page lists them: each under its activity's name, with
    the name the cluster published it under."""
    names = dict(ActivityType.objects.filter(code__in=HEADLINE_FIGURES.values()).values_list("code", "name"))
    names.update((t.code, t.name) for t in totals)
    figures = headline_figures(totals)
    return [
        HeadlineFigure(key, HEADLINE_LABELS.get(key, key), code, names.get(code, code), figures[key])
        for key, code in HEADLINE_FIGURES.items()
    ]


# --- rows and batches --------------------------------------------------------------------------------


def rows_with_names(rows: QuerySet[ActivityRow]) -> QuerySet[ActivityRow]:
    return rows.select_related(
        "reporting_org",
        "programming_org",
        "implementing_org",
        "funding_org",
        "recipient_org",
        "activity",
        "admin_area",
        "site",
        "counted_in",
        "counted_in__reporting_org",
    )


def batch_rows(batch: ImportBatch, *, limit: int) -> list[tuple[ActivityRow, str]]:
    """The first versions a batch wrote, in the file's order, each with what it did to its row:
    `added` (a row new, or written again after its withdrawal), `updated` or `withdrawn`."""
    rows = list(rows_with_names(batch.rows.order_by("line", "id"))[:limit])
    updated = set(
        ActivityRow.objects.filter(
            replaced_in=batch, withdrawn=False, row_id__in={row.row_id for row in rows}
        ).values_list("reporting_org_id", "row_id")
    )
    return [
        (
            row,
            "withdrawn"
            if row.withdrawn
            else "updated"
            if (row.reporting_org_id, row.row_id) in updated
            else "added",
        )
        for row in rows
    ]


@dataclass(frozen=True)
class RevertRecord:
    """What reverting a batch undid, as the revert's audit event recorded it."""

    removed: int  # versions the batch had written, deleted by the revert
    restored: int  # versions the batch had replaced or withdrawn, current again


def batch_revert_record(batch: ImportBatch) -> RevertRecord | None:
    """What the revert of a reverted batch undid; None for a batch not reverted (or whose revert
    left no audit event)."""
    if batch.reverted_at is None:
        return None
    event = (
        AuditEvent.objects.filter(
            action="cluster.revert", object_type="import_batch", object_id=str(batch.pk)
        )
        .order_by("-at", "-id")
        .values_list("after", flat=True)
        .first()
    )
    if not isinstance(event, dict):
        return None
    return RevertRecord(removed=int(event.get("removed") or 0), restored=int(event.get("restored") or 0))


def batch_summaries(batches: QuerySet[ImportBatch]) -> QuerySet[ImportBatch]:
    return batches.select_related("organisation", "created_by").order_by("-id")


def needs_table() -> QuerySet[NeedsBaseline]:
    return NeedsBaseline.objects.select_related("admin_area", "admin_area__parent").order_by(
        "adm1", "adm2", "adm3", "admin_area__pcode"
    )


def rows_filtered(
    rows: QuerySet[ActivityRow],
    *,
    activity: str | None = None,
    within: str | None = None,
    organisation: str | None = None,
    status: str | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    batch: int | None = None,
    withdrawn: bool = False,
) -> QuerySet[ActivityRow]:
    """Current rows narrowed by the filters people give (codes, P-codes, acronyms); InvalidInput
    names each filter whose value is no activity, P-code or organisation at all."""
    rows = rows.filter(withdrawn=withdrawn)
    problems: list[Problem] = []
    if activity:
        named_activity = Q(code__iexact=activity) | Q(name__iexact=activity)
        if not ActivityType.objects.filter(named_activity).exists():
            problems.append(Problem(None, "activity", f"'{activity}' is not an activity"))
        rows = rows.filter(Q(activity__code__iexact=activity) | Q(activity__name__iexact=activity))
    if within:
        area = AdminArea.objects.filter(pcode__iexact=within.strip()).first()
        if area is None:
            problems.append(Problem(None, "within", f"'{within}' is not a P-code of the gazetteer"))
        else:
            column = LEVELS.get(area.level, ("", 0))[0]
            rows = rows.filter(**{column: area.pcode}) if column else rows.filter(admin_area=area)
    if organisation:
        named = Q(acronym__iexact=organisation) | Q(name__iexact=organisation)
        if not Organisation.objects.filter(named).exists():
            problems.append(
                Problem(None, "organisation", f"'{organisation}' is not an organisation of the cluster")
            )
        rows = rows.filter(
            Q(reporting_org__acronym__iexact=organisation) | Q(reporting_org__name__iexact=organisation)
        )
    if problems:
        raise InvalidInput(problems)
    if status:
        rows = rows.filter(status=status)
    if period_from:
        rows = rows.filter(period__gte=period_from.replace(day=1))
    if period_to:
        rows = rows.filter(period__lte=period_to.replace(day=1))
    if batch:
        rows = rows.filter(batch_id=batch)
    return rows_with_names(rows).order_by("reporting_org__name", "row_id", "id")


# --- outlines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outline:
    pcode: str
    name: str
    level: str
    geometry: dict[str, Any]
    attribution: str


def area_outlines(*, level: str | None = None) -> list[Outline]:
    """The stored outlines of admin areas (of one level, or all), for maps drawn without tiles."""
    from reliefops.cluster.models import AreaBoundary

    rows = AreaBoundary.objects.select_related("admin_area").order_by("admin_area__pcode")
    if level is not None:
        rows = rows.filter(admin_area__level=level)
    return [
        Outline(b.admin_area.pcode, b.admin_area.name, b.admin_area.level, b.geometry, b.attribution)
        for b in rows
    ]
