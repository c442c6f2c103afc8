"""Reads of the households app: matching candidates, eligibility, distribution lists, deliveries,
reconciliation and counts.

Selectors return personal data only where their name says so (`distribution_list`,
`households_search`); the entry points that call those check the right first and record the view.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum

from reliefops.core.security import whole_id
from reliefops.households.identity import DocumentRefused, ascii_digits, normalise_phone
from reliefops.households.matching import LIKELY_DUPLICATE, MAX_BLOCK, Match, Person, best_matches, prepare
from reliefops.households.models import (
    MEMBER_NAMES,
    DistributionRound,
    DuplicatePair,
    Entitlement,
    Handover,
    HandoverDelivery,
    HandoverLine,
    Household,
    HouseholdCard,
    HouseholdImport,
    HouseholdStatus,
    ImportStatus,
    Living,
    MatchKey,
    PackageLine,
    PairStatus,
    RoundStatus,
    Sex,
    Vulnerability,
)
from reliefops.households.origins import AreaTree
from reliefops.places.models import AdminArea, AdminLevel
from reliefops.stock.models import MovementLine

# A registration-time check reads at most this many candidates (the keys are selective: a few dozen
# is usual even against a million households).
MAX_CANDIDATES = 2_000
_PERSON_COLUMNS = (
    "pk",
    "head_name",
    "father_or_husband_name",
    "head_sex",
    "document_type",
    "document_number",
    "phone",
    "origin_district__pcode",
    "origin_area__pcode",
    "origin_village",
    *MEMBER_NAMES,
    "current_site_id",
    "origin_area_id",
)
_MEMBERS = slice(10, 10 + len(MEMBER_NAMES))


def tehsil_pcodes() -> dict[int, str]:
    """The P-code of the tehsil each admin area lies in ('' for a district or anything above)."""
    areas = {
        pk: (pcode, level, parent)
        for pk, pcode, level, parent in AdminArea.objects.values_list("pk", "pcode", "level", "parent_id")
    }
    found: dict[int, str] = {}
    for pk in areas:
        current: int | None = pk
        seen = 0
        while current is not None and current in areas and seen < 10:
            pcode, level, parent = areas[current]
            if level == AdminLevel.TEHSIL:
                found[pk] = pcode
                break
            current, seen = parent, seen + 1
        else:
            found[pk] = ""
    return found


def _person(row: Sequence[Any], tehsils: dict[int, str]) -> Person:
    # Codes and village names repeat across a million rows: one string object each saves memory.
    return Person(
        id=row[0],
        head=row[1],
        father=row[2],
        sex=sys.intern(row[3]),
        document_type=sys.intern(row[4]),
        document=row[5],
        phone=row[6],
        district=sys.intern(row[7]),
        area=sys.intern(row[8]),
        village=sys.intern(row[9]),
        members=tuple(row[_MEMBERS]),
        site_id=row[-2],
        tehsil=tehsils.get(row[-1], ""),
    )


def matchable_households() -> QuerySet[Household]:
    """Households that duplicates are sought among: active, with their personal data."""
    return Household.objects.filter(status=HouseholdStatus.ACTIVE, anonymised_at__isnull=True)


def people_for_matching(
    households: QuerySet[Household] | None = None, *, chunk: int = 10_000
) -> Iterator[Person]:
    """The households as matching sees them, read in chunks (a million rows fit in memory this way)."""
    rows = (households if households is not None else matchable_households()).order_by("pk")
    tehsils = tehsil_pcodes()
    yield from (
        _person(row, tehsils) for row in rows.values_list(*_PERSON_COLUMNS).iterator(chunk_size=chunk)
    )


def matching_person(household: Household) -> Person:
    return next(people_for_matching(Household.objects.filter(pk=household.pk)))


def store_match_keys(household_ids: Sequence[int], *, batch: int = 5_000) -> int:
    """Write the blocking keys of these (active) households; returns how many keys were written."""
    written = 0
    for start in range(0, len(household_ids), batch):
        part = household_ids[start : start + batch]
        rows: list[MatchKey] = []
        for person in people_for_matching(matchable_households().filter(pk__in=part)):
            prepared = prepare(person)
            rows += [MatchKey(household_id=person.id, key=key) for key in prepared.keys]
        MatchKey.objects.bulk_create(rows, batch_size=batch)
        written += len(rows)
    return written


def decided_pairs(
    statuses: Iterable[str] = (PairStatus.SAME, PairStatus.DIFFERENT, PairStatus.CLOSED),
) -> set[tuple[int, int]]:
    return set(DuplicatePair.objects.filter(status__in=list(statuses)).values_list("first_id", "second_id"))


def likely_duplicates(person: Person, *, threshold: int = LIKELY_DUPLICATE, limit: int = 10) -> list[Match]:
    """The registered households a household (or a draft, id 0) most likely duplicates, best first.

    Pairs a person already decided are "different" are left out: never proposed again.
    """
    draft = prepare(person)
    if not draft.keys:
        return []
    # Keys too common to pair on are left out, as the batch run leaves them out (MAX_BLOCK).
    sizes = (
        MatchKey.objects.filter(key__in=draft.keys)
        .values("key")
        .annotate(n=Count("pk"))
        .values_list("key", "n")
    )
    keys = [key for key, n in sizes if n <= MAX_BLOCK]
    if not keys:
        return []
    ids = list(
        MatchKey.objects.filter(key__in=keys)
        .exclude(household_id=person.id)
        .values_list("household_id", flat=True)
        .distinct()[:MAX_CANDIDATES]
    )
    # Read the candidates by primary key alone: with a status condition beside a long IN list,
    # SQLite's planner may scan the whole table instead (no statistics on a fresh database).
    ids = [
        pk
        for pk, status, anonymised in Household.objects.filter(pk__in=ids).values_list(
            "pk", "status", "anonymised_at"
        )
        if status == HouseholdStatus.ACTIVE and anonymised is None
    ]
    if not ids:
        return []
    candidates = [prepare(p) for p in people_for_matching(Household.objects.filter(pk__in=ids))]
    matches = best_matches(draft, candidates, threshold=threshold, limit=limit + 10)
    if person.id:
        decided = decided_pairs([PairStatus.DIFFERENT])
        matches = [m for m in matches if (m.first_id, m.second_id) not in decided]
    return matches[:limit]


def waiting_checks(digest: str) -> QuerySet[HouseholdImport]:
    """The checks of the registration file with this digest that wait to be imported (previewed,
    their content kept), latest first."""
    return (
        HouseholdImport.objects.filter(digest=digest, status=ImportStatus.PREVIEWED)
        .exclude(content=b"")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class ImportState:
    """Where an uploaded registration file stands, as its status alone cannot say: a check whose
    file was imported through another check, or was cleared, waits for nothing."""

    label: str
    importable: bool
    same_file_as: HouseholdImport | None = None


def import_states(batches: Iterable[HouseholdImport]) -> dict[int, ImportState]:
    """Each import's state, by id, in three queries however many imports (their content may be
    deferred: it is not read)."""
    batches = list(batches)
    waiting = [b.pk for b in batches if b.status == ImportStatus.PREVIEWED]
    kept = set(
        HouseholdImport.objects.filter(pk__in=waiting).exclude(content=b"").values_list("pk", flat=True)
    )
    digests = {b.digest for b in batches if b.status == ImportStatus.PREVIEWED and b.digest}
    imported: dict[str, list[HouseholdImport]] = defaultdict(list)
    for earlier in HouseholdImport.objects.filter(
        digest__in=sorted(digests), status=ImportStatus.COMMITTED
    ).order_by("committed_at", "pk"):
        imported[earlier.digest].append(earlier)
    states = {}
    for batch in batches:
        if batch.status != ImportStatus.PREVIEWED:
            states[batch.pk] = ImportState(batch.get_status_display(), importable=False)
            continue
        same = next((e for e in imported.get(batch.digest, []) if e.pk != batch.pk), None)
        if same is not None:
            label = f"Same file as import {same.pk}, imported: nothing to import"
            states[batch.pk] = ImportState(label, importable=False, same_file_as=same)
        elif batch.pk not in kept:
            label = "Not imported within a week: cleared; upload the file again"
            states[batch.pk] = ImportState(label, importable=False)
        else:
            states[batch.pk] = ImportState(batch.get_status_display(), importable=True)
    return states


def duplicate_queue() -> QuerySet[DuplicatePair]:
    """Pairs to review, best first: both households still active."""
    return (
        DuplicatePair.objects.filter(
            status=PairStatus.PENDING,
            first__status=HouseholdStatus.ACTIVE,
            second__status=HouseholdStatus.ACTIVE,
            # Nobody can decide a pair of an anonymised household: anonymising closes it.
            first__anonymised_at__isnull=True,
            second__anonymised_at__isnull=True,
        )
        .select_related(
            "first__origin_area", "second__origin_area", "first__current_site", "second__current_site"
        )
        .order_by("-score", "id")
    )


def households_search(*, q: str = "", status: str = "", area_id: int | None = None) -> QuerySet[Household]:
    """Households by name, identity number, phone, village or id (personal data: check the right)."""
    households = Household.objects.select_related("origin_area", "current_site").order_by("-id")
    if status:
        households = households.filter(status=status)
    if area_id is not None:
        households = households.filter(Q(origin_area_id=area_id) | Q(origin_district_id=area_id))
    text = q.strip()
    if text:
        # Numbers are stored in 0-9, however they were typed (Urdu ۰۳۰۰ ...): so is the search.
        digits = "".join(c for c in ascii_digits(text) if "0" <= c <= "9")
        condition = (
            Q(head_name__icontains=text)
            | Q(father_or_husband_name__icontains=text)
            | Q(origin_village__icontains=text)
        )
        if digits and len(digits) >= 5:
            condition |= Q(document_number__contains=digits) | Q(phone__contains=digits)
            try:  # a whole phone number as people say it (0300-1234567) is stored as +923001234567
                phone = normalise_phone(text)
            except DocumentRefused:
                phone = ""
            if phone:
                condition |= Q(phone=phone)
        number = whole_id(ascii_digits(text))  # a number typed in Urdu digits (۱۰۷۶) too
        if number is not None:
            condition |= Q(pk=number)
        households = households.filter(condition)
    return households


# --- rounds ---------------------------------------------------------------------------------------


def eligible_households(round_obj: DistributionRound, *, tree: AreaTree | None = None) -> QuerySet[Household]:
    """The households that meet every eligibility condition the round gives."""
    households = matchable_households()
    area_ids = set(round_obj.areas.values_list("pk", flat=True))
    if area_ids:
        below = (tree or AreaTree.load()).descendants_or_self(area_ids)
        households = households.filter(Q(origin_area_id__in=below) | Q(current_site__admin_area_id__in=below))
    site_ids = list(round_obj.sites.values_list("pk", flat=True))
    if site_ids:
        households = households.filter(current_site_id__in=site_ids)
    if round_obj.living == Living.HOME:
        households = households.filter(current_site__isnull=True)
    elif round_obj.living == Living.CAMP:
        households = households.filter(current_site__isnull=False)
    if round_obj.elevation_bands:
        households = households.filter(elevation_band__in=round_obj.elevation_bands)
    if round_obj.house_damage:
        households = households.filter(house_damage__in=round_obj.house_damage)
    if round_obj.vulnerabilities:
        flags = {
            Vulnerability.FEMALE_HEADED: Q(head_sex=Sex.FEMALE),
            Vulnerability.ELDERLY_HEADED: Q(elderly_headed=True),
            Vulnerability.DISABLED_MEMBER: Q(disabled_member=True),
            Vulnerability.LANDLESS: Q(landless=True),
            Vulnerability.OTHER: ~Q(other_vulnerability=""),
        }
        condition = Q()
        for name in round_obj.vulnerabilities:
            condition |= flags[Vulnerability(name)]
        households = households.filter(condition)
    earlier = list(round_obj.not_served_in.values_list("pk", flat=True))
    if earlier:
        served = Handover.objects.filter(round_id__in=earlier).values("household_id")
        households = households.exclude(pk__in=served)
    return households


def entitled_quantities(package: Sequence[PackageLine], members: int) -> dict[int, int]:
    """What a household of `members` people receives, by item id."""
    return {line.item_id: line.quantity_for(members) for line in package}


def delivered_by_handover(handover_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """What each handover gave so far (its records), by handover and item."""
    totals: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        HandoverLine.objects.filter(delivery__handover_id__in=list(handover_ids))
        .values("delivery__handover_id", "item_id")
        .annotate(total=Sum("quantity"))
    )
    for row in rows:
        totals[row["delivery__handover_id"]][row["item_id"]] += row["total"]
    return totals


@dataclass(frozen=True)
class ListRow:
    """One household on a distribution list: names and card token, what it is due and has had."""

    entitlement: Entitlement
    household: Household
    card_token: str
    entitled: dict[int, int]
    delivered: dict[int, int]

    @property
    def status(self) -> str:
        if not any(self.delivered.values()):
            return "to serve"
        if all(self.delivered.get(item, 0) >= quantity for item, quantity in self.entitled.items()):
            return "served"
        return "partly served"


def distribution_list(round_obj: DistributionRound, *, point_ids: set[int] | None = None) -> list[ListRow]:
    """The round's households at the given points (None: all) with their due and delivered items.

    Personal data (names and card tokens): the caller checks VIEW_DISTRIBUTION_LISTS and records
    the view.
    """
    entitlements = (
        Entitlement.objects.filter(round=round_obj, cancelled_at__isnull=True)
        .select_related("household", "point")
        .order_by("point__name", "household__origin_village", "household__head_name", "pk")
    )
    if point_ids is not None:
        entitlements = entitlements.filter(point_id__in=point_ids)
    rows = list(entitlements)
    package = list(round_obj.package.all())
    household_ids = [e.household_id for e in rows]
    tokens = dict(
        HouseholdCard.objects.filter(household_id__in=household_ids, voided_at__isnull=True).values_list(
            "household_id", "token"
        )
    )
    handovers = dict(
        Handover.objects.filter(
            round=round_obj, household_id__in=household_ids, double_receipt=False
        ).values_list("household_id", "pk")
    )
    delivered = delivered_by_handover(handovers.values())
    return [
        ListRow(
            entitlement=e,
            household=e.household,
            card_token=tokens.get(e.household_id, ""),
            entitled=entitled_quantities(package, e.members),
            delivered=dict(delivered.get(handovers.get(e.household_id, 0), {})),
        )
        for e in rows
    ]


@dataclass
class ItemFigures:
    item_id: int
    item_code: str
    item_name: str
    entitled: int = 0
    handed_over: int = 0
    stock_moved: int = 0
    shortfall: int = 0


@dataclass
class Reconciliation:
    """A round's figures: who was due, who was served, what moved in the ledger, what is owed."""

    round: DistributionRound
    entitled_households: int = 0
    served_households: int = 0
    partly_served_households: int = 0
    unserved_households: int = 0
    by_point: list[dict[str, Any]] = field(default_factory=list)
    items: list[ItemFigures] = field(default_factory=list)
    double_receipts: list[Handover] = field(default_factory=list)

    @property
    def agrees_with_ledger(self) -> bool:
        return all(item.handed_over == item.stock_moved for item in self.items)


