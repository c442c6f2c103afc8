"""Handing a round's package to a household: once per household and round, through the ledger.

A handover finds the household by its card token (or by id, after a search), checks that the round
is open and the household is listed at this point and still owed something, takes what the point
holds, and posts one movement point -> beneficiaries through the stock service. When the point
holds less than is owed, a partial handover (asked for explicitly) gives what there is and records
the shortfall; a later handover in the same round makes it up, never beyond the entitlement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from reliefops.catalog.models import Item
from reliefops.core.access import distribution_list_point_ids
from reliefops.core.errors import AccessDenied, Conflict, InvalidInput, NotFound, Problem, ServiceError
from reliefops.core.models import AuditEvent
from reliefops.core.services import audit_record, stored_user
from reliefops.core.text import day_text
from reliefops.households.cards import normalise_token, printed, token_problem
from reliefops.households.cells import too_long
from reliefops.households.keys import fitted_key
from reliefops.households.models import (
    DistributionRound,
    Entitlement,
    Handover,
    HandoverDelivery,
    HandoverLine,
    Household,
    HouseholdCard,
    HouseholdStatus,
    RoundStatus,
)
from reliefops.households.selectors import delivered_by_handover, entitled_quantities
from reliefops.places.models import Site
from reliefops.stock.selectors import available_from
from reliefops.stock.services import StockLine, stock_distribute
from reliefops.stock.services.ledger import not_after_today

COLLECTED_BY_MAX = 120
COLLECTOR = "the name of who collected"  # as a refusal of its length names it


class HandoverRefused(ServiceError):
    """A handover that breaks a rule; nothing was posted or recorded. The message says why."""

    status = 409

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field  # the input refused ("card", "handed_on"), when one is


@dataclass(frozen=True)
class HandoverResult:
    handover: Handover
    delivery: HandoverDelivery
    given: dict[str, int] = field(default_factory=dict)
    shortfall: dict[str, int] = field(default_factory=dict)
    replayed: bool = False

    @property
    def message(self) -> str:
        if self.replayed:
            return (
                f"Already recorded as handover {self.handover.pk} (movement #{self.delivery.movement_id}): "
                "nothing changed."
            )
        given = ", ".join(f"{q} {code}" for code, q in sorted(self.given.items()))
        household, movement = self.handover.household_id, self.delivery.movement_id
        text = f"Handed over {given} to household {household} (movement #{movement})."
        if self.shortfall:
            owed = ", ".join(f"{q} {code}" for code, q in sorted(self.shortfall.items()))
            text += f" Still owed: {owed}; complete the handover when stock arrives."
        return text


def _by_grant(give: dict[int, int], available: dict[int, list[tuple[int, int]]]) -> list[StockLine]:
    """The lines that take what is given from the grants that can give it on the day, oldest stock
    first: the ledger's own first-in-first-out reads today's balances, which may be of grants that
    arrived after that day."""
    lines = []
    for item, quantity in sorted(give.items()):
        left = quantity
        for grant, can in available.get(item, []):
            part = min(can, left)
            if part > 0:
                lines.append(StockLine(item_id=item, quantity=part, grant_id=grant))
                left -= part
    return lines


def _household(card_token: str | None, household_id: int | None) -> tuple[Household, HouseholdCard | None]:
    """The household a handover is for, from its card token or its id."""
    card: HouseholdCard | None = None
    if card_token:
        token = normalise_token(card_token)
        if token is None:
            # A malformed value, not a conflict with the data: a 422 naming the field, as any bad
            # value. What was typed or scanned is not quoted back: a wrong code may be anyone's data.
            wrong = token_problem(card_token)
            raise InvalidInput(
                [Problem(None, "card", f"not a card token: {wrong}; scan the card or type its token again")]
            )
        card = HouseholdCard.objects.select_related("household").filter(token=token).first()
        if card is None:
            raise HandoverRefused(f"no household holds card {printed(token)}", field="card")
        if card.voided_at is not None:
            replaced = day_text(timezone.localtime(card.voided_at))
            # A merge's reason names the household kept; whoever scans is told only that there
            # was one (the kept household's card is the one to serve)
            reason = card.void_reason
            if reason.startswith("household merged into"):
                reason = "the household was registered twice, and its records were merged"
            raise HandoverRefused(
                f"card {printed(token)} was replaced on {replaced} ({reason}): "
                "it no longer works; ask for the household's new card or find the household by name",
                field="card",
            )
        household = card.household
        if household_id is not None and household_id != household.pk:
            raise HandoverRefused(
                f"card {printed(token)} belongs to another household than {household_id}", field="card"
            )
    elif household_id is not None:
        found = Household.objects.filter(pk=household_id).first()
        if found is None:
            raise NotFound(f"no household {household_id}")
        household = found
    else:
        raise InvalidInput(
            [Problem(None, "card", "give the household's card token, or find the household by name")]
        )
    if household.status == HouseholdStatus.MERGED:
        raise HandoverRefused(
            f"household {household.pk} was merged into household {household.merged_into_id}: serve that one"
        )
    return household, card


def _lists_seen(actor: Any) -> set[int] | None:
    """The distribution points whose lists the actor may see (None: every point; a loader acting
    without a user sees every point)."""
    if actor is None:
        return None
    try:
        return distribution_list_point_ids(actor)
    except AccessDenied:
        return set()


def _not_listed(
    actor: Any, round_obj: DistributionRound, household: Household, card: HouseholdCard | None
) -> HandoverRefused:
    """A household on no list of the round. Found by its card, it is named by its card to whoever
    may not see every point's list: its number is personal data of a household that is on none of
    their lists."""
    named = f"household {household.pk}"
    if card is not None and _lists_seen(actor) is not None:
        named = f"the household of card {printed(card.token)}"
    return HandoverRefused(
        f"{named} is not on the list of round {round_obj.code}: it is not eligible "
        "(or was registered after the list was made)"
    )


def _listed_elsewhere(
    actor: Any, entitlement: Entitlement, point: Site, household: Household, card: HouseholdCard | None
) -> HandoverRefused:
    """A household listed at another point than this one. Who may see that point's list hears the
    household and its point; anyone else hears only what the card itself shows, the point named on
    it, and never the household's number (a number typed in is not placed at any point for them)."""
    seen = _lists_seen(actor)
    if seen is None or entitlement.point_id in seen:
        return HandoverRefused(
            f"household {household.pk} collects at {entitlement.point.name}, not at {point.name}"
        )
    if card is not None:
        return HandoverRefused(
            f"card {printed(card.token)} is for another distribution point, {entitlement.point.name}, "
            f"not {point.name}: send the family to the point named on their card",
            field="card",
        )
    return HandoverRefused(
        f"household {household.pk} is not on the list of {point.name} in round {entitlement.round.code}: "
        "check the number, or ask for the household's card (it names the point where it collects)"
    )


