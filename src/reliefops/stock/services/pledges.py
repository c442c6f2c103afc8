"""Pledges: stock a donor promised, in the pipeline until it is received, or cancelled when the donor
will not send it (or not the rest of it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from reliefops.core.access import access_stock_site, stock_visible_site_ids
from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem
from reliefops.core.roles import Right
from reliefops.core.services import audit_record
from reliefops.core.text import day_text, moment_text
from reliefops.partners.models import Grant
from reliefops.stock.models import REASON_MAX, REFERENCE_MAX, Movement, MovementKind, Pledge, PledgeStatus
from reliefops.stock.services.ledger import EARLIEST_DAY, plural, refuse, validate_quantity
from reliefops.stock.services.locations import site_location


def pledge_create(
    *,
    actor: Any,
    grant_id: int,
    item_id: int,
    quantity: int,
    destination_site_id: int,
    expected_on: dt.date,
    reference: str = "",
    idempotency_key: str | None = None,
    caller_problems: Sequence[Problem] = (),
) -> Pledge:
    """Record stock a donor promised: it is pipeline, not stock, until it is received.

    A donor's reference is one pledge of its grant: a second pledge of the grant with the same
    reference (whatever its case) is refused (409) before anything else is checked, as a posting's
    GRN is. A repeated idempotency key returns the first pledge, marked `replayed`, whatever the
    request says, as for every posting. `caller_problems`: see `refuse`.
    """
    if replayed := _pledge_replayed(idempotency_key):
        return replayed
    reference = " ".join(reference.split())
    try:
        return _pledge_insert(
            actor=actor,
            grant_id=grant_id,
            item_id=item_id,
            quantity=quantity,
            destination_site_id=destination_site_id,
            expected_on=expected_on,
            reference=reference,
            idempotency_key=idempotency_key,
            caller_problems=caller_problems,
        )
    except IntegrityError:
        # Two submissions with one key raced and the other committed first.
        if replayed := _pledge_replayed(idempotency_key):
            return replayed
        raise


def _pledge_replayed(idempotency_key: str | None) -> Pledge | None:
    """The pledge first recorded under this key, marked `replayed`; None for a new key."""
    if not idempotency_key:
        return None
    existing = Pledge.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        existing.replayed = True  # type: ignore[attr-defined]
    return existing


def reference_taken(grant: Grant, reference: str) -> Conflict | None:
    """The refusal of a donor's reference that a pledge of the grant already has, or None."""
    if not reference:
        return None
    pledge = Pledge.objects.filter(grant=grant, reference__iexact=reference).order_by("pk").first()
    if pledge is None:
        return None
    cancelled = " (cancelled)" if pledge.status == PledgeStatus.CANCELLED else ""
    return Conflict(f"pledge {pledge.pk}{cancelled} already has the reference {pledge.reference}")


def expected_problems(grant: Grant | None, expected_on: dt.date, field: str = "expected_on") -> list[Problem]:
    """A pledge's expected day before any day the system takes, or before its grant began."""
    if not isinstance(expected_on, dt.date):
        return []
    if expected_on < EARLIEST_DAY:
        return [
            Problem(
                None, field, f"{day_text(expected_on)} is before {day_text(EARLIEST_DAY)}; check the year"
            )
        ]
    if grant is not None and grant.start is not None and expected_on < grant.start:
        return [
            Problem(
                None,
                field,
                f"{day_text(expected_on)} is before grant {grant.reference} began ({day_text(grant.start)})",
            )
        ]
    return []