def round_reconciliation(round_obj: DistributionRound) -> Reconciliation:
    """Entitled, handed over, stock moved (the ledger), shortfall and double receipts of a round."""
    result = Reconciliation(round=round_obj)
    package = list(round_obj.package.select_related("item"))
    items = {line.item_id: ItemFigures(line.item_id, line.item.code, line.item.name) for line in package}
    entitlements = list(
        Entitlement.objects.filter(round=round_obj, cancelled_at__isnull=True).values_list(
            "household_id", "members", "point_id", "point__name"
        )
    )
    handovers = dict(
        Handover.objects.filter(round=round_obj, double_receipt=False).values_list("household_id", "pk")
    )
    delivered = delivered_by_handover(Handover.objects.filter(round=round_obj).values_list("pk", flat=True))
    points: dict[int, dict[str, Any]] = {}
    for household_id, members, point_id, point_name in entitlements:
        due = entitled_quantities(package, members)
        got = delivered.get(handovers.get(household_id, 0), {})
        point = points.setdefault(
            point_id, {"point_id": point_id, "point": point_name, "entitled": 0, "served": 0, "partly": 0}
        )
        point["entitled"] += 1
        result.entitled_households += 1
        for item_id, quantity in due.items():
            items[item_id].entitled += quantity
        if not any(got.values()):
            result.unserved_households += 1
            continue
        owed = {item_id: quantity - got.get(item_id, 0) for item_id, quantity in due.items()}
        if any(q > 0 for q in owed.values()):
            result.partly_served_households += 1
            point["partly"] += 1
            for item_id, quantity in owed.items():
                items[item_id].shortfall += max(quantity, 0)
        else:
            result.served_households += 1
            point["served"] += 1
    for per_item in delivered.values():
        for item_id, quantity in per_item.items():
            if item_id in items:
                items[item_id].handed_over += quantity
    moved = (
        MovementLine.objects.filter(
            movement__household_delivery__handover__round=round_obj, movement__reversed_by__isnull=True
        )
        .values("item_id")
        .annotate(total=Sum("quantity"))
    )
    for row in moved:
        if row["item_id"] in items:
            items[row["item_id"]].stock_moved += int(row["total"])
    result.items = list(items.values())
    result.by_point = sorted(points.values(), key=lambda p: p["point"])
    result.double_receipts = list(
        Handover.objects.filter(round=round_obj, double_receipt=True).select_related("point").order_by("pk")
    )
    return result


