"""The figures of the operations dashboard, the sitrep and the donor reports.

Every figure is read from the ledger (stock selectors), the distribution rounds (households
selectors) and the cluster's 4W rows (cluster selectors), through aggregate queries: nothing here
loops over ledger lines or 4W rows. Who may see what is decided by the entry points (core.access);
these functions take the scope they are given (`site_ids`: None means every site).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from reliefops.catalog.models import Item
from reliefops.cluster import selectors as cluster
from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.security import whole_id
from reliefops.core.text import counted
from reliefops.households import selectors as households
from reliefops.partners.models import Grant, Organisation
from reliefops.places.models import AdminArea, AdminLevel, Site, SiteKind
from reliefops.reports.periods import Period
from reliefops.stock import selectors as stock
from reliefops.stock.models import Balance, LocationKind, Waybill

# How many weeks of distributions make the recent rate that says how long stock lasts.
RATE_WEEKS = 4
# A truck this many days past its expected day is no longer counted in days on the dashboard: it is
# "not confirmed since" that day (a delivery nobody confirmed, not a truck on the road for years).
LONG_OVERDUE_DAYS = 90
HUB_KINDS = (SiteKind.HUB, SiteKind.WAREHOUSE)


# --- who runs the operation -----------------------------------------------------------------------


@dataclass(frozen=True)
class OperatingOrganisation:
    short: str  # "IOM": how the sitrep's sentences name it
    name: str  # "International Organization for Migration"
    pk: int | None = None  # the organisation's row, when the configured name is one


def operating_organisation() -> OperatingOrganisation:
    """The organisation whose ledger this is (RELIEFOPS_ORGANISATION), as the gazetteer of
    organisations names it when it is there."""
    configured = str(getattr(settings, "OPERATING_ORGANISATION", "") or "").strip()
    if not configured:
        return OperatingOrganisation("the organisation", "the organisation")
    found = Organisation.objects.filter(Q(acronym__iexact=configured) | Q(name__iexact=configured)).first()
    if found is None:
        return OperatingOrganisation(configured, configured)
    return OperatingOrganisation(found.acronym or found.name, found.name, found.pk)


# --- distributions -------------------------------------------------------------------------------


@dataclass
class ItemFigure:
    """What was handed over of one item: to households directly, to partners, and in all."""

    item_id: int
    code: str
    name: str
    unit: str
    to_households: int = 0
    to_partners: int = 0
    published_key: str = ""

    @property
    def total(self) -> int:
        return self.to_households + self.to_partners


@dataclass(frozen=True)
class HubShare:
    """What a hub's row counts for a user who sees only some sites: whether the hub itself is one of
    them, and how many of the distribution points it supplies are."""

    hub_is_yours: bool
    points: int  # the distribution points the hub supplies
    yours: int  # those of them the user sees

    @property
    def whole(self) -> bool:
        """Whether the row counts the hub and every point it supplies, as for a coordinator."""
        return self.hub_is_yours and self.yours == self.points

    def describe(self) -> str:
        """`the hub itself, none of its 3 distribution points`."""
        points = counted(self.points, "distribution point")
        if not self.hub_is_yours:
            return f"{self.yours} of its {points}, not the hub itself"
        if not self.yours:
            return f"the hub itself, none of its {points}"
        return f"the hub and {self.yours} of its {points}"


@dataclass
class PlaceRow:
    """One hub or district of the distribution tables: quantity per item id."""

    key: str  # the hub's site id, or the district's P-code
    name: str
    quantities: dict[int, int] = field(default_factory=dict)
    code: str = ""  # how a link names it: the hub's site code, the district's P-code
    share: HubShare | None = None  # a hub's row of a user who sees only some sites

    @property
    def total(self) -> int:
        return sum(self.quantities.values())

    def cells(self, items: list[ItemFigure]) -> list[int]:
        return [self.quantities.get(item.item_id, 0) for item in items]


@dataclass
class Distributions:
    items: list[ItemFigure]  # published items first, in the published order, then the rest by code
    by_hub: list[PlaceRow]
    by_district: list[PlaceRow]
    by_site: list[tuple[Site, dict[int, int]]]
    days: list[stock.HandedOver]  # the same, day by day (for the weekly figures)

    @property
    def published(self) -> list[ItemFigure]:
        return [i for i in self.items if i.published_key]

    @property
    def others(self) -> list[ItemFigure]:
        return [i for i in self.items if not i.published_key]

    def item(self, code: str) -> ItemFigure | None:
        return next((i for i in self.items if i.code == code), None)


def _item_order(items: dict[int, Item]) -> list[int]:
    published = list(stock.PUBLISHED_ITEMS)

    def key(item_id: int) -> tuple[int, str]:
        code = items[item_id].code
        return (published.index(code), "") if code in published else (len(published), code)

    return sorted(items, key=key)


def _figure(item: Item) -> ItemFigure:
    return ItemFigure(
        item.pk, item.code, item.name, item.base_unit, published_key=stock.PUBLISHED_ITEMS.get(item.code, "")
    )


def item_figures(item_ids: set[int]) -> list[ItemFigure]:
    """The items, as table columns: the published items first, in the published order, then the
    rest by code (the order of every item table of the reports)."""
    items = {i.pk: i for i in Item.objects.filter(pk__in=item_ids)}
    return [_figure(items[pk]) for pk in _item_order(items)]


def district_of(site: Site, areas: cluster.Areas) -> tuple[str, str]:
    info = areas.by_id.get(site.admin_area_id)
    code = info.at(2) if info else ""
    if code and code in areas.by_pcode:
        return code, areas.by_pcode[code].name
    return "", "Outside any district"


def _hub_of(site: Site, sites: dict[int, Site]) -> Site:
    if site.kind in HUB_KINDS or site.parent_hub_id is None:
        return site
    return sites.get(site.parent_hub_id, site)


def counts_as_hub(site: Site) -> bool:
    """Whether the site has a row of its own in the hub tables: a hub or warehouse, or a site that
    no hub supplies; a distribution point counts in the hub that supplies it."""
    return site.kind in HUB_KINDS or site.parent_hub_id is None


@dataclass(frozen=True)
class Narrowing:
    """What the Distributed page is narrowed to: an item, a hub (with the points it supplies), a
    district (of the sites that handed over). None leaves it open."""

    item: Item | None = None
    hub: Site | None = None
    district: AdminArea | None = None

    @property
    def labels(self) -> list[str]:
        return [thing.name for thing in (self.item, self.hub, self.district) if thing is not None]


def narrowing(*, item: str = "", hub: str = "", district: str = "") -> Narrowing:
    """The item (by code), hub (by site code, or by id as earlier links wrote it) and district (by
    P-code) asked for; InvalidInput naming each value that is not one, and why."""
    problems: list[Problem] = []
    found_item = found_hub = found_district = None
    item, hub, district = item.strip(), hub.strip(), district.strip()
    if item:
        found_item = Item.objects.filter(code__iexact=item).first()
        if found_item is None:
            problems.append(Problem(None, "item", f"no item has the code '{item}'; choose one from the list"))
    if hub:
        sites = Site.objects.select_related("parent_hub")
        number = whole_id(hub)
        found_hub = sites.filter(code__iexact=hub).first() or (
            sites.filter(pk=number).first() if number is not None else None
        )
        if found_hub is None:
            problems.append(Problem(None, "hub", f"no site has the code '{hub}'; choose a hub from the list"))
        elif not counts_as_hub(found_hub):
            parent = found_hub.parent_hub
            supplier = f", {parent.name} ({parent.code})" if parent is not None else ""
            problems.append(
                Problem(
                    None,
                    "hub",
                    f"{found_hub.name} ({found_hub.code}) is not a hub: it counts in the hub that "
                    f"supplies it{supplier}",
                )
            )
            found_hub = None
    if district:
        found_district = AdminArea.objects.filter(pcode__iexact=district).first()
        if found_district is None:
            problems.append(
                Problem(
                    None,
                    "district",
                    f"'{district}' is the P-code of no area; choose a district from the list",
                )
            )
        elif found_district.level != AdminLevel.DISTRICT:
            problems.append(
                Problem(
                    None,
                    "district",
                    f"{found_district.name} ({found_district.pcode}) is a "
                    f"{AdminLevel(found_district.level).label.split(' (')[0].lower()}, not a district",
                )
            )
    if problems:
        raise InvalidInput(problems)
    return Narrowing(item=found_item, hub=found_hub, district=found_district)


def distributions(
    *,
    period: Period | None = None,
    site_ids: set[int] | None = None,
    item_code: str | None = None,
    hub_id: int | None = None,
    district: str | None = None,
) -> Distributions:
    """What was handed over, by item, by hub (a distribution point counts in the hub that supplies
    it), by district (of the site that handed over) and by site, in a period."""
    period = period or Period()
    days = stock.handed_over(start=period.start, end=period.end, site_ids=site_ids)
    site_ids_seen = {r.site_id for r in days}
    sites = {s.pk: s for s in Site.objects.filter(pk__in=site_ids_seen)}
    parent_ids = {s.parent_hub_id for s in sites.values() if s.parent_hub_id} - set(sites)
    sites.update({s.pk: s for s in Site.objects.filter(pk__in=parent_ids)})
    areas = cluster.Areas()
    items = {i.pk: i for i in Item.objects.filter(pk__in={r.item_id for r in days})}

    def wanted(site: Site, item: Item) -> bool:
        return (
            (not item_code or item.code == item_code)
            and (hub_id is None or _hub_of(site, sites).pk == hub_id)
            and (not district or district_of(site, areas)[0] == district)
        )

    kept = {(s, i) for s, i in {(r.site_id, r.item_id) for r in days} if wanted(sites[s], items[i])}
    days = [r for r in days if (r.site_id, r.item_id) in kept]
    figures: dict[int, ItemFigure] = {}
    hubs: dict[int, PlaceRow] = {}
    districts: dict[str, PlaceRow] = {}
    by_site: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in stock.by_site(days):
        site = sites[row.site_id]
        item = items[row.item_id]
        hub = _hub_of(site, sites)
        code, name = district_of(site, areas)
        figure = figures.setdefault(
            item.pk,
            _figure(item),
        )
        figure.to_households += row.to_households
        figure.to_partners += row.to_partners
        place = hubs.setdefault(hub.pk, PlaceRow(str(hub.pk), hub.name, code=hub.code))
        place.quantities[item.pk] = place.quantities.get(item.pk, 0) + row.total
        area = districts.setdefault(code, PlaceRow(code, name, code=code))
        area.quantities[item.pk] = area.quantities.get(item.pk, 0) + row.total
        by_site[site.pk][item.pk] += row.total
    if site_ids is not None and hubs:
        _share_hubs(hubs, site_ids)
    order = _item_order({pk: items[pk] for pk in figures})
    return Distributions(
        items=[figures[pk] for pk in order],
        by_hub=sorted(hubs.values(), key=lambda p: (-p.total, p.name)),
        by_district=sorted(districts.values(), key=lambda p: (-p.total, p.name)),
        by_site=sorted(((sites[pk], dict(q)) for pk, q in by_site.items()), key=lambda p: p[0].name),
        days=days,
    )


def hub_reaches(hub: Site, site_ids: set[int] | None) -> bool:
    """Whether a user who sees `site_ids` (None: every site) sees any of the hub's figures: the hub
    itself, or one of the distribution points it supplies."""
    if site_ids is None or hub.pk in site_ids:
        return True
    return Site.objects.filter(parent_hub_id=hub.pk, pk__in=site_ids).exists()


def _share_hubs(hubs: dict[int, PlaceRow], site_ids: set[int]) -> None:
    """Tell each hub's row what it counts of the hub and its points, for a user who sees only
    `site_ids`: the same row of a coordinator counts every point the hub supplies."""
    points: dict[int, list[int]] = defaultdict(list)
    for hub_id, point_id in Site.objects.filter(
        parent_hub_id__in=hubs, kind=SiteKind.DISTRIBUTION_POINT
    ).values_list("parent_hub_id", "pk"):
        points[hub_id].append(point_id)
    for hub_id, row in hubs.items():
        row.share = HubShare(
            hub_is_yours=hub_id in site_ids,
            points=len(points[hub_id]),
            yours=len(set(points[hub_id]) & site_ids),
        )


@dataclass(frozen=True)
class WeeklySeries:
    """Quantities handed over per week (Mondays) and item, every week of the span present."""

    weeks: list[dt.date]
    items: list[ItemFigure]
    values: dict[int, list[int]]  # item id -> one value per week

    def rows(self) -> list[tuple[dt.date, list[int]]]:
        return [(week, [self.values[i.item_id][n] for i in self.items]) for n, week in enumerate(self.weeks)]


def weekly(distributions: Distributions) -> WeeklySeries:
    """Per week and item, what was handed over (net of reversals), empty weeks included."""
    items = distributions.items
    found = stock.by_week(distributions.days)
    wanted = {i.item_id for i in items}
    found = [r for r in found if r[1] in wanted]
    if not found:
        return WeeklySeries([], items, {i.item_id: [] for i in items})
    first, last = found[0][0], found[-1][0]
    weeks = [first + dt.timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
    index = {week: n for n, week in enumerate(weeks)}
    values = {i.item_id: [0] * len(weeks) for i in items}
    for week, item_id, quantity in found:
        values[item_id][index[week]] += quantity
    return WeeklySeries(weeks, items, values)


def past_day(period: Period, today: dt.date) -> dt.date | None:
    """The period's last day when it is before today (the day a past period's stock and trucks are
    counted on); None when the period runs to today or later (they are counted now)."""
    return period.end if period.end is not None and period.end < today else None


# --- stock against the needs of rounds ------------------------------------------------------------


@dataclass(frozen=True)
class SupplyRow:
    """One item: on hand (now, or at the end of a past period), owed today to the households of
    planned and open rounds, the rate of the period's last weeks with distributions."""

    item_id: int
    code: str
    name: str
    on_hand: int
    owed: int
    weekly_rate: int  # handed over per week, over the last RATE_WEEKS weeks with distributions
    # Whether on hand and owed are of the same day (today): only then are they set against each other
    same_day: bool = True

    @property
    def after_rounds(self) -> int:
        return self.on_hand - self.owed

    @property
    def weeks_left(self) -> float | None:
        if not self.weekly_rate:
            return None
        return self.on_hand / self.weekly_rate

    @property
    def short(self) -> bool:
        return self.same_day and self.owed > self.on_hand