def handover_record(
    *,
    actor: Any,
    round_id: int,
    point_site_id: int,
    collected_by: str,
    handed_on: dt.date,
    card_token: str | None = None,
    household_id: int | None = None,
    allow_partial: bool = False,
    idempotency_key: str | None = None,
) -> HandoverResult:
    """Hand a household what it is still owed of the round's package, posting one ledger movement.

    Refused, with nothing written, when the round is not open on that day, the household is not
    listed (not eligible), is listed at another point, was served in full already, or the point
    holds none of what is owed (or not all of it, unless a partial handover is asked for).
    """
    if idempotency_key:
        existing = (
            HandoverDelivery.objects.select_related("handover__round")
            .filter(idempotency_key=idempotency_key)
            .first()
        )
        if existing is not None:
            return _replayed(existing, round_id=round_id, card_token=card_token, household_id=household_id)
    who = " ".join(collected_by.split())
    if not who:
        raise InvalidInput(
            [Problem(None, "collected_by", "say who collected: the head, or the name of the relative")]
        )
    if len(who) > COLLECTED_BY_MAX:
        raise InvalidInput([Problem(None, "collected_by", too_long(COLLECTOR, COLLECTED_BY_MAX))])
    try:
        return _record(
            actor=actor,
            round_id=round_id,
            point_site_id=point_site_id,
            collected_by=who,
            handed_on=handed_on,
            card_token=card_token,
            household_id=household_id,
            allow_partial=allow_partial,
            idempotency_key=idempotency_key,
        )
    except (IntegrityError, ServiceError):
        # A repeat with the same key that raced this one and committed first.
        if idempotency_key:
            existing = (
                HandoverDelivery.objects.select_related("handover__round")
                .filter(idempotency_key=idempotency_key)
                .first()
            )
            if existing is not None:
                return _replayed(
                    existing, round_id=round_id, card_token=card_token, household_id=household_id
                )
        raise