# --- counts (no personal data) --------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdCounts:
    active: int
    merged: int
    anonymised: int
    members: int
    female_headed: int
    in_camps: int
    by_district: list[dict[str, Any]]
    by_camp: list[dict[str, Any]]
    pending_pairs: int


def household_counts() -> HouseholdCounts:
    """How many households, members, female-headed, in camps, by district and camp: counts only."""
    active = Household.objects.filter(status=HouseholdStatus.ACTIVE)
    totals = active.aggregate(
        n=Count("pk"),
        members=Sum("size"),
        female=Count("pk", filter=Q(head_sex=Sex.FEMALE)),
        camps=Count("pk", filter=Q(current_site__isnull=False)),
    )
    by_district = list(
        active.values("origin_district__pcode", "origin_district__name")
        .annotate(households=Count("pk"), people=Sum("size"))
        .order_by("origin_district__name")
    )
    by_camp = list(
        active.filter(current_site__isnull=False)
        .values("current_site_id", "current_site__name")
        .annotate(households=Count("pk"), people=Sum("size"))
        .order_by("current_site__name")
    )
    return HouseholdCounts(
        active=totals["n"] or 0,
        merged=Household.objects.filter(status=HouseholdStatus.MERGED).count(),
        anonymised=Household.objects.filter(anonymised_at__isnull=False).count(),
        members=totals["members"] or 0,
        female_headed=totals["female"] or 0,
        in_camps=totals["camps"] or 0,
        by_district=by_district,
        by_camp=by_camp,
        pending_pairs=duplicate_queue().count(),
    )