@dataclass(frozen=True)
class Supply:
    rows: list[SupplyRow]  # what runs out first comes first
    rounds: list[households.RoundNeed]  # only the (round, item) pairs still owed
    # The day on hand is counted on: a past period's last day; None: now. Rounds are owed today.
    on: dt.date | None = None
    # The days of the weeks the rate is read from (a Monday and the last week's Sunday), if any
    rate_from: dt.date | None = None
    rate_to: dt.date | None = None

    @property
    def rounds_owing(self) -> list[tuple[int, str]]:
        """(id, code) of each round that still owes something, once each, in the rounds' order."""
        return list({need.round_id: need.round_code for need in self.rounds}.items())


def supply(
    *, site_ids: set[int] | None = None, series: WeeklySeries | None = None, on: dt.date | None = None
) -> Supply:
    """Stock on hand per item against what planned and open rounds still owe, and how many weeks it
    lasts at the rate of the series' last weeks; ordered so that what runs out first (or falls
    short) comes first. With `on` (a past period's last day) the stock is what was held at the end
    of that day, the day the series ends: what rounds owe is today's, and is not set against it."""
    on_hand = stock.on_hand_by_item(site_ids=site_ids, day=on)
    rounds = households.rounds_outstanding(point_ids=site_ids)
    owed: dict[int, int] = defaultdict(int)
    for need in rounds:
        owed[need.item_id] += need.owed
    rates: dict[int, int] = {}
    rate_from = rate_to = None
    if series is not None and series.weeks:
        recent = slice(max(len(series.weeks) - RATE_WEEKS, 0), None)
        span = len(series.weeks[recent])
        # The last week ends on its Sunday, or on the day the figures run to (today, or the past
        # period's last day) when that comes first: the window is never said to run into the future.
        last_day = on if on is not None else timezone.localdate()
        rate_from = series.weeks[recent][0]
        rate_to = min(series.weeks[-1] + dt.timedelta(days=6), max(last_day, series.weeks[-1]))
        rates = {item_id: round(sum(values[recent]) / span) for item_id, values in series.values.items()}
    item_ids = set(on_hand) | {k for k, v in owed.items() if v}
    items = {i.pk: i for i in Item.objects.filter(pk__in=item_ids)}
    rows = [
        SupplyRow(
            item_id=pk,
            code=items[pk].code,
            name=items[pk].name,
            on_hand=on_hand.get(pk, 0),
            owed=owed.get(pk, 0),
            weekly_rate=rates.get(pk, 0),
            same_day=on is None,
        )
        for pk in items
    ]

    def runs_out(row: SupplyRow) -> tuple[int, float, str]:
        if row.short:
            return (0, row.on_hand / row.owed if row.owed else 0.0, row.code)
        if row.weeks_left is not None:
            return (1, row.weeks_left, row.code)
        return (2, 0.0, row.code)

    return Supply(
        rows=sorted(rows, key=runs_out),
        rounds=[r for r in rounds if r.owed > 0],
        on=on,
        rate_from=rate_from,
        rate_to=rate_to,
    )