def _asked_for(card_token: str | None, household_id: int | None) -> int | None:
    """The household a handover request names, by its id or its card (a replaced one too); None
    when the card is no household's."""
    if household_id is not None:
        return household_id
    token = normalise_token(card_token) if card_token else None
    if token is None:
        return None
    return HouseholdCard.objects.filter(token=token).values_list("household_id", flat=True).first()


def _replayed(
    delivery: HandoverDelivery, *, round_id: int, card_token: str | None, household_id: int | None
) -> HandoverResult:
    """The first answer of a repeated key: what that delivery gave (its lines, by item code) and
    what it left owed (as its audit event recorded it), with nothing posted now. A key that recorded
    a handover to another household, or in another round, is refused: taken as a repeat, the
    household asked for now would go unserved."""
    handover = delivery.handover
    asked = _asked_for(card_token, household_id)
    if asked not in {handover.household_id, handover.received_by_household_id}:
        raise Conflict(
            f"this idempotency key was used for a handover to household {handover.received_by_household_id}; "
            "send a new key"
        )
    if handover.round_id != round_id:
        raise Conflict(
            f"this idempotency key was used for a handover in round {handover.round.code}; send a new key"
        )
    given = dict(delivery.lines.order_by("item__code").values_list("item__code", "quantity"))
    recorded = (
        AuditEvent.objects.filter(
            action="household.handover",
            object_type="handover",
            object_id=str(delivery.handover_id),
            after__movement=delivery.movement_id,
        )
        .values_list("after", flat=True)
        .first()
    )
    shortfall = dict(recorded.get("shortfall", {})) if isinstance(recorded, dict) else {}
    return HandoverResult(delivery.handover, delivery, given=given, shortfall=shortfall, replayed=True)