def last_activity() -> QuerySet[Household]:
    """Households annotated with the day of their last delivery (for retention)."""
    return Household.objects.annotate(last_delivery=Max("handovers__deliveries__delivered_on"))


def rounds_with_counts() -> QuerySet[DistributionRound]:
    return DistributionRound.objects.annotate(
        listed=Count("entitlements", filter=Q(entitlements__cancelled_at__isnull=True), distinct=True),
        handed=Count("handovers", filter=Q(handovers__double_receipt=False), distinct=True),
    ).order_by("-starts_on", "code")


def handover_deliveries(handover: Handover) -> QuerySet[HandoverDelivery]:
    return handover.deliveries.select_related("movement").prefetch_related("lines__item").order_by("pk")


def households_listed_at(point_ids: set[int] | None, *, q: str = "") -> QuerySet[Household]:
    """The active households on the list of a round not yet closed at these points (None: at any
    point), with their valid card's token as `card_token`, by head's name.

    Names, villages and card tokens only: the search reads no identity number and no phone, so that
    it cannot tell whether a number is registered. The caller checks VIEW_DISTRIBUTION_LISTS.
    """
    listed = Entitlement.objects.filter(
        cancelled_at__isnull=True, round__status__in=[RoundStatus.PLANNED, RoundStatus.OPEN]
    )
    if point_ids is not None:
        listed = listed.filter(point_id__in=point_ids)
    token = HouseholdCard.objects.filter(household=OuterRef("pk"), voided_at__isnull=True).values("token")
    households = (
        matchable_households()
        .filter(pk__in=listed.values("household_id"))
        .select_related("origin_area")
        .annotate(card_token=Subquery(token[:1]))
        .order_by("head_name", "pk")
    )
    text = q.strip()
    if text:
        condition = (
            Q(head_name__icontains=text)
            | Q(father_or_husband_name__icontains=text)
            | Q(origin_village__icontains=text)
        )
        number = whole_id(ascii_digits(text))  # a number typed in Urdu digits (۱۰۷۶) too
        if number is not None:
            condition |= Q(pk=number)
        households = households.filter(condition)
    return households