# --- waybills ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waybills:
    on: dt.date  # the day the trucks on the road are counted, and overdue against
    in_transit: int
    overdue: list[tuple[Waybill, int]]  # (waybill, days overdue on `on`), most overdue first
    pledges_open: int  # today's, whatever the day
    past: bool = False  # `on` is a past day (the end of a past period), not today


def waybills(*, today: dt.date, as_of: dt.date | None = None, site_ids: set[int] | None = None) -> Waybills:
    """Trucks on the road and those overdue on a day: today, or `as_of` when it is a past day (the
    end of a past period: what was on the road then, days overdue counted to then); the pledges
    still awaited today."""
    found = stock.pipeline(today=today, site_ids=site_ids)
    if as_of is None or as_of >= today:
        day, in_transit, overdue = today, found.in_transit, found.overdue
    else:
        day = as_of
        in_transit = stock.in_transit_on(day=as_of, site_ids=site_ids)
        overdue = [(w, (as_of - w.expected_on).days) for w in in_transit if w.expected_on < as_of]
    return Waybills(
        on=day,
        in_transit=len(in_transit),
        overdue=sorted(overdue, key=lambda pair: (-pair[1], pair[0].number)),
        pledges_open=len(found.pledges),
        past=day < today,
    )


# --- the cluster ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterPicture:
    totals: list[cluster.ActivityTotal]
    headline: dict[str, int]
    gaps: cluster.GapReport | None
    activity: cluster.ActivityType | None
    # The reporting months the figures cover (their first days); None leaves that side open.
    month_from: dt.date | None = None
    month_to: dt.date | None = None

    @property
    def district_rows(self) -> list[cluster.GapRow]:
        if self.gaps is None:
            return []
        return [r for r in self.gaps.rows if not r.whole_area]

    @property
    def months(self) -> str:
        """The reporting months the figures cover, as a heading names them: `reporting month
        October 2005`, `reporting months October 2005 to December 2005`, `… up to October 2005`,
        `… since January 2006`; empty for the whole operation. The cluster's partners report by
        month: a period of days counts every month it touches, whole."""
        first, last = self.month_from, self.month_to
        if first is None and last is None:
            return ""
        if first is not None and last is not None:
            if first == last:
                return f"reporting month {first:%B %Y}"
            return f"reporting months {first:%B %Y} to {last:%B %Y}"
        if first is not None:
            return f"reporting months since {first:%B %Y}"
        return f"reporting months up to {last:%B %Y}"

    @property
    def for_the_months(self) -> str:
        """` for the reporting month October 2005`, to follow a verb; empty for the whole operation."""
        return f" for the {self.months}" if self.months else ""

    @property
    def months_query(self) -> str:
        """The months as the cluster pages' filter takes them (`period_from=2005-12&period_to=2005-12`,
        without '?'), so that a link to a cluster page shows the figures of the same months."""
        parts = []
        if self.month_from:
            parts.append(f"period_from={_month(self.month_from)}")
        if self.month_to:
            parts.append(f"period_to={_month(self.month_to)}")
        return "&".join(parts)