def _record(
    *,
    actor: Any,
    round_id: int,
    point_site_id: int,
    collected_by: str,
    handed_on: dt.date,
    card_token: str | None,
    household_id: int | None,
    allow_partial: bool,
    idempotency_key: str | None,
) -> HandoverResult:
    with transaction.atomic():
        round_obj = DistributionRound.objects.filter(pk=round_id).first()
        if round_obj is None:
            raise NotFound(f"no distribution round {round_id}")
        if round_obj.status != RoundStatus.OPEN:
            raise HandoverRefused(
                f"round {round_obj.code} is {round_obj.get_status_display().lower()}, not open for handovers"
            )
        if later := not_after_today(handed_on, "handed_on"):
            raise HandoverRefused(
                f"{later[0].reason}: a handover is recorded on the day the household received it",
                field="handed_on",
            )
        if not round_obj.starts_on <= handed_on <= round_obj.ends_on:
            raise HandoverRefused(
                f"round {round_obj.code} runs from {day_text(round_obj.starts_on)} to "
                f"{day_text(round_obj.ends_on)}, not on {day_text(handed_on)}",
                field="handed_on",
            )
        point = Site.objects.filter(pk=point_site_id).first()
        if point is None:
            raise NotFound(f"no site {point_site_id}")
        if not round_obj.points.filter(site=point).exists():
            raise HandoverRefused(f"{point.name} is not a distribution point of round {round_obj.code}")
        household, card = _household(card_token, household_id)

        # The lock on the entitlement makes two simultaneous handovers to one household take turns.
        entitlement = (
            Entitlement.objects.select_for_update()
            .select_related("point")
            .filter(round=round_obj, household=household, cancelled_at__isnull=True)
            .first()
        )
        if entitlement is None:
            raise _not_listed(actor, round_obj, household, card)
        if entitlement.point_id != point.pk:
            raise _listed_elsewhere(actor, entitlement, point, household, card)
        package = list(round_obj.package.all())
        due = entitled_quantities(package, entitlement.members)
        handover = Handover.objects.filter(round=round_obj, household=household, double_receipt=False).first()
        delivered = delivered_by_handover([handover.pk]).get(handover.pk, {}) if handover else {}
        owed = {item: quantity - delivered.get(item, 0) for item, quantity in due.items()}
        owed = {item: quantity for item, quantity in owed.items() if quantity > 0}
        codes = dict(Item.objects.filter(pk__in=due).values_list("pk", "code"))
        if not owed:
            first = handover.deliveries.order_by("pk").first() if handover else None
            when = f" on {day_text(first.delivered_on)}" if first else ""
            raise HandoverRefused(
                f"household {household.pk} received its package of round {round_obj.code}{when} already"
            )
        # What the point can give on the handover's day: what it held then that no later day has
        # taken since (a handover entered from a paper list of weeks ago), by grant, oldest first.
        available = available_from(point.pk, owed, handed_on)
        held = {item: sum(quantity for _, quantity in parts) for item, parts in available.items()}
        give = {item: min(quantity, held.get(item, 0)) for item, quantity in owed.items()}
        give = {item: quantity for item, quantity in give.items() if quantity > 0}
        short = {item: quantity - give.get(item, 0) for item, quantity in owed.items()}
        short = {item: quantity for item, quantity in short.items() if quantity > 0}
        then = ""
        if handed_on < timezone.localdate():
            then = f" on {day_text(handed_on)} (what it held that day, less what later days took from it)"
        if not give:
            missing = ", ".join(f"{codes[i]} (needs {q})" for i, q in sorted(owed.items()))
            raise HandoverRefused(
                f"no stock: {point.name} holds none of what household {household.pk} is owed{then}: {missing}"
            )
        if short and not allow_partial:
            gaps = ", ".join(f"{held.get(i, 0)} of {owed[i]} {codes[i]}" for i in sorted(short))
            raise HandoverRefused(
                f"not enough stock for the whole package: {point.name} holds {gaps}{then}; record a "
                "partial handover to give what there is (the rest is kept as a shortfall to complete later)"
            )

        if handover is None:
            handover = Handover.objects.create(
                round=round_obj, household=household, received_by_household=household, point=point, card=card
            )
        posting = stock_distribute(
            actor=actor,
            site_id=point.pk,
            distributed_on=handed_on,
            reference=f"{round_obj.code}/H{household.pk}",
            note=f"household handover {handover.pk}",
            lines=_by_grant(give, available),
            # The caller's key is up to the whole column already: a digest when the prefix makes it longer.
            idempotency_key=fitted_key(idempotency_key, prefix="household-handover:"),
        )
        if posting.replayed:
            raise Conflict("the ledger already holds a posting with this key for another handover")
        delivery = HandoverDelivery.objects.create(
            handover=handover,
            movement=posting.movement,
            delivered_on=handed_on,
            collected_by=collected_by,
            recorded_by=stored_user(actor),
            idempotency_key=idempotency_key or None,
        )
        HandoverLine.objects.bulk_create(
            [
                HandoverLine(delivery=delivery, item_id=item, quantity=quantity)
                for item, quantity in sorted(give.items())
            ]
        )
        complete = not short
        if handover.is_complete != complete:
            handover.is_complete = complete
            handover.save(update_fields=["is_complete"])
        audit_record(
            actor=actor,
            action="household.handover",
            object_type="handover",
            object_id=handover.pk,
            after={
                "round": round_obj.code,
                "household": household.pk,
                "point": point.code,
                "movement": posting.movement.pk,
                "given": {codes[i]: q for i, q in give.items()},
                "shortfall": {codes[i]: q for i, q in short.items()},
                "by_card": card is not None,
            },
        )
    return HandoverResult(
        handover,
        delivery,
        given={codes[i]: q for i, q in give.items()},
        shortfall={codes[i]: q for i, q in short.items()},
    )
