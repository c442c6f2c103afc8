"""Distribution rounds: planning one, making its distribution list, opening and closing it, and
the household cards handed out with the list."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from reliefops.catalog.models import Item
from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem
from reliefops.core.services import audit_record, stored_user
from reliefops.core.tabular import INTEGER_MAX
from reliefops.core.text import counted, day_text, moment_text
from reliefops.households.cards import new_token, printed
from reliefops.households.keys import fitted_key
from reliefops.households.models import (
    CARD_REASON_MAX,
    DistributionRound,
    ElevationBand,
    Entitlement,
    Handover,
    HouseDamage,
    Household,
    HouseholdCard,
    HouseholdStatus,
    Living,
    PackageLine,
    RoundPoint,
    RoundStatus,
    Vulnerability,
)
from reliefops.households.origins import AreaTree
from reliefops.households.selectors import eligible_households
from reliefops.places.models import AdminArea, Site

NAME_MAX = 160  # a round's name (the column's length)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_/.-]{0,31}$")


@dataclass(frozen=True)
class PackageInput:
    """An item of the package: so many per household plus so many per member, at most `at_most`."""

    item_id: int
    per_household: int = 0
    per_member: int = 0
    at_most: int | None = None


@dataclass(frozen=True)
class PointInput:
    """A distribution point of the round; it serves the households of `serves_area_id` (default:
    the point's own admin area) and of every area below it."""

    site_id: int
    serves_area_id: int | None = None


@dataclass(frozen=True)
class RoundInput:
    """A round as it is planned: its code and name, period, points and package, and who is eligible
    (every condition given holds: areas of origin, camps, living, elevation, vulnerabilities, house
    damage, not served in earlier rounds). What `round_check` checks and `round_plan` plans."""

    code: str
    name: str
    starts_on: dt.date
    ends_on: dt.date
    points: Sequence[PointInput]
    package: Sequence[PackageInput]
    area_ids: Sequence[int] = ()
    site_ids: Sequence[int] = ()
    living: str = Living.ANY
    elevation_bands: Sequence[str] = ()
    vulnerabilities: Sequence[str] = ()
    house_damage: Sequence[str] = ()
    not_served_in_ids: Sequence[int] = ()


def _whole(value: object, field: str, row: int | None, problems: list[Problem], *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(Problem(row, field, f"a whole number of {minimum} or more, not {value!r}"))
        return 0
    if value > INTEGER_MAX:
        problems.append(Problem(row, field, f"{value} is out of range: at most {INTEGER_MAX:,}"))
        return 0
    return value


def _check_round(planned: RoundInput) -> tuple[list[Problem], dict[int, Site]]:
    code, name, points, package = planned.code, planned.name, planned.points, planned.package
    problems: list[Problem] = []
    if not _CODE.match(code):
        problems.append(
            Problem(
                None, "code", "1 to 32 letters, digits, '-', '_', '/' or '.', starting with a letter or digit"
            )
        )
    elif DistributionRound.objects.filter(code=code).exists():
        problems.append(Problem(None, "code", f"round {code} exists already"))
    if not name.strip():
        problems.append(Problem(None, "name", "required"))
    elif len(name.strip()) > NAME_MAX:
        problems.append(Problem(None, "name", f"at most {NAME_MAX} characters"))
    if planned.ends_on < planned.starts_on:
        problems.append(Problem(None, "ends_on", "the round ends before it starts"))
    sites = {site.pk: site for site in Site.objects.filter(pk__in=[p.site_id for p in points])}
    if not points:
        problems.append(Problem(None, "points", "name at least one distribution point"))
    seen_sites: set[int] = set()
    for row, point in enumerate(points, start=1):
        site = sites.get(point.site_id)
        if site is None:
            problems.append(Problem(row, "points", f"no site {point.site_id}"))
        elif not site.holds_stock or not site.is_active:
            problems.append(Problem(row, "points", f"{site.name} is not an open site that holds stock"))
        elif site.pk in seen_sites:
            problems.append(Problem(row, "points", f"{site.name} is named twice"))
        seen_sites.add(point.site_id)
        if (
            point.serves_area_id is not None
            and not AdminArea.objects.filter(pk=point.serves_area_id).exists()
        ):
            problems.append(Problem(row, "serves_area", f"no admin area {point.serves_area_id}"))
    if not package:
        problems.append(Problem(None, "package", "name at least one item"))
    items = set(
        Item.objects.filter(pk__in=[line.item_id for line in package], is_active=True).values_list(
            "pk", flat=True
        )
    )
    seen_items: set[int] = set()
    for row, line in enumerate(package, start=1):
        if line.item_id not in items:
            problems.append(Problem(row, "item", f"no active item {line.item_id}"))
        elif line.item_id in seen_items:
            problems.append(Problem(row, "item", "the item is named twice"))
        seen_items.add(line.item_id)
        before = len(problems)
        per_household = _whole(line.per_household, "per_household", row, problems)
        per_member = _whole(line.per_member, "per_member", row, problems)
        if per_household == 0 and per_member == 0 and len(problems) == before:
            problems.append(Problem(row, "per_household", "give a quantity per household or per member"))
        if line.at_most is not None:
            _whole(line.at_most, "at_most", row, problems, minimum=1)
    for field, values, allowed in (
        ("elevation_bands", planned.elevation_bands, [b for b in ElevationBand.values if b]),
        ("vulnerabilities", planned.vulnerabilities, Vulnerability.values),
        ("house_damage", planned.house_damage, HouseDamage.values),
    ):
        for value in values:
            if value not in allowed:
                problems.append(Problem(None, field, f"{value!r} is not one of {', '.join(allowed)}"))
    if planned.living not in Living.values:
        problems.append(Problem(None, "living", f"one of {', '.join(Living.values)}"))
    return problems, sites


@dataclass(frozen=True)
class RoundPlanned:
    round: DistributionRound
    replayed: bool = False

    @property
    def message(self) -> str:
        if self.replayed:
            return f"Round {self.round.code} was already planned: nothing changed."
        return f"Round {self.round.code} planned. Make its distribution list next."


def round_check(*, round_input: RoundInput) -> list[Problem]:
    """Every problem of a round as `round_plan` would refuse it, writing nothing: a form whose
    other fields could not be read shows these beside its own, all at once."""
    problems, _, _ = _round_problems(replace(round_input, code=round_input.code.strip()))
    return problems


def _round_problems(
    planned: RoundInput,
) -> tuple[list[Problem], dict[int, Site], tuple[set[int], set[int], set[int]]]:
    problems, sites = _check_round(planned)
    area_ids, site_ids, not_served_in_ids = planned.area_ids, planned.site_ids, planned.not_served_in_ids
    areas = set(AdminArea.objects.filter(pk__in=area_ids).values_list("pk", flat=True))
    problems += [Problem(None, "areas", f"no admin area {a}") for a in area_ids if a not in areas]
    camps = set(Site.objects.filter(pk__in=site_ids).values_list("pk", flat=True))
    problems += [Problem(None, "sites", f"no site {s}") for s in site_ids if s not in camps]
    earlier = set(DistributionRound.objects.filter(pk__in=not_served_in_ids).values_list("pk", flat=True))
    problems += [
        Problem(None, "not_served_in", f"no round {r}") for r in not_served_in_ids if r not in earlier
    ]
    return problems, sites, (areas, camps, earlier)


def _planned_with(key: str | None, code: str) -> RoundPlanned | None:
    """The round a submission with this key planned, answered again; a key that planned another
    round is refused (the round asked for now would otherwise go unplanned, unsaid)."""
    if not key:
        return None
    done = DistributionRound.objects.filter(idempotency_key=key).first()
    if done is None:
        return None
    if done.code != code:
        raise Conflict(
            f"this idempotency key was used to plan round {done.code}; send a new key to plan round {code}"
        )
    return RoundPlanned(done, replayed=True)


def round_create(*, actor: Any, note: str = "", **round_fields: Any) -> DistributionRound:
    """Plan a round (see `round_plan`) from the fields of its `RoundInput` given as keywords, and
    return it: for scripts and scenarios that write a round out in full."""
    return round_plan(actor=actor, round_input=RoundInput(**round_fields), note=note).round


def round_plan(
    *,
    actor: Any,
    round_input: RoundInput,
    note: str = "",
    caller_problems: Sequence[Problem] = (),
    idempotency_key: str | None = None,
) -> RoundPlanned:
    """Plan a round: its period, points, package and who is eligible (every condition given holds).

    `caller_problems`: what the entry point found wrong in the request (a site, area, item or round
    it could not find by name), refused together with every problem of the round (see `_refuse`);
    a point or package line whose name was not found is passed with an id of 0, so that the rows
    keep their numbers and the line's other values are checked. A submission repeated with its
    `idempotency_key` (a double click, a retried request) answers the round it planned, changing
    nothing, instead of refusing its code as taken."""
    planned = replace(round_input, code=round_input.code.strip())
    code, points, package = planned.code, planned.points, planned.package
    starts_on, ends_on = planned.starts_on, planned.ends_on
    key = fitted_key(idempotency_key)
    if (done := _planned_with(key, code)) is not None:
        return done
    try:
        with transaction.atomic():
            problems, sites, (areas, camps, earlier) = _round_problems(planned)
            _refuse(problems, caller_problems)
            round_obj = DistributionRound.objects.create(
                code=code,
                name=planned.name.strip(),
                starts_on=starts_on,
                ends_on=ends_on,
                living=planned.living,
                elevation_bands=sorted(set(planned.elevation_bands)),
                vulnerabilities=sorted(set(planned.vulnerabilities)),
                house_damage=sorted(set(planned.house_damage)),
                created_by=stored_user(actor),
                note=note,
                idempotency_key=key or None,
            )
            round_obj.areas.set(areas)
            round_obj.sites.set(camps)
            round_obj.not_served_in.set(earlier)
            RoundPoint.objects.bulk_create(
                [
                    RoundPoint(
                        round=round_obj,
                        site_id=p.site_id,
                        serves_area_id=p.serves_area_id or sites[p.site_id].admin_area_id,
                    )
                    for p in points
                ]
            )
            PackageLine.objects.bulk_create(
                [
                    PackageLine(
                        round=round_obj,
                        item_id=line.item_id,
                        per_household=line.per_household,
                        per_member=line.per_member,
                        at_most=line.at_most,
                    )
                    for line in package
                ]
            )
            audit_record(
                actor=actor,
                action="round.create",
                object_type="distribution_round",
                object_id=round_obj.pk,
                after={
                    "code": code,
                    "period": [starts_on.isoformat(), ends_on.isoformat()],
                    "points": [p.site_id for p in points],
                    "package": [
                        [line.item_id, line.per_household, line.per_member, line.at_most] for line in package
                    ],
                },
            )
    except (InvalidInput, IntegrityError) as exc:
        # The same submission sent twice at once: the first, committed meanwhile, holds the code
        # (refused above as taken) or the key (refused by the database).
        if (done := _planned_with(key, code)) is not None:
            return done
        if isinstance(exc, IntegrityError):
            raise Conflict(f"round {code} was planned by someone else at the same moment") from exc
        raise
    return RoundPlanned(round_obj)


# The entry points name a point's or a package line's fields as the request does; the problem of
# the id the caller could not give (0: "no site 0") is the caller's of the same row.
_CALLERS_FIELD = {"points.site": "points", "points.serves": "serves_area", "package.item": "item"}
_PACKAGE_FIELDS = {"package.item", "item", "per_household", "per_member", "at_most"}


def _refuse(problems: Sequence[Problem], caller_problems: Sequence[Problem]) -> None:
    """Refuse a round with every problem of its request at once (nothing is written): the caller's
    (names it could not find) and the round's own: the request's first, then the points row by row,
    then the package's. The round's problem of a row and field the caller named already is left out."""
    named = {(p.row, _CALLERS_FIELD.get(p.field, p.field)) for p in caller_problems}
    every = [*caller_problems, *(p for p in problems if (p.row, p.field) not in named)]
    if every:
        raise InvalidInput(
            sorted(every, key=lambda p: (p.row is not None, p.field in _PACKAGE_FIELDS, p.row or 0))
        )


@dataclass(frozen=True)
class ListResult:
    round: DistributionRound
    added: int
    already_listed: int
    without_point: int
    taken_off: int = 0  # eligible, but taken off the list by hand: not listed again

    @property
    def message(self) -> str:
        listed = "was" if self.already_listed == 1 else "were"
        text = (
            f"{counted(self.added, 'household')} added to the list of {self.round.code}; "
            f"{self.already_listed:,} {listed} listed already"
        )
        if self.without_point:
            live = "lives" if self.without_point == 1 else "live"
            text += (
                f"; {counted(self.without_point, 'eligible household')} {live} where no point of the "
                "round serves"
            )
        if self.taken_off:
            were = "was" if self.taken_off == 1 else "were"
            taken = counted(self.taken_off, "eligible household")
            text += f"; {taken} {were} taken off the list before: not listed again"
        return text + "."


def _past_moment(value: dt.datetime, field: str) -> dt.datetime:
    """A moment given for a past operation: aware (a naive one is read in the operation's time
    zone), and not in the future."""
    moment = timezone.make_aware(value) if timezone.is_naive(value) else value
    if moment > timezone.now():
        raise InvalidInput([Problem(None, field, f"{moment_text(moment)} is in the future")])
    return moment


def round_make_list(*, actor: Any, round_id: int, listed_at: dt.datetime | None = None) -> ListResult:
    """List the round's eligible households, each at the point that serves its place (its camp, or
    its area of origin). Run again, it adds newly eligible households and removes nobody.

    `listed_at`: when the list was made, for a scenario or an import that records a past
    operation; now otherwise. It may not be in the future, nor before the list was last made."""
    made_at = _past_moment(listed_at, "listed_at") if listed_at is not None else None
    with transaction.atomic():
        round_obj = DistributionRound.objects.select_for_update().filter(pk=round_id).first()
        if round_obj is None:
            raise NotFound(f"no distribution round {round_id}")
        if round_obj.status == RoundStatus.CLOSED:
            raise Conflict(f"round {round_obj.code} is closed")
        if made_at is not None and round_obj.listed_at is not None and made_at < round_obj.listed_at:
            raise InvalidInput(
                [
                    Problem(
                        None,
                        "listed_at",
                        f"the list of {round_obj.code} was last made on {moment_text(round_obj.listed_at)}: "
                        "it cannot be made again before that",
                    )
                ]
            )
        tree = AreaTree.load()
        points = list(round_obj.points.values_list("site_id", "serves_area_id"))
        listed = set(
            Entitlement.objects.filter(round=round_obj, cancelled_at__isnull=True).values_list(
                "household_id", flat=True
            )
        )
        # Households a manager took off the list (or whose place a merge cancelled) are not listed
        # again by the next making of the list.
        taken_off = set(
            Entitlement.objects.filter(round=round_obj, cancelled_at__isnull=False).values_list(
                "household_id", flat=True
            )
        )
        new: list[Entitlement] = []
        without_point = 0
        already = 0
        skipped = 0
        rows = eligible_households(round_obj, tree=tree).values_list(
            "pk", "size", "origin_area_id", "current_site__admin_area_id"
        )
        for household_id, size, origin_id, camp_area_id in rows.iterator(chunk_size=5_000):
            if household_id in listed:
                already += 1
                continue
            if household_id in taken_off:
                skipped += 1
                continue
            point = tree.serving_point(camp_area_id or origin_id, points)
            if point is None:
                without_point += 1
                continue
            new.append(Entitlement(round=round_obj, household_id=household_id, point_id=point, members=size))
        Entitlement.objects.bulk_create(new, batch_size=2_000)
        round_obj.listed_at = made_at or timezone.now()
        round_obj.save(update_fields=["listed_at"])
        audit_record(
            actor=actor,
            action="round.list",
            object_type="distribution_round",
            object_id=round_obj.pk,
            after={
                "added": len(new),
                "already_listed": already,
                "without_point": without_point,
                "taken_off": skipped,
            },
        )
    return ListResult(round_obj, len(new), already, without_point, skipped)


UNLIST_REASON_MAX = 200  # the entitlement's column


@dataclass(frozen=True)
class Unlisted:
    round: DistributionRound
    household_id: int
    entitlement: Entitlement
    replayed: bool = False

    @property
    def message(self) -> str:
        code, household = self.round.code, self.household_id
        if self.replayed:
            when = (
                day_text(timezone.localtime(self.entitlement.cancelled_at))
                if self.entitlement.cancelled_at
                else ""
            )
            return (
                f"Household {household} was taken off the list of {code} on {when} already: nothing changed."
            )
        return (
            f"Household {household} was taken off the list of {code}: it is not served in this round, "
            "and the list, made again, does not add it back."
        )


def entitlement_cancel(*, actor: Any, round_id: int, household_id: int, reason: str) -> Unlisted:
    """Take a household off a round's distribution list, with the reason (a correction took it out
    of the round's conditions, say): refused for a household served in the round, whose handover
    stays recorded, and in a closed round, whose list no longer changes. Asked again, it changes
    nothing and says so."""
    why = " ".join(reason.split())
    if not why:
        raise InvalidInput([Problem(None, "reason", "say why the household is taken off the list")])
    if len(why) > UNLIST_REASON_MAX:
        raise InvalidInput([Problem(None, "reason", f"at most {UNLIST_REASON_MAX} characters")])
    with transaction.atomic():
        round_obj = DistributionRound.objects.select_for_update().filter(pk=round_id).first()
        if round_obj is None:
            raise NotFound(f"no distribution round {round_id}")
        # Locked as a handover locks it: a handover and a removal of one household take turns.
        entitlement = (
            Entitlement.objects.select_for_update()
            .filter(round=round_obj, household_id=household_id, cancelled_at__isnull=True)
            .first()
        )
        if entitlement is None:
            before = (
                Entitlement.objects.filter(round=round_obj, household_id=household_id)
                .order_by("-cancelled_at", "-pk")
                .first()
            )
            if before is not None:
                return Unlisted(round_obj, household_id, before, replayed=True)
            raise Conflict(f"household {household_id} is not on the list of round {round_obj.code}")
        if round_obj.status == RoundStatus.CLOSED:
            raise Conflict(f"round {round_obj.code} is closed: its list no longer changes")
        handover = (
            Handover.objects.filter(round=round_obj, household_id=household_id)
            .prefetch_related("deliveries")
            .order_by("pk")
            .first()
        )
        if handover is not None:
            first = min((d.delivered_on for d in handover.deliveries.all()), default=None)
            when = f" on {day_text(first)}" if first else ""
            raise Conflict(
                f"household {household_id} received its package of round {round_obj.code}{when}: it stays "
                "on the list, with its handover"
            )
        entitlement.cancelled_at = timezone.now()
        entitlement.cancel_reason = why
        entitlement.save(update_fields=["cancelled_at", "cancel_reason"])
        audit_record(
            actor=actor,
            action="round.unlist",
            object_type="distribution_round",
            object_id=round_obj.pk,
            after={"household": household_id, "entitlement": entitlement.pk, "reason": why},
        )
    return Unlisted(round_obj, household_id, entitlement)


_NEXT = {
    RoundStatus.PLANNED: {RoundStatus.OPEN},
    RoundStatus.OPEN: {RoundStatus.CLOSED},
    RoundStatus.CLOSED: set(),
}


@dataclass(frozen=True)
class StatusChanged:
    round: DistributionRound
    changed: bool = True

    @property
    def message(self) -> str:
        code = self.round.code
        if self.changed:
            if self.round.status == RoundStatus.CLOSED:
                return f"Round {code} is closed: it takes no more handovers, and its list no longer changes."
            return f"Round {code} is {self.round.get_status_display().lower()}."
        if self.round.status == RoundStatus.CLOSED:
            when = f" on {moment_text(self.round.closed_at)}" if self.round.closed_at else ""
            return f"Round {code} was already closed{when}: nothing changed."
        return f"Round {code} is {self.round.get_status_display().lower()} already: nothing changed."


def round_set_status(
    *, actor: Any, round_id: int, status: str, closed_at: dt.datetime | None = None
) -> DistributionRound:
    """Open or close a round (see `round_status_change`) and return it."""
    return round_status_change(actor=actor, round_id=round_id, status=status, closed_at=closed_at).round


def round_status_change(
    *, actor: Any, round_id: int, status: str, closed_at: dt.datetime | None = None
) -> StatusChanged:
    """Open a listed round for handovers, or close it (closing is final). Asked again (a second
    click, a retried request), it changes nothing and says so.

    `closed_at`: when the round was closed, for a scenario or an import that records a past
    operation; now otherwise. It may not be in the future, nor before the round's list was made."""
    if closed_at is not None and status != RoundStatus.CLOSED:
        raise InvalidInput([Problem(None, "closed_at", "only given when the round is closed")])
    closing_at = _past_moment(closed_at, "closed_at") if closed_at is not None else None
    with transaction.atomic():
        round_obj = DistributionRound.objects.select_for_update().filter(pk=round_id).first()
        if round_obj is None:
            raise NotFound(f"no distribution round {round_id}")
        if status not in RoundStatus.values:
            raise InvalidInput([Problem(None, "status", f"one of {', '.join(RoundStatus.values)}")])
        if round_obj.status == status:
            return StatusChanged(round_obj, changed=False)
        if status not in _NEXT[RoundStatus(round_obj.status)]:
            raise Conflict(
                f"round {round_obj.code} is {round_obj.get_status_display().lower()}; "
                f"it cannot become {status}"
            )
        if status == RoundStatus.OPEN and round_obj.listed_at is None:
            raise Conflict(f"make the distribution list of {round_obj.code} before opening it")
        if closing_at is not None and round_obj.listed_at is not None and closing_at < round_obj.listed_at:
            raise InvalidInput(
                [
                    Problem(
                        None,
                        "closed_at",
                        f"{moment_text(closing_at)} is before the list of {round_obj.code} was made "
                        f"({moment_text(round_obj.listed_at)})",
                    )
                ]
            )
        before = round_obj.status
        round_obj.status = status
        fields = ["status"]
        if status == RoundStatus.CLOSED:
            round_obj.closed_at = closing_at or timezone.now()
            fields.append("closed_at")
        round_obj.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="round.status",
            object_type="distribution_round",
            object_id=round_obj.pk,
            before={"status": before},
            after={"status": status},
        )
    return StatusChanged(round_obj)


def _new_card(household_id: int, actor: Any, idempotency_key: str | None = None) -> HouseholdCard:
    for _ in range(5):
        try:
            with transaction.atomic():
                return HouseholdCard.objects.create(
                    household_id=household_id,
                    token=new_token(),
                    issued_by=stored_user(actor),
                    idempotency_key=idempotency_key,
                )
        except IntegrityError:
            if HouseholdCard.objects.filter(household_id=household_id, voided_at__isnull=True).exists():
                raise
            if idempotency_key and HouseholdCard.objects.filter(idempotency_key=idempotency_key).exists():
                raise
    raise Conflict("could not draw an unused card token; try again")  # pragma: no cover - 1 in 2^45


def cards_issue(*, actor: Any, round_id: int) -> int:
    """Give a card to every household on the round's list that holds no valid card; returns how many."""
    with transaction.atomic():
        round_obj = DistributionRound.objects.filter(pk=round_id).first()
        if round_obj is None:
            raise NotFound(f"no distribution round {round_id}")
        if round_obj.status == RoundStatus.CLOSED:
            raise Conflict(f"round {round_obj.code} is closed: it issues no more cards")
        listed = Entitlement.objects.filter(round=round_obj, cancelled_at__isnull=True).values("household_id")
        without = list(
            Household.objects.filter(pk__in=listed, status=HouseholdStatus.ACTIVE)
            .exclude(pk__in=HouseholdCard.objects.filter(voided_at__isnull=True).values("household_id"))
            .values_list("pk", flat=True)
        )
        for household_id in without:
            _new_card(household_id, actor)
        audit_record(
            actor=actor,
            action="round.cards_issue",
            object_type="distribution_round",
            object_id=round_obj.pk,
            after={"cards": len(without)},
        )
    return len(without)


@dataclass(frozen=True)
class CardReissued:
    card: HouseholdCard
    replayed: bool = False
    replaced: bool = True  # False for a household's first card: there is no old one to stop

    @property
    def message(self) -> str:
        token = printed(self.card.token)
        if self.replayed:
            return f"Card {token} was already issued for this request: nothing changed."
        if not self.replaced:
            return f"Card {token} issued: the household's first card."
        return f"New card {token} issued; the old one no longer works."


def _card_replayed(household_id: int, key: str) -> CardReissued | None:
    """The card issued before with this key, or None; a key used for another household is refused."""
    card = HouseholdCard.objects.filter(idempotency_key=key).first()
    if card is None:
        return None
    if card.household_id != household_id:
        raise Conflict(
            f"this idempotency key was used for a card of household {card.household_id}; "
            "send a new key for each card"
        )
    return CardReissued(card, replayed=True)


def card_reissue(
    *, actor: Any, household_id: int, reason: str, idempotency_key: str | None = None
) -> CardReissued:
    """A new card for a household (a lost or damaged one): the old token stops working at once.

    A repeated key (a double click, a retried request) answers the card issued the first time."""
    key = fitted_key(idempotency_key)
    if key and (done := _card_replayed(household_id, key)) is not None:
        return done
    why = reason.strip()
    if not why:
        raise InvalidInput([Problem(None, "reason", "say why the card is replaced (lost, damaged, ...)")])
    if len(why) > CARD_REASON_MAX:
        raise InvalidInput([Problem(None, "reason", f"at most {CARD_REASON_MAX} characters")])
    try:
        with transaction.atomic():
            household = Household.objects.select_for_update().filter(pk=household_id).first()
            if household is None:
                raise NotFound(f"no household {household_id}")
            # The first of two submissions with one key may have committed while this one waited.
            if key and (done := _card_replayed(household.pk, key)) is not None:
                return done
            if household.status != HouseholdStatus.ACTIVE:
                raise Conflict(
                    f"household {household.pk} was merged into {household.merged_into_id}: "
                    "give its card to that one"
                )
            if household.anonymised_at is not None:
                raise Conflict(f"household {household.pk} is anonymised")
            voided = list(
                HouseholdCard.objects.filter(household=household, voided_at__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            HouseholdCard.objects.filter(pk__in=voided).update(voided_at=timezone.now(), void_reason=why)
            card = _new_card(household.pk, actor, key)
            audit_record(
                actor=actor,
                action="household.card_reissue",
                object_type="household",
                object_id=household.pk,
                after={"card": card.pk, "voided": voided, "reason": why},
            )
    except IntegrityError:
        if key and (done := _card_replayed(household_id, key)) is not None:
            return done
        raise
    return CardReissued(card, replaced=bool(voided))