def _month(day: dt.date) -> str:
    """`2005-12`, the year always in four digits (`%Y` writes the year 1 as `1`)."""
    return f"{day.year:04d}-{day.month:02d}"


def cluster_picture(*, period: Period | None = None, activity: str | None = None) -> ClusterPicture:
    """The cluster's totals by activity (after the double-counting rules) and the district gaps of
    one activity (the first with rows, unless named), over the months the period touches."""
    period = period or Period()
    chosen_activity = activity or None
    if not chosen_activity:
        default = cluster.default_activity()
        chosen_activity = default.code if default else None
    chosen = cluster.selection(
        level=AdminLevel.DISTRICT.value,
        activity=chosen_activity,
        period_from=period.start,
        period_to=period.end,
    )
    totals = cluster.activity_totals(cluster.selection(period_from=period.start, period_to=period.end))
    gaps = cluster.gap_by_area(chosen) if chosen.activity is not None else None
    return ClusterPicture(
        totals=totals,
        headline=cluster.headline_figures(totals),
        gaps=gaps,
        activity=chosen.activity,
        month_from=chosen.period_from,
        month_to=chosen.period_to,
    )


# --- the donor report ----------------------------------------------------------------------------


@dataclass
class GrantPlace:
    site: Site
    district: str
    quantities: dict[int, int]
    households: int | None  # households served through card handovers at this site

    @property
    def total(self) -> int:
        return sum(self.quantities.values())