def _pledge_insert(
    *,
    actor: Any,
    grant_id: int,
    item_id: int,
    quantity: int,
    destination_site_id: int,
    expected_on: dt.date,
    reference: str,
    idempotency_key: str | None,
    caller_problems: Sequence[Problem],
) -> Pledge:
    # Imported here: operations imports this module for the receipts' pledges.
    from reliefops.stock.services.operations import StockLine, check_items, too_long

    with transaction.atomic():
        # The grant's row is locked while its pledges' references are compared, so that two pledges
        # of one reference sent at once are one, then a refusal.
        grant = Grant.objects.select_for_update().filter(pk=grant_id).first()
        if grant is not None and (taken := reference_taken(grant, reference)):
            raise taken
        refuse(
            validate_quantity(quantity)
            + too_long(None, "reference", reference, REFERENCE_MAX)
            + expected_problems(grant, expected_on),
            caller_problems,
        )
        if grant is None:
            raise NotFound(f"no grant {grant_id}")
        site_location(destination_site_id)
        check_items([StockLine(item_id=item_id, quantity=quantity)])
        pledge = Pledge.objects.create(
            grant=grant,
            item_id=item_id,
            quantity=quantity,
            destination_id=destination_site_id,
            expected_on=expected_on,
            reference=reference,
            idempotency_key=idempotency_key or None,
        )
        pledge.replayed = False  # type: ignore[attr-defined]
        audit_record(
            actor=actor,
            action="stock.pledge",
            object_type="pledge",
            object_id=pledge.pk,
            after={
                "grant": grant.reference,
                "item_id": item_id,
                "quantity": quantity,
                "expected_on": expected_on.isoformat(),
                "reference": reference,
            },
        )
    return pledge


def pledge_cancel(
    *, actor: Any, pledge_id: int, reason: str, cancelled_at: dt.datetime | None = None
) -> Pledge:
    """Cancel an open pledge the donor will not send, or not the rest of it: it leaves the pipeline,
    with what was received so far. A pledge received in full is not cancelled (nothing is left to
    come); a cancelled one stays so. Sending the same cancellation again changes nothing.

    Cancelling is for whoever may record the pledge's stock at its destination (POST_STOCK there);
    to a user who may not see that site's stock, the pledge does not exist. With no actor it is the
    system's (a scenario or an import recording a past operation), as a posting without an actor is.
    The returned pledge is marked `replayed` when it was already cancelled for that reason.

    `cancelled_at`: when it was cancelled, for a record of a past operation; now otherwise. It may
    not be in the future, before 1 Jan 1990, nor before the day of the pledge's last receipt.
    """
    reason = reason.strip()
    when_cancelled = _cancel_moment(cancelled_at) if cancelled_at is not None else None
    with transaction.atomic():
        pledge = (
            Pledge.objects.select_for_update()
            .select_related("grant", "item", "destination")
            .filter(pk=pledge_id)
            .first()
        )
        visible = stock_visible_site_ids(actor) if actor is not None else None
        if pledge is None or (visible is not None and pledge.destination_id not in visible):
            raise NotFound(f"no pledge {pledge_id}")
        if actor is not None:
            access_stock_site(actor, pledge.destination_id, Right.POST_STOCK)
        if pledge.status == PledgeStatus.CANCELLED:
            if pledge.cancel_reason == reason:
                pledge.replayed = True  # type: ignore[attr-defined]
                return pledge
            when = day_text(timezone.localdate(pledge.cancelled_at)) if pledge.cancelled_at else "earlier"
            raise Conflict(f"pledge {pledge.pk} was already cancelled on {when}: {pledge.cancel_reason}")
        if pledge.status == PledgeStatus.RECEIVED:
            raise Conflict(
                f"pledge {pledge.pk} was received in full ({pledge.received_quantity:,} of "
                f"{pledge.quantity:,} {plural(pledge.item.name, pledge.quantity)}): nothing is left to "
                "cancel; reverse its receipts first if they were posted against the wrong pledge"
            )
        if not reason:
            raise InvalidInput([Problem(None, "reason", "say why the pledge is cancelled")])
        if len(reason) > REASON_MAX:
            raise InvalidInput([Problem(None, "reason", f"longer than {REASON_MAX} characters; shorten it")])
        if when_cancelled is not None:
            _refuse_cancel_before_receipts(pledge, when_cancelled)
        before = {"status": pledge.status, "received_quantity": pledge.received_quantity}
        pledge.status = PledgeStatus.CANCELLED
        pledge.cancel_reason = reason
        pledge.cancelled_at = when_cancelled or timezone.now()
        pledge.save(update_fields=["status", "cancel_reason", "cancelled_at"])
        audit_record(
            actor=actor,
            action="stock.pledge_cancel",
            object_type="pledge",
            object_id=pledge.pk,
            before=before,
            after={
                "status": pledge.status,
                "reason": reason,
                "not_coming": pledge.quantity - pledge.received_quantity,
                # A past cancellation's moment, which the event's own time is not.
                **({"cancelled_at": when_cancelled.isoformat()} if when_cancelled else {}),
            },
        )
        pledge.replayed = False  # type: ignore[attr-defined]
    return pledge