# --- what planned rounds still owe, and whom a grant served (the dashboard and donor reports) ----


@dataclass(frozen=True)
class RoundNeed:
    """What one planned or open round still owes of one item to the households on its list."""

    round_id: int
    round_code: str
    round_name: str
    item_id: int
    entitled: int
    delivered: int

    @property
    def owed(self) -> int:
        return max(self.entitled - self.delivered, 0)


def rounds_outstanding(*, point_ids: set[int] | None = None) -> list[RoundNeed]:
    """Per planned or open round and item: entitled (listed households' packages), handed over so
    far, and so what is still owed. Counts, no personal data: listed households are grouped by
    their number of members, so the packages are worked out once per size, not per household."""
    rounds = {
        r.pk: r for r in DistributionRound.objects.filter(status__in=[RoundStatus.PLANNED, RoundStatus.OPEN])
    }
    if not rounds:
        return []
    listed = Entitlement.objects.filter(round_id__in=list(rounds), cancelled_at__isnull=True)
    handed = HandoverLine.objects.filter(
        delivery__handover__round_id__in=list(rounds), delivery__handover__double_receipt=False
    )
    if point_ids is not None:
        listed = listed.filter(point_id__in=point_ids)
        handed = handed.filter(delivery__handover__point_id__in=point_ids)
    packages: dict[int, list[PackageLine]] = defaultdict(list)
    for line in PackageLine.objects.filter(round_id__in=list(rounds)):
        packages[line.round_id].append(line)
    entitled: dict[tuple[int, int], int] = defaultdict(int)
    for round_id, members, households in (
        listed.order_by().values_list("round_id", "members").annotate(n=Count("pk"))
    ):
        for item_id, quantity in entitled_quantities(packages[round_id], members).items():
            entitled[(round_id, item_id)] += quantity * households
    delivered: dict[tuple[int, int], int] = defaultdict(int)
    for round_id, item_id, total in (
        handed.order_by()
        .values_list("delivery__handover__round_id", "item_id")
        .annotate(total=Sum("quantity"))
    ):
        delivered[(round_id, item_id)] += int(total)
    return [
        RoundNeed(
            round_id=round_id,
            round_code=rounds[round_id].code,
            round_name=rounds[round_id].name,
            item_id=item_id,
            entitled=entitled.get((round_id, item_id), 0),
            delivered=delivered.get((round_id, item_id), 0),
        )
        for round_id, item_id in sorted(set(entitled) | set(delivered))
    ]


@dataclass(frozen=True)
class GrantHouseholds:
    """How many households received goods of a grant through card handovers, in all and per point."""

    total: int
    by_point: dict[int, int]


def households_served_by_grant(grant_id: int) -> GrantHouseholds:
    """Distinct households whose handovers moved stock of the grant (double receipts left out)."""
    deliveries = HandoverDelivery.objects.filter(
        movement__lines__grant_id=grant_id,
        movement__reversed_by__isnull=True,
        handover__double_receipt=False,
    )
    by_point = dict(
        deliveries.order_by()
        .values_list("handover__point_id")
        .annotate(n=Count("handover__household_id", distinct=True))
    )
    total = deliveries.aggregate(n=Count("handover__household_id", distinct=True))["n"] or 0
    return GrantHouseholds(total=total, by_point={int(k): int(v) for k, v in by_point.items()})