@dataclass(frozen=True)
class PartnerShare:
    """What one partner organisation holds of a grant, item by item (never added across items)."""

    name: str
    items: list[tuple[str, int]]  # (item name, quantity), in the report's item order

    @property
    def total(self) -> int:
        """All items together: an accounting check's figure, never shown."""
        return sum(quantity for _, quantity in self.items)


@dataclass
class GrantReport:
    """A grant's donor report. The page gives every quantity item by item: `totals` (each column
    added across items) serve only to check that the ledger accounts for every unit."""

    grant: Grant
    rows: list[stock.DonorReportRow]
    totals: dict[str, int]
    items: list[ItemFigure]  # the items the grant distributed, in the report's order
    places: list[GrantPlace]
    households: int  # distinct households served through card handovers
    partner_items: list[PartnerShare]  # each partner's quantities of the grant, item by item
    when: str = ""  # when the figures apply (the stock ledger's donor report says it)

    @property
    def partners(self) -> list[tuple[str, int]]:
        """(partner, all it holds of the grant): an accounting check's figure, never shown."""
        return [(share.name, share.total) for share in self.partner_items]


REPORT_COLUMNS = ("received", "distributed", "handed_to_partners", "lost", "in_transit", "on_hand", "other")


def grant_report(grant: Grant) -> GrantReport:
    """The stock issue's donor report of a grant (received, distributed, handed to partners, lost,
    in transit, on hand), with where it was distributed and to how many households."""
    report = stock.donor_report(grant_id=grant.pk)
    totals = {c: sum(getattr(row, c) for row in report.rows) for c in REPORT_COLUMNS}
    rows = stock.distributed_by_site(grant_id=grant.pk)
    served = households.households_served_by_grant(grant.pk)
    sites = {s.pk: s for s in Site.objects.filter(pk__in={r.site_id for r in rows})}
    areas = cluster.Areas()
    item_objects = {i.pk: i for i in Item.objects.filter(pk__in={r.item_id for r in rows})}
    figures: dict[int, ItemFigure] = {}
    places: dict[int, GrantPlace] = {}
    for row in rows:
        item = item_objects[row.item_id]
        figure = figures.setdefault(
            item.pk,
            _figure(item),
        )
        figure.to_households += row.to_households
        figure.to_partners += row.to_partners
        if row.to_households:
            site = sites[row.site_id]
            place = places.setdefault(
                site.pk, GrantPlace(site, district_of(site, areas)[1], {}, served.by_point.get(site.pk))
            )
            place.quantities[item.pk] = place.quantities.get(item.pk, 0) + row.to_households
    partners = grant_partners(grant, order=[row.item_code for row in report.rows])
    return GrantReport(
        grant=grant,
        rows=report.rows,
        totals=totals,
        items=[figures[pk] for pk in _item_order({pk: item_objects[pk] for pk in figures})],
        places=sorted(places.values(), key=lambda p: (p.district, p.site.name)),
        households=served.total,
        partner_items=partners,
        when=report.when,
    )


def grant_partners(grant: Grant, *, order: list[str] | None = None) -> list[PartnerShare]:
    """Partners the grant's stock was handed to, with what each holds of each item (net of
    reversals), by name; items in `order` (item codes), then by code."""
    found = (
        Balance.objects.filter(grant_id=grant.pk, location__kind=LocationKind.PARTNER)
        .exclude(quantity=0)
        .order_by()
        .values_list("location__organisation__name", "item__code", "item__name")
        .annotate(total=Sum("quantity"))
    )
    order = order or []
    held: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for name, code, item_name, total in found:
        if total:
            held[name or ""].append((code, item_name, int(total)))

    def item_key(entry: tuple[str, str, int]) -> tuple[int, str]:
        return (order.index(entry[0]), "") if entry[0] in order else (len(order), entry[0])

    shares = [
        PartnerShare(name, [(item_name, total) for _, item_name, total in sorted(entries, key=item_key)])
        for name, entries in held.items()
    ]
    return sorted(shares, key=lambda share: share.name)