def _cancel_moment(value: dt.datetime) -> dt.datetime:
    """The moment a past cancellation is recorded at: aware (a naive one is read in the operation's
    time zone), not in the future, nor before the first day the system takes."""
    moment = timezone.make_aware(value) if timezone.is_naive(value) else value
    if moment > timezone.now():
        raise InvalidInput([Problem(None, "cancelled_at", f"{moment_text(moment)} is in the future")])
    day = timezone.localdate(moment)
    if day < EARLIEST_DAY:
        said = f"{day_text(day)} is before {day_text(EARLIEST_DAY)}; check the year"
        raise InvalidInput([Problem(None, "cancelled_at", said)])
    return moment


def _refuse_cancel_before_receipts(pledge: Pledge, moment: dt.datetime) -> None:
    """A pledge is not cancelled on a day before goods were received against it (a receipt against a
    cancelled pledge is refused, so the record would contradict itself)."""
    last = (
        Movement.objects.filter(pledge=pledge, kind=MovementKind.RECEIPT, reversed_by__isnull=True)
        .order_by("-occurred_on")
        .values_list("occurred_on", flat=True)
        .first()
    )
    day = timezone.localdate(moment)
    if last is not None and day < last:
        raise InvalidInput(
            [
                Problem(
                    None,
                    "cancelled_at",
                    f"{day_text(day)} is before pledge {pledge.pk} was last received ({day_text(last)}); "
                    "it is cancelled on or after that day",
                )
            ]
        )


def pledge_cancelled_message(pledge: Pledge) -> str:
    """What a cancellation did, in a sentence: "Pledge 3 (DFID-PL-77) cancelled: 600 of 1,000
    quilts received; the other 400 will not come." """
    name = f"Pledge {pledge.pk}" + (f" ({pledge.reference})" if pledge.reference else "")
    if getattr(pledge, "replayed", False):
        return f"{name} was already cancelled: nothing changed."
    item = plural(pledge.item.name, pledge.quantity)
    if pledge.received_quantity:
        rest = pledge.quantity - pledge.received_quantity
        return (
            f"{name} cancelled: {pledge.received_quantity:,} of {pledge.quantity:,} {item} received; "
            f"the other {rest:,} will not come."
        )
    return f"{name} cancelled: the {pledge.quantity:,} {item} will not come."


# --- a receipt's pledge ---------------------------------------------------------------------------


def pledge_locked(pledge_id: int | None, actor: Any, site_id: int) -> Pledge | None:
    """The pledge a receipt fulfils, locked; refused at once when it is missing, and in the same
    words when it is bound for another site, whose stock the actor may not see, so that naming
    another site's pledge does not tell that it exists.

    Whether it is still open is told only to the site it is bound for (see `stock_receive`).
    """
    if pledge_id is None:
        return None
    pledge = Pledge.objects.select_for_update().select_related("grant", "item").filter(pk=pledge_id).first()
    visible = stock_visible_site_ids(actor) if actor is not None else None
    hidden = visible is not None and pledge is not None and pledge.destination_id not in visible
    if pledge is None or (hidden and pledge.destination_id != site_id):
        raise NotFound(f"no pledge {pledge_id}")
    return pledge


def pledge_receive(pledge: Pledge, received: int) -> tuple[str, ...]:
    """Count what a receipt brings of the pledge's item (its site and grant are checked already), and
    say what became of the pledge: received in full, still open, or more than was pledged."""
    pledge.received_quantity += received
    if pledge.received_quantity >= pledge.quantity:
        pledge.status = PledgeStatus.RECEIVED
    pledge.save(update_fields=["received_quantity", "status"])
    of = f"{pledge.received_quantity:,} of {pledge.quantity:,} received"
    if pledge.more_than_pledged:
        return (f"Pledge {pledge.pk} is received: {of}, {pledge.more_than_pledged:,} more than pledged.",)
    if pledge.status == PledgeStatus.RECEIVED:
        return (f"Pledge {pledge.pk} is received in full.",)
    return (f"Pledge {pledge.pk}: {of}; {pledge.quantity - pledge.received_quantity:,} still to come.",)
